// Joins a hijacked client connection to a container's (or exec's) attach stream: client bytes
// become stdin, output becomes raw bytes (tty) or multiplexed frames, and the connection ends
// only after the process's output is drained (WIRE.md 4.2: half-close rules).
import type { HijackContext } from '../router.ts';
import type { AttachStream } from '../../engine/containers.ts';
import { frame } from '../stdcopy.ts';
import { EscapeWatcher } from '../../util/escape-keys.ts';

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
  /**
   * Given only for a process with a TTY (moby escapes only then), when stdin is attached: the
   * detach sequence (moby's copyEscapable). Typed on stdin, it ends
   * the connection and leaves the process running; bytes that only began it are passed on.
   */
  detachKeys?: Buffer;
}

export function pipeAttach(ctx: HijackContext, o: PipeOptions): void {
  const sock = ctx.socket;
  let s: AttachStream | undefined;
  let clientGone = false;
  let stdinEnded = false;
  const early: Buffer[] = ctx.head.length ? [ctx.head] : [];
  const escape = o.detachKeys?.length && o.stdin ? new EscapeWatcher(o.detachKeys) : undefined;

  const input = (d: Buffer): void => {
    if (!o.stdin || clientGone) return;
    if (escape) {
      const r = escape.feed(d);
      d = r.forward;
      if (r.detached) {
        // moby ends the attach here; the process keeps its stdin and runs on
        clientGone = true;
        if (d.length) { if (s) s.write(d); else early.push(d); }
        if (s) s.close(); else o.cancel();
        sock.end();
        return;
      }
      if (!d.length) return;
    }
    if (s) s.write(d); else early.push(d);
  };
  sock.on('data', input);
  sock.on('end', () => {
    if (clientGone) return;
    stdinEnded = true;
    if (s && o.stdin && o.closeStdinOnEof) s.closeStdin();
  });
  sock.on('close', () => {
    if (clientGone) return;
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
