// By hand: runs some or all conformance scenarios against a private dockerd and a private
// berthd and prints every step that differs, then the summary line.
//   node test/conformance/run.ts [--cache] [--json FILE] [scenario ...]
// --cache reuses dockerd's answers of a scenario that has not changed since it last ran.
import { writeFileSync } from 'node:fs';
import { describeDifferences, runConformance } from './harness/conformance.ts';

const args = process.argv.slice(2);
const cache = args.includes('--cache');
const ji = args.indexOf('--json');
const jsonFile = ji >= 0 ? args[ji + 1] : undefined;
const only = args.filter((a, i) => !a.startsWith('--') && (ji < 0 || i !== ji + 1));
const report = await runConformance({ only, cache, log: (s) => process.stderr.write(`${s}\n`) });
if (jsonFile) writeFileSync(jsonFile, JSON.stringify(report, null, 2));
const text = describeDifferences(report);
if (text) process.stdout.write(`${text}\n`);
for (const e of report.stale) process.stdout.write(`stale allowlist entry (matched nothing): ${JSON.stringify(e)}\n`);
process.stdout.write(`${report.summary}\n`);
process.exit(report.different || report.errors.length ? 1 : 0);
