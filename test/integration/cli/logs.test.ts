// Container logs through the real Docker CLI: rotation (per container and by default), reading
// across rotated and compressed files, follow across a rotation, the none driver, and
// dockerd's answers to bad log options.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { TestDaemon, makeBusybox, until, sleep, DOCKER } from '../../helpers/daemon.ts';

/** awk printing lines `line 000001 xxx…` (100 bytes with the newline) from `from` to `to`. */
const lines = (from: number, to: number): string =>
  `awk 'BEGIN { p = sprintf("%88s", ""); gsub(/ /, "x", p); for (i = ${from}; i <= ${to}; i++) printf "line %06d %s\\n", i, p }'`;

function logFiles(logPath: string): { name: string; size: number }[] {
  const dir = dirname(logPath);
  return readdirSync(dir).filter((n) => /^container\.log(\.\d+(\.gz)?)?$/.test(n)).sort()
    .map((name) => ({ name, size: statSync(join(dir, name)).size }));
}

/** The numbers of `line N` lines, checked to be consecutive. */
function consecutive(out: string): { first: number; last: number; count: number } {
  const lines = out.split('\n').filter(Boolean);
  // The oldest line kept may be the end of a line conmon split in two (P then F entries) whose
  // start went with a rotated file.
  if (lines.length > 1 && !/^line \d+ x+$/.test(lines[0]!)) lines.shift();
  const ns = lines.map((l) => Number(/^line (\d+) x+$/.exec(l)?.[1] ?? NaN));
  for (let i = 1; i < ns.length; i++) assert.equal(ns[i], ns[i - 1]! + 1, `line after ${ns[i - 1]} is ${ns[i]}`);
  return { first: ns[0]!, last: ns[ns.length - 1]!, count: ns.length };
}

describe('container logs against berthd', () => {
  const d = new TestDaemon();
  before(async () => {
    await d.start();
    await makeBusybox(d);
  });
  after(async () => { await d.cleanup(); });

  const inspect = async (name: string, fmt: string): Promise<string> => (await d.docker(['inspect', '-f', fmt, name])).stdout.trim();

  it('--log-opt max-size=1m --log-opt max-file=3 caps the files; docker logs shows the newest lines, --tail reads across files', async () => {
    // 60 000 lines of 100 bytes: ~8.7 MB of log lines (conmon adds ~45 bytes of timestamp and stream).
    const r = await d.docker(['run', '--name', 'rot', '--log-opt', 'max-size=1m', '--log-opt', 'max-file=3', 'busybox', 'sh', '-c', lines(1, 60_000)], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await inspect('rot', '{{json .HostConfig.LogConfig}}'), '{"Type":"json-file","Config":{"max-file":"3","max-size":"1m"}}');
    const logPath = await inspect('rot', '{{.LogPath}}');
    // The rotator's last look happens at the exit; give it a moment.
    await until(async () => logFiles(logPath).length === 3, 5000, 'three log files');
    const files = logFiles(logPath);
    assert.deepEqual(files.map((f) => f.name), ['container.log', 'container.log.1', 'container.log.2']);
    // berthd cuts once a file reaches max-size (log-rotation.ts): a rotated file holds at least
    // max-size, and passes it by what the writer wrote during the cut (milliseconds' worth).
    for (const f of files) assert.ok(f.size <= 4_000_000, `${f.name} is ${f.size} bytes`);
    for (const f of files.slice(1)) assert.ok(f.size >= 1_000_000 - 200, `${f.name} is ${f.size} bytes`);
    const total = files.reduce((a, f) => a + f.size, 0);
    assert.ok(total <= 12_000_000 && total > 2_000_000, `total ${total}`);
    const all = await d.docker(['logs', 'rot'], { timeoutMs: 30_000 });
    const seen = consecutive(all.stdout);
    assert.equal(seen.last, 60_000);
    // What the three files hold, at 145 bytes a line: at least two full files' worth.
    assert.ok(seen.count >= 2_000_000 / 145 && seen.count <= total / 145 + 1, `${seen.count} lines kept`);
    // --tail across all three files, and within the newest.
    const tail = await d.docker(['logs', '--tail', String(seen.count - 100), 'rot']);
    assert.deepEqual(consecutive(tail.stdout), { first: seen.first + 100, last: 60_000, count: seen.count - 100 });
    assert.equal((await d.docker(['logs', '--tail', '2', 'rot'])).stdout, all.stdout.split('\n').slice(-3).join('\n'));
    await d.docker(['rm', 'rot']);
  });

  it('compress=true gzips the rotated files; logs and --tail read through them', async () => {
    const r = await d.docker(['run', '--name', 'gz', '--log-opt', 'max-size=1m', '--log-opt', 'max-file=4', '--log-opt', 'compress=true', 'busybox', 'sh', '-c', lines(1, 40_000)], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    const logPath = await inspect('gz', '{{.LogPath}}');
    await until(async () => logFiles(logPath).filter((f) => f.name.endsWith('.gz')).length === 3, 10_000, 'three .gz files');
    assert.deepEqual(logFiles(logPath).map((f) => f.name), ['container.log', 'container.log.1.gz', 'container.log.2.gz', 'container.log.3.gz']);
    const seen = consecutive((await d.docker(['logs', 'gz'])).stdout);
    assert.equal(seen.last, 40_000);
    assert.ok(seen.count > 3 * 6800, `${seen.count} lines`);
    assert.deepEqual(consecutive((await d.docker(['logs', '--tail', String(seen.count - 10), 'gz'])).stdout), { first: seen.first + 10, last: 40_000, count: seen.count - 10 });
    await d.docker(['rm', 'gz']);
  });

  it('rotation is on by default (json-file: 10 MB × 5), and a restart begins a new file', async () => {
    // ~17 MB of log lines: past one 10 MB file.
    const r = await d.docker(['run', '--name', 'dflt', 'busybox', 'sh', '-c', lines(1, 120_000)], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await inspect('dflt', '{{json .HostConfig.LogConfig}}'), '{"Type":"json-file","Config":{}}');
    const logPath = await inspect('dflt', '{{.LogPath}}');
    await until(async () => logFiles(logPath).length === 2, 5000, 'a rotated file');
    // Cut by berthd at max-size: at least that much, and a little more (the writer's output during the cut).
    for (const f of logFiles(logPath)) assert.ok(f.size <= 14_000_000, `${f.name} is ${f.size} bytes`);
    assert.ok(logFiles(logPath)[1]!.size >= 10_000_000 - 200, JSON.stringify(logFiles(logPath)));
    assert.deepEqual(consecutive((await d.docker(['logs', 'dflt'], { timeoutMs: 30_000 })).stdout), { first: 1, last: 120_000, count: 120_000 });
    await d.docker(['rm', 'dflt']);
  });

  it('logs -f follows across rotations and sees every line written after it started', async () => {
    // A shell loop (~3 MB/s): a cut every ~0.3 s, five in all. berthd makes each cut only once
    // it has kept the previous file (log-rotation.ts), so a loaded machine delays cuts (files
    // pass 1 MB a little) and never loses one; before, conmon cut alone and a watcher late by
    // two cuts lost a whole file.
    await d.docker(['run', '-d', '--name', 'fol', '--log-opt', 'max-size=1m', '--log-opt', 'max-file=3', 'busybox', 'sh', '-c',
      'sleep 1; i=1; while [ $i -le 80000 ]; do printf "line %06d xxxxxxxx\\n" $i; i=$((i+1)); done'], { timeoutMs: 10_000 });
    const t0 = Date.now();
    const f = await d.docker(['logs', '-f', 'fol'], { timeoutMs: 60_000 });
    assert.equal(f.code, 0, f.stderr);
    const seen = consecutive(f.stdout.replace(/ x+\n/g, ' xxxxxxxx\n'));
    assert.deepEqual(seen, { first: 1, last: 80_000, count: 80_000 });
    assert.ok(Date.now() - t0 < 60_000);
    const logPath = await inspect('fol', '{{.LogPath}}');
    assert.ok(logFiles(logPath).length <= 3, JSON.stringify(logFiles(logPath)));
    await d.docker(['rm', 'fol']);
  });

  it('idle logs -f followers cost berthd ~no CPU, and a new line still reaches them at once', { timeout: 40_000 }, async () => {
    // The follow loop once polled every 50 ms and, after 30 idle looks, at 0–1 ms ('2 << idle'
    // wrapped); now it sleeps on an fs.watch of the log's directory, looking every 250 ms at most.
    await d.docker(['run', '-d', '--name', 'idlef', 'busybox', 'sh', '-c', 'echo first; sleep 9; echo second; sleep 600']);
    const pid = Number(readFileSync(`${d.execRoot}/berthd.pid`, 'utf8').trim());
    const ticks = (): number => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return Number(f[11]) + Number(f[12]); };
    const followers: ChildProcess[] = [];
    const outs: string[] = [];
    try {
      for (let i = 0; i < 30; i++) {
        const c = spawn(DOCKER, ['logs', '-f', 'idlef'], { env: d.env, stdio: ['ignore', 'pipe', 'ignore'] });
        outs.push('');
        c.stdout!.on('data', (b: Buffer) => { outs[i] += b.toString(); });
        followers.push(c);
      }
      await until(async () => outs.every((o) => o === 'first\n'), 10_000, 'every follower to print the first line');
      // Past the old wrap at 30 idle looks (~1.3 s), then 3 s measured: 30 followers cost ~1–3% now, 7% with the
      // 50 ms polls (and bursts).
      await sleep(2000);
      const t0 = ticks();
      const w0 = Date.now();
      await sleep(3000);
      const share = (ticks() - t0) * 10 / (Date.now() - w0); // ticks of 10 ms
      assert.ok(share < 0.05, `berthd used ${(share * 100).toFixed(1)}% of a CPU with 30 idle followers`);
      await until(async () => outs.every((o) => o === 'first\nsecond\n'), 10_000, 'every follower to print the second line');
    } finally {
      for (const c of followers) c.kill('SIGKILL');
      await d.docker(['rm', '-f', 'idlef']);
    }
  });

  it('--log-driver none: no file, and docker logs says the driver cannot be read', async () => {
    const r = await d.docker(['run', '--name', 'quiet', '--log-driver', 'none', 'busybox', 'echo', 'hello']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello\n', 'attached output still flows');
    assert.equal(await inspect('quiet', '{{.HostConfig.LogConfig.Type}} [{{.LogPath}}]'), 'none []');
    const l = await d.docker(['logs', 'quiet']);
    assert.notEqual(l.code, 0);
    assert.match(l.stderr, /configured logging driver does not support reading/);
    const dir = join(d.dataRoot, 'containers', await inspect('quiet', '{{.Id}}'));
    assert.ok(!readdirSync(dir).some((n) => n.startsWith('container.log')));
    await d.docker(['rm', 'quiet']);
  });

  it('local and json-file are accepted; bad drivers and options are a 400 at create, as in dockerd', async () => {
    const local = await d.docker(['run', '--name', 'loc', '--log-driver', 'local', 'busybox', 'echo', 'hi']);
    assert.equal(local.code, 0, local.stderr);
    assert.equal((await d.docker(['logs', 'loc'])).stdout, 'hi\n');
    await d.docker(['rm', 'loc']);
    const bad = await d.docker(['run', '--log-opt', 'foo=bar', 'busybox', 'true']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /unknown log opt 'foo' for json-file log driver/);
    const create = (LogConfig: unknown): Promise<number> => d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { LogConfig } }).then((x) => x.status);
    assert.equal(await create({ Type: 'json-file', Config: { 'max-size': 'abc' } }), 400);
    assert.equal(await create({ Type: 'json-file', Config: { 'max-file': '0' } }), 400);
    assert.equal(await create({ Type: 'json-file', Config: { compress: 'true', 'max-file': '1' } }), 400);
    assert.equal(await create({ Type: 'nosuch', Config: {} }), 400);
    const msg = (await d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { LogConfig: { Type: 'nosuch' } } })).json().message;
    assert.equal(msg, "logger: no log driver named 'nosuch' is registered");
  });
});
