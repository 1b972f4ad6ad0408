// berth compose (issue 19): `up -d` and `down -v` of the 6-service application
// (test/fixtures/compose/app6) by berth compose, by docker-compose 1.29 (Debian's) and, as the
// floor, by the plain commands that make the same things: 2 `network create`, 2 `volume create`
// and 6 `berth run -d` (and for down, 6 `rm -f`, 2 `network rm`, 2 `volume rm`), their times summed.
//
//   node_modules/.bin/node bench/compose.ts [--runs N] [--write]
//
// One berthd of its own (fresh data root under /var/tmp, exec root /run/bb-<hex>, its own bridge
// bb<hex> and subnets); busybox imported from the host's busybox-static and app6's two images
// built once with the classic builder, so no run builds or pulls. Each round runs, in turn, berth
// compose up/down, docker-compose up/down and the plain commands up/down, each under its own
// project name; rounds are interleaved (--runs, default 5, after one warm-up round) so that the
// machine's noise falls on all alike; medians and ratios. DB_READY_DELAY=0: db is healthy at its
// first check (250 ms after it starts), the wait both compose tools must make and the plain
// commands do not (they start app without waiting; the floor is the cost of the API calls).
// Targets: up -d ≥ 3× faster than docker-compose 1.29, and ≤ 1.5× the plain commands' sum.
// Prints a Markdown section to stdout; --write appends it to BENCHMARKS.md. Everything made is
// taken away again, also on failure or Ctrl-C.
import { type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { removeRules } from '../src/network/firewall.ts';
import { daemonTag } from '../src/engine/engine.ts';
import {
  DOCKER, log, fmt, runCmd, mustRun, withTimeout, api, quantile, startBerthd, onSignals, stopChild, pickSubnets,
  removeCgroupTree, benchPaths, runsOption, importBusybox, machineInfo, outputOf, runInterleaved, logComplaints,
  appendSection, killRuntimeLeftovers, unmountAndRemove, runBench, leftovers, type Sampled,
} from './lib.ts';

const repo = resolve(import.meta.dirname, '..');
const BERTH = join(repo, 'bin/berth');
const V1 = '/usr/bin/docker-compose';
const APP6 = join(repo, 'test/fixtures/compose/app6');
const FILE = join(APP6, 'compose.yaml');

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, write: { type: 'boolean', default: false } } });
const RUNS = runsOption(values.runs);

const paths = benchPaths();
const { tag, execRoot, socket, pidfile, dataRoot, scratch, logFile, env } = paths;
const bridge = `bb${tag}`;
const subnets = pickSubnets();
const berthCgroup = `berth-${daemonTag(execRoot)}`;
const composeEnv: NodeJS.ProcessEnv = { ...env, DB_READY_DELAY: '0', COMPOSE_DOCKER_CLI_BUILD: '0', DOCKER_BUILDKIT: '0', NO_COLOR: '1' };

let daemon: ChildProcess | undefined;
let cleaning: Promise<void> | undefined;

const alive = (p: ChildProcess | undefined): boolean => !!p && p.exitCode === null && p.signalCode === null;

/** Containers, then user networks and volumes, through the API (berthd keeps containers across its stop). */
async function removeAll(): Promise<void> {
  const list = await api(socket, 'GET', '/containers/json?all=1', undefined, undefined, 10_000);
  for (const { Id } of list.status === 200 ? JSON.parse(list.body.toString()) as { Id: string }[] : []) {
    const r = await api(socket, 'DELETE', `/containers/${Id}?force=1&v=1`, undefined, undefined, 60_000).catch((e: unknown) => ({ status: 0, body: Buffer.from(String(e)) }));
    if (r.status !== 204 && r.status !== 404) log(`removing container ${Id.slice(0, 12)}: ${r.status} ${r.body.toString().trim()}`);
  }
  const nets = await api(socket, 'GET', '/networks', undefined, undefined, 10_000);
  for (const n of nets.status === 200 ? JSON.parse(nets.body.toString()) as { Id: string; Name: string }[] : []) {
    if (['bridge', 'host', 'none'].includes(n.Name)) continue;
    const r = await api(socket, 'DELETE', `/networks/${n.Id}`, undefined, undefined, 30_000).catch((e: unknown) => ({ status: 0, body: Buffer.from(String(e)) }));
    if (r.status !== 204 && r.status !== 404) log(`removing network ${n.Name}: ${r.status} ${r.body.toString().trim()}`);
  }
  const vols = await api(socket, 'GET', '/volumes', undefined, undefined, 10_000);
  for (const v of vols.status === 200 ? (JSON.parse(vols.body.toString()) as { Volumes: { Name: string }[] | null }).Volumes ?? [] : []) {
    const r = await api(socket, 'DELETE', `/volumes/${encodeURIComponent(v.Name)}?force=1`, undefined, undefined, 30_000).catch((e: unknown) => ({ status: 0, body: Buffer.from(String(e)) }));
    if (r.status !== 204 && r.status !== 404) log(`removing volume ${v.Name}: ${r.status} ${r.body.toString().trim()}`);
  }
}

async function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    if (alive(daemon)) await withTimeout(removeAll(), 120_000, 'removing what the runs made').catch((e) => log(String(e)));
    await stopChild(daemon, 'berthd', log).catch((e) => log(`stopping berthd: ${e}`));
    await killRuntimeLeftovers(execRoot);
    await removeRules(bridge).catch((e) => log(`iptables rules of ${bridge}: ${e}`));
    await runCmd('ip', ['link', 'del', bridge]);
    removeCgroupTree(berthCgroup);
    await unmountAndRemove([dataRoot, execRoot, scratch], 120_000);
  })();
  return cleaning;
}

const signals = onSignals(cleanup, 300_000, log);

/** One timed command that must succeed. */
async function timed(file: string, args: string[], o: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<number> {
  const r = await runCmd(file, args, { env: o.env ?? env, timeoutMs: o.timeoutMs ?? 120_000 });
  if (r.code !== 0) throw new Error(`${file.split('/').pop()} ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
  return r.ms;
}

const berthCompose = (args: string[]): Promise<number> => timed(BERTH, ['compose', '--ansi', 'never', '-p', 'b6c', '-f', FILE, ...args], { env: composeEnv });
const v1Compose = (args: string[]): Promise<number> => timed(V1, ['--ansi', 'never', '-p', 'b6v', '-f', FILE, ...args], { env: composeEnv });

/**
 * The plain commands that make what `compose up -d` makes for app6, in its dependency order (its
 * networks, volumes, then cache and db, migrate, app, worker, web), each timed alone; labels are
 * left out (compose adds them in the same create call, at no cost of its own).
 */
function plainUp(): [string, string[]][] {
  const p = 'b6r';
  const secret = `type=bind,src=${join(APP6, 'secrets/db_password.txt')},dst=/run/secrets/db_password,readonly`;
  return [
    ['network', ['create', `${p}_front`]], ['network', ['create', `${p}_back`]],
    ['volume', ['create', `${p}_dbdata`]], ['volume', ['create', `${p}_cachedata`]],
    ['run', ['-d', '--name', `${p}-cache-1`, '--network', `${p}_back`, '--network-alias', 'cache', '-v', `${p}_cachedata:/data`, '--stop-signal', 'SIGKILL', 'busybox:latest', 'httpd', '-f', '-p', '6379', '-h', '/data']],
    ['run', ['-d', '--name', `${p}-db-1`, '--network', `${p}_back`, '--network-alias', 'db', '--network-alias', 'database', '--health-cmd', 'test -f /tmp/ready',
      '--health-interval', '250ms', '--health-timeout', '2s', '--health-retries', '40', '--mount', secret, '-v', `${p}_dbdata:/var/lib/db`, '--stop-signal', 'SIGKILL',
      'busybox:latest', 'sh', '-c', 'sleep 0; touch /tmp/ready; echo db ready; exec httpd -f -p 5432 -h /var/lib/db']],
    ['run', ['-d', '--name', `${p}-migrate-1`, '--network', `${p}_back`, '--network-alias', 'migrate', '--mount', secret, '-v', `${p}_dbdata:/var/lib/db`,
      'busybox:latest', 'sh', '-c', 'test -s /run/secrets/db_password && echo schema-v1 > /var/lib/db/schema && echo migrated']],
    // app is on two networks, both given at create (API >= 1.44), each with compose's aliases
    ['run', ['-d', '--name', `${p}-app-1`, '--network', `name=${p}_back,alias=app`, '--network', `name=${p}_front,alias=app,alias=api`, '-e', 'APP_MODE=production', '--mount', secret, '--stop-signal', 'SIGKILL', 'app6-app:local']],
    ['run', ['-d', '--name', `${p}-worker-1`, '--network', `${p}_back`, '--network-alias', 'worker', '-e', 'WORKER_MODE=normal', '-v', `${p}_cachedata:/data`, '--stop-signal', 'SIGKILL',
      'busybox:latest', 'sh', '-c', 'while :; do date > /data/heartbeat; sleep 5; done']],
    ['run', ['-d', '--name', `${p}-web-1`, '--network', `${p}_front`, '--network-alias', 'web', '-p', '127.0.0.1::80', '-v', `${join(APP6, 'web/static')}:/www/static:ro`, '--stop-signal', 'SIGKILL', 'app6-web:local']],
  ];
}

function plainDown(): [string, string[]][] {
  const p = 'b6r';
  return [
    ...['web', 'worker', 'app', 'migrate', 'db', 'cache'].map((s): [string, string[]] => ['rm', ['-f', `${p}-${s}-1`]]),
    ['network', ['rm', `${p}_front`, `${p}_back`]], ['volume', ['rm', `${p}_dbdata`, `${p}_cachedata`]],
  ];
}

async function sum(cmds: [string, string[]][]): Promise<number> {
  let total = 0;
  for (const [cmd, args] of cmds) total += await timed(BERTH, [cmd, ...args]);
  return total;
}

async function main(): Promise<void> {
  const tStart = performance.now();
  const date = (await mustRun('date', ['-u'])).stdout.toString().trim();
  if (!existsSync(V1)) throw new Error(`${V1} is not installed (scripts/install.sh installs Debian's docker-compose)`);
  daemon = await startBerthd({ repo, dataRoot, execRoot, socket, pidfile, logFile, args: ['--bridge', bridge, '--bip', subnets.bip, '--default-address-pool', subnets.pool] });
  await importBusybox(repo, env);
  for (const s of ['web', 'app']) await mustRun(DOCKER, ['build', '-q', '-t', `app6-${s}:local`, join(APP6, s)], { env: { ...env, DOCKER_BUILDKIT: '0' }, timeoutMs: 120_000 });
  const info = await machineInfo(repo, ' (+ uncommitted changes)');
  const versions = {
    berth: (await outputOf(BERTH, ['compose', 'version', '--short'])) || (await outputOf(BERTH, ['compose', 'version'])),
    v1: (await outputOf(V1, ['version', '--short'])),
  };

  // A tool that fails is not measured further (its failure is stated in the section), and what
  // it may have left is taken away so that the others' rounds start from the same state.
  const failures = new Map<string, string>();
  const guarded = (key: string, tool: string, fn: () => Promise<number>, undo: () => Promise<unknown>): Sampled => ({
    key, samples: [], fn: async () => {
      if (failures.has(tool)) return NaN;
      try { return await fn(); } catch (e) {
        failures.set(tool, `${key}: ${e instanceof Error ? e.message : String(e)}`);
        log(`${tool} failed, not measured further: ${failures.get(tool)}`);
        await undo().catch((err: unknown) => log(`undoing ${tool}: ${String(err)}`));
        return NaN;
      }
    },
  });
  const undoPlain = async (): Promise<void> => { for (const [cmd, args] of plainDown()) await runCmd(BERTH, [cmd, ...args], { env }); };
  const S: Sampled[] = [
    guarded('berth-up', 'berth compose', () => berthCompose(['up', '-d']), () => berthCompose(['down', '-v', '-t', '0'])),
    guarded('berth-down', 'berth compose', () => berthCompose(['down', '-v']), () => berthCompose(['down', '-v', '-t', '0'])),
    guarded('v1-up', 'docker-compose', () => v1Compose(['up', '-d']), () => v1Compose(['down', '-v', '-t', '0'])),
    guarded('v1-down', 'docker-compose', () => v1Compose(['down', '-v']), () => v1Compose(['down', '-v', '-t', '0'])),
    guarded('plain-up', 'plain', () => sum(plainUp()), undoPlain),
    guarded('plain-down', 'plain', () => sum(plainDown()), undoPlain),
  ];
  await runInterleaved(S, { runs: RUNS, warmups: 1, what: 'compose', digits: 0, check: signals.check });
  const finite = (key: string): number[] => S.find((m) => m.key === key)!.samples.filter(Number.isFinite);
  const med = (key: string): number => quantile(finite(key), 0.5);
  const q = (key: string, p: number): number => quantile(finite(key), p);

  const upVsV1 = med('v1-up') / med('berth-up');
  const upVsPlain = med('berth-up') / med('plain-up');
  const downVsV1 = med('v1-down') / med('berth-down');
  const downVsPlain = med('berth-down') / med('plain-down');
  const verdict = (ok: boolean, text: string): string => (ok ? `**met** (${text})` : `**not met** (${text})`);
  const lines: string[] = [];
  lines.push(`## berth compose (issue 19): ${date}`, '');
  lines.push(`Machine: ${info.nproc} CPUs (${info.cpu}), kernel ${info.kernel}, Node ${info.node}, Docker CLI ${info.docker}. Berth at ${info.commit}; berth compose ${versions.berth}; docker-compose ${versions.v1}.`);
  lines.push(`\`bench/compose.ts --runs ${RUNS}\`: the 6-service app6 (test/fixtures/compose/app6: 2 networks, 2 volumes, a bind, a secret, db healthy at its first check with DB_READY_DELAY=0, a one-shot migrate) on one berthd, images built beforehand; each round berth compose, docker-compose 1.29 and the plain \`berth\` commands in turn, ${RUNS} rounds after a warm-up, medians (p10–p90) in ms. Plain: 2 \`network create\`, 2 \`volume create\`, 6 \`run -d\` (down: 6 \`rm -f\`, \`network rm\`, \`volume rm\`), the sum of their own times; it does not wait for db's health as compose must. The machine is shared with other work: read the ratios.`, '');
  lines.push('| operation | berth compose | docker-compose 1.29 | plain `berth` sum | v1 / berth compose | berth compose / plain | target |', '|---|---:|---:|---:|---:|---:|---|');
  const cell = (k: string): string => `${fmt(med(k))} (${fmt(q(k, 0.1))}–${fmt(q(k, 0.9))})`;
  lines.push(`| \`up -d\` | ${cell('berth-up')} | ${cell('v1-up')} | ${cell('plain-up')} | ${fmt(upVsV1, 2)}× | ${fmt(upVsPlain, 2)}× | ≥ 3× faster than v1: ${verdict(upVsV1 >= 3, `${fmt(upVsV1, 2)}×`)}; ≤ 1.5× plain: ${verdict(upVsPlain <= 1.5, `${fmt(upVsPlain, 2)}×`)} |`);
  lines.push(`| \`down -v\` | ${cell('berth-down')} | ${cell('v1-down')} | ${cell('plain-down')} | ${fmt(downVsV1, 2)}× | ${fmt(downVsPlain, 2)}× | (no target) |`);
  for (const [tool, msg] of failures) lines.push('', `- **${tool} failed** and was not measured further: ${msg.replaceAll('|', '\\|')}`);
  lines.push('', `Whole run ${fmt((performance.now() - tStart) / 1000)} s.`, '');
  const section = lines.join('\n');
  logComplaints(logFile);
  process.stdout.write(`\n${section}\n`);
  if (values.write) appendSection(repo, section);
}

/** After cleanup: nothing of this run may be left (processes, mounts, dirs, cgroups, links, iptables rules). */
async function after(): Promise<boolean> {
  const left = leftovers({ processes: [['conmon', execRoot], ['node', execRoot]], roots: [dataRoot, execRoot, scratch], cgroups: [berthCgroup] });
  const links = (await outputOf('ip', ['-o', 'link'])).split('\n').filter((l) => l.includes(bridge));
  if (links.length) left.push(`links ${links.map((l) => l.split(':')[1]?.trim()).join(' ')}`);
  const rules = (await outputOf('iptables-save', [])).split('\n').filter((l) => l.includes(bridge));
  if (rules.length) left.push(`${rules.length} iptables rules of ${bridge}`);
  if (left.length) log(`left behind: ${left.join('; ')}`);
  else log('cleanup check: no processes, mounts, cgroups, links, iptables rules or dirs of this run left');
  return left.length === 0;
}

await runBench(main, { signals, cleanup, cleanupTimeoutMs: 300_000, logFile, after });
