// Layer throughput: how much slower than plain GNU tar Berth is at taking a layer in
// (`docker import`, and its extractor alone) and at making one (`docker commit`).
//
//   node_modules/.bin/node bench/layers.ts [--runs N] [--no-append]
//
// Starts berthd on a fresh data root under /var/tmp and a short exec root, imports busybox:latest
// from the host's busybox-static, makes two ~200 MB layer tars with GNU tar under /var/tmp (the
// data root's filesystem), then measures N times each, interleaved (floor, berth, floor, …) so
// that the machine's noise falls on both alike:
//   1. a layer of 40 000 small files (5 KB of random bytes each, in 400 directories)
//      f. floor: `tar -xf layer.tar -C <fresh dir>`
//      a. `docker import layer.tar` through berthd (hash, keep the blob, extract)
//      b. the extractor alone: `applyLayer(fs.createReadStream(layer.tar), <fresh dir>)`
//   2. the same for a layer holding one 200 MB file of random bytes
//   3. a container that wrote 100 MB + 2000 small files
//      f. floor: `tar -cf - -C <copy of its upper dir> . | tar -xf - -C <fresh dir>`
//      a. `docker commit`
// Everything else (rm of what a run made, docker rmi/rm, creating the container) is untimed and
// followed by a `sync`, so that one run's writeback does not land on the next one's clock.
// Prints a Markdown section (medians and minima in ms, ratio to the floor against the 1.5×
// target) and appends it to BENCHMARKS.md. Everything it made is taken away again, also on
// failure or Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, openSync, closeSync, readFileSync, writeFileSync, appendFileSync, readdirSync, statSync } from 'node:fs';
import { rm, writeFile, mkdir } from 'node:fs/promises';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { runCmd, mustRun, sleep, withTimeout, api, quantile, conmonPidsOf, mountsUnder, type Result, tailOf, startBerthd, onSignals, stopChild } from './lib.ts';

const repo = resolve(import.meta.dirname, '..');
const DOCKER = '/usr/local/bin/docker';
const NODE = join(repo, 'node_modules/.bin/node');
const TARGET = 1.5; // median(berth) / median(floor)
const SMALL_FILES = 40_000;
const SMALL_DIRS = 400;
const SMALL_SIZE = 5_000;
const BIG_SIZE = 200_000_000;
const COMMIT_SCRIPT = 'mkdir /data; head -c 100000000 /dev/urandom > /data/big; i=0; while [ $i -lt 2000 ]; do echo $i > /data/f$i; i=$((i+1)); done';

// ---------- small process helpers (every wait is bounded) ----------

const fmt = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : '—');
const mb = (bytes: number): string => (bytes / 1e6).toFixed(0);

// ---------- the run ----------

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, 'no-append': { type: 'boolean', default: false } } });
const RUNS = Number(values.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) {
  console.error(`--runs wants a positive integer, not ${values.runs}`);
  process.exit(2);
}

const tag = randomBytes(3).toString('hex');
const execRoot = `/run/bb-${tag}`;
const socket = `${execRoot}/d.sock`;
const pidfile = `${execRoot}/p.pid`;
const dataRoot = mkdtempSync('/var/tmp/berth-bench-');
const scratch = mkdtempSync('/var/tmp/berth-bench-x-'); // tars, floors' trees, CLI config, berthd log
const cliConfig = join(scratch, 'docker-config');
const logFile = join(scratch, 'berthd.log');
const smallTar = join(scratch, 'small.tar');
const bigTar = join(scratch, 'big.tar');
const commitSrc = join(scratch, 'commit-src');
const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: cliConfig, DOCKER_CLI_HINTS: 'false' };

let daemon: ChildProcess | undefined;
let cleaning: Promise<void> | undefined;
const log = (s: string): void => { process.stderr.write(`${s}\n`); };

const logTail = (lines = 30): string => tailOf(logFile, lines);



/** rm -rf, bounded (a 40 000-file tree takes a second or two). */
async function rmTree(dir: string, timeoutMs = 60_000): Promise<void> {
  await withTimeout(rm(dir, { recursive: true, force: true }), timeoutMs, `rm -rf ${dir}`);
}

async function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await stopChild(daemon, 'berthd', log).catch((e) => log(`stopping berthd: ${e}`));
    const runcRoot = join(execRoot, 'runc');
    if (existsSync(runcRoot)) {
      const listed = await runCmd('runc', ['--root', runcRoot, 'list', '-q'], { timeoutMs: 10_000 });
      for (const id of listed.stdout.toString().split('\n').filter(Boolean)) {
        log(`leftover runc container ${id} under ${runcRoot}: delete -f`);
        await runCmd('runc', ['--root', runcRoot, 'delete', '-f', id], { timeoutMs: 10_000 });
      }
    }
    for (const pid of conmonPidsOf(execRoot)) {
      log(`leftover conmon ${pid}: SIGKILL`);
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    // Deepest first, so that a mount on top of another comes off before the one below it.
    const mounts = mountsUnder(dataRoot, execRoot, scratch).sort((a, b) => b.length - a.length);
    for (const m of mounts) {
      const r = await runCmd('umount', [m], { timeoutMs: 10_000 });
      if (r.code !== 0) await runCmd('umount', ['-l', m], { timeoutMs: 10_000 });
    }
    for (const dir of [dataRoot, execRoot, scratch]) {
      await rmTree(dir, 60_000).catch((e) => log(`removing ${dir}: ${e}`));
    }
  })();
  return cleaning;
}

const signals = onSignals(cleanup, 90_000, log);
const checkInterrupted = signals.check;

async function startDaemon(): Promise<void> {
  daemon = await startBerthd({ repo, dataRoot, execRoot, socket, pidfile, logFile });
}

async function importBusybox(): Promise<void> {
  const tar = (await mustRun('bash', [join(repo, 'scripts/busybox-image.sh')], { timeoutMs: 60_000 })).stdout;
  await mustRun(DOCKER, ['import', '-c', 'CMD ["sh"]', '-', 'busybox:latest'], { input: tar, env, timeoutMs: 60_000 });
}

async function docker(args: string[], timeoutMs = 120_000): Promise<Result> {
  return mustRun(DOCKER, args, { env, timeoutMs });
}

/** Writes back what earlier (untimed) steps left dirty, so that it is not charged to the next measurement. */
async function settle(): Promise<void> {
  await mustRun('sync', [], { timeoutMs: 60_000 });
}

// ---------- the layers ----------

/** 40 000 files of 5 KB (slices of one random buffer, so no two alike and none compressible) in 400 dirs. */
async function makeSmallTar(): Promise<void> {
  const src = join(scratch, 'small-src');
  const data = randomBytes(SMALL_FILES * SMALL_SIZE);
  const perDir = SMALL_FILES / SMALL_DIRS;
  for (let d = 0; d < SMALL_DIRS; d++) {
    checkInterrupted();
    const dir = join(src, `d${String(d).padStart(3, '0')}`);
    await mkdir(dir, { recursive: true });
    const writes: Promise<void>[] = [];
    for (let f = 0; f < perDir; f++) {
      const i = d * perDir + f;
      writes.push(writeFile(join(dir, `f${String(f).padStart(3, '0')}`), data.subarray(i * SMALL_SIZE, (i + 1) * SMALL_SIZE)));
    }
    await Promise.all(writes);
  }
  await mustRun('tar', ['-cf', smallTar, '-C', src, '.'], { timeoutMs: 120_000 });
  await rmTree(src);
}

/** One file of 200 MB random bytes. */
async function makeBigTar(): Promise<void> {
  const src = join(scratch, 'big-src');
  await mkdir(src);
  await writeFile(join(src, 'big'), randomBytes(BIG_SIZE));
  await mustRun('tar', ['-cf', bigTar, '-C', src, '.'], { timeoutMs: 120_000 });
  await rmTree(src);
}

// ---------- measurements ----------

let seq = 0;
const freshDir = (what: string): string => join(scratch, `${what}-${seq++}`);

/** floor: GNU tar extracts into a fresh dir on the same filesystem. */
async function tarExtract(tar: string): Promise<number> {
  const out = freshDir('x');
  mkdirSync(out);
  const r = await mustRun('tar', ['-xf', tar, '-C', out], { timeoutMs: 120_000 });
  await rmTree(out);
  await settle();
  return r.ms;
}

/** `docker import` through berthd's socket; the image is removed again (untimed). */
async function dockerImport(tar: string, repoName: string): Promise<number> {
  const ref = `${repoName}:${seq++}`;
  const r = await docker(['import', tar, ref]);
  await docker(['rmi', ref]);
  await settle();
  return r.ms;
}

/** Berth's extractor alone, in a child node, timing only applyLayer itself. */
const APPLY_CHILD = `
import { createReadStream } from 'node:fs';
const { applyLayer } = await import(process.argv[1]);
const t0 = performance.now();
const r = await applyLayer(createReadStream(process.argv[2]), process.argv[3]);
process.stdout.write(JSON.stringify({ ms: performance.now() - t0, size: r.size, entries: r.entries }));
`;

async function applyAlone(tar: string): Promise<number> {
  const out = freshDir('a');
  mkdirSync(out);
  const r = await mustRun(NODE, ['--input-type=module', '-e', APPLY_CHILD, join(repo, 'src/image/archive/extract.ts'), tar, out], { timeoutMs: 120_000 });
  const { ms } = JSON.parse(r.stdout.toString()) as { ms: number };
  await rmTree(out);
  await settle();
  return ms;
}

/** The commit container of run `i`: runs to completion (untimed), returns its full ID. */
async function makeCommitContainer(name: string): Promise<string> {
  await docker(['run', '--name', name, 'busybox', 'sh', '-c', COMMIT_SCRIPT]);
  const id = (await docker(['inspect', '--format', '{{.Id}}', name])).stdout.toString().trim();
  await settle();
  return id;
}

/** floor for commit: pack and unpack the same tree (a plain copy of a container's upper dir). */
async function tarPipe(): Promise<number> {
  const out = freshDir('c');
  mkdirSync(out);
  const r = await mustRun('bash', ['-c', 'set -o pipefail; tar -cf - -C "$1" . | tar -xf - -C "$2"', 'pipe', commitSrc, out], { timeoutMs: 120_000 });
  await rmTree(out);
  await settle();
  return r.ms;
}

async function dockerCommit(): Promise<number> {
  const name = `c${seq++}`;
  await makeCommitContainer(name);
  const ref = `bench/commit:${seq++}`;
  const r = await docker(['commit', name, ref]);
  await docker(['rm', name]);
  await docker(['rmi', ref]);
  await settle();
  return r.ms;
}

interface Measurement { key: string; label: string; floor?: string; fn: () => Promise<number>; samples: number[] }

async function machine(): Promise<Record<string, string>> {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
  const out = async (f: string, a: string[]): Promise<string> => (await runCmd(f, a, { timeoutMs: 10_000 })).stdout.toString().trim();
  const dirty = await out('git', ['-C', repo, 'status', '--porcelain', '--', 'src', 'bin']);
  const fsType = await out('findmnt', ['-n', '-o', 'FSTYPE', '-T', dataRoot]);
  return {
    nproc: await out('nproc', []),
    cpu: model,
    kernel: await out('uname', ['-r']),
    node: process.version,
    tar: (await out('tar', ['--version'])).split('\n')[0] ?? '',
    docker: `${await out(DOCKER, ['version', '--format', '{{.Client.Version}}'])} (client)`,
    commit: `${await out('git', ['-C', repo, 'rev-parse', '--short', 'HEAD'])}${dirty ? ' (with uncommitted changes under src/)' : ''}`,
    fs: fsType,
  };
}

async function main(): Promise<void> {
  const tStart = performance.now();
  const date = (await mustRun('date', ['-u'])).stdout.toString().trim();
  const info = await machine();
  log(`berthd: data root ${dataRoot}, exec root ${execRoot}; scratch ${scratch}`);
  await startDaemon();
  checkInterrupted();
  await importBusybox();
  const serverVersion = (await docker(['version', '--format', '{{.Server.Version}}'])).stdout.toString().trim();
  checkInterrupted();

  log('making the layer tars …');
  await makeSmallTar();
  checkInterrupted();
  await makeBigTar();
  checkInterrupted();
  const smallBytes = statSync(smallTar).size;
  const bigBytes = statSync(bigTar).size;

  // The commit floor's tree: one container's upper dir, copied once.
  log('making the commit floor\'s tree …');
  const prepId = await makeCommitContainer('c-prep');
  const upper = join(dataRoot, 'containers', prepId, 'upper');
  if (!existsSync(join(upper, 'data', 'big'))) throw new Error(`no ${upper}/data/big: where does berthd keep a container's upper dir?`);
  await mustRun('cp', ['-a', upper, commitSrc], { timeoutMs: 120_000 });
  await docker(['rm', 'c-prep']);
  const commitBytes = Number((await mustRun('du', ['-sb', commitSrc])).stdout.toString().split('\t')[0]);
  await settle();
  checkInterrupted();

  const measures: Measurement[] = [
    { key: '1f', label: `floor: \`tar -xf\` of the small-files layer`, fn: () => tarExtract(smallTar), samples: [] },
    { key: '1a', label: '`docker import` of it (CLI → berthd: hash, blob, extract)', floor: '1f', fn: () => dockerImport(smallTar, 'bench/small'), samples: [] },
    { key: '1b', label: 'extractor alone: `applyLayer` of it', floor: '1f', fn: () => applyAlone(smallTar), samples: [] },
    { key: '2f', label: `floor: \`tar -xf\` of the one-big-file layer`, fn: () => tarExtract(bigTar), samples: [] },
    { key: '2a', label: '`docker import` of it', floor: '2f', fn: () => dockerImport(bigTar, 'bench/big'), samples: [] },
    { key: '2b', label: 'extractor alone: `applyLayer` of it', floor: '2f', fn: () => applyAlone(bigTar), samples: [] },
    { key: '3f', label: 'floor: `tar -cf - -C upper-copy . \\| tar -xf - -C new`', fn: tarPipe, samples: [] },
    { key: '3a', label: '`docker commit` of the container', floor: '3f', fn: dockerCommit, samples: [] },
  ];

  for (let i = 0; i < RUNS; i++) {
    for (const m of measures) {
      checkInterrupted();
      m.samples.push(await m.fn());
    }
    log(`run ${i + 1}/${RUNS}: ${measures.map((m) => `${m.key}=${fmt(m.samples.at(-1)!)}`).join(' ')}`);
  }

  // What berthd holds after all runs: only busybox, no containers, nothing mounted.
  const left = await api(socket, 'GET', '/v1.47/containers/json?all=1');
  const leftContainers = left.status === 200 ? (JSON.parse(left.body.toString()) as unknown[]).length : -1;
  const imgs = await api(socket, 'GET', '/v1.47/images/json?all=1');
  const leftImages = imgs.status === 200 ? (JSON.parse(imgs.body.toString()) as unknown[]).length : -1;
  const leftMounts = mountsUnder(dataRoot, execRoot).length;
  const leftConmon = conmonPidsOf(execRoot).length;

  const med = (k: string): number => quantile(measures.find((m) => m.key === k)?.samples ?? [], 0.5);
  const lines: string[] = [];
  lines.push(`## Layers: ${date}`, '');
  lines.push(`Machine: ${info.nproc} CPUs (${info.cpu}), kernel ${info.kernel}, Node ${info.node}, ${info.tar}, Docker CLI ${info.docker}; data root and tars on ${info.fs} under /var/tmp.`);
  lines.push(`Berth ${serverVersion} at ${info.commit}; \`bench/layers.ts\`, ${RUNS} runs per measurement, interleaved, a \`sync\` after each run's untimed cleanup.`);
  lines.push(`Layers: 1 = ${SMALL_FILES} files of ${SMALL_SIZE} random bytes in ${SMALL_DIRS} dirs (tar ${mb(smallBytes)} MB); 2 = one file of ${mb(BIG_SIZE)} MB random bytes (tar ${mb(bigBytes)} MB); 3 = a busybox container that wrote 100 MB from /dev/urandom and 2000 small files (upper dir ${mb(commitBytes)} MB).`, '');
  lines.push('| | measurement | median ms | min ms | median / floor | MB/s (median) |', '|---|---|---:|---:|---:|---:|');
  const bytesOf: Record<string, number> = { 1: smallBytes, 2: bigBytes, 3: commitBytes };
  const met: string[] = [];
  const missed: string[] = [];
  for (const m of measures) {
    const md = quantile(m.samples, 0.5);
    let ratio = '—';
    if (m.floor) {
      const r = md / med(m.floor);
      ratio = `${r.toFixed(2)}×`;
      (r <= TARGET ? met : missed).push(`${m.key} (${r.toFixed(2)}×)`);
    }
    lines.push(`| ${m.key} | ${m.label} | ${fmt(md)} | ${fmt(Math.min(...m.samples))} | ${ratio} | ${(bytesOf[m.key[0]!]! / 1e6 / (md / 1000)).toFixed(0)} |`);
  }
  lines.push('');
  lines.push(`- Target: median ≤ ${TARGET}× the floor's median. Met: ${met.length ? met.join(', ') : 'none'}; not met: ${missed.length ? missed.join(', ') : 'none'}.`);
  const least = (k: string): number => Math.min(...(measures.find((m) => m.key === k)?.samples ?? []));
  const extra = (n: number): string => `${fmt(med(`${n}a`) - med(`${n}b`))} ms by medians, ${fmt(least(`${n}a`) - least(`${n}b`))} ms by minima`;
  lines.push(`- Import minus extractor alone (CLI upload, hashing, blob write, bookkeeping; a negative value means the noise is larger than the difference): small files ${extra(1)}; big file ${extra(2)}.`);
  lines.push(`- Left in berthd after all runs: ${leftContainers} containers, ${leftImages} images (busybox), ${leftMounts} mounts, ${leftConmon} conmon processes. Whole run ${((performance.now() - tStart) / 1000).toFixed(0)} s.`);
  lines.push('');
  const section = lines.join('\n');

  const complaints = (() => { try { return readFileSync(logFile, 'utf8').split('\n'); } catch { return []; } })()
    .filter((l) => { try { return (JSON.parse(l) as { level?: number }).level! >= 40; } catch { return false; } });
  if (complaints.length) log(`berthd logged ${complaints.length} warnings/errors; the first ones:\n${complaints.slice(0, 10).join('\n')}`);
  process.stdout.write(`\n${section}\n`);

  if (values['no-append']) return;
  const file = join(repo, 'BENCHMARKS.md');
  if (!existsSync(file)) writeFileSync(file, '# Benchmarks\n');
  appendFileSync(file, `\n${section}`);
  log(`appended to ${file}`);
}

let code = 0;
try {
  await main();
} catch (e) {
  if (!signals.interrupted()) {
    log(`benchmark failed: ${e instanceof Error ? e.message : String(e)}`);
    const tail = logTail();
    if (tail) log(`--- berthd log (tail) ---\n${tail}`);
    code = 1;
  }
} finally {
  if (!signals.interrupted()) {
    await withTimeout(cleanup(), 90_000, 'cleanup').catch((e) => { log(String(e)); code = 1; });
    process.exit(code);
  }
}
