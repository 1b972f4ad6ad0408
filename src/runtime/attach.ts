// conmon's attach socket: SOCK_SEQPACKET, which node:net cannot open. Each packet from conmon
// starts with its pipe (2 stdout, 3 stderr); bytes written to it are the container's stdin.
// When an attach client disconnects, conmon closes the container's stdin unless started with
// --leave-stdin-open (conmon conn_sock.c).
//
// The socket comes from node-unix-socket's prebuilt N-API binding for linux-x64-gnu, loaded
// directly: the package's own JS front lists optional platform packages that the npm registry
// does not have, so with it in the tree `npm ci` fails on the committed lock. The binding
// reports on an EventEmitter it is given: '_connect', '_data' (a Buffer per packet), 'end'
// (peer shut down), '_error', '_shutdown' (our write side flushed and shut).
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';

interface SeqpacketWrap {
  init(self: object): void;
  startRecv(): void;
  connect(path: string): void;
  write(buf: Buffer, offset: number, length: number): void;
  shutdownWhenFlushed(): void;
  close(): void;
}
type SeqpacketWrapCtor = new (ee: EventEmitter) => SeqpacketWrap;

let wrapCtor: SeqpacketWrapCtor | undefined;
/** Loaded on first attach, not at berthd's start-up: most daemons never attach. */
function seqpacketWrap(): SeqpacketWrapCtor {
  wrapCtor ??= (createRequire(import.meta.url)('node-unix-socket-linux-x64-gnu') as { SeqpacketSocketWrap: SeqpacketWrapCtor }).SeqpacketSocketWrap;
  return wrapCtor;
}

export interface AttachStream {
  on(event: 'data', cb: (stream: 1 | 2, chunk: Buffer) => void): this;
  on(event: 'end', cb: () => void): this;
  write(data: Buffer): void;
  closeStdin(): void;
  close(): void;
}

class ConmonAttach extends EventEmitter implements AttachStream {
  private readonly wrap: SeqpacketWrap;
  private ended = false;
  private closed = false;

  constructor(wrap: SeqpacketWrap, events: EventEmitter) {
    super();
    this.wrap = wrap;
    events.on('_data', (buf: Buffer) => {
      if (buf.length < 1) return;
      this.emit('data', buf[0] === 3 ? 2 : 1, buf.subarray(1));
    });
    const finish = (): void => {
      if (this.ended) return;
      this.ended = true;
      this.emit('end');
    };
    events.on('end', finish);
    // The binding reports errors from inside its callbacks: leave that stack before closing.
    events.on('_error', () => process.nextTick(() => { this.close(); finish(); }));
  }

  write(data: Buffer): void {
    if (this.closed || this.ended) return;
    // SEQPACKET keeps boundaries; conmon reads up to its buffer size per packet, so stay below it.
    for (let off = 0; off < data.length; off += 8192) {
      const len = Math.min(8192, data.length - off);
      try { this.wrap.write(data, off, len); } catch { /* conmon went away: 'end' follows */ }
    }
  }

  closeStdin(): void {
    if (this.closed || this.ended) return;
    try { this.wrap.shutdownWhenFlushed(); } catch { /* already gone */ }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try { this.wrap.close(); } catch { /* already gone */ }
  }
}

export function connectAttach(path: string): Promise<AttachStream> {
  return new Promise((resolve, reject) => {
    const events = new EventEmitter();
    // The binding calls emit without a receiver.
    events.emit = events.emit.bind(events);
    let wrap: SeqpacketWrap;
    try {
      const Wrap = seqpacketWrap();
      wrap = new Wrap(events);
      wrap.init(wrap);
    } catch (err) {
      reject(err as Error);
      return;
    }
    const onErr = (err: Error): void => {
      try { wrap.close(); } catch { /* already closed */ }
      reject(err);
    };
    events.once('_error', onErr);
    events.once('_connect', () => {
      events.off('_error', onErr);
      wrap.startRecv();
      resolve(new ConmonAttach(wrap, events));
    });
    try {
      wrap.connect(path);
    } catch (err) {
      events.off('_error', onErr);
      try { wrap.close(); } catch { /* never opened */ }
      reject(err as Error);
    }
  });
}
