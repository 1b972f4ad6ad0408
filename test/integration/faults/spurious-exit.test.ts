// No container exits unless it was stopped, killed or removed, or its own process ended (issue 16,
// finding 8: once, under load, containers running `sleep 600` were seen exited with code 0 after
// about 20 s, with no stop issued).
//
// Long-running containers ("sleepers") of several kinds — plain, with a health check every
// second, with restart policy `always`, with a small rotating json-file log they keep writing,
// and one whose name is a prefix of the load's names — run while clients start and auto-remove
// short `run --rm` containers, `run -d` + `rm -f` containers named after the sleepers, and stop
// and kill others, pause, commit and cp out of sleepers; berthd is restarted (SIGTERM, live
// restore) in the middle. Every second each sleeper must still run (or be paused) with the PID it
// started with, and afterwards the event log must hold no `die` for any sleeper. Bounded: the
// load stops after LOAD_MS whatever it reached.
//
// A second test puts the symptom itself in front of berthd: exit files that say 0 (and an empty
// one) for running containers, as a previous run's file seen late or a stray writer would leave.
// Before the fix berthd recorded `Exited (0)` and its cleanup killed the running process.
//
// SPURIOUS_SCALE=<n> multiplies the load (a longer hunt by hand); the default keeps the file under 35 s.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TestDaemon, makeBusybox, sleep, until } from '../../helpers/daemon.ts';

const SCALE = Math.max(1, Number(process.env.SPURIOUS_SCALE ?? 1));
const LOAD_MS = 15_000 * SCALE;
const SHORT_RUNS = 60 * SCALE;
const CLIENTS = 10;

interface Sleeper { name: string; args: string[]; id?: string; pid?: number }

describe('no container exits without a cause, under load and across a berthd restart', () => {
  const d = new TestDaemon();
  const P = `se${process.pid.toString(36)}`;
  const sleepers: Sleeper[] = [];
  for (let i = 0; i < 8; i++) sleepers.push({ name: `${P}-plain${i}`, args: ['busybox', 'sleep', '600'] });
  for (let i = 0; i < 4; i++) sleepers.push({ name: `${P}-health${i}`, args: ['--health-cmd', 'true', '--health-interval', '1s', '--health-timeout', '2s', 'busybox', 'sleep', '600'] });
  for (let i = 0; i < 4; i++) sleepers.push({ name: `${P}-always${i}`, args: ['--restart', 'always', 'busybox', 'sleep', '600'] });
  for (let i = 0; i < 3; i++) {
    sleepers.push({ name: `${P}-chatty${i}`, args: ['--log-opt', 'max-size=1k', '--log-opt', 'max-file=2', 'busybox', 'sh', '-c', 'while :; do echo tick; usleep 20000; done'] });
  }
  // `docker stop ${P}-x` below must never reach this one, whose name is a prefix of those.
  sleepers.push({ name: `${P}-x`, args: ['busybox', 'sleep', '600'] });

  before(async () => {
    await d.start();
    await makeBusybox(d);
  });
  after(async () => { await d.cleanup(); });

  it('every sleeper keeps running with its first PID, and the event log shows no die for any', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    for (const s of sleepers) {
      const r = await d.docker(['run', '-d', '--name', s.name, ...s.args]);
      assert.equal(r.code, 0, `run ${s.name}: ${r.stderr}`);
      s.id = r.stdout.trim();
    }
    for (const s of sleepers) {
      const st = (await d.api('GET', `/containers/${s.id}/json`)).json() as { State: { Pid: number; Running: boolean } };
      assert.equal(st.State.Running, true, `${s.name} runs`);
      s.pid = st.State.Pid;
    }

    const problems: string[] = [];
    const deadline = Date.now() + LOAD_MS;
    let restarting = false;
    let shortDone = 0;
    let stopLoad = false;

    // The watcher: every second, every sleeper runs with the PID it started with.
    const watcher = (async () => {
      while (!stopLoad && Date.now() < deadline + 5000) {
        await sleep(1000);
        if (restarting) continue;
        const r = await d.api('GET', '/containers/json?all=1').catch(() => undefined);
        if (!r || r.status !== 200) continue;
        const byId = new Map((r.json() as { Id: string; State: string; Status: string }[]).map((c) => [c.Id, c]));
        for (const s of sleepers) {
          const c = byId.get(s.id!);
          if (!c) problems.push(`${s.name} is gone (${new Date().toISOString()})`);
          else if (c.State !== 'running' && c.State !== 'paused') problems.push(`${s.name} is ${c.State}: ${c.Status} (${new Date().toISOString()})`);
        }
        if (problems.length) return;
      }
    })();

    // Short containers through the CLI's run --rm path (attach, wait, auto-remove), in parallel.
    const client = async (k: number): Promise<void> => {
      // (i moves on only when a step ran: none is skipped while berthd restarts)
      for (let i = k; i < SHORT_RUNS && Date.now() < deadline && !problems.length;) {
        if (restarting) { await sleep(200); continue; }
        switch (i % 8) {
          case 0: case 1: case 2:
            await d.docker(['run', '--rm', 'busybox', 'true'], { timeoutMs: 20_000 });
            break;
          case 5: {
            // A sleeper frozen and thawed (pause is not a stop: its sleep must go on).
            const s = sleepers[i % sleepers.length]!;
            if ((await d.docker(['pause', s.id!], { timeoutMs: 20_000 })).code === 0) {
              await sleep(100);
              for (const end = Date.now() + 20_000; Date.now() < end;) {
                if ((await d.docker(['unpause', s.id!], { timeoutMs: 20_000 })).code === 0) break;
                await sleep(200);
              }
            }
            break;
          }
          case 6: {
            // commit pauses the container while it reads its files; cp out may freeze it too.
            const s = sleepers[i % sleepers.length]!;
            await d.docker(['commit', s.id!, `${P}-img${i}`], { timeoutMs: 20_000 });
            await d.docker(['rmi', `${P}-img${i}`], { timeoutMs: 20_000 });
            break;
          }
          case 7:
            await d.docker(['cp', `${sleepers[i % sleepers.length]!.id!}:/etc/hostname`, '-'], { timeoutMs: 20_000 });
            break;
          case 3: {
            // A container whose name starts with a sleeper's name: stopped, then removed by name.
            const name = `${P}-x${i}`;
            await d.docker(['run', '-d', '--name', name, 'busybox', 'sleep', '30'], { timeoutMs: 20_000 });
            await d.docker(['stop', '-t', '0', name], { timeoutMs: 20_000 });
            await d.docker(['rm', '-f', name], { timeoutMs: 20_000 });
            break;
          }
          default: {
            // Killed and force-removed while running.
            const r = await d.docker(['run', '-d', 'busybox', 'sleep', '30'], { timeoutMs: 20_000 });
            const id = r.stdout.trim();
            if (id) { await d.docker(['kill', id], { timeoutMs: 20_000 }); await d.docker(['rm', '-f', id], { timeoutMs: 20_000 }); }
          }
        }
        shortDone++;
        i += CLIENTS;
      }
    };
    const restart = (async () => {
      // Halfway through the short runs (or the time), berthd restarts; containers live on.
      while (shortDone < SHORT_RUNS / 2 && Date.now() < deadline - LOAD_MS / 2) await sleep(100);
      restarting = true;
      await sleep(300); // let in-flight CLI calls reach the daemon
      await d.stop();
      await d.start();
      restarting = false;
    })();
    const t0 = Date.now();
    await Promise.all([...Array.from({ length: CLIENTS }, (_, k) => client(k)), restart]);
    if (process.env.SPURIOUS_DEBUG) console.log(`load: ${shortDone} steps in ${Date.now() - t0} ms`);
    // A few more seconds of watching after the load: an exit the load caused late still shows.
    await sleep(3000);
    stopLoad = true;
    await watcher;

    for (const s of sleepers) {
      const r = await d.api('GET', `/containers/${s.id}/json`);
      if (r.status !== 200) { problems.push(`${s.name}: inspect ${r.status}`); continue; }
      const st = (r.json() as { State: { Pid: number; Running: boolean; ExitCode: number; FinishedAt: string }; RestartCount: number });
      if (!st.State.Running) problems.push(`${s.name} not running: exit ${st.State.ExitCode} at ${st.State.FinishedAt}`);
      else if (st.State.Pid !== s.pid) problems.push(`${s.name} runs another process (pid ${s.pid} → ${st.State.Pid}, restarts ${st.RestartCount})`);
    }
    const until = Math.floor(Date.now() / 1000) + 1;
    const ev = await d.api('GET', `/events?since=${since}&until=${until}&filters=${encodeURIComponent(JSON.stringify({ type: ['container'], event: ['die'] }))}`);
    const ids = new Set(sleepers.map((s) => s.id));
    for (const line of ev.body.toString().split('\n').filter(Boolean)) {
      const e = JSON.parse(line) as { id: string; Actor: { Attributes: Record<string, string> }; time: number };
      if (ids.has(e.id)) problems.push(`die event for ${e.Actor.Attributes.name} (exit ${e.Actor.Attributes.exitCode}) at ${new Date(e.time * 1000).toISOString()}`);
    }
    assert.ok(shortDone >= SHORT_RUNS / 4, `the load ran (${shortDone} of ${SHORT_RUNS} short containers)`);
    assert.deepEqual(problems, [], `sleepers exited without a cause:\n${problems.join('\n')}\n${d.logTail(20)}`);
  });

  it('an exit file for a container whose process still runs is not its exit', async () => {
    const exits = join(d.execRoot, 'runtime', 'exits');
    const forged: { name: string; id: string; pid: number; text: string }[] = [];
    for (const [i, text] of ['0', '', '0\n'].entries()) {
      const name = `${P}-forged${i}`;
      const r = await d.docker(['run', '-d', '--name', name, 'busybox', 'sleep', '600']);
      assert.equal(r.code, 0, r.stderr);
      const id = r.stdout.trim();
      const pid = Number((await d.docker(['inspect', '-f', '{{.State.Pid}}', id])).stdout.trim());
      forged.push({ name, id, pid, text });
    }
    const since = Math.floor(Date.now() / 1000) - 1;
    try {
      for (const f of forged) {
        // Renamed into place whole, as conmon writes its exit files.
        const tmp = join(exits, `.forged-${f.id.slice(0, 12)}`);
        await writeFile(tmp, f.text);
        await rename(tmp, join(exits, f.id));
      }
      await sleep(1500);
      for (const f of forged) {
        const st = (await d.api('GET', `/containers/${f.id}/json`)).json() as { State: { Running: boolean; Pid: number; Status: string; ExitCode: number } };
        assert.equal(st.State.Status, 'running', `${f.name} after an exit file ${JSON.stringify(f.text)}: ${st.State.Status} (${st.State.ExitCode})`);
        assert.equal(st.State.Pid, f.pid);
        assert.ok((await d.docker(['exec', f.id, 'true'])).code === 0, `${f.name}'s process still answers`);
      }
      const ev = await d.api('GET', `/events?since=${since}&until=${Math.floor(Date.now() / 1000) + 1}&filters=${encodeURIComponent(JSON.stringify({ type: ['container'], event: ['die'] }))}`);
      assert.equal(ev.body.toString(), '', 'no die event');
      // The real exit still counts: conmon's file replaces the forged one.
      assert.equal((await d.docker(['kill', forged[0]!.id])).code, 0);
      await until(async () => (await d.docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', forged[0]!.id])).stdout === 'exited 137\n', 10_000, 'the killed container exited 137');
    } finally {
      for (const f of forged) await rm(join(exits, f.id), { force: true });
    }
  });
});
