// The resource flags run/create and update share (src/cli/resource-flags.ts): the help of all three
// commands is the Docker CLI's, and `update` sends the body docker's sends for the same flags
// (both against a fake daemon that records the update) and refuses the values docker's refuses,
// with the same first line and status.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFlags } from '../../../src/cli/flags.ts';
import { RESOURCE_FLAGS, UPDATE_RESOURCE_FLAGS, resourceValues } from '../../../src/cli/resource-flags.ts';

const repo = join(import.meta.dirname, '../../..');
const BERTH = join(repo, 'bin/berth');
const DOCKER = '/usr/local/bin/docker';
const noDocker = !existsSync(DOCKER) && `no Docker CLI at ${DOCKER}`;

const dir = mkdtempSync(join(tmpdir(), 'berth-update-'));
const socket = join(dir, 'd.sock');
let updates: unknown[] = [];
/** /_ping, and POST /containers/{id}/update recorded and answered with no warnings */
const daemon = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const path = new URL(req.url ?? '/', 'http://x').pathname.replace(/^\/v[\d.]+/, '');
    const head = { 'Api-Version': '1.47', OSType: 'linux', 'Content-Type': 'application/json' };
    if (path === '/_ping') {
      res.writeHead(200, head).end('OK');
    } else if (req.method === 'POST' && /^\/containers\/[^/]+\/update$/.test(path)) {
      updates.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.writeHead(200, head).end('{"Warnings":[]}');
    } else res.writeHead(500, head).end('{"message":"fake daemon: not implemented"}');
  });
});
before(() => new Promise<void>((resolve) => daemon.listen(socket, resolve)));
after(async () => {
  daemon.closeAllConnections();
  await new Promise<void>((resolve) => daemon.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

const env = { PATH: process.env.PATH, HOME: '/nonexistent', DOCKER_CONFIG: join(dir, 'cfg'), DOCKER_CLI_HINTS: 'false' };

/** One client run against the fake daemon (async: the daemon answers in this process). */
function update(bin: string, args: string[]): Promise<{ code: number; firstLine: string; body: Record<string, unknown> | undefined }> {
  updates = [];
  return new Promise((resolve, reject) => {
    const p = spawn(bin, ['-H', `unix://${socket}`, 'update', ...args, 'c1'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (c: Buffer) => { err += c.toString(); });
    p.on('error', reject);
    p.on('close', (code) => resolve({
      code: code ?? -1, firstLine: err.split('\n')[0]!.replaceAll('docker', 'berth'), body: updates[0] as Record<string, unknown> | undefined,
    }));
  });
}

for (const cmd of ['update', 'run', 'create']) {
  test(`\`${cmd} --help\` is the Docker CLI's, word for word`, { skip: noDocker }, () => {
    const b = spawnSync(BERTH, [cmd, '--help'], { env, encoding: 'utf8' });
    const d = spawnSync(DOCKER, [cmd, '--help'], { env, encoding: 'utf8' });
    assert.equal(b.status, 0);
    assert.equal(b.stdout, d.stdout.replaceAll('docker', 'berth'));
  });
}

// Valid values (the body must match) and values docker's flag types refuse (the error must).
const CASES: string[][] = [
  ['--cpus', '0.5', '-m', '100m', '--memory-swap', '-1', '--pids-limit', '50', '--restart', 'on-failure:3'],
  ['--blkio-weight', '300', '--cpu-period', '100000', '--cpu-quota', '50000', '--cpu-rt-period', '1000', '--cpu-rt-runtime', '500', '-c', '512'],
  ['--cpuset-cpus', '0-1', '--cpuset-mems', '0', '--memory-reservation', '64m', '--kernel-memory', '10m'],
  ['--memory', '1.5g', '--memory-swap', '2GiB'], ['--memory', '1 GiB'], ['--restart', 'always'], ['--pids-limit', '-1'],
  // opts.NanoCPUs is a big.Rat: fractions and exponents are numbers, and more than 9 decimals too precise
  ['--cpus', '1/2'], ['--cpus', '1e0'], ['--cpus', '0.0000000001'], ['--cpus', 'abc'],
  // pflag's Uint16 is ParseUint: a sign is a syntax error, not a range error
  ['--blkio-weight', '70000'], ['--blkio-weight', '-1'], ['--blkio-weight', 'abc'],
  // opts.MemBytes: RAMInBytes refuses an empty value as any other
  ['--memory', 'xx'], ['--memory', ''],
];

for (const args of CASES) {
  test(`update ${args.join(' ')}: docker's body or docker's error`, { skip: noDocker }, async () => {
    const b = await update(BERTH, args);
    const d = await update(DOCKER, args);
    assert.equal(b.code, d.code, `berth: ${b.firstLine}\ndocker: ${d.firstLine}`);
    assert.equal(b.firstLine, d.firstLine);
    assert.equal(!!b.body, !!d.body);
    if (!b.body) return;
    // berth sends the deprecated KernelMemory as 0 where docker leaves it out (omitempty); the
    // daemon ignores it at this API version either way
    const { KernelMemory, ...sent } = b.body;
    assert.equal(KernelMemory, d.body!.KernelMemory ?? 0);
    for (const [k, v] of Object.entries(sent)) assert.deepEqual(v, d.body![k], `${k} in ${JSON.stringify(b.body)}`);
  });
}

test('update lists every resource flag, in pflag order, with update\'s own wording where it has one', () => {
  assert.deepEqual(UPDATE_RESOURCE_FLAGS.map((f) => f.name), RESOURCE_FLAGS.map((f) => f.spec.name).sort());
  const rt = UPDATE_RESOURCE_FLAGS.find((f) => f.name === 'cpu-rt-period')!;
  assert.equal(rt.desc, 'Limit the CPU real-time period in microseconds');
  assert.equal(UPDATE_RESOURCE_FLAGS.find((f) => f.name === 'kernel-memory')!.hidden, true);
  assert.equal(RESOURCE_FLAGS.find((f) => f.spec.name === 'kernel-memory')!.spec.hidden, undefined);
});

test('resourceValues: zero values for flags not given, numbers for numeric fields, strings for cpusets', () => {
  const specs = RESOURCE_FLAGS.map((f) => f.spec);
  const none = resourceValues(parseFlags([], specs).opts, () => new Error('unexpected'));
  assert.deepEqual(Object.keys(none), RESOURCE_FLAGS.map((f) => f.field));
  for (const [k, v] of Object.entries(none)) assert.equal(v, k.startsWith('Cpuset') ? '' : 0, k);
  const all = resourceValues(parseFlags(['--blkio-weight', '0x10', '-m', '1k', '--memory-swap', '-1', '--cpus', '3/2', '--cpuset-cpus', '1', '-c', '2'], specs).opts, () => new Error('unexpected'));
  assert.deepEqual(
    [all.BlkioWeight, all.Memory, all.MemorySwap, all.NanoCpus, all.CpusetCpus, all.CpuShares],
    [16, 1024, -1, 1_500_000_000, '1', 2],
  );
  assert.throws(
    () => resourceValues(parseFlags(['-m', '1q'], specs).opts, (f, v, why) => new Error(`${f.short}|${f.name}|${v}|${why}`)),
    { message: "m|memory|1q|invalid suffix: 'q'" },
  );
});
