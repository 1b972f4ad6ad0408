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
import { type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { rm, writeFile, mkdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import {
  DOCKER, log, fmt, mustRun, withTimeout, quantile, conmonPidsOf, mountsUnder, type Result, startBerthd, onSignals, stopChild,
  benchPaths, runsOption, importBusybox, countListed, machineInfo, outputOf, runInterleaved, logComplaints, appendSection,
  killRuntimeLeftovers, unmountAndRemove, runBench,
} from './lib.ts';

const repo = resolve(import.meta.dirname, '..');
const NODE = join(repo, 'node_modules/.bin/node');
const TARGET = 1.5; // median(berth) / median(floor)
const SMALL_FILES = 40_000;
const SMALL_DIRS = 400;
const SMALL_SIZE = 5_000;
const BIG_SIZE = 200_000_000;
const COMMIT_SCRIPT = 'mkdir /data; head -c 100000000 /dev/urandom > /data/big; i=0; while [ $i -lt 2000 ]; do echo $i > /data/f$i; i=$((i+1)); done';

const mb = (bytes: number): string => (bytes / 1e6).toFixed(0);

// ---------- the run ----------

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, 'no-append': { type: 'boolean', default: false } } });
const RUNS = runsOption(values.runs);

const { execRoot, socket, pidfile, dataRoot, scratch, logFile, env } = benchPaths(); // scratch: tars, floors' trees, CLI config, berthd log
const smallTar = join(scratch, 'small.tar');
const bigTar = join(scratch, 'big.tar');
const commitSrc = join(scratch, 'commit-src');

let daemon: ChildProcess | undefined;
let cleaning: Promise<void> | undefined;

/** rm -rf, bounded (a 40 000-file tree takes a second or two). */
async function rmTree(dir: string, timeoutMs = 60_000): Promise<void> {
  await withTimeout(rm(dir, { recursive: true, force: true }), timeoutMs, `rm -rf ${dir}`);
}

async function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await stopChild(daemon, 'berthd', log).catch((e) => log(`stopping berthd: ${e}`));
    await killRuntimeLeftovers(execRoot);
    await unmountAndRemove([dataRoot, execRoot, scratch], 60_000);
  })();
  return cleaning;
}

const signals = onSignals(cleanup, 90_000, log);
const checkInterrupted = signals.check;

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
  return {
    ...await machineInfo(repo, ' (with uncommitted changes under src/)'),
    tar: (await outputOf('tar', ['--version'])).split('\n')[0] ?? '',
    fs: await outputOf('findmnt', ['-n', '-o', 'FSTYPE', '-T', dataRoot]),
  };
}

async function main(): Promise<void> {
  const tStart = performance.now();
  const date = (await mustRun('date', ['-u'])).stdout.toString().trim();
  const info = await machine();
  log(`berthd: data root ${dataRoot}, exec root ${execRoot}; scratch ${scratch}`);
  daemon = await startBerthd({ repo, dataRoot, execRoot, socket, pidfile, logFile });
  checkInterrupted();
  await importBusybox(repo, env);
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

  await runInterleaved(measures, { runs: RUNS, digits: 0, check: checkInterrupted });

  // What berthd holds after all runs: only busybox, no containers, nothing mounted.
  const leftContainers = await countListed(socket, '/v1.47/containers/json?all=1');
  const leftImages = await countListed(socket, '/v1.47/images/json?all=1');
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

  logComplaints(logFile);
  process.stdout.write(`\n${section}\n`);

  if (!values['no-append']) appendSection(repo, section);
}

await runBench(main, { signals, cleanup, cleanupTimeoutMs: 90_000, logFile });
