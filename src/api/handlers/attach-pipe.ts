// Joins a hijacked client connection to a container's (or exec's) attach stream: client bytes
// become stdin, output becomes raw bytes (tty) or multiplexed frames, and the connection ends
// only after the process's output is drained (WIRE.md 4.2: half-close rules).
import type { HijackContext } from '../router.ts';
import type { AttachStream } from '../../engine/containers.ts';
import { frame } from '../stdcopy.ts';

export interface PipeOptions {
  stream: Promise<AttachStream>;
  /** Withdraw a stream that has not been delivered yet. */
  cancel: () => void;
  tty: boolean;
  stdin: boolean;
  /** Close the process's stdin when the client's stdin ends (StdinOnce; always for exec). */
  closeStdinOnEof: boolean;
  stdout: boolean;
  stderr: boolean;
  /** Awaited after the output ends and before the connection closes (exec: its exit code). */
  beforeEnd?: () => Promise<unknown>;
}

export function pipeAttach(ctx: HijackContext, o: PipeOptions): void {
  const sock = ctx.socket;
  let s: AttachStream | undefined;
  let clientGone = false;
  let stdinEnded = false;
  const early: Buffer[] = ctx.head.length ? [ctx.head] : [];

  sock.on('data', (d: Buffer) => {
    if (!o.stdin) return;
    if (s) s.write(d); else early.push(d);
  });
  sock.on('end', () => {
    stdinEnded = true;
    if (s && o.stdin && o.closeStdinOnEof) s.closeStdin();
  });
  sock.on('close', () => {
    clientGone = true;
    if (s) s.close(); else o.cancel();
  });
  sock.on('error', () => { /* the client went away; 'close' follows */ });
  sock.resume(); // the server paused it while reading the request body

  o.stream.then((stream) => {
    s = stream;
    if (clientGone) { stream.close(); return; }
    stream.on('data', (n, chunk) => {
      if ((n === 1 && !o.stdout) || (n === 2 && !o.stderr) || clientGone) return;
      sock.write(o.tty ? chunk : frame(n, chunk));
    });
    stream.on('end', () => {
      const done = o.beforeEnd ? o.beforeEnd().catch(() => {}) : Promise.resolve();
      done.then(() => { if (!clientGone) sock.end(); });
    });
    if (o.stdin) for (const b of early) stream.write(b);
    if (stdinEnded && o.stdin && o.closeStdinOnEof) stream.closeStdin();
  }, () => {
    // The start failed or the container went away: the start/remove call reports why.
    if (!clientGone) sock.end();
  });
}
