// Default-bridge namespaces made ahead of time: each holds a veth whose host end is already on
// the default bridge, so a container that starts on `bridge` alone costs one `ip` spawn (its
// address and routes, network/links.ts configurePrepared), not two. The pool is topped up in the
// background, one namespace at a time, after each take; a failure to prepare one is logged and
// ends that round (the next take tries again). Namespaces are named berth-p<tag>-<random>, the
// tag unique per daemon (side-by-side daemons share /run/netns), so a daemon's start-up finds
// and deletes the ones an earlier run left unused.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../util/log.ts';
import { prepareSandbox, deleteSandbox, listNetns } from '../links.ts';

export interface PreparedSandbox { ns: string; hostIf: string }

export interface SandboxPoolOptions {
  log: Logger;
  /** Unique per daemon: names its prepared namespaces. */
  tag: string;
  /** How many namespaces to keep ready (0: none). */
  size: number;
  mtu: number;
}

export class SandboxPool {
  /** The default bridge the prepared veths are plugged into; none (`--bridge none`): no pool. */
  bridge: string | undefined;
  private readonly o: SandboxPoolOptions;
  private readonly ready: PreparedSandbox[] = [];
  private filling: Promise<void> | undefined;

  constructor(o: SandboxPoolOptions) {
    this.o = { ...o };
  }

  /** A ready namespace, if there is one (the pool is topped up again). */
  take(): PreparedSandbox | undefined {
    const p = this.ready.shift();
    if (p) this.refill();
    return p;
  }

  /** Tops the ready namespaces up, in the background, one at a time. */
  refill(): void {
    const bridge = this.bridge;
    if (!bridge || this.o.size <= 0 || this.filling) return;
    this.filling = (async () => {
      while (this.ready.length < this.o.size) {
        const ns = `${this.prefix()}${randomBytes(4).toString('hex')}`;
        const hostIf = `vb${randomBytes(6).toString('hex').slice(0, 11)}`;
        try {
          await prepareSandbox(ns, hostIf, bridge, this.o.mtu);
        } catch (err) {
          this.o.log.warn({ err: String(err) }, 'could not prepare a network namespace');
          await deleteSandbox(ns, [hostIf]).catch(() => {});
          return;
        }
        this.ready.push({ ns, hostIf });
      }
    })().finally(() => { this.filling = undefined; });
  }

  /** Prepared namespaces of an earlier run that no container took: gone; then a fresh supply. */
  async sweep(usedNetns: Set<string>): Promise<void> {
    for (const ns of await listNetns(this.prefix())) {
      if (!usedNetns.has(ns) && !this.ready.some((r) => r.ns === ns)) await deleteSandbox(ns, []).catch(() => {});
    }
    this.refill();
  }

  /** Shutdown: no more are made, the ready ones are deleted. */
  async drain(): Promise<void> {
    this.o.size = 0;
    await this.filling;
    for (const p of this.ready.splice(0)) await deleteSandbox(p.ns, [p.hostIf]).catch(() => {});
  }

  private prefix(): string {
    return `berth-p${this.o.tag}-`;
  }
}
