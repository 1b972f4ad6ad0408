// Load (issue 8): 200 containers started concurrently through the API (16 at a time from the
// client side; 20 of them on the default bridge, the rest with no network), then `docker ps`,
// `docker stats --no-stream` (all containers, and named ones) and `docker events --since/--until`
// must still answer in bounded time; berthd's RSS and conmon's are measured per running
// container; everything is removed again (16 at a time) and nothing is left.
//
// LOAD_CONTAINERS=<n> changes the count (default 200).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon, makeBusybox, sleep } from '../../helpers/daemon.ts';
import { census, leftovers, pool, rssKiB, pssKiB } from '../../helpers/faults.ts';

const N = Number(process.env.LOAD_CONTAINERS ?? 200);
const ON_BRIDGE = Math.min(20, N);
const CONCURRENCY = 16;

describe(`${N} containers at once`, () => {
  const d = new TestDaemon();
  const names = Array.from({ length: N }, (_v, i) => `load${i}`);
  let t0 = 0;
  let rssBefore = 0;

  before(async () => {
    await d.start();
    await makeBusybox(d);
    // A warm daemon (one container started and removed) is the baseline, not a cold one.
    await d.docker(['run', '--rm', 'busybox', 'true']);
    await sleep(500);
    rssBefore = await rssKiB(d.pid!);
  });
  after(async () => { await d.cleanup(); });

  it(`creates and starts ${N} containers, ${CONCURRENCY} at a time`, { timeout: 180_000 }, async (t) => {
    t0 = Math.floor(Date.now() / 1000);
    const start = Date.now();
    const failures: string[] = [];
    await pool(CONCURRENCY, N, async (i) => {
      const cr = await d.api('POST', `/containers/create?name=${names[i]}`, {
        Image: 'busybox', Cmd: ['sleep', '600'], HostConfig: { NetworkMode: i < ON_BRIDGE ? 'bridge' : 'none' },
      });
      if (cr.status !== 201) { failures.push(`create ${names[i]}: ${cr.status} ${cr.body}`); return; }
      const st = await d.api('POST', `/containers/${names[i]}/start`);
      if (st.status !== 204) failures.push(`start ${names[i]}: ${st.status} ${st.body}`);
    });
    const secs = (Date.now() - start) / 1000;
    t.diagnostic(`${N} created and started in ${secs.toFixed(1)} s (${(N / secs).toFixed(1)}/s)`);
    assert.deepEqual(failures, []);
  });

  it('docker ps lists them all', { timeout: 60_000 }, async (t) => {
    const s = Date.now();
    const r = await d.docker(['ps', '-q'], { timeoutMs: 30_000 });
    t.diagnostic(`docker ps -q: ${Date.now() - s} ms`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split('\n').filter(Boolean).length, N);
  });

  it('berthd and conmon memory per running container', { timeout: 30_000 }, async (t) => {
    await sleep(1000);
    const rssAfter = await rssKiB(d.pid!);
    const c = await census(d);
    const conmons = c.conmons.filter((x) => !x.exec);
    assert.equal(conmons.length, N, 'one conmon per running container');
    let conmonKiB = 0;
    let conmonPss = 0;
    for (const x of conmons) { conmonKiB += await rssKiB(x.pid); conmonPss += await pssKiB(x.pid); }
    const perContainer = (rssAfter - rssBefore) / N;
    t.diagnostic(`berthd RSS ${(rssBefore / 1024).toFixed(1)} MiB idle → ${(rssAfter / 1024).toFixed(1)} MiB with ${N} running: ` +
      `${perContainer.toFixed(0)} KiB per container; conmon RSS ${(conmonKiB / N).toFixed(0)} KiB each (${(conmonKiB / 1024).toFixed(1)} MiB total), ` +
      `PSS ${(conmonPss / N).toFixed(0)} KiB each`);
    console.log(`load: berthd ${perContainer.toFixed(0)} KiB/container, conmon RSS ${(conmonKiB / N).toFixed(0)} KiB / PSS ${(conmonPss / N).toFixed(0)} KiB per container`);
    // A generous bound: berthd should not keep megabytes per container.
    assert.ok(perContainer < 1024, `berthd grows ${perContainer.toFixed(0)} KiB per container`);
  });

  it('docker stats --no-stream answers, for all containers and for named ones', { timeout: 150_000 }, async (t) => {
    let s = Date.now();
    const all = await d.docker(['stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}}'], { timeoutMs: 60_000 });
    const allMs = Date.now() - s;
    assert.equal(all.code, 0, all.stderr);
    const lines = all.stdout.split('\n').filter(Boolean);
    assert.equal(lines.length, N, all.stdout.slice(0, 500));
    assert.ok(lines.every((l) => !/ 0B \/ 0B$/.test(l)), `containers without memory figures: ${lines.filter((l) => / 0B \/ 0B$/.test(l)).slice(0, 5).join(', ')}`);
    s = Date.now();
    const named = await d.docker(['stats', '--no-stream', '--format', '{{.Name}} {{.CPUPerc}}', ...names], { timeoutMs: 60_000 });
    const namedMs = Date.now() - s;
    assert.equal(named.code, 0, named.stderr);
    assert.equal(named.stdout.split('\n').filter(Boolean).length, N);
    t.diagnostic(`docker stats --no-stream: ${allMs} ms for all ${N}; ${namedMs} ms with ${N} names`);
  });

  it('docker events --since/--until returns the creates and starts', { timeout: 60_000 }, async (t) => {
    const s = Date.now();
    const r = await d.docker(['events', '--since', String(t0), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'type=container', '--format', '{{.Action}} {{.Actor.Attributes.name}}'], { timeoutMs: 30_000 });
    t.diagnostic(`docker events: ${Date.now() - s} ms`);
    assert.equal(r.code, 0, r.stderr);
    // Only this test's containers (the warm-up run may fall in the same second as t0).
    const actions = r.stdout.split('\n').filter((l) => / load\d+$/.test(l)).map((l) => l.split(' ')[0]);
    assert.equal(actions.filter((a) => a === 'create').length, N);
    assert.equal(actions.filter((a) => a === 'start').length, N);
  });

  it(`removes all ${N}, ${CONCURRENCY} at a time, and leaves nothing`, { timeout: 180_000 }, async (t) => {
    const s = Date.now();
    const failures: string[] = [];
    await pool(CONCURRENCY, N, async (i) => {
      const r = await d.api('DELETE', `/containers/${names[i]}?force=1`);
      if (r.status !== 204) failures.push(`rm ${names[i]}: ${r.status} ${r.body}`);
    });
    t.diagnostic(`${N} removed in ${((Date.now() - s) / 1000).toFixed(1)} s`);
    assert.deepEqual(failures, []);
    assert.deepEqual((await d.api('GET', '/containers/json?all=1')).json(), []);
    // rm's teardown (runc delete, unmounts) runs in the background after the reply: let it land.
    const clean = async (): Promise<boolean> => { const x = await census(d); return !x.conmons.length && !x.mounts.length && !x.cgroups.length; };
    for (let i = 0; i < 100 && !(await clean()); i++) await sleep(100);
    const c = await census(d);
    assert.deepEqual({ conmons: c.conmons, mounts: c.mounts, cgroups: c.cgroups }, { conmons: [], mounts: [], cgroups: [] });
    await d.cleanup();
    assert.deepEqual(await leftovers(d), []);
  });
});
