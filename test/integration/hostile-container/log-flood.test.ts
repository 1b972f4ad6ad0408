// A hostile container floods its log as fast as it can: rotation must keep every line of the
// configured retention (max-file × max-size), with no file lost in the middle however fast the
// writer (issue 16: 100 MB with the default 10 MB × 5 left 31 MB to read), and keep the disk
// bounded. Lines are numbered so a gap shows.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TestDaemon, makeBusybox, sleep } from '../../helpers/daemon.ts';

const PAD = 'x'.repeat(100);
const LINES = 1_000_000;
/** `N xxx…x`: 1 000 000 lines, 108 MB of output, as fast as busybox's seq and sed go. */
const flood = `seq 1 ${LINES} | sed 's/$/ ${PAD}/'`;
/** What a line takes in the file: conmon's `<RFC3339Nano+00:00> stdout F ` (45 bytes), then the line. */
const fileBytes = (n: number): number => 45 + String(n).length + 1 + PAD.length + 1;

function logFiles(logPath: string): { name: string; size: number }[] {
  const dir = dirname(logPath);
  // A name may go while listing (berthd's last look at the exit shifts the files).
  return readdirSync(dir).filter((n) => /^container\.log(\.\d+(\.gz)?)?$/.test(n)).sort()
    .flatMap((name) => { try { return [{ name, size: statSync(join(dir, name)).size }]; } catch { return []; } });
}

/** Every file of the log with its first and last numbered line (for a failure's message). */
function describeFiles(logPath: string): string {
  const dir = dirname(logPath);
  return readdirSync(dir).filter((n) => n.includes('container.log')).sort().map((n) => {
    let text = '';
    try { text = readFileSync(join(dir, n), 'latin1'); } catch { return `${n} gone`; }
    const nums = [...text.matchAll(/ stdout [PF] (\d+) x/g)].map((m) => m[1]);
    const partials = [...text.matchAll(/\n([^\n]* stdout P [^\n]*)\n([^\n]{0,60})/g)].slice(0, 3).map((m) => `${m[1]} | ${m[2]}`);
    return `${n} (${text.length} bytes): ${nums[0]}..${nums[nums.length - 1]} P: ${JSON.stringify(partials)}`;
  }).join('; ');
}

/** The numbers of the lines `docker logs` returned, checked to run without a gap to the last one written. */
function contiguous(out: string): { first: number; last: number; count: number; bytes: number } {
  const lines = out.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  // The oldest line kept may be the end of one conmon split in two (P then F entries) whose
  // start has gone out of the window: `33217 xxx…` of line 633217.
  const num = (l: string | undefined): number => Number(l?.slice(0, l.indexOf(' ')));
  if (lines.length > 1 && (!/^\d+ x{100}$/.test(lines[0]!) || num(lines[1]) !== num(lines[0]) + 1)) lines.shift();
  let prev = -1;
  let first = -1;
  let bytes = 0;
  for (const l of lines) {
    const sp = l.indexOf(' ');
    const n = Number(l.slice(0, sp));
    assert.ok(Number.isInteger(n) && n > 0 && l.slice(sp + 1) === PAD, `a malformed line after ${prev}: ${JSON.stringify(l.slice(0, 40))}`);
    if (prev >= 0 && n !== prev + 1) assert.fail(`a gap: line ${n} follows line ${prev} (${n - prev - 1} lines lost)`);
    if (first < 0) first = n;
    prev = n;
    bytes += fileBytes(n);
  }
  return { first, last: prev, count: lines.length, bytes };
}

describe('hostile container: a log flood keeps the whole retention window', () => {
  const d = new TestDaemon();
  before(async () => {
    await d.start();
    await makeBusybox(d);
  });
  after(async () => { await d.cleanup(); });

  const cases: { name: string; opts: string[]; maxSize: number; maxFile: number }[] = [
    { name: 'flood-default', opts: [], maxSize: 10_000_000, maxFile: 5 },
    { name: 'flood-10m', opts: ['--log-opt', 'max-size=10m', '--log-opt', 'max-file=5'], maxSize: 10_000_000, maxFile: 5 },
    // A cut every few ms: the hardest case for a watcher that reacts after the fact.
    { name: 'flood-1m', opts: ['--log-opt', 'max-size=1m', '--log-opt', 'max-file=3'], maxSize: 1_000_000, maxFile: 3 },
  ];
  // The three at once: two cores shared by three writers, three conmons and berthd, as on a
  // loaded host (the loss was seen under load).
  it('three floods at once (the default, 10m × 5, 1m × 3): docker logs returns the newest lines without a gap, at least (max-file − 1) × max-size of them', { timeout: 60_000 }, async () => {
    const t0 = Date.now();
    const runs = await Promise.all(cases.map((c) => d.docker(['run', '--name', c.name, ...c.opts, 'busybox', 'sh', '-c', flood], { timeoutMs: 45_000 })));
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    for (const c of cases) {
      const logPath = (await d.docker(['inspect', '-f', '{{.LogPath}}', c.name])).stdout.trim();
      const l = await d.docker(['logs', c.name], { timeoutMs: 30_000 });
      assert.equal(l.code, 0, l.stderr);
      let seen: ReturnType<typeof contiguous>;
      try {
        seen = contiguous(l.stdout);
      } catch (err) {
        throw new Error(`${c.name}: ${(err as Error).message}; ${describeFiles(logPath)}`);
      }
      const files = logFiles(logPath);
      const onDisk = files.reduce((x, f) => x + f.size, 0);
      const what = `${c.name}: ${seen.count} lines (${seen.first}..${seen.last}, ${seen.bytes} bytes of log) in ${JSON.stringify(files)}`;
      assert.equal(seen.last, LINES, what);
      assert.ok(seen.bytes >= (c.maxFile - 1) * c.maxSize, `only ${what}`);
      // Bounded: the retention, and what the writer wrote while berthd cut (milliseconds'
      // worth: a file passes max-size by that much).
      assert.ok(onDisk <= (c.maxFile + 2) * c.maxSize + 16_000_000, `${onDisk} bytes on disk: ${what}`);
      await d.docker(['rm', c.name]);
    }
    assert.ok(Date.now() - t0 < 50_000, `took ${Date.now() - t0} ms`);
  });
  // berthd stalled (swapped out, starved of CPU, a long GC) while a container floods: conmon
  // must not cut on its own and drop the files berthd had no time to keep. Each stall is
  // SIGSTOP for 150 ms, far less than conmon's safety net takes to fill.
  it('berthd stalled again and again during a flood (1m × 3): no line of the window is lost', { timeout: 60_000 }, async () => {
    const pid = Number(readFileSync(`${d.execRoot}/berthd.pid`, 'utf8').trim());
    assert.ok(pid > 1);
    const r = await d.docker(['run', '-d', '--name', 'flood-stall', '--log-opt', 'max-size=1m', '--log-opt', 'max-file=3', 'busybox', 'sh', '-c', `sleep 0.5; ${flood}`]);
    assert.equal(r.code, 0, r.stderr);
    const logPath = (await d.docker(['inspect', '-f', '{{.LogPath}}', 'flood-stall'])).stdout.trim();
    let stalls = 0;
    try {
      await sleep(500);
      const deadline = Date.now() + 30_000;
      // While it writes (the file keeps changing), at most 40 stalls.
      for (let last = ''; stalls < 40 && Date.now() < deadline; stalls++) {
        process.kill(pid, 'SIGSTOP');
        await sleep(150);
        process.kill(pid, 'SIGCONT');
        await sleep(30);
        const now = JSON.stringify(logFiles(logPath));
        if (now === last && stalls > 5) break;
        last = now;
      }
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const w = await d.docker(['wait', 'flood-stall'], { timeoutMs: 30_000 });
    assert.equal(w.stdout.trim(), '0', w.stderr);
    const l = await d.docker(['logs', 'flood-stall'], { timeoutMs: 30_000 });
    assert.equal(l.code, 0, l.stderr);
    let seen: ReturnType<typeof contiguous>;
    try {
      seen = contiguous(l.stdout);
    } catch (err) {
      throw new Error(`${(err as Error).message}; after ${stalls} stalls: ${describeFiles(logPath)}`);
    }
    const what = `${seen.count} lines (${seen.first}..${seen.last}, ${seen.bytes} bytes of log) after ${stalls} stalls in ${JSON.stringify(logFiles(logPath))}`;
    assert.equal(seen.last, LINES, what);
    assert.ok(seen.bytes >= 2 * 1_000_000, `only ${what}`);
    await d.docker(['rm', 'flood-stall']);
  });
});
