// A hostile web page against berthd's TCP listener (issue 16, finding 2). `-H tcp://127.0.0.1:PORT`
// without TLS is allowed (with dockerd's warning); a page in the user's browser can then send
// "simple" cross-origin requests (text/plain or form bodies, no custom headers) and, through DNS
// rebinding, same-origin ones. Each case sends what the browser would send, byte for byte, and
// expects the refusal; the Docker CLI over the same listener still works.
//
// The CheckForJSON texts and status are moby's (api/server/httputils, 400 InvalidParameter);
// the fetch-metadata, Origin and Host refusals are Berth's own (403), as dockerd checks none of them.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { TestDaemon, makeBusybox, ok } from '../../helpers/daemon.ts';

interface Raw { status: number; headers: string; body: string }

/** One request on its own TCP connection to 127.0.0.1, written raw (a browser's bytes). */
function tcpRequest(port: number, method: string, path: string, headers: Record<string, string>, body = ''): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`${method} ${path}: no answer in 10 s`)); }, 10_000);
    sock.on('connect', () => {
      const h = { Host: `127.0.0.1:${port}`, Connection: 'close', ...headers, ...(body || method === 'POST' ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}) };
      sock.write(`${method} ${path} HTTP/1.1\r\n${Object.entries(h).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n${body}`);
    });
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('error', (e) => { clearTimeout(timer); reject(e); });
    sock.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const i = text.indexOf('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), headers: text.slice(0, i), body: text.slice(i + 4) });
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** What Chrome adds to a cross-site fetch(…, {mode: 'no-cors', method: 'POST'}) from evil.example. */
const BROWSER = { Origin: 'http://evil.example', 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'no-cors', 'Sec-Fetch-Dest': 'empty' };
const ESCAPE = JSON.stringify({ Image: 'busybox', Cmd: ['true'], HostConfig: { Binds: ['/:/host'] } });

describe('hostile client: cross-site requests to a TCP listener', () => {
  let port = 0;
  let d: TestDaemon;
  const tcp = (): NodeJS.ProcessEnv => ({ DOCKER_HOST: `tcp://127.0.0.1:${port}` });
  const names = async (): Promise<string[]> =>
    ((await d.api('GET', '/containers/json?all=1')).json() as { Names: string[] }[]).flatMap((c) => c.Names);

  before(async () => {
    port = await freePort();
    d = new TestDaemon({ args: ['-H', `tcp://127.0.0.1:${port}`] });
    await d.start();
    await makeBusybox(d);
  });
  after(async () => { await d.cleanup(); });

  it('a text/plain create binding / is refused with moby\'s CheckForJSON status and text', async () => {
    const r = await tcpRequest(port, 'POST', '/containers/create?name=xs-plain', { 'Content-Type': 'text/plain' }, ESCAPE);
    assert.equal(r.status, 400, r.body);
    assert.equal(JSON.parse(r.body).message, "unsupported Content-Type header (text/plain): must be 'application/json'");
    // the charset a browser appends changes nothing
    const r2 = await tcpRequest(port, 'POST', '/containers/create?name=xs-plain', { 'Content-Type': 'text/plain;charset=UTF-8' }, ESCAPE);
    assert.equal(JSON.parse(r2.body).message, "unsupported Content-Type header (text/plain;charset=UTF-8): must be 'application/json'");
    assert.ok(!(await names()).includes('/xs-plain'), 'no container was created');
  });

  it('form-encoded and multipart bodies are refused the same way; a body without Content-Type too', async () => {
    const form = await tcpRequest(port, 'POST', '/containers/create?name=xs-form', { 'Content-Type': 'application/x-www-form-urlencoded' }, `${ESCAPE}=`);
    assert.equal(form.status, 400);
    assert.equal(JSON.parse(form.body).message, "unsupported Content-Type header (application/x-www-form-urlencoded): must be 'application/json'");
    const multi = await tcpRequest(port, 'POST', '/containers/create?name=xs-form', { 'Content-Type': 'multipart/form-data; boundary=x' }, `--x\r\n\r\n${ESCAPE}\r\n--x--`);
    assert.equal(multi.status, 400);
    const none = await tcpRequest(port, 'POST', '/containers/create?name=xs-form', {}, ESCAPE);
    assert.equal(none.status, 400);
    assert.equal(JSON.parse(none.body).message, 'malformed Content-Type header (): mime: no media type');
    // exec create and network create are CheckForJSON routes in moby too
    const exec = await tcpRequest(port, 'POST', '/containers/whatever/exec', { 'Content-Type': 'text/plain' }, '{"Cmd":["id"]}');
    assert.equal(exec.status, 400);
    const netc = await tcpRequest(port, 'POST', '/networks/create', { 'Content-Type': 'text/plain' }, '{"Name":"xs-net"}');
    assert.equal(netc.status, 400);
    assert.ok(!(await names()).includes('/xs-form'));
  });

  it('a browser\'s cross-site simple request is refused even where no body is needed (tag, start, prune)', async () => {
    const tag = await tcpRequest(port, 'POST', '/images/busybox/tag?repo=127.0.0.1:1/exfil&tag=x', { ...BROWSER, 'Content-Type': 'text/plain' });
    assert.equal(tag.status, 403, tag.body);
    assert.match(JSON.parse(tag.body).message, /cross-site request refused/);
    assert.equal((await d.api('GET', '/images/127.0.0.1:1/exfil:x/json')).status, 404, 'the image was not tagged');
    // an older browser without fetch metadata: its Origin names another host
    const old = await tcpRequest(port, 'POST', '/containers/prune', { Origin: 'http://evil.example', 'Content-Type': 'text/plain' });
    assert.equal(old.status, 403);
    const nul = await tcpRequest(port, 'POST', '/containers/prune', { Origin: 'null' });
    assert.equal(nul.status, 403, 'a sandboxed frame or file: page (Origin: null)');
    // a GET that streams secrets is refused too (the page could not read it, but why answer)
    const logs = await tcpRequest(port, 'GET', '/containers/json', BROWSER);
    assert.equal(logs.status, 403);
  });

  it('berthd never sends CORS headers, and a preflight is not granted', async () => {
    const answers = [
      await tcpRequest(port, 'GET', '/_ping', {}),
      await tcpRequest(port, 'GET', '/containers/json', { Origin: `http://127.0.0.1:${port}` }),
      await tcpRequest(port, 'GET', '/containers/json', BROWSER),
      await tcpRequest(port, 'OPTIONS', '/containers/create', { ...BROWSER, 'Sec-Fetch-Mode': 'cors', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' }),
      await tcpRequest(port, 'OPTIONS', '/containers/create', { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST' }),
    ];
    for (const a of answers) assert.doesNotMatch(a.headers, /^access-control-/im, a.headers);
    assert.notEqual(answers[3]!.status, 200);
    assert.notEqual(answers[3]!.status, 204);
  });

  it('a rebound Host name is refused on the plain TCP listener; IPs, localhost and the unix socket pass', async () => {
    // DNS rebinding: evil.example now resolves to 127.0.0.1, so the page is same-origin and its
    // requests carry Sec-Fetch-Site: same-origin, but Host still says evil.example.
    const rebound = await tcpRequest(port, 'GET', '/containers/json', { Host: `evil.example:${port}`, 'Sec-Fetch-Site': 'same-origin' });
    assert.equal(rebound.status, 403, rebound.body);
    assert.match(JSON.parse(rebound.body).message, /DNS rebinding/);
    const create = await tcpRequest(port, 'POST', '/containers/create?name=xs-rebind',
      { Host: `evil.example:${port}`, Origin: `http://evil.example:${port}`, 'Sec-Fetch-Site': 'same-origin', 'Content-Type': 'application/json' }, ESCAPE);
    assert.equal(create.status, 403);
    assert.ok(!(await names()).includes('/xs-rebind'));
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `docker.localhost:${port}`]) {
      assert.equal((await tcpRequest(port, 'GET', '/_ping', { Host: host })).status, 200, host);
    }
    // the unix socket is out of a browser's reach and keeps any Host (the CLI sends api.moby.localhost or docker)
    assert.equal((await d.api('GET', '/_ping', undefined, { Host: 'evil.example' })).status, 200);
  });

  it('the Docker CLI works over the TCP listener: run, exec, ps, network create, rm', async () => {
    assert.equal(await ok(d.docker(['run', '--rm', 'busybox', 'echo', 'hello'], { env: tcp() })), 'hello\n');
    await ok(d.docker(['run', '-d', '--name', 'xs-cli', 'busybox', 'sleep', '60'], { env: tcp() }));
    assert.equal(await ok(d.docker(['exec', 'xs-cli', 'echo', 'inside'], { env: tcp() })), 'inside\n');
    assert.match(await ok(d.docker(['ps', '--format', '{{.Names}}'], { env: tcp() })), /xs-cli/);
    await ok(d.docker(['network', 'create', 'xs-net'], { env: tcp() }));
    await ok(d.docker(['network', 'rm', 'xs-net'], { env: tcp() }));
    await ok(d.docker(['rm', '-f', 'xs-cli'], { env: tcp() }));
  });
});
