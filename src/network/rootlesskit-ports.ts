// Published ports of a rootless berthd (issue 20). berthd lives in RootlessKit's network
// namespace, so a port it binds there is invisible from the host. This ProxyControl wraps the
// daemon's own one, which still holds each port inside the namespace (so two containers cannot
// take one port, and everything inside behaves as rootful), and asks RootlessKit's port driver,
// through its API socket (`POST /v1/ports`), to listen on the host and carry each connection to
// the container's address in the namespace: one copy in RootlessKit's parent process, then the
// bridge, with no second proxy hop inside.
//
// A port below the host's net.ipv4.ip_unprivileged_port_start is refused by RootlessKit itself,
// with its hint (the sysctl to set, or CAP_NET_BIND_SERVICE on rootlesskit), which goes to the
// client as the reason. RootlessKit outlives berthd (bin/berthd-rootless holds it), so at a
// restart the ports it still forwards are adopted, not asked for twice.
import { request } from 'node:http';
import type { PublishedPort } from './firewall.ts';
import type { ProxyControl } from './bridge/port-publisher.ts';

/** One of RootlessKit's port forwards, as its API lists them. */
export interface PortSpec { proto: string; parentIP: string; parentPort: number; childIP?: string; childPort: number }
interface PortStatus { id: number; spec: PortSpec }

/** RootlessKit's API (over its unix socket): a parameter so the wrapper is tested against a fake. */
export type RootlessKitApi = (method: 'GET' | 'POST' | 'DELETE', path: string, body?: object) => Promise<unknown>;

/**
 * What RootlessKit is asked for one published port (undefined: nothing, e.g. IPv6, which slirp4netns
 * lacks). The builtin driver dials from inside the namespace, so it goes straight to the container;
 * the slirp4netns driver can only reach its own guest address (tap0's, when no child IP is given),
 * so it is sent to the same port there, where berthd's DNAT rule takes it to the container.
 */
export function portSpec(f: PublishedPort, driver = 'builtin'): PortSpec | undefined {
  if (f.hostIp.includes(':') || f.containerIp.includes(':')) return undefined;
  const parent = { proto: f.proto, parentIP: f.hostIp || '0.0.0.0', parentPort: f.hostPort };
  return driver === 'slirp4netns' ? { ...parent, childPort: f.hostPort } : { ...parent, childIP: f.containerIp, childPort: f.containerPort };
}

const sameSpec = (a: PortSpec, b: PortSpec): boolean =>
  a.proto === b.proto && a.parentIP === b.parentIP && a.parentPort === b.parentPort && (a.childIP ?? '') === (b.childIP ?? '') && a.childPort === b.childPort;

/** Host addresses that exist inside the namespace too: the wildcard and loopback. */
const innerAddress = (ip: string): boolean => !ip || ip === '0.0.0.0' || ip.startsWith('127.') || ip === '::' || ip === '::1';

export class RootlessKitPorts implements ProxyControl {
  private readonly inner: ProxyControl;
  private readonly api: RootlessKitApi;
  /** RootlessKit's forward ids per container, removed with it. */
  private readonly ids = new Map<string, number[]>();
  /** The port driver's name (GET /v1/info), asked once. */
  private driver?: Promise<string>;

  constructor(inner: ProxyControl, api: RootlessKitApi) {
    this.inner = inner;
    this.api = api;
  }

  async add(owner: string, forwards: PublishedPort[]): Promise<{ pid: number; forwards: PublishedPort[] }> {
    this.driver ??= (this.api('GET', '/v1/info') as Promise<{ portDriver?: { driver?: string } } | undefined>)
      .then((i) => i?.portDriver?.driver ?? 'builtin', () => 'builtin');
    const driver = await this.driver;
    // A host address of the host's own (-p 192.0.2.1:8080:80) does not exist inside the
    // namespace: the port is held there on the wildcard, and RootlessKit listens on the address.
    // The slirp4netns driver delivers every connection to tap0's address, so there each port is
    // held on the wildcard, whose holder forwards what reaches it to the container.
    const inside = (ip: string): boolean => (driver === 'slirp4netns' ? !ip || ip === '0.0.0.0' || ip === '::' : innerAddress(ip));
    const started = await this.inner.add(owner, forwards.map((f) => inside(f.hostIp) ? f : { ...f, hostIp: '0.0.0.0' }));
    const bound = started.forwards.map((f, i) => ({ ...f, hostIp: forwards[i]?.hostIp ?? f.hostIp }));
    const ids: number[] = [];
    try {
      const held = ((await this.api('GET', '/v1/ports')) as PortStatus[] | null) ?? []; // null when there are none
      for (const f of bound) {
        const spec = portSpec(f, driver);
        if (!spec) continue;
        const same = held.find((p) => sameSpec(p.spec, spec));
        if (same) {
          ids.push(same.id);
          continue;
        }
        ids.push(((await this.api('POST', '/v1/ports', spec)) as PortStatus).id);
      }
    } catch (err) {
      for (const id of ids) await this.api('DELETE', `/v1/ports/${id}`).catch(() => undefined);
      await this.inner.remove(owner);
      throw err;
    }
    this.ids.set(owner, ids);
    return { pid: started.pid, forwards: bound };
  }

  async remove(owner: string): Promise<void> {
    for (const id of this.ids.get(owner) ?? []) await this.api('DELETE', `/v1/ports/${id}`).catch(() => undefined);
    this.ids.delete(owner);
    await this.inner.remove(owner);
  }

  owners(): Promise<string[]> {
    return this.inner.owners();
  }

  /**
   * After a restart: RootlessKit still forwards the ports of containers that stopped or went while
   * berthd was down; this RootlessKit serves this berthd alone, so every forward that no live
   * container adopted (restore's add) is removed, or the next publish of that port would collide.
   */
  async sweep(live: Set<string>): Promise<void> {
    const keep = new Set([...this.ids].filter(([owner]) => live.has(owner)).flatMap(([, ids]) => ids));
    const held = ((await this.api('GET', '/v1/ports')) as PortStatus[] | null) ?? [];
    for (const p of held) if (!keep.has(p.id)) await this.api('DELETE', `/v1/ports/${p.id}`);
  }
}

/** RootlessKit's API socket as a RootlessKitApi; its errors ({"message": …}) become the Error's text. */
export function rootlessKitApi(socketPath: string): RootlessKitApi {
  return (method, path, body) => new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers: { 'Content-Type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if ((res.statusCode ?? 500) >= 300) {
          let msg = text.trim();
          try { msg = (JSON.parse(text) as { message?: string }).message ?? msg; } catch { /* plain text */ }
          reject(new Error(msg || `RootlessKit answered ${res.statusCode}`));
          return;
        }
        try { resolve(text ? JSON.parse(text) : undefined); } catch (err) { reject(err as Error); }
      });
    });
    req.on('error', (err) => reject(new Error(`RootlessKit's port driver (${socketPath}): ${err.message}`)));
    req.end(body ? JSON.stringify(body) : undefined);
  });
}
