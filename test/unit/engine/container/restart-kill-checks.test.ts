// Restart-policy and kill-signal checks with dockerd 20.10's texts (each case seen against
// Debian's dockerd 20.10 through the restart-wait conformance scenario).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateRestartPolicy, isNoRestart } from '../../../../src/engine/container/restart-policy.ts';
import { parseKillSignal, checkKillSignal } from '../../../../src/engine/container/signals.ts';

test('restart policies: valid ones pass, each invalid one gets moby runconfig\'s text', () => {
  for (const p of [{ Name: '', MaximumRetryCount: 0 }, { Name: 'no', MaximumRetryCount: 0 }, { Name: 'always', MaximumRetryCount: 0 },
    { Name: 'unless-stopped', MaximumRetryCount: 0 }, { Name: 'on-failure', MaximumRetryCount: 0 }, { Name: 'on-failure', MaximumRetryCount: 5 }]) {
    assert.doesNotThrow(() => validateRestartPolicy(p), p.Name);
  }
  assert.throws(() => validateRestartPolicy({ Name: 'on-failure', MaximumRetryCount: -1 }), { message: 'maximum retry count cannot be negative' });
  assert.throws(() => validateRestartPolicy({ Name: 'always', MaximumRetryCount: 3 }), { message: "maximum retry count cannot be used with restart policy 'always'" });
  assert.throws(() => validateRestartPolicy({ Name: 'no', MaximumRetryCount: 1 }), { message: "maximum retry count cannot be used with restart policy 'no'" });
  assert.throws(() => validateRestartPolicy({ Name: 'bogus', MaximumRetryCount: 0 }), { message: "invalid restart policy 'bogus'" });
  assert.equal(isNoRestart({ Name: '', MaximumRetryCount: 0 }), true);
  assert.equal(isNoRestart({ Name: 'always', MaximumRetryCount: 0 }), false);
});

test('kill signals: names with or without SIG in any case, numbers, and dockerd\'s refusals', () => {
  assert.equal(parseKillSignal(undefined), 9);
  assert.equal(parseKillSignal('term'), 15);
  assert.equal(parseKillSignal('SIGHUP'), 1);
  assert.equal(parseKillSignal('10'), 10);
  assert.equal(parseKillSignal('RTMIN+2'), 36);
  assert.throws(() => parseKillSignal('0'), { message: 'Invalid signal: 0' });
  assert.throws(() => parseKillSignal('NOSUCH'), { message: 'Invalid signal: NOSUCH' });
  assert.doesNotThrow(() => checkKillSignal('c', 64));
  assert.throws(() => checkKillSignal('c', parseKillSignal('99')), { message: 'Cannot kill container: c: The linux daemon does not support signal 99' });
  assert.throws(() => checkKillSignal('c', parseKillSignal('-1')), { message: 'Cannot kill container: c: The linux daemon does not support signal 18446744073709551615' });
  assert.throws(() => checkKillSignal('c', 32), /does not support signal 32/);
});
