// dockerode (with docker-modem underneath) as its users call it, against a private dockerd and a
// private berthd (client-pair.ts): create + attach before start + wait, logs as a buffer and as a
// followed stream, exec with and without stdin (hijacked), put/getArchive, listContainers with
// filters, the events stream (bounded and live), modem.demuxStream, and the errors dockerode
// turns into exceptions (statusCode + json.message).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, type Readable } from 'node:stream';
import tar from 'tar-stream';
import Docker from 'dockerode';
import { onBothDaemons, type PairContext } from './client-pair.ts';

/** Both streams of a multiplexed reply, split with dockerode's own demuxer. */
async function demux(docker: Docker, stream: NodeJS.ReadableStream): Promise<{ out: string; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const o: Buffer[] = [];
  const e: Buffer[] = [];
  out.on('data', (b: Buffer) => o.push(b));
  err.on('data', (b: Buffer) => e.push(b));
  docker.modem.demuxStream(stream, out, err);
  await new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', reject);
  });
  return { out: Buffer.concat(o).toString(), err: Buffer.concat(e).toString() };
}

/** The stdcopy frames of a whole (non-follow) logs reply. */
function frames(buf: Buffer): [number, string][] {
  const got: [number, string][] = [];
  for (let i = 0; i + 8 <= buf.length;) {
    const n = buf.readUInt32BE(i + 4);
    got.push([buf[i], buf.subarray(i + 8, i + 8 + n).toString()]);
    i += 8 + n;
  }
  return got;
}

/** What dockerode's rejection carries: the status and the daemon's message. */
async function failure(p: Promise<unknown>): Promise<{ statusCode: number; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { statusCode?: number; json?: { message?: string } | null };
    return { statusCode: err.statusCode ?? -1, message: err.json?.message ?? String(e) };
  }
  assert.fail('expected the call to fail');
}

function tarOf(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, body] of Object.entries(files)) pack.entry({ name, mode: 0o644 }, body);
  pack.finalize();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    pack.on('data', (b: unknown) => chunks.push(b as Buffer));
    pack.on('end', () => resolve(Buffer.concat(chunks)));
    pack.on('error', reject);
  });
}

async function untar(stream: Readable | NodeJS.ReadableStream): Promise<Record<string, string>> {
  const extract = tar.extract();
  const files: Record<string, string> = {};
  extract.on('entry', (h, s, next) => {
    const parts: Buffer[] = [];
    s.on('data', (b: unknown) => parts.push(b as Buffer));
    s.on('end', () => { files[`${h.type}:${h.name}`] = Buffer.concat(parts).toString(); next(); });
  });
  const done = new Promise<void>((resolve, reject) => { extract.on('finish', resolve); extract.on('error', reject); });
  (stream as Readable).pipe(extract);
  await done;
  return files;
}

const ID = /[0-9a-f]{64}/g;

onBothDaemons('dockerode', (c: PairContext) => {
  const docker = (): Docker => new Docker({ socketPath: c.d().socket });

  it('ping and version', async () => {
    const pong = await docker().ping();
    assert.equal(pong.toString(), 'OK');
    const v = await docker().version();
    assert.equal(v.Os, 'linux');
    assert.match(v.ApiVersion, /^1\.\d+$/);
    c.record('ping', pong.toString());
  });

  it('create, attach before start, demux both streams, wait for the exit code', async () => {
    const d = docker();
    const ctr = await d.createContainer({
      name: 'dode-one', Image: 'busybox:latest', Cmd: ['sh', '-c', 'echo out; echo err >&2; exit 3'],
      Labels: { app: 'dockerode', tier: 'a' }, AttachStdout: true, AttachStderr: true,
    });
    const stream = await ctr.attach({ stream: true, stdout: true, stderr: true });
    const output = demux(d, stream);
    await ctr.start();
    const waited = await ctr.wait();
    assert.deepEqual(waited, { StatusCode: 3, Error: null });
    const got = await output;
    assert.deepEqual(got, { out: 'out\n', err: 'err\n' });
    c.record('attach', [waited, got]);
  });

  it('logs: a whole multiplexed buffer, and a followed stream that ends with the container', async () => {
    const d = docker();
    const buf = await d.getContainer('dode-one').logs({ stdout: true, stderr: true, follow: false });
    assert.ok(Buffer.isBuffer(buf));
    const f = frames(buf);
    assert.deepEqual(f.sort(), [[1, 'out\n'], [2, 'err\n']]);
    const onlyErr = frames(await d.getContainer('dode-one').logs({ stdout: false, stderr: true, follow: false }));
    assert.deepEqual(onlyErr, [[2, 'err\n']]);
    const ctr = await d.createContainer({ name: 'dode-count', Image: 'busybox:latest', Cmd: ['sh', '-c', 'for i in 1 2 3; do echo line $i; sleep 0.2; done'] });
    await ctr.start();
    const followed = await demux(d, await ctr.logs({ stdout: true, stderr: true, follow: true }));
    assert.equal(followed.out, 'line 1\nline 2\nline 3\n');
    const stamped = (await ctr.logs({ stdout: true, follow: false, timestamps: true, tail: 1 })).toString().slice(8);
    assert.match(stamped, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z line 3\n$/);
    c.record('logs', [f.sort(), onlyErr, followed]);
  });

  it('exec: output, exit code, and stdin through a hijacked stream', async () => {
    const d = docker();
    const ctr = await d.createContainer({ name: 'dode-long', Image: 'busybox:latest', Cmd: ['sleep', '300'], Labels: { app: 'dockerode', tier: 'b' } });
    await ctr.start();
    const ex = await ctr.exec({ Cmd: ['sh', '-c', 'echo hi; echo oops >&2; exit 5'], AttachStdout: true, AttachStderr: true });
    const got = await demux(d, await ex.start({}));
    const info = await ex.inspect();
    assert.deepEqual(got, { out: 'hi\n', err: 'oops\n' });
    assert.equal(info.ExitCode, 5);
    assert.equal(info.Running, false);
    const cat = await ctr.exec({ Cmd: ['sh', '-c', 'cat; echo done'], AttachStdin: true, AttachStdout: true, AttachStderr: true });
    const duplex = await cat.start({ hijack: true, stdin: true });
    const piped = demux(d, duplex);
    duplex.write('piped\n');
    duplex.end();
    assert.deepEqual(await piped, { out: 'piped\ndone\n', err: '' });
    assert.equal((await cat.inspect()).ExitCode, 0);
    c.record('exec', [got, info.ExitCode, await piped]);
  });

  it('putArchive then getArchive round-trip a file; a missing path is a 404', async () => {
    const ctr = docker().getContainer('dode-long');
    await ctr.putArchive(await tarOf({ 'hello.txt': 'hello from dockerode\n', 'sub/deep.txt': 'deep\n' }), { path: '/tmp' });
    const files = await untar(await ctr.getArchive({ path: '/tmp/hello.txt' }));
    assert.deepEqual(files, { 'file:hello.txt': 'hello from dockerode\n' });
    const dir = await untar(await ctr.getArchive({ path: '/tmp/sub' }));
    assert.deepEqual(dir, { 'directory:sub/': '', 'file:sub/deep.txt': 'deep\n' });
    const missing = await failure(ctr.getArchive({ path: '/tmp/nope' }));
    assert.equal(missing.statusCode, 404);
    c.record('archive', [files, dir, missing]);
  });

  it('listContainers with label, status and name filters', async () => {
    const d = docker();
    const names = async (filters: Record<string, string[]>): Promise<string[]> =>
      (await d.listContainers({ all: true, filters })).flatMap((x) => x.Names).sort();
    const byApp = await names({ label: ['app=dockerode'] });
    assert.deepEqual(byApp, ['/dode-long', '/dode-one']);
    const byTier = await names({ label: ['app', 'tier=b'] });
    assert.deepEqual(byTier, ['/dode-long']);
    const exited = await names({ status: ['exited'] });
    assert.deepEqual(exited, ['/dode-count', '/dode-one']);
    const byName = await names({ name: ['dode-c'] });
    assert.deepEqual(byName, ['/dode-count']);
    const running = (await d.listContainers()).map((x) => [x.Names, x.State, x.Labels]);
    assert.deepEqual(running, [[['/dode-long'], 'running', { app: 'dockerode', tier: 'b' }]]);
    c.record('list', [byApp, byTier, exited, byName, running]);
  });

  it('events: a bounded replay of one container, and a live stream', async () => {
    const d = docker();
    const until = Math.ceil(Date.now() / 1000) + 1;
    const replay = await d.getEvents({ since: 0, until, filters: { container: ['dode-one'] } }) as NodeJS.ReadableStream;
    let text = '';
    for await (const chunk of replay) text += chunk.toString();
    const actions = text.trim().split('\n').map((l) => (JSON.parse(l) as { Action: string }).Action);
    assert.deepEqual(actions, ['create', 'attach', 'start', 'die']);
    const live = await d.getEvents({ filters: { type: ['container'], event: ['start'] } }) as Readable;
    const first = new Promise<{ Type: string; Action: string; Actor: { Attributes: Record<string, string> } }>((resolve, reject) => {
      let buf = '';
      live.on('data', (b: Buffer) => {
        buf += b.toString();
        const nl = buf.indexOf('\n');
        if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)));
      });
      live.on('error', reject);
    });
    await d.getContainer('dode-count').start();
    const ev = await first;
    live.destroy();
    assert.equal(ev.Action, 'start');
    assert.equal(ev.Actor.Attributes.name, 'dode-count');
    c.record('events', [actions, ev.Type, ev.Action, Object.keys(ev).sort()]);
  });

  it('errors: a missing image, a name in use, a removed container', async () => {
    const d = docker();
    const noImage = await failure(d.createContainer({ Image: 'nope:latest', Cmd: ['true'] }));
    assert.equal(noImage.statusCode, 404);
    const inUse = await failure(d.createContainer({ name: 'dode-one', Image: 'busybox:latest' }));
    assert.equal(inUse.statusCode, 409);
    const long = d.getContainer('dode-long');
    await long.stop({ t: 1 });
    await long.remove({ force: true });
    const gone = await failure(long.inspect());
    assert.equal(gone.statusCode, 404);
    c.record('errors', [noImage, inUse, gone].map((e) => ({ ...e, message: e.message.replace(ID, 'ID') })));
  });
});
