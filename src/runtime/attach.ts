// conmon's attach socket: SOCK_SEQPACKET, which node:net cannot open, so node-unix-socket's
// SeqpacketSocket. Each packet from conmon starts with its pipe (2 stdout, 3 stderr); bytes
// written to it are the container's stdin. When an attach client disconnects, conmon closes
// the container's stdin unless started with --leave-stdin-open (conmon conn_sock.c).
import { EventEmitter } from 'node:events';
import { SeqpacketSocket } from 'node-unix-socket';

export interface AttachStream {
  on(event: 'data', cb: (stream: 1 | 2, chunk: Buffer) => void): this;
  on(event: 'end', cb: () => void): this;
  write(data: Buffer): void;
  closeStdin(): void;
  close(): void;
}

class ConmonAttach extends EventEmitter implements AttachStream {
  private readonly sock: SeqpacketSocket;
  private ended = false;
  private closed = false;

  constructor(sock: SeqpacketSocket) {
    super();
    this.sock = sock;
    sock.on('data', (buf: Buffer) => {
      if (buf.length < 1) return;
      const pipe = buf[0];
      this.emit('data', pipe === 3 ? 2 : 1, buf.subarray(1));
    });
    const finish = (): void => {
      if (this.ended) return;
      this.ended = true;
      this.emit('end');
    };
    sock.on('end', finish);
    sock.on('close', finish);
    sock.on('error', finish);
  }

  write(data: Buffer): void {
    if (this.closed || this.ended) return;
    // SEQPACKET keeps boundaries; conmon reads up to its buffer size per packet, so stay below it.
    for (let off = 0; off < data.length; off += 8192) {
      const part = data.subarray(off, Math.min(off + 8192, data.length));
      try { this.sock.write(part); } catch { /* conmon went away: 'end' follows */ }
    }
  }

  closeStdin(): void {
    if (this.closed || this.ended) return;
    try { this.sock.end(); } catch { /* already gone */ }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try { this.sock.destroy(); } catch { /* already gone */ }
  }
}

export function connectAttach(path: string): Promise<AttachStream> {
  return new Promise((resolve, reject) => {
    const sock = new SeqpacketSocket();
    const onErr = (err: Error): void => reject(err);
    sock.once('error', onErr);
    try {
      sock.connect(path, () => {
        sock.off('error', onErr);
        resolve(new ConmonAttach(sock));
      });
    } catch (err) {
      reject(err as Error);
    }
  });
}
