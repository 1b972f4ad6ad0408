// Registry throughput: `docker pull` and `docker push` of a ~200 MB image of 5 layers from and to
// a local registry, through berthd, next to the floor (download + sha256 + gunzip + untar of the
// same blobs) and, when Debian's docker.io is installed, a private dockerd 20.10.
//
//   node_modules/.bin/node bench/registry.ts [--runs N] [--warmups N] [--no-append] [--only a,b2,…] [--cpu-prof DIR]
//
// --only: measure only these keys (a then b/b2 still need each other: a leaves the image for b,
// b loads it for b2, so --only a,b,b2 or --only a plus the floors); --cpu-prof DIR: berthd runs
// with NODE_OPTIONS=--cpu-prof and writes its profile to DIR when it stops (nothing is appended).
//
// Makes the image here (no network): 5 layers of ~40 MB of files each, from a fixed seed — some
// files random bytes (incompressible), the others text of words (gzip shrinks it ~3:1), so that
// gzip -6 makes the image about half its size (≈ 1.9:1). It is pushed over HTTP to a CNCF registry
// (Debian's docker-registry) on 127.0.0.1 as a Docker schema2 image, and written as a
// docker-archive for `docker load`. Then, after `--warmups` unrecorded rounds (default 1), N
// rounds (default 5), each measurement once per round in turn:
//   a.  berthd: `docker pull` of it (every layer must say "Pull complete")
//   b.  berthd: `docker push` of the pulled image (its compressed blobs are sent as pulled)
//   b2. berthd: `docker push` of the same image `docker load`ed (not pulled: gzip -1 while sending)
//   f.  floor: the 5 blobs fetched over HTTP (undici) from the same registry, sha256 of the
//       compressed and the uncompressed stream, node:zlib gunzip, `tar -x` into a fresh dir per
//       layer: fs = one layer after the other, fp = 3 at a time (as berthd and dockerd pull)
//   d.  a private dockerd (own data/exec root, socket, containerd namespace, no bridge, no
//       iptables): `docker pull`, then `docker push` of what it pulled (dockerd compresses again)
// Every push goes to a registry instance of its own, started empty before and removed after
// (untimed), so that each push really uploads every blob (no HEAD hit, no cross-repo mount).
// After each pull the image is removed again (`docker rmi`), and every untimed step ends with a
// `sync`, so that one run's writeback does not land on the next one's clock.
// Prints a Markdown section (medians, min–max, MB/s of the compressed and the uncompressed size)
// and appends it to BENCHMARKS.md. Everything it made is taken away again, also on failure or
// Ctrl-C: registries, berthd, dockerd and its containerd, mounts, /var/tmp/berth-bench-* dirs.
import { type ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync, createGunzip } from 'node:zlib';
import tarStream from 'tar-stream';
import { request } from 'undici';
import { forEachBounded } from '../src/util/bounded.ts';
import { daemonTag } from '../src/engine/engine.ts';
import {
  DOCKER, log, fmt, runCmd, mustRun, withTimeout, quantile, mountsUnder, type Result, startBerthd, onSignals, stopChild,
  benchPaths, runsOption, machineInfo, outputOf, runInterleaved, logComplaints, appendSection, killRuntimeLeftovers,
  unmountAndRemove, runBench, removeCgroupTree, processesOf, startDockerRegistry, type LocalRegistry, startPrivateDockerd,
  stopPrivateDockerd, type PrivateDockerd, type Sampled,
  leftovers,
} from './lib.ts';

const repo = resolve(import.meta.dirname, '..');
const LAYERS = 5;
const LAYER_BYTES = 40_000_000; // file content per layer
const BINARY_SHARE = [0.45, 0.15, 0.35, 0.2, 0.35]; // of each layer's bytes: random; the rest text
const TEXT_REUSE = 0.35; // share of text lines that repeat a recent one (text then gzips ≈ 3:1)
const PULL_TARGET = 0.9; // berthd pull MB/s ≥ 0.9 × the floor's
const PUSH_TARGET = 190; // MB/s of the compressed image
const CONCURRENCY = 3; // berthd's and dockerd's parallel layer downloads
const SEED = 'berth bench/registry.ts seed 1';
const MTIME = new Date('2024-01-01T00:00:00Z');
const REPO_PATH = 'bench/big';

const MT = {
  manifest: 'application/vnd.docker.distribution.manifest.v2+json',
  config: 'application/vnd.docker.container.image.v1+json',
  layer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
};

const mbs = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);
const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);
const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

// ---------- the run ----------

const { values } = parseArgs({ options: {
  runs: { type: 'string', default: '5' }, warmups: { type: 'string', default: '1' }, 'no-append': { type: 'boolean', default: false },
  only: { type: 'string' }, 'cpu-prof': { type: 'string' },
} });
const RUNS = runsOption(values.runs);
const WARMUPS = values.warmups === '0' ? 0 : runsOption(values.warmups);

const only = values.only?.split(',').map((k) => k.trim());
const wanted = (k: string): boolean => !only || only.includes(k);

const paths = benchPaths(); // scratch: archive, registries' storage, floor's trees, dockerd's roots, CLI config, logs
const { tag, execRoot, socket, pidfile, dataRoot, scratch, cliConfig, logFile, env } = paths;
const archive = join(scratch, 'image.tar');
const dockerdExecRoot = `/run/bbd-${tag}`; // short: containerd's sockets live under it

let daemon: ChildProcess | undefined;
let dockerd: PrivateDockerd | undefined;
let source: LocalRegistry | undefined;
const targets = new Set<LocalRegistry>(); // push targets alive right now
let cleaning: Promise<void> | undefined;

async function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await stopChild(daemon, 'berthd', log).catch((e) => log(`stopping berthd: ${e}`));
    await killRuntimeLeftovers(execRoot);
    removeCgroupTree(`berth-${daemonTag(execRoot)}`);
    await stopPrivateDockerd(dockerd).catch((e) => log(`stopping dockerd: ${e}`));
    for (const r of [source, ...targets]) await r?.stop().catch((e) => log(`stopping registry ${r.host}: ${e}`));
    await unmountAndRemove([dataRoot, execRoot, dockerdExecRoot, scratch], 120_000);
  })();
  return cleaning;
}

const signals = onSignals(cleanup, 150_000, log);
const checkInterrupted = signals.check;

async function cli(e: NodeJS.ProcessEnv, args: string[], timeoutMs = 300_000): Promise<Result> {
  return mustRun(DOCKER, args, { env: e, timeoutMs });
}

/** Writes back what earlier (untimed) steps left dirty, so that it is not charged to the next measurement. */
async function settle(): Promise<void> {
  await mustRun('sync', [], { timeoutMs: 120_000 });
}

// ---------- the image ----------

/** Deterministic bytes: AES-256-CTR of zeros under a key made from SEED. */
function seededBytes(label: string): (n: number) => Buffer {
  const key = createHash('sha256').update(`${SEED} ${label}`).digest();
  const c = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return (n) => c.update(Buffer.alloc(n));
}

/** A small deterministic PRNG (mulberry32) for choices. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LETTERS = 'etaoinshrdlucmfwypvbgkqjxz';
const words = ((): string[] => {
  const r = prng(7);
  return Array.from({ length: 4000 }, () => {
    const n = 2 + Math.floor(r() * r() * 12);
    let w = '';
    for (let i = 0; i < n; i++) w += LETTERS[Math.floor(r() * r() * LETTERS.length)];
    return w;
  });
})();

/** Text-like bytes: lines of words from a 4000-word vocabulary (skewed), indented, some punctuation; a share of lines repeats one of the last 256. */
function textBytes(r: () => number, n: number, reuse = TEXT_REUSE): Buffer {
  const b = Buffer.allocUnsafe(n);
  const recent: string[] = [];
  let pos = 0;
  while (pos < n) {
    let line: string;
    if (recent.length > 16 && r() < reuse) {
      line = recent[Math.floor(r() * recent.length)]!;
    } else {
      line = ' '.repeat(Math.floor(r() * 4) * 2);
      const len = 20 + r() * 70;
      while (line.length < len) {
        line += words[Math.floor(r() * r() * words.length)]!;
        const x = r();
        line += x < 0.05 ? ', ' : x < 0.08 ? '(' : x < 0.1 ? ') ' : x < 0.12 ? ' = ' : ' ';
      }
      const x = r();
      line = `${line.trimEnd()}${x < 0.3 ? ';' : x < 0.5 ? '.' : ''}\n`;
      if (recent.length < 256) recent.push(line); else recent[Math.floor(r() * 256)] = line;
    }
    pos += b.write(line, pos, 'latin1');
  }
  return b;
}

interface Layer { tar: Buffer; gz: Buffer; diffId: string; digest: string; files: number }

/** One layer: files of log-uniform sizes (1 KB – 2 MB) in dirs of up to 40, random or text. */
async function makeLayer(i: number): Promise<Layer> {
  const r = prng(1000 + i);
  const random = seededBytes(`layer ${i}`);
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => { chunks.push(c as Buffer); });
  const ended = new Promise<void>((res, rej) => { pack.on('end', res); pack.on('error', rej); });
  const put = (header: Partial<tarStream.Header> & { name: string }, body?: Buffer): Promise<void> => new Promise((res, rej) => {
    const h = { mtime: MTIME, uid: 0, gid: 0, ...header } as tarStream.Header;
    const cb = (e?: Error | null): void => (e ? rej(e) : res());
    if (body) pack.entry(h, body, cb); else pack.entry(h, cb);
  });
  const top = `opt/layer${i}`;
  for (const d of ['opt', top]) await put({ name: `${d}/`, type: 'directory', mode: 0o755 });
  let bin = LAYER_BYTES * BINARY_SHARE[i]!;
  let text = LAYER_BYTES - bin;
  let files = 0;
  let dir = '';
  while (bin + text > 0) {
    if (files % 40 === 0) { dir = `${top}/d${String(files / 40).padStart(3, '0')}`; await put({ name: `${dir}/`, type: 'directory', mode: 0o755 }); }
    const isBin = r() * (bin + text) < bin;
    const want = Math.round(Math.exp(Math.log(1024) + r() * (Math.log(2 * 1024 * 1024) - Math.log(1024))));
    const size = Math.min(want, isBin ? bin : text);
    const body = isBin ? random(size) : textBytes(r, size);
    if (isBin) bin -= size; else text -= size;
    await put({ name: `${dir}/f${String(files).padStart(4, '0')}.${isBin ? 'bin' : 'txt'}`, size, mode: isBin ? 0o755 : 0o644 }, body);
    files++;
  }
  pack.finalize();
  await ended;
  const tar = Buffer.concat(chunks);
  const gz = gzipSync(tar, { level: 6 });
  return { tar, gz, diffId: sha256(tar), digest: sha256(gz), files };
}

interface Image { layers: Layer[]; config: Buffer; configDigest: string; manifest: Buffer; manifestDigest: string; tarBytes: number; gzBytes: number }

async function makeImage(): Promise<Image> {
  const layers: Layer[] = [];
  for (let i = 0; i < LAYERS; i++) { checkInterrupted(); layers.push(await makeLayer(i)); }
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', created: MTIME.toISOString(),
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map((l, i) => ({ created: MTIME.toISOString(), created_by: `bench/registry.ts layer ${i} (${l.files} files)` })),
  }));
  const configDigest = sha256(config);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: MT.manifest,
    config: { mediaType: MT.config, size: config.length, digest: configDigest },
    layers: layers.map((l) => ({ mediaType: MT.layer, size: l.gz.length, digest: l.digest })),
  }, null, 3));
  return {
    layers, config, configDigest, manifest, manifestDigest: sha256(manifest),
    tarBytes: layers.reduce((s, l) => s + l.tar.length, 0), gzBytes: layers.reduce((s, l) => s + l.gz.length, 0),
  };
}

/** Monolithic blob uploads (POST, PUT ?digest=) and the manifest PUT, straight over HTTP. */
async function uploadImage(reg: LocalRegistry, img: Image): Promise<void> {
  const blob = async (data: Buffer, digest: string): Promise<void> => {
    const start = await fetch(`${reg.url}/v2/${REPO_PATH}/blobs/uploads/`, { method: 'POST' });
    if (start.status !== 202) throw new Error(`starting an upload: ${start.status} ${await start.text()}`);
    const loc = new URL(start.headers.get('location')!, reg.url);
    loc.searchParams.set('digest', digest);
    const put = await fetch(loc, { method: 'PUT', body: data, headers: { 'content-type': 'application/octet-stream' } });
    if (put.status !== 201) throw new Error(`uploading ${digest}: ${put.status} ${await put.text()}`);
  };
  for (const l of img.layers) await blob(l.gz, l.digest);
  await blob(img.config, img.configDigest);
  const m = await fetch(`${reg.url}/v2/${REPO_PATH}/manifests/1`, { method: 'PUT', body: img.manifest, headers: { 'content-type': MT.manifest } });
  if (m.status !== 201) throw new Error(`putting the manifest: ${m.status} ${await m.text()}`);
  if (m.headers.get('docker-content-digest') !== img.manifestDigest) throw new Error(`registry reports manifest digest ${m.headers.get('docker-content-digest')}, not ${img.manifestDigest}`);
}

/** A docker-archive (`docker save` format) of the image, with uncompressed layers, tagged bench/loaded:1. */
async function writeArchive(img: Image): Promise<void> {
  const pack = tarStream.pack();
  const out = pipeline(pack, createWriteStream(archive));
  const put = (name: string, body: Buffer): Promise<void> => new Promise((res, rej) => { pack.entry({ name, size: body.length, mtime: MTIME, mode: 0o644 }, body, (e) => (e ? rej(e) : res())); });
  const hex = (d: string): string => d.slice('sha256:'.length);
  await put(`${hex(img.configDigest)}.json`, img.config);
  for (const l of img.layers) await put(`${hex(l.diffId)}/layer.tar`, l.tar);
  await put('manifest.json', Buffer.from(JSON.stringify([{ Config: `${hex(img.configDigest)}.json`, RepoTags: ['bench/loaded:1'], Layers: img.layers.map((l) => `${hex(l.diffId)}/layer.tar`) }])));
  pack.finalize();
  await out;
}

// ---------- measurements ----------

let seq = 0;

/** Lines of the CLI's (non-tty) progress output that end with `status`. */
const count = (r: Result, status: string): number => r.stdout.toString().split('\n').filter((l) => l.trimEnd().endsWith(`: ${status}`)).length;

/** `docker pull` of the source image; every layer must be downloaded (no "Already exists"). */
async function pullOnce(e: NodeJS.ProcessEnv, who: string): Promise<number> {
  const r = await cli(e, ['pull', `${source!.host}/${REPO_PATH}:1`]);
  if (count(r, 'Pull complete') !== LAYERS || count(r, 'Already exists') !== 0) throw new Error(`${who} pull did not download all ${LAYERS} layers:\n${r.stdout}`);
  return r.ms;
}

/** What a push sent: the compressed sizes in the manifest the target registry now holds. */
async function pushedBytes(reg: LocalRegistry, path: string): Promise<{ bytes: number; digests: string[] }> {
  const res = await request(`${reg.url}/v2/${path}/manifests/1`, { headers: { accept: `${MT.manifest}, application/vnd.oci.image.manifest.v1+json` } });
  const m = (await res.body.json()) as { layers: { size: number; digest: string }[] };
  return { bytes: m.layers.reduce((s, l) => s + l.size, 0), digests: m.layers.map((l) => l.digest) };
}

/** Bytes each push measurement sent (from the target's manifest), by key. */
const sentBytes: Record<string, number[]> = {};

/**
 * `docker push` of `local` to an empty registry of its own (started before, removed after; untimed).
 * `mustCompress`: the layers must be new gzip streams (not the source registry's blobs).
 */
async function pushOnce(e: NodeJS.ProcessEnv, key: string, local: string, mustCompress: boolean): Promise<number> {
  const reg = await startDockerRegistry(join(scratch, `target-${seq++}`));
  targets.add(reg);
  try {
    const ref = `${reg.host}/${REPO_PATH}:1`;
    await cli(e, ['tag', local, ref]);
    await settle();
    const r = await cli(e, ['push', ref]);
    if (count(r, 'Pushed') !== LAYERS) throw new Error(`push of ${local} (${key}) did not upload all ${LAYERS} layers:\n${r.stdout}`);
    const sent = await pushedBytes(reg, REPO_PATH);
    const same = sent.digests.filter((d) => img!.layers.some((l) => l.digest === d)).length;
    if (mustCompress ? same !== 0 : same !== LAYERS) throw new Error(`push ${key}: ${same} of ${LAYERS} layers went up as the source registry's blobs, expected ${mustCompress ? 0 : LAYERS}`);
    (sentBytes[key] ??= []).push(sent.bytes);
    await cli(e, ['rmi', ref]);
    return r.ms;
  } finally {
    await reg.stop();
    targets.delete(reg);
    await settle();
  }
}

let img: Image | undefined;

/** (a) berthd pull; the image stays for (b). */
const berthPull = async (): Promise<number> => {
  const ms = await pullOnce(env, 'berthd');
  if (!wanted('b')) await cli(env, ['rmi', `${source!.host}/${REPO_PATH}:1`]);
  await settle();
  return ms;
};

/** (b) push of the pulled image; then it is removed and the archive loaded (untimed) for (b2). */
const berthPushPulled = async (): Promise<number> => {
  const ms = await pushOnce(env, 'b', `${source!.host}/${REPO_PATH}:1`, false);
  await cli(env, ['rmi', `${source!.host}/${REPO_PATH}:1`]);
  await cli(env, ['load', '-q', '-i', archive]);
  await settle();
  return ms;
};

/** (b2) push of the loaded image (gzip now); then it is removed, so that (a) downloads everything again. */
const berthPushLoaded = async (): Promise<number> => {
  const ms = await pushOnce(env, 'b2', 'bench/loaded:1', true);
  await cli(env, ['rmi', 'bench/loaded:1']);
  await settle();
  return ms;
};

/** The floor for one layer: GET, sha256 of both streams, gunzip, `tar -x` into `out`. */
async function floorLayer(l: Layer, out: string): Promise<void> {
  mkdirSync(out, { recursive: true });
  const res = await request(`${source!.url}/v2/${REPO_PATH}/blobs/${l.digest}`, { maxRedirections: 0 } as never);
  if (res.statusCode !== 200) throw new Error(`GET blob ${l.digest}: ${res.statusCode}`);
  const tar = spawn('tar', ['-x', '-C', out], { stdio: ['pipe', 'ignore', 'pipe'] });
  let tarErr = '';
  tar.stderr!.on('data', (d: Buffer) => { tarErr += d.toString(); });
  const exited = new Promise<number>((res2) => tar.on('close', (code) => res2(code ?? -1)));
  const hasher = (h: ReturnType<typeof createHash>): Transform => new Transform({ highWaterMark: 1024 * 1024, transform(c: Buffer, _e, cb) { h.update(c); cb(null, c); } });
  const hc = createHash('sha256');
  const hu = createHash('sha256');
  try {
    await pipeline(res.body as Readable, hasher(hc), createGunzip({ chunkSize: 256 * 1024 }), hasher(hu), tar.stdin!);
  } catch (e) {
    tar.kill('SIGKILL');
    throw new Error(`floor, layer ${l.digest}: ${(e as Error).message} (tar exit ${await exited}: ${tarErr.trim()})`);
  }
  const code = await withTimeout(exited, 60_000, 'tar -x');
  if (code !== 0) throw new Error(`tar -x exited ${code}: ${tarErr}`);
  if (`sha256:${hc.digest('hex')}` !== l.digest || `sha256:${hu.digest('hex')}` !== l.diffId) throw new Error(`floor: layer ${l.digest} does not verify`);
}

function floor(concurrency: number): () => Promise<number> {
  return async () => {
    const base = join(scratch, `floor-${seq++}`);
    const t0 = performance.now();
    await forEachBounded(img!.layers, concurrency, (l, i) => floorLayer(l, join(base, String(i))));
    const ms = performance.now() - t0;
    await withTimeout(rm(base, { recursive: true, force: true }), 60_000, `rm -rf ${base}`);
    await settle();
    return ms;
  };
}

/** (d) dockerd pull, then push of what it pulled; the image is removed after the push. */
const dockerdPull = async (): Promise<number> => {
  const ms = await pullOnce(dockerd!.env, 'dockerd');
  await settle();
  return ms;
};
const dockerdPush = async (): Promise<number> => {
  const ms = await pushOnce(dockerd!.env, 'dp', `${source!.host}/${REPO_PATH}:1`, true);
  await cli(dockerd!.env, ['rmi', `${source!.host}/${REPO_PATH}:1`]);
  await settle();
  return ms;
};

interface Measurement extends Sampled { label: string; kind: 'pull' | 'push' | 'floor' }

async function dockerdAvailable(): Promise<string | undefined> {
  const v = await runCmd('dockerd', ['--version'], { timeoutMs: 10_000 });
  if (v.code !== 0) return undefined;
  return v.stdout.toString().trim();
}

async function main(): Promise<void> {
  const tStart = performance.now();
  const date = (await mustRun('date', ['-u'])).stdout.toString().trim();
  const info = { ...await machineInfo(repo, ' (with uncommitted changes under src/)'), tar: (await outputOf('tar', ['--version'])).split('\n')[0] ?? '', fs: await outputOf('findmnt', ['-n', '-o', 'FSTYPE', '-T', scratch]) };
  const registryVersion = (await outputOf('/usr/bin/docker-registry', ['--version'])).replace(/^\S+\s+/, '');
  log(`berthd: data root ${dataRoot}, exec root ${execRoot}; scratch ${scratch}`);

  log('making the image …');
  const t0 = performance.now();
  img = await makeImage();
  checkInterrupted();
  log(`image: ${LAYERS} layers, ${mb(img.tarBytes)} MB of tar, ${mb(img.gzBytes)} MB gzipped (${(img.tarBytes / img.gzBytes).toFixed(2)}:1), ${img.layers.reduce((s, l) => s + l.files, 0)} files; made in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  source = await startDockerRegistry(join(scratch, 'source'));
  await uploadImage(source, img);
  await writeArchive(img);
  const layerLine = img.layers.map((l, i) => `${mb(l.tar.length)}→${mb(l.gz.length)}`).join(', ');
  for (const l of img.layers) { l.tar = Buffer.alloc(0); } // the archive and the registry hold them now; keep the sizes only
  await settle();
  checkInterrupted();

  const profDir = values['cpu-prof'] ? resolve(values['cpu-prof']) : undefined;
  if (profDir) mkdirSync(profDir, { recursive: true });
  const berthEnv = profDir ? { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${profDir}`.trim() } : undefined;
  daemon = await startBerthd({ repo, dataRoot, execRoot, socket, pidfile, logFile, args: ['--bridge', 'none'], env: berthEnv });
  const serverVersion = (await cli(env, ['version', '--format', '{{.Server.Version}}'])).stdout.toString().trim();
  checkInterrupted();

  const measures: Measurement[] = [
    { key: 'a', kind: 'pull', label: 'berthd: `docker pull`', fn: berthPull, samples: [] },
    { key: 'b', kind: 'push', label: 'berthd: `docker push` of the pulled image (blobs sent as pulled)', fn: berthPushPulled, samples: [] },
    { key: 'b2', kind: 'push', label: 'berthd: `docker push` of it `docker load`ed (gzip -1 while sending)', fn: berthPushLoaded, samples: [] },
    { key: 'fs', kind: 'floor', label: 'floor: GET + sha256 ×2 + gunzip + `tar -x`, one layer after the other', fn: floor(1), samples: [] },
    { key: 'fp', kind: 'floor', label: `floor: the same, ${CONCURRENCY} layers at a time`, fn: floor(CONCURRENCY), samples: [] },
  ];
  const dockerdVersion = only && !only.some((k) => k.startsWith('d')) ? undefined : await dockerdAvailable();
  let dockerdNote = 'not measured: no dockerd installed (Debian package docker.io)';
  if (dockerdVersion) {
    dockerd = await startPrivateDockerd({ dataRoot: join(scratch, 'docker'), execRoot: dockerdExecRoot, scratch, cliConfig });
    const links = (await outputOf('ip', ['-o', 'link'])).split('\n').filter((l) => /docker0/.test(l));
    if (links.length) log(`warning: a docker0 bridge exists: ${links.join('; ')}`);
    const sv = (await cli(dockerd.env, ['version', '--format', '{{.Server.Version}}'])).stdout.toString().trim();
    dockerdNote = `dockerd ${sv} (\`${dockerdVersion}\`), private: own data root, exec root and socket, containerd namespace berthbench, \`--bridge none --iptables=false\``;
    measures.push(
      { key: 'dpull', kind: 'pull', label: 'dockerd: `docker pull`', fn: dockerdPull, samples: [] },
      { key: 'dp', kind: 'push', label: 'dockerd: `docker push` of the pulled image (compresses again)', fn: dockerdPush, samples: [] },
    );
  }
  checkInterrupted();

  for (const m of [...measures]) if (!wanted(m.key)) measures.splice(measures.indexOf(m), 1);
  if (only && (wanted('b') || wanted('b2')) && !(wanted('a') && wanted('b') && wanted('b2'))) throw new Error('--only: b and b2 need a, b and b2 together');
  for (const m of measures) {
    const fn = m.fn;
    m.fn = () => fn().catch((e: unknown) => { throw new Error(`${m.key}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`); });
  }
  await runInterleaved(measures, { runs: RUNS, warmups: WARMUPS, digits: 0, check: checkInterrupted, what: 'ms' });

  // What the daemons hold after all runs: nothing (every image was removed).
  const leftBerth = (await cli(env, ['images', '-aq'])).stdout.toString().split('\n').filter(Boolean).length;
  const leftDockerd = dockerd ? (await cli(dockerd.env, ['images', '-aq'])).stdout.toString().split('\n').filter(Boolean).length : 0;
  const leftBlobs = (await outputOf('find', [join(dataRoot, 'content'), '-type', 'f'])).split('\n').filter(Boolean).length;

  const byKey = (k: string): Measurement | undefined => measures.find((m) => m.key === k);
  const med = (k: string): number => quantile(byKey(k)?.samples ?? [], 0.5);
  const floorKey = ['fp', 'fs'].filter((k) => byKey(k)).sort((x, y) => med(x) - med(y))[0] ?? 'fp';
  const floorMs = med(floorKey);
  const G = img.gzBytes;
  const T = img.tarBytes;
  const lines: string[] = [];
  lines.push(`## Registry: ${date}`, '');
  lines.push(`Machine: ${info.nproc} CPUs (${info.cpu}), kernel ${info.kernel}, Node ${info.node}, ${info.tar}, Docker CLI ${info.docker}, docker-registry ${registryVersion}; data roots, registry storage and scratch on ${info.fs} under /var/tmp.`);
  lines.push(`Berth ${serverVersion} at ${info.commit}; \`bench/registry.ts\`, ${RUNS} runs per measurement after ${WARMUPS} warm-up round${WARMUPS === 1 ? '' : 's'}, interleaved; every push to an empty registry of its own; \`sync\` after each run's untimed steps.`);
  lines.push(`Image: ${LAYERS} layers made from a fixed seed, ${img.layers.reduce((s, l) => s + l.files, 0)} files of 1 KB – 2 MB, ${(BINARY_SHARE.reduce((s, x) => s + x, 0) / LAYERS * 100).toFixed(0)}% of the bytes random, the rest text; ${mb(T)} MB of tar, ${mb(G)} MB gzip -6 (${(T / G).toFixed(2)}:1; per layer MB tar→gz: ${layerLine}); served by a CNCF registry on 127.0.0.1 (plain HTTP) as a Docker schema2 image.`);
  lines.push(`dockerd: ${dockerdNote}.`, '');
  lines.push(`MB/s: the image's compressed size (${mb(G)} MB, the bytes a pull downloads) or its uncompressed size (${mb(T)} MB) over the median wall time. The issue's figures (dockerd ≈ 156 / 81 MB/s, floor ≈ 225 MB/s) are taken to be per compressed byte.`, '');
  lines.push('| | measurement | median s | min – max s | MB/s compressed | MB/s uncompressed | sent MB |', '|---|---|---:|---:|---:|---:|---:|');
  for (const m of measures) {
    const md = quantile(m.samples, 0.5);
    const sent = sentBytes[m.key]?.length ? mb(quantile(sentBytes[m.key]!, 0.5)) : m.kind === 'pull' || m.kind === 'floor' ? `${mb(G)} (down)` : '';
    lines.push(`| ${m.key} | ${m.label}${m.key === floorKey ? ' **(the floor)**' : ''} | ${fmt(md / 1000, 2)} | ${fmt(Math.min(...m.samples) / 1000, 2)} – ${fmt(Math.max(...m.samples) / 1000, 2)} | ${fmt(mbs(G, md))} | ${fmt(mbs(T, md))} | ${sent} |`);
  }
  if (!dockerd) lines.push(`| d | dockerd: \`docker pull\` / \`docker push\` | ${dockerdNote} | | | | |`);
  lines.push('');
  const pullRatio = floorMs / med('a');
  const pushMbs = mbs(G, med('b'));
  lines.push(`- Floor: ${floorKey === 'fp' ? `${CONCURRENCY} layers at a time` : 'one layer after the other'} (median ${fmt(mbs(G, floorMs))} MB/s compressed; the other way ${fmt(mbs(G, med(floorKey === 'fp' ? 'fs' : 'fp')))} MB/s).`);
  if (measures.length < 5 + (dockerd ? 2 : 0)) lines.push(`- Only ${measures.map((m) => m.key).join(', ')} measured (--only): the ratios of what was left out read NaN.`);
  lines.push(`- berthd pull / floor = ${(pullRatio * 100).toFixed(0)}% (target ≥ ${PULL_TARGET * 100}%: ${pullRatio >= PULL_TARGET ? 'met' : 'not met'}).`);
  lines.push(`- berthd push of the pulled image: ${fmt(pushMbs)} MB/s compressed (target ≥ ${PUSH_TARGET}: ${pushMbs >= PUSH_TARGET ? 'met' : 'not met'}); of the loaded image (gzip while sending): ${fmt(mbs(G, med('b2')))} MB/s by the same measure, ${fmt(mbs(T, med('b2')))} MB/s of tar.`);
  if (dockerd) {
    lines.push(`- berthd vs dockerd: pull ${(med('dpull') / med('a')).toFixed(2)}× as fast; push of the pulled image ${(med('dp') / med('b')).toFixed(2)}×, of the loaded one (both gzip) ${(med('dp') / med('b2')).toFixed(2)}×.`);
  }
  lines.push(`- Left after all runs: ${leftBerth} images in berthd (${leftBlobs} files in its content store), ${leftDockerd} in dockerd. Whole run ${((performance.now() - tStart) / 1000).toFixed(0)} s.`);
  lines.push('');
  const section = lines.join('\n');

  logComplaints(logFile);
  process.stdout.write(`\n${section}\n`);
  if (profDir) log(`berthd writes its CPU profile to ${profDir} when it stops; not appended to BENCHMARKS.md`);
  else if (!values['no-append']) appendSection(repo, section);
}

/** After cleanup: nothing of ours may be left (processes, mounts, dirs). */
async function after(): Promise<boolean> {
  const left = leftovers({ processes: [['docker-registry', scratch], ['dockerd', dockerdExecRoot], ['containerd', dockerdExecRoot], ['node', execRoot]], roots: [dataRoot, execRoot, dockerdExecRoot, scratch] });
  if (left.length) log(`left behind: ${left.join('; ')}`);
  return left.length === 0;
}

await runBench(main, { signals, cleanup, cleanupTimeoutMs: 150_000, logFile, after });
