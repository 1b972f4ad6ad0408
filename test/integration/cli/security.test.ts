// Secure defaults through the real Docker CLI: Docker's capability set, no mounts, no clock
// changes, no host devices, the default seccomp filter (a user namespace is refused with EPERM),
// and the options that relax or tighten them.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon, makeBusybox, type Result, ok } from '../../helpers/daemon.ts';


describe('secure defaults against berthd', () => {
  const d = new TestDaemon();
  const docker = (args: string[]): Promise<string> => ok(d.docker(args));
  before(async () => {
    await d.start();
    await makeBusybox(d);
  });
  after(async () => { await d.cleanup(); });

  it('a default container has Docker\'s capabilities and cannot mount, set the clock or see host devices', async () => {
    // Docker's default set: chown dac_override fowner fsetid kill setgid setuid setpcap net_bind_service
    // net_raw sys_chroot mknod audit_write setfcap = 0xa80425fb.
    assert.match(await docker(['run', '--rm', 'busybox', 'grep', 'CapEff', '/proc/self/status']), /^CapEff:\s+00000000a80425fb$/m);
    const r = await d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'mkdir -p /mnt; mount -t tmpfs none /mnt; echo mount=$?; date -s "2001-01-01 00:00:00" >/dev/null; date +year=%Y']);
    assert.match(r.stdout, /mount=[1-9]/);
    assert.doesNotMatch(r.stdout, /year=2001/, 'the clock did not move (busybox date exits 0 even when it fails)');
    assert.match(r.stderr, /can't set date: Operation not permitted/);
    const devs = (await docker(['run', '--rm', 'busybox', 'ls', '/dev'])).trim().split('\n').sort();
    assert.deepEqual(devs, ['fd', 'full', 'mqueue', 'null', 'ptmx', 'pts', 'random', 'shm', 'stderr', 'stdin', 'stdout', 'tty', 'urandom', 'zero']);
    // Loading a kernel module is refused before the kernel looks at the file (EPERM: no
    // CAP_SYS_MODULE, and the seccomp filter); this kernel would otherwise say it has no module support.
    const mod = await d.docker(['run', '--rm', 'busybox', 'insmod', '/bin/busybox']);
    assert.notEqual(mod.code, 0);
    assert.match(mod.stderr, /Operation not permitted/);
    const mknod = await d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'mknod /tmp/sda b 8 0 && head -c 1 /tmp/sda']);
    assert.notEqual(mknod.code, 0, 'a block device made inside cannot be opened (devices cgroup)');
  });

  it('the default seccomp filter refuses a user namespace with EPERM; seccomp=unconfined allows it', async () => {
    const r = await d.docker(['run', '--rm', 'busybox', 'unshare', '-U', 'true']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unshare\(0x10000000\): Operation not permitted/);
    assert.equal(await docker(['run', '--rm', '--security-opt', 'seccomp=unconfined', 'busybox', 'sh', '-c', 'unshare -U true && echo ok']), 'ok\n');
  });

  it('--cap-add SYS_ADMIN lifts the mount part of the filter; --cap-drop removes a capability', async () => {
    assert.equal(await docker(['run', '--rm', '--cap-add', 'SYS_ADMIN', 'busybox', 'sh', '-c', 'mkdir -p /mnt && mount -t tmpfs none /mnt && echo mounted']), 'mounted\n');
    const r = await d.docker(['run', '--rm', '--cap-drop', 'CHOWN', 'busybox', 'sh', '-c', 'touch /f && chown 1:1 /f']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Operation not permitted/);
  });

  it('--security-opt no-new-privileges and a seccomp profile of one\'s own', async () => {
    assert.match(await docker(['run', '--rm', '--security-opt', 'no-new-privileges', 'busybox', 'grep', 'NoNewPrivs', '/proc/self/status']), /NoNewPrivs:\s+1/);
    // A profile that refuses mkdir: the CLI reads the file and sends its contents.
    const profile = JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] });
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const dir = mkdtempSync('/tmp/berth-seccomp-');
    writeFileSync(`${dir}/p.json`, profile);
    const r = await d.docker(['run', '--rm', '--security-opt', `seccomp=${dir}/p.json`, 'busybox', 'mkdir', '/x']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Operation not permitted/);
    const bad = await d.docker(['run', '--rm', '--security-opt', 'bogus=1', 'busybox', 'true']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /invalid --security-opt/);
    const { rmSync } = await import('node:fs');
    rmSync(dir, { recursive: true, force: true });
  });

  it('--privileged has all capabilities, the host devices and a writable /sys; --device adds one; --group-add', async () => {
    const out = await docker(['run', '--rm', '--privileged', 'busybox', 'sh', '-c', 'grep CapEff /proc/self/status; ls /dev | wc -l; mount -o remount,rw /sys && echo sys-rw']);
    assert.doesNotMatch(out, /CapEff:\s+00000000a80425fb/);
    assert.ok(Number(out.split('\n')[1]) > 20, `devices seen: ${out.split('\n')[1]}`);
    assert.match(out, /sys-rw/);
    assert.match(await docker(['run', '--rm', '--device', '/dev/fuse:/dev/myfuse', 'busybox', 'ls', '-l', '/dev/myfuse']), /^c.* 10,\s+229 .*\/dev\/myfuse$/m);
    assert.match(await docker(['run', '--rm', '--group-add', '10', '--group-add', '4242', 'busybox', 'id']), /groups=.*\b10\b.*4242/);
    const bad = await d.docker(['run', '--rm', '--device', '/dev/nonexistent-dev', 'busybox', 'true']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /error gathering device information/);
  });
});
