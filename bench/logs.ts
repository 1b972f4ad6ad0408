// Logs: `docker logs` of a container that printed 50 MB to stdout (all of it in the log's
// retention), and `docker logs -f` of a container printing 50 MB then exiting — berthd against a
// private dockerd (Debian's docker.io, when installed) and against the floors of the same run.
//
//   node_modules/.bin/node bench/logs.ts [--runs N] [--no-append] [--no-dockerd]
//
// The container's output: 500,000 lines of 100 bytes (busybox `yes` of 99 x's, `head -c 50000000`).
// berthd's container gets `--log-opt max-size=50m --log-opt max-file=3` (its ~73 MB of k8s-file
// lines span two files, so the read crosses a rotation, and all of it is kept; the default 10m × 5
// would keep only the last 50 MB of file); dockerd's has json-file without options (unbounded).
//   a. `docker logs lg` into a counting pipe (the benchmark counts the CLI's stdout, never keeps
//      it): MB/s of payload; each run checks that exactly 50,000,000 bytes arrived
//   b. the API alone: GET /containers/lg/logs as the Docker CLI asks it (its User-Agent), the
//      body counted by this script: the daemon's own rate, without the CLI's start-up and copies
//   e. `docker logs` of a container that printed nothing: the CLI's fixed cost, in ms
//   r. floor: `cat` of berthd's log files of lg (k8s-file, ~73 MB) to /dev/null, given as 50 MB /
//      its time, so that a / r is the time ratio
//   p. floor: `cat` of a 50 MB file of the same lines through the same counting pipe
//   f. `docker run -d … sh -c 'sleep 1; yes … | head -c 50000000'`, then at once `docker logs -f`:
//      50 MB / (follower done − writer start); the writer's own rate (State.StartedAt + 1 s →
//      State.FinishedAt) bounds it, as does conmon writing the file
//   w. floor of f: the same `yes | head -c 50000000` through a pipe into the counter
// All interleaved over --runs rounds (default 5) after one warm-up round. Medians. Prints a
// Markdown section and appends it to BENCHMARKS.md. Everything it made is taken away again, also
// on failure or Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { daemonTag } from '../src/engine/engine.ts';
import {
  DOCKER, log, fmt, runCmd, mustRun, quantile, startBerthd, onSignals, stopChild,
  benchPaths, runsOption, machineInfo, outputOf, logComplaints, appendSection, killRuntimeLeftovers,
  unmountAndRemove, runBench, removeCgroupTree, startPrivateDockerd, stopPrivateDockerd, type PrivateDockerd,
  importBusybox, leftovers, runInterleaved, type Sampled,
} from './lib.ts';

const repo = resolve(import.meta.dirname, '..');
const LINE_BYTES = 100;
const TOTAL = 50_000_000;
const LINES = TOTAL / LINE_BYTES;
const LINE = 'x'.repeat(LINE_BYTES - 1);
const WRITER = `yes ${LINE} | head -c ${TOTAL}`;
const BERTH_OPTS = ['--log-opt', 'max-size=50m', '--log-opt', 'max-file=3'];
/** The Docker CLI's User-Agent (the API row asks as the CLI does: berthd frames its lines for it). */
const CLI_UA = 'Docker-Client/28.2.2 (linux)';

const { values } = parseArgs({ options: {
  runs: { type: 'string', default: '5' },
  'no-append': { type: 'boolean', default: false }, 'no-dockerd': { type: 'boolean', default: false },
} });
const RUNS = runsOption(values.runs);

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

/** GET of a container's logs over the daemon's socket, the body counted: [bytes, ms]. */
function apiLogs(sock: string, name: string): Promise<[number, number]> {
  return new Promise((resolveP, reject) => {
    const t0 = performance.now();
    const req = http.request({ socketPath: sock, path: `/v1.41/containers/${name}/logs?stdout=1&stderr=1`, headers: { 'User-Agent': CLI_UA } }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => { bytes += c.length; });
      res.on('end', () => (res.statusCode === 200 ? resolveP([bytes, performance.now() - t0]) : reject(new Error(`logs: HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.setTimeout(300_000, () => req.destroy(new Error('logs: timed out')));
    req.on('error', reject);
    req.end();
  });
}

interface Daemon { who: 'berthd' | 'dockerd'; env: NodeJS.ProcessEnv; socket: string; opts: string[] }

/** A log file's rotation number: `container.log.2` → 2, the current `container.log` → 0. */
const rotation = (name: string): number => Number(/\.(\d+)$/.exec(name)?.[1] ?? 0);

const mbs = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);

async function logsOnce(d: Daemon): Promise<number> {
  const r = await counted(DOCKER, ['logs', 'lg'], d.env);
  if (r.code !== 0 || r.bytes !== TOTAL) throw new Error(`${d.who}: docker logs gave ${r.bytes} bytes (exit ${r.code}): ${r.stderr.slice(0, 300)}`);
  return mbs(TOTAL, r.ms);
}

/** The API's rate: the body is the payload plus its frames' headers (a frame per ≤ 1 MiB run for the CLI at berthd, per line at dockerd); payload MB/s. */
async function apiOnce(d: Daemon): Promise<number> {
  const [bytes, t] = await apiLogs(d.socket, 'lg');
  if (bytes < TOTAL) throw new Error(`${d.who}: GET logs gave ${bytes} bytes`);
  return mbs(TOTAL, t);
}

async function emptyOnce(d: Daemon): Promise<number> {
  const r = await counted(DOCKER, ['logs', 'quiet'], d.env);
  if (r.code !== 0 || r.bytes !== 0) throw new Error(`${d.who}: docker logs quiet: exit ${r.code}, ${r.bytes} bytes: ${r.stderr.slice(0, 300)}`);
  return r.ms;
}

async function fileFloorOnce(files: string[]): Promise<number> {
  const r = await runCmd('sh', ['-c', 'cat "$@" >/dev/null', 'sh', ...files]);
  if (r.code !== 0) throw new Error(`cat of the log files: exit ${r.code}: ${r.stderr}`);
  return mbs(TOTAL, r.ms);
}

async function pipeFloorOnce(): Promise<number> {
  const r = await counted('cat', [payload], process.env);
  if (r.code !== 0 || r.bytes !== TOTAL) throw new Error(`cat gave ${r.bytes} bytes`);
  return mbs(TOTAL, r.ms);
}

async function writerFloorOnce(): Promise<number> {
  const r = await counted('busybox', ['sh', '-c', WRITER], process.env);
  if (r.code !== 0 || r.bytes !== TOTAL) throw new Error(`yes | head gave ${r.bytes} bytes`);
  return mbs(TOTAL, r.ms);
}

const ms = (rfc3339: string): number => Date.parse(rfc3339.replace(/(\.\d{3})\d+/, '$1'));

interface FollowRun { writerMBs: number; lagMs: number; followMBs: number }
let follows = 0;

async function followOnce(d: Daemon, into: Map<string, FollowRun[]>): Promise<number> {
  const name = `fol${follows++}`;
  await mustRun(DOCKER, ['run', '-d', '--name', name, ...d.opts, 'busybox', 'sh', '-c', `sleep 1; ${WRITER}`], { env: d.env, timeoutMs: 60_000 });
  const r = await counted(DOCKER, ['logs', '-f', name], d.env);
  const st = JSON.parse((await mustRun(DOCKER, ['inspect', '-f', '{{json .State}}', name], { env: d.env })).stdout.toString()) as { StartedAt: string; FinishedAt: string; ExitCode: number };
  await mustRun(DOCKER, ['rm', name], { env: d.env });
  if (r.code !== 0 || r.bytes !== TOTAL || st.ExitCode !== 0) throw new Error(`${d.who}: logs -f gave ${r.bytes} bytes (exit ${r.code}, container exit ${st.ExitCode}): ${r.stderr.slice(0, 300)}`);
  const writeStart = ms(st.StartedAt) + 1000;
  const writeEnd = ms(st.FinishedAt);
  const f = { writerMBs: mbs(TOTAL, writeEnd - writeStart), lagMs: r.endAt - writeEnd, followMBs: mbs(TOTAL, r.endAt - writeStart) };
  into.get(d.who)!.push(f);
  return f.followMBs;
}

async function dockerdAvailable(): Promise<string | undefined> {
  const v = await runCmd('dockerd', ['--version'], { timeoutMs: 10_000 });
  return v.code === 0 ? v.stdout.toString().trim() : undefined;
}

async function main(): Promise<void> {
  const tStart = performance.now();
  const date = (await mustRun('date', ['-u'])).stdout.toString().trim();
  const info = { ...await machineInfo(repo, ' (with uncommitted changes under src/)'), fs: await outputOf('findmnt', ['-n', '-o', 'FSTYPE', '-T', scratch]) };
  writeFileSync(payload, `${LINE}\n`.repeat(LINES));
  daemon = await startBerthd({ repo, dataRoot, execRoot, socket, pidfile, logFile, args: ['--bridge', 'none'] });
  const serverVersion = (await mustRun(DOCKER, ['version', '--format', '{{.Server.Version}}'], { env })).stdout.toString().trim();
  const busyboxTar = await importBusybox(repo, env);
  check();
  const daemons: Daemon[] = [{ who: 'berthd', env, socket, opts: [...BERTH_OPTS, '--network', 'none'] }];
  let dockerdNote = values['no-dockerd'] ? 'not measured (--no-dockerd)' : 'not measured: no dockerd installed (Debian package docker.io)';
  const dockerdVersion = values['no-dockerd'] ? undefined : await dockerdAvailable();
  if (dockerdVersion) {
    dockerd = await startPrivateDockerd({ dataRoot: join(scratch, 'docker'), execRoot: dockerdExecRoot, scratch, cliConfig, args: ['--cgroup-parent', dockerdCgroup] });
    await mustRun(DOCKER, ['import', '-c', 'CMD ["sh"]', '-', 'busybox:latest'], { input: busyboxTar, env: dockerd.env, timeoutMs: 60_000 });
    const sv = (await mustRun(DOCKER, ['version', '--format', '{{.Server.Version}}'], { env: dockerd.env })).stdout.toString().trim();
    dockerdNote = `dockerd ${sv} (\`${dockerdVersion}\`), private (own roots and socket, containerd namespace berthbench, \`--bridge none\`), json-file without options`;
    daemons.push({ who: 'dockerd', env: dockerd.env, socket: dockerd.socket, opts: ['--network', 'none'] });
  }
  check();

  // The 50 MB container and a quiet one, once per daemon.
  const files: string[] = [];
  let berthFiles: string[] = [];
  for (const d of daemons) {
    await mustRun(DOCKER, ['run', '--name', 'lg', '-d', ...d.opts, 'busybox', 'sh', '-c', WRITER], { env: d.env, timeoutMs: 60_000 });
    await mustRun(DOCKER, ['run', '--name', 'quiet', ...d.opts, 'busybox', 'true'], { env: d.env, timeoutMs: 60_000 });
    await mustRun(DOCKER, ['wait', 'lg'], { env: d.env, timeoutMs: 300_000 });
    const lp = (await mustRun(DOCKER, ['inspect', '-f', '{{.LogPath}}', 'lg'], { env: d.env })).stdout.toString().trim();
    const ls = (await mustRun('sh', ['-c', `ls -l ${lp}* | awk '$5 > 0 { print $5, $9 }'`])).stdout.toString().trim().split('\n').map((l) => l.split(' ') as [string, string]);
    files.push(`${d.who}: ${ls.map(([size, name]) => `${name.split('/').pop()} ${fmt(Number(size) / 1e6, 1)} MB`).join(', ')}`);
    // The files `docker logs` reads: the rotated ones, oldest first, then the current one.
    if (d.who === 'berthd') berthFiles = ls.map(([, name]) => name).filter((n) => /container\.log(\.\d+)?$/.test(n)).sort((x, y) => rotation(y) - rotation(x));
    check();
  }
  const berthFileBytes = Number((await mustRun('sh', ['-c', 'cat "$@" | wc -c', 'sh', ...berthFiles])).stdout.toString().trim());

  const follow = new Map<string, FollowRun[]>(daemons.map((d) => [d.who, []]));
  const sampled = (key: string, fn: () => Promise<number>): Sampled => ({ key, fn, samples: [] });
  const rows: Record<string, Sampled> = {};
  for (const d of daemons) {
    rows[`a-${d.who}`] = sampled(`logs-${d.who}`, () => logsOnce(d));
    rows[`b-${d.who}`] = sampled(`api-${d.who}`, () => apiOnce(d));
    rows[`e-${d.who}`] = sampled(`empty-${d.who}`, () => emptyOnce(d));
  }
  rows.r = sampled('file', () => fileFloorOnce(berthFiles));
  rows.p = sampled('pipe', () => pipeFloorOnce());
  for (const d of daemons) rows[`f-${d.who}`] = sampled(`follow-${d.who}`, () => followOnce(d, follow));
  rows.w = sampled('writer-pipe', () => writerFloorOnce());
  await runInterleaved(Object.values(rows), { runs: RUNS, warmups: 1, what: 'logs', digits: 0, check });
  // The warm-up's follow runs are not results.
  for (const runs of follow.values()) runs.splice(0, runs.length - RUNS);
  const berthRss = Number((await runCmd('ps', ['-o', 'rss=', '-p', String(daemon.pid)])).stdout.toString().trim()) / 1024;

  const med = (xs: number[]): number => quantile(xs, 0.5);
  const range = (xs: number[]): string => `${fmt(Math.min(...xs))} – ${fmt(Math.max(...xs))}`;
  const cell = (xs: number[] | undefined): string => (xs ? `${fmt(med(xs))} | ${range(xs)}` : '— | —');
  const row = (k: string): number[] | undefined => rows[k]?.samples;
  const fv = (who: string, k: keyof FollowRun): number[] | undefined => (follow.get(who)?.length ? follow.get(who)!.map((f) => f[k]) : undefined);
  const out: string[] = [];
  out.push(`## Logs: ${date}`, '');
  out.push(`Machine: ${info.nproc} CPUs (${info.cpu}), kernel ${info.kernel}, ${info.fs} under /var/tmp, Node ${info.node}, Docker CLI ${info.docker}.`);
  out.push(`Berth ${serverVersion} at ${info.commit}; \`bench/logs.ts\`: a container printing ${LINES.toLocaleString('en')} lines of ${LINE_BYTES} bytes (${TOTAL / 1e6} MB, busybox \`yes | head -c\`) to stdout; berthd's with \`${BERTH_OPTS.join(' ')}\` (conmon's k8s-file lines, ${fmt(berthFileBytes / 1e6, 1)} MB in ${berthFiles.length} files, all kept: the read crosses a rotation), dockerd's json-file without options. The CLI's stdout counted by the benchmark, never kept; every run checks that exactly ${TOTAL.toLocaleString('en')} bytes arrived. All rows interleaved, ${RUNS} rounds after one warm-up round. Medians; MB/s are of the ${TOTAL / 1e6} MB payload.`);
  out.push(`dockerd: ${dockerdNote}.`, '');
  out.push('| | measurement | berthd | min – max | dockerd | min – max | unit |', '|---|---|---:|---:|---:|---:|---|');
  out.push(`| a | \`docker logs lg\` (50 MB) | ${cell(row('a-berthd'))} | ${cell(row('a-dockerd'))} | MB/s |`);
  out.push(`| b | the API alone: GET /containers/lg/logs as the CLI asks it, body counted | ${cell(row('b-berthd'))} | ${cell(row('b-dockerd'))} | MB/s |`);
  out.push(`| e | \`docker logs\` of a container that printed nothing (the CLI's fixed cost) | ${cell(row('e-berthd'))} | ${cell(row('e-dockerd'))} | ms |`);
  out.push(`| r | floor: \`cat\` of berthd's log files of lg (${fmt(berthFileBytes / 1e6, 1)} MB) to /dev/null, as 50 MB / its time | ${cell(row('r'))} | | | MB/s |`);
  out.push(`| p | floor: \`cat\` of a 50 MB file of the same lines through the same counting pipe | ${cell(row('p'))} | | | MB/s |`);
  out.push(`| f | \`docker logs -f\` of a container printing 50 MB then exiting: 50 MB / (follower done − writer start) | ${cell(fv('berthd', 'followMBs'))} | ${cell(fv('dockerd', 'followMBs'))} | MB/s |`);
  out.push(`| f1 | its writer's rate, logging included (StartedAt + 1 s → FinishedAt) | ${cell(fv('berthd', 'writerMBs'))} | ${cell(fv('dockerd', 'writerMBs'))} | MB/s |`);
  out.push(`| f2 | the follower done after the container's exit | ${cell(fv('berthd', 'lagMs'))} | ${cell(fv('dockerd', 'lagMs'))} | ms |`);
  out.push(`| w | floor of f: the same \`yes \\| head -c\` through a pipe into the counter | ${cell(row('w'))} | | | MB/s |`);
  out.push('');
  const a = med(row('a-berthd')!);
  const b = med(row('b-berthd')!);
  const f = med(fv('berthd', 'followMBs')!);
  const pct = (x: number, floor: number): string => `${fmt(x / floor * 100)} %`;
  out.push(`- Target (≥ 50 % of the floors): \`docker logs\` ${fmt(a)} MB/s = ${pct(a, med(row('p')!))} of the pipe (p), ${pct(a, med(row('r')!))} of the file read (r); the API alone ${fmt(b)} MB/s = ${pct(b, med(row('p')!))} of p, ${pct(b, med(row('r')!))} of r. \`logs -f\` ${fmt(f)} MB/s = ${pct(f, med(row('w')!))} of its writer's pipe (w), ${pct(f, med(row('p')!))} of p; its own writer, through conmon, ran at ${fmt(med(fv('berthd', 'writerMBs')!))} MB/s.${dockerd ? ` dockerd: \`docker logs\` ${fmt(med(row('a-dockerd')!))} MB/s (berthd ${fmt(a / med(row('a-dockerd')!), 1)}×), \`logs -f\` ${fmt(med(fv('dockerd', 'followMBs')!))} MB/s.` : ''}`);
  out.push(`- Log files of lg: ${files.join('; ')}.`);
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
