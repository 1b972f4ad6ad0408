// Footprint: every row of issue 18's table — dockerd, Berth and the floor under both, from ONE
// run, interleaved — with each target met or the gap stated.
//
//   node_modules/.bin/node bench/footprint.ts [--runs N] [--containers N] [--no-append] [--no-dockerd]
//
// Starts side by side a berthd of its own (fresh data root under /var/tmp, exec root
// /run/bb-<hex>, its own bridge bb<hex> and subnets) and a private dockerd 20.10 (Debian's
// docker.io: own data root, exec root /run/bbd-<hex>, socket, containerd namespace and cgroup
// parent, on a bridge bd<hex> this script makes, iptables off so `-p` goes through docker-proxy),
// loads the same busybox rootfs tar (scripts/busybox-image.sh) into both, and makes a runc bundle
// of it for the floors (runc state under /run/bbf-<hex>). Then, each group interleaved round-robin
// over N rounds (--runs, default 5) after warm-ups, so that the machine's noise falls on all alike:
//   1. `docker run --rm busybox true` through the CLI; the API create → start → wait → delete
//      sequence (keep-alive, per step); floor: `runc run` of the bundle (`true`).
//   2. `docker exec CTR true` through the CLI; the API exec create + start (attached) + inspect;
//      floor: `runc exec CTR true` into a runc container of the bundle running `sleep`.
//   3. `run --rm` throughput: 16 `docker run --rm busybox true`, 8 at once (ctr/s); floor: 16
//      `runc run`, 8 at once.
//   4. `docker logs` of a container that printed 50 MB (500,000 lines of 100 bytes, made once on
//      the host with busybox awk, bind-mounted read-only and `cat` by the container; log opts
//      max-size=100m max-file=2 on both, so all of it is retained in one file); floor: `cat` of
//      the same file (file read). `docker logs -f` of a container that sleeps 1 s (the follower is
//      attached by then) and cats the same 50 MB: 50 MB / (follower's first byte → its exit);
//      floor: `cat FILE | cat` into the same counter (a pipe). Every run checks that exactly
//      50,000,000 bytes arrived.
// then the memory rows (RSS = VmRSS; MB = 10^6 bytes):
//   5. fresh: the daemon right after start-up and `docker version`, before any other work
//      (berthd: its node process; dockerd: dockerd + its containerd).
//   6. per running container: --containers (20) `docker run -d busybox sleep 3600`, without and
//      with `-p 80`; (all processes the daemon added, summed, with N running − before) / N. The
//      daemon's processes: the daemon, its descendants and whatever mentions its exec root
//      (conmon and berth-proxy; containerd, its shims and docker-proxy), in this PID namespace,
//      so that the containers' own processes never count. Each reading: 2 s settling, median of 3
//      samples 1 s apart.
//   7. after the workload: each daemon made and removed 200 containers in all (the rows above,
//      topped up with `run --rm`, 8 at once), ran one `docker build` and a push + pull through a
//      local CNCF registry, and served the logs above; then both sit idle and are sampled every
//      second for 60 s (dockerd's workload runs first, berthd's last, so berthd's minute is exact).
//      ≤ 10 min in all on a quiet 2-CPU machine with the defaults; a loaded one takes longer.
// and last:
//   8. CLI start-up: `bin/berth --version` vs `node -e 0` (the pinned Node) vs `docker --version`.
// Prints a Markdown section (machine, commit, date; one table: dockerd / Berth / floor / target /
// met or gap) and appends it to BENCHMARKS.md unless --no-append. Everything it made is taken
// away again, also on failure or Ctrl-C: containers (before berthd stops: live restore keeps them
// otherwise), both daemons, containerd, shims, proxies, the runc floor's containers, bridges,
// iptables rules, cgroups, mounts, dirs; then it checks that nothing is left.
import { type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { forEachBounded } from '../src/util/bounded.ts';
import { removeRules } from '../src/network/firewall.ts';
import { daemonTag } from '../src/engine/engine.ts';
import {
  DOCKER, log, fmt, runCmd, mustRun, sleep, withTimeout, api, quantile, startBerthd, onSignals, stopChild, pickSubnets,
  removeCgroupTree, benchPaths, runsOption, importBusybox, machineInfo, outputOf, runInterleaved, logComplaints,
  appendSection, killRuntimeLeftovers, unmountAndRemove, runBench, startPrivateDockerd, stopPrivateDockerd,
  type PrivateDockerd, type Sampled, leftovers, sumMemory, daemonProcesses, commCounts, makeBundle,
  runcRunDetached, counted, startDockerRegistry, type LocalRegistry, apiHijacked,
} from './lib.ts';

const repo = resolve(import.meta.dirname, '..');
const BERTH = join(repo, 'bin/berth');
const NODE = join(repo, 'node_modules/.bin/node');
const API = '/v1.41'; // dockerd 20.10's newest: the same requests to both
const PARALLEL = 8;
const BATCH = 16; // containers per throughput sample
const LOG_LINES = 500_000;
const LOG_TOTAL = LOG_LINES * 100;
const AWK = `awk 'BEGIN { p = sprintf("%86s", ""); gsub(/ /, "x", p); for (i = 1; i <= ${LOG_LINES}; i++) printf "line %07d %s\\n", i, p }'`;
// Room for all of it in one file on both daemons (berthd's k8s-file lines are ~72 MB, dockerd's JSON
// ~80 MB): the rows are about reading logs, not rotation (dockerd 20.10's follow repeats lines across one).
const LOG_OPTS = ['--log-opt', 'max-size=100m', '--log-opt', 'max-file=2'];
const WORKLOAD_CONTAINERS = 200;
const IDLE_SECONDS = 60;
const MB = 1e6;

const { values } = parseArgs({ options: {
  runs: { type: 'string', default: '5' }, containers: { type: 'string', default: '20' },
  'no-append': { type: 'boolean', default: false }, 'no-dockerd': { type: 'boolean', default: false },
} });
const RUNS = runsOption(values.runs);
const N = runsOption(values.containers);

const paths = benchPaths(); // scratch: CLI config, logs, dockerd's data root, the bundles, the 50 MB payload
const { tag, execRoot, socket, pidfile, dataRoot, scratch, cliConfig, logFile, env } = paths;
const bridge = `bb${tag}`;
const subnets = pickSubnets();
const dBridge = `bd${tag}`;
const dSubnets = (() => { for (;;) { const s = pickSubnets(); if (s.prefix !== subnets.prefix) return s; } })();
const berthCgroup = `berth-${daemonTag(execRoot)}`;
const dockerdExecRoot = `/run/bbd-${tag}`; // short: containerd's sockets live under it
const dockerdCgroup = `berthbench-${tag}`;
const floorRoot = `/run/bbf-${tag}`; // the runc floors' state
const bundleTrue = join(scratch, 'bundle-true');
const bundleSleep = join(scratch, 'bundle-sleep');
const payload = join(scratch, 'payload.txt');

let daemon: ChildProcess | undefined;
let dockerd: PrivateDockerd | undefined;
let registry: LocalRegistry | undefined;
let cleaning: Promise<void> | undefined;

/** One daemon under test, as the measurements see it. */
interface Side {
  who: 'dockerd' | 'berthd';
  env: NodeJS.ProcessEnv;
  socket: string;
  /** Every process the daemon has added to the host (see daemonProcesses). */
  procs: () => number[];
  /** The daemon itself for the fresh reading (berthd; dockerd + containerd). */
  core: () => number[];
  /** Containers made so far (the workload tops this up to 200). */
  made: number;
  /** `run --rm`s of the workload that failed, and the first error. */
  workloadFailed: number;
  workloadError?: string;
}

async function removeAll(sock: string): Promise<void> {
  const r = await api(sock, 'GET', `${API}/containers/json?all=1`, undefined, undefined, 10_000);
  if (r.status !== 200) return;
  for (const { Id } of JSON.parse(r.body.toString()) as { Id: string }[]) {
    const d = await api(sock, 'DELETE', `${API}/containers/${Id}?force=1&v=1`, undefined, undefined, 60_000).catch((e: unknown) => ({ status: 0, body: Buffer.from(String(e)) }));
    if (d.status !== 204 && d.status !== 404) log(`removing ${Id.slice(0, 12)}: ${d.status} ${d.body.toString().trim()}`);
  }
}

const alive = (p: ChildProcess | undefined): boolean => !!p && p.exitCode === null && p.signalCode === null;

function dockerdRuncRoots(): string[] {
  const base = join(dockerdExecRoot, 'runtime-runc');
  try { return readdirSync(base).map((ns) => join(base, ns)); } catch { return []; }
}

async function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    // berthd keeps containers running across its own stop (live restore): remove them first.
    if (alive(daemon)) await withTimeout(removeAll(socket), 120_000, 'removing berthd containers').catch((e) => log(String(e)));
    await stopChild(daemon, 'berthd', log).catch((e) => log(`stopping berthd: ${e}`));
    await killRuntimeLeftovers(execRoot);
    await removeRules(bridge).catch((e) => log(`iptables rules of ${bridge}: ${e}`));
    await runCmd('ip', ['link', 'del', bridge]);
    removeCgroupTree(berthCgroup);
    if (dockerd && alive(dockerd.child)) await withTimeout(removeAll(dockerd.socket), 120_000, 'removing dockerd containers').catch((e) => log(String(e)));
    const runcRoots = dockerdRuncRoots();
    await stopPrivateDockerd(dockerd).catch((e) => log(`stopping dockerd: ${e}`));
    await killRuntimeLeftovers(dockerdExecRoot, runcRoots);
    removeCgroupTree(dockerdCgroup);
    await runCmd('ip', ['link', 'del', dBridge]);
    await killRuntimeLeftovers(floorRoot, [floorRoot]);
    if (registry) await registry.stop().catch((e) => log(`stopping the registry: ${e}`));
    await unmountAndRemove([dataRoot, execRoot, dockerdExecRoot, floorRoot, scratch], 120_000);
  })();
  return cleaning;
}

const signals = onSignals(cleanup, 300_000, log);
const check = signals.check;

// ---------- measurements ----------

async function cli(s: Side, args: string[], timeoutMs = 120_000): Promise<number> {
  const r = await runCmd(DOCKER, args, { env: s.env, timeoutMs });
  if (r.code !== 0) throw new Error(`${s.who}: docker ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
  return r.ms;
}

async function runRm(s: Side): Promise<number> {
  s.made++;
  return cli(s, ['run', '--rm', 'busybox', 'true']);
}

type Steps = Record<'create' | 'start' | 'wait' | 'delete', number[]>;
const newSteps = (): Steps => ({ create: [], start: [], wait: [], delete: [] });

/** create → start → wait → delete over one keep-alive connection; each step's time goes to `steps`. */
function apiSequence(s: Side, agent: http.Agent, steps: Steps): () => Promise<number> {
  return async () => {
    s.made++;
    const t0 = performance.now();
    const c = await api(s.socket, 'POST', `${API}/containers/create`, { Image: 'busybox', Cmd: ['true'] }, agent);
    if (c.status !== 201) throw new Error(`${s.who} create: ${c.status} ${c.body}`);
    const t1 = performance.now();
    const id = (JSON.parse(c.body.toString()) as { Id: string }).Id;
    const st = await api(s.socket, 'POST', `${API}/containers/${id}/start`, undefined, agent);
    if (st.status !== 204) throw new Error(`${s.who} start: ${st.status} ${st.body}`);
    const t2 = performance.now();
    const w = await api(s.socket, 'POST', `${API}/containers/${id}/wait?condition=not-running`, undefined, agent);
    if (w.status !== 200 || (JSON.parse(w.body.toString()) as { StatusCode: number }).StatusCode !== 0) throw new Error(`${s.who} wait: ${w.status} ${w.body}`);
    const t3 = performance.now();
    const d = await api(s.socket, 'DELETE', `${API}/containers/${id}`, undefined, agent);
    if (d.status !== 204) throw new Error(`${s.who} delete: ${d.status} ${d.body}`);
    const t4 = performance.now();
    steps.create.push(t1 - t0); steps.start.push(t2 - t1); steps.wait.push(t3 - t2); steps.delete.push(t4 - t3);
    return t4 - t0;
  };
}

let floorSeq = 0;
async function runcRun(): Promise<number> {
  const r = await runCmd('runc', ['--root', floorRoot, 'run', '-b', bundleTrue, `f${floorSeq++}`], { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`runc run failed (exit ${r.code}): ${r.stderr.trim()}`);
  return r.ms;
}

async function runcExec(): Promise<number> {
  const r = await runCmd('runc', ['--root', floorRoot, 'exec', 'fsleep', 'true'], { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`runc exec failed (exit ${r.code}): ${r.stderr.trim()}`);
  return r.ms;
}

/** exec create, start attached (the stream ends with the process), inspect: what a client's exec costs. */
function apiExec(s: Side, ctr: string): () => Promise<number> {
  return async () => {
    const t0 = performance.now();
    const c = await api(s.socket, 'POST', `${API}/containers/${ctr}/exec`, { Cmd: ['true'], AttachStdout: true, AttachStderr: true });
    if (c.status !== 201) throw new Error(`${s.who} exec create: ${c.status} ${c.body}`);
    const id = (JSON.parse(c.body.toString()) as { Id: string }).Id;
    const st = await apiHijacked(s.socket, `${API}/exec/${id}/start`, { Detach: false, Tty: false });
    if (st.status !== 101 && st.status !== 200) throw new Error(`${s.who} exec start: ${st.status} ${st.body}`);
    for (let i = 0; ; i++) {
      const r = await api(s.socket, 'GET', `${API}/exec/${id}/json`);
      const e = JSON.parse(r.body.toString()) as { Running: boolean; ExitCode: number | null };
      if (r.status === 200 && !e.Running && e.ExitCode === 0) break;
      if (r.status !== 200 || (!e.Running && e.ExitCode !== 0) || i > 1000) throw new Error(`${s.who} exec inspect: ${r.status} ${r.body}`);
      await sleep(1);
    }
    return performance.now() - t0;
  };
}

/** BATCH runs, PARALLEL at a time: containers per second. */
async function throughput(one: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await forEachBounded(Array.from({ length: BATCH }, (_, i) => i), PARALLEL, async () => { check(); await one(); });
  return BATCH / ((performance.now() - t0) / 1000);
}

const mbs = (bytes: number, ms: number): number => bytes / MB / (ms / 1000);

async function logsOnce(s: Side): Promise<number> {
  const r = await counted(DOCKER, ['logs', 'lg'], s.env);
  if (r.code !== 0 || r.bytes !== LOG_TOTAL) throw new Error(`${s.who}: docker logs gave ${r.bytes} bytes (exit ${r.code}): ${r.stderr.slice(0, 300)}`);
  return mbs(LOG_TOTAL, r.ms);
}

async function fileReadFloor(): Promise<number> {
  const r = await counted('cat', [payload], process.env);
  if (r.code !== 0 || r.bytes !== LOG_TOTAL) throw new Error(`cat gave ${r.bytes} bytes`);
  return mbs(LOG_TOTAL, r.ms);
}

async function pipeFloor(): Promise<number> {
  const r = await counted('/bin/busybox', ['sh', '-c', `cat ${payload} | cat`], process.env);
  if (r.code !== 0 || r.bytes !== LOG_TOTAL) throw new Error(`cat | cat gave ${r.bytes} bytes: ${r.stderr}`);
  return mbs(LOG_TOTAL, r.msFromFirst);
}

/** The 50 MB file, read-only in a container. */
const PAYLOAD_MOUNT = (): string[] => ['-v', `${payload}:/p:ro`];

let followSeq = 0;
/** A container printing 50 MB after 1 s, followed at once: bytes / (the follower's first byte → its exit). */
async function followOnce(s: Side): Promise<number> {
  const name = `fol${followSeq++}`;
  s.made++;
  await cli(s, ['run', '-d', '--name', name, '--network', 'none', ...PAYLOAD_MOUNT(), ...LOG_OPTS, 'busybox', 'sh', '-c', 'sleep 1; cat /p']);
  const r = await counted(DOCKER, ['logs', '-f', name], s.env);
  const inspected = await runCmd(DOCKER, ['inspect', '-f', '{{json .State}}', name], { env: s.env });
  await cli(s, ['rm', '-f', name]);
  const st = JSON.parse(inspected.stdout.toString()) as { ExitCode: number };
  if (r.code !== 0 || r.bytes !== LOG_TOTAL || st.ExitCode !== 0) throw new Error(`${s.who}: logs -f gave ${r.bytes} bytes (exit ${r.code}, container exit ${st.ExitCode}): ${r.stderr.slice(0, 300)}`);
  return mbs(LOG_TOTAL, r.msFromFirst);
}

async function cliMs(file: string, args: string[]): Promise<number> {
  const r = await runCmd(file, args, { env, timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`${file} ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim()}`);
  return r.ms;
}

// ---------- memory ----------

/** RSS in bytes of `pids` (gone ones count nothing). */
const rssOf = (pids: number[]): number => sumMemory(pids).rss * 1024;

interface Reading { rss: number; procs: number[] }

/** After `settleMs`, the median of 3 samples 1 s apart of each side's processes (all sides sampled together). */
async function readings(sides: Side[], settleMs = 2_000): Promise<Map<Side, Reading>> {
  await sleep(settleMs);
  const samples = new Map<Side, number[]>(sides.map((s) => [s, []]));
  const procs = new Map<Side, number[]>();
  for (let i = 0; i < 3; i++) {
    if (i) await sleep(1_000);
    for (const s of sides) { const p = s.procs(); procs.set(s, p); samples.get(s)!.push(rssOf(p)); }
  }
  return new Map(sides.map((s) => [s, { rss: quantile(samples.get(s)!, 0.5), procs: procs.get(s)! }]));
}

interface PerContainer { perCtr: number; /** the processes the containers added, by name */ added: string; nodeAdded: number }

/** A Node.js process: its executable is node (whatever its comm, which Node renames). */
const isNode = (pid: number): boolean => { try { return /\/node$/.test(readlinkSync(`/proc/${pid}/exe`)); } catch { return false; } };

/** N `sleep` containers (with `publish` args) on every side, read, removed again. */
async function perContainer(sides: Side[], publish: string[]): Promise<Map<Side, PerContainer>> {
  const before = await readings(sides);
  for (const s of sides) {
    await forEachBounded(Array.from({ length: N }, (_, i) => i), 4, async (i) => {
      check();
      s.made++;
      await cli(s, ['run', '-d', '--name', `pc${publish.length ? 'p' : ''}${i}`, ...publish, 'busybox', 'sleep', '3600']);
    });
  }
  const loaded = await readings(sides);
  const out = new Map<Side, PerContainer>();
  for (const s of sides) {
    const b = before.get(s)!;
    const l = loaded.get(s)!;
    const added = l.procs.filter((p) => !b.procs.includes(p));
    out.set(s, { perCtr: (l.rss - b.rss) / N, added: commCounts(added) || 'none', nodeAdded: added.filter(isNode).length });
    log(`${s.who} ${publish.length ? 'with -p' : 'without -p'}: ${fmt(b.rss / MB, 1)} → ${fmt(l.rss / MB, 1)} MB for ${N} containers; added ${out.get(s)!.added}`);
  }
  for (const s of sides) {
    const names = Array.from({ length: N }, (_, i) => `pc${publish.length ? 'p' : ''}${i}`);
    await cli(s, ['rm', '-f', ...names], 300_000);
  }
  return out;
}

/** The rest of the workload: containers topped up to 200, a build, a push and pull through a local registry. */
async function workload(s: Side): Promise<string> {
  const notes: string[] = [];
  const more = Math.max(0, WORKLOAD_CONTAINERS - s.made);
  // A failed run is counted and stated, not fatal (up to 20): the idle row still gets its workload.
  await forEachBounded(Array.from({ length: more }, (_, i) => i), PARALLEL, async () => {
    check();
    await runRm(s).catch((e: unknown) => {
      s.workloadFailed++;
      s.workloadError ??= (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').slice(0, 200);
      if (s.workloadFailed > 20) throw e;
    });
  });
  if (s.workloadFailed) notes.push(`${s.workloadFailed} of the \`run --rm\`s FAILED (first: ${s.workloadError})`);
  const ctx = join(scratch, 'build-ctx');
  mkdirSync(ctx, { recursive: true });
  writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo built > /built && head -c 1000000 /dev/urandom > /blob\nCOPY Dockerfile /Dockerfile.copy\n');
  s.made++;
  await mustRun(DOCKER, ['build', '-q', '-t', `built-${s.who}`, ctx], { env: { ...s.env, DOCKER_BUILDKIT: '0' }, timeoutMs: 300_000 });
  notes.push('build');
  if (registry) {
    const ref = `${registry.host}/bench/${s.who}:w`;
    const r = await runCmd('sh', ['-c', `"${DOCKER}" tag built-${s.who} ${ref} && "${DOCKER}" push -q ${ref} && "${DOCKER}" rmi ${ref} built-${s.who} && "${DOCKER}" pull -q ${ref}`], { env: s.env, timeoutMs: 300_000 });
    if (r.code === 0) notes.push('push + pull'); else { log(`${s.who}: push/pull failed: ${r.stderr.trim()}`); notes.push(`push/pull FAILED (${r.stderr.trim().split('\n').pop()})`); }
  }
  return `${s.made} containers, ${notes.join(', ')}`;
}

// ---------- the run ----------

interface Row { metric: string; unit: string; d: number; b: number; f: number; floorName: string; target: string; verdict: string; /** the measurements behind it, for failures */ keys?: string[] }

async function main(): Promise<void> {
  const tStart = performance.now();
  const date = (await mustRun('date', ['-u'])).stdout.toString().trim();
  const info = await machineInfo(repo, ' (with uncommitted changes under src/ or bin/)');
  const runcVersion = (await outputOf('runc', ['--version'])).split('\n')[0] ?? '';
  const memTotal = Number(/^MemTotal:\s+(\d+)/m.exec(await outputOf('cat', ['/proc/meminfo']))?.[1] ?? NaN);
  log(`berthd: data root ${dataRoot}, exec root ${execRoot}, bridge ${bridge} ${subnets.bip}; dockerd: exec root ${dockerdExecRoot}, bridge ${dBridge}; scratch ${scratch}`);

  // Both daemons up, fresh.
  daemon = await startBerthd({ repo, dataRoot, execRoot, socket, pidfile, logFile, args: ['--bridge', bridge, '--bip', subnets.bip, '--default-address-pool', subnets.pool] });
  const berthPid = daemon.pid!;
  // bin/berthd runs dist/ when it is fresh, else src/ by type stripping (~40 MB more): say which.
  const berthMain = (await outputOf('cat', [`/proc/${berthPid}/cmdline`])).split('\0').find((a) => /\/(dist|src)\/daemon\/main\.[jt]s$/.test(a))?.replace(/^.*\/(dist|src)\//, '$1/') ?? 'unknown';
  if (!berthMain.startsWith('dist/')) log(`berthd runs ${berthMain}, not the dist/ build: rebuild dist for the memory rows to mean what users get`);
  const berth: Side = {
    who: 'berthd', env, socket, made: 0, workloadFailed: 0,
    procs: () => daemonProcesses([berthPid], [`${execRoot}/`]),
    core: () => [berthPid],
  };
  const sides: Side[] = [];
  let dockerdVersion = '';
  if (!values['no-dockerd'] && (await runCmd('dockerd', ['--version'])).code === 0) {
    await mustRun('ip', ['link', 'add', dBridge, 'type', 'bridge']);
    await mustRun('ip', ['addr', 'add', dSubnets.bip, 'dev', dBridge]);
    await mustRun('ip', ['link', 'set', dBridge, 'up']);
    dockerd = await startPrivateDockerd({ dataRoot: join(scratch, 'docker'), execRoot: dockerdExecRoot, scratch, cliConfig, bridge: dBridge, args: ['--cgroup-parent', `/${dockerdCgroup}`] });
    const dPid = dockerd.child.pid!;
    sides.push({
      who: 'dockerd', env: dockerd.env, socket: dockerd.socket, made: 0, workloadFailed: 0,
      procs: () => daemonProcesses([dPid], [`${dockerdExecRoot}/`]),
      core: () => daemonProcesses([dPid], [`${dockerdExecRoot}/`]).filter((p) => /^(dockerd|containerd) ×/.test(commCounts([p]))),
    });
  }
  sides.push(berth);
  const dk = sides.find((s) => s.who === 'dockerd');
  for (const s of sides) await cli(s, ['version']);
  const versions = Object.fromEntries(await Promise.all(sides.map(async (s) => [s.who, (await mustRun(DOCKER, ['version', '--format', '{{.Server.Version}}'], { env: s.env })).stdout.toString().trim()] as const)));
  if (dk) dockerdVersion = `${versions.dockerd} with its managed containerd ${(await outputOf('containerd', ['--version'])).replace(/^containerd\s+\S+\s+/, '')}`;
  const fresh = await readings(sides, 3_000);
  const freshCore = new Map(sides.map((s) => [s, rssOf(s.core())]));
  log(`fresh: ${sides.map((s) => `${s.who} ${fmt(freshCore.get(s)! / MB, 1)} MB (all its processes ${fmt(fresh.get(s)!.rss / MB, 1)})`).join(', ')}`);
  check();

  // The same busybox in both, and the floors' bundles and payload.
  const tar = await importBusybox(repo, env);
  if (dk) await mustRun(DOCKER, ['import', '-c', 'CMD ["sh"]', '-', 'busybox:latest'], { input: tar, env: dk.env, timeoutMs: 60_000 });
  mkdirSync(floorRoot, { recursive: true });
  await makeBundle(bundleTrue, tar, ['true']);
  await makeBundle(bundleSleep, tar, ['sleep', '3600']);
  await mustRun('sh', ['-c', `/bin/busybox ${AWK} > ${payload}`], { timeoutMs: 120_000 });
  check();

  // A measurement that fails (a daemon's bug, a hang) is not measured further and its row says
  // so; the others go on, so that one broken path does not cost the whole table.
  const failures = new Map<string, string>();
  const sampled = (key: string, fn: () => Promise<number>): Sampled => ({
    key, samples: [],
    fn: async () => {
      if (failures.has(key)) return NaN;
      try { return await fn(); } catch (e) {
        if (signals.interrupted()) throw e;
        const msg = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').slice(0, 300);
        failures.set(key, msg);
        log(`${key} failed, not measured further: ${msg}`);
        return NaN;
      }
    },
  });
  const S = new Map<string, Sampled>();
  const group = (...ms: Sampled[]): Sampled[] => { for (const m of ms) S.set(m.key, m); return ms; };
  const med = (key: string): number => quantile((S.get(key)?.samples ?? []).filter(Number.isFinite), 0.5);

  // 1. run --rm and the API sequence, with the runc run floor.
  const steps = new Map<Side, Steps>(sides.map((s) => [s, newSteps()]));
  const agents = sides.map(() => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  const g1 = group(
    ...sides.flatMap((s, i) => [sampled(`run-${s.who}`, () => runRm(s)), sampled(`api-${s.who}`, apiSequence(s, agents[i]!, steps.get(s)!))]),
    sampled('run-floor', runcRun),
  );
  await runInterleaved(g1, { runs: RUNS, warmups: 2, what: 'run', digits: 1, check });
  for (const a of agents) a.destroy();
  for (const st of steps.values()) for (const k of Object.keys(st) as (keyof Steps)[]) st[k].splice(0, st[k].length - RUNS); // the warm-ups' steps out

  // 2. exec, with the runc exec floor.
  for (const s of sides) { s.made++; await cli(s, ['run', '-d', '--name', 'ex', '--network', 'none', 'busybox', 'sleep', '3600']); }
  await runcRunDetached(floorRoot, bundleSleep, 'fsleep');
  const g2 = group(
    ...sides.flatMap((s) => [sampled(`exec-${s.who}`, () => cli(s, ['exec', 'ex', 'true'], 60_000)), sampled(`apiexec-${s.who}`, apiExec(s, 'ex'))]),
    sampled('exec-floor', runcExec),
  );
  await runInterleaved(g2, { runs: RUNS * 2, warmups: 2, what: 'exec', digits: 1, check });
  for (const s of sides) await cli(s, ['rm', '-f', 'ex']);
  await mustRun('runc', ['--root', floorRoot, 'delete', '-f', 'fsleep']);
  check();

  // 3. throughput, 8 at once.
  const g3 = group(...sides.map((s) => sampled(`tput-${s.who}`, () => throughput(() => runRm(s)))), sampled('tput-floor', () => throughput(runcRun)));
  await runInterleaved(g3, { runs: RUNS, warmups: 1, what: 'throughput', digits: 1, check });
  check();

  // 4. logs of 50 MB, and logs -f.
  for (const s of sides) {
    s.made++;
    await cli(s, ['run', '--name', 'lg', '-d', '--network', 'none', ...PAYLOAD_MOUNT(), ...LOG_OPTS, 'busybox', 'cat', '/p']);
    await cli(s, ['wait', 'lg'], 300_000);
  }
  const g4 = group(
    ...sides.map((s) => sampled(`logs-${s.who}`, () => logsOnce(s))), sampled('logs-floor', fileReadFloor),
    ...sides.map((s) => sampled(`follow-${s.who}`, () => followOnce(s))), sampled('follow-floor', pipeFloor),
  );
  await runInterleaved(g4, { runs: RUNS, warmups: 1, what: 'logs', digits: 0, check });
  check();

  // 6. per running container, without and with -p.
  const plain = await perContainer(sides, []);
  check();
  const published = await perContainer(sides, ['-p', '80']);
  check();

  // 7. the rest of the workload (dockerd's first, berthd's last), then a minute of idle.
  registry = await startDockerRegistry(join(scratch, 'registry')).catch((e: unknown) => { log(`no local registry, no pull in the workload: ${e}`); return undefined; });
  const workloadNotes = new Map<Side, string>();
  for (const s of sides) { workloadNotes.set(s, await workload(s)); check(); }
  const idle = new Map<Side, number[]>(sides.map((s) => [s, []]));
  const idleCore = new Map<Side, number[]>(sides.map((s) => [s, []]));
  for (let sec = 1; sec <= IDLE_SECONDS; sec++) {
    await sleep(1_000);
    check();
    for (const s of sides) { idle.get(s)!.push(rssOf(s.procs())); idleCore.get(s)!.push(rssOf(s.core())); }
  }
  log(`idle after the workload, each 10 s: ${sides.map((s) => `${s.who} ${idleCore.get(s)!.filter((_, i) => i % 10 === 9).map((x) => fmt(x / MB, 1)).join(' ')}`).join('; ')}`);

  // 8. CLI start-up.
  const g8 = group(sampled('cli-berth', () => cliMs(BERTH, ['--version'])), sampled('cli-node', () => cliMs(NODE, ['-e', '0'])), sampled('cli-docker', () => cliMs(DOCKER, ['--version'])));
  await runInterleaved(g8, { runs: Math.max(10, RUNS * 4), warmups: 3, what: 'cli', digits: 1, check });

  // ---------- the section ----------
  const dmed = (key: string): number => (dk ? med(`${key}-dockerd`) : NaN);
  const stepMed = (s: Side | undefined, k: keyof Steps): number => (s ? quantile(steps.get(s)![k], 0.5) : NaN);
  const x = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
  const meets = (ok: boolean, ok2: string, gap: string): string => (ok ? `**met** (${ok2})` : `**not met**: ${gap}`);
  const rows: Row[] = [];
  const lowerIsBetter = (metric: string, key: string, floorKey: string, floorName: string, limit: number): void => {
    const b = med(`${key}-berthd`); const f = med(floorKey);
    rows.push({ metric, unit: 'ms', d: dmed(key), b, f, floorName, target: `≤ ${limit}× floor (${fmt(f * limit, 1)} ms)`, verdict: meets(b <= f * limit, `${x(b, f)} floor`, `${x(b, f)} floor, ${fmt(b - f * limit, 1)} ms over`), keys: [`${key}-berthd`, floorKey, `${key}-dockerd`] });
  };
  lowerIsBetter('`docker run --rm busybox true` (CLI)', 'run', 'run-floor', '`runc run`', 2);
  lowerIsBetter('API create → start → wait → delete', 'api', 'run-floor', '`runc run`', 1.5);
  for (const k of ['create', 'start', 'wait', 'delete'] as const) {
    const b = stepMed(berth, k);
    rows.push({ metric: `— ${k}`, unit: 'ms', d: stepMed(dk, k), b, f: NaN, floorName: '', target: k === 'delete' ? '≤ 10 ms' : '', verdict: k === 'delete' ? meets(b <= 10, `${fmt(b, 1)} ms`, `${fmt(b - 10, 1)} ms over`) : '', keys: ['api-berthd', 'api-dockerd'] });
  }
  for (const [metric, key] of [['`docker exec CTR true` (CLI)', 'exec'], ['API exec create + start + inspect', 'apiexec']] as const) {
    const b = med(`${key}-berthd`); const f = med('exec-floor'); const d = dmed(key);
    const fast = !dk || b < d;
    const within = b <= f * 1.3;
    rows.push({ metric, unit: 'ms', d, b, f, floorName: '`runc exec`', target: `< dockerd, ≤ 1.3× floor (${fmt(f * 1.3, 1)} ms)`, verdict: meets(fast && within, `${x(b, f)} floor${dk ? `, ${x(b, d)} dockerd` : ''}`, [fast ? '' : `${x(b, d)} dockerd (${fmt(b - d, 1)} ms slower)`, within ? '' : `${x(b, f)} floor, ${fmt(b - f * 1.3, 1)} ms over`].filter(Boolean).join('; ')), keys: [`${key}-berthd`, 'exec-floor', `${key}-dockerd`] });
  }
  const higherIsBetter = (metric: string, unit: string, key: string, floorName: string, share: number): void => {
    const b = med(`${key}-berthd`); const f = med(`${key}-floor`);
    rows.push({ metric, unit, d: dmed(key), b, f, floorName, target: `≥ ${share * 100}% of floor (${fmt(f * share, 1)})`, verdict: meets(b >= f * share, `${fmt(b / f * 100)}% of floor`, `${fmt(b / f * 100)}% of floor, ${fmt(f * share - b, 1)} ${unit} short`), keys: [`${key}-berthd`, `${key}-floor`, `${key}-dockerd`] });
  };
  higherIsBetter(`\`run --rm\` throughput, ${PARALLEL} at once`, 'ctr/s', 'tput', `${PARALLEL} × \`runc run\``, 0.4);
  higherIsBetter('`logs` of 50 MB', 'MB/s', 'logs', 'file read (`cat`)', 0.5);
  higherIsBetter('`logs -f` of 50 MB (first byte → follower done)', 'MB/s', 'follow', 'pipe (`cat FILE \\| cat`)', 0.5);
  const mbRow = (metric: string, d: number, b: number, target: string, ok: boolean, gap: string): void => {
    rows.push({ metric, unit: 'MB', d: d / MB, b: b / MB, f: NaN, floorName: '', target, verdict: meets(ok, `${fmt(b / MB, 1)} MB`, gap) });
  };
  const bFresh = freshCore.get(berth)!;
  mbRow('daemon RSS fresh', dk ? freshCore.get(dk)! : NaN, bFresh, '≤ 60 MB', bFresh <= 60 * MB, `${fmt((bFresh - 60 * MB) / MB, 1)} MB over`);
  const bIdle = idleCore.get(berth)!;
  const under = bIdle.findIndex((v) => v <= 80 * MB);
  const idleEnd = (s: Side): number => idleCore.get(s)!.at(-1)!;
  mbRow(`daemon RSS after the workload, ${IDLE_SECONDS} s idle`, dk ? idleEnd(dk) : NaN, idleEnd(berth), `≤ 80 MB within ${IDLE_SECONDS} s`, under >= 0, `${fmt(Math.min(...bIdle) / MB, 1)} MB at least, ${fmt((Math.min(...bIdle) - 80 * MB) / MB, 1)} MB over`);
  if (under >= 0) rows.at(-1)!.verdict = `**met** (≤ 80 MB after ${under + 1} s; ${fmt(idleEnd(berth) / MB, 1)} MB at ${IDLE_SECONDS} s)`;
  for (const [label, m] of [['without `-p`', plain], ['with `-p 80`', published]] as const) {
    const b = m.get(berth)!;
    const noNode = b.nodeAdded <= 1; // one proxy for the whole daemon is allowed, one per container is not
    const ok = b.perCtr <= 2.5 * MB && noNode;
    mbRow(`RSS per running container, ${label}`, dk ? m.get(dk)!.perCtr : NaN, b.perCtr, '≤ 2.5 MB, no Node process per container', ok,
      [b.perCtr > 2.5 * MB ? `${fmt((b.perCtr - 2.5 * MB) / MB, 2)} MB over` : '', noNode ? '' : `${b.nodeAdded} Node processes for ${N} containers`].filter(Boolean).join('; '));
    if (ok) rows.at(-1)!.verdict = `**met** (${fmt(b.perCtr / MB, 2)} MB, ${b.nodeAdded} Node processes added)`;
  }
  {
    const b = med('cli-berth'); const f = med('cli-node');
    rows.push({ metric: '`--version` start-up (berth / docker CLI)', unit: 'ms', d: med('cli-docker'), b, f, floorName: '`node -e 0`', target: `≤ floor + 5 ms (${fmt(f + 5, 1)} ms)`, verdict: meets(b <= f + 5, `floor + ${fmt(b - f, 1)} ms`, `floor + ${fmt(b - f, 1)} ms, ${fmt(b - f - 5, 1)} ms over`), keys: ['cli-berth', 'cli-node', 'cli-docker'] });
  }

  for (const r of rows) {
    const failed = (r.keys ?? []).filter((k) => failures.has(k));
    if (!failed.length) continue;
    const own = failed.filter((k) => !k.endsWith('-dockerd'));
    r.verdict = own.length ? `**failed** (${own.join(', ')}: see below)` : `${r.verdict} (dockerd failed: see below)`;
  }
  const lines: string[] = [];
  lines.push(`## Footprint (issue 18's table): ${date}`, '');
  lines.push(`Machine: ${info.nproc} CPUs (${info.cpu}), ${fmt(memTotal / 1024 / 1024, 1)} GiB RAM, kernel ${info.kernel}, Node ${info.node}, ${runcVersion}, Docker CLI ${info.docker}. Berth ${versions.berthd} at ${info.commit} (berthd ran \`${berthMain}\`); dockerd ${dk ? dockerdVersion : 'not measured'}.`);
  lines.push(`\`bench/footprint.ts --runs ${RUNS} --containers ${N}\`: both daemons side by side, each with its own bridge (dockerd: iptables off, so \`-p\` is docker-proxy); the same busybox tar in both and in the runc bundle of the floors. Rows 1–9 interleaved round-robin with their floor (${RUNS} rounds after warm-ups; exec ${RUNS * 2}; throughput: ${BATCH} containers per sample), medians. Memory: RSS (VmRSS), MB = 10^6 bytes; fresh = the daemon alone (berthd; dockerd + containerd) after start-up and \`docker version\`; per container = (every process the daemon added: conmon, proxies / containerd-shim, docker-proxy) with ${N} \`sleep\` containers running − before, / ${N}; after the workload = the daemon alone, sampled each second for ${IDLE_SECONDS} s. The machine is shared with other work: read the ratios.`, '');
  lines.push('| metric | unit | dockerd | Berth | floor | floor is | target | met / gap |', '|---|---|---:|---:|---:|---|---|---|');
  for (const r of rows) lines.push(`| ${r.metric} | ${r.unit} | ${fmt(r.d, 1)} | ${fmt(r.b, 1)} | ${fmt(r.f, 1)} | ${r.floorName} | ${r.target} | ${r.verdict} |`);
  lines.push('');
  if (dk) {
    lines.push(`- Berth / dockerd (medians): run --rm ${x(med('run-berthd'), dmed('run'))}, API sequence ${x(med('api-berthd'), dmed('api'))}, exec ${x(med('exec-berthd'), dmed('exec'))} (API ${x(med('apiexec-berthd'), dmed('apiexec'))}), throughput ${x(med('tput-berthd'), dmed('tput'))}, logs ${x(med('logs-berthd'), dmed('logs'))}, logs -f ${x(med('follow-berthd'), dmed('follow'))}.`);
  }
  lines.push(`- Processes added per ${N} containers: ${sides.map((s) => `${s.who} ${plain.get(s)!.added} without -p, ${published.get(s)!.added} with -p (Node processes among them: ${plain.get(s)!.nodeAdded}, ${published.get(s)!.nodeAdded})`).join('; ')}. All the daemon's processes fresh: ${sides.map((s) => `${s.who} ${fmt(fresh.get(s)!.rss / MB, 1)} MB (${commCounts(fresh.get(s)!.procs)})`).join(', ')}.`);
  lines.push(`- Workload before the idle minute: ${sides.map((s) => `${s.who}: ${workloadNotes.get(s)}, logs of ${RUNS + 1} × 50 MB and ${RUNS + 1} \`logs -f\``).join('; ')}. Daemon RSS during the idle minute (MB, every 10 s): ${sides.map((s) => `${s.who} ${idleCore.get(s)!.filter((_, i) => i % 10 === 9).map((v) => fmt(v / MB, 1)).join(', ')}`).join('; ')}; all the daemon's processes at ${IDLE_SECONDS} s: ${sides.map((s) => `${s.who} ${fmt(idle.get(s)!.at(-1)! / MB, 1)} MB`).join(', ')}.`);
  for (const [k, msg] of failures) lines.push(`- **${k} failed** at sample ${S.get(k)!.samples.filter(Number.isFinite).length + 1} and was not measured further: ${msg.replaceAll('|', '\\|')}`);
  lines.push(`- Floors: \`runc run\`/\`runc exec\` of the same rootfs (no network, no logs), state under /run; 50 MB = ${LOG_LINES.toLocaleString('en')} lines of 100 bytes in a file bind-mounted read-only, which the container \`cat\`s (\`logs -f\`: after \`sleep 1\`, timed from the follower's first byte); \`logs\` reads the retained log (log opts \`${LOG_OPTS.join(' ')}\` on both daemons). CLI start-up: \`${BERTH.replace(`${repo}/`, '')} --version\` vs the pinned \`node -e 0\`, the Docker CLI's own \`--version\` in the dockerd column. Whole run ${fmt((performance.now() - tStart) / 1000)} s.`);
  lines.push('');
  const section = lines.join('\n');
  logComplaints(logFile);
  process.stdout.write(`\n${section}\n`);
  if (!values['no-append']) appendSection(repo, section);
}

/** After cleanup: nothing of ours may be left (processes, mounts, dirs, cgroups, links, iptables rules). */
async function after(): Promise<boolean> {
  const left = leftovers({
    processes: [['conmon', execRoot], ['node', execRoot], ['dockerd', dockerdExecRoot], ['containerd', dockerdExecRoot], ['containerd-shim', dockerdExecRoot],
      ['containerd-shim-runc-v2', dockerdExecRoot], ['docker-proxy', dSubnets.prefix], ['runc', floorRoot]],
    roots: [dataRoot, execRoot, dockerdExecRoot, floorRoot, scratch], cgroups: [berthCgroup, dockerdCgroup],
  });
  const links = (await outputOf('ip', ['-o', 'link'])).split('\n').filter((l) => l.includes(tag));
  if (links.length) left.push(`links ${links.map((l) => l.split(':')[1]?.trim()).join(' ')}`);
  const rules = (await outputOf('iptables-save', [])).split('\n').filter((l) => l.includes(bridge) || l.includes(dBridge));
  if (rules.length) left.push(`${rules.length} iptables rules of ${bridge}/${dBridge}`);
  if (left.length) log(`left behind: ${left.join('; ')}`);
  else log('cleanup check: no processes, mounts, cgroups, links, iptables rules or dirs of this run left');
  return left.length === 0;
}

await runBench(main, { signals, cleanup, cleanupTimeoutMs: 300_000, logFile, after });
