// Build: the classic builder (`DOCKER_BUILDKIT=0 docker build`, POST /build) of berthd next to a
// private dockerd (Debian's docker.io, when installed), on the same contexts, interleaved.
//
//   node_modules/.bin/node bench/build.ts [--runs N] [--warmups N] [--no-append] [--no-dockerd] [--cpu-prof DIR]
//
// --cpu-prof DIR: berthd runs with NODE_OPTIONS=--cpu-prof and writes its profile to DIR when it
// stops (nothing is appended to BENCHMARKS.md then).
//
// busybox:latest (scripts/busybox-image.sh | docker import) goes into both daemons. Two contexts
// are written under the scratch dir:
//   ten:  a 10-step Dockerfile (FROM, ENV, WORKDIR, COPY of 4 files, 3 RUNs doing small work,
//         LABEL, EXPOSE, CMD)
//   big:  10,000 files of 1–4 KB in 100 dirs × 100 (fixed seed, ≈ 25 MB) and a Dockerfile of
//         FROM, WORKDIR, COPY . /src, RUN, LABEL, CMD
// Then, after `--warmups` unrecorded rounds (default 1), N rounds (default 5), each measurement
// once per round, berthd and dockerd in turn:
//   a. `docker build --no-cache` of ten, after `docker rmi` of its previous image (and with it the
//      intermediate images): every step runs (no "Using cache" in the output)
//   b. the same build again, fully cached: every step after FROM must say "Using cache"
//   c. a rebuild of big as it was last built: every step cached, so the time is the context's
//      upload (the CLI's tar of 10,000 files), its extraction and the hashing behind COPY's cache key
//   d. big again after one of its files changed (new content each round; written before berthd's
//      turn, so both daemons build the same change): COPY and every step after it run again
// Wall time of the CLI command; `sync` before each (untimed), so that one build's writeback does
// not land on the next one's clock. Prints a Markdown section (medians, min–max, dockerd/berthd)
// and appends it to BENCHMARKS.md. Everything it made is taken away again, also on failure or
// Ctrl-C: berthd, dockerd and its containerd, cgroups, mounts, /var/tmp/berth-bench-* dirs.
import { type ChildProcess } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { daemonTag } from '../src/engine/engine.ts';
import {
  DOCKER, log, fmt, runCmd, mustRun, quantile, mountsUnder, type Result, startBerthd, onSignals, stopChild,
  benchPaths, runsOption, machineInfo, outputOf, runInterleaved, logComplaints, appendSection, killRuntimeLeftovers,
  unmountAndRemove, runBench, removeCgroupTree, processesOf, startPrivateDockerd, stopPrivateDockerd, type PrivateDockerd,
  type Sampled, importBusybox, cgroupDirsOf,
  leftovers,
} from './lib.ts';

const repo = resolve(import.meta.dirname, '..');
const TARGET = 2; // a fully cached rebuild (b, c) at least 2× as fast as dockerd's
const DIRS = 100;
const FILES_PER_DIR = 100;
const SEED = 'berth bench/build.ts seed 1';

const { values } = parseArgs({ options: {
  runs: { type: 'string', default: '5' }, warmups: { type: 'string', default: '1' }, 'no-append': { type: 'boolean', default: false },
  'no-dockerd': { type: 'boolean', default: false }, 'cpu-prof': { type: 'string' },
} });
const RUNS = runsOption(values.runs);
const WARMUPS = values.warmups === '0' ? 0 : runsOption(values.warmups);

const paths = benchPaths(); // scratch: contexts, dockerd's roots, CLI config, logs
const { tag, execRoot, socket, pidfile, dataRoot, scratch, cliConfig, logFile } = paths;
const env: NodeJS.ProcessEnv = { ...paths.env, DOCKER_BUILDKIT: '0' };
const dockerdExecRoot = `/run/bbd-${tag}`; // short: containerd's sockets live under it
const dockerdCgroup = `berthbench-${tag}`; // --cgroup-parent of dockerd's RUN containers
const tenDir = join(scratch, 'ctx-ten');
const bigDir = join(scratch, 'ctx-big');

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
const checkInterrupted = signals.check;

async function cli(e: NodeJS.ProcessEnv, args: string[], o: { cwd?: string; timeoutMs?: number } = {}): Promise<Result> {
  return mustRun(DOCKER, args, { env: e, cwd: o.cwd, timeoutMs: o.timeoutMs ?? 300_000 });
}

/** Writes back what earlier (untimed) steps left dirty, so that it is not charged to the next measurement. */
async function settle(): Promise<void> {
  await mustRun('sync', [], { timeoutMs: 120_000 });
}

// ---------- the contexts ----------

/** Deterministic bytes: AES-256-CTR of zeros under a key made from SEED. */
function seededBytes(label: string): (n: number) => Buffer {
  const key = createHash('sha256').update(`${SEED} ${label}`).digest();
  const c = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return (n) => c.update(Buffer.alloc(n));
}

const TEN_DOCKERFILE = `FROM busybox
ENV APP_HOME=/app APP_MODE=bench
WORKDIR /app
COPY app/ ./
RUN seq 1 20000 > numbers.txt && wc -l numbers.txt && mkdir -p /var/log/app
RUN md5sum main.sh config.json README numbers.txt > SUMS && cat SUMS
RUN tar -cf /tmp/app.tar . && gzip -9 /tmp/app.tar && ls -l /tmp/app.tar.gz && echo "app:x:1000:1000::/app:/bin/sh" >> /etc/passwd
LABEL org.opencontainers.image.title="bench ten" org.opencontainers.image.version="1"
EXPOSE 8080
CMD ["sh", "/app/main.sh"]
`;
const TEN_STEPS = 10;

function writeTen(): void {
  mkdirSync(join(tenDir, 'app'), { recursive: true });
  writeFileSync(join(tenDir, 'Dockerfile'), TEN_DOCKERFILE);
  writeFileSync(join(tenDir, 'app/main.sh'), '#!/bin/sh\necho "mode $APP_MODE"\nexec cat /app/config.json\n', { mode: 0o755 });
  writeFileSync(join(tenDir, 'app/config.json'), `${JSON.stringify({ name: 'bench', port: 8080, workers: 4, tags: ['a', 'b', 'c'] }, null, 2)}\n`);
  writeFileSync(join(tenDir, 'app/README'), 'The application of bench/build.ts.\n'.repeat(40));
  writeFileSync(join(tenDir, 'app/data.bin'), seededBytes('ten')(64 * 1024));
}

const BIG_DOCKERFILE = `FROM busybox
WORKDIR /src
COPY . /src
RUN find /src -type f | wc -l > /file-count && cat /file-count
LABEL bench=big
CMD ["sh"]
`;
const BIG_STEPS = 6;
const CHANGED = 'd042/f0042.txt'; // the file (d) changes

/** 100 dirs × 100 files of 1–4 KB (sizes and bytes from the seed: base64 text, 76 columns). */
function writeBig(): { files: number; bytes: number } {
  const random = seededBytes('big');
  let bytes = 0;
  for (let d = 0; d < DIRS; d++) {
    const dir = join(bigDir, `d${String(d).padStart(3, '0')}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < FILES_PER_DIR; f++) {
      const size = 1024 + (random(2).readUInt16LE(0) % 3073);
      const text = random(Math.ceil(size * 3 / 4)).toString('base64').replace(/(.{76})/g, '$1\n').slice(0, size);
      writeFileSync(join(dir, `f${String(f).padStart(4, '0')}.txt`), text);
      bytes += size;
    }
  }
  writeFileSync(join(bigDir, 'Dockerfile'), BIG_DOCKERFILE);
  return { files: DIRS * FILES_PER_DIR, bytes };
}

// ---------- measurements ----------

const lines = (r: Result): string[] => r.stdout.toString().split('\n');
const stepsOf = (r: Result): number => lines(r).filter((l) => /^Step \d+\/\d+ : /.test(l)).length;
const cachedOf = (r: Result): number => lines(r).filter((l) => l.trim() === '---> Using cache').length;

/** One `docker build`; checks the steps it ran and how many came from the cache. */
async function build(e: NodeJS.ProcessEnv, who: string, o: { dir: string; tag: string; steps: number; cached: number; noCache?: boolean }): Promise<number> {
  const r = await cli(e, ['build', ...(o.noCache ? ['--no-cache'] : []), '-t', o.tag, '.'], { cwd: o.dir });
  const steps = stepsOf(r);
  const cached = cachedOf(r);
  if (steps !== o.steps || cached !== o.cached || !/Successfully tagged /.test(r.stdout.toString())) {
    throw new Error(`${who}: build of ${o.tag} ran ${steps} steps (${cached} from the cache), expected ${o.steps} (${o.cached} from the cache):\n${r.stdout.toString().slice(-3000)}`);
  }
  return r.ms;
}

interface Daemon { who: string; env: NodeJS.ProcessEnv }

let changes = 0;

/** The measurements of one daemon, in the order of a round. */
function measurementsOf(d: Daemon, first: boolean): Sampled[] {
  const k = d.who === 'berthd' ? '' : 'd';
  return [
    { key: `${k}a`, samples: [], fn: async () => {
      await runCmd(DOCKER, ['rmi', 'bench/ten'], { env: d.env, timeoutMs: 120_000 }); // the previous run's image and its intermediates
      await settle();
      return build(d.env, d.who, { dir: tenDir, tag: 'bench/ten', steps: TEN_STEPS, cached: 0, noCache: true });
    } },
    { key: `${k}b`, samples: [], fn: async () => {
      await settle();
      return build(d.env, d.who, { dir: tenDir, tag: 'bench/ten', steps: TEN_STEPS, cached: TEN_STEPS - 1 });
    } },
    { key: `${k}c`, samples: [], fn: async () => {
      await settle();
      return build(d.env, d.who, { dir: bigDir, tag: 'bench/big', steps: BIG_STEPS, cached: BIG_STEPS - 1 });
    } },
    { key: `${k}d`, samples: [], fn: async () => {
      if (first) writeFileSync(join(bigDir, CHANGED), `changed ${++changes}\n`.repeat(100));
      await settle();
      return build(d.env, d.who, { dir: bigDir, tag: 'bench/big', steps: BIG_STEPS, cached: 1 });
    } },
  ];
}

async function dockerdAvailable(): Promise<string | undefined> {
  const v = await runCmd('dockerd', ['--version'], { timeoutMs: 10_000 });
  if (v.code !== 0) return undefined;
  return v.stdout.toString().trim();
}

const LABELS: Record<string, string> = {
  a: `10-step Dockerfile, cold (\`--no-cache\`, after \`docker rmi\` of the last one)`,
  b: '10-step Dockerfile, fully cached (9 × "Using cache")',
  c: `context of 10,000 files, cached rebuild (COPY . /src and ${BIG_STEPS - 3} more steps all "Using cache")`,
  d: 'context of 10,000 files, one file changed (COPY and the 3 steps after it run)',
};

async function main(): Promise<void> {
  const tStart = performance.now();
  const date = (await mustRun('date', ['-u'])).stdout.toString().trim();
  const info = { ...await machineInfo(repo, ' (with uncommitted changes under src/)'), fs: await outputOf('findmnt', ['-n', '-o', 'FSTYPE', '-T', scratch]) };
  log(`berthd: data root ${dataRoot}, exec root ${execRoot}; scratch ${scratch}`);

  writeTen();
  const big = writeBig();
  const ctxTar = (await mustRun('tar', ['-cf', '-', '.'], { cwd: bigDir, timeoutMs: 60_000 })).stdout.length;
  log(`contexts written: ten (${TEN_STEPS} steps), big (${big.files} files, ${(big.bytes / 1e6).toFixed(1)} MB; ${(ctxTar / 1e6).toFixed(1)} MB as a tar)`);
  checkInterrupted();

  const profDir = values['cpu-prof'] ? resolve(values['cpu-prof']) : undefined;
  if (profDir) mkdirSync(profDir, { recursive: true });
  const berthEnv = profDir ? { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${profDir}`.trim() } : undefined;
  daemon = await startBerthd({ repo, dataRoot, execRoot, socket, pidfile, logFile, args: ['--bridge', 'none'], env: berthEnv });
  const serverVersion = (await cli(env, ['version', '--format', '{{.Server.Version}}'])).stdout.toString().trim();
  const busyboxTar = await importBusybox(repo, env);
  checkInterrupted();

  const daemons: Daemon[] = [{ who: 'berthd', env }];
  const dockerdVersion = values['no-dockerd'] ? undefined : await dockerdAvailable();
  let dockerdNote = values['no-dockerd'] ? 'not measured (--no-dockerd)' : 'not measured: no dockerd installed (Debian package docker.io)';
  if (dockerdVersion) {
    dockerd = await startPrivateDockerd({ dataRoot: join(scratch, 'docker'), execRoot: dockerdExecRoot, scratch, cliConfig, args: ['--cgroup-parent', dockerdCgroup] });
    const denv = { ...dockerd.env, DOCKER_BUILDKIT: '0' };
    await mustRun(DOCKER, ['import', '-c', 'CMD ["sh"]', '-', 'busybox:latest'], { input: busyboxTar, env: denv, timeoutMs: 60_000 });
    const sv = (await cli(denv, ['version', '--format', '{{.Server.Version}}'])).stdout.toString().trim();
    const driver = (await cli(denv, ['info', '--format', '{{.Driver}}'])).stdout.toString().trim();
    dockerdNote = `dockerd ${sv} (\`${dockerdVersion}\`, storage driver ${driver}), private: own data root, exec root and socket, containerd namespace berthbench, \`--bridge none --iptables=false --cgroup-parent ${dockerdCgroup}\``;
    daemons.push({ who: 'dockerd', env: denv });
  }
  checkInterrupted();

  // The big context built once on each daemon (untimed), so that c finds its cache.
  for (const d of daemons) {
    await build(d.env, d.who, { dir: bigDir, tag: 'bench/big', steps: BIG_STEPS, cached: 0 });
    checkInterrupted();
  }

  // Round order: a, b, c, d, each berthd then dockerd.
  const perDaemon = daemons.map((d, i) => measurementsOf(d, i === 0));
  const measures: Sampled[] = [];
  for (let s = 0; s < 4; s++) for (const ms of perDaemon) measures.push(ms[s]!);
  for (const m of measures) {
    const fn = m.fn;
    m.fn = () => fn().catch((e: unknown) => { throw new Error(`${m.key}: ${e instanceof Error ? e.message : String(e)}`); });
  }
  await runInterleaved(measures, { runs: RUNS, warmups: WARMUPS, digits: 0, check: checkInterrupted, what: 'ms' });

  // What a daemon holds at the end: busybox, the two tags and their intermediates; no containers.
  const counts = async (e: NodeJS.ProcessEnv): Promise<string> => {
    const imgs = (await cli(e, ['images', '-aq'])).stdout.toString().split('\n').filter(Boolean).length;
    const ctrs = (await cli(e, ['ps', '-aq'])).stdout.toString().split('\n').filter(Boolean).length;
    return `${imgs} images (with intermediates), ${ctrs} containers`;
  };
  const leftBerth = await counts(env);
  const leftDockerd = dockerd ? await counts(daemons[1]!.env) : '';
  const tmpLeft = (await outputOf('find', [join(dataRoot, 'builder', 'tmp'), '-mindepth', '1', '-maxdepth', '1'])).split('\n').filter(Boolean).length;

  const byKey = (k: string): Sampled | undefined => measures.find((m) => m.key === k);
  const med = (k: string): number => quantile(byKey(k)?.samples ?? [], 0.5);
  const secs = (ms: number): string => fmt(ms / 1000, ms < 1000 ? 3 : 2); // sub-second builds to the millisecond
  const range = (k: string): string => {
    const s = byKey(k)?.samples ?? [];
    return s.length ? `${secs(Math.min(...s))} – ${secs(Math.max(...s))}` : '—';
  };
  const out: string[] = [];
  out.push(`## Build: ${date}`, '');
  out.push(`Machine: ${info.nproc} CPUs (${info.cpu}), kernel ${info.kernel}, Node ${info.node}, Docker CLI ${info.docker}; data roots and contexts on ${info.fs} under /var/tmp.`);
  out.push(`Berth ${serverVersion} at ${info.commit}, \`--bridge none\` (RUN steps get no network); \`bench/build.ts\`, \`DOCKER_BUILDKIT=0 docker build\` (the classic builder) against both daemons, ${RUNS} runs per measurement after ${WARMUPS} warm-up round${WARMUPS === 1 ? '' : 's'}, interleaved (a, b, c, d; berthd then dockerd), \`sync\` before each build; wall time of the CLI command. Base image: busybox:latest from \`scripts/busybox-image.sh\`, imported into both.`);
  out.push(`Contexts: the 10-step Dockerfile (FROM, ENV, WORKDIR, COPY of 4 files, 3 RUNs: seq/wc, md5sum, tar + gzip + a user in /etc/passwd; LABEL, EXPOSE, CMD); and ${big.files.toLocaleString('en')} files of 1–4 KB in ${DIRS} dirs (fixed seed; ${(big.bytes / 1e6).toFixed(1)} MB, ${(ctxTar / 1e6).toFixed(1)} MB as the tar the CLI sends) with FROM, WORKDIR, \`COPY . /src\`, RUN (find | wc), LABEL, CMD. Every build's output is checked: the number of steps, and how many say "Using cache".`);
  out.push(`dockerd: ${dockerdNote}.`, '');
  out.push('| | build | berthd median s | min – max s | dockerd median s | min – max s | dockerd / berthd |', '|---|---|---:|---:|---:|---:|---:|');
  for (const k of ['a', 'b', 'c', 'd']) {
    const ratio = med(`d${k}`) / med(k);
    out.push(`| ${k} | ${LABELS[k]} | ${secs(med(k))} | ${range(k)} | ${dockerd ? secs(med(`d${k}`)) : '—'} | ${dockerd ? range(`d${k}`) : '—'} | ${dockerd ? `${fmt(ratio, 2)}×` : '—'} |`);
  }
  out.push('');
  if (dockerd) {
    const rb = med('db') / med('b');
    const rc = med('dc') / med('c');
    out.push(`- Target: a fully cached rebuild at least ${TARGET}× as fast as dockerd's classic builder: b ${fmt(rb, 2)}× (${rb >= TARGET ? 'met' : 'not met'}), c ${fmt(rc, 2)}× (${rc >= TARGET ? 'met' : 'not met'}).`);
  }
  out.push(`- Left in berthd after all runs (before its shutdown): ${leftBerth}, ${tmpLeft} build temp dirs; in dockerd: ${leftDockerd || '—'}. Whole run ${((performance.now() - tStart) / 1000).toFixed(0)} s.`);
  out.push('');
  const section = out.join('\n');

  logComplaints(logFile);
  process.stdout.write(`\n${section}\n`);
  if (profDir) log(`berthd writes its CPU profile to ${profDir} when it stops; not appended to BENCHMARKS.md`);
  else if (!values['no-append']) appendSection(repo, section);
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
