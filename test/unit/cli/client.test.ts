import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { table } from '../../../src/cli/tabwriter.ts';
import { demux, resolveHost } from '../../../src/client/engine-client.ts';

test('tables align like docker\'s tabwriter: minwidth 10, padding 3, last cell unpadded', () => {
  assert.equal(table([['A', 'LONGER', 'C'], ['xxxx', 'y', 'z']]), 'A         LONGER    C\nxxxx      y         z\n');
  assert.equal(table([['CONTAINER ID', 'NAMES'], ['631622ed668d', 'c1']]), 'CONTAINER ID   NAMES\n631622ed668d   c1\n');
});

test('multiplexed frames are split across chunk boundaries', async () => {
  const f = (t: number, s: string): Buffer => Buffer.concat([Buffer.from([t, 0, 0, 0, 0, 0, 0, s.length]), Buffer.from(s)]);
  const all = Buffer.concat([f(1, 'out\n'), f(2, 'err\n')]);
  const out: string[] = [];
  for await (const x of demux(Readable.from([all.subarray(0, 3), all.subarray(3, 13), all.subarray(13)]))) out.push(`${x.stream}:${x.data}`);
  assert.deepEqual(out, ['1:out\n', '2:err\n']);
});

test('host selection: flag, BERTH_HOST, DOCKER_HOST, default', () => {
  assert.deepEqual(resolveHost('unix:///a.sock', {}), { socketPath: '/a.sock' });
  assert.deepEqual(resolveHost(undefined, { BERTH_HOST: 'tcp://127.0.0.1:2399', DOCKER_HOST: 'unix:///d' }), { host: '127.0.0.1', port: 2399 });
  assert.deepEqual(resolveHost(undefined, { DOCKER_HOST: 'unix:///d' }), { socketPath: '/d' });
  assert.deepEqual(resolveHost(undefined, {}), { socketPath: '/run/berth/berth.sock' });
  assert.throws(() => resolveHost('ssh://x', {}), /invalid host/);
});
