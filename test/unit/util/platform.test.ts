// util/platform.ts: Node's process.arch in Go's spelling (GOARCH), the one table the builder,
// the pull and the seccomp filter read the host's architecture from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goArch, hostPlatform } from '../../../src/util/platform.ts';

test('goArch: each architecture Node reports, as GOARCH spells it', () => {
  const cases: [string, string][] = [
    ['x64', 'amd64'], ['arm64', 'arm64'], ['arm', 'arm'], ['ia32', '386'], ['ppc64', 'ppc64le'], ['s390x', 's390x'],
    ['riscv64', 'riscv64'], ['mips', 'mips'], ['mipsel', 'mipsle'], ['loong64', 'loong64'], ['something', 'something'],
  ];
  for (const [node, go] of cases) assert.equal(goArch(node), go, node);
  assert.equal(goArch(), goArch(process.arch));
});

test('hostPlatform: linux and the GOARCH, with the ARM variants containerd assumes', () => {
  assert.deepEqual(hostPlatform('x64'), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(hostPlatform('ia32'), { os: 'linux', architecture: '386' });
  assert.deepEqual(hostPlatform('arm'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.deepEqual(hostPlatform('arm64'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
});
