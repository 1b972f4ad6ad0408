// go-units sizes and durations, docker's tabwriter layout, and list/inspect printing.
// Expectations come from go-units' tests and from the Docker CLI 28.2 run against a berthd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { humanSize, bytesSize, ago, shortId } from '../../../src/cli/format/units.ts';
import { humanDuration, goTimeString } from '../../../src/util/go-units.ts';
import { tabwrite, table } from '../../../src/cli/tabwriter.ts';
import { formatList, renderInspect, formatInspect, checkListTemplate, execTemplate } from '../../../src/cli/format/list.ts';
import { CliError } from '../../../src/cli/command.ts';

test('HumanSize: %.Ng with decimal units (precision 3 as docker images/ps, 4 as go-units default)', () => {
  assert.equal(humanSize(1000, 4), '1kB');
  assert.equal(humanSize(1024, 4), '1.024kB');
  assert.equal(humanSize(1048576, 4), '1.049MB');
  assert.equal(humanSize(3.42e9, 4), '3.42GB');
  assert.equal(humanSize(5.372e12, 4), '5.372TB');
  assert.equal(humanSize(2.22e15, 4), '2.22PB');
  assert.equal(humanSize(1982450), '1.98MB');
  assert.equal(humanSize(1982450, 4), '1.982MB');
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(512), '512B');
  assert.equal(humanSize(999500), '1e+03kB');
  assert.equal(humanSize(1125), '1.12kB');
});

test('BytesSize: binary units', () => {
  assert.equal(bytesSize(1024), '1KiB');
  assert.equal(bytesSize(1024 * 1024), '1MiB');
  assert.equal(bytesSize(3.42 * 1024 ** 3), '3.42GiB');
  assert.equal(bytesSize(5.372 * 1024 ** 4), '5.372TiB');
  assert.equal(bytesSize(1536 * 1024), '1.5MiB');
});

test('HumanDuration thresholds', () => {
  const m = 60; const h = 3600; const d = 86400;
  const cases: [number, string][] = [
    [0.5, 'Less than a second'], [-3, 'Less than a second'], [1, '1 second'], [47, '47 seconds'],
    [m, 'About a minute'], [3 * m, '3 minutes'], [35 * m + 40, '35 minutes'], [h, 'About an hour'],
    [h + 45 * m, '2 hours'], [3 * h, '3 hours'], [3 * h + 59 * m, '4 hours'], [24 * h, '24 hours'],
    [36 * h, '36 hours'], [2 * d, '2 days'], [7 * d, '7 days'], [13 * d + 23 * h, '13 days'],
    [14 * d, '2 weeks'], [30 * d, '4 weeks'], [60 * d, '2 months'], [90 * d, '3 months'],
    [365 * d, '12 months'], [2 * 365 * d, '2 years'], [10 * 365 * d, '10 years'],
  ];
  for (const [s, want] of cases) assert.equal(humanDuration(s), want, `${s}s`);
  assert.equal(ago(1000, 1010), '10 seconds ago');
});

test('shortId and Go time strings', () => {
  assert.equal(shortId('sha256:3184fbdab6350e31563a8f51683c8ca0'), '3184fbdab635');
  assert.equal(shortId('abc', true), 'abc');
  assert.equal(goTimeString(1795443403, 'UTC'), '2026-11-23 14:16:43 +0000 UTC');
  assert.equal(goTimeString(1795443403.5, 'UTC'), '2026-11-23 14:16:43.5 +0000 UTC');
});

test('tabwriter: minwidth 10, padding 3, last cell not padded', () => {
  assert.equal(tabwrite('CONTAINER ID\tNAMES\n631622ed668d\tc1\n'), 'CONTAINER ID   NAMES\n631622ed668d   c1\n');
  assert.equal(tabwrite('a\tb\n'), 'a         b\n');
  assert.equal(tabwrite('a\t\n'), `a${' '.repeat(9)}\n`);
  assert.equal(tabwrite('日本\tx\n'), '日本      x\n');
  assert.equal(tabwrite('no newline\tat end'), 'no newline   at end');
});

test('tabwriter: widths per column block; a single-cell line ends the blocks', () => {
  // column 1 exists only on the first line: its width comes from that line alone
  assert.equal(tabwrite('a\tb\tc\nlonglonglong\td\n'), `a${' '.repeat(14)}b${' '.repeat(9)}c\nlonglonglong   d\n`);
  assert.equal(tabwrite('a\tb\nlongcell\tc\nsingle\nx\ty\n'), `a${' '.repeat(10)}b\nlongcell   c\nsingle\nx${' '.repeat(9)}y\n`);
  assert.equal(table([['NAME', 'DRIVER'], ['a-very-long-network-name', 'bridge']]), 'NAME                       DRIVER\na-very-long-network-name   bridge\n');
});

const VOL_HEADERS = { Name: 'VOLUME NAME', Driver: 'DRIVER', Labels: 'LABELS', Mountpoint: 'MOUNTPOINT' };
function volRow(name: string, labels: Record<string, string>): object {
  const r = { Driver: 'local', Labels: Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(','), Name: name, Mountpoint: `/v/${name}` };
  Object.defineProperty(r, 'Label', { value: (k: string) => labels[k] ?? '', enumerable: false });
  return r;
}
const VOLS = [volRow('v1', {}), volRow('v2', { 'com.x': '1' })];
const vl = (format: string, quiet = false): string => formatList(VOLS, {
  format, quiet, defaultFormat: 'table {{.Driver}}\t{{.Name}}', quietField: 'Name', headers: VOL_HEADERS, typeName: '*formatter.volumeContext',
});

test('formatList: default table, custom table with docker\'s header rules, raw templates', () => {
  assert.equal(vl(''), 'DRIVER    VOLUME NAME\nlocal     v1\nlocal     v2\n');
  assert.equal(vl('table'), vl(''));
  // checked against `docker volume ls --format 'table …'`
  assert.equal(vl('table {{.Name}}\t{{.Label "com.x"}}\t{{.Driver | upper}}\t{{json .Name}}\t{{pad .Name 1 1}}|'),
    'VOLUME NAME   x         DRIVER    VOLUME NAME    VOLUME NAME |\nv1                      LOCAL     "v1"           v1 |\nv2            1         LOCAL     "v2"           v2 |\n');
  assert.equal(vl('table {{.Name}}\\t{{.Driver}}'), 'VOLUME NAME   DRIVER\nv1            local\nv2            local\n');
  assert.equal(vl('{{.Name}}:{{.Label "com.x"}}'), 'v1:\nv2:1\n');
  assert.equal(vl('{{json .}}'), '{"Driver":"local","Labels":"","Mountpoint":"/v/v1","Name":"v1"}\n{"Driver":"local","Labels":"com.x=1","Mountpoint":"/v/v2","Name":"v2"}\n');
  assert.equal(vl('json'), vl('{{json .}}'));
  assert.equal(formatList([], { format: 'table {{.Nope}}\t{{.Name}}', defaultFormat: '', headers: VOL_HEADERS }), '<no value>   VOLUME NAME\n');
  assert.equal(formatList([], { format: '{{.Name}}', defaultFormat: '', headers: VOL_HEADERS }), '');
});

test('formatList: -q prints the quiet field unless a custom format is given', () => {
  assert.equal(vl('', true), 'v1\nv2\n');
  assert.equal(vl('table', true), 'v1\nv2\n');
  assert.equal(vl('{{.Driver}}', true), 'local\nlocal\n');
  assert.equal(vl('table {{.Name}}', true), 'VOLUME NAME\nv1\nv2\n');
});

test('formatList: JSON of a row is sorted and HTML-escaped like docker\'s MarshalJSON', () => {
  const out = formatList([{ Names: 'c1', Command: '"a && b"', Digest: '<none>' }], { format: '{{json .}}|{{json .Digest}}', defaultFormat: '', headers: {} });
  assert.equal(out, '{"Command":"\\"a \\u0026\\u0026 b\\"","Digest":"\\u003cnone\\u003e","Names":"c1"}|"<none>"\n');
});

test('formatList: template errors are docker\'s', () => {
  assert.throws(() => vl('{{.Nope}}'), (e: Error) => e instanceof CliError && e.status === 1
    && e.message === 'template parsing error: template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.volumeContext');
  assert.throws(() => vl('{{.Name'), (e: Error) => e instanceof CliError && e.message === 'template parsing error: template: :1: unclosed action');
  assert.throws(() => formatList(VOLS, { format: '{{.Nope}}', defaultFormat: '', headers: {}, typeName: '*formatter.ContainerContext', errorPrefix: { parse: 'failed to parse template: ', exec: 'failed to execute template: ' } }),
    (e: Error) => e instanceof CliError && /^failed to execute template: template: :1:2: executing "" at <.Nope>: can't evaluate field Nope in type \*formatter.ContainerContext$/.test(e.message));
});

test('inspect: indented JSON, compact json, templates per object', () => {
  const objs = [{ Name: 'a', Labels: { x: '1' }, Cmd: ['sh', '&&'] }, { Name: 'b', Labels: {}, Cmd: [] }];
  assert.equal(formatInspect([]), '[]\n');
  assert.equal(formatInspect(objs), `${JSON.stringify(objs, null, 4)}\n`);
  assert.match(formatInspect(objs), /^\[\n {4}\{\n {8}"Name": "a",/);
  assert.equal(formatInspect(objs, 'json'), `${JSON.stringify(objs)}\n`);
  assert.equal(formatInspect(objs, '{{.Name}} {{.Labels}} {{json .Cmd}}'), 'a map[x:1] ["sh","&&"]\nb map[] []\n');
  // docker's raw-JSON fallback: a key one object lacks is an error for it, the others still print
  assert.deepEqual(renderInspect(objs, '{{.Labels.x}}'),
    { out: '1\n', status: 1, error: 'template parsing error: template: :1:9: executing "" at <.Labels.x>: map has no entry for key "x"' });
  const bad = renderInspect(objs, '{{.Nope}}');
  assert.deepEqual(bad, { out: '\n', status: 1, error: 'template parsing error: template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope"\ntemplate parsing error: template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope"' });
  assert.equal(renderInspect(objs, '{{.Name').status, 64);
  assert.throws(() => formatInspect(objs, '{{.Nope}}'), (e: Error) => e instanceof CliError && e.status === 1);
  assert.equal(renderInspect([{ Name: 'v' }], '{{.Nope}}', 'volume.Volume').error,
    'template parsing error: template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type volume.Volume');
});

test('checkListTemplate: docker ps validates --format on an empty row and reports the fields used', () => {
  const row = { ID: '', Names: '', Size: '' };
  assert.deepEqual([...checkListTemplate('table {{.ID}}\t{{.Size}}', row, '*formatter.ContainerContext')], ['ID', 'Size']);
  assert.throws(() => checkListTemplate('{{.Nope}}', row, '*formatter.ContainerContext'), (e: Error) => e instanceof CliError
    && e.message === 'failed to execute template: template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.ContainerContext');
  assert.throws(() => checkListTemplate('{{.Names', row, '*formatter.ContainerContext'), (e: Error) => e instanceof CliError
    && e.message === 'failed to parse template: template: :1: unclosed action');
});

test('execTemplate: a named template\'s errors as docker version prints them', () => {
  const info = { Server: { APIVersion: '1.50' } };
  assert.deepEqual(execTemplate('{{.Server.APIVersion}}', info, { name: 'version', typeName: 'system.versionInfo' }), { out: '1.50' });
  assert.deepEqual(execTemplate('x{{.Nope}}', info, { name: 'version', typeName: 'system.versionInfo' }),
    { out: 'x', error: 'template: version:1:3: executing "version" at <.Nope>: can\'t evaluate field Nope in type system.versionInfo' });
  assert.deepEqual(execTemplate('{{.Nope', info, { name: 'version' }), { out: '', parseError: 'template: version:1: unclosed action' });
});
