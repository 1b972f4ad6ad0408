// The differential conformance suite: every scenario in test/conformance/scenarios runs against a
// private dockerd (Debian's docker.io, the judge) and a private berthd, and every step's answer
// must be equal after normalisation, or accepted by an entry of ALLOWED.json (which says why).
// The summary line counts the compared, equal and allowlisted steps.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeDifferences, runConformance } from './harness/conformance.ts';
import { haveDockerd } from './harness/daemons.ts';

const only = process.env.SCENARIO ? process.env.SCENARIO.split(',') : [];

describe('conformance: berthd answers as dockerd does', () => {
  it('every scenario step is equal or allowlisted', { timeout: 20 * 60_000 }, async (t) => {
    assert.ok(haveDockerd(), 'dockerd is not installed: scripts/install.sh installs Debian docker.io');
    const report = await runConformance({ only, log: (s) => t.diagnostic(s) });
    process.stdout.write(`${report.summary}\n`);
    const text = describeDifferences(report);
    if (text) process.stdout.write(`${text}\n`);
    assert.deepEqual(report.errors, [], 'every scenario runs to its end on both daemons');
    assert.equal(report.different, 0, `${report.different} steps differ (above)`);
    assert.deepEqual(report.stale, [], 'allowlist entries that matched nothing');
    if (!only.length) assert.ok(report.compared >= 500, `at least 500 compared steps (${report.compared})`);
  });
});
