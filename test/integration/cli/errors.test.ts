// Bad input gets a clear 4xx and leaves nothing behind: malformed bodies, wrong types, unknown
// objects, conflicts, hostile or broken archives, and versions outside the supported range.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { TestDaemon, makeBusybox, runBuffer, repo, DOCKER, runCmd, until } from '../../helpers/daemon.ts';

function tarOf(entries: { name: string; type?: 'file' | 'symlink' | 'directory'; linkname?: string; body?: string }[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) pack.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname }, e.body ?? '');
  pack.finalize();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    pack.on('data', (c: unknown) => chunks.push(c as Buffer));
    pack.on('end', () => resolve(Buffer.concat(chunks)));
    pack.on('error', reject);
  });
}

describe('bad input against berthd', () => {
  const d = new TestDaemon();
  let rootfsTar: Buffer;
  before(async () => {
    await d.start();
    await makeBusybox(d);
    rootfsTar = await runBuffer('bash', [join(repo, 'scripts/busybox-image.sh')]);
  });
  after(async () => { await d.cleanup(); });

  const imageStore = (): Record<string, string[]> => Object.fromEntries(
    ['layers', 'content/sha256', 'imagedb', 'tmp'].map((s) => [s, readdirSync(join(d.dataRoot, 'image', s)).sort()]));

  const expect4xx = (r: { status: number; json: () => any }, status: number, msg: RegExp): void => {
    assert.equal(r.status, status, `status ${r.status}`);
    assert.match(r.json().message, msg);
  };

  it('container create: malformed JSON, wrong types, unknown image, bad name, name in use', async () => {
    const before = readdirSync(join(d.dataRoot, 'containers'));
    expect4xx(await d.api('POST', '/containers/create', '{"Image":'), 400, /^unexpected EOF$/);
    expect4xx(await d.api('POST', '/containers/create', { Image: 'busybox', Cmd: 5 }), 400, /Cmd/);
    expect4xx(await d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { AutoRemove: 'yes' } }), 400, /HostConfig\.AutoRemove/);
    expect4xx(await d.api('POST', '/containers/create', { Image: 'nosuch' }), 404, /^No such image: nosuch:latest$/);
    expect4xx(await d.api('POST', '/containers/create?name=-x', { Image: 'busybox' }), 400, /Invalid container name \(-x\)/);
    expect4xx(await d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { RestartPolicy: { Name: 'sometimes' } } }), 400, /invalid restart policy/);
    assert.deepEqual(readdirSync(join(d.dataRoot, 'containers')), before, 'failed creates leave no dirs');
    const ok = await d.api('POST', '/containers/create?name=dup', { Image: 'busybox', Cmd: ['sleep', '60'], Bogus: 1 });
    assert.equal(ok.status, 201, 'unknown fields are ignored');
    const id = ok.json().Id as string;
    expect4xx(await d.api('POST', '/containers/create?name=dup', { Image: 'busybox' }), 409,
      new RegExp(`^Conflict\\. The container name "/dup" is already in use by container "${id}"\\. You have to remove \\(or rename\\) that container to be able to reuse that name\\.$`));
    assert.equal((await d.api('POST', `/containers/${id}/start`)).status, 204);
    assert.equal((await d.api('POST', `/containers/${id}/start`)).status, 304);
    expect4xx(await d.api('DELETE', `/containers/${id}`), 409, /You cannot remove a running container [0-9a-f]{64}\. Stop the container before attempting removal or force remove/);
    assert.equal((await d.docker(['inspect', '-f', '{{.State.Running}}', 'dup'])).stdout, 'true\n');
    expect4xx(await d.api('POST', `/containers/${id}/kill?signal=NOPE`), 400, /Invalid signal: NOPE/);
    expect4xx(await d.api('POST', `/containers/${id}/wait?condition=bogus`), 400, /invalid condition/);
    expect4xx(await d.api('POST', '/containers/nosuch/start'), 404, /^No such container: nosuch$/);
    expect4xx(await d.api('GET', '/containers/json?filters={bad'), 400, /^invalid character 'b' looking for beginning of object key string$/);
    expect4xx(await d.api('GET', '/containers/json?filters={"colour":["red"]}'), 400, /invalid filter 'colour'/);
    assert.equal((await d.api('DELETE', `/containers/${id}?force=1`)).status, 204);
    expect4xx(await d.api('POST', `/containers/${id}/kill`), 404, /No such container/);
    // rm replies once the container is forgotten; its directory goes in the background, shortly.
    await until(async () => readdirSync(join(d.dataRoot, 'containers')).length === before.length, 10_000, 'the removed container\'s dir gone');
    assert.deepEqual(readdirSync(join(d.dataRoot, 'containers')), before);
  });

  it('import: random bytes, a truncated tar, corrupt gzip and hostile paths are refused and store nothing', async () => {
    const before = imageStore();
    const images = (await d.docker(['images', '-q'])).stdout;
    const gz = gzipSync(rootfsTar);
    const bad: [string, Buffer][] = [
      ['random bytes', randomBytes(5000)],
      ['truncated tar', rootfsTar.subarray(0, Math.floor(rootfsTar.length * 0.6))],
      ['corrupt gzip', Buffer.concat([gz.subarray(0, 2000), randomBytes(2000)])],
      ['empty body', Buffer.alloc(0)],
      ['.. escape', await tarOf([{ name: 'ok' }, { name: '../../escape-berth', body: 'x' }])],
      ['symlink escape', await tarOf([{ name: 'evil', type: 'symlink', linkname: '/etc' }, { name: 'evil/passwd-berth-owned', body: 'x' }])],
    ];
    for (const [what, body] of bad) {
      const r = await d.api('POST', '/images/create?fromSrc=-&repo=bad&tag=1', body, { 'Content-Type': 'application/x-tar' });
      assert.ok(r.status >= 400 && r.status < 500, `${what}: status ${r.status} ${r.body}`);
      assert.ok(r.json().message.length > 0, what);
    }
    assert.deepEqual(imageStore(), before, 'nothing stored');
    assert.equal((await d.docker(['images', '-q'])).stdout, images);
    assert.ok(!existsSync('/etc/passwd-berth-owned'));
    assert.ok(!existsSync(join(d.dataRoot, '..', 'escape-berth')) && !existsSync('/escape-berth'));
  });

  it('load: truncated, random and tampered archives are refused and store nothing', async () => {
    const saved = (await runCmd('bash', ['-c', `${DOCKER} save busybox | base64 -w0`], { env: d.env })).stdout;
    const archive = Buffer.from(saved, 'base64');
    // Tamper: flip bytes inside the layer blob, keep the tar structure intact.
    const entries: { name: string; body: Buffer }[] = [];
    const ex = tar.extract();
    const done = new Promise<void>((resolve, reject) => {
      ex.on('entry', (h, stream, next) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: unknown) => chunks.push(c as Buffer));
        stream.on('end', () => { if (h.type === 'file') entries.push({ name: h.name, body: Buffer.concat(chunks) }); next(); });
      });
      ex.on('finish', resolve);
      ex.on('error', reject);
    });
    ex.end(archive);
    await done;
    const layer = entries.reduce((a, b) => (b.body.length > a.body.length ? b : a));
    layer.body = Buffer.from(layer.body);
    layer.body[layer.body.length - 2000] ^= 0xff;
    const pack = tar.pack();
    for (const e of entries) pack.entry({ name: e.name }, e.body);
    pack.finalize();
    const tamperedBuf = await new Promise<Buffer>((resolve) => {
      const c: Buffer[] = [];
      pack.on('data', (x: unknown) => c.push(x as Buffer));
      pack.on('end', () => resolve(Buffer.concat(c)));
    });
    await d.docker(['rmi', 'busybox']);
    const before = imageStore();
    for (const [what, body] of [['truncated', archive.subarray(0, Math.floor(archive.length * 0.7))], ['random', randomBytes(4096)], ['tampered layer', tamperedBuf]] as const) {
      // dockerd 20.10 answers 200 and an errorDetail line ("Error processing tar file(exit status 1): unexpected EOF")
      const r = await d.api('POST', '/images/load', body, { 'Content-Type': 'application/x-tar' });
      assert.equal(r.status, 200, `${what}: ${r.status} ${r.body}`);
      assert.match(r.body.toString(), /^\{"errorDetail":\{"message":".+"\},"error":".+"\}\r\n$/, what);
    }
    assert.deepEqual(imageStore(), before);
    assert.equal((await d.docker(['images', '-q'])).stdout, '');
    const good = await d.api('POST', '/images/load', archive, { 'Content-Type': 'application/x-tar' });
    assert.equal(good.status, 200);
    assert.match(good.body.toString(), /Loaded image: busybox:latest/);
  });

  it('API versions outside 1.12–1.47 get Docker\'s 400 messages (plain text before 1.24); unknown routes a JSON 404', async () => {
    expect4xx(await d.api('GET', '/v1.99/version'), 400, /^client version 1\.99 is too new\. Maximum supported API version is 1\.47$/);
    const old = await d.api('GET', '/v1.11/version');
    assert.equal(old.status, 400);
    assert.equal(old.body.toString(), 'client version 1.11 is too old. Minimum supported API version is 1.12, please upgrade your client to a newer version\n');
    assert.equal((await d.api('GET', '/v1.12/version')).status, 200);
    assert.equal((await d.api('GET', '/v1.24/version')).status, 200);
    assert.equal((await d.api('GET', '/v1.41/containers/json')).status, 200);
    expect4xx(await d.api('GET', '/v1.47/nothing/here'), 404, /page not found/);
    const ping = await d.api('HEAD', '/_ping');
    assert.equal(ping.status, 200);
    assert.equal(ping.headers['api-version'], '1.47');
    assert.equal(ping.headers['ostype'], 'linux');
    const v = await d.api('GET', '/v1.41/version');
    assert.equal(v.headers['api-version'], '1.47');
  });
});
