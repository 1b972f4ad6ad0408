// The X-Registry-Auth header: base64url (RFC 4648 §5, padded) JSON AuthConfig. Third-party
// clients also send standard base64 or no padding; anything unreadable means anonymous, as in
// dockerd. The decoded credentials go to the registry client only, never into a log line.
import type { IncomingMessage } from 'node:http';
import type { AuthConfig } from '../types/auth-config.ts';

export function registryAuth(req: IncomingMessage): AuthConfig | undefined {
  const h = req.headers['x-registry-auth'];
  const v = Array.isArray(h) ? h[0] : h;
  if (!v) return undefined;
  try {
    const json = Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
    const a = JSON.parse(json) as unknown;
    if (!a || typeof a !== 'object' || Array.isArray(a)) return undefined;
    const c = a as Record<string, unknown>;
    const str = (k: string): string | undefined => (typeof c[k] === 'string' && c[k] !== '' ? (c[k] as string) : undefined);
    const out: AuthConfig = {
      username: str('username'), password: str('password'), auth: str('auth'), email: str('email'),
      serveraddress: str('serveraddress'), identitytoken: str('identitytoken'), registrytoken: str('registrytoken'),
    };
    return Object.values(out).some((x) => x !== undefined) ? out : undefined;
  } catch {
    return undefined;
  }
}
