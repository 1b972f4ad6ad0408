// API version negotiation as the Docker CLI does it: one /_ping first, then every request under
// the lower of the client's version and the daemon's Api-Version; a fixed DOCKER_API_VERSION
// skips the ping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { EngineClient, CLIENT_API_VERSION } from '../../../src/client/engine-client.ts';

async function withServer(apiVersion: string | undefined, fn: (socket: string, paths: string[]) => Promise<void>): Promise<void> {
  const dir = mkdtempSync('/tmp/berth-negotiate-');
  const socket = join(dir, 's.sock');
  const paths: string[] = [];
  const srv = http.createServer((req, res) => {
    paths.push(`${req.method} ${req.url}`);
    if (apiVersion) res.setHeader('Api-Version', apiVersion);
    res.setHeader('Content-Type', 'application/json');
    res.end(req.url === '/_ping' ? 'OK' : '[]');
  });
  await new Promise<void>((r) => srv.listen(socket, r));
  try {
    await fn(socket, paths);
  } finally {
    srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('an older daemon: requests use its version, after one ping', async () => {
  await withServer('1.41', async (socket, paths) => {
    const c = new EngineClient({ socketPath: socket });
    await c.request('GET', '/containers/json');
    await c.request('GET', '/images/json');
    c.close();
    assert.deepEqual(paths, ['GET /_ping', 'GET /v1.41/containers/json', 'GET /v1.41/images/json']);
  });
});

test('a newer daemon, or one without the header: the client\'s own version', async () => {
  for (const v of ['1.50', undefined]) {
    await withServer(v, async (socket, paths) => {
      const c = new EngineClient({ socketPath: socket });
      await c.request('GET', '/containers/json');
      c.close();
      assert.deepEqual(paths, ['GET /_ping', `GET /v${CLIENT_API_VERSION}/containers/json`]);
    });
  }
});

test('a fixed version (DOCKER_API_VERSION) sends no ping', async () => {
  await withServer('1.47', async (socket, paths) => {
    const c = new EngineClient({ socketPath: socket }, { address: `unix://${socket}`, version: '1.40' });
    await c.request('GET', '/containers/json');
    c.close();
    assert.deepEqual(paths, ['GET /v1.40/containers/json']);
  });
});
