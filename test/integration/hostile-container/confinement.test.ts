// A hostile container against the seccomp filter: a static probe (test/fixtures/probe/seccomp-probe.c)
// tries the syscalls Docker's default profile refuses and prints the errno of each. The expected
// answers are Docker's: they were taken once from a private dockerd 20.10.24 with the same runc
// 1.1.5 (`node test/conformance/up.ts dockerd`, the probe bound into busybox) and corrected where
// moby 25+ tightened the profile (moby 27.4 default.json is the reference):
//   io_uring_setup/enter/register: allowed by 20.10 (EFAULT/EBADF/EINVAL from the kernel), EPERM since moby 25;
//   socket(AF_VSOCK): allowed by 20.10, EPERM since moby 25 (the socket rule's arg 0 != 40).
// ENOSYS for mseal (Linux 6.10) and syscall 1000 is runc's: every syscall numbered above the newest
// one the filter names fails with ENOSYS, so an unknown new syscall is refused, and libc falls back.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestDaemon, makeBusybox, ok, repo, runBuffer, runCmd } from '../../helpers/daemon.ts';

type Answers = Record<string, string>;

/** docker run --rm (no capability change): Docker 27's default profile. */
const DEFAULT: Answers = {
  'getpid': 'ok', 'personality-query': 'ok', 'personality-linux': 'ok', 'personality-linux32': 'ok',
  'personality-read-implies-exec': 'EPERM',
  'io_uring_setup': 'EPERM', 'io_uring_enter': 'EPERM', 'io_uring_register': 'EPERM',
  'keyctl': 'EPERM', 'add_key': 'EPERM', 'request_key': 'EPERM',
  'unshare-user': 'EPERM', 'unshare-mount': 'EPERM', 'clone-newuser': 'EPERM', 'clone3': 'ENOSYS',
  'mount': 'EPERM', 'umount2': 'EPERM', 'setns': 'EPERM',
  'kexec_load': 'EPERM', 'kexec_file_load': 'EPERM', 'bpf': 'EPERM', 'perf_event_open': 'EPERM',
  'init_module': 'EPERM', 'acct': 'EPERM', 'userfaultfd': 'EPERM',
  'socket-vsock': 'EPERM', 'socket-unix': 'ok', 'ptrace-traceme': 'ok', 'kcmp': 'EPERM',
  'mseal': 'ENOSYS', 'syscall-1000': 'ENOSYS',
};

/** --cap-add SYS_ADMIN: the CAP_SYS_ADMIN rules of the profile apply; the kernel answers the calls. */
const SYS_ADMIN: Answers = {
  ...DEFAULT,
  'unshare-user': 'ok', 'unshare-mount': 'ok', 'clone-newuser': 'ok', 'clone3': 'EINVAL',
  'mount': 'ENODEV', 'umount2': 'ENOENT', 'setns': 'EBADF', 'bpf': 'EINVAL', 'perf_event_open': 'EFAULT',
};

/** --cap-add SYS_PTRACE: kcmp (and process_vm_*, pidfd_getfd) allowed. */
const SYS_PTRACE: Answers = { ...DEFAULT, 'kcmp': 'ok' };

/**
 * Without a filter (seccomp=unconfined, --privileged) the kernel answers everything: the calls
 * whose kernel answer does not depend on how this kernel was built.
 */
const UNFILTERED: Answers = {
  'personality-read-implies-exec': 'ok', 'keyctl': 'ok', 'unshare-user': 'ok', 'clone-newuser': 'ok',
  'clone3': 'EINVAL', 'setns': 'EBADF', 'socket-unix': 'ok', 'kcmp': 'ok', 'mseal': 'ok', 'syscall-1000': 'ENOSYS',
};

function parse(out: string): Answers {
  const a: Answers = {};
  for (const line of out.trim().split('\n')) {
    const [name, result] = line.split(' ');
    if (name && result) a[name] = result;
  }
  return a;
}

function pick(a: Answers, keys: string[]): Answers {
  return Object.fromEntries(keys.map((k) => [k, a[k] ?? '(missing)']));
}

describe('a hostile container against the seccomp filter and --security-opt', () => {
  const d = new TestDaemon();
  const dir = mkdtempSync(join(tmpdir(), 'berth-confine-'));
  let skip: string | false = false;
  const probe = async (args: string[]): Promise<Answers> =>
    parse(await ok(d.docker(['run', '--rm', '-e', 'SECCOMP_PROBE=1', '-v', `${dir}:/probe:ro`, ...args, 'busybox', '/probe/seccomp-probe'], { timeoutMs: 30_000 })));

  before(async () => {
    const cc = await runCmd('gcc', ['-static', '-O2', '-o', join(dir, 'seccomp-probe'), join(repo, 'test/fixtures/probe/seccomp-probe.c')], { timeoutMs: 60_000 });
    if (cc.code !== 0) {
      skip = `gcc -static could not build the probe (apt-get install gcc libc6-dev): ${cc.stderr.slice(0, 300)}`;
      return;
    }
    await d.start();
    await makeBusybox(d);
  });
  after(async () => {
    await d.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the default profile refuses what Docker 27 refuses, with EPERM or ENOSYS as Docker does, and allows a normal shell', async (t) => {
    if (skip) return t.skip(skip);
    const [got, shell] = await Promise.all([probe([]), ok(d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'echo $$; uname -s; ls / >/dev/null && echo listed']))]);
    assert.deepEqual(got, DEFAULT);
    assert.match(shell, /^1\nLinux\nlisted\n$/);
  });

  it('--cap-add SYS_ADMIN or SYS_PTRACE lifts exactly the rules gated on that capability', async (t) => {
    if (skip) return t.skip(skip);
    const [admin, ptrace] = await Promise.all([probe(['--cap-add', 'SYS_ADMIN']), probe(['--cap-add', 'SYS_PTRACE'])]);
    assert.deepEqual(admin, SYS_ADMIN);
    assert.deepEqual(ptrace, SYS_PTRACE);
  });

  it('seccomp=unconfined and --privileged run without a filter', async (t) => {
    if (skip) return t.skip(skip);
    const [unconfined, privileged] = await Promise.all([probe(['--security-opt', 'seccomp=unconfined']), probe(['--privileged'])]);
    assert.deepEqual(pick(unconfined, Object.keys(UNFILTERED)), UNFILTERED);
    assert.deepEqual(pick(privileged, Object.keys(UNFILTERED)), UNFILTERED);
    assert.notEqual(unconfined['io_uring_setup'], 'EPERM');
  });

  it('a profile in moby\'s format is expanded against the container\'s capabilities, also under --privileged; seccomp=builtin is the default', async (t) => {
    if (skip) return t.skip(skip);
    // Refuses keyctl only to containers that have CAP_SYS_ADMIN (an includes.caps rule), and
    // names the architectures through archMap, as moby's default.json does.
    const profile = {
      defaultAction: 'SCMP_ACT_ALLOW',
      archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
        { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] }],
      syscalls: [
        { names: ['keyctl'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, includes: { caps: ['CAP_SYS_ADMIN'] } },
        { name: 'add_key', action: 'SCMP_ACT_ERRNO', errnoRet: 13, comment: 'the pre-1.12 single-name form' },
      ],
    };
    const file = join(dir, 'profile.json');
    writeFileSync(file, JSON.stringify(profile));
    const opt = ['--security-opt', `seccomp=${file}`];
    const [plain, admin, priv, builtin] = await Promise.all([
      probe(opt), probe([...opt, '--cap-add', 'SYS_ADMIN']), probe([...opt, '--privileged']), probe(['--security-opt', 'seccomp=builtin']),
    ]);
    assert.deepEqual(pick(plain, ['keyctl', 'add_key', 'personality-read-implies-exec']), { 'keyctl': 'ok', 'add_key': 'EACCES', 'personality-read-implies-exec': 'ok' });
    assert.equal(admin['keyctl'], 'EPERM');
    assert.equal(priv['keyctl'], 'EPERM', 'moby applies a profile of one\'s own to a privileged container');
    assert.deepEqual(builtin, DEFAULT);
    // A malformed profile fails the create with 400 (the API: the CLI would read the value as a path).
    const bad = await d.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { SecurityOpt: [
      `seccomp=${JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '6' } }] })}`] } });
    assert.equal(bad.status, 400);
    assert.match(bad.json().message, /invalid kernel version/);
  });

  // Berth's default filter lists only the architectures the image is built for (runc compiles the
  // filter once per listed architecture at every start); a syscall through another architecture
  // meets libseccomp's bad-architecture action, which runc 1.1 leaves at KILL: the probe's
  // `int 0x80` (the i386 ABI from a 64-bit binary) dies of SIGSYS, exit 128 + 31. Docker lists
  // x86 and x32 for every container on amd64 and answers the i386 getpid. Never a success here.
  it('a 32-bit syscall in an amd64 image is killed by SIGSYS; a linux/386 image gets x86 under the same allow-list; a profile of one\'s own keeps its architectures', async (t) => {
    if (skip) return t.skip(skip);
    if (process.arch !== 'x64') return t.skip('int 0x80 is the x86 ABI: amd64 hosts only');
    const int80 = (args: string[], image = 'busybox') =>
      d.docker(['run', '--rm', '-e', 'SECCOMP_PROBE=1', '-v', `${dir}:/probe:ro`, ...args, image, '/probe/seccomp-probe', 'int80'], { timeoutMs: 30_000 });
    // The same busybox rootfs, its config saying linux/386 (docker load of a hand-made archive).
    const img = join(dir, 'i386-image');
    mkdirSync(img);
    const layer = await runBuffer('bash', [join(repo, 'scripts/busybox-image.sh')]);
    writeFileSync(join(img, 'layer.tar'), layer);
    const config = JSON.stringify({
      architecture: '386', os: 'linux', created: '2024-01-01T00:00:00Z', config: { Cmd: ['sh'] },
      rootfs: { type: 'layers', diff_ids: [`sha256:${createHash('sha256').update(layer).digest('hex')}`] },
    });
    const configName = `${createHash('sha256').update(config).digest('hex')}.json`;
    writeFileSync(join(img, configName), config);
    writeFileSync(join(img, 'manifest.json'), JSON.stringify([{ Config: configName, RepoTags: ['confine-i386:latest'], Layers: ['layer.tar'] }]));
    await ok(d.docker(['load'], { input: await runBuffer('tar', ['-C', img, '-c', '.']) }));
    assert.equal(await ok(d.docker(['image', 'inspect', '-f', '{{.Architecture}}', 'confine-i386'])), '386\n');

    const file = join(dir, 'own-archmap.json');
    writeFileSync(file, JSON.stringify({
      defaultAction: 'SCMP_ACT_ALLOW',
      archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] }],
      syscalls: [{ names: ['keyctl'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
    }));
    const [plain, i386, unconfined, own] = await Promise.all([
      int80([]), int80([], 'confine-i386'), int80(['--security-opt', 'seccomp=unconfined']), int80(['--security-opt', `seccomp=${file}`]),
    ]);
    // Without a filter the kernel answers: this host runs i386 syscalls (CONFIG_IA32_EMULATION).
    if (!/int80-getpid ok/.test(unconfined.stdout)) return t.skip(`this kernel refuses the i386 ABI: ${unconfined.stdout}${unconfined.stderr}`);
    assert.match(unconfined.stdout, /^int80-start\nint80-getpid ok\nint80-keyctl ok\n$/);
    // amd64 image, default filter: killed at the first 32-bit call, nothing after int80-start.
    assert.equal(plain.stdout, 'int80-start\n', `${plain.stdout}${plain.stderr}`);
    assert.equal(plain.code, 128 + 31, 'killed by SIGSYS (libseccomp\'s bad-arch action), neither allowed nor an errno');
    // linux/386 image: x86 is listed, under the same rules (getpid allowed, keyctl refused).
    assert.equal(i386.code, 0, i386.stderr);
    assert.equal(i386.stdout, 'int80-start\nint80-getpid ok\nint80-keyctl EPERM\n');
    // A profile of one's own keeps every architecture its archMap names: x86 listed, keyctl not named.
    assert.equal(own.code, 0, own.stderr);
    assert.equal(own.stdout, 'int80-start\nint80-getpid ok\nint80-keyctl EPERM\n');
    await ok(d.docker(['rmi', 'confine-i386']));
  });

  it('apparmor= is kept and not applied on a host without AppArmor, as dockerd does; docker info says which confinement is used', async (t) => {
    if (skip) return t.skip(skip);
    const hasAppArmor = existsSync('/sys/kernel/security/apparmor');
    const info = JSON.parse(await ok(d.docker(['info', '--format', '{{json .SecurityOptions}}']))) as string[];
    assert.deepEqual(info, [...(hasAppArmor ? ['name=apparmor'] : []), 'name=seccomp,profile=builtin']);
    if (hasAppArmor) return t.skip('this host has AppArmor: the profile would be applied');
    const name = `confine-aa-${process.pid}`;
    assert.equal(await ok(d.docker(['run', '--name', name, '--security-opt', 'apparmor=berth-no-such-profile', 'busybox', 'echo', 'ran'])), 'ran\n');
    assert.equal(await ok(d.docker(['inspect', '-f', '{{json .HostConfig.SecurityOpt}} {{json .AppArmorProfile}}', name])), '["apparmor=berth-no-such-profile"] ""\n');
    await ok(d.docker(['rm', name]));
    // moby parseSecurityOpt: an option with no separator is "1", an unknown key "2".
    for (const [opt, msg] of [['apparmor', 'invalid --security-opt 1: "apparmor"'], ['no-new-privileges=maybe', 'invalid --security-opt 2: "no-new-privileges=maybe"']]) {
      const r = await d.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { SecurityOpt: [opt] } });
      assert.equal(r.status, 400, opt);
      assert.equal(r.json().message, msg);
    }
  });
});
