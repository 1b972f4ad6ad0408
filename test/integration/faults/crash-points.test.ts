// Crash at each write point (issue 16 finding 7). berthd (or `berth registry serve`) starts with
// BERTH_FAILPOINT=<point> and kills itself with SIGKILL when an ingest reaches that point (see
// src/util/failpoint.ts); it then starts again, without the failpoint, on the same data root:
// it must start, the image must be either whole and runnable or absent, nothing may be in
// quarantine (a crash between ordered, synced steps leaves nothing inconsistent), the tmp dir is
// empty, every layer dir is complete, and a retry of the operation succeeds.
// A SIGKILL keeps the page cache, so it is not a power cut: the write ORDER that a power cut needs
// is checked by test/unit/image/store-durability.test.ts. The last case fakes a power cut's
// result (a config blob that came back empty) and checks that start-up quarantines and reports it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, truncateSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { TestDaemon, makeBusybox, runBuffer, repo, until, ok, sleep } from '../../helpers/daemon.ts';
import { makeTar } from '../../helpers/faults.ts';
import { freePort } from '../../helpers/cncf-registry.ts';
import type { Failpoint } from '../../../src/util/failpoint.ts';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const alive = (pid: number | undefined): boolean => {
  if (!pid) return false;
  try { process.kill(pid, 0); return true; } catch { return false; }
};

async function untar(buf: Buffer): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const ex = tar.extract();
  const done = (async () => {
    for await (const e of ex) {
      const chunks: Buffer[] = [];
      for await (const c of e) chunks.push(c as Buffer);
      out.set(e.header.name, Buffer.concat(chunks));
    }
  })();
  Readable.from([buf]).pipe(ex);
  await done;
  return out;
}

describe('crash at each write point, then restart', () => {
  const d = new TestDaemon();
  const dirs: string[] = [];
  let registry: ChildProcess | undefined;
  let baseConfig: { rootfs: { diff_ids: string[] }; history?: unknown[] } & Record<string, unknown>;
  let baseLayers: Buffer[] = [];
  let rootfs: Buffer;

  before(async () => {
    await d.start();
    await makeBusybox(d);
    rootfs = await runBuffer('bash', [join(repo, 'scripts/busybox-image.sh')]);
    const saved = await d.api('GET', '/images/busybox:latest/get');
    assert.equal(saved.status, 200);
    const files = await untar(saved.body);
    const manifest = JSON.parse(files.get('manifest.json')!.toString()) as { Config: string; Layers: string[] }[];
    baseConfig = JSON.parse(files.get(manifest[0]!.Config)!.toString());
    baseLayers = manifest[0]!.Layers.map((l) => files.get(l)!);
  });

  after(async () => {
    if (registry && registry.exitCode === null && registry.signalCode === null) registry.kill('SIGKILL');
    await d.cleanup();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  /** A docker-archive of busybox plus one layer holding /point (unique per name). */
  function loadArchive(name: string): Buffer {
    const layer = makeTar([{ name: 'point', data: `${name}\n` }]);
    const config = Buffer.from(JSON.stringify({
      ...baseConfig, rootfs: { type: 'layers', diff_ids: [...baseConfig.rootfs.diff_ids, `sha256:${sha(layer)}`] },
      history: [...(baseConfig.history ?? []), { created: new Date(0).toISOString(), created_by: `crash point ${name}` }],
    }));
    const layers = [...baseLayers, layer];
    return makeTar([
      { name: `blobs/sha256/${sha(config)}`, data: config },
      ...layers.map((l) => ({ name: `blobs/sha256/${sha(l)}`, data: l })),
      { name: 'manifest.json', data: JSON.stringify([{ Config: `blobs/sha256/${sha(config)}`, RepoTags: [`${name}:latest`], Layers: layers.map((l) => `blobs/sha256/${sha(l)}`) }]) },
    ]);
  }

  /** The busybox rootfs with /point first: one new layer for docker import. */
  function importTar(name: string): Buffer {
    const first = makeTar([{ name: 'point', data: `${name}\n` }]);
    return Buffer.concat([first.subarray(0, first.length - 1024), rootfs]);
  }

  /** Restarts berthd with the failpoint armed, runs op, and waits for berthd to die there. */
  async function crashAt(point: Failpoint, op: () => Promise<{ code: number; stderr: string }>): Promise<void> {
    await d.stop();
    process.env.BERTH_FAILPOINT = point;
    try { await d.start(); } finally { delete process.env.BERTH_FAILPOINT; }
    const pid = d.pid;
    const r = await op();
    await until(async () => !alive(pid), 10_000, `berthd to die at ${point}`);
    assert.notEqual(r.code, 0, `the operation must fail: berthd died (${point})`);
    assert.match(d.logTail(200), new RegExp(`failpoint ${point} reached`));
    await d.start();
  }

  /** After the restart: the image is whole or absent, nothing quarantined, nothing half-made. */
  async function consistent(name: string): Promise<'present' | 'absent'> {
    const info = (await d.api('GET', '/info')).json() as { Warnings: string[] | null };
    assert.equal(info.Warnings, null, `no warnings: ${JSON.stringify(info.Warnings)}`);
    assert.equal(existsSync(join(d.dataRoot, 'quarantine')), false, 'nothing quarantined');
    assert.deepEqual(readdirSync(join(d.dataRoot, 'image/tmp')), []);
    for (const l of readdirSync(join(d.dataRoot, 'image/layers'))) {
      assert.ok(existsSync(join(d.dataRoot, 'image/layers', l, 'meta.json')), `layer ${l} is complete`);
    }
    for (const id of (await ok(d.docker(['images', '-aq', '--no-trunc']))).split('\n').filter(Boolean)) {
      await ok(d.docker(['image', 'inspect', id]));
    }
    const listed = (await ok(d.docker(['images', '--format', '{{.Repository}}', name]))).trim();
    if (listed === '') return 'absent';
    assert.equal(await ok(d.docker(['run', '--rm', name, 'cat', '/point'])), `${name}\n`);
    return 'present';
  }

  async function retried(name: string): Promise<void> {
    assert.equal(await ok(d.docker(['run', '--rm', name, 'cat', '/point'])), `${name}\n`);
    await ok(d.docker(['rmi', name]));
  }

  const loads: Failpoint[] = ['image-blob-written', 'image-blob-committed', 'image-config-written'];
  for (const point of loads) {
    it(`docker load killed at ${point}: restarts consistent, and a retried load works`, { timeout: 60_000 }, async () => {
      const name = `cp-${point}`;
      const archive = loadArchive(name);
      await crashAt(point, () => d.docker(['load'], { input: archive, timeoutMs: 20_000 }));
      await consistent(name);
      await ok(d.docker(['load'], { input: archive }));
      await retried(name);
    });
  }

  for (const point of ['image-layer-extracted', 'image-imagedb-written'] as Failpoint[]) {
    it(`docker import killed at ${point}: restarts consistent, and a retried import works`, { timeout: 60_000 }, async () => {
      const name = `cp-${point}`;
      const input = importTar(name);
      await crashAt(point, () => d.docker(['import', '-', name], { input, timeoutMs: 20_000 }));
      await consistent(name);
      await ok(d.docker(['import', '-', name], { input }));
      await retried(name);
    });
  }

  for (const point of ['image-layer-committed', 'image-tag-written'] as Failpoint[]) {
    it(`docker commit killed at ${point}: restarts consistent, and a retried commit works`, { timeout: 60_000 }, async () => {
      const name = `cp-${point}`;
      await ok(d.docker(['run', '--name', name, 'busybox', 'sh', '-c', `echo ${name} > /point`]));
      await crashAt(point, () => d.docker(['commit', name, name], { timeoutMs: 20_000 }));
      const state = await consistent(name);
      // The tag is the last write: killed after it, the image is there and tagged.
      if (point === 'image-tag-written') assert.equal(state, 'present');
      else assert.equal(state, 'absent');
      await ok(d.docker(['commit', name, name]));
      await ok(d.docker(['rm', name]));
      await retried(name);
    });
  }

  async function startRegistry(root: string, port: number, point?: Failpoint): Promise<ChildProcess> {
    const child = spawn(join(repo, 'bin/berth'), ['registry', 'serve', '--root', root, '--addr', `127.0.0.1:${port}`], {
      stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...(point ? { BERTH_FAILPOINT: point } : {}) },
    });
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`registry did not start: ${stderr}`)), 15_000);
      child.stderr!.on('data', (b: Buffer) => {
        stderr += b.toString();
        if (stderr.includes('listening on')) { clearTimeout(timer); resolve(); }
      });
      child.once('exit', () => { clearTimeout(timer); reject(new Error(`registry exited: ${stderr}`)); });
    });
    child.stderr!.on('data', () => {});
    return child;
  }

  for (const point of ['registry-blob-committed', 'registry-manifest-stored'] as Failpoint[]) {
    it(`berth registry serve killed at ${point}: restarts consistent, and a retried push works`, { timeout: 60_000 }, async () => {
      const root = await mkdtemp(join(tmpdir(), 'berth-crash-reg-'));
      dirs.push(root);
      const port = await freePort();
      const ref = `127.0.0.1:${port}/cp/${point}:1`;
      await ok(d.docker(['tag', 'busybox', ref]));
      registry = await startRegistry(root, port, point);
      const died = new Promise<string | null>((r) => registry!.once('exit', (_c, sig) => r(sig)));
      const push = await d.docker(['push', ref], { timeoutMs: 30_000 });
      let timer: NodeJS.Timeout | undefined;
      const verdict = await Promise.race([died, new Promise<string>((r) => { timer = setTimeout(() => r('alive'), 10_000); })]);
      clearTimeout(timer); // a pending timer would keep the file's process alive 10 s after its tests
      assert.equal(verdict, 'SIGKILL', `the registry died at ${point}`);
      assert.notEqual(push.code, 0);
      registry = await startRegistry(root, port);
      // Whatever the registry lists is whole: each tag's manifest and every blob it names.
      const tags = await fetch(`http://127.0.0.1:${port}/v2/cp/${point}/tags/list`).then((r) => (r.ok ? r.json() as Promise<{ tags: string[] | null }> : { tags: [] }));
      for (const t of tags.tags ?? []) {
        const m = await fetch(`http://127.0.0.1:${port}/v2/cp/${point}/manifests/${t}`, { headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' } });
        assert.equal(m.status, 200);
        const man = await m.json() as { config: { digest: string }; layers: { digest: string }[] };
        for (const b of [man.config, ...man.layers]) assert.equal((await fetch(`http://127.0.0.1:${port}/v2/cp/${point}/blobs/${b.digest}`, { method: 'HEAD' })).status, 200);
      }
      await ok(d.docker(['push', ref]));
      await ok(d.docker(['rmi', ref]));
      await ok(d.docker(['pull', ref]));
      assert.equal(await ok(d.docker(['run', '--rm', ref, 'echo', 'pulled'])), 'pulled\n');
      await ok(d.docker(['rmi', ref]));
      registry.kill('SIGTERM');
      await new Promise((r) => registry!.once('exit', r));
    });
  }

  it('a config blob that came back empty (a power cut before the fix) is quarantined and reported, not deleted', { timeout: 60_000 }, async () => {
    const name = 'cp-torn';
    await ok(d.docker(['load'], { input: loadArchive(name) }));
    const id = (await ok(d.docker(['image', 'inspect', '--format', '{{.Id}}', name]))).trim();
    await d.stop();
    truncateSync(join(d.dataRoot, 'image/content/sha256', id.slice(7)), 0);
    await d.start();
    assert.notEqual((await d.docker(['image', 'inspect', name])).code, 0, 'the torn image is not served');
    const info = (await d.api('GET', '/info')).json() as { Warnings: string[] | null };
    assert.equal(info.Warnings?.length, 1, JSON.stringify(info.Warnings));
    assert.match(info.Warnings![0]!, /inconsistent item\(s\).*quarantine/);
    assert.match((await ok(d.docker(['info']))) + (await d.docker(['info'])).stderr, /WARNING: berthd found/);
    const [stamp] = readdirSync(join(d.dataRoot, 'quarantine'));
    const q = join(d.dataRoot, 'quarantine', stamp!);
    assert.ok(existsSync(join(q, 'image/imagedb', `${id.slice(7)}.json`)));
    const layerDirs = readdirSync(join(q, 'image/layers'));
    assert.ok(layerDirs.some((l) => existsSync(join(q, 'image/layers', l, 'diff/point'))), 'its layer is kept in quarantine');
    assert.ok(JSON.parse(readFileSync(join(q, 'report.json'), 'utf8')).length >= 3);
    // busybox, which shares the base layer, still runs; and the image loads again.
    assert.equal(await ok(d.docker(['run', '--rm', 'busybox', 'echo', 'ok'])), 'ok\n');
    await ok(d.docker(['load'], { input: loadArchive(name) }));
    await retried(name);
  });
});
