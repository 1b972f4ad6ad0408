// One async mutex per key (container, image or network ID). Lock order when holding two:
// container → image → network, never the reverse.

export class KeyedMutex {
  private tails = new Map<string, Promise<void>>();

  /** Runs fn while holding the lock for key; callers queue in arrival order. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => { release = r; });
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
