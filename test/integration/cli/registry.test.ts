// docker pull / push / login against berthd, with real registries on 127.0.0.1: the CNCF
// distribution registry (Debian docker-registry) and Berth's own, skopeo in between, and a
// proxy that breaks on purpose for the fault cases.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { zstdCompressSync } from 'node:zlib';
import tar from 'tar-stream';
import { TestDaemon, makeBusybox, runCmd, ok } from '../../helpers/daemon.ts';
import { startCncfRegistry, type CncfRegistry } from '../../helpers/cncf-registry.ts';
import { FaultProxy } from '../../helpers/fault-proxy.ts';
import { startRegistry, type RunningRegistry } from '../../../src/registry/index.ts';

const DIGEST = /sha256:[0-9a-f]{64}/;

function lines(s: string): string[] {
  return s.split('\n').map((l) => l.trim()).filter(Boolean);
}

describe('pull, push and login against registries', () => {
  const d = new TestDaemon();
  let cncf: CncfRegistry;
  let locked: CncfRegistry;
  let berthReg: RunningRegistry;
  let tokenReg: RunningRegistry;
  const dirs: string[] = [];
  const proxies: FaultProxy[] = [];

  before(async () => {
    await d.start();
    await makeBusybox(d);
    cncf = await startCncfRegistry();
    locked = await startCncfRegistry({ htpasswd: { user: 'alice', password: 's3cret' } });
    const root = await mkdtemp(join(tmpdir(), 'berth-reg-test-'));
    dirs.push(root);
    berthReg = await startRegistry({ root, host: '127.0.0.1', port: 0 });
    const troot = await mkdtemp(join(tmpdir(), 'berth-reg-test-'));
    dirs.push(troot);
    const htpasswd = join(troot, 'htpasswd');
    const bcrypt = (await import('bcryptjs')).default;
    await (await import('node:fs/promises')).writeFile(htpasswd, `bob:${bcrypt.hashSync('hunter2', 5)}\n`);
    tokenReg = await startRegistry({ root: join(troot, 'data'), host: '127.0.0.1', port: 0, htpasswd, tokenAuth: true });
    // A bigger image, so a download can be cut half-way: busybox plus 6 MB of noise.
    await ok(d.docker(['run', '--name', 'mk', 'busybox', 'sh', '-c', 'head -c 6000000 /dev/urandom > /noise']));
    await ok(d.docker(['commit', 'mk', 'big:1']));
    await ok(d.docker(['rm', 'mk']));
  });

  after(async () => {
    for (const p of proxies) await p.die().catch(() => {});
    await d.cleanup();
    await cncf?.stop();
    await locked?.stop();
    await berthReg?.close();
    await tokenReg?.close();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('pushes to the CNCF registry and pulls back with progress lines, digest and repo digest', async () => {
    const ref = `${cncf.host}/t/busybox:1`;
    await ok(d.docker(['tag', 'busybox', ref]));
    const push = lines(await ok(d.docker(['push', ref])));
    assert.equal(push[0], `The push refers to repository [${cncf.host}/t/busybox]`);
    assert.ok(push.some((l) => /^[0-9a-f]{12}: Pushed$/.test(l)), push.join('\n'));
    const m = /^1: digest: (sha256:[0-9a-f]{64}) size: (\d+)$/.exec(push.at(-1)!);
    assert.ok(m, push.join('\n'));
    const digest = m[1]!;

    // Other images still hold busybox's layer: the pull finds it and downloads nothing.
    await ok(d.docker(['rmi', ref]));
    const pull = lines(await ok(d.docker(['pull', ref])));
    assert.equal(pull[0], '1: Pulling from t/busybox');
    assert.ok(pull.some((l) => /^[0-9a-f]{12}: Already exists$/.test(l)), pull.join('\n'));
    assert.ok(pull.includes(`Digest: ${digest}`), pull.join('\n'));
    assert.ok(pull.includes(`Status: Downloaded newer image for ${ref}`), pull.join('\n'));
    const [img] = JSON.parse(await ok(d.docker(['image', 'inspect', ref])));
    assert.deepEqual(img.RepoDigests, [`${cncf.host}/t/busybox@${digest}`]);
    assert.equal((await ok(d.docker(['run', '--rm', ref, 'echo', 'pulled']))).trim(), 'pulled');

    const again = lines(await ok(d.docker(['pull', ref])));
    assert.ok(again.includes(`Status: Image is up to date for ${ref}`), again.join('\n'));
    // By digest: the same image, found by its repo digest.
    const byDigest = lines(await ok(d.docker(['pull', `${cncf.host}/t/busybox@${digest}`])));
    assert.ok(byDigest.some((l) => l.startsWith('Status: ')), byDigest.join('\n'));
    const [again2] = JSON.parse(await ok(d.docker(['image', 'inspect', `${cncf.host}/t/busybox@${digest}`])));
    assert.equal(again2.Id, img.Id);
    // What the registry says about it, without pulling (GET /distribution/{name}/json).
    const dist = await d.api('GET', `/distribution/${ref}/json`);
    assert.equal(dist.status, 200);
    assert.equal(dist.json().Descriptor.digest, digest);
    assert.deepEqual(dist.json().Platforms, [{ architecture: 'amd64', os: 'linux' }]);
    // rmi by digest drops that reference only while a tag still names the image.
    const un = await ok(d.docker(['rmi', `${cncf.host}/t/busybox@${digest}`]));
    assert.equal(un.trim(), `Untagged: ${cncf.host}/t/busybox@${digest}`);
    const [after1] = JSON.parse(await ok(d.docker(['image', 'inspect', ref])));
    assert.deepEqual(after1.RepoDigests, []);
  });

  it('streams Downloading progress with progressDetail, and push reuses blobs (exists, mount)', async () => {
    const ref = `${cncf.host}/t/big`;
    await ok(d.docker(['tag', 'big:1', `${ref}:1`]));
    await ok(d.docker(['push', `${ref}:1`]));
    await ok(d.docker(['rmi', `${ref}:1`, 'big:1']));
    const r = await d.api('POST', `/images/create?fromImage=${encodeURIComponent(ref)}&tag=1`, undefined, { 'X-Registry-Auth': 'e30=' });
    assert.equal(r.status, 200);
    const msgs = lines(r.body.toString()).map((l) => JSON.parse(l) as { status?: string; progressDetail?: { current?: number; total?: number }; id?: string });
    const dl = msgs.filter((x) => x.status === 'Downloading');
    assert.ok(dl.length > 0 && dl.every((x) => x.progressDetail!.total! > 0 && x.progressDetail!.current! <= x.progressDetail!.total!), JSON.stringify(msgs.slice(0, 8)));
    for (const s of ['Pulling fs layer', 'Verifying Checksum', 'Download complete', 'Extracting', 'Pull complete']) {
      assert.ok(msgs.some((x) => x.status === s), `no ${s}`);
    }
    assert.ok(msgs.some((x) => x.status === 'Already exists'), 'the busybox layer was already there');
    await ok(d.docker(['tag', `${ref}:1`, 'big:1']));
    const again = lines(await ok(d.docker(['push', `${ref}:1`])));
    assert.ok(again.filter((l) => l.endsWith('Layer already exists')).length >= 2, again.join('\n'));
    await ok(d.docker(['tag', `${ref}:1`, `${cncf.host}/elsewhere/big:1`]));
    const mounted = lines(await ok(d.docker(['push', `${cncf.host}/elsewhere/big:1`])));
    assert.ok(mounted.some((l) => l.endsWith('Mounted from t/big')), mounted.join('\n'));
  });

  it('berth registry: berthd pushes and pulls; skopeo sees the digest; a copy between registries keeps it', async () => {
    const host = `127.0.0.1:${berthReg.port}`;
    await ok(d.docker(['tag', 'busybox', `${host}/b/busybox:2`]));
    const push = lines(await ok(d.docker(['push', `${host}/b/busybox:2`])));
    const digest = DIGEST.exec(push.at(-1)!)![0];
    const inspect = JSON.parse(await ok(runCmd('skopeo', ['inspect', '--tls-verify=false', `docker://${host}/b/busybox:2`])));
    assert.equal(inspect.Digest, digest);
    await ok(d.docker(['rmi', `${host}/b/busybox:2`]));
    const pull = lines(await ok(d.docker(['pull', `${host}/b/busybox:2`])));
    assert.ok(pull.includes(`Digest: ${digest}`), pull.join('\n'));

    // Pushed by berthd to the CNCF registry, copied by skopeo to Berth's, pulled by berthd: one digest.
    await ok(d.docker(['tag', 'big:1', `${cncf.host}/x/big:3`]));
    const p2 = lines(await ok(d.docker(['push', `${cncf.host}/x/big:3`])));
    const d2 = DIGEST.exec(p2.at(-1)!)![0];
    await ok(runCmd('skopeo', ['copy', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${cncf.host}/x/big:3`, `docker://${host}/copied/big:3`], { timeoutMs: 60_000 }));
    const p3 = lines(await ok(d.docker(['pull', `${host}/copied/big:3`])));
    assert.ok(p3.includes(`Digest: ${d2}`), p3.join('\n'));
    // And back: skopeo copies Berth's to the CNCF registry, berthd pulls it there.
    await ok(runCmd('skopeo', ['copy', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${host}/b/busybox:2`, `docker://${cncf.host}/fromberth/busybox:2`]));
    const p4 = lines(await ok(d.docker(['pull', `${cncf.host}/fromberth/busybox:2`])));
    assert.ok(p4.includes(`Digest: ${digest}`), p4.join('\n'));
  });

  it('login: a wrong password is a clear 401; the right one lets push and pull through (Basic)', async () => {
    const ref = `${locked.host}/private/busybox:1`;
    await ok(d.docker(['tag', 'busybox', ref]));
    const denied = await d.docker(['push', ref]);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /unauthorized|authentication required|no basic auth credentials/i);
    const bad = await d.docker(['login', locked.host, '-u', 'alice', '--password-stdin'], { input: 'wrong\n' });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /401 Unauthorized/);
    const good = await d.docker(['login', locked.host, '-u', 'alice', '--password-stdin'], { input: 's3cret\n' });
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /Login Succeeded/);
    const push = lines(await ok(d.docker(['push', ref])));
    assert.match(push.at(-1)!, /^1: digest: sha256:/);
    await ok(d.docker(['rmi', ref]));
    await ok(d.docker(['pull', ref]));
    await ok(d.docker(['logout', locked.host]));
    await ok(d.docker(['rmi', ref]));
    const anon = await d.docker(['pull', ref]);
    assert.notEqual(anon.code, 0);
    assert.match(anon.stderr, /unauthorized|authentication required|no basic auth credentials/i);
  });

  it('login and push/pull through the bearer-token flow of berth registry', async () => {
    const host = `127.0.0.1:${tokenReg.port}`;
    const ref = `${host}/tok/busybox:1`;
    await ok(d.docker(['tag', 'busybox', ref]));
    const bad = await d.docker(['login', host, '-u', 'bob', '--password-stdin'], { input: 'nope\n' });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /401 Unauthorized/);
    await ok(d.docker(['login', host, '-u', 'bob', '--password-stdin'], { input: 'hunter2\n' }));
    const push = lines(await ok(d.docker(['push', ref])));
    assert.match(push.at(-1)!, /^1: digest: sha256:/);
    await ok(d.docker(['rmi', ref]));
    const pull = lines(await ok(d.docker(['pull', ref])));
    assert.ok(pull.some((l) => l.startsWith('Status: Downloaded newer image')), pull.join('\n'));
    await ok(d.docker(['logout', host]));
  });

  it('manifest lists: the host platform by default, --platform on request; zstd layers', async () => {
    const host = `127.0.0.1:${berthReg.port}`;
    const base = berthReg.url;
    await ok(d.docker(['tag', 'busybox', `${host}/idx/busybox:amd64`]));
    await ok(d.docker(['push', `${host}/idx/busybox:amd64`]));
    const accept = { accept: 'application/vnd.docker.distribution.manifest.v2+json' };
    const amd = await fetch(`${base}/v2/idx/busybox/manifests/amd64`, { headers: accept });
    const amdBytes = Buffer.from(await amd.arrayBuffer());
    const amdManifest = JSON.parse(amdBytes.toString());
    const putBlob = async (bytes: Buffer): Promise<string> => {
      const dg = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
      const r = await fetch(`${base}/v2/idx/busybox/blobs/uploads/?digest=${dg}`, { method: 'POST', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
      assert.equal(r.status, 201, await r.text());
      return dg;
    };
    const putManifest = async (ref: string, m: unknown, type: string): Promise<string> => {
      const bytes = Buffer.from(JSON.stringify(m));
      const r = await fetch(`${base}/v2/idx/busybox/manifests/${ref}`, { method: 'PUT', body: bytes, headers: { 'content-type': type } });
      assert.equal(r.status, 201, await r.text());
      return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    };
    // An arm64 variant: busybox's layer plus one zstd-compressed layer of its own.
    const cfgRes = await fetch(`${base}/v2/idx/busybox/blobs/${amdManifest.config.digest}`);
    const cfg = JSON.parse(Buffer.from(await cfgRes.arrayBuffer()).toString());
    const pack = tar.pack();
    pack.entry({ name: 'hello-zstd', mode: 0o644, mtime: new Date(0) }, 'from a zstd layer\n');
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack as AsyncIterable<Buffer>) chunks.push(c);
    const layerTar = Buffer.concat(chunks);
    const zst = zstdCompressSync(layerTar);
    const layerDigest = await putBlob(zst);
    const armCfg = { ...cfg, architecture: 'arm64', variant: 'v8', rootfs: { type: 'layers', diff_ids: [...cfg.rootfs.diff_ids, `sha256:${createHash('sha256').update(layerTar).digest('hex')}`] } };
    const armCfgBytes = Buffer.from(JSON.stringify(armCfg));
    const armCfgDigest = await putBlob(armCfgBytes);
    const armDigest = await putManifest('arm64', {
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: armCfgDigest, size: armCfgBytes.length },
      layers: [{ ...amdManifest.layers[0], mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }, { mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', digest: layerDigest, size: zst.length }],
    }, 'application/vnd.oci.image.manifest.v1+json');
    const indexDigest = await putManifest('multi', {
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: armDigest, size: 0, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        { mediaType: amdManifest.mediaType, digest: `sha256:${createHash('sha256').update(amdBytes).digest('hex')}`, size: amdBytes.length, platform: { os: 'linux', architecture: 'amd64' } },
      ],
    }, 'application/vnd.oci.image.index.v1+json');

    const pull = lines(await ok(d.docker(['pull', `${host}/idx/busybox:multi`])));
    assert.ok(pull.includes(`Digest: ${indexDigest}`), pull.join('\n'));
    const [img] = JSON.parse(await ok(d.docker(['image', 'inspect', `${host}/idx/busybox:multi`])));
    assert.equal(img.Id, amdManifest.config.digest);
    assert.equal(img.Architecture, 'amd64');
    assert.ok(img.RepoDigests.includes(`${host}/idx/busybox@${indexDigest}`), img.RepoDigests);

    const arm = lines(await ok(d.docker(['pull', '--platform', 'linux/arm64', `${host}/idx/busybox:multi`])));
    assert.ok(arm.some((l) => l.endsWith('Pull complete')), arm.join('\n'));
    const [armImg] = JSON.parse(await ok(d.docker(['image', 'inspect', `${host}/idx/busybox:multi`])));
    assert.equal(armImg.Id, armCfgDigest);
    assert.equal(armImg.Architecture, 'arm64');
    // The zstd layer was unpacked like any other (busybox is static x86-64, so it still runs here).
    assert.equal(await ok(d.docker(['run', '--rm', `${host}/idx/busybox:multi`, 'cat', '/hello-zstd'])), 'from a zstd layer\n');
    const none = await d.docker(['pull', '--platform', 'linux/s390x', `${host}/idx/busybox:multi`]);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /no matching manifest for linux\/s390x in the manifest list entries/);
  });

  it('on a terminal the CLI draws progress bars for pull and push; concurrent pulls of one image both finish', async () => {
    const ref = `${cncf.host}/tty/big:1`;
    await ok(d.docker(['tag', 'big:1', ref]));
    await ok(d.docker(['push', ref]));
    await ok(d.docker(['rmi', '-f', (await ok(d.docker(['image', 'inspect', '-f', '{{.Id}}', ref]))).trim()]));
    // script(1) gives the CLI a pty, as a user at a terminal has.
    const onTty = (cmd: string): Promise<string> => ok(runCmd('script', ['-qec', `stty cols 160 rows 40; ${cmd}`, '/dev/null'], { env: d.env, timeoutMs: 60_000 }));
    const pulled = await onTty(`docker pull ${ref}`);
    assert.match(pulled, /Downloading\s+\[=*>\s*\]\s+[\d.]+[kM]?B\/[\d.]+[kM]?B/);
    assert.match(pulled, /Pull complete/);
    assert.match(pulled, new RegExp(`Status: Downloaded newer image for ${ref.replace(/[.]/g, '\\.')}`));
    const target = `127.0.0.1:${berthReg.port}/tty/big:1`;
    await ok(d.docker(['tag', ref, target]));
    const pushed = await onTty(`docker push ${target}`);
    assert.match(pushed, /Pushing\s+\[=*>\s*\]\s+[\d.]+[kM]?B\/[\d.]+[kM]?B/);
    assert.match(pushed, /1: digest: sha256:[0-9a-f]{64} size: \d+/);

    await ok(d.docker(['rmi', '-f', (await ok(d.docker(['image', 'inspect', '-f', '{{.Id}}', ref]))).trim()]));
    const [a, b] = await Promise.all([d.docker(['pull', ref], { timeoutMs: 60_000 }), d.docker(['pull', ref], { timeoutMs: 60_000 })]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    // The layer came down once: one of the two found it already there.
    assert.ok(`${a.stdout}${b.stdout}`.includes('Already exists'), `${a.stdout}\n${b.stdout}`);
    await ok(d.docker(['tag', ref, 'big:1'])); // the tests after this one build on big:1
  });

  async function assertNothingPartial(ref: string): Promise<void> {
    const images = await ok(d.docker(['images', '--format', '{{.Repository}}:{{.Tag}}']));
    assert.ok(!images.includes(ref), images);
    assert.deepEqual(await readdir(join(d.dataRoot, 'image', 'tmp')), []);
  }

  it('faults: the registry dies mid-pull, a blob does not match its digest, a manifest names a missing blob', async () => {
    const ref = `${cncf.host}/f/big:1`;
    await ok(d.docker(['tag', 'big:1', ref]));
    await ok(d.docker(['push', ref]));
    // Every tag of it goes, so its noise layer is gone from disk and must come down again.
    await ok(d.docker(['rmi', '-f', (await ok(d.docker(['image', 'inspect', '-f', '{{.Id}}', ref]))).trim()]));
    const proxy = new FaultProxy(cncf.host);
    proxies.push(proxy);
    await proxy.listen();
    const via = `${proxy.host}/f/big:1`;

    proxy.mode = 'die-mid-blob';
    const died = await d.docker(['pull', via], { timeoutMs: 60_000 });
    assert.notEqual(died.code, 0);
    assert.match(died.stderr, /connection refused|connection reset|socket|terminated|closed/i);
    await assertNothingPartial(via);
    proxy.mode = 'pass';
    await proxy.listen(proxy.port);
    const resumed = lines(await ok(d.docker(['pull', via], { timeoutMs: 60_000 })));
    assert.ok(resumed.includes(`Status: Downloaded newer image for ${via}`), resumed.join('\n'));
    await ok(d.docker(['rmi', via]));

    proxy.mode = 'corrupt-blobs';
    const corrupt = await d.docker(['pull', via], { timeoutMs: 60_000 });
    assert.notEqual(corrupt.code, 0);
    assert.match(corrupt.stderr, /verification failed/);
    await assertNothingPartial(via);

    proxy.mode = 'missing-blobs';
    const missing = await d.docker(['pull', via], { timeoutMs: 60_000 });
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /blob sha256:[0-9a-f]{64} not found: blob unknown/);
    await assertNothingPartial(via);
    await proxy.die();
  });

  it('pulls Docker Hub names through a registry mirror', async () => {
    await ok(d.docker(['tag', 'busybox', `${cncf.host}/library/busybox:mirrored`]));
    await ok(d.docker(['push', `${cncf.host}/library/busybox:mirrored`]));
    const m = new TestDaemon({ args: ['--registry-mirror', `http://${cncf.host}`, '--insecure-registry', '10.9.0.0/16', '--insecure-registry', 'reg.example:5000'] });
    try {
      await m.start();
      const info = await ok(m.docker(['info']));
      assert.match(info, new RegExp(`Registry Mirrors:\\s+http://${cncf.host}/`));
      assert.match(info, /Insecure Registries:[\s\S]*reg\.example:5000[\s\S]*10\.9\.0\.0\/16/);
      const out = lines(await ok(m.docker(['pull', 'busybox:mirrored'])));
      assert.ok(out.includes('Status: Downloaded newer image for busybox:mirrored'), out.join('\n'));
      assert.equal((await ok(m.docker(['run', '--rm', 'busybox:mirrored', 'echo', 'm']))).trim(), 'm');
    } finally {
      await m.cleanup();
    }
  });

  it('bad requests: unknown repository is a 404; a malformed name is a 400', async () => {
    const r = await d.api('POST', `/images/create?fromImage=${encodeURIComponent(`${cncf.host}/nosuch`)}&tag=1`);
    assert.equal(r.status, 404);
    assert.match(r.json().message, /manifest for .*nosuch:1 not found/);
    const bad = await d.api('POST', '/images/create?fromImage=bad%20name&tag=1');
    assert.equal(bad.status, 400);
    const push = await d.api('POST', `/images/${cncf.host}/never/pushed/push?tag=1`, undefined, { 'X-Registry-Auth': 'e30=' });
    assert.equal(push.status, 404);
    assert.match(push.json().message, /An image does not exist locally with the tag/);
  });
});
