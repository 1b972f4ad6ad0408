// network/rootlesskit-ports.ts: the rootless berthd's published ports. RootlessKitPorts wraps
// the daemon's own ProxyControl (a fake here, recording what it is given) and asks RootlessKit's
// port driver for each IPv4 forward, first through a fake RootlessKitApi function, then through
// rootlessKitApi(socket) against a node:http server on a unix socket that imitates RootlessKit's
// API (GET /v1/ports, null when there are none; POST /v1/ports answering {id, spec};
// DELETE /v1/ports/ID; errors as {"message": …}).
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RootlessKitPorts, portSpec, rootlessKitApi } from '../../../src/network/rootlesskit-ports.ts';
import type { PortSpec, RootlessKitApi } from '../../../src/network/rootlesskit-ports.ts';
import type { ProxyControl } from '../../../src/network/bridge/port-publisher.ts';
import type { PublishedPort } from '../../../src/network/firewall.ts';

const OWNER = 'c0ffee';
const CIP = '172.17.0.2';
const PRIVILEGED = 'cannot expose privileged port 80, you can add \'net.ipv4.ip_unprivileged_port_start=80\' to /etc/sysctl.conf (currently 1024), or set CAP_NET_BIND_SERVICE on rootlesskit binary, or choose a larger port number (>= 1024)';

const fwd = (hostIp: string, hostPort: number, containerPort: number, proto: 'tcp' | 'udp' = 'tcp', containerIp = CIP): PublishedPort =>
  ({ proto, hostIp, hostPort, containerIp, containerPort });

/** The daemon's own port holder: records each call, binds everything as given, or fails when told. */
class FakeInner implements ProxyControl {
  adds: Array<{ owner: string; forwards: PublishedPort[] }> = [];
  removes: string[] = [];
  held = new Map<string, PublishedPort[]>();
  failAdd?: Error;
  async add(owner: string, forwards: PublishedPort[]): Promise<{ pid: number; forwards: PublishedPort[] }> {
    this.adds.push({ owner, forwards: structuredClone(forwards) });
    if (this.failAdd) throw this.failAdd;
    this.held.set(owner, forwards);
    return { pid: 4242, forwards: forwards.map((f) => ({ ...f })) };
  }
  async remove(owner: string): Promise<void> {
    this.removes.push(owner);
    this.held.delete(owner);
  }
  async owners(): Promise<string[]> {
    return [...this.held.keys()];
  }
}

interface Call { method: string; path: string; body?: object }

/** RootlessKit's port table behind a RootlessKitApi function: records calls; a POST can be made to fail. */
function fakeApi(opts: { held?: Array<{ id: number; spec: PortSpec }>; failPost?: (spec: PortSpec) => string | undefined; failDelete?: boolean; driver?: string } = {}) {
  const ports = new Map<number, PortSpec>((opts.held ?? []).map((p) => [p.id, p.spec]));
  let next = Math.max(0, ...ports.keys()) + 1;
  const calls: Call[] = [];
  const api: RootlessKitApi = async (method, path, body) => {
    calls.push({ method, path, ...(body ? { body: structuredClone(body) } : {}) });
    if (method === 'GET' && path === '/v1/info') return { apiVersion: '1.1.1', portDriver: { driver: opts.driver ?? 'builtin', protos: ['tcp', 'udp'] } };
    if (method === 'GET') return ports.size ? [...ports].map(([id, spec]) => ({ id, spec })) : null;
    if (method === 'POST') {
      const spec = body as PortSpec;
      const fail = opts.failPost?.(spec);
      if (fail) throw new Error(fail);
      const id = next++;
      ports.set(id, spec);
      return { id, spec };
    }
    if (opts.failDelete) throw new Error('RootlessKit went away');
    ports.delete(Number(path.split('/').pop()));
    return undefined;
  };
  return { api, calls, ports, posts: () => calls.filter((c) => c.method === 'POST').map((c) => c.body as PortSpec) };
}

test('portSpec: IPv4 forwards become specs to the container\'s address and port; IPv6 ones none', () => {
  assert.deepEqual(portSpec(fwd('', 8080, 80)), { proto: 'tcp', parentIP: '0.0.0.0', parentPort: 8080, childIP: CIP, childPort: 80 });
  assert.deepEqual(portSpec(fwd('127.0.0.1', 5353, 53, 'udp')), { proto: 'udp', parentIP: '127.0.0.1', parentPort: 5353, childIP: CIP, childPort: 53 });
  assert.equal(portSpec(fwd('::', 8080, 80)), undefined);
  assert.equal(portSpec(fwd('', 8080, 80, 'tcp', 'fd00::2')), undefined);
});

test('add: a wildcard and a 127.0.0.1 forward are held inside and asked of RootlessKit, to the container\'s address', async () => {
  const inner = new FakeInner();
  const rk = fakeApi();
  const ports = new RootlessKitPorts(inner, rk.api);
  const forwards = [fwd('0.0.0.0', 8080, 80), fwd('127.0.0.1', 9090, 90, 'udp'), fwd('', 7070, 70)];
  const started = await ports.add(OWNER, forwards);
  assert.deepEqual(inner.adds, [{ owner: OWNER, forwards }]);
  assert.deepEqual(started, { pid: 4242, forwards });
  assert.deepEqual(rk.posts(), [
    { proto: 'tcp', parentIP: '0.0.0.0', parentPort: 8080, childIP: CIP, childPort: 80 },
    { proto: 'udp', parentIP: '127.0.0.1', parentPort: 9090, childIP: CIP, childPort: 90 },
    { proto: 'tcp', parentIP: '0.0.0.0', parentPort: 7070, childIP: CIP, childPort: 70 },
  ]);
  // The driver's name and what RootlessKit holds were read first, once each.
  assert.deepEqual(rk.calls.filter((c) => c.method === 'GET'), [{ method: 'GET', path: '/v1/info' }, { method: 'GET', path: '/v1/ports' }]);
  assert.equal(rk.calls[0]!.method, 'GET');
  assert.equal(rk.ports.size, 3);
  assert.deepEqual(await ports.owners(), [OWNER]);
});

test('add: IPv6 forwards are held inside but not asked of RootlessKit (slirp4netns has no IPv6)', async () => {
  const inner = new FakeInner();
  const rk = fakeApi();
  const ports = new RootlessKitPorts(inner, rk.api);
  const forwards = [fwd('0.0.0.0', 8080, 80), fwd('::', 8080, 80), fwd('::1', 8081, 81)];
  const started = await ports.add(OWNER, forwards);
  assert.deepEqual(inner.adds[0]!.forwards, forwards);
  assert.deepEqual(started.forwards, forwards);
  assert.deepEqual(rk.posts(), [{ proto: 'tcp', parentIP: '0.0.0.0', parentPort: 8080, childIP: CIP, childPort: 80 }]);
});

test('add: a host address of the host\'s own is held inside on 0.0.0.0; RootlessKit listens on it and the forwards keep it', async () => {
  const inner = new FakeInner();
  const rk = fakeApi();
  const ports = new RootlessKitPorts(inner, rk.api);
  const forwards = [fwd('192.0.2.1', 8080, 80), fwd('127.0.0.2', 8081, 81)];
  const started = await ports.add(OWNER, forwards);
  // 192.0.2.1 does not exist inside the namespace; 127.0.0.2 does (loopback).
  assert.deepEqual(inner.adds[0]!.forwards, [fwd('0.0.0.0', 8080, 80), fwd('127.0.0.2', 8081, 81)]);
  assert.deepEqual(started.forwards, forwards);
  assert.deepEqual(rk.posts(), [
    { proto: 'tcp', parentIP: '192.0.2.1', parentPort: 8080, childIP: CIP, childPort: 80 },
    { proto: 'tcp', parentIP: '127.0.0.2', parentPort: 8081, childIP: CIP, childPort: 81 },
  ]);
});

test('add: the ports the inner holder bound (a random host port) are the ones asked of RootlessKit', async () => {
  const inner = new FakeInner();
  inner.add = async (owner, forwards) => {
    inner.adds.push({ owner, forwards });
    return { pid: 7, forwards: forwards.map((f) => ({ ...f, hostPort: f.hostPort || 49153 })) };
  };
  const rk = fakeApi();
  const started = await new RootlessKitPorts(inner, rk.api).add(OWNER, [fwd('192.0.2.1', 0, 80)]);
  assert.deepEqual(started, { pid: 7, forwards: [fwd('192.0.2.1', 49153, 80)] });
  assert.deepEqual(rk.posts(), [{ proto: 'tcp', parentIP: '192.0.2.1', parentPort: 49153, childIP: CIP, childPort: 80 }]);
});

test('add: forwards RootlessKit already holds (berthd restarted, RootlessKit did not) are adopted, not asked for twice', async () => {
  const inner = new FakeInner();
  const rk = fakeApi({ held: [
    { id: 7, spec: { proto: 'tcp', parentIP: '0.0.0.0', parentPort: 8080, childIP: CIP, childPort: 80 } },
    // Another container's: left alone.
    { id: 9, spec: { proto: 'tcp', parentIP: '0.0.0.0', parentPort: 9999, childIP: '172.17.0.9', childPort: 80 } },
  ] });
  const ports = new RootlessKitPorts(inner, rk.api);
  await ports.add(OWNER, [fwd('', 8080, 80), fwd('', 8443, 443)]);
  // Only the one it did not hold is asked for.
  assert.deepEqual(rk.posts(), [{ proto: 'tcp', parentIP: '0.0.0.0', parentPort: 8443, childIP: CIP, childPort: 443 }]);
  assert.deepEqual([...rk.ports.keys()], [7, 9, 10]);
  // The adopted forward is the container's now: removed with it, the other container's stays.
  await ports.remove(OWNER);
  assert.deepEqual(rk.calls.filter((c) => c.method === 'DELETE').map((c) => c.path), ['/v1/ports/7', '/v1/ports/10']);
  assert.deepEqual([...rk.ports.keys()], [9]);
});

test('add: a held forward to another address or port of the container is not taken for this one', async () => {
  const inner = new FakeInner();
  const rk = fakeApi({ held: [
    { id: 3, spec: { proto: 'tcp', parentIP: '0.0.0.0', parentPort: 8080, childIP: '172.17.0.3', childPort: 80 } },
    { id: 4, spec: { proto: 'udp', parentIP: '0.0.0.0', parentPort: 8080, childIP: CIP, childPort: 80 } },
    { id: 5, spec: { proto: 'tcp', parentIP: '0.0.0.0', parentPort: 8080, childIP: CIP, childPort: 81 } },
  ] });
  await new RootlessKitPorts(inner, rk.api).add(OWNER, [fwd('', 8080, 80)]);
  assert.deepEqual(rk.posts(), [{ proto: 'tcp', parentIP: '0.0.0.0', parentPort: 8080, childIP: CIP, childPort: 80 }]);
});

test('add: all or nothing: a refused POST deletes what this add asked for, lets go of the inner forwards, and passes the reason on', async () => {
  const inner = new FakeInner();
  const rk = fakeApi({ failPost: (s) => (s.parentPort === 80 ? PRIVILEGED : undefined) });
  const ports = new RootlessKitPorts(inner, rk.api);
  await assert.rejects(ports.add(OWNER, [fwd('', 8080, 8080), fwd('127.0.0.1', 8081, 8081), fwd('', 80, 80), fwd('', 8443, 443)]),
    (err: Error) => err.message === PRIVILEGED);
  assert.equal(rk.posts().length, 3);
  assert.deepEqual(rk.calls.filter((c) => c.method === 'DELETE').map((c) => c.path), ['/v1/ports/1', '/v1/ports/2']);
  assert.equal(rk.ports.size, 0);
  assert.deepEqual(inner.removes, [OWNER]);
  assert.deepEqual(await ports.owners(), []);
  // Nothing is left recorded for the owner: a later remove deletes nothing more.
  const before = rk.calls.length;
  await ports.remove(OWNER);
  assert.equal(rk.calls.length, before);
});

test('add: when RootlessKit cannot be asked at all, the inner forwards go too; when the inner holder fails, RootlessKit is asked for no forward', async () => {
  const inner = new FakeInner();
  const down: RootlessKitApi = async () => { throw new Error('connect ENOENT'); };
  await assert.rejects(new RootlessKitPorts(inner, down).add(OWNER, [fwd('', 8080, 80)]), /ENOENT/);
  assert.deepEqual(inner.removes, [OWNER]);

  const busy = new FakeInner();
  busy.failAdd = new Error('listen tcp4 0.0.0.0:8080: bind: address already in use');
  const rk = fakeApi();
  await assert.rejects(new RootlessKitPorts(busy, rk.api).add(OWNER, [fwd('', 8080, 80)]), /address already in use/);
  // (only the driver's name was read, before the inner holder was asked)
  assert.deepEqual(rk.calls, [{ method: 'GET', path: '/v1/info' }]);
});

test('remove: deletes the owner\'s RootlessKit forwards and lets go of the inner ones; other owners keep theirs', async () => {
  const inner = new FakeInner();
  const rk = fakeApi();
  const ports = new RootlessKitPorts(inner, rk.api);
  await ports.add('a', [fwd('', 8080, 80), fwd('', 8081, 81)]);
  await ports.add('b', [fwd('', 9090, 90, 'tcp', '172.17.0.3')]);
  await ports.remove('a');
  assert.deepEqual(rk.calls.filter((c) => c.method === 'DELETE').map((c) => c.path), ['/v1/ports/1', '/v1/ports/2']);
  assert.deepEqual([...rk.ports.values()], [{ proto: 'tcp', parentIP: '0.0.0.0', parentPort: 9090, childIP: '172.17.0.3', childPort: 90 }]);
  assert.deepEqual(inner.removes, ['a']);
  assert.deepEqual(await ports.owners(), ['b']);
  // A second remove, or one of an owner never added: no DELETE, the inner holder still asked.
  await ports.remove('a');
  await ports.remove('nobody');
  assert.equal(rk.calls.filter((c) => c.method === 'DELETE').length, 2);
  assert.deepEqual(inner.removes, ['a', 'a', 'nobody']);
});

test('remove: a DELETE RootlessKit fails does not keep the inner forwards', async () => {
  const inner = new FakeInner();
  const rk = fakeApi({ failDelete: true });
  const ports = new RootlessKitPorts(inner, rk.api);
  await ports.add(OWNER, [fwd('', 8080, 80)]);
  await ports.remove(OWNER);
  assert.deepEqual(inner.removes, [OWNER]);
  assert.deepEqual(await ports.owners(), []);
});

// ---- rootlessKitApi against an imitation of RootlessKit's API socket ----

interface Imitation { socket: string; ports: Map<number, PortSpec>; requests: Array<{ method: string; url: string; type?: string; body: string }> }

/**
 * RootlessKit's API as its builtin port driver answers: the list (JSON null when empty), a new
 * forward's status, 200 with no body for a delete, and {"message"} errors: a privileged port,
 * a port already forwarded, an unknown id.
 */
async function imitation(t: TestContext): Promise<Imitation> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-rk-api-'));
  const socket = join(dir, 'api.sock');
  const ports = new Map<number, PortSpec>();
  const requests: Imitation['requests'] = [];
  let next = 1;
  const fail = (res: ServerResponse, status: number, message: string): void => {
    res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ message }));
  };
  const srv = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    requests.push({ method: req.method ?? '', url: req.url ?? '', ...(req.headers['content-type'] ? { type: req.headers['content-type'] } : {}), body });
    const json = (v: unknown): void => { res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(v)); };
    if (req.method === 'GET' && req.url === '/v1/ports') {
      // Go's encoding/json writes a nil slice as null.
      json(ports.size ? [...ports].map(([id, spec]) => ({ id, spec })) : null);
      return;
    }
    if (req.method === 'POST' && req.url === '/v1/ports') {
      const spec = JSON.parse(body) as PortSpec;
      if (spec.parentPort < 1024) return fail(res, 500, PRIVILEGED);
      for (const p of ports.values()) {
        if (p.proto === spec.proto && p.parentPort === spec.parentPort && (p.parentIP === spec.parentIP || p.parentIP === '0.0.0.0' || spec.parentIP === '0.0.0.0')) {
          return fail(res, 500, `conflict with ID ${[...ports].find(([, q]) => q === p)![0]}`);
        }
      }
      const id = next++;
      ports.set(id, spec);
      json({ id, spec });
      return;
    }
    const m = /^\/v1\/ports\/(\d+)$/.exec(req.url ?? '');
    if (req.method === 'DELETE' && m) {
      if (!ports.delete(Number(m[1]))) return fail(res, 400, `unknown id: ${m[1]}`);
      res.writeHead(200).end();
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('404 page not found\n');
  });
  srv.listen(socket);
  await once(srv, 'listening');
  t.after(async () => {
    srv.closeAllConnections();
    await new Promise((r) => srv.close(r));
    await rm(dir, { recursive: true, force: true });
  });
  return { socket, ports, requests };
}

test('rootlessKitApi: GET null, POST {id, spec} with the spec as JSON, DELETE with no body', async (t) => {
  const rk = await imitation(t);
  const api = rootlessKitApi(rk.socket);
  assert.equal(await api('GET', '/v1/ports'), null);
  const spec: PortSpec = { proto: 'tcp', parentIP: '127.0.0.1', parentPort: 8080, childIP: CIP, childPort: 80 };
  assert.deepEqual(await api('POST', '/v1/ports', spec), { id: 1, spec });
  assert.deepEqual(rk.requests[1], { method: 'POST', url: '/v1/ports', type: 'application/json', body: JSON.stringify(spec) });
  assert.deepEqual(await api('GET', '/v1/ports'), [{ id: 1, spec }]);
  assert.equal(await api('DELETE', '/v1/ports/1'), undefined);
  assert.equal(rk.requests[3]!.body, '');
  assert.equal(rk.ports.size, 0);
});

test('rootlessKitApi: RootlessKit\'s error message reaches the caller unchanged; a plain-text error is the text; no socket names it', async (t) => {
  const rk = await imitation(t);
  const api = rootlessKitApi(rk.socket);
  await assert.rejects(api('POST', '/v1/ports', { proto: 'tcp', parentIP: '0.0.0.0', parentPort: 80, childIP: CIP, childPort: 80 }),
    (err: Error) => err.message === PRIVILEGED);
  await assert.rejects(api('DELETE', '/v1/ports/42'), (err: Error) => err.message === 'unknown id: 42');
  await assert.rejects(api('GET', '/v1/nothing'), (err: Error) => err.message === '404 page not found');
  const gone = join(rk.socket, '..', 'gone.sock');
  await assert.rejects(rootlessKitApi(gone)('GET', '/v1/ports'), (err: Error) => err.message.includes(gone) && /ENOENT/.test(err.message));
});

test('RootlessKitPorts over the socket: add and remove, a privileged port refused all or nothing, and adoption after a restart', async (t) => {
  const rk = await imitation(t);
  const inner = new FakeInner();
  const ports = new RootlessKitPorts(inner, rootlessKitApi(rk.socket));

  await ports.add(OWNER, [fwd('', 8080, 80), fwd('192.0.2.1', 8443, 443), fwd('::', 8080, 80)]);
  assert.deepEqual([...rk.ports.values()], [
    { proto: 'tcp', parentIP: '0.0.0.0', parentPort: 8080, childIP: CIP, childPort: 80 },
    { proto: 'tcp', parentIP: '192.0.2.1', parentPort: 8443, childIP: CIP, childPort: 443 },
  ]);

  // -p 80:80 as an ordinary user: RootlessKit's hint is the client's reason, nothing stays.
  const other = new FakeInner();
  await assert.rejects(new RootlessKitPorts(other, rootlessKitApi(rk.socket)).add('web', [fwd('', 9090, 90, 'tcp', '172.17.0.3'), fwd('', 80, 80, 'tcp', '172.17.0.3')]),
    (err: Error) => err.message === PRIVILEGED);
  assert.deepEqual(other.removes, ['web']);
  assert.equal(rk.ports.size, 2);
  assert.ok(![...rk.ports.values()].some((s) => s.parentPort === 9090));

  // berthd restarts (a new wrapper and a new inner holder), RootlessKit did not: adopted.
  const posts = rk.requests.filter((r) => r.method === 'POST').length;
  const restarted = new RootlessKitPorts(new FakeInner(), rootlessKitApi(rk.socket));
  await restarted.add(OWNER, [fwd('', 8080, 80), fwd('192.0.2.1', 8443, 443), fwd('::', 8080, 80)]);
  assert.equal(rk.requests.filter((r) => r.method === 'POST').length, posts);
  assert.deepEqual([...rk.ports.keys()], [1, 2]);

  await restarted.remove(OWNER);
  assert.equal(rk.ports.size, 0);
  assert.equal(await rootlessKitApi(rk.socket)('GET', '/v1/ports'), null);
});

test('sweep after a restart: forwards RootlessKit still holds for containers that are gone are deleted, adopted ones kept', async () => {
  const live = { proto: 'tcp', parentIP: '0.0.0.0', parentPort: 8080, childIP: CIP, childPort: 80 };
  const gone = { proto: 'tcp', parentIP: '0.0.0.0', parentPort: 9090, childIP: '172.17.0.9', childPort: 80 };
  const { api, ports } = fakeApi({ held: [{ id: 1, spec: live }, { id: 2, spec: gone }] });
  const w = new RootlessKitPorts(new FakeInner(), api);
  // restore of the container that still runs adopts its forward (no second POST)
  await w.add(OWNER, [fwd('', 8080, 80)]);
  await w.sweep(new Set([OWNER]));
  assert.deepEqual([...ports.keys()], [1], 'the gone container\'s forward was deleted, the live one kept');
  // a container the publisher no longer counts as live loses its forwards too
  await w.sweep(new Set());
  assert.deepEqual([...ports.keys()], []);
});

test('the slirp4netns port driver is sent to the same port on its own guest address (berthd\'s DNAT takes it on), never to the container', async () => {
  const rk = fakeApi({ driver: 'slirp4netns' });
  const w = new RootlessKitPorts(new FakeInner(), rk.api);
  await w.add(OWNER, [fwd('', 8080, 80), fwd('127.0.0.1', 5353, 53, 'udp')]);
  assert.deepEqual(rk.posts(), [
    { proto: 'tcp', parentIP: '0.0.0.0', parentPort: 8080, childPort: 8080 },
    { proto: 'udp', parentIP: '127.0.0.1', parentPort: 5353, childPort: 5353 },
  ]);
  assert.deepEqual(portSpec(fwd('', 8080, 80), 'slirp4netns'), { proto: 'tcp', parentIP: '0.0.0.0', parentPort: 8080, childPort: 8080 });
});

test('with the slirp4netns driver a loopback publish is held inside on the wildcard (tap0\'s address must reach it), the forwards as given', async () => {
  const rk = fakeApi({ driver: 'slirp4netns' });
  const inner = new FakeInner();
  const w = new RootlessKitPorts(inner, rk.api);
  const started = await w.add(OWNER, [fwd('127.0.0.1', 8080, 80)]);
  assert.deepEqual(inner.adds[0]!.forwards, [fwd('0.0.0.0', 8080, 80)]);
  assert.deepEqual(started.forwards, [fwd('127.0.0.1', 8080, 80)]);
  assert.deepEqual(rk.posts(), [{ proto: 'tcp', parentIP: '127.0.0.1', parentPort: 8080, childPort: 8080 }]);
});
