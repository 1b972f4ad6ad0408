// berth registry against the distribution spec (fetch on 127.0.0.1), against skopeo (the
// containers/image client), and the CNCF registry helper. Every test starts its own server under
// a temp root and removes both in t.after, even when it fails.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import bcrypt from 'bcryptjs';
import tar from 'tar-stream';
import { Agent, fetch as undiciFetch } from 'undici';
import { collectGarbage, startRegistry, type RegistryOptions } from '../../../src/registry/index.ts';
import { MediaType } from '../../../src/types/oci-distribution.ts';
import { freePort, haveCncfRegistry, startCncfRegistry } from '../../helpers/cncf-registry.ts';

const run = promisify(execFile);
const SKOPEO = '/usr/bin/skopeo';
const haveSkopeo = existsSync(SKOPEO);
const sha = (b: Uint8Array | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function tmp(t: TestContext, prefix = 'berth-registry-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function serve(t: TestContext, opts: Partial<RegistryOptions> = {}): Promise<{ url: string; port: number; root: string }> {
  const root = opts.root ?? join(await tmp(t), 'root');
  const srv = await startRegistry({ ...opts, root, port: 0 });
  t.after(() => srv.close());
  return { url: srv.url, port: srv.port, root };
}

async function errorCode(res: Response): Promise<string> {
  const body = (await res.json()) as { errors: { code: string; message: string }[] };
  assert.ok(Array.isArray(body.errors) && typeof body.errors[0]!.message === 'string', 'spec error shape');
  return body.errors[0]!.code;
}

/** Monolithic upload (POST ?digest= with the body). */
async function pushBlob(url: string, name: string, data: Uint8Array | string, headers: Record<string, string> = {}): Promise<string> {
  const digest = sha(data);
  const res = await fetch(`${url}/v2/${name}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: data, headers: { 'Content-Type': 'application/octet-stream', ...headers } });
  assert.equal(res.status, 201, await res.text());
  return digest;
}

async function putManifest(url: string, name: string, ref: string, body: string, type: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/v2/${name}/manifests/${ref}`, { method: 'PUT', body, headers: { 'Content-Type': type, ...headers } });
}

/** A config and one layer in `name`, and an image manifest of the given type over them (not pushed). */
async function imageParts(url: string, name: string, type: string, seed = 'x'): Promise<{ manifest: string; blobs: string[] }> {
  const layer = gzipSync(Buffer.from(`layer ${seed}`));
  const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(`layer ${seed}`)] } });
  const layerDigest = await pushBlob(url, name, layer);
  const configDigest = await pushBlob(url, name, config);
  const docker = type === MediaType.dockerManifest;
  const manifest = JSON.stringify({
    schemaVersion: 2, mediaType: type,
    config: { mediaType: docker ? MediaType.dockerConfig : MediaType.ociConfig, digest: configDigest, size: Buffer.byteLength(config) },
    layers: [{ mediaType: docker ? MediaType.dockerLayerGzip : MediaType.ociLayerGzip, digest: layerDigest, size: layer.length }],
  }, null, 3);
  return { manifest, blobs: [configDigest, layerDigest] };
}

test('GET /v2/ answers {} with the API version header; errors have the spec shape and status', async (t) => {
  const { url } = await serve(t);
  let res = await fetch(`${url}/v2/`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
  assert.deepEqual(await res.json(), {});
  res = await fetch(`${url}/v2/a/blobs/${sha('nothing')}`);
  assert.equal(res.status, 404);
  assert.equal(await errorCode(res), 'BLOB_UNKNOWN');
  res = await fetch(`${url}/v2/Upper/tags/list`);
  assert.equal(res.status, 400);
  assert.equal(await errorCode(res), 'NAME_INVALID');
  res = await fetch(`${url}/v2/a/blobs/sha256:abc`);
  assert.equal(res.status, 400);
  assert.equal(await errorCode(res), 'DIGEST_INVALID');
  res = await fetch(`${url}/v2/a/blobs/uploads/`, { method: 'GET' });
  assert.equal(res.status, 405);
  assert.equal(await errorCode(res), 'UNSUPPORTED');
  res = await fetch(`${url}/v2/a/manifests/latest`);
  assert.equal(res.status, 404);
  assert.equal(await errorCode(res), 'MANIFEST_UNKNOWN');
  res = await fetch(`${url}/v2/a/tags/list`);
  assert.equal(res.status, 404);
  assert.equal(await errorCode(res), 'NAME_UNKNOWN');
});

test('chunked upload (PATCH with and without Content-Range, out-of-order 416, status, PUT with final body) and Range GET, in a/b/c', async (t) => {
  const { url } = await serve(t);
  const name = 'a/b/c';
  const data = randomBytes(300_000);
  const digest = sha(data);
  let res = await fetch(`${url}/v2/${name}/blobs/uploads/`, { method: 'POST' });
  assert.equal(res.status, 202);
  const location = res.headers.get('location')!;
  const uuid = res.headers.get('docker-upload-uuid')!;
  assert.ok(location.startsWith(`/v2/${name}/blobs/uploads/`) && location.endsWith(uuid), location);
  assert.equal(res.headers.get('range'), '0-0');
  const at = new URL(location, url).toString();

  res = await fetch(at, { method: 'PATCH', body: data.subarray(0, 100_000), headers: { 'Content-Type': 'application/octet-stream' } });
  assert.equal(res.status, 202);
  assert.equal(res.headers.get('range'), '0-99999');
  res = await fetch(at, { method: 'PATCH', body: data.subarray(100_000, 200_000), headers: { 'Content-Range': '100000-199999', 'Content-Type': 'application/octet-stream' } });
  assert.equal(res.status, 202);
  assert.equal(res.headers.get('range'), '0-199999');
  res = await fetch(at, { method: 'PATCH', body: data.subarray(250_000), headers: { 'Content-Range': '250000-299999', 'Content-Type': 'application/octet-stream' } });
  assert.equal(res.status, 416, 'out-of-order chunk');
  assert.equal(res.headers.get('range'), '0-199999');
  res = await fetch(at);
  assert.equal(res.status, 204);
  assert.equal(res.headers.get('range'), '0-199999');
  assert.equal(res.headers.get('docker-upload-uuid'), uuid);

  res = await fetch(`${at}?digest=${digest}`, { method: 'PUT', body: data.subarray(200_000), headers: { 'Content-Type': 'application/octet-stream' } });
  assert.equal(res.status, 201, await res.clone().text());
  assert.equal(res.headers.get('location'), `/v2/${name}/blobs/${digest}`);
  assert.equal(res.headers.get('docker-content-digest'), digest);

  res = await fetch(`${url}/v2/${name}/blobs/${digest}`, { method: 'HEAD' });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-length'), String(data.length));
  assert.equal(res.headers.get('docker-content-digest'), digest);
  assert.equal(res.headers.get('content-type'), 'application/octet-stream');
  res = await fetch(`${url}/v2/${name}/blobs/${digest}`);
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(data));
  res = await fetch(`${url}/v2/${name}/blobs/${digest}`, { headers: { Range: 'bytes=1000-1999' } });
  assert.equal(res.status, 206);
  assert.equal(res.headers.get('content-range'), `bytes 1000-1999/${data.length}`);
  assert.equal(res.headers.get('content-length'), '1000');
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(data.subarray(1000, 2000)));
  res = await fetch(`${url}/v2/${name}/blobs/${digest}`, { headers: { Range: 'bytes=-10' } });
  assert.equal(res.status, 206);
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(data.subarray(data.length - 10)));
  res = await fetch(`${url}/v2/${name}/blobs/${digest}`, { headers: { Range: `bytes=${data.length}-` } });
  assert.equal(res.status, 416);
  await res.arrayBuffer();
  // The session is gone once committed.
  res = await fetch(at);
  assert.equal(res.status, 404);
  assert.equal(await errorCode(res), 'BLOB_UPLOAD_UNKNOWN');
});

test('a digest mismatch is refused with DIGEST_INVALID and nothing is stored; DELETE cancels an upload', async (t) => {
  const { url, root } = await serve(t);
  const data = Buffer.from('some bytes');
  let res = await fetch(`${url}/v2/r/blobs/uploads/?digest=${sha('other bytes')}`, { method: 'POST', body: data });
  assert.equal(res.status, 400);
  assert.equal(await errorCode(res), 'DIGEST_INVALID');
  res = await fetch(`${url}/v2/r/blobs/uploads/`, { method: 'POST' });
  const at = new URL(res.headers.get('location')!, url).toString();
  res = await fetch(`${at}?digest=${sha('other bytes')}`, { method: 'PUT', body: data });
  assert.equal(res.status, 400);
  assert.equal(await errorCode(res), 'DIGEST_INVALID');
  for (const d of [sha(data), sha('other bytes')]) {
    res = await fetch(`${url}/v2/r/blobs/${d}`, { method: 'HEAD' });
    assert.equal(res.status, 404);
  }
  assert.deepEqual(await readdir(join(root, 'blobs', 'sha256')), []);
  assert.deepEqual(await readdir(join(root, 'uploads')), []);

  res = await fetch(`${url}/v2/r/blobs/uploads/`, { method: 'POST' });
  const cancel = new URL(res.headers.get('location')!, url).toString();
  res = await fetch(cancel, { method: 'DELETE' });
  assert.equal(res.status, 204);
  res = await fetch(cancel);
  assert.equal(res.status, 404);
  assert.equal(await errorCode(res), 'BLOB_UPLOAD_UNKNOWN');
  assert.deepEqual(await readdir(join(root, 'uploads')), []);
});

test('cross-repository mount: 201 when the source has the blob, else a new upload (202); blob DELETE unlinks', async (t) => {
  const { url } = await serve(t);
  const digest = await pushBlob(url, 'src/one', 'shared layer');
  let res = await fetch(`${url}/v2/dst/two/blobs/uploads/?mount=${digest}&from=src/one`, { method: 'POST' });
  assert.equal(res.status, 201);
  assert.equal(res.headers.get('location'), `/v2/dst/two/blobs/${digest}`);
  assert.equal(res.headers.get('docker-content-digest'), digest);
  res = await fetch(`${url}/v2/dst/two/blobs/${digest}`);
  assert.equal(await res.text(), 'shared layer');
  res = await fetch(`${url}/v2/dst/three/blobs/uploads/?mount=${digest}&from=elsewhere`, { method: 'POST' });
  assert.equal(res.status, 202);
  assert.ok(res.headers.get('location'));
  res = await fetch(`${url}/v2/dst/two/blobs/${digest}`, { method: 'DELETE' });
  assert.equal(res.status, 202);
  res = await fetch(`${url}/v2/dst/two/blobs/${digest}`, { method: 'HEAD' });
  assert.equal(res.status, 404);
  res = await fetch(`${url}/v2/src/one/blobs/${digest}`, { method: 'HEAD' });
  assert.equal(res.status, 200, 'other repositories keep their link');
});

test('manifests of all four media types are stored and served byte-exact; missing blobs and children are refused', async (t) => {
  const { url } = await serve(t);
  const name = 'lib/img';
  const oci = await imageParts(url, name, MediaType.ociManifest, 'oci');
  const docker = await imageParts(url, name, MediaType.dockerManifest, 'docker');
  let res = await putManifest(url, name, 'oci', oci.manifest, MediaType.ociManifest);
  assert.equal(res.status, 201, await res.clone().text());
  assert.equal(res.headers.get('docker-content-digest'), sha(oci.manifest));
  assert.equal(res.headers.get('location'), `/v2/${name}/manifests/${sha(oci.manifest)}`);
  // By digest: must match the body.
  res = await putManifest(url, name, sha(docker.manifest), docker.manifest, MediaType.dockerManifest);
  assert.equal(res.status, 201);
  res = await putManifest(url, name, sha('something else'), docker.manifest, MediaType.dockerManifest);
  assert.equal(res.status, 400);
  assert.equal(await errorCode(res), 'DIGEST_INVALID');
  res = await putManifest(url, name, 'docker', docker.manifest, MediaType.dockerManifest);
  assert.equal(res.status, 201);

  const children = [
    { mediaType: MediaType.ociManifest, digest: sha(oci.manifest), size: Buffer.byteLength(oci.manifest), platform: { architecture: 'amd64', os: 'linux' } },
    { mediaType: MediaType.dockerManifest, digest: sha(docker.manifest), size: Buffer.byteLength(docker.manifest), platform: { architecture: 'arm64', os: 'linux' } },
  ];
  const index = JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: children });
  const list = JSON.stringify({ schemaVersion: 2, mediaType: MediaType.dockerManifestList, manifests: children });
  res = await putManifest(url, name, 'index', index, MediaType.ociIndex);
  assert.equal(res.status, 201, await res.clone().text());
  res = await putManifest(url, name, 'list', list, MediaType.dockerManifestList);
  assert.equal(res.status, 201);

  for (const [tag, body, type] of [['oci', oci.manifest, MediaType.ociManifest], ['docker', docker.manifest, MediaType.dockerManifest],
    ['index', index, MediaType.ociIndex], ['list', list, MediaType.dockerManifestList]] as const) {
    for (const ref of [tag, sha(body)]) {
      res = await fetch(`${url}/v2/${name}/manifests/${ref}`, { headers: { Accept: type } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), type);
      assert.equal(res.headers.get('docker-content-digest'), sha(body));
      assert.equal(await res.text(), body, `${ref} byte-exact`);
    }
    res = await fetch(`${url}/v2/${name}/manifests/${tag}`, { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), String(Buffer.byteLength(body)));
    assert.equal(res.headers.get('docker-content-digest'), sha(body));
  }

  // A manifest whose layer was never pushed to this repository, and an index whose child is unknown.
  const other = await imageParts(url, 'other', MediaType.ociManifest, 'elsewhere');
  res = await putManifest(url, name, 'broken', other.manifest, MediaType.ociManifest);
  assert.equal(res.status, 400);
  assert.equal(await errorCode(res), 'MANIFEST_BLOB_UNKNOWN');
  res = await putManifest(url, name, 'broken-index', JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex,
    manifests: [{ mediaType: MediaType.ociManifest, digest: sha(other.manifest), size: 10 }] }), MediaType.ociIndex);
  assert.equal(res.status, 400);
  assert.equal(await errorCode(res), 'MANIFEST_BLOB_UNKNOWN');
  res = await putManifest(url, name, 'bad', '{not json', MediaType.ociManifest);
  assert.equal(res.status, 400);
  assert.equal(await errorCode(res), 'MANIFEST_INVALID');
  res = await putManifest(url, name, 'mismatch', oci.manifest, MediaType.dockerManifest);
  assert.equal(res.status, 400);
  assert.equal(await errorCode(res), 'MANIFEST_INVALID');

  // Referrers: an artifact whose subject is the OCI image.
  const empty = await pushBlob(url, name, '{}');
  const artifact = JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, artifactType: 'application/vnd.example.sbom',
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: empty, size: 2 }, layers: [],
    subject: { mediaType: MediaType.ociManifest, digest: sha(oci.manifest), size: Buffer.byteLength(oci.manifest) } });
  res = await putManifest(url, name, sha(artifact), artifact, MediaType.ociManifest);
  assert.equal(res.status, 201);
  assert.equal(res.headers.get('oci-subject'), sha(oci.manifest));
  res = await fetch(`${url}/v2/${name}/referrers/${sha(oci.manifest)}`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), MediaType.ociIndex);
  const referrers = (await res.json()) as { manifests: { digest: string; artifactType: string }[] };
  assert.deepEqual(referrers.manifests.map((m) => [m.digest, m.artifactType]), [[sha(artifact), 'application/vnd.example.sbom']]);
  res = await fetch(`${url}/v2/${name}/referrers/${sha(oci.manifest)}?artifactType=other`);
  assert.equal(res.headers.get('oci-filters-applied'), 'artifactType');
  assert.deepEqual(((await res.json()) as { manifests: unknown[] }).manifests, []);

  // DELETE by digest removes the revision and the tags on it.
  res = await fetch(`${url}/v2/${name}/manifests/${sha(list)}`, { method: 'DELETE' });
  assert.equal(res.status, 202);
  res = await fetch(`${url}/v2/${name}/manifests/list`);
  assert.equal(res.status, 404);
  assert.equal(await errorCode(res), 'MANIFEST_UNKNOWN');
  res = await fetch(`${url}/v2/${name}/manifests/${sha(list)}`, { method: 'HEAD' });
  assert.equal(res.status, 404);
});

test('tags/list and _catalog paginate with n and last and a Link header', async (t) => {
  const { url } = await serve(t);
  const { manifest } = await imageParts(url, 'p/q', MediaType.ociManifest);
  const tags = ['b', 'a', 'd', 'c', 'e'];
  for (const tag of tags) assert.equal((await putManifest(url, 'p/q', tag, manifest, MediaType.ociManifest)).status, 201);
  let res = await fetch(`${url}/v2/p/q/tags/list`);
  assert.deepEqual(await res.json(), { name: 'p/q', tags: ['a', 'b', 'c', 'd', 'e'] });
  res = await fetch(`${url}/v2/p/q/tags/list?n=2`);
  assert.deepEqual(((await res.json()) as { tags: string[] }).tags, ['a', 'b']);
  assert.equal(res.headers.get('link'), '</v2/p/q/tags/list?n=2&last=b>; rel="next"');
  res = await fetch(`${url}/v2/p/q/tags/list?n=2&last=b`);
  assert.deepEqual(((await res.json()) as { tags: string[] }).tags, ['c', 'd']);
  res = await fetch(`${url}/v2/p/q/tags/list?n=2&last=d`);
  assert.deepEqual(((await res.json()) as { tags: string[] }).tags, ['e']);
  assert.equal(res.headers.get('link'), null);

  for (const repo of ['z', 'm/n', 'a1']) await pushBlob(url, repo, 'x');
  res = await fetch(`${url}/v2/_catalog`);
  assert.deepEqual(await res.json(), { repositories: ['a1', 'm/n', 'p/q', 'z'] });
  res = await fetch(`${url}/v2/_catalog?n=3`);
  assert.deepEqual(((await res.json()) as { repositories: string[] }).repositories, ['a1', 'm/n', 'p/q']);
  assert.equal(res.headers.get('link'), '</v2/_catalog?n=3&last=p%2Fq>; rel="next"');
  res = await fetch(`${url}/v2/_catalog?n=3&last=p%2Fq`);
  assert.deepEqual(((await res.json()) as { repositories: string[] }).repositories, ['z']);
});

async function htpasswdFile(t: TestContext, user = 'alice', password = 's3cret pass'): Promise<{ path: string; user: string; password: string }> {
  const path = join(await tmp(t), 'htpasswd');
  await writeFile(path, `# users\n${user}:${bcrypt.hashSync(password, 5).replace(/^\$2b\$/, '$2y$')}\n`);
  return { path, user, password };
}

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

test('htpasswd: HTTP Basic 401 with the challenge without or with wrong credentials, 200 with them', async (t) => {
  const h = await htpasswdFile(t);
  const { url } = await serve(t, { htpasswd: h.path });
  let res = await fetch(`${url}/v2/`);
  assert.equal(res.status, 401);
  assert.equal(res.headers.get('www-authenticate'), 'Basic realm="berth-registry"');
  assert.equal(await errorCode(res), 'UNAUTHORIZED');
  res = await fetch(`${url}/v2/`, { headers: { Authorization: basic(h.user, 'wrong') } });
  assert.equal(res.status, 401);
  await res.arrayBuffer();
  res = await fetch(`${url}/v2/`, { headers: { Authorization: basic(h.user, h.password) } });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  await pushBlob(url, 'private', 'data', { Authorization: basic(h.user, h.password) });
  res = await fetch(`${url}/v2/private/blobs/${sha('data')}`);
  assert.equal(res.status, 401);
  await res.arrayBuffer();
});

test('bearer tokens: challenge with realm, service and scope; /token checks htpasswd; scopes are enforced', async (t) => {
  const h = await htpasswdFile(t);
  const { url } = await serve(t, { htpasswd: h.path, tokenAuth: true });
  let res = await fetch(`${url}/v2/team/app/tags/list`);
  assert.equal(res.status, 401);
  await res.arrayBuffer();
  const challenge = res.headers.get('www-authenticate')!;
  assert.equal(challenge, `Bearer realm="${url}/token",service="berth-registry",scope="repository:team/app:pull,push"`);
  const realm = /realm="([^"]+)"/.exec(challenge)![1]!;
  const tokenUrl = `${realm}?service=berth-registry&scope=${encodeURIComponent('repository:team/app:pull,push')}`;
  res = await fetch(tokenUrl);
  assert.equal(res.status, 401, 'no credentials');
  await res.arrayBuffer();
  res = await fetch(tokenUrl, { headers: { Authorization: basic(h.user, 'nope') } });
  assert.equal(res.status, 401);
  await res.arrayBuffer();
  res = await fetch(tokenUrl, { headers: { Authorization: basic(h.user, h.password) } });
  assert.equal(res.status, 200);
  const tok = (await res.json()) as { token: string; access_token: string; expires_in: number; issued_at: string };
  assert.equal(tok.token, tok.access_token);
  assert.ok(tok.expires_in > 0 && !Number.isNaN(Date.parse(tok.issued_at)));
  const auth = { Authorization: `Bearer ${tok.token}` };
  await pushBlob(url, 'team/app', 'layer', auth);
  res = await fetch(`${url}/v2/team/app/blobs/${sha('layer')}`, { headers: auth });
  assert.equal(await res.text(), 'layer');
  res = await fetch(`${url}/v2/`, { headers: auth });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  // The token is for team/app only.
  res = await fetch(`${url}/v2/team/other/blobs/${sha('layer')}`, { headers: auth });
  assert.equal(res.status, 401);
  assert.match(res.headers.get('www-authenticate')!, /error="insufficient_scope"/);
  await res.arrayBuffer();
  // A forged token is refused.
  const [body, sig] = tok.token.split('.');
  const forged = `${Buffer.from(Buffer.from(body!, 'base64url').toString().replace('team/app', 'team/other')).toString('base64url')}.${sig}`;
  res = await fetch(`${url}/v2/team/other/tags/list`, { headers: { Authorization: `Bearer ${forged}` } });
  assert.equal(res.status, 401);
  await res.arrayBuffer();
});

async function selfSignedCert(t: TestContext): Promise<{ dir: string; cert: string; key: string }> {
  const dir = await tmp(t, 'berth-registry-tls-');
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { timeout: 30_000 });
  return { dir, cert, key };
}

test('TLS with --tls-cert/--tls-key: the API over https with a self-signed certificate', async (t) => {
  const tls = await selfSignedCert(t);
  const { url } = await serve(t, { tls: { cert: tls.cert, key: tls.key } });
  assert.ok(url.startsWith('https://127.0.0.1:'));
  const dispatcher = new Agent({ connect: { ca: await readFile(tls.cert) } });
  t.after(() => dispatcher.close());
  let res = await undiciFetch(`${url}/v2/`, { dispatcher });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {});
  res = await undiciFetch(`${url}/v2/s/blobs/uploads/?digest=${sha('secure')}`, { method: 'POST', body: 'secure', dispatcher });
  assert.equal(res.status, 201);
  res = await undiciFetch(`${url}/v2/s/blobs/${sha('secure')}`, { dispatcher });
  assert.equal(await res.text(), 'secure');
  await assert.rejects(fetch(`${url}/v2/`), 'an untrusted certificate is refused by default');
});

test('gc removes unreferenced blobs and stale uploads, keeps blobs of tagged and untagged manifests; --dry-run only lists', async (t) => {
  const { url, root } = await serve(t);
  const tagged = await imageParts(url, 'g/one', MediaType.ociManifest, 'tagged');
  assert.equal((await putManifest(url, 'g/one', 'v1', tagged.manifest, MediaType.ociManifest)).status, 201);
  const untagged = await imageParts(url, 'g/two', MediaType.dockerManifest, 'untagged');
  assert.equal((await putManifest(url, 'g/two', sha(untagged.manifest), untagged.manifest, MediaType.dockerManifest)).status, 201);
  const child = await imageParts(url, 'g/three', MediaType.ociManifest, 'child');
  assert.equal((await putManifest(url, 'g/three', sha(child.manifest), child.manifest, MediaType.ociManifest)).status, 201);
  const index = JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex,
    manifests: [{ mediaType: MediaType.ociManifest, digest: sha(child.manifest), size: Buffer.byteLength(child.manifest) }] });
  assert.equal((await putManifest(url, 'g/three', 'multi', index, MediaType.ociIndex)).status, 201);
  const orphan = await pushBlob(url, 'g/one', 'nobody references me');
  let res = await fetch(`${url}/v2/g/one/blobs/uploads/`, { method: 'POST' });
  const stale = res.headers.get('docker-upload-uuid')!;
  const old = new Date(Date.now() - 2 * 3600_000);
  await utimes(join(root, 'uploads', stale, 'data'), old, old);

  const dry = await collectGarbage(root, { dryRun: true });
  assert.deepEqual(dry.removed, [orphan, `upload:${stale}`]);
  assert.equal(dry.bytes, Buffer.byteLength('nobody references me'));
  res = await fetch(`${url}/v2/g/one/blobs/${orphan}`, { method: 'HEAD' });
  assert.equal(res.status, 200, 'dry run removes nothing');

  const done = await collectGarbage(root, { dryRun: false });
  assert.deepEqual(done.removed, dry.removed);
  res = await fetch(`${url}/v2/g/one/blobs/${orphan}`, { method: 'HEAD' });
  assert.equal(res.status, 404);
  assert.ok(!existsSync(join(root, 'uploads', stale)));
  for (const [repo, blobs] of [['g/one', tagged.blobs], ['g/two', untagged.blobs], ['g/three', child.blobs]] as const) {
    for (const d of blobs) {
      res = await fetch(`${url}/v2/${repo}/blobs/${d}`, { method: 'HEAD' });
      assert.equal(res.status, 200, `${repo} keeps ${d}`);
    }
  }
  res = await fetch(`${url}/v2/g/two/manifests/${sha(untagged.manifest)}`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), untagged.manifest);

  // --delete-untagged drops g/two's manifest and then its blobs; the index child stays (reached from a tag).
  const strict = await collectGarbage(root, { deleteUntagged: true });
  assert.ok(strict.removed.includes(`g/two@${sha(untagged.manifest)}`), strict.removed.join(' '));
  assert.ok(strict.removed.includes(sha(untagged.manifest)));
  for (const d of untagged.blobs) assert.ok(strict.removed.includes(d));
  for (const d of [...tagged.blobs, ...child.blobs]) assert.ok(!strict.removed.includes(d));
});

test('throughput: a 200 MB blob pushed and pulled over 127.0.0.1', async (t) => {
  const { url } = await serve(t);
  const chunk = randomBytes(1 << 20);
  const total = 200;
  const h = createHash('sha256');
  for (let i = 0; i < total; i++) h.update(chunk);
  const digest = `sha256:${h.digest('hex')}`;
  const body = (): Readable => Readable.from((function* () { for (let i = 0; i < total; i++) yield chunk; })());
  let res = await fetch(`${url}/v2/big/blobs/uploads/`, { method: 'POST' });
  const at = new URL(res.headers.get('location')!, url).toString();
  let t0 = performance.now();
  res = await fetch(at, { method: 'PATCH', body: Readable.toWeb(body()) as ReadableStream, duplex: 'half', headers: { 'Content-Type': 'application/octet-stream' } } as RequestInit);
  assert.equal(res.status, 202);
  res = await fetch(`${at}?digest=${digest}`, { method: 'PUT' });
  assert.equal(res.status, 201);
  const push = total / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  res = await fetch(`${url}/v2/big/blobs/${digest}`);
  let n = 0;
  for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) n += c.length;
  const pull = total / ((performance.now() - t0) / 1000);
  assert.equal(n, total << 20);
  t.diagnostic(`push ${push.toFixed(0)} MB/s, pull ${pull.toFixed(0)} MB/s`);
  assert.ok(push > 50 && pull > 50, `push ${push} MB/s, pull ${pull} MB/s`);
});

// ---- skopeo ----

/** A small OCI image layout: three gzip layers of a few files each, a config, a manifest, index.json. */
async function makeOciLayout(dir: string, tag: string): Promise<{ manifestDigest: string; blobs: string[] }> {
  const blobDir = join(dir, 'blobs', 'sha256');
  await mkdir(blobDir, { recursive: true });
  const put = async (data: Uint8Array | string): Promise<{ digest: string; size: number }> => {
    const digest = sha(data);
    await writeFile(join(blobDir, digest.slice(7)), data);
    return { digest, size: Buffer.byteLength(data) };
  };
  const layers: { digest: string; size: number }[] = [];
  const diffIds: string[] = [];
  for (let i = 0; i < 3; i++) {
    const pack = tar.pack();
    const chunks: Buffer[] = [];
    pack.on('data', (c: unknown) => { chunks.push(c as Buffer); });
    const ended = new Promise<void>((r) => { pack.on('end', () => r()); });
    pack.entry({ name: `layer${i}/`, type: 'directory', mode: 0o755 });
    for (let f = 0; f < 3; f++) pack.entry({ name: `layer${i}/file${f}.txt`, mode: 0o644 }, `layer ${i} file ${f}\n${randomBytes(64).toString('hex')}\n`);
    pack.finalize();
    await ended;
    const raw = Buffer.concat(chunks);
    diffIds.push(sha(raw));
    layers.push(await put(gzipSync(raw)));
  }
  const config = await put(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: diffIds } }));
  const manifest = JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, ...config }, layers: layers.map((l) => ({ mediaType: MediaType.ociLayerGzip, ...l })) });
  const m = await put(manifest);
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MediaType.ociManifest, ...m, annotations: { 'org.opencontainers.image.ref.name': tag } }] }));
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  return { manifestDigest: m.digest, blobs: [config.digest, ...layers.map((l) => l.digest), m.digest] };
}

async function skopeo(...args: string[]): Promise<string> {
  const { stdout } = await run(SKOPEO, ['--insecure-policy', ...args], { timeout: 60_000, maxBuffer: 16 << 20 });
  return stdout;
}

async function sameBlobs(a: string, b: string, digests: string[]): Promise<void> {
  for (const d of digests) {
    const x = await readFile(join(a, 'blobs', 'sha256', d.slice(7)));
    const y = await readFile(join(b, 'blobs', 'sha256', d.slice(7)));
    assert.ok(x.equals(y), `blob ${d} is byte-identical after the round trip`);
  }
}

/** skopeo copy oci → registry, inspect, copy back to a new layout; `src` and `dest` carry creds / TLS flags (inspect's spelling for src). */
async function roundTrip(t: TestContext, host: string, repo: string, src: { dest: string[]; src: string[] }): Promise<void> {
  const work = await tmp(t, 'berth-registry-skopeo-');
  const layout = join(work, 'src');
  const image = await makeOciLayout(layout, 'v1');
  await skopeo('copy', ...src.dest, `oci:${layout}:v1`, `docker://${host}/${repo}:v1`);
  const raw = await skopeo('inspect', ...src.src, '--raw', `docker://${host}/${repo}:v1`);
  assert.equal(sha(raw), image.manifestDigest, 'the registry serves the manifest skopeo pushed, byte-exact');
  const info = JSON.parse(await skopeo('inspect', ...src.src, `docker://${host}/${repo}:v1`)) as { Digest: string; Layers: string[] };
  assert.equal(info.Digest, image.manifestDigest);
  assert.equal(info.Layers.length, 3);
  const back = join(work, 'back');
  // skopeo copy spells the source's flags --src-*; inspect has them bare.
  const copySrc = src.src.map((a) => (a.startsWith('--') ? `--src-${a.slice(2)}` : a));
  await skopeo('copy', ...copySrc, `docker://${host}/${repo}:v1`, `oci:${back}:v1`);
  await sameBlobs(layout, back, image.blobs);
}

test('skopeo: copy an OCI layout in and out over plain HTTP, with the same digest and blobs', { skip: !haveSkopeo && 'skopeo not installed' }, async (t) => {
  const { port } = await serve(t);
  await roundTrip(t, `127.0.0.1:${port}`, 'skopeo/test', { dest: ['--dest-tls-verify=false'], src: ['--tls-verify=false'] });
  // A second push of the same image into another repository (blobs exist already, mount or HEAD).
  const work = await tmp(t);
  await makeOciLayout(join(work, 'l'), 'x');
  await skopeo('copy', '--dest-tls-verify=false', `oci:${join(work, 'l')}:x`, `docker://127.0.0.1:${port}/skopeo/second:x`);
  const tags = JSON.parse(await skopeo('list-tags', '--tls-verify=false', `docker://127.0.0.1:${port}/skopeo/second`)) as { Tags: string[] };
  assert.deepEqual(tags.Tags, ['x']);
});

test('skopeo: --dest-creds against htpasswd Basic auth and against bearer tokens', { skip: !haveSkopeo && 'skopeo not installed' }, async (t) => {
  const h = await htpasswdFile(t, 'bob', 'hunter2');
  const creds = `${h.user}:${h.password}`;
  const basicSrv = await serve(t, { htpasswd: h.path });
  await roundTrip(t, `127.0.0.1:${basicSrv.port}`, 'auth/basic', { dest: ['--dest-tls-verify=false', '--dest-creds', creds], src: ['--tls-verify=false', '--creds', creds] });
  const work = await tmp(t);
  await makeOciLayout(join(work, 'l'), 'x');
  await assert.rejects(skopeo('copy', '--dest-tls-verify=false', '--dest-creds', 'bob:wrong', `oci:${join(work, 'l')}:x`, `docker://127.0.0.1:${basicSrv.port}/auth/denied:x`));
  const tokenSrv = await serve(t, { htpasswd: h.path, tokenAuth: true });
  await roundTrip(t, `127.0.0.1:${tokenSrv.port}`, 'auth/token', { dest: ['--dest-tls-verify=false', '--dest-creds', creds], src: ['--tls-verify=false', '--creds', creds] });
});

test('skopeo: TLS with --dest-cert-dir holding the self-signed certificate as ca.crt', { skip: !haveSkopeo && 'skopeo not installed' }, async (t) => {
  const tls = await selfSignedCert(t);
  const certDir = join(tls.dir, 'certs.d');
  await mkdir(certDir);
  await writeFile(join(certDir, 'ca.crt'), await readFile(tls.cert));
  const { port } = await serve(t, { tls: { cert: tls.cert, key: tls.key } });
  await roundTrip(t, `127.0.0.1:${port}`, 'tls/image', { dest: ['--dest-cert-dir', certDir], src: ['--cert-dir', certDir] });
});

test('the CNCF registry helper starts docker-registry on a free port; skopeo copies an image to it', { skip: (!haveSkopeo || !haveCncfRegistry()) && 'skopeo or docker-registry not installed' }, async (t) => {
  const reg = await startCncfRegistry({ htpasswd: { user: 'carol', password: 'pw' } });
  t.after(() => reg.stop());
  assert.match(reg.host, /^127\.0\.0\.1:\d+$/);
  const res = await fetch(`${reg.url}/v2/`);
  assert.equal(res.status, 401);
  await res.arrayBuffer();
  await roundTrip(t, reg.host, 'cncf/image', { dest: ['--dest-tls-verify=false', '--dest-creds', 'carol:pw'], src: ['--tls-verify=false', '--creds', 'carol:pw'] });
});

test('berth registry serve prints its address, serves, and exits 0 on SIGTERM; berth registry gc --dry-run lists', async (t) => {
  const root = join(await tmp(t), 'root');
  const port = await freePort();
  const berth = join(import.meta.dirname, '../../../bin/berth');
  const child = spawn(berth, ['registry', 'serve', '--root', root, '--addr', `127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no startup line: ${stderr}`)), 15_000);
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('\n')) { clearTimeout(timer); resolve(); }
    });
    child.once('exit', () => { clearTimeout(timer); reject(new Error(`exited: ${stderr}`)); });
  });
  assert.equal(stderr, `listening on http://127.0.0.1:${port}\n`);
  const digest = await pushBlob(`http://127.0.0.1:${port}`, 'cli/test', 'unreferenced');
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  assert.equal(stderr, `listening on http://127.0.0.1:${port}\n`, 'quiet without --log');
  const { stdout } = await run(berth, ['registry', 'gc', '--root', root, '--dry-run'], { timeout: 30_000 });
  assert.equal(stdout, `would remove ${digest}\n1 item(s), ${Buffer.byteLength('unreferenced')} bytes would be freed\n`);
  assert.ok(existsSync(join(root, 'blobs', 'sha256', digest.slice(7))));
});
