// The conformance harness's own parts: scenario parsing, normalisation (consistent, not
// blanking) and exact comparison (types, key sets), and the allowlist's matching.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseScenario, substitute } from '../../conformance/harness/scenario.ts';
import { Symbols, normalizeJson, normalizeText } from '../../conformance/harness/normalize.ts';
import { diffAnswers } from '../../conformance/harness/compare.ts';
import { allowed, loadAllowlist } from '../../conformance/harness/allowlist.ts';
import { compareRuns } from '../../conformance/harness/conformance.ts';

const ctx = (known: [string, string][] = [], generated: string[] = []) => ({
  roots: [['/var/lib/x', '<DATA>']] as [string, string][],
  prefixes: [['10.1.2.', '<BRIDGE>.']] as [string, string][],
  generatedNames: () => new Set(generated),
  known: () => new Map(known),
});
const A = 'a'.repeat(64);
const B = 'b'.repeat(63) + 'c';

describe('conformance harness', () => {
  it('parses CLI and API steps, directives and continuations', () => {
    const steps = parseScenario('# x\n# @setup\ndocker run \\\n  busybox true\n# @capture ID .Id\n# @timeout 500\nAPI POST /v1.41/containers/create?name=a {"Image":"busybox"}\nAPI GET /_ping\n');
    assert.deepEqual(steps.map((s) => [s.line, s.kind, s.setup]), [[3, 'cli', true], [7, 'api', false], [8, 'api', false]]);
    assert.deepEqual(steps[1]!.capture, { name: 'ID', path: '.Id' });
    assert.equal(steps[1]!.timeoutMs, 500);
    assert.equal(steps[1]!.body, '{"Image":"busybox"}');
    assert.throws(() => parseScenario('# @nope\ntrue\n'), /unknown directive/);
    assert.throws(() => parseScenario('API POST /x {not json\n'), /not JSON/);
    assert.equal(substitute('/exec/$E/json ${E} $HOME', new Map([['E', '1']])), '/exec/1/json 1 $HOME');
  });

  it('maps IDs consistently: the same ID twice is one token, two IDs are two, short and long agree', () => {
    const sym = new Symbols(ctx());
    assert.equal(normalizeText(`${A} ${B} ${A.slice(0, 12)} ${B}`, sym), '<ID1> <ID2> <ID1:12> <ID2>');
    const named = new Symbols(ctx([[A, 'ctr:web']]));
    assert.equal(normalizeText(`${A.slice(0, 12)} /var/lib/x/containers/${A}/x /var/lib/x/overlay2/${B}/diff`, named), '<ctr:web:12> <DATA>/containers/<ctr:web>/x <DATA>/overlay2/<H>/diff');
  });

  it('keeps what must be compared: zero times, container addresses in the shared subnet, fixed ports', () => {
    const sym = new Symbols(ctx([], ['brave_keel']));
    assert.equal(normalizeText('0001-01-01T00:00:00Z 2026-12-05T14:10:51.540897011Z 10.1.2.3 0.0.0.0:8080->80/tcp 0.0.0.0:49153->80/tcp brave_keel', sym),
      '0001-01-01T00:00:00Z <TIME> <BRIDGE>.3 0.0.0.0:8080->80/tcp 0.0.0.0:<PORT1>->80/tcp <NAME1>');
    assert.deepEqual(normalizeJson({ HostPort: '49153', Pid: 1234, Created: 1764944000, Size: 12 }, sym), { HostPort: '<PORT1>', Pid: '<PID>', Created: '<UNIX>', Size: 12 });
  });

  it('compares exactly: types, key sets, array lengths, status', () => {
    const d = diffAnswers({ status: 200, body: { a: null, b: [], c: {}, d: 1 } }, { status: 200, body: { a: [], b: [], c: null, e: 1 } }, false);
    assert.deepEqual(d.map((x) => x.where).sort(), ['body.a', 'body.c', 'body.d', 'body.e']);
    assert.deepEqual(diffAnswers({ status: 0, stdout: 'x\n' }, { status: 1, stdout: 'x\n' }, false).map((x) => x.where), ['status']);
    assert.deepEqual(diffAnswers({ status: 200, body: [{ a: 1 }] }, { status: 200, body: [{ a: 2 }, { a: 3 }] }, true), []);
  });

  it('a step marked @open is an open gap while it differs, and reported once it is equal', () => {
    const run = (stdout: string) => [{ name: 's', steps: [{ line: 2, text: 'docker x', answer: { status: 0, stdout }, ms: 1 }] }];
    const list = { entries: [], used: new Set<number>() };
    const open = () => 'known gap';
    const r = compareRuns(run('a'), run('b'), list, () => false, open);
    assert.deepEqual([r.open, r.different, r.fixed], [1, 0, []]);
    const plain = compareRuns(run('a'), run('b'), list, () => false);
    assert.deepEqual([plain.open, plain.different], [0, 1]);
    const now = compareRuns(run('a'), run('a'), list, () => false, open);
    assert.deepEqual([now.equal, now.fixed], [1, ['s.scn:2']]);
    assert.equal(parseScenario('# @open why\ndocker x\n')[0]!.open, 'why');
    assert.throws(() => parseScenario('# @open\ndocker x\n'), /needs the reason/);
  });

  it('the allowlist accepts only what an entry names, and every entry says why', () => {
    const dir = mkdtempSync('/tmp/berth-allow-');
    try {
      const f = join(dir, 'a.json');
      writeFileSync(f, JSON.stringify({ entries: [{ scenario: '^inspect', where: 'body\\.LogPath', kind: 'architecture', reason: 'conmon log file' }] }));
      const list = loadAllowlist(f);
      assert.ok(allowed(list, 'inspect-container', 'API GET', { where: 'body.LogPath', docker: 1, berth: 2 }));
      assert.equal(allowed(list, 'other', 'API GET', { where: 'body.LogPath', docker: 1, berth: 2 }), undefined);
      assert.equal(allowed(list, 'inspect-container', 'API GET', { where: 'body.LogPathX', docker: 1, berth: 2 }), undefined);
      // rewriteBerth: only the named extra text may differ
      writeFileSync(f, JSON.stringify({ entries: [{ where: 'stdout', kind: 'newer-api', moby: 'v24.0', reason: 'r', rewriteBerth: ['execDuration=\\d+, ', ''] }] }));
      const l2 = loadAllowlist(f);
      assert.ok(allowed(l2, 's', 'docker events', { where: 'stdout', docker: 'die (exitCode=0)', berth: 'die (execDuration=3, exitCode=0)' }));
      assert.equal(allowed(l2, 's', 'docker events', { where: 'stdout', docker: 'die (exitCode=0)', berth: 'die (execDuration=3, exitCode=1)' }), undefined);
      // both rewrites: each side's value reduced to what must be the same (here: present)
      writeFileSync(f, JSON.stringify({ entries: [{ where: 'k', kind: 'architecture', reason: 'r', rewrite: ['^.+$', 'P'], rewriteBerth: ['^.+$', 'P'] }] }));
      const l3 = loadAllowlist(f);
      assert.ok(allowed(l3, 's', 'API', { where: 'k', docker: '/var/run/docker/netns/abc', berth: '/run/netns/berth-x' }));
      assert.equal(allowed(l3, 's', 'API', { where: 'k', docker: '/var/run/docker/netns/abc', berth: '' }), undefined);
      writeFileSync(f, JSON.stringify({ entries: [{ where: 'x', kind: 'newer-api', reason: 'r' }] }));
      assert.throws(() => loadAllowlist(f), /moby version/);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});
