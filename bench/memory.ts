// Memory: what berthd holds idle and what every running container adds (berthd + its conmon),
// side by side with Debian's dockerd + containerd + shims when docker.io is installed.
//
//   node_modules/.bin/node bench/memory.ts [--containers N] [--concurrency C] [--samples S] [--interval SEC] [--settle SEC] [--no-dockerd] [--no-append]
//   node_modules/.bin/node bench/memory.ts --base REV [--head REV] [...]
//   node_modules/.bin/node bench/memory.ts --workload [--running N] [--churn N] [--idle SEC] [--no-append]
//
// With --workload (issue 18's memory test), one berthd alone, with a bridge and subnets of its own,
// runs the whole benchmark workload while its RSS is sampled every 0.5 s (the peak):
//   fresh: after start-up and `docker version/info/ps/images` (median of 5 samples 1 s apart);
//   per running container: 0, N/4, …, N (40) `docker run -d busybox sleep 3600`, every other one
//     with `-p 127.0.0.1::80`, the daemon + its children (the port proxy) + conmon read at each
//     step; the slope of the least-squares line is the cost of one container; then removed;
//   churn: --churn (200) containers created, started and removed (`run -d` then `rm -f`, 8 at a
//     time, one in four with -p);
//   pulls: busybox pushed to a local CNCF registry (docker-registry), removed, pulled twice;
//   a load: `docker save` then `docker load` of the pulled image;
//   a build: DOCKER_BUILDKIT=0 `docker build` of FROM busybox / COPY 1 MB / RUN, twice (cached);
//   logs: a container writes ~4 MB, `docker logs` of it 3 times, `--tail`, `-f`, then removed;
//   idle: RSS every second for --idle (60) s; the reading at the end is the after-idle value.
// Targets (RSS, MB = 10^6 bytes, as the issue's): fresh ≤ 60, after the idle minute < 80, ≤ 2.5
// per running container. Prints a Markdown section and appends it to BENCHMARKS.md.
//
// With --base, two berthds are measured instead of berthd and dockerd: one built from REV and
// one from --head (default HEAD), each from a git worktree of its commit running its sources
// with this checkout's node_modules (as bench/ab-latency.ts does), one after the other, so that
// a change can show it costs no memory (the before/after of a restructuring).
//
// One daemon after the other (never both at once): a berthd of its own (fresh data root under
// /var/tmp, exec root /run/bb-<hex>, `--bridge none`), then a private dockerd (own data root, exec
// root, socket, containerd namespace and cgroup parent, managed containerd, `--bridge none
// --iptables=false`). For each:
//   1. idle: after start-up and a few API calls (`docker version`, `info`, `ps -a`, `images`);
//   2. warm idle: busybox:latest imported (scripts/busybox-image.sh | docker import) and one
//      `docker run --rm --network none busybox true` done, so that what the first create/start
//      loads is not charged to the containers;
//   3. loaded: N (100) `docker run -d --network none busybox sleep 3600`, C (8) at a time;
//   4. after `docker rm -f` of the N: what the daemon keeps.
// Each reading is taken after S2 (5) s of settling, as the median of S (3) samples I (3) s apart,
// of the daemon's processes (berthd: its node process and any children; dockerd: dockerd + its
// containerd) and of the per-container helpers (berthd: conmon; dockerd: containerd-shim-runc-v2):
// RSS (VmRSS) and PSS (smaps_rollup; shared pages split among the processes that map them).
// Per container = (daemon's loaded − warm idle + helpers) / N. The targets (idle < 80 MB, ≤ 2.5
// MB per container) are read on RSS, as the issue's figures are.
// Networking is off for both (`--network none`), so that the comparison is about the runtime path.
// Prints a Markdown section and appends it to BENCHMARKS.md. Everything it made is taken away
// again, also on failure or Ctrl-C: containers, conmon, shims, daemons, containerd, cgroups,
// mounts, /var/tmp/berth-bench-* dirs.
import { type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { forEachBounded } from '../src/util/bounded.ts';
import { daemonTag } from '../src/engine/engine.ts';
import {
  DOCKER, log, fmt, runCmd, mustRun, sleep, withTimeout, api, quantile, conmonPidsOf, mountsUnder, startBerthd, onSignals,
  stopChild, benchPaths, machineInfo, outputOf, logComplaints, appendSection, killRuntimeLeftovers, unmountAndRemove, runBench,
  removeCgroupTree, processesOf, startPrivateDockerd, stopPrivateDockerd, type PrivateDockerd, procMemory, sumMemory,
  descendantsOf, importBusybox, type Result,
  leftovers, pickSubnets, startDockerRegistry, type LocalRegistry,
} from './lib.ts';
import { removeRules } from '../src/network/firewall.ts';

const repo = resolve(import.meta.dirname, '..');
const IDLE_TARGET_MB = 80;
const PER_CONTAINER_TARGET_MB = 2.5;

const { values } = parseArgs({ options: {
  containers: { type: 'string', default: '100' }, concurrency: { type: 'string', default: '8' },
  samples: { type: 'string', default: '3' }, interval: { type: 'string', default: '3' }, settle: { type: 'string', default: '5' },
  'no-dockerd': { type: 'boolean', default: false }, 'no-append': { type: 'boolean', default: false },
  base: { type: 'string' }, head: { type: 'string', default: 'HEAD' },
  workload: { type: 'boolean', default: false }, running: { type: 'string', default: '40' }, churn: { type: 'string', default: '200' },
  idle: { type: 'string', default: '60' },
} });
const posInt = (name: string, v: string | undefined, max: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    console.error(`--${name} wants an integer from 1 to ${max}, not ${v}`);
    process.exit(2);
  }
  return n;
};
const N = posInt('containers', values.containers, 500);
const CONCURRENCY = posInt('concurrency', values.concurrency, 32);
const SAMPLES = posInt('samples', values.samples, 20);
const INTERVAL_MS = posInt('interval', values.interval, 60) * 1000;
const SETTLE_MS = posInt('settle', values.settle, 120) * 1000;
const RUNNING = posInt('running', values.running, 400);
const CHURN = posInt('churn', values.churn, 2000);
const IDLE_S = posInt('idle', values.idle, 600);
const FRESH_TARGET_MB = 60;
const AFTER_IDLE_TARGET_MB = 80;

const paths = benchPaths(); // scratch: CLI config, logs, dockerd's data root
const { tag, execRoot, socket, pidfile, dataRoot, scratch, cliConfig, logFile, env } = paths;
const berthCgroup = `berth-${daemonTag(execRoot)}`;
const dockerdExecRoot = `/run/bbd-${tag}`; // short: containerd's sockets live under it
const dockerdCgroup = `berthbench-${tag}`;
const namePrefix = `bm${tag}-`;

let daemon: ChildProcess | undefined;
let dockerd: PrivateDockerd | undefined;
let cleaning: Promise<void> | undefined;

/** Removes this run's containers while their daemon still answers (berthd keeps them running across its stop: live restore). */
async function removeContainers(e: NodeJS.ProcessEnv, sock: string): Promise<void> {
  const r = await api(sock, 'GET', `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ name: [namePrefix] }))}`, undefined, undefined, 10_000);
  if (r.status !== 200) return;
  const ids = (JSON.parse(r.body.toString()) as { Id: string }[]).map((c) => c.Id);
  for (let i = 0; i < ids.length; i += 50) await runCmd(DOCKER, ['rm', '-f', ...ids.slice(i, i + 50)], { env: e, timeoutMs: 120_000 });
}

/** The runc roots containerd's shims use under the private dockerd's exec root (runtime-runc/<namespace>). */
function dockerdRuncRoots(): string[] {
  const base = join(dockerdExecRoot, 'runtime-runc');
  try { return readdirSync(base).map((ns) => join(base, ns)); } catch { return []; }
}

let berthCleaned: Promise<void> | undefined;
/** --workload: berthd's own bridge (so that -p works without touching berth0) and the local registry. */
const bridge = `bb${tag}`;
let registry: LocalRegistry | undefined;
/** --base: the worktrees made for the two commits (removed by cleanup). */
const worktrees: string[] = [];

/** berthd's part: its containers, the daemon, what runc and conmon left, its cgroup tree and roots (not the shared scratch). */
async function cleanupBerth(): Promise<void> {
  berthCleaned ??= (async () => {
    if (daemon && daemon.exitCode === null && daemon.signalCode === null) await withTimeout(removeContainers(env, socket), 150_000, 'removing berthd containers').catch((e) => log(String(e)));
    await stopChild(daemon, 'berthd', log).catch((e) => log(`stopping berthd: ${e}`));
    await killRuntimeLeftovers(execRoot);
    removeCgroupTree(berthCgroup);
    if (values.workload) {
      await registry?.stop().catch((e) => log(`stopping docker-registry: ${e}`));
      await withTimeout(removeRules(bridge), 30_000, 'removing iptables rules').catch((e) => log(`iptables rules of ${bridge}: ${e}`));
      await runCmd('ip', ['link', 'del', bridge]);
    }
    await unmountAndRemove([dataRoot, execRoot], 120_000);
  })();
  return berthCleaned;
}

async function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await cleanupBerth();
    if (dockerd && dockerd.child.exitCode === null && dockerd.child.signalCode === null) await withTimeout(removeContainers(dockerd.env, dockerd.socket), 150_000, 'removing dockerd containers').catch((e) => log(String(e)));
    const runcRoots = dockerdRuncRoots();
    await stopPrivateDockerd(dockerd).catch((e) => log(`stopping dockerd: ${e}`));
    if (dockerd) await killRuntimeLeftovers(dockerdExecRoot, runcRoots);
    removeCgroupTree(dockerdCgroup);
    await unmountAndRemove([dataRoot, execRoot, dockerdExecRoot, scratch], 120_000);
    for (const wt of worktrees.splice(0)) await runCmd('git', ['-C', repo, 'worktree', 'remove', '--force', wt]);
  })();
  return cleaning;
}

const signals = onSignals(cleanup, 400_000, log);
const check = signals.check;

async function cli(e: NodeJS.ProcessEnv, args: string[], timeoutMs = 120_000): Promise<Result> {
  return mustRun(DOCKER, args, { env: e, timeoutMs });
}

// ---------- readings ----------

/** What the daemon and the per-container helpers hold, in KiB (medians of the samples). */
interface Reading { daemonRss: number; daemonPss: number; daemonAnon: number; daemonProcs: number; helpersRss: number; helpersPss: number; helpers: number; parts: Record<string, number>; samples: number[] }

interface Subject {
  name: string;
  env: NodeJS.ProcessEnv;
  socket: string;
  /** The daemon's processes, by name (berthd: node and any children; dockerd: dockerd, containerd). */
  daemonPids: () => Record<string, number[]>;
  helperPids: () => number[];
  helperName: string;
}

async function reading(s: Subject, what: string): Promise<Reading> {
  await sleep(SETTLE_MS);
  const rs: Reading[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    check();
    if (i) await sleep(INTERVAL_MS);
    const groups = s.daemonPids();
    const parts: Record<string, number> = {};
    let rss = 0, pss = 0, anon = 0, procs = 0;
    for (const [name, pids] of Object.entries(groups)) {
      const m = sumMemory(pids);
      parts[name] = m.rss;
      rss += m.rss; pss += m.pss; anon += m.anon; procs += m.count;
    }
    const h = sumMemory(s.helperPids());
    rs.push({ daemonRss: rss, daemonPss: pss, daemonAnon: anon, daemonProcs: procs, helpersRss: h.rss, helpersPss: h.pss, helpers: h.count, parts, samples: [] });
  }
  const med = (f: (r: Reading) => number): number => quantile(rs.map(f), 0.5);
  const r: Reading = {
    daemonRss: med((x) => x.daemonRss), daemonPss: med((x) => x.daemonPss), daemonAnon: med((x) => x.daemonAnon), daemonProcs: med((x) => x.daemonProcs),
    helpersRss: med((x) => x.helpersRss), helpersPss: med((x) => x.helpersPss), helpers: med((x) => x.helpers),
    parts: Object.fromEntries(Object.keys(rs[0]!.parts).map((k) => [k, med((x) => x.parts[k] ?? 0)])),
    samples: rs.map((x) => x.daemonRss),
  };
  log(`${s.name} ${what}: daemon RSS ${mib(r.daemonRss)} MiB (${rs.map((x) => mib(x.daemonRss)).join(' / ')}), PSS ${mib(r.daemonPss)}; ${r.helpers} ${s.helperName} RSS ${mib(r.helpersRss)} MiB, PSS ${mib(r.helpersPss)}`);
  return r;
}

const mib = (kib: number, digits = 1): string => fmt(kib / 1024, digits);

interface Run { idle: Reading; warm: Reading; loaded: Reading; removed: Reading; startS: number; removeS: number; running: number; helperRss: number[]; version: string }

async function measure(s: Subject): Promise<Run> {
  const version = (await cli(s.env, ['version', '--format', '{{.Server.Version}}'])).stdout.toString().trim();
  await cli(s.env, ['info']);
  await cli(s.env, ['ps', '-a']);
  await cli(s.env, ['images']);
  const idle = await reading(s, 'idle');

  await importBusybox(repo, s.env);
  await cli(s.env, ['run', '--rm', '--network', 'none', 'busybox', 'true']);
  const warm = await reading(s, 'warm idle');

  check();
  const names = Array.from({ length: N }, (_, i) => `${namePrefix}${i}`);
  const t0 = performance.now();
  let started = 0;
  await forEachBounded(names, CONCURRENCY, async (name) => {
    check();
    await cli(s.env, ['run', '-d', '--network', 'none', '--name', name, 'busybox', 'sleep', '3600']);
    if (++started % 25 === 0) log(`${s.name}: ${started}/${N} started`);
  });
  const startS = (performance.now() - t0) / 1000;
  const listed = await api(s.socket, 'GET', `/containers/json?filters=${encodeURIComponent(JSON.stringify({ name: [namePrefix], status: ['running'] }))}`);
  const running = (JSON.parse(listed.body.toString()) as unknown[]).length;
  if (running !== N) throw new Error(`${s.name}: ${running} of ${N} containers running`);
  const loaded = await reading(s, `with ${N} running`);
  if (loaded.helpers !== N) throw new Error(`${s.name}: ${loaded.helpers} ${s.helperName} processes for ${N} containers`);
  const helperRss = s.helperPids().map((p) => procMemory(p)?.rss ?? NaN).filter(Number.isFinite);

  check();
  const t1 = performance.now();
  for (let i = 0; i < names.length; i += 50) await cli(s.env, ['rm', '-f', ...names.slice(i, i + 50)], 300_000);
  const removeS = (performance.now() - t1) / 1000;
  const removed = await reading(s, 'after removing them');
  return { idle, warm, loaded, removed, startS, removeS, running, helperRss, version };
}

/** Starts a berthd from `dir`, measures it, and takes it and everything it made away again. */
async function measureBerthd(dir: string, name: string): Promise<Run> {
  berthCleaned = undefined;
  daemon = await startBerthd({ repo: dir, dataRoot, execRoot, socket, pidfile, logFile, args: ['--bridge', 'none'] });
  const berthPid = daemon.pid!;
  const r = await measure({
    name, env, socket, helperName: 'conmon',
    daemonPids: () => ({ berthd: [berthPid], children: descendantsOf(berthPid) }),
    helperPids: () => conmonPidsOf(execRoot),
  });
  logComplaints(logFile);
  await cleanupBerth(); // berthd, its leftovers, its roots: the next daemon runs alone
  return r;
}

/** --base: the same workload on a berthd of each commit, one after the other; a section of its own. */
async function compareCommits(baseRev: string, headRev: string, m: { date: string; info: Awaited<ReturnType<typeof machineInfo>>; memTotal: number; conmonVersion: string; runcVersion: string; tStart: number }): Promise<void> {
  const runs: Array<{ rev: string; run: Run }> = [];
  for (const [side, rev] of [['base', baseRev], ['head', headRev]] as const) {
    const wt = `/var/tmp/berth-mem-${side}-${tag}`;
    await mustRun('git', ['-C', repo, 'worktree', 'add', '--detach', wt, rev]);
    worktrees.push(wt);
    symlinkSync(join(repo, 'node_modules'), join(wt, 'node_modules'));
    const short = (await runCmd('git', ['-C', wt, 'rev-parse', '--short', 'HEAD'])).stdout.toString().trim();
    runs.push({ rev: short, run: await measureBerthd(wt, `berthd@${short}`) });
    check();
  }
  const [b, h] = runs as [{ rev: string; run: Run }, { rev: string; run: Run }];
  const perContainer = (r: Run): number => ((r.loaded.daemonRss - r.warm.daemonRss) + r.loaded.helpersRss) / N;
  const row = (label: string, f: (r: Run) => number, digits = 1): string => `| ${label} | ${mib(f(b.run), digits)} | ${mib(f(h.run), digits)} | ${(f(h.run) / f(b.run)).toFixed(2)} |`;
  const lines = [
    `## Memory before/after: ${m.date}`, '',
    `Machine: ${m.info.nproc} CPUs (${m.info.cpu}), ${fmt(m.memTotal / 1024 / 1024, 1)} GiB RAM, kernel ${m.info.kernel}, Node ${m.info.node}, ${m.runcVersion}, ${m.conmonVersion}. The machine is shared with other work (noisy).`,
    `\`bench/memory.ts --base ${baseRev} --head ${headRev}\`: a berthd of each commit (its sources from a worktree, \`--bridge none\`), one after the other, the same workload as the memory section: ${N} \`docker run -d --network none busybox sleep 3600\` (${CONCURRENCY} at a time). Readings as there (median of ${SAMPLES} samples, ${SETTLE_MS / 1000} s settling).`, '',
    `| MiB | ${b.rev} (before) | ${h.rev} (after) | after / before |`, '|---|---:|---:|---:|',
    row('idle RSS', (r) => r.idle.daemonRss),
    row('warm idle RSS', (r) => r.warm.daemonRss),
    row(`daemon RSS with ${N} running`, (r) => r.loaded.daemonRss),
    row('**per container, RSS** (daemon added + conmon) / N', perContainer, 2),
    row(`daemon RSS after \`docker rm -f\` of the ${N}`, (r) => r.removed.daemonRss),
    '',
    `- Starting the ${N}: ${fmt(b.run.startS, 1)} s before, ${fmt(h.run.startS, 1)} s after; \`docker rm -f\` of them ${fmt(b.run.removeS, 1)} s and ${fmt(h.run.removeS, 1)} s. Whole run ${fmt((performance.now() - m.tStart) / 1000)} s.`,
    '',
  ];
  const section = lines.join('\n');
  process.stdout.write(`\n${section}\n`);
  if (!values['no-append']) appendSection(repo, section);
}

// ---------- --workload: issue 18's memory test ----------

/** berthd's own node process, RSS in KiB, sampled every 0.5 s from start to end (the peak). */
class Sampler {
  peak = 0;
  private timer?: NodeJS.Timeout;
  private readonly pid: number;
  constructor(pid: number) { this.pid = pid; }
  now(): number {
    const rss = procMemory(this.pid)?.rss ?? NaN;
    if (rss > this.peak) this.peak = rss;
    return rss;
  }
  start(): void { this.timer = setInterval(() => this.now(), 500); this.timer.unref(); }
  stop(): void { clearInterval(this.timer); }
}

/** Least-squares slope and intercept of y over x. */
function fitLine(xs: number[], ys: number[]): { slope: number; intercept: number } {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0, den = 0;
  for (let i = 0; i < n; i++) { num += (xs[i]! - mx) * (ys[i]! - my); den += (xs[i]! - mx) ** 2; }
  const slope = num / den;
  return { slope, intercept: my - slope * mx };
}

async function medianOf(n: number, gapMs: number, f: () => number): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i) await sleep(gapMs);
    xs.push(f());
  }
  return quantile(xs, 0.5);
}

async function workload(m: { date: string; info: Awaited<ReturnType<typeof machineInfo>>; memTotal: number; conmonVersion: string; runcVersion: string; tStart: number }): Promise<void> {
  const subnets = pickSubnets();
  berthCleaned = undefined;
  daemon = await startBerthd({ repo, dataRoot, execRoot, socket, pidfile, logFile, args: ['--bridge', bridge, '--bip', subnets.bip, '--default-address-pool', subnets.pool] });
  const pid = daemon.pid!;
  const s = new Sampler(pid);
  s.start();
  const version = (await cli(env, ['version', '--format', '{{.Server.Version}}'])).stdout.toString().trim();
  await cli(env, ['info']);
  await cli(env, ['ps', '-a']);
  await cli(env, ['images']);
  await sleep(3_000);
  const fresh = await medianOf(5, 1_000, () => s.now());
  log(`fresh: ${mib(fresh)} MiB`);
  check();

  await importBusybox(repo, env);
  await cli(env, ['run', '--rm', 'busybox', 'true']);
  await cli(env, ['run', '--rm', '-p', '127.0.0.1::80', 'busybox', 'true']);

  // Per running container: daemon + children (the port proxy) + conmon, at 0, N/4, …, N running.
  const all = (): number => sumMemory([...new Set([pid, ...descendantsOf(pid), ...conmonPidsOf(execRoot)])]).rss;
  const steps = 4;
  const xs: number[] = [];
  const ys: number[] = [];
  const daemonYs: number[] = [];
  const runningNames: string[] = [];
  for (let step = 0; step <= steps; step++) {
    const want = Math.round((RUNNING * step) / steps);
    const add = Array.from({ length: want - runningNames.length }, (_, i) => `${namePrefix}r${runningNames.length + i}`);
    await forEachBounded(add, CONCURRENCY, async (name) => {
      check();
      const i = Number(name.slice(namePrefix.length + 1));
      await cli(env, ['run', '-d', '--name', name, ...(i % 2 ? ['-p', '127.0.0.1::80'] : []), 'busybox', 'sleep', '3600']);
    });
    runningNames.push(...add);
    await sleep(3_000);
    xs.push(want);
    ys.push(await medianOf(3, 1_000, all));
    daemonYs.push(await medianOf(1, 0, () => s.now()));
    log(`${want} running: daemon + children + conmon ${mib(ys.at(-1)!)} MiB (daemon ${mib(daemonYs.at(-1)!)})`);
  }
  const perContainer = fitLine(xs, ys).slope;
  const perContainerDaemon = fitLine(xs, daemonYs).slope;
  const withRunning = s.now();
  for (let i = 0; i < runningNames.length; i += 50) await cli(env, ['rm', '-f', ...runningNames.slice(i, i + 50)], 300_000);
  check();

  // Churn: CHURN containers created, started and removed.
  const t0 = performance.now();
  let done = 0;
  await forEachBounded(Array.from({ length: CHURN }, (_, i) => i), CONCURRENCY, async (i) => {
    check();
    const name = `${namePrefix}c${i}`;
    await cli(env, ['run', '-d', '--name', name, ...(i % 4 === 0 ? ['-p', '127.0.0.1::80'] : []), 'busybox', 'true']);
    await cli(env, ['rm', '-f', name]);
    if (++done % 50 === 0) log(`churn: ${done}/${CHURN}`);
  });
  const churnS = (performance.now() - t0) / 1000;
  const afterChurn = s.now();
  check();

  // Pulls from a local registry, then a save/load.
  registry = await startDockerRegistry(join(scratch, 'registry'));
  const ref = `${registry.host}/bm/busybox:1`;
  await cli(env, ['tag', 'busybox', ref]);
  await cli(env, ['push', ref]);
  for (let i = 0; i < 2; i++) {
    await cli(env, ['rmi', ref]);
    await cli(env, ['pull', ref]);
  }
  const saved = join(scratch, 'busybox.tar');
  await cli(env, ['save', '-o', saved, ref]);
  await cli(env, ['rmi', ref]);
  await cli(env, ['load', '-i', saved]);
  await cli(env, ['rmi', ref]);
  await registry.stop();
  registry = undefined;
  check();

  // A small build, twice (the second from the cache).
  const ctx = join(scratch, 'build');
  mkdirSync(ctx, { recursive: true });
  writeFileSync(join(ctx, 'blob'), randomBytes(1 << 20));
  writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY blob /blob\nRUN wc -c /blob > /size && echo built\n');
  const buildEnv = { ...env, DOCKER_BUILDKIT: '0' };
  for (let i = 0; i < 2; i++) await mustRun(DOCKER, ['build', '-q', '-t', `${namePrefix}build`, ctx], { env: buildEnv, timeoutMs: 300_000 });
  await cli(env, ['rmi', `${namePrefix}build`]);
  check();

  // Logs of ~4 MB: written, then read whole three times, by tail, and followed to the end.
  const logsName = `${namePrefix}logs`;
  await cli(env, ['run', '-d', '--name', logsName, 'busybox', 'sh', '-c',
    'i=0; while [ $i -lt 40000 ]; do echo "line $i of the memory benchmark, padded to about one hundred bytes ........................"; i=$((i+1)); done']);
  await cli(env, ['wait', logsName], 300_000);
  let logBytes = 0;
  for (let i = 0; i < 3; i++) logBytes = (await cli(env, ['logs', logsName])).stdout.length;
  await cli(env, ['logs', '--tail', '1000', logsName]);
  await cli(env, ['logs', '-f', logsName]);
  await cli(env, ['rm', '-f', logsName]);
  const afterWork = s.now();
  log(`workload done: ${mib(afterWork)} MiB, peak ${mib(s.peak)} MiB; idle for ${IDLE_S} s`);
  check();

  // Idle: one sample a second.
  const idle: number[] = [];
  for (let i = 0; i < IDLE_S; i++) {
    check();
    await sleep(1_000);
    idle.push(s.now());
  }
  s.stop();
  const afterIdle = idle.at(-1)!;
  logComplaints(logFile);

  const mb = (kib: number): number => (kib * 1024) / 1e6;
  const verdict = (ok: boolean): string => (ok ? '**met**' : '**not met**');
  const lines = [
    `## Memory under the benchmark workload: ${m.date}`, '',
    `Machine: ${m.info.nproc} CPUs (${m.info.cpu}), ${fmt(m.memTotal / 1024 / 1024, 1)} GiB RAM, kernel ${m.info.kernel}, Node ${m.info.node}, ${m.runcVersion}, ${m.conmonVersion}, Docker CLI ${m.info.docker}. The machine is shared with other work (noisy).`,
    `Berth ${version} at ${m.info.commit}, a bridge of its own. \`bench/memory.ts --workload\`: fresh (after \`docker version/info/ps/images\`); ${RUNNING} running \`sleep\` containers in ${steps} steps (every other one with \`-p 127.0.0.1::80\`), the slope of berthd + its children + conmon over the count; ${CHURN} containers created, started and removed (one in four with -p, ${CONCURRENCY} at a time, ${fmt(churnS, 1)} s); busybox pushed to a local docker-registry and pulled twice, saved and loaded; a classic build of 1 MB twice; ${fmt(logBytes / 1e6, 1)} MB of logs read 3 times, by --tail and -f; then ${IDLE_S} s idle, sampled every second. RSS of berthd's node process (VmRSS), sampled every 0.5 s for the peak. MB = 10^6 bytes, MiB = 2^20.`, '',
    '| berthd RSS | MiB | MB | target |', '|---|---:|---:|---|',
    `| fresh | ${mib(fresh)} | ${fmt(mb(fresh), 1)} | ≤ ${FRESH_TARGET_MB} MB: ${verdict(mb(fresh) <= FRESH_TARGET_MB)} |`,
    `| with ${RUNNING} running | ${mib(withRunning)} | ${fmt(mb(withRunning), 1)} | |`,
    `| after the ${CHURN} created/started/removed | ${mib(afterChurn)} | ${fmt(mb(afterChurn), 1)} | |`,
    `| after pulls, load, build, logs | ${mib(afterWork)} | ${fmt(mb(afterWork), 1)} | |`,
    `| peak | ${mib(s.peak)} | ${fmt(mb(s.peak), 1)} | |`,
    `| after ${IDLE_S} s idle | ${mib(afterIdle)} | ${fmt(mb(afterIdle), 1)} | < ${AFTER_IDLE_TARGET_MB} MB: ${verdict(mb(afterIdle) < AFTER_IDLE_TARGET_MB)} |`,
    `| **per running container** (slope: berthd + children + conmon) | ${mib(perContainer, 2)} | ${fmt(mb(perContainer), 2)} | ≤ ${PER_CONTAINER_TARGET_MB} MB: ${verdict(mb(perContainer) <= PER_CONTAINER_TARGET_MB)} |`,
    `| per running container, berthd's own part | ${mib(perContainerDaemon, 2)} | ${fmt(mb(perContainerDaemon), 2)} | |`,
    '',
    `- Readings at ${xs.join(', ')} running (MiB, berthd + children + conmon): ${ys.map((y) => mib(y)).join(', ')}.`,
    `- Idle samples (MiB), one a second: ${idle.map((x) => mib(x)).join(' ')}.`,
    `- Whole run ${fmt((performance.now() - m.tStart) / 1000)} s.`,
    '',
  ];
  const section = lines.join('\n');
  process.stdout.write(`\n${section}\n`);
  if (!values['no-append']) appendSection(repo, section);
  await cleanupBerth();
}

async function dockerdAvailable(): Promise<string | undefined> {
  const v = await runCmd('dockerd', ['--version'], { timeoutMs: 10_000 });
  return v.code === 0 ? v.stdout.toString().trim() : undefined;
}

// ---------- the run ----------

async function main(): Promise<void> {
  const tStart = performance.now();
  const date = (await mustRun('date', ['-u'])).stdout.toString().trim();
  const info = await machineInfo(repo, ' (with uncommitted changes under src/ or bin/)');
  const memTotal = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? NaN);
  const conmonVersion = (await outputOf('conmon', ['--version'])).split('\n')[0] ?? '';
  const runcVersion = (await outputOf('runc', ['--version'])).split('\n')[0] ?? '';
  log(`berthd: data root ${dataRoot}, exec root ${execRoot}; scratch ${scratch}`);

  if (values.workload) return workload({ date, info, memTotal, conmonVersion, runcVersion, tStart });
  if (values.base) return compareCommits(values.base, values.head, { date, info, memTotal, conmonVersion, runcVersion, tStart });
  const berth = await measureBerthd(repo, 'berthd');
  check();

  const dockerdVersion = values['no-dockerd'] ? undefined : await dockerdAvailable();
  let docker: Run | undefined;
  let containerdVersion = '';
  if (dockerdVersion) {
    dockerd = await startPrivateDockerd({ dataRoot: join(scratch, 'docker'), execRoot: dockerdExecRoot, scratch, cliConfig, args: ['--cgroup-parent', `/${dockerdCgroup}`] });
    containerdVersion = (await outputOf('containerd', ['--version'])).replace(/^containerd\s+\S+\s+/, '');
    const dockerdPid = dockerd.child.pid!;
    docker = await measure({
      name: 'dockerd', env: dockerd.env, socket: dockerd.socket, helperName: 'containerd-shim-runc-v2',
      daemonPids: () => ({ dockerd: [dockerdPid], containerd: processesOf('containerd', dockerdExecRoot) }),
      helperPids: () => [...new Set([...processesOf('containerd-shim', dockerdExecRoot), ...processesOf('containerd-shim-runc-v2', dockerdExecRoot)])],
    });
  }

  // ---------- the section ----------
  const perContainer = (r: Run, k: 'Rss' | 'Pss'): number => ((r.loaded[`daemon${k}`] - r.warm[`daemon${k}`]) + r.loaded[`helpers${k}`]) / N;
  const row = (label: string, f: (r: Run) => number, digits = 1, ratio = true): string => {
    const b = f(berth);
    const d = docker ? f(docker) : NaN;
    return `| ${label} | ${mib(b, digits)} | ${docker ? mib(d, digits) : '—'} | ${ratio && docker ? (b / d).toFixed(2) : ''} |`;
  };
  const lines: string[] = [];
  lines.push(`## Memory: ${date}`, '');
  lines.push(`Machine: ${info.nproc} CPUs (${info.cpu}), ${fmt(memTotal / 1024 / 1024, 1)} GiB RAM, kernel ${info.kernel}, Node ${info.node}, ${runcVersion}, ${conmonVersion}, Docker CLI ${info.docker}. The machine is shared with other work (noisy).`);
  lines.push(`Berth ${berth.version} at ${info.commit}, \`--bridge none\`; dockerd: ${docker ? `${docker.version} (\`${dockerdVersion}\`) with its managed containerd ${containerdVersion}, private (own data and exec root, socket, containerd namespace, cgroup parent), \`--bridge none --iptables=false\`` : 'not measured (no dockerd installed: Debian package docker.io)'}.`);
  lines.push(`\`bench/memory.ts\`: one daemon after the other; ${N} \`docker run -d --network none busybox sleep 3600\` (${CONCURRENCY} at a time) once per daemon; networking off in both, so the comparison is about the runtime path. Each reading: ${SETTLE_MS / 1000} s of settling, then the median of ${SAMPLES} samples ${INTERVAL_MS / 1000} s apart. Daemon = berthd's node process (and children: ${berth.loaded.daemonProcs - 1} seen) / dockerd + its containerd; helpers = one conmon / one containerd-shim-runc-v2 per container. RSS = VmRSS, PSS = Pss of /proc/<pid>/smaps_rollup (shared pages split among the processes mapping them, so it also depends on what else runs). MiB = 2^20 bytes. Idle = after start-up and \`docker version/info/ps/images\`; warm idle = busybox imported and one \`docker run --rm\` done.`, '');
  lines.push(`| MiB | berthd | dockerd + containerd | berthd / dockerd |`, '|---|---:|---:|---:|');
  lines.push(row('idle RSS', (r) => r.idle.daemonRss));
  lines.push(row('idle PSS', (r) => r.idle.daemonPss));
  lines.push(row('warm idle RSS', (r) => r.warm.daemonRss));
  lines.push(row('warm idle PSS', (r) => r.warm.daemonPss));
  lines.push(row(`daemon RSS with ${N} running`, (r) => r.loaded.daemonRss));
  lines.push(row(`daemon RSS added by ${N} (− warm idle)`, (r) => r.loaded.daemonRss - r.warm.daemonRss));
  lines.push(row(`helpers' RSS, sum of ${N} (conmon / shim)`, (r) => r.loaded.helpersRss));
  lines.push(row(`helpers' PSS, sum of ${N}`, (r) => r.loaded.helpersPss));
  lines.push(row('one helper RSS (median)', (r) => quantile(r.helperRss, 0.5), 2));
  lines.push(row('**per container, RSS** (daemon added + helpers) / N', (r) => perContainer(r, 'Rss'), 2));
  lines.push(row('per container, PSS', (r) => perContainer(r, 'Pss'), 2));
  lines.push(row(`daemon RSS after \`docker rm -f\` of the ${N}`, (r) => r.removed.daemonRss));
  lines.push('');
  const idleMax = Math.max(berth.idle.daemonRss, berth.warm.daemonRss) / 1024;
  const perB = perContainer(berth, 'Rss') / 1024;
  const verdict = (ok: boolean): string => (ok ? 'met' : 'not met');
  lines.push(`- Targets (RSS): berthd idle < ${IDLE_TARGET_MB} MB: ${mib(berth.idle.daemonRss)} MiB fresh, ${mib(berth.warm.daemonRss)} MiB warm — ${verdict(idleMax * 1.048576 < IDLE_TARGET_MB)} (${fmt(idleMax / IDLE_TARGET_MB * 100)}% of it, read as MiB; ${fmt(idleMax * 1.048576)} MB of 10^6 bytes). Per running container ≤ ${PER_CONTAINER_TARGET_MB} MB: ${fmt(perB, 2)} MiB — ${verdict(perB * 1.048576 <= PER_CONTAINER_TARGET_MB)} (daemon ${fmt((berth.loaded.daemonRss - berth.warm.daemonRss) / 1024 / N, 2)} + conmon ${fmt(berth.loaded.helpersRss / 1024 / N, 2)} MiB).`);
  if (docker) {
    lines.push(`- vs dockerd: idle RSS ${(berth.idle.daemonRss / docker.idle.daemonRss).toFixed(2)}× (dockerd ${mib(docker.idle.parts.dockerd ?? NaN)} + containerd ${mib(docker.idle.parts.containerd ?? NaN)} MiB); per container ${(perContainer(berth, 'Rss') / perContainer(docker, 'Rss')).toFixed(2)}× (dockerd's: daemons ${fmt((docker.loaded.daemonRss - docker.warm.daemonRss) / 1024 / N, 2)} + shim ${fmt(docker.loaded.helpersRss / 1024 / N, 2)} MiB; with ${N} running dockerd ${mib(docker.loaded.parts.dockerd ?? NaN)} + containerd ${mib(docker.loaded.parts.containerd ?? NaN)} MiB).`);
  }
  lines.push(`- Helpers' RSS counts their shared libraries in every process; PSS splits them: conmon ${fmt(berth.loaded.helpersPss / 1024 / N, 2)} MiB PSS each${docker ? `, the shim ${fmt(docker.loaded.helpersPss / 1024 / N, 2)} MiB` : ''}. Not counted for either: the kernel's side (cgroups, namespaces, overlay mounts, page tables of the containers) and the containers' own processes.`);
  lines.push(`- Samples of the daemon's RSS (MiB), idle / warm / loaded / after removal: berthd ${[berth.idle, berth.warm, berth.loaded, berth.removed].map((r) => r.samples.map((x) => mib(x)).join(', ')).join(' / ')}${docker ? `; dockerd + containerd ${[docker.idle, docker.warm, docker.loaded, docker.removed].map((r) => r.samples.map((x) => mib(x)).join(', ')).join(' / ')}` : ''}.`);
  lines.push(`- Starting the ${N} took ${fmt(berth.startS, 1)} s on berthd${docker ? `, ${fmt(docker.startS, 1)} s on dockerd` : ''}; \`docker rm -f\` of them ${fmt(berth.removeS, 1)} s${docker ? ` and ${fmt(docker.removeS, 1)} s` : ''}. Whole run ${fmt((performance.now() - tStart) / 1000)} s.`);
  lines.push('');
  const section = lines.join('\n');
  process.stdout.write(`\n${section}\n`);
  if (!values['no-append']) appendSection(repo, section);
}

/** After cleanup: nothing of ours may be left (processes, mounts, cgroups, links, dirs). */
async function after(): Promise<boolean> {
  const left = leftovers({
    processes: [['conmon', execRoot], ['node', execRoot], ['dockerd', dockerdExecRoot], ['containerd', dockerdExecRoot], ['containerd-shim', dockerdExecRoot]],
    roots: [dataRoot, execRoot, dockerdExecRoot, scratch], cgroups: [berthCgroup, dockerdCgroup],
  });
  const links = (await outputOf('ip', ['-o', 'link'])).split('\n').filter((l) => l.includes(tag) || /\bdocker0\b/.test(l));
  const rules = values.workload ? (await outputOf('iptables-save', [])).split('\n').filter((l) => l.includes(bridge)) : [];
  if (rules.length) left.push(`iptables rules of ${bridge}: ${rules.length}`);
  if (links.length) left.push(`links ${links.join('; ')}`);
  if (left.length) log(`left behind: ${left.join('; ')}`);
  else log('cleanup check: no processes, mounts, cgroups, links or dirs of this run left');
  return left.length === 0;
}

await runBench(main, { signals, cleanup, cleanupTimeoutMs: 400_000, logFile, after });
