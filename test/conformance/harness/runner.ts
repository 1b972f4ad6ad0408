// Runs scenarios against one daemon: a clean daemon before each (only busybox:latest and the
// default networks), each step run and its answer normalised, everything removed after.
import http from 'node:http';
import { mkdirSync, rmSync, symlinkSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { DOCKER, runCmd } from '../../helpers/daemon.ts';
import type { DaemonUnderTest, PairNet } from './daemons.ts';
import { importImages } from './images.ts';
import { parseScenario, substitute, type Step } from './scenario.ts';
import { Symbols, normalizeJson, normalizeText } from './normalize.ts';
import { sortedJson, tryJson, type Answer } from './compare.ts';
import { hostBound, type HostShare } from './schedule.ts';

export interface Scenario { name: string; text: string }
export interface StepRecord { line: number; text: string; answer: Answer; ms: number }
export interface ScenarioRun { name: string; steps: StepRecord[]; error?: string }

interface Raw { status: number; headers: http.IncomingHttpHeaders; body: Buffer }

/** One API request over the daemon's socket; with `readMs`, the body read so far when that time is up. */
function request(socket: string, method: string, path: string, body: string | undefined, headers: Record<string, string>, readMs?: number): Promise<Raw> {
  return new Promise((resolveP, reject) => {
    const data = body === undefined ? undefined : Buffer.from(body);
    const req = http.request({
      socketPath: socket, method, path,
      headers: { ...(data ? { 'Content-Type': 'application/json', 'Content-Length': String(data.length) } : {}), ...headers },
    }, (res) => {
      const chunks: Buffer[] = [];
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolveP({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      };
      const timer = setTimeout(() => { finish(); req.destroy(); }, readMs ?? 60_000);
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', finish);
      res.on('error', finish);
      res.on('close', finish);
    });
    req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${path}: no answer within 60 s`)));
    req.on('error', reject);
    req.end(data);
  });
}

/** Docker's stdcopy frames as `[stdout]`/`[stderr]` text, frames of one stream merged (their cut is not part of the API). */
function demux(buf: Buffer): string | undefined {
  const parts: [number, string][] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const stream = buf[i]!;
    if (stream > 2 || buf[i + 1] !== 0 || buf[i + 2] !== 0 || buf[i + 3] !== 0) return undefined;
    const n = buf.readUInt32BE(i + 4);
    if (i + 8 + n > buf.length) return undefined;
    const text = buf.subarray(i + 8, i + 8 + n).toString();
    const last = parts[parts.length - 1];
    if (last && last[0] === stream) last[1] += text; else parts.push([stream, text]);
    i += 8 + n;
  }
  if (i !== buf.length) return undefined;
  return parts.map(([s, t]) => `[${['stdin', 'stdout', 'stderr'][s]}] ${t}`).join('');
}

/** A body as the comparison sees it: JSON, lines of JSON (streams), demultiplexed frames, or text. */
function decodeBody(raw: Raw): unknown {
  const type = String(raw.headers['content-type'] ?? '').split(';')[0]!.trim();
  const text = raw.body.toString();
  if (type.includes('multiplexed') || type.includes('raw-stream') || (raw.body.length >= 8 && raw.body[0]! <= 2 && raw.body.readUInt16BE(1) === 0)) {
    const d = demux(raw.body);
    if (d !== undefined) return d;
  }
  const j = tryJson(text);
  if (j !== undefined) return j;
  const lines = text.split('\n').filter((l) => l.trim());
  if (lines.length > 1 && lines.every((l) => tryJson(l) !== undefined)) return lines.map((l) => JSON.parse(l) as unknown);
  return text;
}

function field(v: unknown, path: string): unknown {
  let cur = v;
  for (const k of path.replace(/^\./, '').split('.').filter(Boolean)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = Array.isArray(cur) ? cur[Number(k)] : (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/**
 * Leaves the daemon with only busybox:latest, the default networks and no volumes, and checks
 * it did: a scenario that starts on a daemon still holding the last one's containers would meet
 * the same name conflicts on both daemons and look equal.
 */
export async function resetDaemon(d: DaemonUnderTest): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await resetOnce(d);
    const left = await request(d.socket, 'GET', '/containers/json?all=1', undefined, {}).then((r) => JSON.parse(r.body.toString()) as unknown[]);
    if (!left.length) {
      // a scenario may remove busybox itself (rmi, load): every scenario starts with it
      const bb = await request(d.socket, 'GET', '/images/busybox:latest/json', undefined, {});
      if (bb.status === 404) await importImages(d);
      return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${d.kind} still holds containers after the reset`);
}

async function resetOnce(d: DaemonUnderTest): Promise<void> {
  const get = async (path: string): Promise<any[]> => {
    const r = await request(d.socket, 'GET', path, undefined, {});
    return r.status === 200 ? JSON.parse(r.body.toString()) as any[] : [];
  };
  await Promise.all((await get('/containers/json?all=1')).map((c) => request(d.socket, 'DELETE', `/containers/${c.Id}?force=1&v=1`, undefined, {})));
  await request(d.socket, 'POST', '/networks/prune', undefined, {});
  const vols = (await request(d.socket, 'GET', '/volumes', undefined, {}).then((r) => JSON.parse(r.body.toString()) as { Volumes: { Name: string }[] | null }));
  await Promise.all((vols.Volumes ?? []).map((v) => request(d.socket, 'DELETE', `/volumes/${v.Name}?force=1`, undefined, {})));
  for (const img of await get('/images/json?all=1')) {
    const tags: string[] = img.RepoTags ?? [];
    if (tags.includes('busybox:latest')) {
      for (const t of tags) if (t !== 'busybox:latest') await request(d.socket, 'DELETE', `/images/${encodeURIComponent(t)}`, undefined, {});
      continue;
    }
    await request(d.socket, 'DELETE', `/images/${img.Id}?force=1`, undefined, {});
  }
}

export interface RunOptions {
  net: PairNet;
  scratch: string;
  log?: (s: string) => void;
  /** with a run on the other daemon at the same time: host-bound scenarios hold the lock, and share one work path (schedule.ts) */
  host?: HostShare;
}

/** "10.170.5." → "02:42:0a:aa:05:": Docker's MAC addresses are 02:42 and the IPv4 address's bytes. */
export function macPrefix(ipPrefix: string): string {
  return `02:42:${ipPrefix.split('.').filter(Boolean).map((n) => Number(n).toString(16).padStart(2, '0')).join(':')}:`;
}

/** Runs each scenario on `d`, in order, from a clean daemon. */
export async function runScenarios(d: DaemonUnderTest, scenarios: Scenario[], o: RunOptions): Promise<ScenarioRun[]> {
  const bin = mkdtempSync(join(o.scratch, 'bin-'));
  symlinkSync(DOCKER, join(bin, 'docker'));
  const runs: ScenarioRun[] = [];
  for (const s of scenarios) {
    const t0 = Date.now();
    const host = o.host && hostBound(s) ? o.host : undefined;
    runs.push(host ? await host.lock.hold(() => runOne(d, s, bin, o, host.workTag)) : await runOne(d, s, bin, o));
    o.log?.(`  ${d.kind} ${s.name}: ${runs.at(-1)!.steps.length} steps, ${((Date.now() - t0) / 1000).toFixed(1)} s${runs.at(-1)!.error ? ` (${runs.at(-1)!.error})` : ''}`);
  }
  return runs;
}

async function runOne(d: DaemonUnderTest, s: Scenario, bin: string, o: RunOptions, workTag = o.net.tag): Promise<ScenarioRun> {
  const run: ScenarioRun = { name: s.name, steps: [] };
  let steps: Step[];
  try { steps = parseScenario(s.text, s.name); } catch (e) { return { ...run, error: String(e) }; }
  // A host-bound scenario (it may name its work directory) gets the same path on both daemons,
  // which never run it at the same time (schedule.ts): bind sources and error texts that name
  // it, even cut short, are then equal without a token. The others may run at the same time on
  // both daemons, each in a directory of its own of the same length.
  const work = join('/var/tmp', `berth-conf-w-${workTag}-${s.name}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const generated = new Set<string>();
  const known = new Map<string, string>();
  const sym = new Symbols({
    roots: [[work, '<W>'], [d.dataRoot, '<DATA>'], [d.execRoot, '<EXEC>'], [o.scratch, '<SCRATCH>'], [d.bridge, '<BRIDGE-IF>']],
    // each daemon's own subnets (pickPairNets), and the MAC addresses made of them
    prefixes: [[o.net.prefix, '<BRIDGE>.'], [`${o.net.pool.split('.').slice(0, 2).join('.')}.`, '<POOL>.'],
      [macPrefix(o.net.prefix), '02:42:<BRIDGE>:'], [macPrefix(`${o.net.pool.split('.').slice(0, 2).join('.')}.`), '02:42:<POOL>:']],
    generatedNames: () => generated,
    known: () => known,
  });
  const vars = new Map<string, string>([['W', work]]);
  // The CLI speaks the judge's newest version (dockerd 20.10: 1.41) to both daemons, so a step
  // compares the same request; a step may still say `DOCKER_API_VERSION=1.47 docker …`.
  const env = { ...d.env, PATH: `${bin}:${process.env.PATH}`, W: work, HOME: work, DOCKER_API_VERSION: '1.41' };
  try {
    await resetDaemon(d);
    for (const st of steps) {
      const t0 = Date.now();
      let answer: Answer;
      let rawValue: unknown;
      if (st.kind === 'cli') {
        const r = await runCmd('bash', ['-c', `cd "$W" && ${substitute(st.text, vars)}`], { env: { ...env, ...Object.fromEntries(vars) }, timeoutMs: 120_000 });
        rawValue = tryJson(r.stdout) ?? r.stdout.trim();
        await learnObjects(d, s.text, generated, known, sym);
        const json = tryJson(r.stdout);
        // sorted after normalisation: the tokens, not the raw IDs, decide the order
        const text = (): string => {
          const t = normalizeText(r.stdout, sym, st);
          return st.sort ? t.split('\n').filter(Boolean).sort().join('\n') : t;
        };
        answer = {
          status: r.code,
          stdout: st.setup || st.ignore.stdout ? undefined : json !== undefined ? (st.sort ? sortedJson(normalizeJson(json, sym, st)) : normalizeJson(json, sym, st)) : text(),
          stderr: st.setup || st.ignore.stderr ? undefined : normalizeText(r.stderr, sym, st),
        };
      } else {
        const raw = await request(d.socket, st.method!, substitute(st.path!, vars), st.body === undefined ? undefined : substitute(st.body, vars), st.headers, st.timeoutMs)
          .catch((e: Error) => ({ status: -1, headers: {}, body: Buffer.from(e.message) }) as Raw);
        rawValue = decodeBody(raw);
        await learnObjects(d, s.text, generated, known, sym);
        const body = normalizeJson(rawValue, sym, st);
        answer = {
          status: raw.status,
          contentType: String(raw.headers['content-type'] ?? '').split(';')[0]!.trim() || undefined,
          body: st.setup || st.ignore.body ? undefined : st.sort ? sortedJson(body) : body,
        };
      }
      if (st.capture) {
        const v = st.capture.path ? field(rawValue, st.capture.path) : rawValue;
        vars.set(st.capture.name, typeof v === 'string' ? v : JSON.stringify(v));
      }
      run.steps.push({ line: st.line, text: st.text, answer, ms: Date.now() - t0 });
    }
  } catch (e) {
    run.error = String(e);
  } finally {
    await resetDaemon(d).catch(() => {});
    rmSync(work, { recursive: true, force: true });
  }
  return run;
}

/**
 * What the daemon holds now: the names it gave containers the scenario did not name (they
 * differ between daemons), and a label for each object's ID that is the same on both daemons
 * (container, image and network names), so an ID is tokenised by what it is, not by when it
 * was first seen.
 */
async function learnObjects(d: DaemonUnderTest, scenarioText: string, generated: Set<string>, known: Map<string, string>, sym: Symbols): Promise<void> {
  const get = async (path: string): Promise<any[]> => {
    const r = await request(d.socket, 'GET', path, undefined, {}).catch(() => undefined);
    if (r?.status !== 200) return [];
    try { return JSON.parse(r.body.toString()) as any[]; } catch { return []; }
  };
  const [ctrs, imgs, nets] = await Promise.all([get('/containers/json?all=1'), get('/images/json'), get('/networks')]);
  for (const c of ctrs as { Id: string; Names: string[] }[]) {
    const name = (c.Names ?? []).map((n) => n.replace(/^\//, '')).find((n) => !n.includes('/'));
    if (!name) continue;
    if (!new RegExp(`(?<![\\w.-])${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w.-])`).test(scenarioText)) generated.add(name);
    if (!known.has(c.Id)) known.set(c.Id, `ctr:${generated.has(name) ? sym.name(name).slice(1, -1) : name}`);
  }
  for (const i of imgs as { Id: string; RepoTags: string[] | null }[]) {
    const tag = (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>').sort()[0];
    const id = i.Id.replace(/^sha256:/, '');
    if (tag && !known.has(id)) known.set(id, `img:${tag}`);
  }
  for (const n of nets as { Id: string; Name: string }[]) if (!known.has(n.Id)) known.set(n.Id, `net:${n.Name}`);
}
