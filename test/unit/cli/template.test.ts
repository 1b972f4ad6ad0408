// Go text/template as docker runs --format: expectations checked against the Docker CLI 28.2
// (`docker inspect -f` on a container whose JSON is DATA below) and Go's text/template tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDocker, TemplateError, formatFloat, goSprintf } from '../../../src/cli/format/template.ts';
import { renderInspect } from '../../../src/cli/format/list.ts';

const DATA = {
  Name: '/c1',
  State: { Status: 'created', Running: false, Pid: 0, ExitCode: 0 },
  Config: { Image: 'busybox', Cmd: ['sh', '-c', 'echo "x && y" > /dev/null'], Labels: { a: 'b' }, Env: [], Volumes: {}, Entrypoint: null },
};

/** Runs like docker inspect's raw-JSON mode: missing keys are errors. */
function run(src: string, data: unknown = DATA): string {
  return parseDocker(src).execute(data, { missingKey: 'error' });
}

const CASES: [string, string][] = [
  ['{{.Name}}', '/c1'],
  ['{{.Config.Labels}}', 'map[a:b]'],
  ['{{.Config.Labels.a}}', 'b'],
  ['{{index .Config.Labels "a"}}|{{index .Config.Labels "zz"}}', 'b|'],
  ['{{.Config.Cmd}}', '[sh -c echo "x && y" > /dev/null]'],
  ['{{json .Config.Cmd}}', '["sh","-c","echo \\"x && y\\" > /dev/null"]'],
  ['{{json .Config.Labels}}', '{"a":"b"}'],
  ['{{range .Config.Cmd}}[{{.}}]{{end}}', '[sh][-c][echo "x && y" > /dev/null]'],
  ['{{range $i, $e := .Config.Cmd}}{{$i}}={{$e}} {{end}}', '0=sh 1=-c 2=echo "x && y" > /dev/null '],
  ['{{range $k, $v := .Config.Labels}}{{$k}}->{{$v}}{{end}}', 'a->b'],
  ['{{range .Config.Volumes}}x{{else}}no volumes{{end}}', 'no volumes'],
  ['{{range 3}}{{.}}{{end}}', '012'],
  ['{{range $i, $e := .Config.Cmd}}{{if eq $i 1}}{{break}}{{end}}{{$e}}{{end}}', 'sh'],
  ['{{range .Config.Cmd}}{{continue}}{{end}}x', 'x'],
  ['{{if .State.Running}}up{{else}}down{{end}}', 'down'],
  ['{{if eq .State.Status "created" "running"}}yes{{end}}', 'yes'],
  ['{{if 1}}a{{else if 2}}b{{else}}c{{end}}{{if 0}}a{{else if 0}}b{{else}}c{{end}}', 'ac'],
  ['{{with 0}}a{{else with 2}}{{.}}{{end}}', '2'],
  ['{{with .Config.Labels}}{{.a}}{{end}}', 'b'],
  ['{{$n := .Name}}{{$n}}{{$n = "z"}}{{$n}}', '/c1z'],
  ['{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}', '2'],
  ['{{$x := 1}}{{if true}}{{$x := 2}}{{end}}{{$x}}', '1'],
  ['{{$.Name}}', '/c1'],
  ['{{printf "%s:%d" .Name .State.Pid}}', '/c1:0'],
  ['{{printf "%-10s|%5d|%q|%t|%x" .State.Status .State.ExitCode .Name .State.Running 255}}', 'created   |    0|"/c1"|false|ff'],
  ['{{printf "%.3g|%.3g|%.3g|%.3g|%.3g|%.4g|%v" 1.125 999.5 100.0 0.0 1.5 1.98245 1e-5}}', '1.12|1e+03|100|0|1.5|1.982|1e-05'],
  ['{{printf "%6.2f|%-8.3e|%08.3f|%+.1f" 3.14159 1234.5678 -3.14159 2.25}}', '  3.14|1.235e+03|-003.142|+2.2'],
  ['{{printf "%q|%#q|%x|%X|% d|%5t|%-5t|" "a\\"b\\n" "raw" "hi" "hi" 5 true false}}', '"a\\"b\\n"|`raw`|6869|6869| 5| true|false|'],
  ['{{printf "%s %s" "a"}}|{{printf "%d" "x"}}|{{printf "%t" 1}}|{{printf "%z" 1}}', 'a %!s(MISSING)|%!d(string=x)|%!t(int=1)|%!z(int=1)'],
  ['{{printf "%d" 1 2}}', '1%!(EXTRA int=2)'],
  ['{{printf "%03d|%-3d|%x|%o|%b|%c%c|%T" 7 7 -255 8 5 72 105 1}}', '007|7  |-ff|10|101|Hi|int'],
  ['{{.State.Pid | printf "%v"}}', '0'],
  ['{{"a" | printf "%s-%s" "b"}}', 'b-a'],
  ['{{upper .State.Status}}|{{.State.Status | upper}}|{{lower "ABC" | upper | printf "<%s>"}}', 'CREATED|CREATED|<ABC>'],
  ['{{title "hello world-foo bar_baz"}}', 'Hello World-Foo Bar_baz'],
  ['{{split "a,b,c" ","}}|{{join (split "a,b,c" ",") "+"}}|{{split "ab" ""}}', '[a b c]|a+b+c|[a b]'],
  ['{{pad "ab" 2 1}}|{{pad "" 2 1}}|{{truncate "abcdef" 3}}|{{truncate "ab" 3}}', '  ab ||abc|ab'],
  ['{{len .Config.Cmd}} {{len .Name}} {{len "héllo"}} {{len .Config.Labels}}', '3 3 6 1'],
  ['{{slice .Name 1 3}}|{{slice "abcdef" 2}}|{{slice .Config.Cmd 1}}', 'c1|cdef|[-c echo "x && y" > /dev/null]'],
  ['{{index .Config.Cmd 1}}|{{index "abc" 1}}', '-c|98'],
  ['{{print 1 2 "a" "b" 3}}|{{print nil}}|{{print 1.5 true}}', '1 2ab3|<nil>|1.5 true'],
  ['{{println "a" 1}}', 'a 1\n'],
  ['{{not .State.Running}}{{not 0}}{{not "x"}}', 'truetruefalse'],
  ['{{and 1 0 2}}{{or 0 "" "x"}}', '0x'],
  ['{{lt 1 2}}{{le 2 2}}{{gt 1 2}}{{ge 3 2}}{{ne 1 2}}{{lt "a" "b"}}', 'truetruefalsetruetruetrue'],
  ['{{html "<a&b>"}}|{{urlquery "a b&c"}}|{{js "a\'b<c"}}', '&lt;a&amp;b&gt;|a+b%26c|a\\\'b\\u003Cc'],
  ['{{- .Name -}}  {{/* comment */}}  x', '/c1  x'],
  ['{{- .Name -}}  {{- /* comment */ -}}  x', '/c1x'],
  ['  x  {{- 3 -}}  y', '  x3y'],
  ['{{-3}}|{{- 3}}', '-3|3'],
  ['{{`raw\\n`}}|{{"esc\\tx"}}', 'raw\\n|esc\tx'],
  ['{{0x10}} {{1e3}} {{-5}} {{\'a\'}} {{1.5}} {{print nil}}', '16 1000 -5 97 1.5 <nil>'],
  ['{{(index .Config.Cmd 0) | printf "%q"}}', '"sh"'],
  ['{{printf "%v %v" .Config.Cmd .Config.Labels}}', '[sh -c echo "x && y" > /dev/null] map[a:b]'],
  ['{{with $x := .Name}}{{$x}}{{end}}', '/c1'],
  ['{{.Config.Entrypoint}}|{{json .Config.Entrypoint}}', '<no value>|null'],
  ['{{eq .State.Pid "x"}}', 'false'],
  ['{{"a\\"b"}}', 'a"b'],
  ["{{'\\''}}", '39'],
];

for (const [src, want] of CASES) {
  test(`template ${src}`, () => assert.equal(run(src), want));
}

/** [template, docker's stderr] for templates docker rejects; stdout is "\n" (exec) or empty (parse, status 64). */
const ERRORS: [string, string, number][] = [
  ['{{.Nope}}', 'template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope"', 1],
  ['{{.Config.Nope}}', 'template: :1:9: executing "" at <.Config.Nope>: map has no entry for key "Nope"', 1],
  ['{{.State.Health.Status}}', 'template: :1:8: executing "" at <.State.Health.Status>: map has no entry for key "Health"', 1],
  ['{{.State.Running.Foo}}', 'template: :1:8: executing "" at <.State.Running.Foo>: can\'t evaluate field Foo in type interface {}', 1],
  ['{{join .Config.Labels ","}}', 'template: :1:14: executing "" at <.Config.Labels>: wrong type for value; expected []string; got map[string]interface {}', 1],
  ['{{index .Config.Cmd 9}}', 'template: :1:2: executing "" at <index .Config.Cmd 9>: error calling index: index out of range: 9', 1],
  ['{{.Name 1}}', 'template: :1:2: executing "" at <.Name>: Name is not a method but has arguments', 1],
  ['{{eq .Config.Cmd .Config.Cmd}}', 'template: :1:2: executing "" at <eq .Config.Cmd .Config.Cmd>: error calling eq: non-comparable type [sh -c echo "x && y" > /dev/null]: []interface {}', 1],
  ['{{.Nope', 'template: :1: unclosed action', 64],
  ['{{.Name}', 'template: :1: bad character U+007D \'}\'', 64],
  ['{{.Name }', 'template: :1: unexpected "}" in operand', 64],
  ['{{ | .Name}}', 'template: :1: unexpected "|" in command', 64],
  ['{{nope}}', 'template: :1: function "nope" not defined', 64],
  ['{{end}}', 'template: :1: unexpected {{end}}', 64],
  ['{{if .Name}}', 'template: :1: unexpected EOF', 64],
  ['{{$x}}', 'template: :1: undefined variable "$x"', 64],
  ['{{.Name | "x"}}', 'template: :1: non executable command in pipeline stage 2', 64],
  ['{{"abc}}', 'template: :1: unterminated quoted string', 64],
  ['{{"a\\"}}', 'template: :1: unterminated quoted string', 64],
  ["{{'a}}", 'template: :1: unterminated character constant', 64],
  ['{{"a\nb"}}', 'template: :1: unterminated quoted string', 64],
  ["{{'\n'}}", 'template: :1: unterminated character constant', 64],
];

for (const [src, want, status] of ERRORS) {
  test(`template error ${src}`, () => {
    const r = renderInspect([DATA], src);
    assert.equal(r.status, status);
    assert.equal(r.error, `template parsing error: ${want}`);
    assert.equal(r.out, status === 1 ? '\n' : '');
  });
}

test('function-valued fields are methods taking the following arguments', () => {
  const row = { Name: 'x' };
  Object.defineProperty(row, 'Label', { value: (k: string) => (k === 'a' ? 'b' : ''), enumerable: false });
  assert.equal(parseDocker('{{.Label "a"}}|{{.Label "z"}}|{{json .}}').execute(row, { rootType: 'T' }), 'b||{"Name":"x"}');
  assert.throws(() => parseDocker('{{.Label}}').execute(row), /wrong number of args for Label: want 1 got 0/);
});

test('a struct root names its type for unknown fields', () => {
  assert.throws(() => parseDocker('{{.Nope}}').execute({ ID: 'x' }, { rootType: '*formatter.ContainerContext' }),
    (e: Error) => e instanceof TemplateError && e.message === 'template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.ContainerContext');
});

test('a missing map key prints <no value> outside inspect, and nested lookups stay <no value>', () => {
  assert.equal(parseDocker('{{.a}}|{{.a.b}}|{{index . "a"}}').execute({ x: 1 }), '<no value>|<no value>|<no value>');
});

test('Go float formatting', () => {
  assert.equal(formatFloat(1e6, 'g', -1), '1e+06');
  assert.equal(formatFloat(123456, 'g', -1), '123456');
  assert.equal(formatFloat(0.0001, 'g', -1), '0.0001');
  assert.equal(formatFloat(0.00001, 'g', -1), '1e-05');
  assert.equal(formatFloat(2.5, 'f', 0), '2');
  assert.equal(formatFloat(3.5, 'f', 0), '4');
  assert.equal(formatFloat(1.005, 'f', 2), '1.00');
  assert.equal(goSprintf('%8.3f|%-6d|%6s', [3.14159, 42, 'ab']), '   3.142|42    |    ab');
});

/** A list row as docker's format contexts are: fields are methods, `Label` takes a string. */
function listRow(): object {
  const row = { Name: 'net1', Driver: 'bridge' };
  Object.defineProperty(row, 'Label', { value: (k: string) => (k === 'a' ? 'b' : ''), enumerable: false });
  return row;
}

// Checked against `docker network ls --format …` (a *network.networkContext row).
const LIST_ERRORS: [string, string][] = [
  ['{{json.}}', 'template: :1: unexpected <.> in operand'],
  ['{{.Name nil.}}', 'template: :1: unexpected <.> in operand'],
  ['{{if .Name}}{{else "abcdefghijklmnop"}}{{end}}', 'template: :1: unexpected "\\"abcdefghi"... in else'],
  ["{{'ab'}}", "template: :1: malformed character constant: 'ab'"],
  ['{{.Name -}', 'template: :1: illegal number syntax: "-"'],
  ['{{range $i, $e, $f := .}}{{end}}', 'template: :1: too many declarations in range'],
  ['{{range .}}{{break 1}}{{end}}', 'template: :1: unexpected "1" in {{break}}'],
  ['{{.Label "a" "b"}}', 'template: :1:2: executing "" at <.Label>: wrong number of args for Label: want 1 got 2'],
  ['{{.Label 1}}', 'template: :1:9: executing "" at <1>: expected string; found 1'],
  ['{{.Label nil}}', 'template: :1:9: executing "" at <nil>: cannot assign nil to string'],
  ['{{.Name 1}}', 'template: :1:2: executing "" at <.Name>: wrong number of args for Name: want 0 got 1'],
  ['{{template "x"}}', 'template: :1:11: executing "" at <{{template "x"}}>: template "x" not defined'],
  ['{{.Name.X}}', 'template: :1:7: executing "" at <.Name.X>: can\'t evaluate field X in type string'],
  ['{{$x := 1}}{{$x.Y}}', 'template: :1:15: executing "" at <$x.Y>: can\'t evaluate field Y in type int'],
  ['{{with .Name}}{{.X}}{{end}}', 'template: :1:16: executing "" at <.X>: can\'t evaluate field X in type string'],
  ['{{(.Name).X}}', 'template: :1:3: executing "" at <.Name>: can\'t evaluate field X in type string'],
  ['{{call .Name}}', 'template: :1:2: executing "" at <call .Name>: error calling call: non-function .Name of type string'],
  ['{{len 1 2}}', 'template: :1:2: executing "" at <len>: wrong number of args for len: want 1 got 2'],
  ['{{eq 1}}', 'template: :1:2: executing "" at <eq 1>: error calling eq: missing argument for comparison'],
  ['{{split 1 ","}}', 'template: :1:8: executing "" at <1>: expected string; found 1'],
  ['{{truncate .Name 1.5}}', 'template: :1:17: executing "" at <1.5>: expected integer; found 1.5'],
  ['{{split nil ","}}', 'template: :1:8: executing "" at <nil>: cannot assign nil to string'],
];

for (const [src, want] of LIST_ERRORS) {
  test(`list template error ${src}`, () => {
    assert.throws(() => parseDocker(src).execute(listRow(), { rootType: '*network.networkContext', methods: true }),
      (e: Error) => e instanceof TemplateError && e.message === want);
  });
}

test('inspect with a type: the typed run, then the raw fallback (docker network inspect)', () => {
  const net = { Name: 'n', Labels: {}, IPAM: { Driver: 'default' } };
  const structType = (v: object): string | undefined => (v === net.IPAM ? 'network.IPAM' : undefined);
  const r = (f: string): unknown => renderInspect([net], f, 'network.Inspect', { structType, rawFallback: true });
  assert.deepEqual(r('{{.Labels.zz}}'), { out: '<no value>\n', error: undefined, status: 0 });
  assert.deepEqual(r('{{.IPAM.Nope}}'), { out: '\n', error: 'template parsing error: template: :1:7: executing "" at <.IPAM.Nope>: map has no entry for key "Nope"', status: 1 });
  // without the raw fallback (docker volume inspect) the typed error shows
  assert.equal(renderInspect([net], '{{.Nope}}', 'volume.Volume').error, 'template parsing error: template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type volume.Volume');
});
