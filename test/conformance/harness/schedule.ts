// When each daemon of a conformance run may run which scenario. The two daemons run at the same
// time (the run takes about the slower half's time, not the sum), each on subnets of its own, so
// most scenarios cannot meet the other daemon's containers. A scenario that uses something the
// host has once — a fixed host port, a subnet or bridge name it writes itself, an address it
// asks for, the work directory's literal path ($W) — is host-bound: it holds the HostLock while
// it runs, so it never overlaps the other daemon's host-bound scenarios (a shared one of the
// other daemon may run meanwhile: it takes none of these).
//
// Both daemons run the scenarios in the same order, the order of the serial run: a daemon keeps
// state across its reset (the next /24 its address pool hands out follows the last one handed
// out), so the same history on both is what makes their answers comparable.
import type { Scenario } from './runner.ts';

/**
 * What marks a scenario as host-bound: publishing (`-p`, `-P`, PortBindings, PublishAllPorts: a
 * fixed port would collide, and an ephemeral one shifts the other daemon's picks), subnets,
 * ranges, gateways and addresses it chooses, a bridge name it chooses, and the work directory.
 * Deliberately wide (`mkdir -p` counts): a false positive costs overlap, a false negative a
 * flaky comparison.
 */
const HOST_BOUND = /(^|\s)(-p|-P|--publish|--publish-all)([\s=]|$)|PortBindings|PublishAllPorts|Subnet|--subnet|--ip-range|--gateway|--aux-address|bridge\.name|--ip6?[\s=]|IPv4Address|IPv6Address|\$W\b|\$\{W\}/m;

export function hostBound(s: Scenario): boolean {
  return HOST_BOUND.test(s.text);
}

/** A FIFO mutex over the host-bound scenarios of both daemons' runs. */
export class HostLock {
  private tail: Promise<void> = Promise.resolve();

  /** Runs `fn` once every earlier holder has finished. */
  async hold<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((r) => { release = r; });
    await prev;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

/** What two concurrent runs share: the lock, and the one work-directory tag of host-bound scenarios. */
export interface HostShare { lock: HostLock; workTag: string }
