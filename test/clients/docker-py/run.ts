// By hand: docker-py 7.1.0's integration tests against a private daemon (suite.ts).
//   node test/clients/docker-py/run.ts [berthd|dockerd|--both] [--timeout S] [--keep] [test ...]
// Prints one line per test (outcome, id, and the first line of the failure), then the counts.
// With --both it runs dockerd, then berthd on the same subnets, and prints the tests that pass
// on dockerd but not on berthd; it exits 1 when there are any. A test is a node id relative to
// tests/integration (api_exec_test.py::ExecTest::test_exec_start_socket) or a -k word.
import { pickPairNet, type Kind } from '../../conformance/harness/daemons.ts';
import { missingPrerequisite, passed, regressions, runOn, type SuiteRun } from './suite.ts';

const args = process.argv.slice(2);
const ti = args.indexOf('--timeout');
const perTestTimeout = ti >= 0 ? Number(args[ti + 1]) : 30;
const both = args.includes('--both');
const keepScratch = args.includes('--keep');
const words = args.filter((a, i) => !a.startsWith('--') && (ti < 0 || i !== ti + 1));
const kinds: Kind[] = both ? ['dockerd', 'berthd'] : words[0] === 'dockerd' ? ['dockerd'] : ['berthd'];
const select = words.filter((w) => w !== 'dockerd' && w !== 'berthd');

const missing = missingPrerequisite();
if (missing) {
  process.stderr.write(`docker-py suite cannot run: ${missing}\n`);
  process.exit(2);
}

const firstLine = (s: string): string => s.split('\n')[0]!.slice(0, 220);
const net = pickPairNet();
const runs: SuiteRun[] = [];
for (const kind of kinds) {
  const r = await runOn(kind, net, { select, perTestTimeout, keepScratch, log: (s) => process.stderr.write(`${s}\n`) });
  runs.push(r);
  for (const t of [...r.results.values()].sort((a, b) => a.id.localeCompare(b.id))) {
    process.stdout.write(`${kind} ${t.outcome.padEnd(7)} ${t.id}${t.outcome === 'passed' ? '' : `  ${firstLine(t.message)}`}\n`);
  }
  const count = (o: string): number => [...r.results.values()].filter((t) => t.outcome === o).length;
  process.stdout.write(`${kind}: ${count('passed')} passed, ${count('failed')} failed, ${count('error')} errors, ${count('skipped')} skipped in ${r.seconds.toFixed(0)} s\n`);
}
if (both) {
  const [d, b] = runs as [SuiteRun, SuiteRun];
  const bad = regressions(d, b);
  process.stdout.write(`\npass on dockerd, not on berthd (${bad.length}):\n`);
  for (const t of bad) process.stdout.write(`  ${t.id}  [${t.outcome}] ${firstLine(t.message)}\n`);
  const extra = [...passed(b)].filter((id) => !passed(d).has(id));
  if (extra.length) process.stdout.write(`\npass on berthd, not on dockerd (${extra.length}): ${extra.join(' ')}\n`);
  process.exit(bad.length ? 1 : 0);
}
