// `berth run`/`create` flags → the create request (Config, HostConfig, NetworkingConfig), as the
// Docker CLI's opts package maps them. STUB: the run-options helper replaces it.
import type { FlagSpec, Opts } from './flags.ts';

export const RUN_FLAGS: FlagSpec[] = [
  { name: 'detach', short: 'd', type: 'bool', desc: 'Run container in background and print container ID' },
  { name: 'interactive', short: 'i', type: 'bool', desc: 'Keep STDIN open even if not attached' },
  { name: 'tty', short: 't', type: 'bool', desc: 'Allocate a pseudo-TTY' },
  { name: 'rm', type: 'bool', desc: 'Automatically remove the container and its associated anonymous volumes when it exits' },
  { name: 'name', type: 'string', desc: 'Assign a name to the container' },
  { name: 'env', short: 'e', type: 'list', desc: 'Set environment variables' },
];

export interface CreateRequest {
  /** ?name= */
  name?: string;
  /** ?platform= */
  platform?: string;
  /** --pull: "missing" (default), "always", "never" */
  pull: string;
  /** the JSON body of POST /containers/create */
  body: Record<string, unknown> & { Image: string; HostConfig: Record<string, unknown> };
}

/** args: IMAGE [COMMAND] [ARG...]. Throws CliError (status 125) on a bad flag value. */
export function createRequest(o: Opts, args: string[]): CreateRequest {
  const [image, ...cmd] = args;
  return {
    name: o.str('name'), pull: 'missing',
    body: {
      Image: image!, Cmd: cmd.length ? cmd : null, Env: o.list('env'), Tty: o.bool('tty'), OpenStdin: o.bool('interactive'),
      AttachStdin: o.bool('interactive'), AttachStdout: !o.bool('detach'), AttachStderr: !o.bool('detach'),
      HostConfig: { AutoRemove: o.bool('rm') },
    },
  };
}
