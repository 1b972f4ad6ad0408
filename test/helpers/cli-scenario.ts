// Runs a scenario script twice against one berthd — once where `docker` is the real Docker CLI,
// once where `docker` is berth — and records each step's exit code and normalised output, so a
// test can require both runs to be equal.
//
// Script format (test/fixtures/cli-scenarios/*.sh): one shell command per line, run one at a
// time with `bash -c` (a line ending in `\` continues on the next). `#` lines are comments,
// except directives that apply to the next step:
//   # @ignore-stdout / # @ignore-stderr   compare only the other stream and the exit code
//   # @numbers                            also replace every number by N (PIDs, times in top)
//   # @sort                               compare stdout's lines sorted (unordered listings)
//   # @setup                              a step whose output is not compared (exit code is)
// Steps share no shell state: use fixed names, and $W, a work directory that is empty at the
// start of each run (it is also the working directory). Each script removes what it made; the
// harness also clears containers, networks, volumes and extra image tags before each run.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { runCmd, repo, DOCKER, type TestDaemon } from './daemon.ts';

export interface Step { line: number; cmd: string; ignoreStdout: boolean; ignoreStderr: boolean; numbers: boolean; sort: boolean; setup: boolean }
export interface StepRecord { cmd: string; code: number; stdout: string; stderr: string }

/** The steps of a scenario script. */
export function parseScenario(text: string): Step[] {
  const steps: Step[] = [];
  let pending = { ignoreStdout: false, ignoreStderr: false, numbers: false, sort: false, setup: false };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let l = lines[i]!;
    const start = i + 1;
    if (/^\s*#/.test(l)) {
      const d = /^\s*#\s*@([\w-]+)/.exec(l)?.[1];
      if (d === 'ignore-stdout') pending.ignoreStdout = true;
      else if (d === 'ignore-stderr') pending.ignoreStderr = true;
      else if (d === 'numbers') pending.numbers = true;
      else if (d === 'sort') pending.sort = true;
      else if (d === 'setup') pending.setup = true;
      else if (d === 'open') { /* the conformance harness's marker of a known gap against dockerd */ }
      else if (d) throw new Error(`line ${start}: unknown directive @${d}`);
      continue;
    }
    while (l.endsWith('\\') && i + 1 < lines.length) l = `${l.slice(0, -1)}\n${lines[++i]}`;
    if (!l.trim()) continue;
    steps.push({ line: start, cmd: l, ...pending });
    pending = { ignoreStdout: false, ignoreStderr: false, numbers: false, sort: false, setup: false };
  }
  return steps;
}

const DURATION = /\b(Less than a second|About an? (minute|hour)|\d+ (seconds?|minutes?|hours?|days?|weeks?|months?|years?))\b/g;

/** Makes docker's and berth's output comparable: IDs, times, durations, addresses, the program's name. */
export function normalise(s: string, step: Pick<Step, 'numbers' | 'sort'>): string {
  let out = s
    .replace(/\bberthd\b/g, 'dockerd').replace(/\bberth\b/g, 'docker').replace(/\bBerth\b/g, 'Docker')
    // Go type names derived from the program's name (system.dockerInfo is system.berthInfo)
    .replace(/\bberth(?=[A-Z])/g, 'docker')
    .replace(/sha256:[0-9a-f]{64}/g, 'sha256:<DIGEST>')
    .replace(/\b[0-9a-f]{64}\b/g, '<ID>')
    .replace(/\b[0-9a-f]{12}\b/g, '<ID12>')
    .replace(/\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d| [+-]\d{4} [A-Z]+)?/g, '<TIME>')
    .replace(DURATION, '<DURATION>')
    .replace(/\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/g, '<IP>');
  if (step.numbers) out = out.replace(/\d+/g, 'N');
  // durations and IDs of different lengths change column widths: compare cells, not spacing
  out = out.split('\n').map((l) => l.replace(/ {2,}/g, '   ').trimEnd()).join('\n');
  if (step.sort) out = out.split('\n').filter(Boolean).sort().join('\n');
  return out;
}

/** A PATH directory whose `docker` is the given program. */
function binDir(target: string): string {
  const dir = mkdtempSync('/tmp/berth-scenario-bin-');
  writeFileSync(join(dir, 'docker'), `#!/bin/sh\nexec ${target} "$@"\n`);
  chmodSync(join(dir, 'docker'), 0o755);
  return dir;
}

/** Leaves the daemon with only what it started with (busybox, the default networks). */
export async function resetDaemon(d: TestDaemon): Promise<void> {
  const q = async (args: string[]): Promise<string[]> => (await d.docker(args)).stdout.split('\n').filter(Boolean);
  const ctrs = await q(['ps', '-aq']);
  if (ctrs.length) await d.docker(['rm', '-f', ...ctrs]);
  await d.docker(['network', 'prune', '-f']);
  const vols = await q(['volume', 'ls', '-q']);
  if (vols.length) await d.docker(['volume', 'rm', '-f', ...vols]);
  const tags = (await q(['images', '--format', '{{.Repository}}:{{.Tag}}'])).filter((t) => t !== 'busybox:latest');
  if (tags.length) await d.docker(['rmi', '-f', ...tags]);
}

/** Runs every step with `docker` being `program` (the real CLI or berth). */
export async function runScenario(d: TestDaemon, steps: Step[], program: string, name: string): Promise<StepRecord[]> {
  await resetDaemon(d);
  const bin = binDir(program);
  const work = `/tmp/berth-scenario-${name}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const env = { ...d.env, PATH: `${bin}:${process.env.PATH}`, W: work, HOME: work };
  const records: StepRecord[] = [];
  try {
    for (const s of steps) {
      const r = await runCmd('bash', ['-c', `cd "$W" && ${s.cmd}`], { env, timeoutMs: 90_000 });
      records.push({
        cmd: `${s.line}: ${s.cmd}`,
        code: r.code,
        stdout: s.ignoreStdout || s.setup ? '' : normalise(r.stdout, s),
        stderr: s.ignoreStderr || s.setup ? '' : normalise(r.stderr, s),
      });
    }
  } finally {
    rmSync(bin, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
  return records;
}

export interface ScenarioResult { name: string; docker: StepRecord[]; berth: StepRecord[]; differing: string[] }

/** Runs a fixture with docker, then with berth; `differing` lists the steps that differ. */
export async function compareScenario(d: TestDaemon, file: string): Promise<ScenarioResult> {
  const steps = parseScenario(readFileSync(file, 'utf8'));
  const name = basename(file, '.sh');
  const docker = await runScenario(d, steps, DOCKER, name);
  const berth = await runScenario(d, steps, join(repo, 'bin/berth'), name);
  const differing = docker.filter((r, i) => JSON.stringify(r) !== JSON.stringify(berth[i])).map((r) => r.cmd);
  return { name, docker, berth, differing };
}
