// The seccomp profile expansion (moby profiles/seccomp setupSeccomp) and the choice of filter per
// container (moby daemon/seccomp_linux.go WithSeccomp), without runc: what the OCI spec gets.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { containerSeccomp, defaultArchitectures, defaultSeccomp, expandProfile, parseProfile, type SeccompHost } from '../../../src/runtime/seccomp.ts';
import { DEFAULT_PROFILE } from '../../../src/runtime/seccomp-default.ts';
import { containerAppArmor } from '../../../src/runtime/apparmor.ts';
import { securityOptions } from '../../../src/engine/container/oci-spec.ts';
import type { Seccomp } from '../../../src/types/oci-runtime.ts';

const DOCKER_CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'];
const amd64: SeccompHost = { arch: 'amd64', kernel: [6, 1] };

/** The action the filter takes for a syscall called with no interesting arguments. */
function allowed(s: Seccomp, name: string): boolean {
  return (s.syscalls ?? []).some((r) => r.names.includes(name) && r.action === 'SCMP_ACT_ALLOW' && !r.args);
}

describe('the default seccomp profile', () => {
  it('is an allow-list: EPERM by default, the native architecture only', () => {
    const s = expandProfile(parseProfile(JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1 })), DOCKER_CAPS, amd64)!;
    assert.equal(s.defaultAction, 'SCMP_ACT_ERRNO');
    const d = defaultSeccomp(DOCKER_CAPS);
    assert.equal(d.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(d.defaultErrnoRet, 1);
    if (process.arch === 'x64') assert.deepEqual(d.architectures, ['SCMP_ARCH_X86_64']);
    for (const name of ['read', 'write', 'execve', 'getpid', 'clock_gettime']) assert.ok(allowed(d, name), name);
    for (const name of ['io_uring_setup', 'io_uring_enter', 'io_uring_register', 'keyctl', 'add_key', 'kexec_load', 'userfaultfd', 'mount', 'unshare', 'bpf', 'kcmp']) {
      assert.ok(!allowed(d, name), `${name} is not allowed to a default container`);
    }
  });

  it('personality is allowed for Docker\'s personas only; socket for every family but AF_VSOCK', () => {
    const d = defaultSeccomp(DOCKER_CAPS);
    const persona = (d.syscalls ?? []).filter((r) => r.names.includes('personality'));
    assert.deepEqual(persona.map((r) => r.args?.[0]?.value).sort((a, b) => a! - b!), [0x0, 0x8, 0x20000, 0x20008, 0xffffffff]);
    assert.ok(persona.every((r) => r.action === 'SCMP_ACT_ALLOW' && r.args?.[0]?.op === 'SCMP_CMP_EQ'));
    const socket = (d.syscalls ?? []).filter((r) => r.names.includes('socket'));
    assert.deepEqual(socket.map((r) => r.args), [[{ index: 0, value: 40, op: 'SCMP_CMP_NE' }]]);
  });

  it('rules gated on a capability follow the container\'s set; clone3 is ENOSYS without CAP_SYS_ADMIN', () => {
    const plain = defaultSeccomp(DOCKER_CAPS);
    const admin = defaultSeccomp([...DOCKER_CAPS, 'CAP_SYS_ADMIN']);
    const ptrace = defaultSeccomp([...DOCKER_CAPS, 'CAP_SYS_PTRACE']);
    assert.ok(!allowed(plain, 'mount') && allowed(admin, 'mount'));
    assert.ok(!allowed(plain, 'clone3') && allowed(admin, 'clone3'));
    assert.deepEqual((plain.syscalls ?? []).filter((r) => r.names.includes('clone3')).map((r) => [r.action, r.errnoRet]), [['SCMP_ACT_ERRNO', 38]]);
    assert.ok(!(admin.syscalls ?? []).some((r) => r.names.includes('clone3') && r.action === 'SCMP_ACT_ERRNO'));
    // clone with a namespace flag stays refused without CAP_SYS_ADMIN (the masked rule allows flag-free clones).
    assert.deepEqual((plain.syscalls ?? []).filter((r) => r.names.includes('clone')).map((r) => r.args), [[{ index: 0, value: 0x7e020000, op: 'SCMP_CMP_MASKED_EQ' }]]);
    // ptrace itself is allowed to all on kernels >= 4.8 (minKernel rule); kcmp and pidfd_getfd need CAP_SYS_PTRACE.
    assert.ok(allowed(plain, 'ptrace'));
    assert.ok(!allowed(plain, 'kcmp') && allowed(ptrace, 'kcmp') && allowed(ptrace, 'pidfd_getfd'));
    // Dropping a default capability removes its rule: chroot is gated on CAP_SYS_CHROOT.
    assert.ok(allowed(plain, 'chroot'));
    assert.ok(!allowed(defaultSeccomp(DOCKER_CAPS.filter((c) => c !== 'CAP_SYS_CHROOT')), 'chroot'));
  });

  it('is built once per capability set and architecture list, and shared frozen', () => {
    const a = defaultSeccomp(DOCKER_CAPS);
    assert.equal(defaultSeccomp([...DOCKER_CAPS].reverse()), a);
    assert.ok(Object.isFrozen(a) && Object.isFrozen(a.syscalls) && Object.isFrozen(a.syscalls![0]));
    if (process.arch !== 'x64') return;
    assert.equal(defaultSeccomp(DOCKER_CAPS, 'amd64'), a, 'an amd64 image on amd64 is the native filter');
    const i386 = defaultSeccomp(DOCKER_CAPS, '386');
    assert.notEqual(i386, a);
    assert.deepEqual(i386.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']);
    assert.equal(defaultSeccomp(DOCKER_CAPS, '386'), i386);
  });

  // runc looks up every name for every listed architecture; libseccomp drops the rules of names an
  // architecture lacks. An x86_64-only filter leaves those names out of config.json.
  it('lists for x86_64 alone only the names the x86_64 syscall table has; the rules are otherwise the same', () => {
    const names = (s: Seccomp): string[] => (s.syscalls ?? []).flatMap((r) => r.names);
    const strip = (s: Seccomp) => (s.syscalls ?? []).map((r) => ({ ...r, names: [] }));
    const x64 = defaultSeccomp(DOCKER_CAPS, 'amd64');
    const withX86 = defaultSeccomp(DOCKER_CAPS, '386');
    if (process.arch !== 'x64') return;
    const kept = new Set(names(x64));
    const dropped = names(withX86).filter((n) => !kept.has(n));
    assert.ok(names(x64).every((n) => names(withX86).includes(n)));
    for (const n of ['socketcall', 'ipc', 'mmap2', 'chown32', '_llseek', 'clock_gettime64', 'futex_time64', 'sigreturn', 'waitpid']) {
      assert.ok(dropped.includes(n), `${n} is not an x86_64 syscall`);
    }
    // Syscalls newer than the host's headers are x86_64's too and must stay.
    for (const n of ['read', 'socket', 'mmap', 'clock_gettime', 'futex', 'cachestat', 'fchmodat2', 'map_shadow_stack', 'futex_wait', 'futex_wake', 'futex_requeue', 'rt_sigreturn']) {
      assert.ok(kept.has(n), `${n} stays`);
    }
    // Every dropped name is missing from x86_64's table, as far as this host's headers know it.
    const header = '/usr/include/x86_64-linux-gnu/asm/unistd_64.h';
    if (existsSync(header)) {
      const table = new Set([...readFileSync(header, 'utf8').matchAll(/#define __NR_(\w+)/g)].map((m) => m[1]));
      assert.deepEqual(dropped.filter((n) => table.has(n)), []);
    }
    // Only names go: the same rules in the same order (an emptied rule goes, for a 32-bit-only rule).
    assert.deepEqual(strip(x64), strip(withX86).filter((_, i) => (withX86.syscalls![i]!.names.some((n) => kept.has(n)))));
    assert.ok(JSON.stringify(x64).length < JSON.stringify(withX86).length - 800);
  });

  // runc (libseccomp) compiles the filter at every start, once per listed architecture; a
  // syscall through an architecture not listed is killed (libseccomp's bad-arch action).
  it('lists the host\'s native architecture and, of its sub-architectures, only the one the image is built for', () => {
    const cases: [host: string, image: string | undefined, want: string[]][] = [
      ['amd64', 'amd64', ['SCMP_ARCH_X86_64']],
      ['amd64', undefined, ['SCMP_ARCH_X86_64']],
      ['amd64', '', ['SCMP_ARCH_X86_64']],
      ['amd64', '386', ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']],
      // foreign images run through a binfmt emulator, which makes the host's syscalls
      ['amd64', 'arm64', ['SCMP_ARCH_X86_64']],
      ['amd64', 'arm', ['SCMP_ARCH_X86_64']],
      ['amd64', 'weird', ['SCMP_ARCH_X86_64']],
      ['arm64', 'arm64', ['SCMP_ARCH_AARCH64']],
      ['arm64', 'arm', ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']],
      ['arm64', 'amd64', ['SCMP_ARCH_AARCH64']],
      ['s390x', 's390', ['SCMP_ARCH_S390X', 'SCMP_ARCH_S390']],
      ['riscv64', 'riscv64', ['SCMP_ARCH_RISCV64']],
      // no archMap entry for the host (moby's default.json has none for ppc64le): libseccomp's native only
      ['ppc64le', 'ppc64le', []],
    ];
    for (const [arch, image, want] of cases) {
      assert.deepEqual(defaultArchitectures(DEFAULT_PROFILE, image, { arch, kernel: [6, 1] }), want, `${arch} host, ${image} image`);
    }
    // X32 (which no image platform names) is never listed by the default filter.
    assert.ok(!JSON.stringify(defaultSeccomp(DOCKER_CAPS, '386')).includes('X32'));
  });

  it('a profile of one\'s own keeps every architecture it names, whatever the image', () => {
    const own = JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', archMap: DEFAULT_PROFILE.archMap, syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] });
    const listed = JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X32'] });
    if (process.arch === 'x64') {
      assert.deepEqual(containerSeccomp(own, DOCKER_CAPS, false, 'amd64')!.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    }
    assert.deepEqual(containerSeccomp(listed, DOCKER_CAPS, false, 'amd64')!.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X32']);
    assert.deepEqual(containerSeccomp('builtin', DOCKER_CAPS, false, '386')!.architectures, defaultArchitectures(DEFAULT_PROFILE, '386'));
  });
});

describe('a profile of one\'s own (moby\'s format)', () => {
  const profile = {
    defaultAction: 'SCMP_ACT_ALLOW',
    archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86'] }, { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: null }],
    syscalls: [
      { names: ['keyctl'], action: 'SCMP_ACT_ERRNO', includes: { caps: ['CAP_SYS_ADMIN'] } },
      { name: 'add_key', action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
      { names: ['arch_prctl'], action: 'SCMP_ACT_ERRNO', includes: { arches: ['arm64'] } },
      { names: ['newthing'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '6.2' } },
      { names: ['oldthing'], action: 'SCMP_ACT_ALLOW', excludes: { minKernel: '5.0' } },
    ],
  };

  it('is expanded against capabilities, architecture and kernel', () => {
    const s = expandProfile(parseProfile(JSON.stringify(profile)), DOCKER_CAPS, amd64)!;
    assert.deepEqual(s.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']);
    assert.deepEqual(s.syscalls, [{ names: ['add_key'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }]);
    const admin = expandProfile(parseProfile(JSON.stringify(profile)), [...DOCKER_CAPS, 'CAP_SYS_ADMIN'], { arch: 'arm64', kernel: [6, 2] })!;
    assert.deepEqual(admin.architectures, ['SCMP_ARCH_AARCH64']);
    assert.deepEqual(admin.syscalls!.map((r) => r.names[0]), ['keyctl', 'add_key', 'arch_prctl', 'newthing']);
  });

  it('applies under --privileged; unconfined and privileged without a profile have no filter; builtin is the default', () => {
    assert.equal(containerSeccomp('unconfined', DOCKER_CAPS, false), undefined);
    assert.equal(containerSeccomp(undefined, DOCKER_CAPS, true), undefined);
    assert.equal(containerSeccomp('builtin', DOCKER_CAPS, false), defaultSeccomp(DOCKER_CAPS));
    assert.equal(containerSeccomp(undefined, DOCKER_CAPS, false), defaultSeccomp(DOCKER_CAPS));
    assert.equal(containerSeccomp(JSON.stringify(profile), DOCKER_CAPS, true)?.defaultAction, 'SCMP_ACT_ALLOW');
  });

  it('is refused when malformed, in moby\'s words where it has them', () => {
    assert.throws(() => parseProfile('{'), /Decoding seccomp profile failed/);
    assert.throws(() => parseProfile('{"syscalls":[]}'), /defaultAction is required/);
    assert.throws(() => parseProfile('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"6"}}]}'), /invalid kernel version/);
    assert.throws(() => expandProfile(parseProfile('{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"archMap":[{"architecture":"SCMP_ARCH_X86_64"}]}'), [], amd64),
      /both 'architectures' and 'archMap'/);
    assert.throws(() => expandProfile(parseProfile('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"a","names":["b"],"action":"SCMP_ACT_ALLOW"}]}'), [], amd64),
      /both 'name' and 'names'/);
  });
});

describe('--security-opt (moby parseSecurityOpt) and AppArmor', () => {
  it('parses key=value and key:value, the bare no-new-privileges and disable', () => {
    assert.deepEqual(securityOptions(['no-new-privileges', 'disable', 'label=type:foo', 'apparmor=p1', 'seccomp=unconfined']),
      { noNewPrivileges: true, apparmor: 'p1', seccomp: 'unconfined' });
    assert.deepEqual(securityOptions(['no-new-privileges:false', 'seccomp:builtin']), { noNewPrivileges: false, seccomp: 'builtin' });
    assert.throws(() => securityOptions(['apparmor']), /^InvalidParameter|invalid --security-opt 1: "apparmor"/);
    assert.throws(() => securityOptions(['bogus=1']), /invalid --security-opt 2: "bogus=1"/);
    assert.throws(() => securityOptions(['no-new-privileges=maybe']), /invalid --security-opt 2/);
    assert.throws(() => securityOptions(['seccomp=not-json']), /Decoding seccomp profile failed/);
  });

  it('applies an AppArmor profile only where the host has AppArmor', () => {
    const none = { supported: false, defaultLoaded: false };
    assert.equal(containerAppArmor('p1', false, none), undefined);
    assert.equal(containerAppArmor(undefined, true, none), undefined);
    const aa = { supported: true, defaultLoaded: true };
    assert.equal(containerAppArmor('p1', false, aa), 'p1');
    assert.equal(containerAppArmor(undefined, true, aa), 'unconfined');
    assert.equal(containerAppArmor(undefined, false, aa), 'docker-default');
    assert.equal(containerAppArmor(undefined, false, { supported: true, defaultLoaded: false }), undefined);
  });
});
