// bcrypt off the event loop. A bcrypt compare at cost 10 is ~70 ms of pure CPU in bcryptjs;
// on the main thread (bcryptjs' async API only slices it, it does not move it) a handful of
// wrong passwords a second would stall every download and upload the registry is serving.
// Here compares run in worker threads (at most `size`, one compare at a time each) and wait in a
// bounded queue; beyond it the caller gets 429 rather than an ever longer wait.
//
// The worker is eval'd source that require()s bcryptjs by the path resolved here: a worker
// script file next to this one would not exist in the CLI's one-file bundle (scripts/build-cli.ts),
// and import.meta is unavailable there, so this module finds itself through its call site.
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { getCallSites } from 'node:util';
import { Worker } from 'node:worker_threads';
import { RegistryError } from './errors.ts';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const bcrypt = require(workerData.bcryptjs);
parentPort.on('message', (m) => {
  try {
    const result = m.op === 'compare' ? bcrypt.compareSync(m.password, m.hash) : bcrypt.hashSync(m.password, m.cost);
    parentPort.postMessage({ id: m.id, result });
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: String(err && err.message || err) });
  }
});
`;

type Job = { op: 'compare'; password: string; hash: string } | { op: 'hash'; password: string; cost: number };
interface Pending { job: Job; resolve: (v: boolean | string) => void; reject: (e: Error) => void }
interface Slot { worker: Worker; busy?: { id: number; p: Pending } }

let bcryptjsPath: string | undefined;
function resolveBcryptjs(): string {
  bcryptjsPath ??= createRequire(getCallSites(1)[0]!.scriptName).resolve('bcryptjs');
  return bcryptjsPath;
}

export class BcryptPool {
  private readonly size: number;
  private readonly maxQueued: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private seq = 0;
  private closed = false;

  /** size: worker threads (default: one less than the CPUs, 1 to 2); maxQueued: compares that may wait. */
  constructor(opts: { size?: number; maxQueued?: number } = {}) {
    this.size = opts.size ?? Math.max(1, Math.min(2, availableParallelism() - 1));
    this.maxQueued = opts.maxQueued ?? 64;
    resolveBcryptjs();
  }

  /** Whether password matches the bcrypt hash; RegistryError 429 when too many wait already. */
  async compare(password: string, hash: string): Promise<boolean> {
    return (await this.run({ op: 'compare', password, hash })) as boolean;
  }

  async hash(password: string, cost: number): Promise<string> {
    return (await this.run({ op: 'hash', password, cost })) as string;
  }

  /** Stops the workers; waiting and running jobs fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(new Error('bcrypt pool closed'));
    await Promise.all(this.slots.splice(0).map(async (s) => {
      s.busy?.p.reject(new Error('bcrypt pool closed'));
      await s.worker.terminate();
    }));
  }

  private run(job: Job): Promise<boolean | string> {
    if (this.closed) return Promise.reject(new Error('bcrypt pool closed'));
    if (this.queue.length >= this.maxQueued) {
      return Promise.reject(new RegistryError('TOOMANYREQUESTS', 'too many authentication attempts in progress', { headers: { 'Retry-After': '1' } }));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length) {
      let slot = this.slots.find((s) => !s.busy);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const p = this.queue.shift()!;
      const id = ++this.seq;
      slot.busy = { id, p };
      slot.worker.ref();
      slot.worker.postMessage({ id, ...p.job });
    }
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { bcryptjs: resolveBcryptjs() } });
    worker.unref();
    const slot: Slot = { worker };
    worker.on('message', (m: { id: number; result?: boolean | string; error?: string }) => {
      const busy = slot.busy;
      if (!busy || busy.id !== m.id) return;
      slot.busy = undefined;
      worker.unref();
      if (m.error !== undefined) busy.p.reject(new Error(`bcrypt: ${m.error}`));
      else busy.p.resolve(m.result!);
      this.pump();
    });
    const lost = (why: string): void => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      slot.busy?.p.reject(new Error(`bcrypt worker ${why}`));
      slot.busy = undefined;
      if (!this.closed) this.pump();
    };
    worker.on('error', (err) => lost(`failed: ${err.message}`));
    worker.on('exit', (code) => lost(`exited with code ${code}`));
    this.slots.push(slot);
    return slot;
  }
}
