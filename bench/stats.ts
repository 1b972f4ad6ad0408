// Stats and limits: what `docker stats` sampling costs berthd with many containers running, and
// what resource limits add to `docker run`.
//
//   node_modules/.bin/node bench/stats.ts [--containers N] [--rounds R] [--window S] [--runs M] [--no-append]
//
// Starts berthd on a fresh data root under /var/tmp and a short exec root, with a bridge and
// subnets of its own (bb<hex>, 10.<150-199>.<x>.1/24, pool 10.<200-249>.0.0/16) so that it does
// not collide with other daemons on the machine; imports busybox:latest from the host's
// busybox-static. Then:
//   1. starts N (50) `busybox sleep 3600` containers through the Docker CLI, one after another,
//      and measures berthd's CPU use (utime + stime of its process, /proc/<pid>/stat, in % of one
//      CPU) over S (10) seconds, R (3) times interleaved:
//        a. idle: nothing asks for stats
//        b. while `docker stats --format '{{.Name}} {{.CPUPerc}}' <all N names>` (streaming; its
//           output is counted, not kept) runs, measured once it has shown all N containers; the
//           CLI's own CPU over the same window too. The names are given because without them the
//           CLI also follows GET /events, which berthd does not serve yet (the CLI then exits)
//      then removes the N containers;
//   2. `docker run --rm busybox true` with `-m 64m --cpus 0.5 --pids-limit 100
//      --ulimit nofile=1024:1024` against the same without limits, M (15) runs each after 3
//      warm-ups, interleaved (the order alternating from run to run).
// Prints a Markdown section and appends it to BENCHMARKS.md. Everything it made is taken away
// again (containers, conmon, netns, the bridge and its iptables rules, the cgroup tree, mounts,
// dirs), also on failure or Ctrl-C, and the section says whether anything was left.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, appendFileSync, readdirSync, rmdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { randomBytes, randomInt } from 'node:crypto';
import { join, resolve, basename } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { runCmd, mustRun, sleep, withTimeout, api, quantile, conmonPidsOf, mountsUnder, tailOf, startBerthd, onSignals, stopChild, type Result, pickSubnets } from './lib.ts';
import { removeRules } from '../src/network/firewall.ts';
import { daemonTag } from '../src/engine/engine.ts';

const repo = resolve(import.meta.dirname, '..');
const DOCKER = '/usr/local/bin/docker';
const WARMUPS = 3;
const SETTLE_MS = 2_000;
const LIMITS = ['-m', '64m', '--cpus', '0.5', '--pids-limit', '100', '--ulimit', 'nofile=1024:1024'];
const STATS_FORMAT = '{{.Name}} {{.CPUPerc}}';

const { values } = parseArgs({
  options: {
    containers: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '3' },
    window: { type: 'string', default: '10' },
    runs: { type: 'string', default: '15' },
    'no-append': { type: 'boolean', default: false },
  },
});
const posInt = (name: string, v: string | undefined, max: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    console.error(`--${name} wants an integer from 1 to ${max}, not ${v}`);
    process.exit(2);
  }
  return n;
};
const N = posInt('containers', values.containers, 200);
const ROUNDS = posInt('rounds', values.rounds, 10);
const WINDOW_S = posInt('window', values.window, 60);
const RUNS = posInt('runs', values.runs, 100);

const tag = randomBytes(3).toString('hex');
const execRoot = `/run/bb-${tag}`;
const execBase = basename(execRoot); // prepared netns are berth-p.<execBase>-<hash>-<rand>
const socket = `${execRoot}/d.sock`;
const pidfile = `${execRoot}/p.pid`;
const bridge = `bb${tag}`;
const cgroupParent = `berth-${daemonTag(execRoot)}`; // engine.ts names a side daemon's tree so
const dataRoot = mkdtempSync('/var/tmp/berth-bench-');
const scratch = mkdtempSync('/var/tmp/berth-bench-x-'); // CLI config, berthd log
const cliConfig = join(scratch, 'docker-config');
const logFile = join(scratch, 'berthd.log');
const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: cliConfig, DOCKER_CLI_HINTS: 'false' };

const subnets = pickSubnets();

let daemon: ChildProcess | undefined;
let statsCli: ChildProcess | undefined;
let cleaning: Promise<void> | undefined;
const netnsBefore = new Set(existsSync('/run/netns') ? readdirSync('/run/netns') : []);
const log = (s: string): void => { process.stderr.write(`${s}\n`); };
const fmt = (x: number, digits = 1): string => (Number.isFinite(x) ? x.toFixed(digits) : '—');
const running = (p: ChildProcess | undefined): boolean => !!p && p.exitCode === null && p.signalCode === null;

// ---------- what is ours on the host ----------

/** Named netns that are this daemon's: prepared ones (named after its exec root) and any made since start holding our addresses. */
async function myNetns(): Promise<string[]> {
  const r = await runCmd('ip', ['netns', 'list'], { timeoutMs: 5_000 });
  const names = r.stdout.toString().split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
  const mine = new Set(names.filter((n) => n.includes(execBase)));
  for (const n of names) {
    if (mine.has(n) || !n.startsWith('berth-') || netnsBefore.has(n)) continue;
    const a = await runCmd('ip', ['-n', n, '-4', '-o', 'addr'], { timeoutMs: 5_000 });
    if (a.stdout.toString().includes(` ${subnets.prefix}`)) mine.add(n);
  }
  return [...mine];
}

async function myRules(): Promise<string[]> {
  const r = await runCmd('iptables-save', [], { timeoutMs: 10_000 });
  return r.stdout.toString().split('\n').filter((l) => l.includes(`berth:${bridge}`));
}

async function linkExists(name: string): Promise<boolean> {
  return (await runCmd('ip', ['link', 'show', name], { timeoutMs: 5_000 })).code === 0;
}

function myCgroups(): string[] {
  const root = '/sys/fs/cgroup';
  const dirs: string[] = [];
  for (const ctrl of existsSync(root) ? readdirSync(root) : []) {
    for (const d of [join(root, ctrl, cgroupParent), join(root, cgroupParent)]) if (existsSync(d) && !dirs.includes(d)) dirs.push(d);
  }
  return dirs;
}

async function runcIds(): Promise<string[]> {
  const runcRoot = join(execRoot, 'runc');
  if (!existsSync(runcRoot)) return [];
  const listed = await runCmd('runc', ['--root', runcRoot, 'list', '-q'], { timeoutMs: 10_000 });
  return listed.stdout.toString().split('\n').filter(Boolean);
}

/** Removes every container through the API. */
async function removeContainers(): Promise<void> {
  const list = await api(socket, 'GET', '/v1.47/containers/json?all=1', undefined, undefined, 10_000);
  if (list.status !== 200) return;
  for (const c of JSON.parse(list.body.toString()) as { Id: string }[]) {
    await api(socket, 'DELETE', `/v1.47/containers/${c.Id}?force=1`, undefined, undefined, 30_000).catch((e) => log(`removing container ${c.Id}: ${e}`));
  }
}

async function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await stopChild(statsCli, 'docker stats', log).catch((e) => log(`stopping docker stats: ${e}`));
    if (running(daemon)) await withTimeout(removeContainers(), 90_000, 'removing containers').catch((e) => log(String(e)));
    await stopChild(daemon, 'berthd', log).catch((e) => log(`stopping berthd: ${e}`));
    for (const id of await runcIds()) {
      log(`leftover runc container ${id}: delete -f`);
      await runCmd('runc', ['--root', join(execRoot, 'runc'), 'delete', '-f', id], { timeoutMs: 10_000 });
    }
    for (const pid of conmonPidsOf(execRoot)) {
      log(`leftover conmon ${pid}: SIGKILL`);
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    const ids = existsSync(join(dataRoot, 'containers')) ? readdirSync(join(dataRoot, 'containers')) : [];
    const nsNames = new Set([...ids.map((id) => `berth-${id.slice(0, 16)}`).filter((n) => existsSync(`/run/netns/${n}`)), ...await myNetns()]);
    for (const n of nsNames) {
      log(`leftover netns ${n}: ip netns del`);
      await runCmd('ip', ['netns', 'del', n], { timeoutMs: 10_000 });
    }
    await withTimeout(removeRules(bridge), 30_000, 'removing iptables rules').catch((e) => log(`removing iptables rules of ${bridge}: ${e}`));
    if (await linkExists(bridge)) await runCmd('ip', ['link', 'del', bridge], { timeoutMs: 10_000 });
    // Deepest first, so that a mount on top of another comes off before the one below it.
    for (const m of mountsUnder(dataRoot, execRoot, scratch).sort((a, b) => b.length - a.length)) {
      const r = await runCmd('umount', [m], { timeoutMs: 10_000 });
      if (r.code !== 0) await runCmd('umount', ['-l', m], { timeoutMs: 10_000 });
    }
    for (const dir of [dataRoot, execRoot, scratch]) {
      await withTimeout(rm(dir, { recursive: true, force: true }), 60_000, `rm -rf ${dir}`).catch((e) => log(`removing ${dir}: ${e}`));
    }
    // The daemon's (by now empty) cgroup tree, leaves first.
    for (const dir of myCgroups()) {
      try {
        for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) { try { rmdirSync(join(dir, e.name)); } catch { /* busy */ } }
        rmdirSync(dir);
      } catch (e) { log(`removing cgroup ${dir}: ${e}`); }
    }
  })();
  return cleaning;
}

/** What is left after cleanup; empty when nothing. */
async function leftovers(): Promise<string[]> {
  const left: string[] = [];
  if (running(daemon)) left.push('berthd still running');
  if (running(statsCli)) left.push('docker stats still running');
  const ids = await runcIds();
  if (ids.length) left.push(`${ids.length} runc containers`);
  const conmons = conmonPidsOf(execRoot);
  if (conmons.length) left.push(`conmon pids ${conmons.join(' ')}`);
  if (await linkExists(bridge)) left.push(`bridge ${bridge}`);
  const rules = await myRules();
  if (rules.length) left.push(`${rules.length} iptables rules tagged berth:${bridge}`);
  const ns = await myNetns();
  if (ns.length) left.push(`netns ${ns.join(' ')}`);
  const mounts = mountsUnder(dataRoot, execRoot, scratch);
  if (mounts.length) left.push(`${mounts.length} mounts`);
  for (const d of [dataRoot, execRoot, scratch, ...myCgroups()]) if (existsSync(d)) left.push(d);
  return left;
}

const signals = onSignals(cleanup, 150_000, log);
const checkInterrupted = signals.check;

async function docker(args: string[], timeoutMs = 60_000): Promise<Result> {
  return mustRun(DOCKER, args, { env, timeoutMs });
}

// ---------- CPU time of a process ----------

let clkTck = 100;

/** utime + stime of the process itself and cutime + cstime of its reaped children, in seconds. */
function cpuOf(pid: number): { self: number; children: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
  const n = (i: number): number => Number(f[i - 3]);
  return { self: (n(14) + n(15)) / clkTck, children: (n(16) + n(17)) / clkTck };
}

interface Window { berthd: number; berthdChildren: number; cli: number; secs: number }

/** CPU use in % of one CPU over `WINDOW_S` seconds, of berthd and (when given) another process. */
async function cpuWindow(berthdPid: number, cliPid?: number): Promise<Window> {
  const b0 = cpuOf(berthdPid);
  const c0 = cliPid ? cpuOf(cliPid) : undefined;
  const t0 = performance.now();
  await sleep(WINDOW_S * 1000);
  const b1 = cpuOf(berthdPid);
  const c1 = cliPid ? cpuOf(cliPid) : undefined;
  const secs = (performance.now() - t0) / 1000;
  const pct = (d: number): number => (100 * d) / secs;
  return { berthd: pct(b1.self - b0.self), berthdChildren: pct(b1.children - b0.children), cli: c0 && c1 ? pct(c1.self - c0.self) : NaN, secs };
}

// ---------- 1. docker stats on N containers ----------

const names = Array.from({ length: N }, (_, i) => `st${String(i).padStart(3, '0')}`);

async function startContainers(): Promise<number> {
  const t0 = performance.now();
  const deadline = Date.now() + 240_000;
  for (const name of names) {
    checkInterrupted();
    if (Date.now() > deadline) throw new Error(`starting ${N} containers took over 240 s`);
    await docker(['run', '-d', '--name', name, 'busybox', 'sleep', '3600'], 60_000);
  }
  const up = (await docker(['ps', '-q'])).stdout.toString().split('\n').filter(Boolean).length;
  if (up !== N) throw new Error(`${up} containers running instead of ${N}`);
  return performance.now() - t0;
}

interface StatsRun { window: Window; bytes: number; namesSeen: number; startMs: number; pctSample: string }

/** One streaming `docker stats`: wait (≤ 20 s) until it has shown every container, then measure. */
async function withStats(berthdPid: number): Promise<StatsRun> {
  const t0 = performance.now();
  // All N by name: without names the CLI also follows GET /events, which berthd does not serve
  // (404, and `docker stats` exits with "page not found").
  const cli = statsCli = spawn(DOCKER, ['stats', '--format', STATS_FORMAT, ...names], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let bytes = 0;
  let tail = '';
  let err = '';
  const seen = new Set<string>();
  let pctSample = '';
  cli.stdout!.on('data', (b: Buffer) => {
    bytes += b.length;
    // Only the names and one CPU % are kept, to check that it shows what it should.
    const text = tail + b.toString();
    const lines = text.split(/\r?\n|\x1b\[[0-9;]*[A-Za-z]/);
    tail = lines.pop() ?? '';
    for (const l of lines) {
      const m = /^(st\d{3}) (\S+)$/.exec(l.trim());
      if (m) { seen.add(m[1]!); pctSample = m[2]!; }
    }
  });
  cli.stderr!.on('data', (b: Buffer) => { err = (err + b.toString()).slice(-2000); });
  try {
    const deadline = Date.now() + 20_000;
    while (seen.size < N) {
      checkInterrupted();
      if (!running(cli)) throw new Error(`docker stats exited (${cli.exitCode ?? cli.signalCode}): ${err.trim()}`);
      if (Date.now() > deadline) throw new Error(`docker stats showed ${seen.size} of ${N} containers within 20 s: ${err.trim()}`);
      await sleep(100);
    }
    const startMs = performance.now() - t0;
    await sleep(1_000); // past the first samples (each stream's first document needs a second one for its CPU %)
    const bytes0 = bytes;
    const window = await cpuWindow(berthdPid, cli.pid!);
    if (!running(cli)) throw new Error(`docker stats exited during the window: ${err.trim()}`);
    return { window, bytes: bytes - bytes0, namesSeen: seen.size, startMs, pctSample };
  } finally {
    // SIGKILL at once: against berthd the CLI outlasted 3 s after SIGINT and 5 s after SIGTERM,
    // and it is only a client (its output is thrown away). stopChild bounds the wait for its exit.
    if (running(cli)) cli.kill('SIGKILL');
    await stopChild(cli, 'docker stats', log);
    statsCli = undefined;
  }
}

// ---------- 2. docker run with and without limits ----------

function dockerRun(args: string[]): () => Promise<number> {
  return async () => {
    const r = await runCmd(DOCKER, ['run', '--rm', ...args, 'busybox', 'true'], { env, timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`docker run --rm ${args.join(' ')} busybox true failed (exit ${r.code}): ${r.stderr.trim()}`);
    return r.ms;
  };
}

/** What a container started with the limits sees of them (cgroup v1 or v2 files, ulimit -n). */
async function limitsSeen(): Promise<string> {
  const script = 'for f in memory/memory.limit_in_bytes memory.max cpu/cpu.cfs_quota_us cpu.max pids/pids.max pids.max; do '
    + '[ -r /sys/fs/cgroup/$f ] && echo "$f=$(cat /sys/fs/cgroup/$f)"; done; echo "nofile=$(ulimit -n)"';
  const r = await runCmd(DOCKER, ['run', '--rm', ...LIMITS, 'busybox', 'sh', '-c', script], { env, timeoutMs: 60_000 });
  if (r.code !== 0) return `(check failed, exit ${r.code}: ${r.stderr.trim()})`;
  return r.stdout.toString().trim().split('\n').join(', ');
}

// ---------- the run ----------

async function machine(): Promise<Record<string, string>> {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
  const out = async (f: string, a: string[]): Promise<string> => (await runCmd(f, a, { timeoutMs: 10_000 })).stdout.toString().trim();
  const dirty = await out('git', ['-C', repo, 'status', '--porcelain', '--', 'src', 'bin']);
  return {
    nproc: await out('nproc', []),
    cpu: model,
    kernel: await out('uname', ['-r']),
    node: process.version,
    docker: await out(DOCKER, ['version', '--format', '{{.Client.Version}}']),
    runc: (await out('runc', ['--version'])).split('\n')[0] ?? 'runc',
    cgroup: existsSync('/sys/fs/cgroup/cgroup.controllers') ? 'v2' : 'v1',
    commit: `${await out('git', ['-C', repo, 'rev-parse', '--short', 'HEAD'])}${dirty ? ' (with uncommitted changes under src/ or bin/)' : ''}`,
  };
}

async function main(): Promise<string> {
  const tStart = performance.now();
  const date = (await mustRun('date', ['-u'])).stdout.toString().trim();
  const info = await machine();
  clkTck = Number((await mustRun('getconf', ['CLK_TCK'])).stdout.toString().trim()) || 100;
  log(`berthd: data root ${dataRoot}, exec root ${execRoot}, bridge ${bridge} ${subnets.bip}, pool ${subnets.pool}; scratch ${scratch}`);
  daemon = await startBerthd({ repo, dataRoot, execRoot, socket, pidfile, logFile, args: ['--bridge', bridge, '--bip', subnets.bip, '--default-address-pool', subnets.pool] });
  const berthdPid = daemon.pid!;
  checkInterrupted();
  const tar = (await mustRun('bash', [join(repo, 'scripts/busybox-image.sh')], { timeoutMs: 60_000 })).stdout;
  await mustRun(DOCKER, ['import', '-c', 'CMD ["sh"]', '-', 'busybox:latest'], { input: tar, env, timeoutMs: 60_000 });
  const serverVersion = (await docker(['version', '--format', '{{.Server.Version}}'])).stdout.toString().trim();
  checkInterrupted();

  // 1. docker stats on N running containers.
  log(`1. starting ${N} busybox sleep 3600 containers …`);
  const startAllMs = await startContainers();
  log(`   ${N} running after ${fmt(startAllMs / 1000)} s; ${ROUNDS} rounds of idle / docker stats, ${WINDOW_S} s windows …`);
  // Why the names are passed: what `docker stats` without them does here (bounded to 8 s).
  const bare = await runCmd(DOCKER, ['stats', '--format', STATS_FORMAT], { env, timeoutMs: 8_000 });
  const bareNote = bare.stderr.includes('(timed out)')
    ? 'still streaming after 8 s'
    : `exits ${bare.code} after ${fmt(bare.ms / 1000)} s: "${bare.stderr.trim().split('\n').at(-1)}"`;
  log(`   docker stats without names: ${bareNote}`);
  await sleep(SETTLE_MS);
  const idle: Window[] = [];
  const busy: StatsRun[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    checkInterrupted();
    idle.push(await cpuWindow(berthdPid));
    checkInterrupted();
    busy.push(await withStats(berthdPid));
    log(`   round ${i + 1}/${ROUNDS}: idle berthd ${fmt(idle.at(-1)!.berthd)} %, with docker stats berthd ${fmt(busy.at(-1)!.window.berthd)} % and CLI ${fmt(busy.at(-1)!.window.cli)} % (${busy.at(-1)!.namesSeen} shown, ${busy.at(-1)!.bytes} B in the window)`);
    await sleep(SETTLE_MS); // the streams' ends reach berthd before the next idle window
  }
  const rssKb = Number(/VmRSS:\s*(\d+)/.exec(readFileSync(`/proc/${berthdPid}/status`, 'utf8'))?.[1]);
  const tRm = performance.now();
  await docker(['rm', '-f', ...names], 180_000);
  const rmAllMs = performance.now() - tRm;
  const stillThere = (await docker(['ps', '-aq'])).stdout.toString().split('\n').filter(Boolean).length;
  if (stillThere) throw new Error(`${stillThere} containers left after docker rm -f`);
  log(`   removed ${N} containers in ${fmt(rmAllMs / 1000)} s`);
  checkInterrupted();

  // 2. docker run --rm with limits against without, interleaved, the order alternating.
  log(`2. docker run --rm [limits] busybox true, ${RUNS} runs each after ${WARMUPS} warm-ups …`);
  const plain = { fn: dockerRun([]), samples: [] as number[] };
  const limited = { fn: dockerRun(LIMITS), samples: [] as number[] };
  for (let i = 0; i < WARMUPS; i++) { checkInterrupted(); await plain.fn(); await limited.fn(); }
  for (let i = 0; i < RUNS; i++) {
    for (const m of i % 2 === 0 ? [plain, limited] : [limited, plain]) {
      checkInterrupted();
      m.samples.push(await m.fn());
    }
    log(`   run ${i + 1}/${RUNS}: plain ${fmt(plain.samples.at(-1)!)} ms, limits ${fmt(limited.samples.at(-1)!)} ms`);
  }
  const seenLimits = await limitsSeen();
  const leftContainers = (await docker(['ps', '-aq'])).stdout.toString().split('\n').filter(Boolean).length;
  const leftConmon = conmonPidsOf(execRoot).length;

  // ---------- the section ----------
  const med = (xs: number[]): number => quantile(xs, 0.5);
  const idleB = med(idle.map((w) => w.berthd));
  const busyB = med(busy.map((r) => r.window.berthd));
  const diffs = busy.map((r, i) => r.window.berthd - idle[i]!.berthd);
  const cli = med(busy.map((r) => r.window.cli));
  const pPlain = med(plain.samples);
  const pLim = med(limited.samples);
  const each = (xs: number[]): string => xs.map((x) => fmt(x)).join(' / ');
  const lines: string[] = [];
  lines.push(`## Stats: ${date}`, '');
  lines.push(`Machine: ${info.nproc} CPUs (${info.cpu}), kernel ${info.kernel}, cgroup ${info.cgroup}, Node ${info.node}, ${info.runc}, Docker CLI ${info.docker}.`);
  lines.push(`Berth ${serverVersion} at ${info.commit}; \`bench/stats.ts\`, berthd on its own bridge (${subnets.bip}). CPU = utime + stime from /proc/<pid>/stat over ${WINDOW_S} s windows, in % of one CPU (clock tick ${fmt(1000 / clkTck, 0)} ms, so ±${fmt(100 / clkTck / WINDOW_S, 1)} %); 1a and 1b interleaved, ${ROUNDS} rounds, with ${N} \`busybox sleep 3600\` containers running; 2: ${RUNS} runs each after ${WARMUPS} warm-ups, interleaved, the order alternating.`, '');
  lines.push('| | measurement | median | runs | unit |', '|---|---|---:|---|---|');
  lines.push(`| 1a | berthd CPU, idle (nothing asks for stats) | ${fmt(idleB, 2)} | ${each(idle.map((w) => w.berthd))} | % of one CPU |`);
  lines.push(`| 1b | berthd CPU while \`docker stats --format '${STATS_FORMAT}' <${N} names>\` streams | ${fmt(busyB, 2)} | ${each(busy.map((r) => r.window.berthd))} | % of one CPU |`);
  lines.push(`| 1b − 1a | what streaming stats of ${N} containers costs berthd (per round) | ${fmt(med(diffs), 2)} | ${each(diffs)} | % of one CPU |`);
  lines.push(`| 1c | the \`docker stats\` CLI itself, same windows as 1b | ${fmt(cli, 2)} | ${each(busy.map((r) => r.window.cli))} | % of one CPU |`);
  lines.push(`| 2f | \`docker run --rm busybox true\` | ${fmt(pPlain)} | min ${fmt(Math.min(...plain.samples))}, p90 ${fmt(quantile(plain.samples, 0.9))} | ms |`);
  lines.push(`| 2a | \`docker run --rm ${LIMITS.join(' ')} busybox true\` | ${fmt(pLim)} | min ${fmt(Math.min(...limited.samples))}, p90 ${fmt(quantile(limited.samples, 0.9))} | ms |`);
  lines.push(`| 2a − 2f | what the limits add | ${fmt(pLim - pPlain)} | minima differ by ${fmt(Math.min(...limited.samples) - Math.min(...plain.samples))} | ms |`);
  lines.push('');
  const perContainer = med(diffs) / N;
  lines.push(`- Conclusions: streaming stats of ${N} containers (${N} samples/s) costs berthd ${fmt(med(diffs), 1)} % of one CPU over idle (${fmt(perContainer, 2)} % per container, ≈ ${fmt((perContainer / 100) * 1000, 2)} ms of CPU per sample), the CLI another ${fmt(cli, 1)} %; idle berthd with ${N} containers uses ${fmt(idleB, 1)} %. Limits add ${fmt(pLim - pPlain, 1)} ms to \`docker run\` (${fmt(pPlain, 1)} → ${fmt(pLim, 1)} ms median).`);
  lines.push(`- docker stats showed all ${N} containers ${each(busy.map((r) => r.startMs / 1000))} s after it started (the window began 1 s later); it wrote ${each(busy.map((r) => r.bytes / 1024))} KiB in the windows; a CPU % it showed: ${busy.at(-1)!.pctSample}. berthd's reaped children in the windows: idle ${each(idle.map((w) => w.berthdChildren))} %, with stats ${each(busy.map((r) => r.window.berthdChildren))} %. berthd RSS after the rounds: ${fmt(rssKb / 1024, 0)} MiB.`);
  lines.push(`- \`docker stats\` without names (which also follows GET /events) ${bareNote}; hence 1b names all ${N}.`);
  lines.push(`- Starting the ${N} containers one after another took ${fmt(startAllMs / 1000)} s, removing them with one \`docker rm -f\` ${fmt(rmAllMs / 1000)} s. What a container with the limits sees: ${seenLimits}.`);
  lines.push(`- Left in berthd after all runs (before its shutdown): ${leftContainers} containers, ${leftConmon} conmon processes. Whole run ${fmt((performance.now() - tStart) / 1000, 0)} s.`);
  const complaints = (() => { try { return readFileSync(logFile, 'utf8').split('\n'); } catch { return []; } })()
    .filter((l) => { try { return (JSON.parse(l) as { level?: number }).level! >= 40; } catch { return false; } });
  if (complaints.length) log(`berthd logged ${complaints.length} warnings/errors; the first ones:\n${complaints.slice(0, 10).join('\n')}`);
  return lines.join('\n');
}

let code = 0;
let section: string | undefined;
try {
  section = await withTimeout(main(), 600_000, 'the benchmark');
} catch (e) {
  if (!signals.interrupted()) {
    log(`benchmark failed: ${e instanceof Error ? e.message : String(e)}`);
    const tail = tailOf(logFile);
    if (tail) log(`--- berthd log (tail) ---\n${tail}`);
    code = 1;
  }
} finally {
  if (!signals.interrupted()) {
    await withTimeout(cleanup(), 150_000, 'cleanup').catch((e) => { log(String(e)); code = 1; });
    const left = await leftovers().catch((e) => [`leftover check failed: ${e}`]);
    if (left.length) { log(`left behind after cleanup: ${left.join(', ')}`); code = 1; }
    if (section !== undefined) {
      section += `\n- After berthd stopped and the cleanup ran: ${left.length ? `left behind: ${left.join(', ')}` : 'no berthd, containers, conmon, bridge, iptables rules, netns, cgroups, mounts or dirs of this run left'}.\n`;
      process.stdout.write(`\n${section}\n`);
      if (!values['no-append']) {
        const file = join(repo, 'BENCHMARKS.md');
        if (!existsSync(file)) writeFileSync(file, '# Benchmarks\n');
        appendFileSync(file, `\n${section}`);
        log(`appended to ${file}`);
      }
    }
    process.exit(code);
  }
}
