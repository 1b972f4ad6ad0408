// One conformance run: the scenarios against a private dockerd and a private berthd, both at
// once on subnets of the same width (schedule.ts keeps apart what the host has only once), then
// step-by-step comparison with the allowlist. Used by the suite (conformance.test.ts) and by
// hand (run.ts).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { repo } from '../../helpers/daemon.ts';
import { makeScratch, pickPairNets, startBerthd, startDockerd, type DaemonUnderTest, type PairNet } from './daemons.ts';
import { HostLock, hostBound, type HostShare } from './schedule.ts';
import { importImages } from './images.ts';
import { runScenarios, type Scenario, type ScenarioRun } from './runner.ts';
import { diffAnswers, type Difference } from './compare.ts';
import { allowed, loadAllowlist, type AllowEntry, type Allowlist } from './allowlist.ts';
import { parseScenario } from './scenario.ts';

export const SCENARIO_DIR = join(repo, 'test/conformance/scenarios');
export const ALLOWLIST_FILE = join(repo, 'test/conformance/ALLOWED.json');
// not under a berth-conformance-* name: the leak check reports those
const CACHE_DIR = '/var/tmp/berth-conf-cache';

/** The CLI scenario scripts (berth CLI vs docker CLI) are also run here, with docker on both daemons, as cli-<name>. */
export const CLI_SCENARIO_DIR = join(repo, 'test/fixtures/cli-scenarios');

export function loadScenarios(only: string[] = []): Scenario[] {
  const files = new Map<string, string>();
  for (const f of readdirSync(SCENARIO_DIR)) if (f.endsWith('.scn')) files.set(basename(f, '.scn'), join(SCENARIO_DIR, f));
  for (const f of readdirSync(CLI_SCENARIO_DIR)) if (f.endsWith('.sh')) files.set(`cli-${basename(f, '.sh')}`, join(CLI_SCENARIO_DIR, f));
  const names = [...files.keys()].sort();
  for (const o of only) if (!names.includes(o)) throw new Error(`no scenario ${o} in ${SCENARIO_DIR} (or cli-* in ${CLI_SCENARIO_DIR})`);
  return names.filter((n) => !only.length || only.includes(n)).map((name) => ({ name, text: readFileSync(files.get(name)!, 'utf8') }));
}

export type Verdict = 'equal' | 'allowlisted' | 'open' | 'different';

export interface StepVerdict { scenario: string; line: number; text: string; verdict: Verdict; differences: Difference[]; reasons: AllowEntry[]; open?: string }

export interface Report {
  steps: StepVerdict[];
  compared: number;
  equal: number;
  allowlisted: number;
  different: number;
  /** known gaps (@open) that still differ */
  open: number;
  /** steps marked @open that are equal now */
  fixed: string[];
  /** scenarios that could not run to the end on a daemon */
  errors: string[];
  stale: AllowEntry[];
  summary: string;
  runs?: { docker: ScenarioRun[]; berth: ScenarioRun[] };
}

/** Step-by-step verdicts of two runs of the same scenarios. */
export function compareRuns(docker: ScenarioRun[], berth: ScenarioRun[], list: Allowlist, keysOnly: (scenario: string, line: number) => boolean, openOf: (scenario: string, line: number) => string | undefined = () => undefined): Report {
  const fixed: string[] = [];
  const steps: StepVerdict[] = [];
  const errors: string[] = [];
  for (const dr of docker) {
    const br = berth.find((r) => r.name === dr.name);
    if (dr.error) errors.push(`${dr.name} on dockerd: ${dr.error}`);
    if (!br) { errors.push(`${dr.name}: no berthd run`); continue; }
    if (br.error) errors.push(`${dr.name} on berthd: ${br.error}`);
    for (let i = 0; i < Math.max(dr.steps.length, br.steps.length); i++) {
      const ds = dr.steps[i];
      const bs = br.steps[i];
      if (!ds || !bs) {
        const s = (ds ?? bs)!;
        steps.push({ scenario: dr.name, line: s.line, text: s.text, verdict: 'different', differences: [{ where: 'step', docker: ds ? 'ran' : 'did not run', berth: bs ? 'ran' : 'did not run' }], reasons: [] });
        continue;
      }
      const differences = diffAnswers(ds.answer, bs.answer, keysOnly(dr.name, ds.line));
      const reasons = differences.map((d) => allowed(list, dr.name, ds.text, d));
      const open = openOf(dr.name, ds.line);
      let verdict: Verdict = !differences.length ? 'equal' : reasons.every(Boolean) ? 'allowlisted' : 'different';
      if (verdict === 'different' && open) verdict = 'open';
      if (verdict !== 'different' && verdict !== 'open' && open) fixed.push(`${dr.name}.scn:${ds.line}`);
      steps.push({ scenario: dr.name, line: ds.line, text: ds.text, verdict, differences, reasons: [...new Set(reasons.filter((r): r is AllowEntry => !!r))], ...(open ? { open } : {}) });
    }
  }
  const count = (v: Verdict): number => steps.filter((s) => s.verdict === v).length;
  const byReason = new Map<string, number>();
  for (const s of steps) if (s.verdict === 'allowlisted') for (const r of s.reasons) byReason.set(`${r.kind}: ${r.reason}`, (byReason.get(`${r.kind}: ${r.reason}`) ?? 0) + 1);
  const stale = list.entries.filter((_, i) => !list.used.has(i));
  const byOpen = new Map<string, number>();
  for (const s of steps) if (s.verdict === 'open') byOpen.set(s.open!, (byOpen.get(s.open!) ?? 0) + 1);
  const report: Report = { steps, compared: steps.length, equal: count('equal'), allowlisted: count('allowlisted'), open: count('open'), different: count('different'), fixed, errors, stale, summary: '' };
  report.summary = [
    `conformance: ${report.compared} steps compared, ${report.equal} equal, ${report.allowlisted} allowlisted, ${report.open} open gaps, ${report.different} different`,
    ...[...byReason].map(([r, n]) => `  allowlisted ${n}× — ${r}`),
    ...[...byOpen].map(([r, n]) => `  open gap ${n}× — ${r}`),
    ...(fixed.length ? [`  equal now, drop their @open: ${fixed.join(' ')}`] : []),
  ].join('\n');
  return report;
}

/** A readable account of the steps that differ. */
export function describeDifferences(r: Report, max = 200): string {
  const out: string[] = [];
  for (const s of r.steps.filter((x) => x.verdict === 'different' || x.verdict === 'open').slice(0, max)) {
    out.push(`${s.verdict === 'open' ? '○ (open gap)' : '✗'} ${s.scenario}.scn:${s.line}: ${s.text.split('\n')[0]}`);
    for (const d of s.differences.slice(0, 12)) {
      out.push(`    ${d.where}\n      dockerd: ${JSON.stringify(d.docker)?.slice(0, 600)}\n      berthd:  ${JSON.stringify(d.berth)?.slice(0, 600)}`);
    }
    if (s.differences.length > 12) out.push(`    … ${s.differences.length - 12} more`);
  }
  for (const e of r.errors) out.push(`! ${e}`);
  return out.join('\n');
}

const cacheKey = (s: Scenario): string => createHash('sha256').update(readFileSync(new URL(import.meta.url)).toString()).update(readFileSync(join(import.meta.dirname, 'runner.ts'))).update(readFileSync(join(import.meta.dirname, 'normalize.ts'))).update(s.text).digest('hex').slice(0, 16);

export interface ConformanceOptions { only?: string[]; /** reuse dockerd's answers of an unchanged scenario (by hand only) */ cache?: boolean; log?: (s: string) => void; noRetry?: boolean; keepRuns?: boolean }

/** Starts a daemon and imports the scenarios' images; a daemon that started is stopped again when the import fails. */
async function startWithImages(kind: 'dockerd' | 'berthd', net: PairNet, scratch: string): Promise<DaemonUnderTest> {
  const d = kind === 'dockerd' ? await startDockerd(net, scratch) : await startBerthd(net, scratch);
  try {
    await importImages(d);
  } catch (e) {
    await d.stop();
    throw e;
  }
  return d;
}

/**
 * Runs the scenarios on both daemons at the same time, in the same order (schedule.ts says which
 * may overlap), compares, and leaves nothing behind.
 */
export async function runConformance(o: ConformanceOptions = {}): Promise<Report> {
  const log = o.log ?? ((): void => {});
  const scenarios = loadScenarios(o.only);
  const list = loadAllowlist(ALLOWLIST_FILE);
  const [dnet, bnet] = pickPairNets();
  const scratch = makeScratch();
  const runs = { dockerd: new Map<string, ScenarioRun>(), berthd: new Map<string, ScenarioRun>() };
  const daemons: DaemonUnderTest[] = [];
  try {
    if (o.cache) {
      mkdirSync(CACHE_DIR, { recursive: true });
      for (const s of scenarios) {
        const f = join(CACHE_DIR, `${s.name}.${cacheKey(s)}.json`);
        if (existsSync(f)) runs.dockerd.set(s.name, JSON.parse(readFileSync(f, 'utf8')) as ScenarioRun);
      }
    }
    const toRun = scenarios.filter((s) => !runs.dockerd.has(s.name));
    const host: HostShare = { lock: new HostLock(), workTag: dnet.tag };
    log(`dockerd: ${toRun.length} scenarios, berthd: ${scenarios.length}, at the same time (${scenarios.filter(hostBound).length} host-bound: one daemon at a time)`);
    const started = await Promise.allSettled([
      toRun.length ? startWithImages('dockerd', dnet, scratch) : Promise.resolve(undefined),
      startWithImages('berthd', bnet, scratch),
    ]);
    for (const r of started) if (r.status === 'fulfilled' && r.value) daemons.push(r.value);
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const dockerd = started[0].status === 'fulfilled' ? started[0].value : undefined;
    const berthd = daemons.find((d) => d.kind === 'berthd')!;
    const [dockerGot, berthGot] = await Promise.all([
      dockerd ? runScenarios(dockerd, toRun, { net: dnet, scratch, log, host }) : Promise.resolve([]),
      runScenarios(berthd, scenarios, { net: bnet, scratch, log, host }),
    ]);
    for (const r of dockerGot) runs.dockerd.set(r.name, r);
    for (const r of berthGot) runs.berthd.set(r.name, r);
    if (o.cache && dockerd) {
      for (const s of toRun) {
        const r = runs.dockerd.get(s.name);
        if (r && !r.error) writeFileSync(join(CACHE_DIR, `${r.name}.${cacheKey(s)}.json`), JSON.stringify(r));
      }
    }
  } finally {
    await Promise.all(daemons.map((d) => d.stop().catch((e) => log(`stopping ${d.kind}: ${e}`))));
    rmSync(scratch, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }
  const dockerRuns: ScenarioRun[] = scenarios.map((s) => runs.dockerd.get(s.name) ?? { name: s.name, steps: [], error: 'not run on dockerd' });
  const berthRuns: ScenarioRun[] = scenarios.map((s) => runs.berthd.get(s.name) ?? { name: s.name, steps: [], error: 'not run on berthd' });
  const keys = new Map<string, Set<number>>();
  const opens = new Map<string, Map<number, string>>();
  for (const s of scenarios) {
    const parsed = parseScenario(s.text, s.name);
    keys.set(s.name, new Set(parsed.filter((st) => st.keys).map((st) => st.line)));
    opens.set(s.name, new Map(parsed.filter((st) => st.open).map((st) => [st.line, st.open!])));
  }
  const compare = (): Report => {
    list.used.clear();
    return compareRuns(dockerRuns, berthRuns, list, (sc, line) => keys.get(sc)?.has(line) ?? false, (sc, line) => opens.get(sc)?.get(line));
  };
  let report = compare();
  // A step whose answer depends on timing (a log line racing an exit, a restart's back-off) can
  // differ once on a loaded machine. The scenarios that differed run once more on both daemons
  // (fresh ones); only a difference seen again counts, and the summary says what was retried.
  if (report.different && !o.cache && !o.noRetry) {
    const again = [...new Set(report.steps.filter((st) => st.verdict === 'different').map((st) => st.scenario))];
    log(`retrying ${again.length} scenarios that differed: ${again.join(' ')}`);
    const rerun = await runConformance({ ...o, only: again, noRetry: true, keepRuns: true });
    for (const r of rerun.runs!.docker) dockerRuns[dockerRuns.findIndex((x) => x.name === r.name)] = r;
    for (const r of rerun.runs!.berth) berthRuns[berthRuns.findIndex((x) => x.name === r.name)] = r;
    report = compare();
    report.summary += `\n  retried once (a difference seen once): ${again.join(' ')}`;
  }
  // entries only count as stale when every scenario ran
  if (o.only?.length) report.stale = [];
  if (o.keepRuns) report.runs = { docker: dockerRuns, berth: berthRuns };
  return report;
}
