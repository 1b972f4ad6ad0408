// Latency of `docker run --rm busybox true` against a berthd of its own, next to the floors
// it cannot go below: the Docker CLI's own round trip and a bare `runc run`.
//
//   node_modules/.bin/node bench/run-latency.ts [--runs N]
//
// Starts berthd on a fresh data root and a short exec root, imports busybox:latest from the
// host's busybox-static, measures (after 3 warm-ups each, then N runs interleaved round-robin
// so that the machine's noise falls on every measurement alike):
//   a. docker run --rm busybox true          (wall time of the whole CLI command)
//   b. create → start → wait → remove         (the API directly, node:http keep-alive Agent)
//   c. docker version --format …              (the CLI's floor: one process, two requests)
//   d. runc run of a busybox bundle           (the runtime's floor)
//   e. (a) against /var/run/docker.sock, when it exists and answers
// prints a Markdown section (medians and p90 in ms) and appends it to BENCHMARKS.md.
// Everything it made is taken away again, also on failure or Ctrl-C.
import { type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { removeRules } from '../src/network/firewall.ts';
import { daemonTag } from '../src/engine/engine.ts';
import { performance } from 'node:perf_hooks';
import {
  DOCKER, log, fmt as fmtN, cliMeasure, type Measure, makeBundle, runCmd, mustRun, api, quantile, conmonPidsOf, mountsUnder, startBerthd, onSignals, stopChild, pickSubnets, removeCgroupTree,
  benchPaths, runsOption, importBusybox, countListed, machineInfo, outputOf, runInterleaved, logComplaints, appendSection,
  killRuntimeLeftovers, unmountAndRemove, runBench,
} from './lib.ts';

const repo = resolve(import.meta.dirname, '..');
const WARMUPS = 3;
const TARGET_MS = 150;
const GOAL_MS = 60;

const fmt = (x: number): string => fmtN(x, 1);

// ---------- the run ----------

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' }, 'no-append': { type: 'boolean', default: false }, parallel: { type: 'string', default: '8' } } });
const RUNS = runsOption(values.runs);
/** How many `run --rm` (and `runc run`) at once in the throughput rows (f, g). */
const PARALLEL = runsOption(values.parallel);

const { tag, execRoot, socket, pidfile, dataRoot, scratch, logFile, env } = benchPaths(); // scratch: CLI config, berthd log, runc bundle
// A bridge and subnets of its own, so that the default bridge network is measured as users get it
// without touching another daemon's berth0.
const bridge = `bb${tag}`;
const subnets = pickSubnets();
const runtimeRoot = `${execRoot}/rr`; // `runc run` floor's own state, apart from berthd's <exec-root>/runc
const bundle = join(scratch, 'bundle');

let daemon: ChildProcess | undefined;
let cleaning: Promise<void> | undefined;

async function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await stopChild(daemon, 'berthd', log).catch((e) => log(`stopping berthd: ${e}`));
    await killRuntimeLeftovers(execRoot, [runtimeRoot]);
    await removeRules(bridge).catch((e) => log(`iptables rules of ${bridge}: ${e}`));
    await runCmd('ip', ['link', 'del', bridge]);
    removeCgroupTree(`berth-${daemonTag(execRoot)}`);
    await unmountAndRemove([dataRoot, execRoot, scratch], 30_000);
  })();
  return cleaning;
}

const signals = onSignals(cleanup, 60_000, log);
const checkInterrupted = signals.check;

async function dockerSockAnswers(): Promise<boolean> {
  if (!existsSync('/var/run/docker.sock')) return false;
  return api('/var/run/docker.sock', 'GET', '/_ping', undefined, undefined, 2_000).then((r) => r.status === 200, () => false);
}


/** Per-step times of (b), for the split line under the table. */
const steps: Record<'create' | 'start' | 'wait' | 'remove', number[]> = { create: [], start: [], wait: [], remove: [] };
let recordSteps = false;

function apiMeasure(agent: http.Agent): Measure {
  return async () => {
    const t0 = performance.now();
    const marks: number[] = [];
    const c = await api(socket, 'POST', '/v1.47/containers/create', { Image: 'busybox', Cmd: ['true'] }, agent);
    if (c.status !== 201) throw new Error(`create: ${c.status} ${c.body}`);
    marks.push(performance.now());
    const id = (JSON.parse(c.body.toString()) as { Id: string }).Id;
    const s = await api(socket, 'POST', `/v1.47/containers/${id}/start`, undefined, agent);
    if (s.status !== 204) throw new Error(`start: ${s.status} ${s.body}`);
    marks.push(performance.now());
    const w = await api(socket, 'POST', `/v1.47/containers/${id}/wait?condition=not-running`, undefined, agent);
    if (w.status !== 200) throw new Error(`wait: ${w.status} ${w.body}`);
    const exit = (JSON.parse(w.body.toString()) as { StatusCode: number }).StatusCode;
    if (exit !== 0) throw new Error(`container exited ${exit}`);
    marks.push(performance.now());
    const d = await api(socket, 'DELETE', `/v1.47/containers/${id}`, undefined, agent);
    if (d.status !== 204) throw new Error(`remove: ${d.status} ${d.body}`);
    const t1 = performance.now();
    if (recordSteps) {
      steps.create.push(marks[0]! - t0);
      steps.start.push(marks[1]! - marks[0]!);
      steps.wait.push(marks[2]! - marks[1]!);
      steps.remove.push(t1 - marks[2]!);
    }
    return t1 - t0;
  };
}

let runcSeq = 0; // shared by (d) and (g): runc IDs must not repeat
function runcMeasure(): Measure {
  return async () => {
    const r = await runCmd('runc', ['--root', runtimeRoot, 'run', '-b', bundle, `bench-${runcSeq++}`], { timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`runc run failed (exit ${r.code}): ${r.stderr.trim()}`);
    return r.ms;
  };
}

/**
 * Throughput: PARALLEL copies of `measure` at once; the sample is the wall time of the batch,
 * shown as containers per second (PARALLEL / seconds) in the table.
 */
function parallelMeasure(one: Measure): Measure {
  return async () => {
    const t0 = performance.now();
    await Promise.all(Array.from({ length: PARALLEL }, () => one()));
    return performance.now() - t0;
  };
}

async function machine(): Promise<Record<string, string>> {
  return { ...await machineInfo(repo), runc: (await outputOf('runc', ['--version'])).split('\n')[0] ?? '' };
}

async function main(): Promise<void> {
  const date = (await mustRun('date', ['-u'])).stdout.toString().trim();
  const info = await machine();
  log(`berthd: data root ${dataRoot}, exec root ${execRoot}`);
  daemon = await startBerthd({ repo, dataRoot, execRoot, socket, pidfile, logFile, args: ['--bridge', bridge, '--bip', subnets.bip, '--default-address-pool', subnets.pool] });
  checkInterrupted();
  const tar = await importBusybox(repo, env);
  await makeBundle(bundle, tar, ['true']);
  checkInterrupted();
  const serverVersion = (await mustRun(DOCKER, ['version', '--format', '{{.Server.Version}}'], { env })).stdout.toString().trim();

  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const measures: { key: string; label: string; fn: Measure; samples: number[] }[] = [
    { key: 'a', label: '`docker run --rm busybox true` (CLI → berthd)', fn: cliMeasure(['run', '--rm', 'busybox', 'true'], env), samples: [] },
    { key: 'b', label: 'API create → start → wait → remove (keep-alive, no CLI)', fn: apiMeasure(agent), samples: [] },
    { key: 'c', label: "CLI floor: `docker version --format '{{.Server.Version}}'`", fn: cliMeasure(['version', '--format', '{{.Server.Version}}'], env), samples: [] },
    { key: 'd', label: 'runtime floor: `runc run` of a busybox bundle', fn: runcMeasure(), samples: [] },
    { key: 'f', label: `\`docker run --rm busybox true\`, ${PARALLEL} at once (batch wall time)`, fn: parallelMeasure(cliMeasure(['run', '--rm', 'busybox', 'true'], env)), samples: [] },
    { key: 'g', label: `runtime floor: \`runc run\`, ${PARALLEL} at once (batch wall time)`, fn: parallelMeasure(runcMeasure()), samples: [] },
  ];
  let dockerd = 'not measured: /var/run/docker.sock does not exist';
  if (existsSync('/var/run/docker.sock')) dockerd = 'not measured: /var/run/docker.sock does not answer /_ping';
  if (await dockerSockAnswers()) {
    const denv = { ...env, DOCKER_HOST: 'unix:///var/run/docker.sock' };
    const probe = await runCmd(DOCKER, ['run', '--rm', 'busybox', 'true'], { env: denv, timeoutMs: 120_000 });
    if (probe.code === 0) {
      measures.push({ key: 'e', label: '`docker run --rm busybox true` (CLI → /var/run/docker.sock)', fn: cliMeasure(['run', '--rm', 'busybox', 'true'], denv), samples: [] });
    } else {
      dockerd = `not measured: docker run against /var/run/docker.sock failed: ${probe.stderr.trim().split('\n').pop()}`;
    }
  }

  for (const m of measures) {
    for (let i = 0; i < WARMUPS; i++) { checkInterrupted(); await m.fn(); }
  }
  recordSteps = true;
  await runInterleaved(measures, { runs: RUNS, digits: 1, check: checkInterrupted });
  agent.destroy();

  // What berthd left behind while still running: every container was removed, so nothing should remain.
  const leftContainers = await countListed(socket, '/v1.47/containers/json?all=1');
  const leftConmon = conmonPidsOf(execRoot).length;
  const leftMounts = mountsUnder(dataRoot, execRoot).length;
  const leftRunc = (await runCmd('runc', ['--root', join(execRoot, 'runc'), 'list', '-q'], { timeoutMs: 10_000 })).stdout.toString().split('\n').filter(Boolean).length;

  const med = (k: string): number => quantile(measures.find((m) => m.key === k)?.samples ?? [], 0.5);
  const lines: string[] = [];
  lines.push(`## ${date}`, '');
  lines.push(`Machine: ${info.nproc} CPUs (${info.cpu}), kernel ${info.kernel}, Node ${info.node}, ${info.runc}, Docker CLI ${info.docker}.`);
  lines.push(`Berth ${serverVersion} at ${info.commit}; ${RUNS} runs per measurement after ${WARMUPS} warm-ups, interleaved.`, '');
  lines.push('| | measurement | median ms | p90 ms | min ms |', '|---|---|---:|---:|---:|');
  for (const m of measures) lines.push(`| ${m.key} | ${m.label} | ${fmt(quantile(m.samples, 0.5))} | ${fmt(quantile(m.samples, 0.9))} | ${fmt(Math.min(...m.samples))} |`);
  if (!measures.some((m) => m.key === 'e')) lines.push(`| e | \`docker run --rm busybox true\` against dockerd | ${dockerd} | | |`);
  lines.push('', `(b) split, medians in ms: create ${fmt(quantile(steps.create, 0.5))}, start ${fmt(quantile(steps.start, 0.5))}, wait ${fmt(quantile(steps.wait, 0.5))}, remove ${fmt(quantile(steps.remove, 0.5))}.`, '');
  const ratio = med('a') / med('d');
  const a = med('a');
  const tput = (k: string): number => PARALLEL / (med(k) / 1000);
  lines.push(`- Throughput, ${PARALLEL} at once: (f) ${tput('f').toFixed(1)} ctr/s, (g) ${tput('g').toFixed(1)} ctr/s: ${(100 * tput('f') / tput('g')).toFixed(0)}% of the parallel \`runc run\` floor (target ≥ 40%).`);
  lines.push(`- median(b) / median(d) = ${(med('b') / med('d')).toFixed(2)}× (target ≤ 1.5×); remove alone ${fmt(quantile(steps.remove, 0.5))} ms (target ≤ 10 ms).`);
  lines.push(`- median(a) / median(d) = ${ratio.toFixed(1)}× the bare runtime; berthd's own share ≈ median(a) − median(c) − median(d) = ${fmt(a - med('c') - med('d'))} ms.`);
  if (measures.some((m) => m.key === 'e')) lines.push(`- median(a) / median(e) = ${(a / med('e')).toFixed(2)} (berthd vs the local dockerd).`);
  lines.push(`- Target (median of a): below ${TARGET_MS} ms, then ${GOAL_MS} ms: ${a < GOAL_MS ? `met (${fmt(a)} < ${GOAL_MS})` : a < TARGET_MS ? `first target met (${fmt(a)} < ${TARGET_MS}), not yet ${GOAL_MS}` : `not met (${fmt(a)} ≥ ${TARGET_MS})`}.`);
  lines.push(`- Reference on this kind of machine: Debian's dockerd 20.10 ≈ 340 ms, podman ≈ 630 ms, \`runc run\` ≈ 20 ms.`);
  lines.push(`- Left behind by berthd after all runs (before its shutdown): ${leftContainers} containers, ${leftRunc} runc containers, ${leftConmon} conmon processes, ${leftMounts} mounts.`);
  lines.push('');
  const section = lines.join('\n');

  // berthd's warnings and errors during the run go to stderr only (the log is removed with the rest).
  logComplaints(logFile);
  process.stdout.write(`\n${section}\n`);

  if (values['no-append']) return;
  appendSection(repo, section, [
    '# Benchmarks',
    '',
    'Start-up latency of a container through Berth, against the floors it cannot go below.',
    'Run on an otherwise idle-ish Linux machine, as root (berthd needs it), from the repository:',
    '',
    '```sh',
    'node_modules/.bin/node bench/run-latency.ts [--runs N]   # N defaults to 20',
    '```',
    '',
    'The script starts its own berthd (fresh data root under /var/tmp, exec root /run/bb-<hex>),',
    'imports busybox:latest from the host\'s busybox-static (`scripts/busybox-image.sh`), measures',
    '(a) `docker run --rm busybox true` through the Docker CLI, (b) create → start → wait → remove',
    'straight over the API socket, (c) the CLI\'s own floor (`docker version`), (d) a bare `runc run`',
    'of the same rootfs, and (e) (a) against /var/run/docker.sock when a dockerd answers there;',
    'then appends a dated section like those below, and takes away everything it made.',
    'The machines are shared and noisy: read the medians, not single runs.',
    '',
  ].join('\n'));
}

await runBench(main, { signals, cleanup, cleanupTimeoutMs: 60_000, logFile });
