// Registry credentials as the Docker CLI keeps them: config.json in the config directory
// (`auths` with base64 user:password), sent to the daemon as X-Registry-Auth.
// STUB: the images helper replaces it.
import type { Ctx } from './command.ts';

/** The X-Registry-Auth header value for the registry of `image` (base64url JSON), if logged in. */
export function registryAuthHeader(_ctx: Ctx, _image: string): string | undefined {
  return undefined;
}
