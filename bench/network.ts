// Network: throughput and request rate of a published port, and what the bridge network adds to
// `docker run`, each against a floor measured in the same run.
//
//   node_modules/.bin/node bench/network.ts [--runs N] [--no-append]
//
// Starts berthd on a fresh data root under /var/tmp and a short exec root, with a bridge and
// subnets of its own (bb<hex>, 10.<150-199>.<x>.1/24, pool 10.<200-249>.0.0/16) so that it does not
// collide with other daemons on the machine; imports busybox:latest from the host's busybox-static;
// runs one busybox `httpd -f -p 80 -h /www` container serving a 100 MB random file and a 1 KB one,
// published as `-p 127.0.0.1:P1:80 -p P2:80`, and a busybox httpd on the host itself serving the
// same sizes on 127.0.0.1:PF (the floor: loopback, no proxy, no bridge). Then, N runs each,
// interleaved (floor, a, b, …) so that the machine's noise falls on all alike, all traffic local:
//   1. 100 MB download with curl (MB/s):
//      f. host httpd via 127.0.0.1:PF
//      a. via 127.0.0.1:P1   (Berth's userland port proxy, or kernel NAT where berthd DNATs loopback)
//      b. via the container's address, port 80   (kernel bridge path)
//      c. via the host's own non-loopback address:P2   (iptables DNAT path; if the host has one)
//   2. 1 KB file with `wrk -t2 -c32 -d5s` (requests/s): f, a, b as above
//   3. `docker run --rm busybox true` (default bridge network) against the same with
//      `--network none` (the floor), ≥ 15 runs each after 3 warm-ups, interleaved (ms)
// Prints a Markdown section (medians and minima, ratio to the floor, the targets) and appends it
// to BENCHMARKS.md. Everything it made is taken away again (containers, proxies, netns, the
// bridge and its iptables rules, the host httpd, mounts, dirs), also on failure or Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, readdirSync, rmdirSync } from 'node:fs';
import net from 'node:net';
import { randomBytes, randomInt } from 'node:crypto';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import {
  DOCKER, log, fmt, runCmd, mustRun, sleep, withTimeout, api, quantile, mountsUnder, type Result, startBerthd, onSignals, stopChild, pickSubnets, removeCgroupTree,
  benchPaths, runsOption, importBusybox, countListed, machineInfo, outputOf, runInterleaved, logComplaints, appendSection,
  killRuntimeLeftovers, unmountAndRemove, runBench,
} from './lib.ts';
import { removeRules } from '../src/network/firewall.ts';
import { listProxies } from '../src/sys/proxy-process.ts';
import { daemonTag } from '../src/engine/engine.ts';

const repo = resolve(import.meta.dirname, '..');
const BUSYBOX = '/bin/busybox';
const BIG = 100_000_000;
const SMALL = 1024;
const WARMUPS = 3;
const TARGET_MBS = 1500;
const TARGET_RPS = 5000;
const TARGET_SETUP_MS = 30;
const WRK_ARGS = ['-t2', '-c32', '-d5s'];
const WEB_SCRIPT = `mkdir -p /www && head -c ${BIG} /dev/urandom > /www/big && head -c ${SMALL} /dev/urandom > /www/small && exec httpd -f -p 80 -h /www`;

// ---------- the run ----------

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, 'no-append': { type: 'boolean', default: false } } });
const RUNS = runsOption(values.runs);
const SETUP_RUNS = Math.max(15, 3 * RUNS);

const { tag, execRoot, socket, pidfile, dataRoot, scratch, logFile, env } = benchPaths(); // scratch: host httpd's files, CLI config, berthd log
const bridge = `bb${tag}`;
const cgroupParent = `berth-${daemonTag(execRoot)}`; // engine.ts names a side daemon's tree so
const www = join(scratch, 'www');

const subnets = pickSubnets();

let daemon: ChildProcess | undefined;
let hostHttpd: ChildProcess | undefined;
let cleaning: Promise<void> | undefined;
const netnsBefore = new Set(existsSync('/run/netns') ? readdirSync('/run/netns') : []);

/** The daemon's berth-proxy (only with userland-proxy: one per daemon, its control socket in the exec root; it outlives berthd by design). */
function myProxyPids(): number[] {
  return listProxies().filter((p) => p.control.startsWith(`${execRoot}/`)).map((p) => p.pid);
}

/** Named netns made since this script started whose interfaces hold an address in this daemon's subnet. */
async function myNetns(): Promise<string[]> {
  const names = existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith('berth-') && !netnsBefore.has(n)) : [];
  const mine: string[] = [];
  for (const n of names) {
    const r = await runCmd('ip', ['-n', n, '-4', '-o', 'addr'], { timeoutMs: 5_000 });
    if (r.stdout.toString().includes(` ${subnets.prefix}`)) mine.push(n);
  }
  return mine;
}

async function myRules(): Promise<string[]> {
  const r = await runCmd('iptables-save', [], { timeoutMs: 10_000 });
  return r.stdout.toString().split('\n').filter((l) => l.includes(`berth:${bridge}`));
}

async function linkExists(name: string): Promise<boolean> {
  return (await runCmd('ip', ['link', 'show', name], { timeoutMs: 5_000 })).code === 0;
}

/** Removes every container through the API (a published port's proxy goes with its container). */
async function removeContainers(): Promise<void> {
  const list = await api(socket, 'GET', '/v1.47/containers/json?all=1', undefined, undefined, 10_000);
  if (list.status !== 200) return;
  for (const c of JSON.parse(list.body.toString()) as { Id: string }[]) {
    await api(socket, 'DELETE', `/v1.47/containers/${c.Id}?force=1`, undefined, undefined, 30_000).catch((e) => log(`removing container ${c.Id}: ${e}`));
  }
}

async function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await stopChild(hostHttpd, 'host httpd', log).catch((e) => log(`stopping host httpd: ${e}`));
    if (daemon && daemon.exitCode === null && daemon.signalCode === null) {
      await withTimeout(removeContainers(), 60_000, 'removing containers').catch((e) => log(String(e)));
    }
    await stopChild(daemon, 'berthd', log).catch((e) => log(`stopping berthd: ${e}`));
    for (const pid of myProxyPids()) {
      log(`leftover berth-proxy ${pid}: SIGKILL`);
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    await killRuntimeLeftovers(execRoot);
    // Network leftovers: namespaces of containers it still knew of or that hold our addresses, the
    // bridge, and every iptables rule tagged with it (berth:bb<hex> and berth:bb<hex>/<container>).
    const ids = existsSync(join(dataRoot, 'containers')) ? readdirSync(join(dataRoot, 'containers')) : [];
    const nsNames = new Set([...ids.map((id) => `berth-${id.slice(0, 16)}`).filter((n) => existsSync(`/run/netns/${n}`)), ...await myNetns()]);
    for (const n of nsNames) {
      log(`leftover netns ${n}: ip netns del`);
      await runCmd('ip', ['netns', 'del', n], { timeoutMs: 10_000 });
    }
    await withTimeout(removeRules(bridge), 30_000, 'removing iptables rules').catch((e) => log(`removing iptables rules of ${bridge}: ${e}`));
    if (await linkExists(bridge)) await runCmd('ip', ['link', 'del', bridge], { timeoutMs: 10_000 });
    await unmountAndRemove([dataRoot, execRoot, scratch], 60_000);
    removeCgroupTree(cgroupParent);
  })();
  return cleaning;
}

/** What is left after cleanup, for the last line of the section; empty when nothing. */
async function leftovers(): Promise<string[]> {
  const left: string[] = [];
  if (daemon && daemon.exitCode === null && daemon.signalCode === null) left.push('berthd still running');
  if (hostHttpd && hostHttpd.exitCode === null && hostHttpd.signalCode === null) left.push('host httpd still running');
  if (await linkExists(bridge)) left.push(`bridge ${bridge}`);
  const rules = await myRules();
  if (rules.length) left.push(`${rules.length} iptables rules tagged berth:${bridge}`);
  const proxies = myProxyPids();
  if (proxies.length) left.push(`berth-proxy pids ${proxies.join(' ')}`);
  const ns = await myNetns();
  if (ns.length) left.push(`netns ${ns.join(' ')}`);
  const mounts = mountsUnder(dataRoot, execRoot, scratch);
  if (mounts.length) left.push(`${mounts.length} mounts`);
  for (const d of [dataRoot, execRoot, scratch]) if (existsSync(d)) left.push(d);
  return left;
}

const signals = onSignals(cleanup, 120_000, log);
const checkInterrupted = signals.check;

async function docker(args: string[], timeoutMs = 60_000): Promise<Result> {
  return mustRun(DOCKER, args, { env, timeoutMs });
}

/** Three distinct TCP ports free on every address right now (the kernel's choice, then released). */
async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = net.createServer();
      servers.push(s);
      await new Promise<void>((ok, fail) => { s.once('error', fail); s.listen(0, '0.0.0.0', () => ok()); });
      ports.push((s.address() as net.AddressInfo).port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

/** The host's first global IPv4 address that is not on a bridge of a container engine. */
async function hostAddress(): Promise<string | undefined> {
  const r = await runCmd('ip', ['-4', '-o', 'addr', 'show', 'scope', 'global'], { timeoutMs: 5_000 });
  for (const l of r.stdout.toString().split('\n')) {
    const m = /^\d+:\s+(\S+)\s+inet\s+([\d.]+)\//.exec(l);
    if (!m) continue;
    const dev = m[1]!;
    if (dev === bridge || /^(berth|bb|br-|docker|cni|podman|veth|virbr)/.test(dev)) continue;
    return m[2]!;
  }
  return undefined;
}

/** Polls until `url` answers 200 with `size` bytes (bounded). */
async function waitHttp(url: string, size: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    checkInterrupted();
    const r = await runCmd('curl', ['-s', '--max-time', '2', '-o', '/dev/null', '-w', '%{http_code} %{size_download}', url], { timeoutMs: 5_000 });
    last = r.stdout.toString().trim() || r.stderr.trim();
    if (last === `200 ${size}`) return;
    await sleep(100);
  }
  throw new Error(`${url} did not answer 200 with ${size} bytes within ${timeoutMs} ms (last: ${last})`);
}

// ---------- measurements ----------

interface Measurement { key: string; label: string; unit: string; higherIsBetter: boolean; floor?: string; fn: () => Promise<number>; samples: number[] }

/** MB/s of one 100 MB download, by curl's own figures. */
async function download(url: string): Promise<number> {
  const r = await runCmd('curl', ['-s', '--max-time', '60', '-o', '/dev/null', '-w', '%{size_download} %{time_total}', url], { timeoutMs: 70_000 });
  if (r.code !== 0) throw new Error(`curl ${url} failed (exit ${r.code}): ${r.stderr.trim()}`);
  const [size, secs] = r.stdout.toString().trim().split(' ').map(Number);
  if (size !== BIG) throw new Error(`curl ${url}: ${size} bytes instead of ${BIG}`);
  return size / 1e6 / secs!;
}

/** TcpExt counters of a network namespace (that of `pid`, or ours). */
function tcpExt(pid: number | 'self' = 'self'): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    const lines = readFileSync(`/proc/${pid}/net/netstat`, 'utf8').split('\n').filter((l) => l.startsWith('TcpExt:'));
    const names = lines[0]?.split(/\s+/).slice(1) ?? [];
    const vals = lines[1]?.split(/\s+/).slice(1) ?? [];
    names.forEach((n, i) => { out[n] = Number(vals[i]); });
  } catch { /* gone */ }
  return out;
}

/**
 * wrk closes its side of each connection first, so every request leaves a TIME-WAIT socket on the
 * host (the client's, or berth-proxy's upstream one). Towards 127.0.0.1 the kernel reuses them
 * (net.ipv4.tcp_tw_reuse = 2), towards the container's address it does not: once a few runs have
 * used up the ephemeral ports for host address → container:80 (60 s each), connects stall and the
 * rate collapses to a few hundred per second, in the harness, not in Berth. So every run that goes
 * to the container (2a, when through the proxy, and 2b) gets a fresh host source address: a /32
 * added to our own bridge, and a /32 route to the container with that `src` (both go with the bridge).
 */
let sourceSeq = 0;
async function freshSource(containerIp: string): Promise<void> {
  if (sourceSeq >= 150) throw new Error('ran out of source addresses');
  const src = `${subnets.prefix}${100 + sourceSeq++}`;
  await mustRun('ip', ['addr', 'add', `${src}/32`, 'dev', bridge], { timeoutMs: 5_000 });
  await mustRun('ip', ['route', 'replace', `${containerIp}/32`, 'dev', bridge, 'src', src], { timeoutMs: 5_000 });
}

/** Takes the extra addresses and the route away again (the bridge as berthd made it, for part 3). */
async function dropSources(containerIp: string): Promise<void> {
  await runCmd('ip', ['route', 'del', `${containerIp}/32`, 'dev', bridge], { timeoutMs: 5_000 });
  for (let i = 0; i < sourceSeq; i++) await runCmd('ip', ['addr', 'del', `${subnets.prefix}${100 + i}/32`, 'dev', bridge], { timeoutMs: 5_000 });
}

/** What a wrk run saw besides its rate: errors, its slowest request, SYNs dropped on full accept queues. */
interface WrkNotes { errors: string[]; maxLatency: string[]; hostOverflows: number; containerOverflows: number }

/** wrk's Requests/sec; socket errors, non-2xx responses, max latency and listen overflows are kept as notes. */
function wrk(url: string, notes: WrkNotes, containerPid: () => number, before?: () => Promise<void>): () => Promise<number> {
  return async () => {
    await before?.();
    const h0 = tcpExt().ListenOverflows ?? 0;
    const c0 = tcpExt(containerPid()).ListenOverflows ?? 0;
    const r = await runCmd('wrk', [...WRK_ARGS, url], { timeoutMs: 30_000 });
    notes.hostOverflows += (tcpExt().ListenOverflows ?? 0) - h0;
    notes.containerOverflows += (tcpExt(containerPid()).ListenOverflows ?? 0) - c0;
    const out = r.stdout.toString();
    if (r.code !== 0) throw new Error(`wrk ${url} failed (exit ${r.code}): ${r.stderr.trim()} ${out.trim()}`);
    const rps = /Requests\/sec:\s*([\d.]+)/.exec(out);
    if (!rps) throw new Error(`wrk ${url}: no Requests/sec in its output:\n${out}`);
    const errs = /Socket errors: (.*)/.exec(out)?.[1];
    const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1];
    if (errs) notes.errors.push(`socket errors ${errs}`);
    if (non2xx) notes.errors.push(`${non2xx} non-2xx`);
    const max = /^\s*Latency\s+\S+\s+\S+\s+(\S+)/m.exec(out)?.[1];
    if (max) notes.maxLatency.push(max);
    return Number(rps[1]);
  };
}

function dockerRun(args: string[]): () => Promise<number> {
  return async () => {
    const r = await runCmd(DOCKER, ['run', '--rm', ...args, 'busybox', 'true'], { env, timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`docker run --rm ${args.join(' ')} busybox true failed (exit ${r.code}): ${r.stderr.trim()}`);
    return r.ms;
  };
}

async function machine(): Promise<Record<string, string>> {
  return {
    ...await machineInfo(repo, ' (with uncommitted changes under src/ or bin/)'),
    curl: (await outputOf('curl', ['--version'])).split(' ').slice(0, 2).join(' '),
    wrk: (await runCmd('wrk', ['--version'], { timeoutMs: 5_000 })).stdout.toString().split(' ').slice(0, 2).join(' '),
    busybox: (await outputOf(BUSYBOX, [])).split('\n')[0]?.split(' (')[0] ?? 'busybox',
  };
}

async function main(): Promise<string> {
  const tStart = performance.now();
  const date = (await mustRun('date', ['-u'])).stdout.toString().trim();
  const info = await machine();
  log(`berthd: data root ${dataRoot}, exec root ${execRoot}, bridge ${bridge} ${subnets.bip}, pool ${subnets.pool}; scratch ${scratch}`);
  daemon = await startBerthd({ repo, dataRoot, execRoot, socket, pidfile, logFile, args: ['--bridge', bridge, '--bip', subnets.bip, '--default-address-pool', subnets.pool] });
  checkInterrupted();
  await importBusybox(repo, env);
  const serverVersion = (await docker(['version', '--format', '{{.Server.Version}}'])).stdout.toString().trim();
  checkInterrupted();

  // The floor's server: busybox httpd on the host, the same binary the image is made of.
  const [p1, p2, pf] = await freePorts(3) as [number, number, number];
  mkdirSync(www);
  writeFileSync(join(www, 'big'), randomBytes(BIG));
  writeFileSync(join(www, 'small'), randomBytes(SMALL));
  hostHttpd = spawn(BUSYBOX, ['httpd', '-f', '-p', `127.0.0.1:${pf}`, '-h', www], { stdio: 'ignore' });
  const floorBase = `http://127.0.0.1:${pf}`;

  // The container: its own 100 MB file in its writable layer, published on loopback and on every address.
  const hostIp = await hostAddress();
  log(`web container: -p 127.0.0.1:${p1}:80 -p ${p2}:80; host httpd on 127.0.0.1:${pf}; host address ${hostIp ?? '(none)'}`);
  await docker(['run', '-d', '--name', 'web', '-p', `127.0.0.1:${p1}:80`, '-p', `${p2}:80`, 'busybox', 'sh', '-c', WEB_SCRIPT]);
  const ip = (await docker(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'web'])).stdout.toString().trim();
  if (!ip.startsWith(subnets.prefix)) throw new Error(`container address ${ip || '(none)'} is not in ${subnets.bip}`);
  // Which way 127.0.0.1:P1 goes: a DNAT of a loopback destination among our rules means kernel NAT
  // (route_localnet) and the proxy only holds the port; otherwise berth-proxy carries it.
  const loopbackNat = (await myRules()).some((l) => /-j DNAT/.test(l) && (/-A BERTH-LOOPBACK /.test(l) || / -d 127\./.test(l)));
  const via127 = loopbackNat ? 'kernel NAT: route_localnet DNAT, proxy bypassed' : 'userland proxy';
  log(`127.0.0.1:${p1} goes through: ${via127}`);
  const bases: Record<string, string> = { f: floorBase, a: `http://127.0.0.1:${p1}`, b: `http://${ip}:80` };
  if (hostIp) bases.c = `http://${hostIp}:${p2}`;
  for (const base of Object.values(bases)) {
    await waitHttp(`${base}/small`, SMALL);
    await waitHttp(`${base}/big`, BIG, 60_000);
  }
  checkInterrupted();

  const thr: Measurement[] = [
    { key: '1f', label: `floor: host \`busybox httpd\` via \`${floorBase}\` (no proxy, no bridge)`, unit: 'MB/s', higherIsBetter: true, fn: () => download(`${bases.f}/big`), samples: [] },
    { key: '1a', label: `\`-p 127.0.0.1:PORT:80\` via 127.0.0.1:PORT (${via127})`, unit: 'MB/s', higherIsBetter: true, floor: '1f', fn: () => download(`${bases.a}/big`), samples: [] },
    { key: '1b', label: 'container address, port 80 (bridge, no proxy)', unit: 'MB/s', higherIsBetter: true, floor: '1f', fn: () => download(`${bases.b}/big`), samples: [] },
  ];
  if (bases.c) thr.push({ key: '1c', label: `\`-p PORT2:80\` via the host's address ${hostIp}:PORT2 (iptables DNAT)`, unit: 'MB/s', higherIsBetter: true, floor: '1f', fn: () => download(`${bases.c}/big`), samples: [] });
  const rps: Measurement[] = [
    { key: '2f', label: 'floor: host `busybox httpd` via 127.0.0.1', unit: 'req/s', higherIsBetter: true, fn: async () => 0, samples: [] },
    { key: '2a', label: `via 127.0.0.1:PORT (${via127})`, unit: 'req/s', higherIsBetter: true, floor: '2f', fn: async () => 0, samples: [] },
    { key: '2b', label: 'container address, port 80 (bridge, no proxy)', unit: 'req/s', higherIsBetter: true, floor: '2f', fn: async () => 0, samples: [] },
  ];
  const webPid = Number((await docker(['inspect', '-f', '{{.State.Pid}}', 'web'])).stdout.toString().trim());
  const wrkNotes: Record<string, WrkNotes> = {};
  for (const m of rps) {
    const n: WrkNotes = wrkNotes[m.key] = { errors: [], maxLatency: [], hostOverflows: 0, containerOverflows: 0 };
    m.fn = wrk(`${bases[m.key[1]!]!}/small`, n, () => webPid, m.key === '2f' ? undefined : () => freshSource(ip));
  }
  const setup: Measurement[] = [
    { key: '3f', label: 'floor: `docker run --rm --network none busybox true`', unit: 'ms', higherIsBetter: false, fn: dockerRun(['--network', 'none']), samples: [] },
    { key: '3a', label: '`docker run --rm busybox true` (default bridge network)', unit: 'ms', higherIsBetter: false, floor: '3f', fn: dockerRun([]), samples: [] },
  ];

  log('1. 100 MB downloads …');
  await runInterleaved(thr, { runs: RUNS, warmups: 1, what: 'download', digits: 1, check: checkInterrupted });
  log(`2. wrk ${WRK_ARGS.join(' ')} on a ${SMALL} B file …`);
  // A short warm-up is enough here: wrk -d1s each.
  for (const m of rps) {
    checkInterrupted();
    if (m.key !== '2f') await freshSource(ip);
    await runCmd('wrk', ['-t2', '-c32', '-d1s', `${bases[m.key[1]!]!}/small`], { timeoutMs: 20_000 });
  }
  for (const n of Object.values(wrkNotes)) Object.assign(n, { errors: [], maxLatency: [], hostOverflows: 0, containerOverflows: 0 });
  await runInterleaved(rps, { runs: RUNS, what: 'wrk', digits: 1, check: checkInterrupted });
  await dropSources(ip);

  // The web container and its proxy go before the start-up runs; nothing else runs meanwhile.
  const proxiesWithWeb = myProxyPids().length;
  await docker(['rm', '-f', 'web']);
  await stopChild(hostHttpd, 'host httpd', log);
  log(`3. docker run --rm [--network none] busybox true, ${SETUP_RUNS} runs each after ${WARMUPS} warm-ups …`);
  await runInterleaved(setup, { runs: SETUP_RUNS, warmups: WARMUPS, what: 'docker run', digits: 1, check: checkInterrupted });

  // What berthd leaves while still running: every container was removed, so nothing should remain.
  const leftContainers = await countListed(socket, '/v1.47/containers/json?all=1');
  const leftVeths = (await runCmd('ip', ['-o', 'link', 'show', 'master', bridge], { timeoutMs: 5_000 })).stdout.toString().split('\n').filter(Boolean).length;
  const leftProxies = myProxyPids().length;
  const leftNetns = (await myNetns()).length;
  const leftMounts = mountsUnder(dataRoot, execRoot).length;
  const leftPortRules = (await myRules()).filter((l) => l.includes(`berth:${bridge}/`)).length;

  const all = [...thr, ...rps, ...setup];
  const med = (k: string): number => quantile(all.find((m) => m.key === k)?.samples ?? [], 0.5);
  const lines: string[] = [];
  lines.push(`## Network: ${date}`, '');
  lines.push(`Machine: ${info.nproc} CPUs (${info.cpu}), kernel ${info.kernel}, Node ${info.node}, ${info.curl}, ${info.wrk}, ${info.busybox}, Docker CLI ${info.docker}.`);
  lines.push(`Berth ${serverVersion} at ${info.commit}; \`bench/network.ts\`, berthd on its own bridge (${subnets.bip}); all traffic local. ${RUNS} runs per measurement in 1 and 2 (after one warm-up), ${SETUP_RUNS} in 3 (after ${WARMUPS} warm-ups), each interleaved with its floor.`);
  lines.push(`Server: busybox \`httpd -f\` (one process per connection, no keep-alive) in a busybox container (files in its writable layer) and, for the floors, on the host; 1 = \`curl\` of a ${BIG / 1e6} MB random file; 2 = \`wrk ${WRK_ARGS.join(' ')}\` of a ${SMALL} B file; 3 = wall time of the CLI command.`, '');
  lines.push('| | measurement | median | min | unit | median / floor |', '|---|---|---:|---:|---|---:|');
  for (const m of all) {
    const md = quantile(m.samples, 0.5);
    const digits = m.unit === 'ms' ? 1 : 0;
    const ratio = m.floor ? `${(md / med(m.floor)).toFixed(2)}×` : '—';
    lines.push(`| ${m.key} | ${m.label} | ${fmt(md, digits)} | ${fmt(Math.min(...m.samples), digits)} | ${m.unit} | ${ratio} |`);
  }
  if (!hostIp) lines.push('| 1c | `-p PORT2:80` via the host\'s address (iptables DNAT) | not measured: no global IPv4 address outside container bridges | | | |');
  lines.push('');
  const errs = rps.filter((m) => wrkNotes[m.key]!.errors.length).map((m) => `${m.key}: ${[...new Set(wrkNotes[m.key]!.errors)].join('; ')}`);
  lines.push(`- wrk, over the measured runs: ${errs.length ? errs.join(' — ') : 'no socket errors or non-2xx responses'}. Slowest request per run: ${rps.map((m) => `${m.key} ${wrkNotes[m.key]!.maxLatency.join(' ')}`).join('; ')}.`);
  lines.push(`- Each 2a and 2b run (and warm-up) came from a fresh host source address (${sourceSeq} in all), so that the TIME-WAIT sockets wrk's closes leave on the host towards the container's address:80 do not carry over from run to run (towards 127.0.0.1 the kernel reuses them); without that, the third or fourth run of 2a and 2b fell to a few hundred req/s while 2f did not.`);
  lines.push(`- SYNs dropped on a full accept queue (TcpExt ListenOverflows, host netns / container netns) during the measured runs: ${rps.map((m) => `${m.key} ${wrkNotes[m.key]!.hostOverflows} / ${wrkNotes[m.key]!.containerOverflows}`).join('; ')} (a dropped SYN costs its connection a 1 s retransmit; the host's counter also counts other processes' sockets).`);
  const setupAdded = med('3a') - med('3f');
  const verdict = (ok: boolean): string => (ok ? 'met' : 'not met');
  lines.push(`- Bridge network set-up adds ${fmt(setupAdded, 1)} ms to \`docker run\` (median − median; minima differ by ${fmt(Math.min(...setup[1]!.samples) - Math.min(...setup[0]!.samples), 1)} ms).`);
  lines.push(`- Targets: ≥ ${TARGET_MBS} MB/s through \`-p 127.0.0.1:PORT:80\` (1a): ${verdict(med('1a') >= TARGET_MBS)} (${fmt(med('1a'))}); ≥ ${TARGET_RPS} req/s through it (2a): ${verdict(med('2a') >= TARGET_RPS)} (${fmt(med('2a'))}); bridge adding < ${TARGET_SETUP_MS} ms to start (3a − 3f): ${verdict(setupAdded < TARGET_SETUP_MS)} (${fmt(setupAdded, 1)} ms).`);
  lines.push('- Reference on this machine class (other server, earlier): dockerd ≈ 1350 MB/s and ≈ 3000 req/s, podman ≈ 1500 MB/s and ≈ 5000 req/s, loopback without proxy ≈ 1830 MB/s and ≈ 6400 req/s.');
  lines.push(`- berth-proxy processes while the web container ran: ${proxiesWithWeb}. Left in berthd after all runs (before its shutdown): ${leftContainers} containers, ${leftVeths} veths on ${bridge}, ${leftProxies} proxies, ${leftNetns} netns, ${leftPortRules} port rules, ${leftMounts} mounts. Whole run ${((performance.now() - tStart) / 1000).toFixed(0)} s.`);

  logComplaints(logFile);
  return lines.join('\n');
}

/** After the cleanup: the leftovers check, then the section (with its last line) printed and appended. */
async function report(main: string | undefined): Promise<boolean> {
  const left = await leftovers().catch((e) => [`leftover check failed: ${e}`]);
  if (left.length) log(`left behind after cleanup: ${left.join(', ')}`);
  if (main !== undefined) {
    const section = `${main}\n- After berthd stopped and the cleanup ran: ${left.length ? `left behind: ${left.join(', ')}` : 'no bridge, iptables rules, proxies, netns, mounts or dirs of this run left'}.\n`;
    process.stdout.write(`\n${section}\n`);
    if (!values['no-append']) appendSection(repo, section);
  }
  return left.length === 0;
}

await runBench(main, { signals, cleanup, cleanupTimeoutMs: 120_000, logFile, after: report });
