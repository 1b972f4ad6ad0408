// HostConfig as dockerd 20.10 records it (the values are those a private dockerd 20.10 showed
// for the same create requests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  recordedHostConfig, effectiveNetworkMode, systemPaths, DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS,
} from '../../../../src/engine/container/host-config.ts';

test('lists keep the shape the client sent: left out is null, [] stays []', () => {
  const omitted = recordedHostConfig({}, {});
  for (const k of ['Dns', 'DnsOptions', 'DnsSearch', 'BlkioWeightDevice', 'BlkioDeviceReadBps', 'BlkioDeviceWriteBps',
    'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps', 'Devices', 'PortBindings', 'Ulimits', 'Binds', 'CapAdd']) {
    assert.equal(omitted[k], null, k);
  }
  const sent = recordedHostConfig({ Dns: [], Devices: [], BlkioDeviceReadBps: [], Ulimits: [], PortBindings: {}, CapAdd: null }, {});
  assert.deepEqual([sent.Dns, sent.Devices, sent.BlkioDeviceReadBps, sent.Ulimits, sent.PortBindings, sent.CapAdd], [[], [], [], [], {}, null]);
  // dockerd rebuilds legacy links: an empty list is nil
  assert.equal(recordedHostConfig({ Links: [] }, {}).Links, null);
});

test('dockerd\'s create-time defaults', () => {
  const hc = recordedHostConfig({ Memory: 64 << 20 }, {});
  assert.equal(hc.MemorySwap, 128 << 20);
  assert.equal(hc.OomKillDisable, false);
  assert.equal(hc.NetworkMode, 'default');
  assert.equal(hc.Runtime, 'runc');
  assert.deepEqual(hc.MaskedPaths, DEFAULT_MASKED_PATHS);
  assert.equal(DEFAULT_MASKED_PATHS.length, 10);
  assert.deepEqual(hc.ReadonlyPaths, DEFAULT_READONLY_PATHS);
  assert.equal(hc.SecurityOpt, null);
  assert.equal(recordedHostConfig({ Memory: 64 << 20, MemorySwap: -1 }, {}).MemorySwap, -1);
  assert.equal(recordedHostConfig({ NetworkMode: '' }, { NetworkMode: '' }).NetworkMode, 'default');
  // A request without any HostConfig gets no Runtime (omitempty, never defaulted)
  assert.equal('Runtime' in recordedHostConfig(undefined, {}), false);
  // What create decided wins over what was sent
  assert.equal(recordedHostConfig({ IpcMode: '' }, { IpcMode: 'private' }).IpcMode, 'private');
});

test('privileged: no default system paths, label=disable unless a label option was given', () => {
  const p = recordedHostConfig({ Privileged: true }, {});
  assert.equal(p.MaskedPaths, null);
  assert.equal(p.ReadonlyPaths, null);
  assert.deepEqual(p.SecurityOpt, ['label=disable']);
  assert.deepEqual(recordedHostConfig({ Privileged: true, SecurityOpt: ['no-new-privileges'] }, {}).SecurityOpt, ['no-new-privileges', 'label=disable']);
  assert.deepEqual(recordedHostConfig({ SecurityOpt: [] }, { PidMode: 'host' }).SecurityOpt, ['label=disable']);
  assert.deepEqual(recordedHostConfig({ IpcMode: 'host', SecurityOpt: ['label=disable'] }, { IpcMode: 'host' }).SecurityOpt, ['label=disable']);
  assert.deepEqual(recordedHostConfig({ Privileged: true, MaskedPaths: ['/proc/kcore'] }, {}).MaskedPaths, ['/proc/kcore']);
});

test('the start applies the recorded system paths; older records\' [] meant the defaults', () => {
  assert.deepEqual(systemPaths({ MaskedPaths: ['/a'], ReadonlyPaths: [] }, true), { maskedPaths: ['/a'], readonlyPaths: [] });
  assert.deepEqual(systemPaths({ MaskedPaths: [], ReadonlyPaths: [] }, false), { maskedPaths: DEFAULT_MASKED_PATHS, readonlyPaths: DEFAULT_READONLY_PATHS });
  assert.deepEqual(systemPaths({ Privileged: true, MaskedPaths: ['/a'] }, true), {});
});

test('"default" is the daemon\'s default network where it is used', () => {
  assert.equal(effectiveNetworkMode('default', () => 'bridge'), 'bridge');
  assert.equal(effectiveNetworkMode('', () => 'none'), 'none');
  assert.equal(effectiveNetworkMode('bridge', () => 'none'), 'bridge');
  assert.equal(effectiveNetworkMode('container:abc', () => 'bridge'), 'container:abc');
});

test('HostConfig fields at the top level of a create body are its HostConfig when it has none (moby embeds one)', async () => {
  const { liftEmbeddedHostConfig } = await import('../../../../src/api/decode/containers.ts');
  // docker-py's create_container(runtime='runc'): HostConfig null, Runtime beside Image.
  assert.deepEqual(liftEmbeddedHostConfig({ Image: 'busybox', Runtime: 'runc', HostConfig: null }), { Image: 'busybox', HostConfig: { Runtime: 'runc' } });
  // Go matches keys case-insensitively.
  assert.deepEqual(liftEmbeddedHostConfig({ Image: 'b', binds: ['/a:/b'] }), { Image: 'b', HostConfig: { Binds: ['/a:/b'] } });
  // A body with its own HostConfig ignores the top-level ones (the wrapper's field dominates).
  const own = { Image: 'b', Runtime: 'x', HostConfig: { Memory: 1 } };
  assert.equal(liftEmbeddedHostConfig(own), own);
  // Nothing to lift: the body is left as it is.
  const plain = { Image: 'b', Cmd: ['true'] };
  assert.equal(liftEmbeddedHostConfig(plain), plain);
  assert.equal(liftEmbeddedHostConfig(null), null);
});
