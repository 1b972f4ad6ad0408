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

/**
 * Host resolvers are kept except loopback ones, which mean nothing inside the container's
 * network namespace; with none left, Docker's public fallbacks are written.
 */
export function containerResolvConf(host: string, opts: { dns?: string[]; search?: string[]; options?: string[] }): string {
  const lines = host.split('\n');
  let ns = lines.filter((l) => /^\s*nameserver\s/.test(l)).map((l) => l.trim().split(/\s+/)[1]!)
    .filter((a) => !a.startsWith('127.') && a !== '::1');
  if (opts.dns?.length) ns = opts.dns;
  if (ns.length === 0) ns = ['8.8.8.8', '8.8.4.4'];
  let search = lines.filter((l) => /^\s*(search|domain)\s/.test(l)).flatMap((l) => l.trim().split(/\s+/).slice(1));
  if (opts.search?.length) search = opts.search;
  let options = lines.filter((l) => /^\s*options\s/.test(l)).flatMap((l) => l.trim().split(/\s+/).slice(1));
  if (opts.options?.length) options = opts.options;
  const out = ns.map((n) => `nameserver ${n}`);
  if (search.length) out.push(`search ${search.join(' ')}`);
  if (options.length) out.push(`options ${options.join(' ')}`);
  return out.join('\n') + '\n';
}

export async function writeEtcFiles(dir: string, o: {
  hostname: string; domainname?: string; networkMode: string; extraHosts?: string[];
  dns?: string[]; dnsSearch?: string[]; dnsOptions?: string[];
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
    const dns = o.dns?.length ? o.dns : o.embeddedDns ? [o.embeddedDns] : undefined;
    resolv = containerResolvConf(hostResolv, { dns, search: o.dnsSearch, options: o.dnsOptions });
  }
  for (const h of o.extraHosts ?? []) {
    const i = h.indexOf(':');
    const ip = h.slice(i + 1) === 'host-gateway' && o.hostGateway ? o.hostGateway : h.slice(i + 1);
    if (i > 0) hosts += `${ip}\t${h.slice(0, i)}\n`;
  }
  // The container's own line comes last, as in Docker's /etc/hosts.
  if (o.address && o.networkMode !== 'host') {
    const fqdn = o.domainname ? `${o.hostname}.${o.domainname}\t` : '';
    hosts += `${o.address}\t${fqdn}${o.hostname}\n`;
  }
  await Promise.all([
    writeFile(paths.hostname, `${o.hostname}\n`, { mode: 0o644 }),
    writeFile(paths.hosts, hosts, { mode: 0o644 }),
    writeFile(paths.resolvConf, resolv, { mode: 0o644 }),
  ]);
  return paths;
}
