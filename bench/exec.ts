// Latency of an exec in a running container: `docker exec CTR true` through the Docker CLI and
// the API's create → start (attached, hijacked) → inspect, against berthd and a private dockerd,
// next to the floor neither can go below: `runc exec CTR true` on the same berthd container.
//
//   node_modules/.bin/node bench/exec.ts [--runs N] [--no-dockerd] [--no-append] [--base REV [--head REV]]
//
// Starts berthd (and, when installed, a dockerd of its own), imports busybox:latest into each,
// runs one `sleep` container in each, then takes N samples of every measurement interleaved
// round-robin (after 3 warm-up rounds), so that the machine's noise falls on all of them alike:
//   a. docker exec CTR true                        (CLI → berthd)
//   b. API exec create → start → inspect           (berthd, keep-alive, no CLI)
//   c. runc exec CTR true                          (the runtime's floor, berthd's container)
//   d. docker version --format …                   (the CLI's own floor)
//   e. (a) against the private dockerd
//   f. (b) against the private dockerd
// With --base REV, (a) and (b) are also taken against a second berthd of commit REV (a0, b0),
// and both berthds run their sources from git worktrees (HEAD's and REV's, under /var/tmp) with
// this checkout's node_modules, so that the pair differs only by the commits.
// prints a Markdown section (medians, p90, ratios) and appends it to BENCHMARKS.md.
// Everything it made is taken away again, also on failure or Ctrl-C.
import { type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { symlinkSync } from 'node:fs';
import net from 'node:net';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { daemonTag } from '../src/engine/engine.ts';
import {
  DOCKER, log, fmt as fmtN, cliMeasure, type Measure, runCmd, mustRun, api, quantile, startBerthd, onSignals, stopChild, removeCgroupTree,
  benchPaths, runsOption, importBusybox, machineInfo, outputOf, runInterleaved, logComplaints, appendSection,
  killRuntimeLeftovers, unmountAndRemove, runBench, startPrivateDockerd, stopPrivateDockerd, leftovers,
  type PrivateDockerd, type Sampled,
} from './lib.ts';

const repo = resolve(import.meta.dirname, '..');
const WARMUPS = 3;
const FLOOR_RATIO = 1.3;
const fmt = (x: number): string => fmtN(x, 1);

const { values } = parseArgs({ options: {
  runs: { type: 'string', default: '20' }, 'no-append': { type: 'boolean', default: false }, 'no-dockerd': { type: 'boolean', default: false }, base: { type: 'string' }, head: { type: 'string', default: 'HEAD' },
} });
const RUNS = runsOption(values.runs);

const { tag, execRoot, socket, pidfile, dataRoot, scratch, cliConfig, logFile, env } = benchPaths();
const dockerdExecRoot = `/run/bbd-${tag}`;
const dockerdCgroup = `berthbench-${tag}`;

let daemon: ChildProcess | undefined;
/** --base: the base commit's berthd, its roots and worktree; HEAD's worktree. */
const base = values.base ? { ...benchPaths(), rev: values.base, dir: `/var/tmp/berth-bench-wt-${tag}-base`, headDir: `/var/tmp/berth-bench-wt-${tag}-head` } : undefined;
let baseDaemon: ChildProcess | undefined;
let dockerd: PrivateDockerd | undefined;
let cleaning: Promise<void> | undefined;

async function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    if (daemon) await runCmd(DOCKER, ['rm', '-f', 'bench-exec'], { env, timeoutMs: 30_000 });
    await stopChild(daemon, 'berthd', log).catch((e) => log(`stopping berthd: ${e}`));
    await killRuntimeLeftovers(execRoot);
    removeCgroupTree(`berth-${daemonTag(execRoot)}`);
    if (base) {
      if (baseDaemon) await runCmd(DOCKER, ['rm', '-f', 'bench-exec'], { env: base.env, timeoutMs: 30_000 });
      await stopChild(baseDaemon, 'base berthd', log).catch((e) => log(`stopping base berthd: ${e}`));
      await killRuntimeLeftovers(base.execRoot);
      removeCgroupTree(`berth-${daemonTag(base.execRoot)}`);
      await unmountAndRemove([base.dataRoot, base.execRoot, base.scratch], 60_000);
      for (const d of [base.dir, base.headDir]) await runCmd('git', ['-C', repo, 'worktree', 'remove', '--force', d]);
    }
    if (dockerd) {
      await runCmd(DOCKER, ['rm', '-f', 'bench-exec'], { env: dockerd.env, timeoutMs: 30_000 });
      await stopPrivateDockerd(dockerd).catch((e) => log(`stopping dockerd: ${e}`));
      removeCgroupTree(dockerdCgroup);
    }
    await unmountAndRemove([dataRoot, execRoot, dockerdExecRoot, scratch], 60_000);
  })();
  return cleaning;
}

const signals = onSignals(cleanup, 90_000, log);
const checkInterrupted = signals.check;


/** POST /exec/{id}/start attached, as the CLI sends it; resolves with the raw stream once the daemon closes it. */
function hijackedStart(sock: string, execId: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ Detach: false, Tty: false });
    const c = net.connect(sock);
    const chunks: Buffer[] = [];
    const t = setTimeout(() => { c.destroy(); reject(new Error('exec start: no end within 30 s')); }, 30_000);
    c.on('connect', () => c.write(`POST /v1.41/exec/${execId}/start HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\n`
      + `Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`));
    c.on('data', (b: Buffer) => chunks.push(b));
    c.on('error', (e) => { clearTimeout(t); reject(e); });
    c.on('end', () => { c.end(); });
    c.on('close', () => { clearTimeout(t); resolve(Buffer.concat(chunks)); });
  });
}

/** Per-step medians of (b) and (f): create, start (until the stream ends), inspect. */
const steps = new Map<string, { create: number[]; start: number[]; inspect: number[] }>();

function apiMeasure(sock: string, ctr: string, agent: http.Agent, key: string): Measure {
  const s = { create: [] as number[], start: [] as number[], inspect: [] as number[] };
  steps.set(key, s);
  return async () => {
    const t0 = performance.now();
    const c = await api(sock, 'POST', `/v1.41/containers/${ctr}/exec`, { Cmd: ['true'], AttachStdout: true, AttachStderr: true }, agent);
    if (c.status !== 201) throw new Error(`exec create: ${c.status} ${c.body}`);
    const id = (JSON.parse(c.body.toString()) as { Id: string }).Id;
    const t1 = performance.now();
    const out = await hijackedStart(sock, id);
    if (!out.subarray(0, 12).toString().startsWith('HTTP/1.1 101')) throw new Error(`exec start: ${out.toString().slice(0, 200)}`);
    const t2 = performance.now();
    const i = await api(sock, 'GET', `/v1.41/exec/${id}/json`, undefined, agent);
    const t3 = performance.now();
    const r = JSON.parse(i.body.toString()) as { Running: boolean; ExitCode: number | null };
    if (i.status !== 200 || r.Running || r.ExitCode !== 0) throw new Error(`exec inspect: ${i.status} ${i.body}`);
    s.create.push(t1 - t0); s.start.push(t2 - t1); s.inspect.push(t3 - t2);
    return t3 - t0;
  };
}

function runcMeasure(root: string, id: string): Measure {
  return async () => {
    const r = await runCmd('runc', ['--root', root, 'exec', id, 'true'], { timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`runc exec failed (exit ${r.code}): ${r.stderr.trim()}`);
    return r.ms;
  };
}

async function main(): Promise<void> {
  const date = (await mustRun('date', ['-u'])).stdout.toString().trim();
  const info = { ...await machineInfo(repo, ' (with uncommitted changes under src/ or bin/)'), runc: (await outputOf('runc', ['--version'])).split('\n')[0] ?? '' };
  log(`berthd: data root ${dataRoot}, exec root ${execRoot}`);
  let headRepo = repo;
  if (base) {
    for (const [dir, rev] of [[base.headDir, values.head], [base.dir, base.rev]] as const) {
      await mustRun('git', ['-C', repo, 'worktree', 'add', '--detach', dir, rev]);
      symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'));
    }
    headRepo = base.headDir;
  }
  daemon = await startBerthd({ repo: headRepo, dataRoot, execRoot, socket, pidfile, logFile, args: ['--bridge', 'none'] });
  checkInterrupted();
  const tar = await importBusybox(repo, env);
  const ctr = (await mustRun(DOCKER, ['run', '-d', '--name', 'bench-exec', 'busybox', 'sleep', '3600'], { env, timeoutMs: 60_000 })).stdout.toString().trim();
  let baseCtr = '';
  if (base) {
    baseDaemon = await startBerthd({ repo: base.dir, dataRoot: base.dataRoot, execRoot: base.execRoot, socket: base.socket, pidfile: base.pidfile, logFile: base.logFile, args: ['--bridge', 'none'] });
    await importBusybox(repo, base.env);
    baseCtr = (await mustRun(DOCKER, ['run', '-d', '--name', 'bench-exec', 'busybox', 'sleep', '3600'], { env: base.env, timeoutMs: 60_000 })).stdout.toString().trim();
  }
  const serverVersion = (await mustRun(DOCKER, ['version', '--format', '{{.Server.Version}}'], { env })).stdout.toString().trim();
  checkInterrupted();

  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const measures: (Sampled & { label: string })[] = [
    { key: 'a', label: '`docker exec CTR true` (CLI → berthd)', fn: cliMeasure(['exec', 'bench-exec', 'true'], env), samples: [] },
    { key: 'b', label: 'API exec create → start (attached) → inspect (berthd)', fn: apiMeasure(socket, ctr, agent, 'b'), samples: [] },
    { key: 'c', label: 'runtime floor: `runc exec CTR true` (berthd\'s container)', fn: runcMeasure(join(execRoot, 'runc'), ctr), samples: [] },
    { key: 'd', label: "CLI floor: `docker version --format '{{.Server.Version}}'`", fn: cliMeasure(['version', '--format', '{{.Server.Version}}'], env), samples: [] },
  ];
  const bagent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  if (base) {
    measures.push(
      { key: 'a0', label: `(a) against berthd at the base commit ${base.rev}`, fn: cliMeasure(['exec', 'bench-exec', 'true'], base.env), samples: [] },
      { key: 'b0', label: `(b) against berthd at the base commit ${base.rev}`, fn: apiMeasure(base.socket, baseCtr, bagent, 'b0'), samples: [] },
    );
  }
  let dockerdNote = values['no-dockerd'] ? 'not measured (--no-dockerd)' : 'not measured: no dockerd installed';
  const dagent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  if (!values['no-dockerd'] && (await runCmd('dockerd', ['--version'], { timeoutMs: 10_000 }).catch(() => undefined))?.code === 0) {
    dockerd = await startPrivateDockerd({ dataRoot: join(scratch, 'docker'), execRoot: dockerdExecRoot, scratch, cliConfig, args: ['--cgroup-parent', dockerdCgroup] });
    await mustRun(DOCKER, ['import', '-c', 'CMD ["sh"]', '-', 'busybox:latest'], { input: tar, env: dockerd.env, timeoutMs: 60_000 });
    const dctr = (await mustRun(DOCKER, ['run', '-d', '--name', 'bench-exec', 'busybox', 'sleep', '3600'], { env: dockerd.env, timeoutMs: 60_000 })).stdout.toString().trim();
    const sv = (await mustRun(DOCKER, ['version', '--format', '{{.Server.Version}}'], { env: dockerd.env })).stdout.toString().trim();
    dockerdNote = `dockerd ${sv}, private (own data and exec root, socket, containerd namespace, cgroup parent), \`--bridge none --iptables=false\``;
    measures.push(
      { key: 'e', label: '`docker exec CTR true` (CLI → dockerd)', fn: cliMeasure(['exec', 'bench-exec', 'true'], dockerd.env), samples: [] },
      { key: 'f', label: 'API exec create → start (attached) → inspect (dockerd)', fn: apiMeasure(dockerd.socket, dctr, dagent, 'f'), samples: [] },
    );
  }
  for (const m of measures) {
    const fn = m.fn;
    m.fn = () => fn().catch((e: unknown) => { throw new Error(`${m.key}: ${e instanceof Error ? e.message : String(e)}`); });
  }
  await runInterleaved(measures, { runs: RUNS, warmups: WARMUPS, digits: 1, check: checkInterrupted, what: 'ms' });
  agent.destroy();
  dagent.destroy();
  bagent.destroy();

  const med = (k: string): number => quantile(measures.find((m) => m.key === k)?.samples ?? [], 0.5);
  const has = (k: string): boolean => measures.some((m) => m.key === k);
  /** The median of the round-by-round ratios x_i / y_i: the pairs saw the same moment's noise. */
  const paired = (x: string, y: string): number => {
    const xs = measures.find((m) => m.key === x)?.samples ?? [];
    const ys = measures.find((m) => m.key === y)?.samples ?? [];
    return quantile(xs.map((v, i) => v / ys[i]!), 0.5);
  };
  const lines: string[] = [];
  lines.push(`## Exec: ${date}`, '');
  lines.push(`Machine: ${info.nproc} CPUs (${info.cpu}), kernel ${info.kernel}, Node ${info.node}, ${info.runc}, Docker CLI ${info.docker}.`);
  const at = base ? `${values.head} (a, b) and ${base.rev} (a0, b0), each from a git worktree running its sources` : info.commit;
  lines.push(`Berth ${serverVersion} at ${at}, \`--bridge none\`; \`bench/exec.ts\`, ${RUNS} runs per measurement after ${WARMUPS} warm-up rounds, interleaved; one \`busybox sleep 3600\` container per daemon. dockerd: ${dockerdNote}.`, '');
  lines.push('| | measurement | median ms | p90 ms | min ms |', '|---|---|---:|---:|---:|');
  for (const m of measures) lines.push(`| ${m.key} | ${m.label} | ${fmt(quantile(m.samples, 0.5))} | ${fmt(quantile(m.samples, 0.9))} | ${fmt(Math.min(...m.samples))} |`);
  lines.push('');
  for (const [k, s] of steps) {
    if (s.create.length) lines.push(`- (${k}) split, medians in ms: create ${fmt(quantile(s.create, 0.5))}, start until the stream ends ${fmt(quantile(s.start, 0.5))}, inspect ${fmt(quantile(s.inspect, 0.5))}.`);
  }
  const verdict = (r: number, max: number): string => (r <= max ? 'met' : 'not met');
  lines.push(`- median(b) / median(c) = ${(med('b') / med('c')).toFixed(2)}× the \`runc exec\` floor (target ≤ ${FLOOR_RATIO}×: ${verdict(med('b') / med('c'), FLOOR_RATIO)}); paired, round by round: ${paired('b', 'c').toFixed(2)}×.`);
  lines.push(`- median(a) / median(c) = ${(med('a') / med('c')).toFixed(2)}×; without the CLI's own cost, (median(a) − median(d)) / median(c) = ${((med('a') - med('d')) / med('c')).toFixed(2)}× (target ≤ ${FLOOR_RATIO}×: ${verdict((med('a') - med('d')) / med('c'), FLOOR_RATIO)}).`);
  if (has('e')) {
    lines.push(`- vs dockerd: median(a) / median(e) = ${(med('a') / med('e')).toFixed(2)}, median(b) / median(f) = ${(med('b') / med('f')).toFixed(2)} (target < 1: ${verdict(med('a') / med('e'), 0.999)}, ${verdict(med('b') / med('f'), 0.999)}); paired, round by round: a/e ${paired('a', 'e').toFixed(2)}, b/f ${paired('b', 'f').toFixed(2)}.`);
  }
  if (base) {
    lines.push(`- vs the base commit ${base.rev} (both berthds from worktrees, running their sources): median(a) / median(a0) = ${(med('a') / med('a0')).toFixed(2)}, median(b) / median(b0) = ${(med('b') / med('b0')).toFixed(2)}; paired, round by round: a/a0 ${paired('a', 'a0').toFixed(2)}, b/b0 ${paired('b', 'b0').toFixed(2)}.`);
  }
  lines.push('');
  const section = lines.join('\n');
  logComplaints(logFile);
  process.stdout.write(`\n${section}\n`);
  if (!values['no-append']) appendSection(repo, section);
}

async function after(): Promise<boolean> {
  const left = leftovers({
    processes: [['dockerd', dockerdExecRoot], ['containerd', dockerdExecRoot], ['node', execRoot], ['conmon', execRoot]],
    roots: [dataRoot, execRoot, dockerdExecRoot, scratch, ...(base ? [base.dataRoot, base.execRoot, base.scratch, base.dir, base.headDir] : [])], cgroups: [`berth-${daemonTag(execRoot)}`, dockerdCgroup],
  });
  if (left.length) log(`left behind: ${left.join('; ')}`);
  return left.length === 0;
}

await runBench(main, { signals, cleanup, cleanupTimeoutMs: 90_000, logFile, after });
