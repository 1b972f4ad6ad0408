// Detach keys (moby/term): the sequence that, typed on an attached TTY's stdin, detaches the
// client and leaves the process running. The CLI watches its own stdin for it, and berthd its
// side of attach and exec connections (clients such as docker-py send the keys as bytes).

/** ctrl-p ctrl-q */
export const DEFAULT_DETACH_KEYS = Buffer.from([16, 17]);

const CTRL_NAMES = ['@', ...'abcdefghijklmnopqrstuvwxyz', '[', '\\', ']', '^', '_'];

/** moby/term ToBytes: `ctrl-p,ctrl-q`, single characters, `ctrl-@`…`ctrl-_`, `DEL`. */
export function parseDetachKeys(keys: string): Buffer {
  const codes: number[] = [];
  for (const key of keys.split(',')) {
    if (key.length === 1) codes.push(key.charCodeAt(0));
    else if (key === 'DEL') codes.push(127);
    else {
      const i = key.startsWith('ctrl-') && key.length === 6 ? CTRL_NAMES.indexOf(key[5]!) : -1;
      if (i < 0) throw new Error(`Unknown character: '${key}'`);
      codes.push(i);
    }
  }
  return Buffer.from(codes);
}

/**
 * Watches input for the escape sequence as moby/term's EscapeProxy: bytes that might begin the
 * sequence are held back; if the next byte does not continue it they are sent after all.
 */
export class EscapeWatcher {
  private readonly keys: Buffer;
  private held = 0;

  constructor(keys: Buffer) {
    this.keys = keys;
  }

  /** The bytes to forward, and whether the whole sequence has now been typed. */
  feed(chunk: Buffer): { forward: Buffer; detached: boolean } {
    const out: number[] = [];
    for (const b of chunk) {
      if (this.keys.length && b === this.keys[this.held]) {
        this.held++;
        if (this.held === this.keys.length) return { forward: Buffer.from(out), detached: true };
        continue;
      }
      // A broken sequence: the held bytes were ordinary input; this byte may start a new one.
      out.push(...this.keys.subarray(0, this.held));
      this.held = 0;
      if (this.keys.length && b === this.keys[0]) this.held = 1;
      else out.push(b);
    }
    return { forward: Buffer.from(out), detached: false };
  }
}
