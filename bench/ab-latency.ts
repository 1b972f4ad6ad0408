// Paired A/B of start latency between two commits: `docker run --rm busybox true` (a) and the
// API create → start → wait → remove (b), each commit's berthd running at once from a git
// worktree of its own, measured round-robin with a rotating order so that the machine's noise
// falls on both alike. The ratio of each pair of runs (this run of B over the same run of A)
// says more on a shared, noisy machine than two medians taken apart.
//
//   node_modules/.bin/node bench/ab-latency.ts BASE [HEAD] [--runs N]
//
// BASE and HEAD are commits (HEAD by default); the worktrees go under /var/tmp and are removed
// again, with every daemon, mount, rule and cgroup they made, also on failure or Ctrl-C. Prints
// a Markdown section and appends it to BENCHMARKS.md. Used for issue 16's "no more than 5% slower".
import http from 'node:http';
import { type ChildProcess } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  DOCKER, log, runCmd, mustRun, api, startBerthd, stopChild, pickSubnets, removeCgroupTree, benchPaths, importBusybox,
  killRuntimeLeftovers, unmountAndRemove, quantile, runsOption, appendSection, machineInfo,
} from './lib.ts';
import { daemonTag } from '../src/engine/engine.ts';

const repo = resolve(import.meta.dirname, '..');
const args = process.argv.slice(2).filter((a, i, all) => a !== '--runs' && all[i - 1] !== '--runs');
const [baseRev, headRev = 'HEAD'] = args;
if (!baseRev) { process.stderr.write('usage: bench/ab-latency.ts BASE [HEAD] [--runs N]\n'); process.exit(2); }
const ri = process.argv.indexOf('--runs');
const RUNS = runsOption(ri > 0 ? process.argv[ri + 1] : '40');

interface Side { name: string; rev: string; dir: string; p: ReturnType<typeof benchPaths>; bridge: string; proc?: ChildProcess; a: number[]; b: number[]; agent: http.Agent }
const sides: Side[] = [['base', baseRev], ['head', headRev]].map(([name, rev]) => {
  const p = benchPaths();
  return { name: name!, rev: rev!, dir: `/var/tmp/berth-ab-${name}-${p.tag}`, p, bridge: `bb${p.tag}`, a: [], b: [], agent: new http.Agent({ keepAlive: true, maxSockets: 1 }) };
});

async function cleanup(): Promise<void> {
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

async function runA(s: Side): Promise<number> {
  const r = await runCmd(DOCKER, ['run', '--rm', 'busybox', 'true'], { env: s.p.env, timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`${s.name}: docker run: ${r.stderr}`);
  return r.ms;
}

async function runB(s: Side): Promise<number> {
  const t0 = performance.now();
  const c = await api(s.p.socket, 'POST', '/v1.47/containers/create', { Image: 'busybox', Cmd: ['true'] }, s.agent);
  const id = (JSON.parse(c.body.toString()) as { Id: string }).Id;
  const st = await api(s.p.socket, 'POST', `/v1.47/containers/${id}/start`, undefined, s.agent);
  if (st.status !== 204) throw new Error(`${s.name} start ${st.status} ${st.body}`);
  await api(s.p.socket, 'POST', `/v1.47/containers/${id}/wait?condition=not-running`, undefined, s.agent);
  await api(s.p.socket, 'DELETE', `/v1.47/containers/${id}`, undefined, s.agent);
  return performance.now() - t0;
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
    s.proc = await startBerthd({ repo: s.dir, dataRoot: s.p.dataRoot, execRoot: s.p.execRoot, socket: s.p.socket, pidfile: s.p.pidfile, logFile: s.p.logFile, args: ['--bridge', s.bridge, '--bip', n.bip, '--default-address-pool', n.pool] });
    await importBusybox(s.dir, s.p.env);
    for (let i = 0; i < 3; i++) { await runA(s); await runB(s); }
  }
  for (let r = 0; r < RUNS; r++) {
    const order = r % 2 ? [...sides].reverse() : sides;
    for (const s of order) s.a.push(await runA(s));
    for (const s of order) s.b.push(await runB(s));
  }
  const [base, head] = sides as [Side, Side];
  const ratio = (xs: number[], ys: number[]): number => quantile(ys.map((y, i) => y / xs[i]!), 0.5);
  const m = await machineInfo(repo);
  const row = (what: string, k: 'a' | 'b'): string =>
    `| ${what} | ${quantile(base[k], 0.5).toFixed(1)} | ${quantile(head[k], 0.5).toFixed(1)} | ${ratio(base[k], head[k]).toFixed(3)} |`;
  const section = [
    `## A/B start latency: ${new Date().toUTCString()}`,
    '',
    `${base.rev} (base) against ${head.rev} (head), ${RUNS} paired runs each, both berthds up at once (run from their sources), order alternating. ${m.nproc} × ${m.cpu}, kernel ${m.kernel}, node ${m.node}. Medians in ms; the ratio is the median of head/base over the pairs.`,
    '',
    '| | base | head | paired ratio |',
    '|---|---|---|---|',
    row('a. `docker run --rm busybox true`', 'a'),
    row('b. API create → start → wait → remove', 'b'),
    '',
  ].join('\n');
  process.stdout.write(`${section}\n`);
  appendSection(repo, section);
} finally {
  await cleanup();
}
