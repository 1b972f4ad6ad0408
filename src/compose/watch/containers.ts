// The two things watch asks of a service's running containers directly on the Engine API: which
// they are (by Compose's labels), and running a command in each (sync's `rm -rf`, sync+exec's
// hook), waiting for it to end and reading its exit code.
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { demux, type EngineClient } from '../../client/engine-client.ts';
import type { ContainerExecBody } from '../../types/engine-api.ts';

/** The service's containers, one-offs (`run`) excluded; `all` also lists stopped ones. */
export async function serviceContainers(client: EngineClient, project: string, service: string, all: boolean): Promise<{ id: string; name: string }[]> {
  const filters = JSON.stringify({
    label: [`com.docker.compose.project=${project}`, `com.docker.compose.service=${service}`, 'com.docker.compose.oneoff=False'],
  });
  const list = await client.containerList({ all, filters });
  return list
    .map((c) => ({ id: c.Id ?? '', name: (c.Names?.[0] ?? '').replace(/^\//, '') }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export interface ExecRequest {
  cmd: string[];
  user?: string;
  privileged?: boolean;
  workingDir?: string;
  env?: string[];
  /** where the command's stdout/stderr go; absent: not attached (read and dropped) */
  out?: Writable;
  err?: Writable;
}

/**
 * Runs a command in the container without a TTY and waits for it to end (the hijacked start
 * returns when the process closes its streams). A non-zero exit is an error naming the code.
 */
export async function execAndWait(client: EngineClient, containerId: string, req: ExecRequest): Promise<void> {
  const body: ContainerExecBody = {
    Cmd: req.cmd, AttachStdout: true, AttachStderr: true, AttachStdin: false, Tty: false,
    ...(req.user ? { User: req.user } : {}),
    ...(req.privileged ? { Privileged: true } : {}),
    ...(req.workingDir ? { WorkingDir: req.workingDir } : {}),
    ...(req.env?.length ? { Env: req.env } : {}),
  };
  const { Id } = await client.execCreate(containerId, body);
  if (!Id) throw new Error('exec ID empty');
  const { socket, head } = await client.hijack('POST', `/exec/${Id}/start`, { Detach: false, Tty: false });
  await copyStreams(socket, head, req.out, req.err);
  const info = await client.execInspect(Id);
  if (info.Running) throw new Error('process still running');
  if (info.ExitCode) throw new Error(`exit code ${info.ExitCode}`);
}

async function copyStreams(socket: Socket, head: Buffer, out?: Writable, err?: Writable): Promise<void> {
  async function* source(): AsyncGenerator<Buffer> {
    if (head.length) yield head;
    for await (const c of socket) yield c as Buffer;
  }
  try {
    for await (const frame of demux(source())) {
      const to = frame.stream === 2 ? err : out;
      to?.write(frame.data);
    }
  } finally {
    socket.destroy();
  }
}
