// Wall time of the berth CLI next to the Docker CLI 28.2 (a Go binary), both against the same
// berthd, so that the difference is the clients' own: start-up, parsing, output.
//
//   node_modules/.bin/node bench/cli.ts [--runs N]
//
// Starts berthd on a fresh data root, imports busybox:latest, starts 100 `sleep` containers,
// then measures after warm-ups, N runs interleaved round-robin (the machine's noise falls on
// every measurement alike):
//   a. `--version`              (start-up alone: no daemon contact)
//   b. `version`                (start-up + /_ping + /version, client and server sections)
//   c. `ps` with 100 containers (start-up + list + table of 100 rows)
//   d. `run --rm busybox true`  (create, attach, start, wait, remove)
// each with `bin/berth` and `/usr/local/bin/docker`, and the floor under any Node.js program
// (`node -e 0` of the pinned Node), prints a Markdown section (medians, p90, ratios) and appends
// it to BENCHMARKS.md. Everything it made is taken away, also on failure.
import { type ChildProcess } from 'node:child_process';
import { resolve, join } from 'node:path';
import { parseArgs } from 'node:util';
import { removeRules } from '../src/network/firewall.ts';
import { daemonTag } from '../src/engine/engine.ts';
import {
  DOCKER, log, fmt, runCmd, mustRun, api, quantile, startBerthd, onSignals, stopChild, pickSubnets, removeCgroupTree,
  benchPaths, runsOption, importBusybox, machineInfo, runInterleaved, logComplaints, appendSection,
  killRuntimeLeftovers, unmountAndRemove, runBench, type Sampled,
} from './lib.ts';

const repo = resolve(import.meta.dirname, '..');
const BERTH = join(repo, 'bin/berth');
const WARMUPS = 3;
const CONTAINERS = 100;
const TARGET_RATIO = 2;

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' } } });
const RUNS = runsOption(values.runs);

const { tag, execRoot, socket, pidfile, dataRoot, scratch, logFile, env } = benchPaths();
const bridge = `bb${tag}`;
const subnets = pickSubnets();
let daemon: ChildProcess | undefined;
let cleaning: Promise<void> | undefined;

async function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    // berthd keeps containers running across its own shutdown (live restore): remove them first.
    const listed = await api(socket, 'GET', '/v1.47/containers/json?all=1').catch(() => undefined);
    const ids = listed?.status === 200 ? (JSON.parse(listed.body.toString()) as { Id: string }[]).map((c) => c.Id) : [];
    for (const id of ids) await api(socket, 'DELETE', `/v1.47/containers/${id}?force=1`).catch((e) => log(`removing ${id}: ${e}`));
    await stopChild(daemon, 'berthd', log).catch((e) => log(`stopping berthd: ${e}`));
    await killRuntimeLeftovers(execRoot);
    await removeRules(bridge).catch((e) => log(`iptables rules of ${bridge}: ${e}`));
    await runCmd('ip', ['link', 'del', bridge]);
    removeCgroupTree(`berth-${daemonTag(execRoot)}`);
    await unmountAndRemove([dataRoot, execRoot, scratch], 60_000);
  })();
  return cleaning;
}

const signals = onSignals(cleanup, 120_000, log);

function measure(file: string, args: string[], expectOut?: RegExp): () => Promise<number> {
  return async () => {
    const r = await runCmd(file, args, { env, timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`${file} ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim()}`);
    if (expectOut && !expectOut.test(r.stdout.toString())) throw new Error(`${file} ${args.join(' ')}: unexpected output ${r.stdout.toString().slice(0, 200)}`);
    return r.ms;
  };
}

async function startSleepers(): Promise<void> {
  for (let i = 0; i < CONTAINERS; i++) {
    signals.check();
    const c = await api(socket, 'POST', `/v1.47/containers/create?name=sleeper-${i}`, { Image: 'busybox', Cmd: ['sleep', '3600'] });
    if (c.status !== 201) throw new Error(`create: ${c.status} ${c.body}`);
    const s = await api(socket, 'POST', `/v1.47/containers/sleeper-${i}/start`);
    if (s.status !== 204) throw new Error(`start: ${s.status} ${s.body}`);
  }
}

async function main(): Promise<void> {
  const date = (await mustRun('date', ['-u'])).stdout.toString().trim();
  const info = await machineInfo(repo, ' (uncommitted changes)');
  daemon = await startBerthd({ repo, dataRoot, execRoot, socket, pidfile, logFile, args: ['--bridge', bridge, '--bip', subnets.bip, '--default-address-pool', subnets.pool] });
  await importBusybox(repo, env);
  log(`starting ${CONTAINERS} containers`);
  await startSleepers();
  const rows = new RegExp(`^(?:.*\\n){${CONTAINERS + 1}}$`); // header + one line per container
  const pairs: { what: string; args: string[]; out?: RegExp }[] = [
    { what: '`--version` (start-up only)', args: ['--version'] },
    { what: '`version` (/_ping + /version)', args: ['version'], out: /Server/ },
    { what: `\`ps\` with ${CONTAINERS} running containers`, args: ['ps'], out: rows },
    { what: '`run --rm busybox true`', args: ['run', '--rm', 'busybox', 'true'] },
  ];
  const ms: Sampled[] = pairs.flatMap((p, i) => [
    { key: `${'abcd'[i]}-berth`, fn: measure(BERTH, p.args, p.out), samples: [] },
    { key: `${'abcd'[i]}-docker`, fn: measure(DOCKER, p.args, p.out), samples: [] },
  ]);
  const floor: Sampled = { key: 'node-e0', fn: measure(join(repo, 'node_modules/.bin/node'), ['-e', '0']), samples: [] };
  await runInterleaved([...ms, floor], { runs: RUNS, warmups: WARMUPS, digits: 1, check: signals.check });

  const med = (k: string): number => quantile(ms.find((m) => m.key === k)!.samples, 0.5);
  const p90 = (k: string): number => quantile(ms.find((m) => m.key === k)!.samples, 0.9);
  const lines = [`## CLI: ${date}`, ''];
  lines.push(`Machine: ${info.nproc} CPUs (${info.cpu}), kernel ${info.kernel}, Node ${info.node}, Docker CLI ${info.docker}; Berth at ${info.commit}.`);
  lines.push(`\`bench/cli.ts\`: ${RUNS} runs per measurement after ${WARMUPS} warm-ups, interleaved; both clients against the same berthd; \`bin/berth\` as users run it (sh wrapper + bundle).`, '');
  lines.push('| | command | berth median ms (p90) | docker median ms (p90) | berth / docker | berth − docker ms |', '|---|---|---:|---:|---:|---:|');
  pairs.forEach((p, i) => {
    const k = 'abcd'[i]!;
    lines.push(`| ${k} | ${p.what} | ${fmt(med(`${k}-berth`), 1)} (${fmt(p90(`${k}-berth`), 1)}) | ${fmt(med(`${k}-docker`), 1)} (${fmt(p90(`${k}-docker`), 1)}) | ${(med(`${k}-berth`) / med(`${k}-docker`)).toFixed(2)} | ${fmt(med(`${k}-berth`) - med(`${k}-docker`), 1)} |`);
  });
  const startup = med('a-berth') / med('a-docker');
  const nodeFloor = quantile(floor.samples, 0.5);
  lines.push(`| | floor: \`node -e 0\` (Node.js ${process.version} starting and exiting) | ${fmt(nodeFloor, 1)} (${fmt(quantile(floor.samples, 0.9), 1)}) | | ${(nodeFloor / med('a-docker')).toFixed(2)} | ${fmt(nodeFloor - med('a-docker'), 1)} |`);
  lines.push('', `- Target: berth's start-up within ${TARGET_RATIO}× the Docker CLI's. Start-up alone (a): ${startup.toFixed(2)}× — ${startup <= TARGET_RATIO ? 'met' : 'not met'}. Whole commands: ${['b', 'c', 'd'].map((k) => `${k} ${(med(`${k}-berth`) / med(`${k}-docker`)).toFixed(2)}×`).join(', ')}.`);
  lines.push(`- What berth adds to a bare Node.js start: ${fmt(med('a-berth') - nodeFloor, 1)} ms (a − floor); the rest of the gap to the Docker CLI is Node's own start-up.`);
  lines.push('');
  const section = lines.join('\n');
  logComplaints(logFile);
  process.stdout.write(`\n${section}\n`);
  appendSection(repo, section);
}

await runBench(main, { signals, cleanup, cleanupTimeoutMs: 120_000, logFile });
