// Logs: `docker logs` of a container that wrote 100 MB to stdout, and `docker logs -f` keeping
// up with a container writing 100 MB as fast as it can — berthd against a private dockerd
// (Debian's docker.io, when installed) and against a plain pipe.
//
//   node_modules/.bin/node bench/logs.ts [--runs N] [--follow-runs N] [--no-append] [--no-dockerd]
//
// The container's output: 1,000,000 lines of 100 bytes (`line NNNNNNN xxx…`, busybox awk).
// berthd's container gets `--log-opt max-size=50m --log-opt max-file=5` (its ~145 MB of k8s-file
// lines span three files, so the read crosses rotations; the default 10m × 5 would keep only the
// last 50 MB); dockerd's has json-file without options (unbounded, its default).
//   a. `docker logs lg`, stdout counted (not kept) by this script: MB/s of payload; each run
//      checks that exactly 100,000,000 bytes arrived
//   p. the floor: `cat` of the same 100 MB file through the same counting pipe
//   f. `docker run -d … sh -c 'sleep 1; awk …'` then at once `docker logs -f`: the writer's own
//      rate (State.StartedAt + 1 s → State.FinishedAt), and how long after the container's exit the
//      follower had everything (its exit; berthd ends a follow 150 ms after the exit, dockerd when
//      the log closes), bytes checked
// a and p interleaved over --runs rounds (default 5) after one warm-up; f over --follow-runs
// (default 3), berthd then dockerd. Medians. Prints a Markdown section and appends it to
// BENCHMARKS.md. Everything it made is taken away again, also on failure or Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { daemonTag } from '../src/engine/engine.ts';
import {
  DOCKER, log, fmt, runCmd, mustRun, quantile, mountsUnder, startBerthd, onSignals, stopChild,
  benchPaths, runsOption, machineInfo, outputOf, logComplaints, appendSection, killRuntimeLeftovers,
  unmountAndRemove, runBench, removeCgroupTree, processesOf, startPrivateDockerd, stopPrivateDockerd, type PrivateDockerd,
  importBusybox, cgroupDirsOf,
  leftovers,
} from './lib.ts';

const repo = resolve(import.meta.dirname, '..');
const LINES = 1_000_000;
const LINE_BYTES = 100;
const TOTAL = LINES * LINE_BYTES;
const TARGET_MBS = 100;
const AWK = `awk 'BEGIN { p = sprintf("%86s", ""); gsub(/ /, "x", p); for (i = 1; i <= ${LINES}; i++) printf "line %07d %s\\n", i, p }'`;
const BERTH_OPTS = ['--log-opt', 'max-size=50m', '--log-opt', 'max-file=5'];

const { values } = parseArgs({ options: {
  runs: { type: 'string', default: '5' }, 'follow-runs': { type: 'string', default: '3' },
  'no-append': { type: 'boolean', default: false }, 'no-dockerd': { type: 'boolean', default: false },
} });
const RUNS = runsOption(values.runs);
const FOLLOW_RUNS = runsOption(values['follow-runs']);

const paths = benchPaths();
const { tag, execRoot, socket, pidfile, dataRoot, scratch, cliConfig, logFile, env } = paths;
const dockerdExecRoot = `/run/bbd-${tag}`;
const dockerdCgroup = `berthbench-${tag}`;
const payload = join(scratch, 'payload.txt');

let daemon: ChildProcess | undefined;
let dockerd: PrivateDockerd | undefined;
let cleaning: Promise<void> | undefined;

async function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await stopChild(daemon, 'berthd', log).catch((e) => log(`stopping berthd: ${e}`));
    await killRuntimeLeftovers(execRoot);
    removeCgroupTree(`berth-${daemonTag(execRoot)}`);
    await stopPrivateDockerd(dockerd).catch((e) => log(`stopping dockerd: ${e}`));
    if (dockerd) removeCgroupTree(dockerdCgroup);
    await unmountAndRemove([dataRoot, execRoot, dockerdExecRoot, scratch], 120_000);
  })();
  return cleaning;
}

const signals = onSignals(cleanup, 150_000, log);
const check = signals.check;

interface Counted { bytes: number; ms: number; code: number; stderr: string; endAt: number }

/** Runs a command with its stdout counted, not kept; `endAt` is when it exited (epoch ms). */
function counted(file: string, args: string[], e: NodeJS.ProcessEnv, timeoutMs = 300_000): Promise<Counted> {
  return new Promise((resolveP) => {
    const t0 = performance.now();
    const child = spawn(file, args, { env: e, stdio: ['ignore', 'pipe', 'pipe'] });
    let bytes = 0;
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => { bytes += b.length; });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => { stderr += String(err); });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveP({ bytes, ms: performance.now() - t0, code: code ?? -1, stderr, endAt: Date.now() });
    });
  });
}

function writePayload(): Promise<void> {
  return new Promise((resolveP, reject) => {
    const out = createWriteStream(payload);
    const pad = 'x'.repeat(LINE_BYTES - 14);
    const chunk: string[] = [];
    for (let i = 1; i <= LINES; i++) {
      chunk.push(`line ${String(i).padStart(7, '0')} ${pad}\n`);
      if (chunk.length === 10_000) { out.write(chunk.join('')); chunk.length = 0; }
    }
    out.end(chunk.join(''));
    out.on('finish', resolveP);
    out.on('error', reject);
  });
}

interface Daemon { who: 'berthd' | 'dockerd'; env: NodeJS.ProcessEnv; opts: string[] }

async function logsOnce(d: Daemon): Promise<number> {
  const r = await counted(DOCKER, ['logs', 'lg'], d.env);
  if (r.code !== 0 || r.bytes !== TOTAL) throw new Error(`${d.who}: docker logs gave ${r.bytes} bytes (exit ${r.code}): ${r.stderr.slice(0, 300)}`);
  return TOTAL / 1e6 / (r.ms / 1000);
}

async function floorOnce(): Promise<number> {
  const r = await counted('cat', [payload], process.env);
  if (r.code !== 0 || r.bytes !== TOTAL) throw new Error(`cat gave ${r.bytes} bytes`);
  return TOTAL / 1e6 / (r.ms / 1000);
}

const ms = (rfc3339: string): number => Date.parse(rfc3339.replace(/(\.\d{3})\d+/, '$1'));

interface FollowRun { writerMBs: number; lagMs: number; followMBs: number }

async function followOnce(d: Daemon, i: number): Promise<FollowRun> {
  const name = `fol${i}`;
  await mustRun(DOCKER, ['run', '-d', '--name', name, ...d.opts, 'busybox', 'sh', '-c', `sleep 1; ${AWK}`], { env: d.env, timeoutMs: 60_000 });
  const r = await counted(DOCKER, ['logs', '-f', name], d.env);
  const st = JSON.parse((await mustRun(DOCKER, ['inspect', '-f', '{{json .State}}', name], { env: d.env })).stdout.toString()) as { StartedAt: string; FinishedAt: string; ExitCode: number };
  await mustRun(DOCKER, ['rm', name], { env: d.env });
  if (r.code !== 0 || r.bytes !== TOTAL || st.ExitCode !== 0) throw new Error(`${d.who}: logs -f gave ${r.bytes} bytes (exit ${r.code}, container exit ${st.ExitCode}): ${r.stderr.slice(0, 300)}`);
  const writeStart = ms(st.StartedAt) + 1000;
  const writeEnd = ms(st.FinishedAt);
  return { writerMBs: TOTAL / 1e6 / ((writeEnd - writeStart) / 1000), lagMs: r.endAt - writeEnd, followMBs: TOTAL / 1e6 / ((r.endAt - writeStart) / 1000) };
}

async function dockerdAvailable(): Promise<string | undefined> {
  const v = await runCmd('dockerd', ['--version'], { timeoutMs: 10_000 });
  return v.code === 0 ? v.stdout.toString().trim() : undefined;
}

async function main(): Promise<void> {
  const tStart = performance.now();
  const date = (await mustRun('date', ['-u'])).stdout.toString().trim();
  const info = { ...await machineInfo(repo, ' (with uncommitted changes under src/)'), fs: await outputOf('findmnt', ['-n', '-o', 'FSTYPE', '-T', scratch]) };
  await writePayload();
  daemon = await startBerthd({ repo, dataRoot, execRoot, socket, pidfile, logFile, args: ['--bridge', 'none'] });
  const serverVersion = (await mustRun(DOCKER, ['version', '--format', '{{.Server.Version}}'], { env })).stdout.toString().trim();
  const busyboxTar = await importBusybox(repo, env);
  check();
  const daemons: Daemon[] = [{ who: 'berthd', env, opts: [...BERTH_OPTS, '--network', 'none'] }];
  let dockerdNote = values['no-dockerd'] ? 'not measured (--no-dockerd)' : 'not measured: no dockerd installed (Debian package docker.io)';
  const dockerdVersion = values['no-dockerd'] ? undefined : await dockerdAvailable();
  if (dockerdVersion) {
    dockerd = await startPrivateDockerd({ dataRoot: join(scratch, 'docker'), execRoot: dockerdExecRoot, scratch, cliConfig, args: ['--cgroup-parent', dockerdCgroup] });
    await mustRun(DOCKER, ['import', '-c', 'CMD ["sh"]', '-', 'busybox:latest'], { input: busyboxTar, env: dockerd.env, timeoutMs: 60_000 });
    const sv = (await mustRun(DOCKER, ['version', '--format', '{{.Server.Version}}'], { env: dockerd.env })).stdout.toString().trim();
    dockerdNote = `dockerd ${sv} (\`${dockerdVersion}\`), private (own roots and socket, containerd namespace berthbench, \`--bridge none\`), json-file without options`;
    daemons.push({ who: 'dockerd', env: dockerd.env, opts: ['--network', 'none'] });
  }
  check();

  // The 100 MB container, once per daemon.
  const files: string[] = [];
  for (const d of daemons) {
    await mustRun(DOCKER, ['run', '--name', 'lg', '-d', ...d.opts, 'busybox', 'sh', '-c', AWK], { env: d.env, timeoutMs: 60_000 });
    await mustRun(DOCKER, ['wait', 'lg'], { env: d.env, timeoutMs: 300_000 });
    const lp = (await mustRun(DOCKER, ['inspect', '-f', '{{.LogPath}}', 'lg'], { env: d.env })).stdout.toString().trim();
    const ls = await runCmd('sh', ['-c', `ls -l ${lp}* | awk '{ print $5, $9 }'`]);
    files.push(`${d.who}: ${ls.stdout.toString().trim().split('\n').map((l) => { const [size, name] = l.split(' '); return `${name!.split('/').pop()} ${fmt(Number(size) / 1e6, 1)} MB`; }).join(', ')}`);
    check();
  }

  const logs = new Map<string, number[]>(daemons.map((d) => [d.who, []]));
  const floor: number[] = [];
  for (let i = -1; i < RUNS; i++) {
    const row: string[] = [];
    for (const d of daemons) { check(); const v = await logsOnce(d); if (i >= 0) logs.get(d.who)!.push(v); row.push(`${d.who}=${fmt(v)}`); }
    check();
    const p = await floorOnce();
    if (i >= 0) floor.push(p);
    log(`logs ${i < 0 ? 'warm-up' : `run ${i + 1}/${RUNS}`}: ${row.join(' ')} pipe=${fmt(p)} MB/s`);
  }

  const follow = new Map<string, FollowRun[]>(daemons.map((d) => [d.who, []]));
  for (let i = 0; i < FOLLOW_RUNS; i++) {
    for (const d of daemons) {
      check();
      const f = await followOnce(d, i);
      follow.get(d.who)!.push(f);
      log(`follow run ${i + 1}/${FOLLOW_RUNS} ${d.who}: writer ${fmt(f.writerMBs)} MB/s, follower done ${fmt(f.lagMs)} ms after the exit, ${fmt(f.followMBs)} MB/s end to end`);
    }
  }
  const berthRss = Number((await runCmd('ps', ['-o', 'rss=', '-p', String(daemon.pid)])).stdout.toString().trim()) / 1024;

  const med = (xs: number[]): number => quantile(xs, 0.5);
  const range = (xs: number[]): string => `${fmt(Math.min(...xs))} – ${fmt(Math.max(...xs))}`;
  const out: string[] = [];
  out.push(`## Logs: ${date}`, '');
  out.push(`Machine: ${info.nproc} CPUs (${info.cpu}), kernel ${info.kernel}, ${info.fs} under /var/tmp, Node ${info.node}, Docker CLI ${info.docker}.`);
  out.push(`Berth ${serverVersion} at ${info.commit}; \`bench/logs.ts\`: a container printing ${LINES.toLocaleString('en')} lines of ${LINE_BYTES} bytes (100 MB, busybox awk) to stdout; berthd's with \`${BERTH_OPTS.join(' ')}\` (conmon's k8s-file lines, rotated: the read crosses files), dockerd's json-file without options. stdout of the CLI counted by the benchmark, never kept; every run checks that exactly ${TOTAL.toLocaleString('en')} bytes arrived. ${RUNS} runs of a and p, interleaved, after one warm-up; ${FOLLOW_RUNS} of f. Medians.`);
  out.push(`dockerd: ${dockerdNote}.`, '');
  out.push('| | measurement | berthd | min – max | dockerd | min – max | unit |', '|---|---|---:|---:|---:|---:|---|');
  const dk = (f: (who: string) => number[]): [string, string] => (dockerd ? [fmt(med(f('dockerd'))), range(f('dockerd'))] : ['—', '—']);
  out.push(`| a | \`docker logs\` of the 100 MB container | ${fmt(med(logs.get('berthd')!))} | ${range(logs.get('berthd')!)} | ${dk((w) => logs.get(w)!).join(' | ')} | MB/s |`);
  out.push(`| p | a plain pipe: \`cat\` of the same 100 MB file into the same counter | ${fmt(med(floor))} | ${range(floor)} | | | MB/s |`);
  const fv = (who: string, k: keyof FollowRun): number[] => follow.get(who)!.map((f) => f[k]);
  out.push(`| f1 | a container writing 100 MB at full speed: its rate | ${fmt(med(fv('berthd', 'writerMBs')))} | ${range(fv('berthd', 'writerMBs'))} | ${dk((w) => fv(w, 'writerMBs')).join(' | ')} | MB/s |`);
  out.push(`| f2 | \`docker logs -f\` of it: done after the container's exit | ${fmt(med(fv('berthd', 'lagMs')))} | ${range(fv('berthd', 'lagMs'))} | ${dk((w) => fv(w, 'lagMs')).join(' | ')} | ms |`);
  out.push(`| f3 | \`docker logs -f\`: 100 MB / (follower done − writer start) | ${fmt(med(fv('berthd', 'followMBs')))} | ${range(fv('berthd', 'followMBs'))} | ${dk((w) => fv(w, 'followMBs')).join(' | ')} | MB/s |`);
  out.push('');
  const a = med(logs.get('berthd')!);
  out.push(`- Target: \`docker logs\` of 100 MB at ≥ ${TARGET_MBS} MB/s: ${fmt(a)} MB/s (${a >= TARGET_MBS ? 'met' : 'not met'}), ${fmt(a / med(floor) * 100)} % of the pipe${dockerd ? `, ${fmt(a / med(logs.get('dockerd')!), 1)}× dockerd` : ''}.`);
  out.push(`- Log files after the 100 MB run: ${files.join('; ')}.`);
  out.push(`- berthd RSS after the runs: ${fmt(berthRss)} MiB. Whole run ${fmt((performance.now() - tStart) / 1000)} s.`);
  out.push('');
  const section = out.join('\n');
  logComplaints(logFile);
  process.stdout.write(`\n${section}\n`);
  if (!values['no-append']) appendSection(repo, section);
}

/** After cleanup: nothing of ours may be left (processes, mounts, dirs, cgroups). */
async function after(): Promise<boolean> {
  const left = leftovers({
    processes: [['dockerd', dockerdExecRoot], ['containerd', dockerdExecRoot], ['node', execRoot], ['conmon', execRoot]],
    roots: [dataRoot, execRoot, dockerdExecRoot, scratch], cgroups: [`berth-${daemonTag(execRoot)}`, dockerdCgroup],
  });
  if (left.length) log(`left behind: ${left.join('; ')}`);
  return left.length === 0;
}

await runBench(main, { signals, cleanup, cleanupTimeoutMs: 150_000, logFile, after });
