// The streams of an attached container or exec over a hijacked connection, as the Docker CLI's
// hijackedIOStreamer moves them: output (raw bytes with a TTY, else 8-byte-header frames split to
// stdout/stderr) until the daemon closes it; local stdin sent until it ends, then the write half
// closed so the process sees EOF; with a TTY, stdin raw and watched for the detach keys.
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { demux } from '../../client/engine-client.ts';
import { CliError } from '../command.ts';
import { makeRaw } from './tty.ts';

import { DEFAULT_DETACH_KEYS, parseDetachKeys, EscapeWatcher } from '../../util/escape-keys.ts';

export { DEFAULT_DETACH_KEYS, parseDetachKeys, EscapeWatcher };

/**
 * The detach keys in effect: the flag, else `detachKeys` in config.json, else ctrl-p ctrl-q. An
 * invalid sequence falls back to the default with a warning, as docker's hijack does.
 */
export async function detachKeys(flag: string | undefined, configDir: string, err: Writable): Promise<Buffer> {
  let keys = flag;
  if (!keys) {
    try {
      const { readFile } = await import('node:fs/promises');
      const cfg = JSON.parse(await readFile(`${configDir}/config.json`, 'utf8')) as { detachKeys?: unknown };
      if (typeof cfg.detachKeys === 'string') keys = cfg.detachKeys;
    } catch { /* no config: the default */ }
  }
  if (!keys) return DEFAULT_DETACH_KEYS;
  try {
    return parseDetachKeys(keys);
  } catch (e) {
    err.write(`WARN[0000] invalid detach escape keys, using default: ${(e as Error).message}\n`);
    return DEFAULT_DETACH_KEYS;
  }
}

/** What ended the session: the output ended (the process exited), or the user detached. */
export type StreamEnd = 'ended' | 'detached';

export interface StreamOptions {
  socket: Socket;
  /** bytes read past the 101 response */
  head: Buffer;
  tty: boolean;
  /** local stdin, when stdin is attached */
  stdin?: Readable;
  out?: Writable;
  err?: Writable;
  /** with a TTY and stdin: the detach sequence (default ctrl-p ctrl-q) */
  detachKeys?: Buffer;
}

/**
 * Moves the streams until the output ends, or stdin ends when no output is attached, or the detach
 * keys are typed. Raw mode and the stdin listener are removed before it resolves.
 */
export function streamAttached(o: StreamOptions): Promise<StreamEnd> {
  const { socket, stdin } = o;
  const restore = stdin && o.tty ? makeRaw(stdin) : () => {};
  return new Promise<StreamEnd>((resolve, reject) => {
    let settled = false;
    const stopInput = (): void => {
      restore();
      if (!stdin) return;
      stdin.removeListener('data', onData);
      stdin.removeListener('end', onEnd);
      stdin.removeListener('error', onEnd);
      stdin.pause();
    };
    const finish = (how: StreamEnd, err?: unknown): void => {
      if (settled) return;
      settled = true;
      stopInput();
      if (how === 'detached') socket.destroy();
      if (err) reject(err);
      else resolve(how);
    };
    const wantOutput = !!(o.out || o.err);

    // Input: forwarded until it ends (then the write half is closed: EOF for the process).
    const watcher = stdin && o.tty ? new EscapeWatcher(o.detachKeys ?? DEFAULT_DETACH_KEYS) : undefined;
    const onData = (c: Buffer | string): void => {
      let chunk = typeof c === 'string' ? Buffer.from(c) : c;
      if (watcher) {
        const r = watcher.feed(chunk);
        chunk = r.forward;
        if (r.detached) {
          if (chunk.length) socket.write(chunk);
          finish('detached');
          return;
        }
      }
      if (chunk.length && !socket.destroyed && socket.writable && !socket.write(chunk)) {
        stdin!.pause();
        socket.once('drain', () => { if (!settled) stdin!.resume(); });
      }
    };
    const onEnd = (): void => {
      stopInput();
      if (!socket.destroyed) socket.end();
      if (!wantOutput) finish('ended');
    };
    if (stdin) {
      stdin.on('data', onData);
      stdin.once('end', onEnd);
      stdin.once('error', onEnd);
      stdin.resume();
    } else {
      socket.end();
    }

    socket.on('error', (e) => {
      if (!wantOutput) finish('ended');
      else if (!settled) finish('ended', (e as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : e);
    });
    if (!wantOutput) {
      socket.on('close', () => finish('ended'));
      socket.resume();
      return;
    }
    // A reset after the process ended is how some daemons close: not an error to report.
    pumpOutput(o).then(() => finish('ended'), (e) => finish('ended', (e as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : e));
  });
}

/** Copies the connection's output to out/err, waiting for slow readers (pipes to `head`, …). */
async function pumpOutput(o: StreamOptions): Promise<void> {
  const write = async (w: Writable | undefined, data: Buffer): Promise<void> => {
    if (!w || !data.length) return;
    if (!w.write(data)) await new Promise<void>((r) => { w.once('drain', r); w.once('error', () => r()); });
  };
  async function* source(): AsyncGenerator<Buffer> {
    if (o.head.length) yield o.head;
    for await (const c of o.socket) yield c as Buffer;
  }
  if (o.tty) {
    for await (const c of source()) await write(o.out, c);
    return;
  }
  for await (const f of demux(source())) {
    // 0 stdin (written by some daemons for echoed input) and 1 stdout go to out; 2 stderr to err.
    if (f.stream === 2) await write(o.err, f.data);
    else if (f.stream <= 1) await write(o.out, f.data);
    else throw new CliError(`Unrecognized input header: ${f.stream}`);
  }
}
