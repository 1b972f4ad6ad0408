// Paired A/B of start latency between two commits: `docker run --rm busybox true` (a) and the
// API create → start → wait → remove (b), each commit's berthd running at once from a git
// worktree of its own, measured round-robin with a rotating order so that the machine's noise
// falls on both alike. The ratio of each pair of runs (this run of B over the same run of A)
// says more on a shared, noisy machine than two medians taken apart.
//
//   node_modules/.bin/node bench/ab-latency.ts BASE [HEAD] [--runs N] [--parallel P] [--no-append]
//
// Besides (a) and (b), each round measures (b)'s steps (create, start, wait, remove), (f) P
// `docker run --rm` at once (throughput), and the floors in the same rotation: (d) `runc run`
// of the same busybox rootfs and (g) P of them at once.
//
// BASE and HEAD are commits (HEAD by default); the worktrees go under /var/tmp and are removed
// again, with every daemon, mount, rule and cgroup they made, also on failure or Ctrl-C. Prints
// a Markdown section and appends it to BENCHMARKS.md. Used for issue 16's "no more than 5% slower".
import http from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  DOCKER, log, makeBundle, runCmd, mustRun, api, stopChild, pickSubnets, removeCgroupTree, benchPaths, importBusybox,
  killRuntimeLeftovers, unmountAndRemove, quantile, runsOption, appendSection, machineInfo,
} from './lib.ts';
import { daemonTag } from '../src/engine/engine.ts';

const repo = resolve(import.meta.dirname, '..');
const valued = new Set(['--runs', '--parallel']);
const args = process.argv.slice(2).filter((a, i, all) => !valued.has(a) && !valued.has(all[i - 1]!) && a !== '--no-append');
const [baseRev, headRev = 'HEAD'] = args;
if (!baseRev) { process.stderr.write('usage: bench/ab-latency.ts BASE [HEAD] [--runs N]\n'); process.exit(2); }
const ri = process.argv.indexOf('--runs');
const RUNS = runsOption(ri > 0 ? process.argv[ri + 1] : '40');
const pi = process.argv.indexOf('--parallel');
const PARALLEL = runsOption(pi > 0 ? process.argv[pi + 1] : '8');
const APPEND = !process.argv.includes('--no-append');
type Steps = Record<'create' | 'start' | 'wait' | 'remove', number[]>;

interface Side { name: string; rev: string; dir: string; p: ReturnType<typeof benchPaths>; bridge: string; proc?: ChildProcess; a: number[]; b: number[]; f: number[]; steps: Steps; agent: http.Agent }
const sides: Side[] = [['base', baseRev], ['head', headRev]].map(([name, rev]) => {
  const p = benchPaths();
  return { name: name!, rev: rev!, dir: `/var/tmp/berth-ab-${name}-${p.tag}`, p, bridge: `bb${p.tag}`, a: [], b: [], f: [], steps: { create: [], start: [], wait: [], remove: [] }, agent: new http.Agent({ keepAlive: true, maxSockets: 1 }) };
});

// The runtime's floor: `runc run` of the same rootfs, under a root of its own.
const floor = { root: `/run/bb-floor-${sides[0]!.p.tag}`, bundle: join(sides[0]!.p.scratch, 'bundle'), seq: 0, d: [] as number[], g: [] as number[] };

async function cleanup(): Promise<void> {
  await killRuntimeLeftovers(floor.root, [floor.root]).catch(() => {});
  await unmountAndRemove([floor.root], 30_000).catch(() => {});
  for (const s of sides) {
    await stopChild(s.proc, 'berthd', log).catch((e) => log(`stop: ${e}`));
    await killRuntimeLeftovers(s.p.execRoot);
    if (existsSync(join(s.dir, 'src/network/firewall.ts'))) {
      const fw = await import(join(s.dir, 'src/network/firewall.ts')) as { removeRules: (b: string) => Promise<void> };
      await fw.removeRules(s.bridge).catch((e) => log(`rules ${s.bridge}: ${e}`));
    }
    await runCmd('ip', ['link', 'del', s.bridge]);
    removeCgroupTree(`berth-${daemonTag(s.p.execRoot)}`);
    await unmountAndRemove([s.p.dataRoot, s.p.execRoot, s.p.scratch], 30_000);
    await runCmd('git', ['-C', repo, 'worktree', 'remove', '--force', s.dir]);
  }
}
process.on('SIGINT', () => { void cleanup().finally(() => process.exit(130)); });

/**
 * startBerthd with a deadline a loaded machine can meet (90 s): two daemons from type-stripped
 * sources start slowly when other work shares the cores. A daemon that does not answer is killed
 * (it is this script's own child), never left behind.
 */
async function startSide(s: Side, args: string[]): Promise<ChildProcess> {
  mkdirSync(s.p.execRoot, { recursive: true });
  const fd = openSync(s.p.logFile, 'a');
  const child = spawn(join(s.dir, 'bin/berthd'), [
    '--data-root', s.p.dataRoot, '--exec-root', s.p.execRoot, '-H', `unix://${s.p.socket}`, '--pidfile', s.p.pidfile, ...args,
  ], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  s.proc = child;
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${s.name}: berthd exited (${child.exitCode ?? child.signalCode})`);
    if (await api(s.p.socket, 'GET', '/_ping', undefined, undefined, 2_000).then((r) => r.status === 200, () => false)) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${s.name}: berthd did not answer /_ping within 90 s`);
}

async function runA(s: Side): Promise<number> {
  const r = await runCmd(DOCKER, ['run', '--rm', 'busybox', 'true'], { env: s.p.env, timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`${s.name}: docker run: ${r.stderr}`);
  return r.ms;
}

async function runB(s: Side, record = false): Promise<number> {
  const t0 = performance.now();
  const c = await api(s.p.socket, 'POST', '/v1.47/containers/create', { Image: 'busybox', Cmd: ['true'] }, s.agent);
  const id = (JSON.parse(c.body.toString()) as { Id: string }).Id;
  const t1 = performance.now();
  const st = await api(s.p.socket, 'POST', `/v1.47/containers/${id}/start`, undefined, s.agent);
  if (st.status !== 204) throw new Error(`${s.name} start ${st.status} ${st.body}`);
  const t2 = performance.now();
  await api(s.p.socket, 'POST', `/v1.47/containers/${id}/wait?condition=not-running`, undefined, s.agent);
  const t3 = performance.now();
  const d = await api(s.p.socket, 'DELETE', `/v1.47/containers/${id}`, undefined, s.agent);
  if (d.status !== 204) throw new Error(`${s.name} remove ${d.status} ${d.body}`);
  const t4 = performance.now();
  if (record) {
    s.steps.create.push(t1 - t0); s.steps.start.push(t2 - t1); s.steps.wait.push(t3 - t2); s.steps.remove.push(t4 - t3);
  }
  return t4 - t0;
}

/** P at once of one measure: the batch's wall time. */
async function batch(one: () => Promise<number>): Promise<number> {
  const t0 = performance.now();
  await Promise.all(Array.from({ length: PARALLEL }, one));
  return performance.now() - t0;
}

async function runcRun(): Promise<number> {
  const r = await runCmd('runc', ['--root', floor.root, 'run', '-b', floor.bundle, `floor-${floor.seq++}`], { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`runc run failed (exit ${r.code}): ${r.stderr}`);
  return r.ms;
}

try {
  const used = new Set<string>();
  for (const s of sides) {
    await mustRun('git', ['-C', repo, 'worktree', 'add', '--detach', s.dir, s.rev]);
    s.rev = (await runCmd('git', ['-C', s.dir, 'rev-parse', '--short', 'HEAD'])).stdout.toString().trim();
    // both run their sources with this checkout's dependencies (no dist/ in a worktree)
    symlinkSync(join(repo, 'node_modules'), join(s.dir, 'node_modules'));
    let n = pickSubnets();
    for (let i = 0; i < 20 && (used.has(n.prefix) || used.has(n.pool)); i++) n = pickSubnets();
    used.add(n.prefix); used.add(n.pool);
    await startSide(s, ['--bridge', s.bridge, '--bip', n.bip, '--default-address-pool', n.pool]);
    const tar = await importBusybox(s.dir, s.p.env);
    if (!existsSync(floor.bundle)) await makeBundle(floor.bundle, tar, ['true']);
    for (let i = 0; i < 3; i++) { await runA(s); await runB(s); await runcRun(); }
  }
  for (let r = 0; r < RUNS; r++) {
    const order = r % 2 ? [...sides].reverse() : sides;
    for (const s of order) s.a.push(await runA(s));
    floor.d.push(await runcRun());
    for (const s of order) s.b.push(await runB(s, true));
    for (const s of order) s.f.push(await batch(() => runA(s)));
    floor.g.push(await batch(runcRun));
    log(`round ${r + 1}/${RUNS}: ${order.map((s) => `${s.name} a=${s.a.at(-1)!.toFixed(0)} b=${s.b.at(-1)!.toFixed(0)} rm=${s.steps.remove.at(-1)!.toFixed(1)} f=${s.f.at(-1)!.toFixed(0)}`).join(' ')} runc d=${floor.d.at(-1)!.toFixed(0)} g=${floor.g.at(-1)!.toFixed(0)}`);
  }
  const [base, head] = sides as [Side, Side];
  const ratio = (xs: number[], ys: number[]): number => quantile(ys.map((y, i) => y / xs[i]!), 0.5);
  const m = await machineInfo(repo);
  const med = (xs: number[]): number => quantile(xs, 0.5);
  const fl = (xs: number[] | undefined): string => (xs ? ` ${med(xs).toFixed(1)} |` : ' |');
  const toFloor = (xs: number[], f: number[] | undefined): string => (f ? `${ratio(f, xs).toFixed(2)}×` : '');
  const row = (what: string, b: number[], h: number[], f?: number[]): string =>
    `| ${what} | ${med(b).toFixed(1)} | ${med(h).toFixed(1)} | ${ratio(b, h).toFixed(3)} |${fl(f)} ${toFloor(b, f)} | ${toFloor(h, f)} |`;
  const tput = (xs: number[]): string => (PARALLEL / (med(xs) / 1000)).toFixed(1);
  const section = [
    `## A/B start latency: ${new Date().toUTCString()}`,
    '',
    `${base.rev} (base) against ${head.rev} (head), ${RUNS} paired runs each, both berthds up at once (run from their sources), order alternating. ${m.nproc} × ${m.cpu}, kernel ${m.kernel}, node ${m.node}. Medians in ms; the ratio is the median of head/base over the pairs.`,
    '',
    '| | base | head | paired ratio head/base | floor | base/floor | head/floor |',
    '|---|---|---|---|---|---|---|',
    row('a. `docker run --rm busybox true` (floor: d. `runc run`)', base.a, head.a, floor.d),
    row('b. API create → start → wait → remove (floor: d)', base.b, head.b, floor.d),
    row('b. create', base.steps.create, head.steps.create),
    row('b. start', base.steps.start, head.steps.start),
    row('b. wait', base.steps.wait, head.steps.wait),
    row('b. remove', base.steps.remove, head.steps.remove),
    row(`f. ${PARALLEL} × \`run --rm\` at once, batch (floor: g. ${PARALLEL} × \`runc run\`)`, base.f, head.f, floor.g),
    '',
    `Throughput, ${PARALLEL} at once: base ${tput(base.f)}, head ${tput(head.f)}, \`runc run\` ${tput(floor.g)} ctr/s: base ${(100 * med(floor.g) / med(base.f)).toFixed(0)}%, head ${(100 * med(floor.g) / med(head.f)).toFixed(0)}% of the floor (target ≥ 40%). The x/floor columns are medians of paired ratios (this run of x over the same round's floor).`,
    '',
  ].join('\n');
  process.stdout.write(`${section}\n`);
  if (APPEND) appendSection(repo, section);
} finally {
  await cleanup();
}
