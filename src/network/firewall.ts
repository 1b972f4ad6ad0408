// Berth's iptables rules: its own chains (BERTH-* in filter, nat and raw) jumped to from the
// built-in ones, and every rule tagged with a comment `berth:<tag>` (the bridge, or
// bridge/container for published ports) so that a daemon replaces or removes exactly its own
// rules, never another engine's, and a restart never duplicates them. Changes go through
// `iptables-restore --noflush` (one spawn per change), reading the current rules with
// `iptables-save`.
//
// What reaches a container from outside the host (moby's bridge driver, 27.x and 28.x):
//   - raw BERTH-PREROUTING drops, before conntrack and NAT, packets addressed straight to a
//     bridge's subnet that do not come in on that bridge (a neighbour that routes to
//     <container-ip> through the host), except to the host's own address there (the gateway);
//     and packets to a port published on a loopback address that do not come in on `lo`.
//   - filter BERTH-FORWARD drops what is routed onto a bridge from elsewhere unless it is a reply
//     (RELATED,ESTABLISHED) or was DNAT'ed by a published port's rule, and accepts the latter
//     only for the published container address and port.
//   - the FORWARD policy becomes DROP when berthd turns on forwarding (network/forwarding.ts),
//     so the host routes nothing but its containers' traffic.
import { run } from '../sys/exec.ts';
import { withHostLock } from '../util/host-lock.ts';

export type Table = 'filter' | 'nat' | 'raw';
export interface Rule { table: Table; chain: string; spec: string }

export const TABLES: readonly Table[] = ['filter', 'nat', 'raw'];

/**
 * Whether the raw table can be used: a kernel without iptable_raw (legacy iptables) refuses it.
 * The filter rules alone still refuse direct routing; the raw ones drop it earlier, before
 * conntrack, and also guard loopback-published ports (moby's DOCKER_INSECURE_NO_IPTABLES_RAW).
 */
let rawUsable = true;

function tables(): Table[] {
  return TABLES.filter((t) => t !== 'raw' || rawUsable);
}

export const CHAINS: Record<Table, string[]> = {
  filter: ['BERTH-FORWARD', 'BERTH-ISOLATION-1', 'BERTH-ISOLATION-2', 'BERTH-INPUT'],
  nat: ['BERTH', 'BERTH-LOOPBACK', 'BERTH-POSTROUTING'],
  raw: ['BERTH-PREROUTING'],
};

/** Jumps from the built-in chains, and the first rule of BERTH-FORWARD. */
const JUMPS: (Rule & { insert?: boolean })[] = [
  { table: 'filter', chain: 'FORWARD', spec: '-j BERTH-FORWARD', insert: true },
  { table: 'filter', chain: 'BERTH-FORWARD', spec: '-j BERTH-ISOLATION-1', insert: true },
  { table: 'nat', chain: 'PREROUTING', spec: '-m addrtype --dst-type LOCAL -j BERTH' },
  // Loopback destinations are never DNAT'ed: a crafted packet from the LAN to 127.0.0.1 must not
  // reach a container (moby#41872); local clients of 127.0.0.1 go through the port proxy.
  { table: 'nat', chain: 'BERTH', spec: '-d 127.0.0.0/8 -j RETURN', insert: true },
  { table: 'nat', chain: 'OUTPUT', spec: '! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j BERTH' },
  { table: 'nat', chain: 'POSTROUTING', spec: '-j BERTH-POSTROUTING' },
  // The host's own connections to published ports on its loopback (kernel NAT, see portRules).
  { table: 'nat', chain: 'OUTPUT', spec: '-d 127.0.0.0/8 -j BERTH-LOOPBACK' },
  { table: 'filter', chain: 'INPUT', spec: '-j BERTH-INPUT', insert: true },
  // First in raw PREROUTING, so that no earlier ACCEPT there skips the direct-routing drops.
  { table: 'raw', chain: 'PREROUTING', spec: '-j BERTH-PREROUTING', insert: true },
];

async function save(table: Table): Promise<string[]> {
  const { stdout } = await run('iptables-save', ['-t', table]);
  return stdout.split('\n');
}

/** Every table's lines from one `iptables-save` (a table not made yet has none). */
async function saveAll(): Promise<Map<Table, string[]>> {
  const { stdout } = await run('iptables-save', []);
  const out = new Map<Table, string[]>(TABLES.map((t) => [t, []]));
  let cur: string[] | undefined;
  for (const l of stdout.split('\n')) {
    if (l.startsWith('*')) cur = out.get(l.slice(1).trim() as Table);
    else cur?.push(l);
  }
  return out;
}

async function restore(byTable: Map<Table, string[]>): Promise<void> {
  let input = '';
  for (const [table, lines] of byTable) {
    if (!lines.length) continue;
    input += `*${table}\n${lines.join('\n')}\nCOMMIT\n`;
  }
  if (input) await run('iptables-restore', ['--noflush', '-w', '5'], { input });
}

/** iptables-save prints a rule the way it was given, normalised; compare on the normalised text. */
function norm(s: string): string {
  return s.replace(/"/g, '').replace(/\s+/g, ' ').trim();
}

/** The comment goes before the target, where iptables-save prints it. */
function withTag(spec: string, tag: string): string {
  const i = spec.lastIndexOf(' -j ');
  const c = `-m comment --comment berth:${tag}`;
  return i < 0 ? `${spec} ${c}` : `${spec.slice(0, i)} ${c}${spec.slice(i)}`;
}

/** Creates Berth's chains and jumps where missing (idempotent; shared by side-by-side daemons). */
export async function ensureChains(): Promise<void> {
  // read, then write: one berthd of the host at a time (util/host-lock.ts says why)
  await withHostLock('/run/berth-firewall.lock', ensureChainsLocked);
}

async function ensureChainsLocked(): Promise<void> {
  const changes = new Map<Table, string[]>();
  rawUsable = await save('raw').then(() => true, () => false);
  const saved = await saveAll();
  for (const table of tables()) {
    const lines = saved.get(table)!;
    const have = new Set(lines.filter((l) => l.startsWith(':')).map((l) => l.slice(1).split(' ')[0]));
    const rules = new Set(lines.filter((l) => l.startsWith('-A ')).map(norm));
    const out: string[] = [];
    for (const c of CHAINS[table]) if (!have.has(c)) out.push(`:${c} - [0:0]`);
    for (const j of JUMPS.filter((x) => x.table === table)) {
      if (!rules.has(norm(`-A ${j.chain} ${j.spec}`))) out.push(`${j.insert ? '-I' : '-A'} ${j.chain} ${j.spec}`);
    }
    changes.set(table, out);
  }
  await restore(changes);
}

/**
 * Makes the rules tagged `tag` exactly `rules`: stale ones deleted, missing ones appended, in one
 * restore per call. Tags under `tag/` (a network's published ports) are left alone.
 */
export async function setRules(tag: string, rules: Rule[]): Promise<void> {
  const changes = new Map<Table, string[]>();
  const saved = await saveAll();
  for (const table of tables()) {
    const want = [...new Set(rules.filter((r) => r.table === table).map((r) => norm(`-A ${r.chain} ${withTag(r.spec, tag)}`)))];
    const have = saved.get(table)!.filter((l) => l.startsWith('-A ') && hasTag(l, tag)).map(norm);
    const out: string[] = [];
    for (const h of have) if (!want.includes(h)) out.push(`-D${h.slice(2)}`);
    for (const w of want) if (!have.includes(w)) out.push(w);
    changes.set(table, out);
  }
  await restore(changes);
}

function hasTag(line: string, tag: string): boolean {
  const m = /--comment "?berth:([^"\s]+)"?/.exec(line);
  return m?.[1] === tag;
}

/** Removes every rule whose tag is `tag` or starts with `tag/` (a network and its ports). */
export async function removeRules(tag: string): Promise<void> {
  const changes = new Map<Table, string[]>();
  const saved = await saveAll();
  for (const table of tables()) {
    const out = saved.get(table)!.filter((l) => {
      if (!l.startsWith('-A ')) return false;
      const m = /--comment "?berth:([^"\s]+)"?/.exec(l);
      return !!m && (m[1] === tag || m[1]!.startsWith(`${tag}/`));
    }).map((l) => `-D${norm(l).slice(2)}`);
    changes.set(table, out);
  }
  await restore(changes);
}

/** All tags of Berth rules present (what a daemon start compares with what it expects). */
export async function listTags(): Promise<Set<string>> {
  const tags = new Set<string>();
  const saved = await saveAll();
  for (const table of tables()) {
    for (const l of saved.get(table)!) {
      const m = /--comment "?berth:([^"\s]+)"?/.exec(l);
      if (m) tags.add(m[1]!);
    }
  }
  return tags;
}

export interface BridgeRules { bridge: string; subnet: string; internal: boolean; loopbackNat?: boolean }

/**
 * What a bridge network needs: NAT out (unless internal), forwarding, isolation from other
 * bridges, and no way in from elsewhere but replies and published ports (moby's DOCKER chain
 * `! -i br -o br -j DROP` after the published ports' ACCEPTs, and 28.x's raw-table drop of
 * packets routed straight to a container address). The DROP names the states it lets through
 * instead of relying on its place after the ports' rules, which later `setRules` calls append.
 */
export function bridgeRules(b: BridgeRules): Rule[] {
  const r: Rule[] = [
    { table: 'filter', chain: 'BERTH-ISOLATION-1', spec: `-i ${b.bridge} ! -o ${b.bridge} -j BERTH-ISOLATION-2` },
    { table: 'filter', chain: 'BERTH-ISOLATION-2', spec: `-o ${b.bridge} -j DROP` },
    { table: 'filter', chain: 'BERTH-FORWARD', spec: `-i ${b.bridge} -o ${b.bridge} -j ACCEPT` },
  ];
  if (b.loopbackNat) {
    // Loopback-sourced packets may leave through the bridge (route_localnet), with the bridge's
    // address as source; containers themselves may not reach the host's loopback that way.
    r.push({ table: 'nat', chain: 'BERTH-POSTROUTING', spec: `-s 127.0.0.0/8 -o ${b.bridge} -j MASQUERADE` });
    r.push({ table: 'filter', chain: 'BERTH-INPUT', spec: `-i ${b.bridge} -d 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP` });
  }
  if (b.internal) {
    r.push({ table: 'filter', chain: 'BERTH-ISOLATION-1', spec: `-i ${b.bridge} ! -o ${b.bridge} -j DROP` });
    r.push({ table: 'filter', chain: 'BERTH-ISOLATION-1', spec: `! -i ${b.bridge} -o ${b.bridge} -j DROP` });
  } else {
    r.push({ table: 'filter', chain: 'BERTH-FORWARD', spec: `-i ${b.bridge} ! -o ${b.bridge} -j ACCEPT` });
    r.push({ table: 'filter', chain: 'BERTH-FORWARD', spec: `-o ${b.bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT` });
    r.push({ table: 'filter', chain: 'BERTH-FORWARD', spec: `! -i ${b.bridge} -o ${b.bridge} -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP` });
    r.push({ table: 'nat', chain: 'BERTH-POSTROUTING', spec: `-s ${b.subnet} ! -o ${b.bridge} -j MASQUERADE` });
  }
  // Before NAT: a packet for a container address that did not come in on the bridge was routed
  // here by a neighbour (a DNAT'ed one still carries a host address at this point; the host's
  // own packets take OUTPUT). The host's address on the bridge (LOCAL) stays reachable.
  r.push({ table: 'raw', chain: 'BERTH-PREROUTING', spec: `-d ${b.subnet} ! -i ${b.bridge} -m addrtype ! --dst-type LOCAL -j DROP` });
  return r;
}

export interface PublishedPort { proto: 'tcp' | 'udp'; hostIp: string; hostPort: number; containerIp: string; containerPort: number }

/**
 * DNAT for traffic from outside and from the host's non-loopback addresses; with `loopbackNat`
 * also for the host's own connections to 127.0.0.x (in OUTPUT only, never for packets that
 * arrive from elsewhere), else those go through the port proxy.
 */
export function portRules(bridge: string, p: PublishedPort, loopbackNat = false): Rule[] {
  const dst = p.hostIp && p.hostIp !== '0.0.0.0' ? `-d ${p.hostIp}/32 ` : '';
  const loopback = p.hostIp.startsWith('127.');
  const local = loopbackNat && (loopback || !p.hostIp || p.hostIp === '0.0.0.0')
    ? [{ table: 'nat' as const, chain: 'BERTH-LOOPBACK', spec: `${loopback ? `-d ${p.hostIp}/32 ` : ''}-p ${p.proto} -m ${p.proto} --dport ${p.hostPort} -j DNAT --to-destination ${p.containerIp}:${p.containerPort}` }]
    : [];
  return [
    ...local,
    ...(loopback ? [] : [{ table: 'nat' as const, chain: 'BERTH', spec: `${dst}! -i ${bridge} -p ${p.proto} -m ${p.proto} --dport ${p.hostPort} -j DNAT --to-destination ${p.containerIp}:${p.containerPort}` }]),
    // Only what a published port's rule DNAT'ed: a packet routed straight to the container's
    // port (a port published on 127.0.0.1 only, say) is not let in by being published.
    { table: 'filter', chain: 'BERTH-FORWARD', spec: `-d ${p.containerIp}/32 ! -i ${bridge} -o ${bridge} -p ${p.proto} -m ${p.proto} --dport ${p.containerPort} -m conntrack --ctstate DNAT -j ACCEPT` },
    // moby 28: a port published on a loopback address is refused to packets that arrive on any
    // other interface (a neighbour routing 127.0.0.1 to the host, a bridge with route_localnet).
    ...(loopback ? [{ table: 'raw' as const, chain: 'BERTH-PREROUTING', spec: `-d ${p.hostIp}/32 ! -i lo -p ${p.proto} -m ${p.proto} --dport ${p.hostPort} -j DROP` }] : []),
    { table: 'nat', chain: 'BERTH-POSTROUTING', spec: `-s ${p.containerIp}/32 -d ${p.containerIp}/32 -p ${p.proto} -m ${p.proto} --dport ${p.containerPort} -j MASQUERADE` },
  ];
}
