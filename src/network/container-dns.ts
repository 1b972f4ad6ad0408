// Docker's embedded DNS for containers on user networks: 127.0.0.11 inside each container's
// network namespace, answered by berthd.
//
// Lifecycle of one container's resolver: `start` (after its namespace is set up, before its
// process runs) has the helper open a UDP socket and a TCP listener on 127.0.0.11 in the
// namespace, with NAT rules sending port 53 there (netns-sockets.ts), and hands both to the DNS
// server under the container's ID, with the container's upstreams (its --dns servers, else the
// host's). `stop` (when its network is torn down) closes them: nothing is left, the rules die
// with the namespace. After a berthd restart the sockets are gone with the old process: the
// engine calls `start` again for each running container (new ports, the rules replaced).
import type { EmbeddedDns } from './dns-server.ts';
import type { NetnsSocketOpener } from './netns-sockets.ts';
import type { Logger } from '../util/log.ts';
import net from 'node:net';

export class ContainerDns {
  readonly #dns: EmbeddedDns;
  readonly #opener: NetnsSocketOpener;
  readonly #log: Logger;
  /** Starts under way, so a stop that comes during one waits for it and closes what it opened. */
  readonly #starting = new Map<string, Promise<void>>();

  constructor(o: { dns: EmbeddedDns; opener: NetnsSocketOpener; log: Logger }) {
    this.#dns = o.dns;
    this.#opener = o.opener;
    this.#log = o.log;
  }

  async start(id: string, netnsPath: string, cfg: { upstreams: string[]; ndotsSet: boolean }): Promise<void> {
    await this.#starting.get(id);
    const t0 = performance.now();
    const p = (async () => {
      // replace: after a berthd restart the namespace still has the rules to the old sockets' ports.
      const s = await this.#opener.open(netnsPath, { replace: true });
      // A loopback upstream (--dns 127.0.0.1) means the container's own loopback to dockerd, which
      // dials from inside the namespace; from berthd's it would reach the host's services instead.
      // It is left out: such a query gets no answer, as under dockerd when nothing listens there.
      const usable = cfg.upstreams.filter((u) => !(net.isIPv4(u) && u.startsWith('127.')) && u !== '::1');
      await this.#dns.adopt(id, s.udp, s.tcp, { upstreams: usable, silentOnFailure: true, emptyForSingleLabel: cfg.ndotsSet });
      this.#log.debug({ id, ms: Math.round(performance.now() - t0), udp: s.udpPort, tcp: s.tcpPort }, 'embedded DNS started');
    })();
    const mark = p.catch(() => {});
    this.#starting.set(id, mark);
    try {
      await p;
    } finally {
      if (this.#starting.get(id) === mark) this.#starting.delete(id);
    }
  }

  async stop(id: string): Promise<void> {
    await this.#starting.get(id);
    await this.#dns.close(id);
  }

  running(id: string): boolean {
    return this.#starting.has(id) || this.#dns.has(id);
  }

  warm(): void {
    this.#opener.warm();
  }

  /** berthd's shutdown: the helper goes; sockets close with the process. */
  close(): void {
    this.#opener.close();
  }
}
