import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, appendFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildSpec, capabilities, hostCapabilities, defaultCaps, maskedPaths, type SpecInput } from '../../../src/runtime/spec.ts';
import { parseLogLine, readLogs, toUtcNano } from '../../../src/runtime/logs.ts';

function rootfs(): string {
  const dir = mkdtempSync('/tmp/berth-spec-');
  mkdirSync(join(dir, 'etc'));
  writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000::/home/app:/bin/sh\n');
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\nstaff:x:50:app\napp:x:1000:\nnogroup:x:65534:\n');
  return dir;
}

const base = (dir: string, over: Partial<SpecInput> = {}): SpecInput => ({
  id: 'x', rootfs: dir, args: ['sh'], env: [], cwd: '/', user: '', tty: false, openStdin: false, hostname: 'h1',
  networkMode: 'private', etcFiles: { hostname: '/tmp/h' }, cgroupsPath: '/berth/x', ...over,
});

test('Docker\'s default spec: namespaces, mounts, masked paths, env defaults', async () => {
  const dir = rootfs();
  try {
    const s = await buildSpec(base(dir, { tty: true }));
    assert.deepEqual(s.linux.namespaces.map((n) => n.type).sort(), ['ipc', 'mount', 'network', 'pid', 'uts']);
    assert.deepEqual(s.mounts.map((m) => m.destination), ['/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/dev/shm', '/etc/hostname']);
    assert.ok(s.mounts.find((m) => m.destination === '/sys')!.options!.includes('ro'));
    assert.deepEqual(s.linux.maskedPaths, maskedPaths);
    assert.ok(s.process.env!.includes('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'));
    assert.ok(s.process.env!.includes('HOSTNAME=h1'));
    assert.ok(s.process.env!.includes('TERM=xterm'));
    assert.ok(s.process.env!.includes('HOME=/root'));
    assert.equal(s.hostname, 'h1');
    const host = await buildSpec(base(dir, { networkMode: 'host', pidMode: 'host' }));
    assert.deepEqual(host.linux.namespaces.map((n) => n.type).sort(), ['ipc', 'mount', 'uts']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('users resolve against the image\'s passwd and group', async () => {
  const dir = rootfs();
  try {
    const u = async (user: string): Promise<unknown> => (await buildSpec(base(dir, { user }))).process.user;
    // the primary group is a supplementary one too (`id` in a dockerd container: groups=GID)
    assert.deepEqual(await u(''), { uid: 0, gid: 0, additionalGids: [0] });
    assert.deepEqual(await u('app'), { uid: 1000, gid: 1000, additionalGids: [1000, 50] });
    assert.deepEqual(await u('nobody:staff'), { uid: 65534, gid: 50, additionalGids: [50] });
    assert.deepEqual(await u('4242:4343'), { uid: 4242, gid: 4343, additionalGids: [4343] });
    await assert.rejects(buildSpec(base(dir, { user: 'ghost' })), /unable to find user ghost: no matching entries in passwd file/);
    await assert.rejects(buildSpec(base(dir, { user: 'app:ghosts' })), /unable to find group ghosts/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('capabilities: Docker\'s defaults, add/drop/ALL, never beyond the host\'s bounding set', () => {
  const host = hostCapabilities();
  assert.deepEqual(capabilities(), defaultCaps.filter((c) => host.has(c)));
  assert.ok(!capabilities([], ['NET_RAW']).includes('CAP_NET_RAW'));
  assert.ok(capabilities(['SYS_ADMIN']).includes('CAP_SYS_ADMIN') === host.has('CAP_SYS_ADMIN'));
  assert.deepEqual(capabilities(['CHOWN'], ['ALL']), host.has('CAP_CHOWN') ? ['CAP_CHOWN'] : []);
  for (const c of capabilities(['ALL'])) assert.ok(host.has(c), c);
  assert.throws(() => capabilities(['NOT_A_CAP']), /unknown capability/);
});

test('k8s-file log lines: timestamps to UTC Z, partial lines without newline', () => {
  assert.equal(toUtcNano('2026-11-23T03:22:49.123456789+00:00'), '2026-11-23T03:22:49.123456789Z');
  assert.equal(toUtcNano('2026-11-23T05:22:49.5+02:00'), '2026-11-23T03:22:49.500000000Z');
  const e = parseLogLine('2026-11-23T03:22:49.000000001+00:00 stderr F oops')!;
  assert.equal(e.stream, 'stderr');
  assert.equal(e.data.toString(), 'oops\n');
  assert.equal(parseLogLine('2026-11-23T03:22:49.000000001+00:00 stdout P part')!.data.toString(), 'part');
  assert.equal(parseLogLine('garbage'), undefined);
});

test('readLogs: tail, stream filter, since, follow until aborted', async () => {
  const dir = mkdtempSync('/tmp/berth-logs-');
  const f = join(dir, 'log');
  try {
    writeFileSync(f, ['2026-01-01T00:00:01.000000000+00:00 stdout F a', '2026-01-01T00:00:02.000000000+00:00 stderr F b',
      '2026-01-01T00:00:03.000000000+00:00 stdout F c', ''].join('\n'));
    const collect = async (o: Partial<Parameters<typeof readLogs>[1]>): Promise<string> => {
      let s = '';
      for await (const e of readLogs(f, { follow: false, stdout: true, stderr: true, signal: new AbortController().signal, ...o })) s += e.data;
      return s;
    };
    assert.equal(await collect({}), 'a\nb\nc\n');
    assert.equal(await collect({ tail: 1 }), 'c\n');
    assert.equal(await collect({ tail: 0 }), '');
    assert.equal(await collect({ stderr: false }), 'a\nc\n');
    assert.equal(await collect({ since: Date.parse('2026-01-01T00:00:02Z') / 1000 }), 'b\nc\n');
    const ac = new AbortController();
    const got: string[] = [];
    const reading = (async () => { for await (const e of readLogs(f, { follow: true, tail: 0, stdout: true, stderr: true, signal: ac.signal })) got.push(e.data.toString()); })();
    await new Promise((r) => setTimeout(r, 120));
    appendFileSync(f, '2026-01-01T00:00:04.000000000+00:00 stdout F d\n');
    await new Promise((r) => setTimeout(r, 200));
    appendFileSync(f, '2026-01-01T00:00:05.000000000+00:00 stdout F e\n');
    ac.abort();
    await reading;
    assert.deepEqual(got, ['d\n', 'e\n']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
