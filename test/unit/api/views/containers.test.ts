// Response shapes that depend on the API version (moby 27's router as the reference).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspectFor, JOINED } from '../../../../src/api/views/containers.ts';

test('before 1.44 inspect names the short ID among the aliases of a joined user network', () => {
  const id = 'a'.repeat(64);
  const view = (): { Id: string; NetworkSettings: { Networks: Record<string, Record<string | symbol, unknown>> } } => ({ Id: id, NetworkSettings: { Networks: {
    net: { NetworkID: 'n', Aliases: null, DNSNames: ['x'], [JOINED]: true },
    fresh: { NetworkID: '', Aliases: ['a'] }, // created on it, never started: not joined yet
    bridge: { NetworkID: 'b', Aliases: null, [JOINED]: true },
  } } });
  const out = inspectFor(view(), '1.43') as ReturnType<typeof view>;
  assert.deepEqual(out.NetworkSettings.Networks.net!.Aliases, [id.slice(0, 12)]);
  assert.equal('DNSNames' in out.NetworkSettings.Networks.net!, false);
  assert.deepEqual(out.NetworkSettings.Networks.fresh!.Aliases, ['a']);
  assert.equal(out.NetworkSettings.Networks.bridge!.Aliases, null);
  assert.deepEqual(JSON.parse(JSON.stringify(inspectFor(view(), '1.44'))), JSON.parse(JSON.stringify(view())));
});
