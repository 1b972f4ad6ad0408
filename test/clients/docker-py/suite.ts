// docker-py 7.1.0's own integration tests (tests/integration), run as podman's CI runs them:
// the checked-out `docker` package first on PYTHONPATH (not Debian's python3-docker 5), pytest
// from Debian, DOCKER_HOST at a private daemon. The same run against a private dockerd (the
// judge: a test that fails there is the test's problem or needs the internet) and a private
// berthd; what matters is the tests that pass on dockerd but not on berthd.
//
// Lifecycle of one run: the source is exported from the mirror's bare repository into /var/tmp
// once and reused; a daemon of the kind asked is started on subnets of its own with
// busybox:latest imported, the suite's images (alpine:3.10 and alpine:latest, which it would
// pull from Docker Hub) are tagged from busybox on it, pytest writes a junit XML report into
// the run's scratch directory, and the daemon is stopped and everything removed, even on failure.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { DOCKER, runCmd } from '../../helpers/daemon.ts';
import { haveDockerd, makeScratch, startBerthd, startDockerd, type DaemonUnderTest, type Kind, type PairNet } from '../../conformance/harness/daemons.ts';
import { importImages } from '../../conformance/harness/images.ts';

export const VERSION = '7.1.0';
export const MIRROR = '/work/.mirror/docker+docker-py/repo';
export const SOURCE = `/var/tmp/docker-py-${VERSION}`;
/** Debian's interpreter: its dist-packages hold pytest, requests, paramiko and pytest-timeout. */
const PYTHON = '/usr/bin/python3';

/**
 * Test files left out: swarm mode (services, nodes, secrets, configs, swarm) and managed plugins,
 * which Berth does not have (it answers those endpoints as a dockerd outside a swarm does).
 */
export const LEFT_OUT_FILES = [
  'api_swarm_test.py', 'api_service_test.py', 'api_secret_test.py', 'api_config_test.py', 'api_plugin_test.py',
  'models_nodes_test.py', 'models_services_test.py', 'models_swarm_test.py',
];

/** Tests of the files run that make this daemon a swarm manager first (init_swarm). */
export const LEFT_OUT_TESTS = [
  'api_network_test.py::TestNetworks::test_create_network_attachable',
  'api_network_test.py::TestNetworks::test_create_network_ingress',
  'api_network_test.py::TestNetworks::test_create_inspect_network_with_scope',
];

/** The names tests/integration uses for its images (base.py TEST_IMG and literal 'alpine'); 'busybox' is busybox:latest. */
const IMAGE_TAGS = ['alpine:3.10', 'alpine:latest'];

export type Outcome = 'passed' | 'failed' | 'error' | 'skipped';
export interface TestResult { id: string; outcome: Outcome; message: string; seconds: number }
export interface SuiteRun { kind: Kind; results: Map<string, TestResult>; log: string; seconds: number }

/** Why the suite cannot run here, or undefined when it can. */
export function missingPrerequisite(): string | undefined {
  if (!existsSync(SOURCE) && !existsSync(MIRROR)) return `the docker-py mirror ${MIRROR} is not on this machine`;
  if (!haveDockerd()) return 'dockerd is not installed (scripts/install.sh installs Debian docker.io)';
  const py = spawnSync(PYTHON, ['-c', 'import pytest, requests, packaging, paramiko, pytest_timeout, websocket'], { encoding: 'utf8' });
  if (py.status !== 0) return `Debian's python3 lacks a module docker-py's tests need (apt-get install python3-pytest python3-pytest-timeout python3-paramiko python3-requests python3-packaging python3-websocket): ${py.stderr.trim().split('\n').pop()}`;
  return undefined;
}

/** Exports the 7.1.0 tag from the mirror once; later runs reuse the directory. */
export function prepareSource(): string {
  const marker = join(SOURCE, 'docker/_version.py');
  if (existsSync(marker)) return SOURCE;
  if (!existsSync(MIRROR)) throw new Error(`no docker-py source: ${MIRROR} is missing`);
  const tmp = `${SOURCE}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', `git --git-dir="$1" archive ${VERSION} | tar -x -C "$2"`, 'archive', MIRROR, tmp], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`git archive ${VERSION} from ${MIRROR} failed: ${r.stderr}`);
  }
  // setuptools_scm writes this file at install time; without it docker.__version__ would be
  // Debian's python3-docker version (importlib.metadata), sent in every User-Agent
  writeFileSync(join(tmp, 'docker/_version.py'), `__version__ = '${VERSION}'\n`);
  rmSync(SOURCE, { recursive: true, force: true });
  spawnSync('mv', [tmp, SOURCE]);
  return SOURCE;
}

/** Reads pytest's junit XML (xunit2): one result per test case, failure/error over skipped over passed. */
export function parseJunit(xml: string): Map<string, TestResult> {
  const out = new Map<string, TestResult>();
  const attr = (tag: string, name: string): string => unescapeXml(new RegExp(`\\b${name}="([^"]*)"`).exec(tag)?.[1] ?? '');
  for (const m of xml.matchAll(/<testcase\b([^>]*?)(?:\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const head = m[1]!;
    const body = m[2] ?? '';
    // classname tests.integration.api_build_test.BuildTest → api_build_test.py::BuildTest
    const parts = attr(head, 'classname').split('.');
    const cls = parts.pop()!;
    const id = `${parts.pop()}.py::${cls}::${attr(head, 'name')}`;
    let outcome: Outcome = 'passed';
    let message = '';
    for (const k of ['failure', 'error', 'skipped'] as const) {
      const t = new RegExp(`<${k}\\b([^>]*)`).exec(body);
      if (!t) continue;
      outcome = k === 'failure' ? 'failed' : k;
      message = attr(t[1]!, 'message');
      break;
    }
    out.set(id, { id, outcome, message, seconds: Number(attr(head, 'time')) || 0 });
  }
  return out;
}

function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|quot|apos|amp|#(\d+)|#x([0-9a-fA-F]+));/g, (_m, n: string, dec?: string, hex?: string) =>
    dec ? String.fromCodePoint(Number(dec)) : hex ? String.fromCodePoint(parseInt(hex, 16))
      : ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' } as Record<string, string>)[n]!);
}

export interface RunOptions {
  /** pytest -k expression or node ids (file::Class::test) to run only some tests */
  select?: string[];
  /** seconds per test (pytest-timeout) */
  perTestTimeout?: number;
  log?: (line: string) => void;
}

/** Runs the suite against an already started daemon; `scratch` receives the report and the CLI config. */
export async function runPytest(d: DaemonUnderTest, scratch: string, o: RunOptions = {}): Promise<SuiteRun> {
  const src = prepareSource();
  for (const tag of IMAGE_TAGS) {
    const r = await runCmd(DOCKER, ['tag', 'busybox:latest', tag], { env: d.env });
    if (r.code !== 0) throw new Error(`tag ${tag} on ${d.kind}: ${r.stderr}`);
  }
  // docker-py keeps contexts beside the config file it finds, or under the cwd when there is
  // none: a config.json of the run's own keeps context_api_test's files in the scratch dir
  const config = join(scratch, `docker-py-config-${d.kind}`);
  mkdirSync(config, { recursive: true });
  writeFileSync(join(config, 'config.json'), '{}\n');
  const report = join(scratch, `junit-${d.kind}.xml`);
  // a selection is node ids (file.py, file.py::Class::test) or words for a -k expression
  const sel = o.select ?? [];
  const ids = sel.filter((x) => x.includes('::') || x.endsWith('.py')).map((x) => `tests/integration/${x}`);
  const words = sel.filter((x) => !ids.includes(`tests/integration/${x}`));
  const args = [
    '-m', 'pytest', '-p', 'no:cacheprovider', `--timeout=${o.perTestTimeout ?? 30}`, '-q', '-rN', '--tb=short',
    `--junitxml=${report}`, ...LEFT_OUT_FILES.map((f) => `--ignore=tests/integration/${f}`),
    ...LEFT_OUT_TESTS.map((t) => `--deselect=tests/integration/${t}`),
    ...(ids.length ? ids : ['tests/integration']), ...(words.length ? ['-k', words.join(' or ')] : []),
  ];
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH, HOME: scratch, LANG: 'C.UTF-8',
    PYTHONPATH: src, PYTHONDONTWRITEBYTECODE: '1', DOCKER_HOST: d.env.DOCKER_HOST, DOCKER_CONFIG: config,
  };
  o.log?.(`docker-py ${VERSION} tests/integration against ${d.kind} (${d.env.DOCKER_HOST})`);
  const started = Date.now();
  const r = await runCmdIn(src, PYTHON, args, env, 15 * 60_000);
  const seconds = (Date.now() - started) / 1000;
  writeFileSync(join(scratch, `pytest-${d.kind}.log`), r.stdout + r.stderr);
  if (!existsSync(report)) throw new Error(`pytest wrote no report against ${d.kind} (exit ${r.code}):\n${(r.stdout + r.stderr).slice(-3000)}`);
  return { kind: d.kind, results: parseJunit(readFileSync(report, 'utf8')), log: r.stdout + r.stderr, seconds };
}

/** runCmd with a working directory (pytest finds pytest.ini and the `tests` package from the cwd). */
function runCmdIn(cwd: string, file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolveP) => {
    const child = spawn(file, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolveP({ code: code ?? (signal ? 137 : -1), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

/** Starts a private daemon of `kind`, runs the suite on it, and stops it with all it made. */
export async function runOn(kind: Kind, net: PairNet, o: RunOptions & { keepScratch?: boolean } = {}): Promise<SuiteRun> {
  const scratch = makeScratch();
  let d: DaemonUnderTest | undefined;
  try {
    d = kind === 'dockerd' ? await startDockerd(net, scratch) : await startBerthd(net, scratch);
    await importImages(d);
    return await runPytest(d, scratch, o);
  } finally {
    try {
      await d?.stop();
    } finally {
      if (!o.keepScratch) rmSync(scratch, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
      else o.log?.(`scratch kept: ${scratch}`);
    }
  }
}

export const passed = (r: SuiteRun): Set<string> => new Set([...r.results.values()].filter((t) => t.outcome === 'passed').map((t) => t.id));

/** Tests that pass on dockerd but not on berthd, with berthd's outcome and message. */
export function regressions(dockerd: SuiteRun, berthd: SuiteRun): TestResult[] {
  const ok = passed(berthd);
  return [...passed(dockerd)].filter((id) => !ok.has(id)).sort()
    .map((id) => berthd.results.get(id) ?? { id, outcome: 'error' as const, message: 'not run on berthd', seconds: 0 });
}
