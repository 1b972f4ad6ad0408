// engine/container/rootless-limits.ts: a rootless berthd without cgroups refuses, at create and
// update, every limit that needs one (a 400 naming the docker run flags and the reason), and
// pause/unpause; fields that ask for no limit (0, null, -1, false, empty lists) pass, as does
// everything for a rootful daemon or a rootless one with cgroups.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refuseLimitsWithoutCgroups, refuseWithoutFreezer } from '../../../../src/engine/container/rootless-limits.ts';
import { BerthError, InvalidParameter } from '../../../../src/errors.ts';
import type { RootlessMode } from '../../../../src/sys/rootless.ts';
import type { ResourceFields } from '../../../../src/engine/container/record.ts';

const WHY = 'this host has cgroup v1, where an ordinary user gets no cgroups';
const noCgroups: RootlessMode = { cgroups: false, cgroupsWhy: WHY, singleId: false };
const withCgroups: RootlessMode = { ...noCgroups, cgroups: true };

const device = [{ Path: '/dev/sda', Rate: 1048576 }];

/** Each limit that needs a cgroup, a value asking for it, and the flag the refusal names. */
const LIMITS: Array<[string, ResourceFields, string]> = [
  ['Memory', { Memory: 64 * 1024 * 1024 }, '--memory'],
  ['MemorySwap', { MemorySwap: 128 * 1024 * 1024 }, '--memory-swap'],
  ['MemoryReservation', { MemoryReservation: 32 * 1024 * 1024 }, '--memory-reservation'],
  ['MemorySwappiness', { MemorySwappiness: 60 }, '--memory-swappiness'],
  // 0 is a setting (never swap), not "unset": the CLI sends -1 when the flag is not given
  ['MemorySwappiness', { MemorySwappiness: 0 }, '--memory-swappiness'],
  ['OomKillDisable', { OomKillDisable: true }, '--oom-kill-disable'],
  ['NanoCpus', { NanoCpus: 1_500_000_000 }, '--cpus'],
  ['CpuShares', { CpuShares: 512 }, '--cpu-shares'],
  ['CpuPeriod', { CpuPeriod: 100_000 }, '--cpu-period'],
  ['CpuQuota', { CpuQuota: 50_000 }, '--cpu-quota'],
  ['CpusetCpus', { CpusetCpus: '0-1' }, '--cpuset-cpus'],
  ['CpusetMems', { CpusetMems: '0' }, '--cpuset-mems'],
  ['PidsLimit', { PidsLimit: 100 }, '--pids-limit'],
  ['BlkioWeight', { BlkioWeight: 500 }, '--blkio-weight'],
  ['BlkioDeviceReadBps', { BlkioDeviceReadBps: device }, '--device-read-bps'],
  ['BlkioDeviceWriteBps', { BlkioDeviceWriteBps: device }, '--device-write-bps'],
  ['BlkioDeviceReadIOps', { BlkioDeviceReadIOps: device }, '--device-read-iops'],
  ['BlkioDeviceWriteIOps', { BlkioDeviceWriteIOps: device }, '--device-write-iops'],
];

/** The error refuseLimitsWithoutCgroups throws, asserted to be the 400 class. */
function refusal(fn: () => void): InvalidParameter {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof InvalidParameter, `expected an InvalidParameter, got ${String(caught)}`);
  assert.ok(caught instanceof BerthError);
  assert.equal(caught.status, 400);
  return caught;
}

for (const [name, fields, flag] of LIMITS) {
  test(`refuseLimitsWithoutCgroups: ${name} is refused with a 400 naming ${flag} and the reason`, () => {
    const err = refusal(() => refuseLimitsWithoutCgroups(noCgroups, fields));
    assert.equal(err.message, `rootless berthd cannot apply ${flag}: ${WHY}`);
  });
}

test('refuseLimitsWithoutCgroups: several limits are named together, in the order of docker run\'s flags', () => {
  const err = refusal(() => refuseLimitsWithoutCgroups(noCgroups, { PidsLimit: 10, Memory: 1 << 26, NanoCpus: 1e9 }));
  assert.equal(err.message, `rootless berthd cannot apply --memory, --cpus, --pids-limit: ${WHY}`);
});

test('refuseLimitsWithoutCgroups: fields that ask for no limit pass', () => {
  const none: ResourceFields[] = [
    {},
    // What docker run sends without limit flags.
    {
      Memory: 0, MemorySwap: 0, MemoryReservation: 0, MemorySwappiness: null, OomKillDisable: false, NanoCpus: 0,
      CpuShares: 0, CpuPeriod: 0, CpuQuota: 0, CpusetCpus: '', CpusetMems: '', PidsLimit: null, BlkioWeight: 0,
      BlkioDeviceReadBps: [], BlkioDeviceWriteBps: null, BlkioDeviceReadIOps: [], BlkioDeviceWriteIOps: [],
    },
    // -1: "unlimited" swap, pids, and swappiness unset.
    { MemorySwap: -1, PidsLimit: -1, MemorySwappiness: -1, CpuQuota: -1 },
    { Memory: null, NanoCpus: null, OomKillDisable: null, CpusetCpus: null },
    // Ulimits are rlimits, not cgroups: a rootless container gets them.
    { Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 2048 }] },
  ];
  for (const fields of none) assert.doesNotThrow(() => refuseLimitsWithoutCgroups(noCgroups, fields), JSON.stringify(fields));
});

test('refuseLimitsWithoutCgroups: rootful, or rootless with cgroups, nothing is refused', () => {
  const all = Object.assign({}, ...LIMITS.map(([, f]) => f)) as ResourceFields;
  // The same fields are refused without cgroups, so the two passes below are not for want of a limit.
  const err = refusal(() => refuseLimitsWithoutCgroups(noCgroups, all));
  for (const [, , flag] of LIMITS) assert.ok(err.message.includes(flag), flag);
  assert.doesNotThrow(() => refuseLimitsWithoutCgroups(undefined, all));
  assert.doesNotThrow(() => refuseLimitsWithoutCgroups(withCgroups, all));
});

test('refuseWithoutFreezer: pause and unpause refused without cgroups, with the reason; allowed otherwise', () => {
  for (const what of ['pause a container', 'unpause a container']) {
    const err = refusal(() => refuseWithoutFreezer(noCgroups, what));
    assert.equal(err.message, `rootless berthd cannot ${what} (that needs the cgroup freezer): ${WHY}`);
    assert.doesNotThrow(() => refuseWithoutFreezer(undefined, what));
    assert.doesNotThrow(() => refuseWithoutFreezer(withCgroups, what));
  }
});
