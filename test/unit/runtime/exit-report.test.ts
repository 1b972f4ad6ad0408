// Exit reports (issue 16, finding 8): an exit file that holds no exit code is not a clean exit,
// and a report for a container whose init process still runs is not believed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { parseExitFile } from '../../../src/runtime/conmon.ts';
import { initStillRuns } from '../../../src/runtime/exit-check.ts';

describe('parseExitFile (conmon exit files)', () => {
  it('reads conmon\'s codes, -1 as 255', () => {
    assert.equal(parseExitFile('0'), 0);
    assert.equal(parseExitFile('137\n'), 137);
    assert.equal(parseExitFile('-1'), 255);
  });
  it('an empty, blank or cut file is no exit code (Number() would make it a clean 0)', () => {
    for (const t of ['', ' ', '\n', 'x', '1.5', '0x10', '12a', '99999999999']) assert.equal(parseExitFile(t), undefined, JSON.stringify(t));
  });
});

describe('initStillRuns', () => {
  const never = async (): Promise<never> => { throw new Error('the runtime must not be asked'); };
  it('a PID that is gone: false, without asking the runtime', async () => {
    const child = spawn('true');
    await new Promise((r) => child.once('exit', r));
    assert.equal(await initStillRuns(child.pid!, never), false);
    assert.equal(await initStillRuns(0, never), false);
  });
  it('a live PID: the runtime decides (same PID running → true; stopped, unknown or another PID → false)', async () => {
    const pid = process.pid;
    assert.equal(await initStillRuns(pid, async () => ({ status: 'running', pid })), true);
    assert.equal(await initStillRuns(pid, async () => ({ status: 'paused', pid })), true);
    assert.equal(await initStillRuns(pid, async () => ({ status: 'stopped', pid: 0 })), false);
    assert.equal(await initStillRuns(pid, async () => undefined), false);
    assert.equal(await initStillRuns(pid, async () => ({ status: 'running', pid: pid + 1 })), false);
    assert.equal(await initStillRuns(pid, async () => { throw new Error('runc failed'); }), false);
  });
});
