// The per-container /etc/hostname, /etc/hosts and /etc/resolv.conf that Docker bind-mounts
// into every container (moby libnetwork/etchosts, resolvconf).
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface EtcPaths { hostname: string; hosts: string; resolvConf: string }

const defaultHosts = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

const loopbackNs = /^nameserver\s+((127\.([0-9]{1,3}\.){2}[0-9]{1,3})|(::1))\s*$/;

/** resolv.conf words of one kind, comments skipped (libnetwork resolvconf GetSearchDomains/GetOptions). */
function words(lines: string[], key: RegExp): string[] {
  return lines.map((l) => l.replace(/#.*/, '').trim()).filter((l) => key.test(l)).flatMap((l) => l.split(/\s+/).slice(1));
}

/** libnetwork resolvconf.Build: search, then nameservers, then options ("." alone means no search). */
function buildResolvConf(ns: string[], search: string[], options: string[]): string {
  let out = '';
  if (search.length && search.join(' ').trim() !== '.') out += `search ${search.join(' ')}\n`;
  for (const n of ns) out += `nameserver ${n}\n`;
  if (options.length && options.join(' ').trim() !== '') out += `options ${options.join(' ')}\n`;
  return out;
}

/**
 * A container's resolv.conf as libnetwork writes it (sandbox_dns_unix.go). With --dns,
 * --dns-search or --dns-option: built from those, the host's filling what is not given. Without:
 * the host's file as it is, less loopback nameservers (they mean nothing inside the container's
 * network namespace); with none left, Google's public resolvers are appended. On a user network
 * (`embeddedDns`) the embedded server is the only IPv4 nameserver, the file's IPv6 ones stay,
 * and `ndots:0` is added unless the user set ndots (rebuildDNS).
 */
export function containerResolvConf(host: string, opts: { dns?: string[] | null; search?: string[] | null; options?: string[] | null; embeddedDns?: string }): string {
  const hostLines = host.split('\n');
  let text: string;
  if (opts.dns?.length || opts.search?.length || opts.options?.length) {
    const ns = opts.dns?.length ? opts.dns : words(hostLines, /^nameserver\s/);
    text = buildResolvConf(ns, opts.search?.length ? opts.search : words(hostLines, /^(search|domain)\s/),
      opts.options?.length ? opts.options : words(hostLines, /^options\s/));
  } else {
    text = hostLines.filter((l) => !loopbackNs.test(l)).join('\n');
    if (!/^\s*nameserver\s+\S+\s*$/m.test(text)) text += '\nnameserver 8.8.8.8\nnameserver 8.8.4.4';
  }
  if (!opts.embeddedDns) return text;
  const lines = text.split('\n');
  const v6 = lines.map((l) => l.trim()).filter((l) => /^nameserver\s+\S*:\S*\s*$/.test(l)).map((l) => l.split(/\s+/)[1]!);
  const options = words(lines, /^options\s/);
  if (!options.some((o) => o.includes('ndots'))) options.push('ndots:0');
  return buildResolvConf([opts.embeddedDns, ...v6], words(lines, /^(search|domain)\s/), options);
}

/** What the embedded DNS of a user-network container needs from its resolv.conf settings. */
export interface ResolverConfig {
  /**
   * Where names it does not know go (moby's extDNS): the IPv4 nameservers of the file as it is
   * before the embedded server replaces them — the --dns servers, else the host's less loopback
   * ones (or the public fallbacks).
   */
  upstreams: string[];
  /**
   * The file's options set ndots (--dns-option or the host's): then an A/AAAA query for a
   * single-label name it does not know gets an empty answer instead of going out (moby's
   * NdotsSet), so the client goes on with its search domains.
   */
  ndotsSet: boolean;
}

export function resolverConfig(host: string, opts: { dns?: string[] | null; search?: string[] | null; options?: string[] | null }): ResolverConfig {
  const lines = containerResolvConf(host, { dns: opts.dns, search: opts.search, options: opts.options }).split('\n');
  return {
    upstreams: words(lines, /^nameserver\s/).filter((n) => /^\d+\.\d+\.\d+\.\d+$/.test(n)),
    ndotsSet: words(lines, /^options\s/).some((o) => /^ndots:\d+$/.test(o)),
  };
}

/** resolverConfig for a container about to start: reads the host's /etc/resolv.conf. */
export async function containerResolverConfig(opts: { dns?: string[] | null; search?: string[] | null; options?: string[] | null }): Promise<ResolverConfig> {
  return resolverConfig(await readFile('/etc/resolv.conf', 'utf8').catch(() => ''), opts);
}

/** Writes a running container's resolv.conf again in place (the same inode: it is bind-mounted). */
export async function rewriteResolvConf(path: string, opts: { dns?: string[] | null; search?: string[] | null; options?: string[] | null; embeddedDns?: string }): Promise<void> {
  const host = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  await writeFile(path, containerResolvConf(host, opts), { mode: 0o644 });
}

export async function writeEtcFiles(dir: string, o: {
  hostname: string; domainname?: string; networkMode: string; extraHosts?: string[];
  dns?: string[] | null; dnsSearch?: string[] | null; dnsOptions?: string[] | null;
  /** The container's address: `/etc/hosts` names it with the hostname, as Docker does. */
  address?: string;
  /** The embedded DNS server of a user network, used unless --dns was given. */
  embeddedDns?: string;
  /** What `--add-host name:host-gateway` stands for (the default bridge's gateway, as in Docker). */
  hostGateway?: string;
}): Promise<EtcPaths> {
  const paths: EtcPaths = { hostname: join(dir, 'hostname'), hosts: join(dir, 'hosts'), resolvConf: join(dir, 'resolv.conf') };
  const hostResolv = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  let hosts: string;
  let resolv: string;
  if (o.networkMode === 'host') {
    hosts = await readFile('/etc/hosts', 'utf8').catch(() => defaultHosts.join('\n') + '\n');
    resolv = hostResolv;
  } else {
    hosts = defaultHosts.join('\n') + '\n';
    // On a user network --dns names the embedded server's upstreams, not the file's nameservers.
    resolv = containerResolvConf(hostResolv, { dns: o.dns, search: o.dnsSearch, options: o.dnsOptions, embeddedDns: o.embeddedDns });
  }
  for (const h of o.extraHosts ?? []) {
    const i = h.indexOf(':');
    const ip = h.slice(i + 1) === 'host-gateway' && o.hostGateway ? o.hostGateway : h.slice(i + 1);
    if (i > 0) hosts += `${ip}\t${h.slice(0, i)}\n`;
  }
  // The container's own line comes last, as in Docker's /etc/hosts.
  if (o.address && o.networkMode !== 'host') {
    // libnetwork etchosts: "<ip>\t<host>.<domain> <host>" (a space, not a tab, between the names).
    const fqdn = o.domainname ? `${o.hostname}.${o.domainname} ` : '';
    hosts += `${o.address}\t${fqdn}${o.hostname}\n`;
  }
  await Promise.all([
    writeFile(paths.hostname, `${o.hostname}\n`, { mode: 0o644 }),
    writeFile(paths.hosts, hosts, { mode: 0o644 }),
    writeFile(paths.resolvConf, resolv, { mode: 0o644 }),
  ]);
  return paths;
}
