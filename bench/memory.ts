// Memory: what berthd holds idle and what every running container adds (berthd + its conmon),
// side by side with Debian's dockerd + containerd + shims when docker.io is installed.
//
//   node_modules/.bin/node bench/memory.ts [--containers N] [--concurrency C] [--samples S] [--interval SEC] [--settle SEC] [--no-dockerd] [--no-append]
//   node_modules/.bin/node bench/memory.ts --base REV [--head REV] [...]
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
import { existsSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
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
  leftovers,
} from './lib.ts';

const repo = resolve(import.meta.dirname, '..');
const IDLE_TARGET_MB = 80;
const PER_CONTAINER_TARGET_MB = 2.5;

const { values } = parseArgs({ options: {
  containers: { type: 'string', default: '100' }, concurrency: { type: 'string', default: '8' },
  samples: { type: 'string', default: '3' }, interval: { type: 'string', default: '3' }, settle: { type: 'string', default: '5' },
  'no-dockerd': { type: 'boolean', default: false }, 'no-append': { type: 'boolean', default: false },
  base: { type: 'string' }, head: { type: 'string', default: 'HEAD' },
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
/** --base: the worktrees made for the two commits (removed by cleanup). */
const worktrees: string[] = [];

/** berthd's part: its containers, the daemon, what runc and conmon left, its cgroup tree and roots (not the shared scratch). */
async function cleanupBerth(): Promise<void> {
  berthCleaned ??= (async () => {
    if (daemon && daemon.exitCode === null && daemon.signalCode === null) await withTimeout(removeContainers(env, socket), 150_000, 'removing berthd containers').catch((e) => log(String(e)));
    await stopChild(daemon, 'berthd', log).catch((e) => log(`stopping berthd: ${e}`));
    await killRuntimeLeftovers(execRoot);
    removeCgroupTree(berthCgroup);
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
  if (links.length) left.push(`links ${links.join('; ')}`);
  if (left.length) log(`left behind: ${left.join('; ')}`);
  else log('cleanup check: no processes, mounts, cgroups, links or dirs of this run left');
  return left.length === 0;
}

await runBench(main, { signals, cleanup, cleanupTimeoutMs: 400_000, logFile, after });
