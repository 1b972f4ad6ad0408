// Legacy container links (`docker run --link child:alias` on the default bridge), as moby keeps
// them (daemon/links.go, daemon/links/links.go):
// - a link is a name "/parent/alias" that the name registry also resolves to the child, so
//   `docker rm --link parent/alias` (DELETE /containers/parent/alias?link=1) finds it, ps lists it
//   among the child's Names, and inspect shows it in the parent's HostConfig.Links as
//   "/child:/parent/alias";
// - at the parent's start each child must run: its address, exposed ports and Config.Env become
//   the parent's ALIAS_PORT_…, ALIAS_NAME and ALIAS_ENV_… variables, and its address the parent's
//   /etc/hosts line "<ip>\t<alias> <child hostname> <child name>".
// Links are registered at create from HostConfig.Links (kept as the client gave them, so a
// restarted berthd registers them again, as dockerd does from hostconfig.json). Links on user
// networks are not these: they are DNS aliases of an endpoint (EndpointSettings.Links).
import { posix } from 'node:path';
import { InvalidParameter } from '../../errors.ts';

/** moby opts.ParseLink: "name:alias", "name" (alias = name) or inspect's "/name:/parent/alias". */
export function parseLink(val: string): { name: string; alias: string } {
  if (!val) throw new InvalidParameter('empty string specified for links');
  const arr = val.split(':');
  if (arr.length > 2) throw new InvalidParameter(`bad format for links: ${val}`);
  if (arr.length === 1) return { name: val, alias: val };
  if (arr[0]!.startsWith('/')) return { name: arr[0]!.slice(1), alias: posix.basename(arr[1]!) };
  return { name: arr[0]!, alias: arr[1]! };
}

const withSlash = (n: string): string => (n.startsWith('/') ? n : `/${n}`);

/** Which container holds which link names: parent and child by ID, the link under "/parent/alias". */
export class LinkIndex {
  readonly #links = new Map<string, { parent: string; child: string }>();
  /**
   * Removed children still linked, with the name they had: moby's index keeps the removed
   * container, so the parent's inspect still names it and its start fails ("Cannot link to a non
   * running container"), until the parent goes. The link name then finds no container.
   */
  readonly #gone = new Map<string, string>();

  /** Reserves "/parentName/alias" for the child; false when the name is taken (moby ignores that link). */
  link(parentId: string, parentName: string, childId: string, alias: string): boolean {
    const full = posix.join(withSlash(parentName), alias);
    if (this.#links.has(full)) return false;
    this.#links.set(full, { parent: parentId, child: childId });
    return true;
  }

  /** The child a link name ("parent/alias", with or without the leading slash) stands for. */
  resolve(name: string): string | undefined {
    return name.includes('/', 1) ? this.#links.get(withSlash(name))?.child : undefined;
  }

  /** The link name's parent ID. */
  parentOf(name: string): string | undefined {
    return this.#links.get(withSlash(name))?.parent;
  }

  /** The parent's links: full name → child ID, in the order they were made. */
  children(parentId: string): Array<[string, string]> {
    return [...this.#links].filter(([, l]) => l.parent === parentId).map(([n, l]) => [n, l.child]);
  }

  /** The links to `childId`: full name → parent ID. */
  parents(childId: string): Array<[string, string]> {
    return [...this.#links].filter(([, l]) => l.child === childId).map(([n, l]) => [n, l.parent]);
  }

  /** The link names that stand for `childId` (ps lists them among its Names). */
  namesOf(childId: string): string[] {
    return [...this.#links].filter(([, l]) => l.child === childId).map(([n]) => n);
  }

  unlink(name: string): void {
    this.#links.delete(withSlash(name));
  }

  /**
   * A removed container: its own links go (moby linkIndex.delete); links to it stay, as in moby,
   * and remember its name (goneName).
   */
  removed(id: string, name: string): void {
    for (const [n, l] of this.#links) if (l.parent === id) this.#links.delete(n);
    if ([...this.#links.values()].some((l) => l.child === id)) this.#gone.set(id, name);
    for (const g of [...this.#gone.keys()]) if (![...this.#links.values()].some((l) => l.child === g)) this.#gone.delete(g);
  }

  /** The name a removed, still linked child had. */
  goneName(id: string): string | undefined {
    return this.#gone.get(id);
  }

  /** A renamed parent's links move under its new name (moby daemon/rename.go). */
  renameParent(parentId: string, oldName: string, newName: string): void {
    const from = `${withSlash(oldName)}/`;
    for (const [n, l] of [...this.#links]) {
      if (l.parent !== parentId || !n.startsWith(from)) continue;
      this.#links.delete(n);
      this.#links.set(`${withSlash(newName)}/${n.slice(from.length)}`, l);
    }
  }
}

/** A port key of ExposedPorts ("80/tcp", "53/udp", "8080"). */
function splitPort(p: string): { port: string; num: number; proto: string } {
  const [port = '', proto = 'tcp'] = p.split('/');
  return { port, num: parseInt(port, 10) || 0, proto };
}

/**
 * The variables a link gives the parent (moby links.Link.ToEnv, 20.10): the first port as
 * ALIAS_PORT, a contiguous range of three or more ports as _START/_END entries, then every port
 * with _ADDR/_PORT/_PROTO, ALIAS_NAME, and the child's env (but HOME and PATH) as ALIAS_ENV_*.
 */
export function linkEnv(linkName: string, childIp: string, childEnv: readonly string[] | null | undefined, exposedPorts: readonly string[]): string[] {
  const env: string[] = [];
  const alias = posix.basename(linkName).toUpperCase().replaceAll('-', '_');
  // nat.Sort with moby's less: by number, tcp first on equal numbers
  const ports = exposedPorts.map(splitPort).sort((a, b) => a.num - b.num || (a.proto.toLowerCase() === 'tcp' ? -1 : b.proto.toLowerCase() === 'tcp' ? 1 : 0));
  const first = ports[0];
  if (first) env.push(`${alias}_PORT=${first.proto}://${childIp}:${first.port}`);
  const nextContiguous = (value: number, index: number): number => {
    if (index + 1 === ports.length) return index;
    for (let i = index + 1; i < ports.length; i++) {
      if (ports[i]!.num > value + 1) return i - 1;
      value++;
    }
    return ports.length - 1;
  };
  for (let i = 0; i < ports.length;) {
    const p = ports[i]!;
    const j = nextContiguous(p.num, i);
    if (j > i + 1) {
      const P = `${alias}_PORT_${p.port}_${p.proto.toUpperCase()}`;
      const q = ports[j]!;
      env.push(`${P}_START=${p.proto}://${childIp}:${p.port}`, `${P}_ADDR=${childIp}`, `${P}_PROTO=${p.proto}`, `${P}_PORT_START=${p.port}`);
      const Q = `${alias}_PORT_${p.port}_${q.proto.toUpperCase()}`;
      env.push(`${Q}_END=${q.proto}://${childIp}:${q.port}`, `${Q}_PORT_END=${q.port}`);
      i = j + 1;
    } else {
      i++;
    }
  }
  for (const p of ports) {
    const P = `${alias}_PORT_${p.port}_${p.proto.toUpperCase()}`;
    env.push(`${P}=${p.proto}://${childIp}:${p.port}`, `${P}_ADDR=${childIp}`, `${P}_PORT=${p.port}`, `${P}_PROTO=${p.proto}`);
  }
  env.push(`${alias}_NAME=${linkName}`);
  for (const v of childEnv ?? []) {
    const eq = v.indexOf('=');
    if (eq < 0) continue;
    const k = v.slice(0, eq);
    if (k === 'HOME' || k === 'PATH') continue; // added by builds, not the child's own
    env.push(`${alias}_ENV_${k}=${v.slice(eq + 1)}`);
  }
  return env;
}

/** The parent's /etc/hosts entry for a child, as an extra host "names:ip" (libnetwork OptionExtraHost). */
export function linkHostEntry(linkName: string, childName: string, childHostname: string, ip: string): string {
  const alias = posix.basename(linkName);
  const child = childName.replace(/^\//, '');
  // the alias, the child's hostname, and its name unless the alias is the name
  return `${alias} ${childHostname}${alias !== child ? ` ${child}` : ''}:${ip}`;
}

/**
 * A parent's /etc/hosts after its child got address `ip` (libnetwork etchosts.Update): every line
 * naming `alias` right after the tab takes the new address.
 */
export function updateHostsAddress(hosts: string, alias: string, ip: string): string {
  const quoted = alias.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return hosts.replace(new RegExp(`(\\S*)(\\t${quoted})(\\s|\\.)`, 'g'), `${ip}$2$3`);
}
