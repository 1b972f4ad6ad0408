// Go's encoding/json texts for bodies dockerd cannot decode. Every expected text below was read
// from dockerd 20.10 (Debian docker.io) answering the same body.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goDecode, goUnmarshal } from '../../../src/util/go-json.ts';
import { containerConfigWrapper as wrapper, updateConfig, execConfig, filterArgs, anyValue } from '../../../src/types/go-wire-types.ts';
import type { GoType } from '../../../src/types/go-wire-types.ts';

const decodeCases: [string, GoType, string][] = [
  ['{"Image":"busybox","Cmd":5}', wrapper, 'json: cannot unmarshal number into Go struct field ContainerConfigWrapper.Cmd of type string'],
  ['{"Image":"busybox","Cmd":["a",1]}', wrapper, 'json: cannot unmarshal array into Go struct field ContainerConfigWrapper.Cmd of type string'],
  ['{"Image":"busybox","Env":"A=b"}', wrapper, 'json: cannot unmarshal string into Go struct field ContainerConfigWrapper.Env of type []string'],
  ['{"Image":"busybox","Env":["a",1],"Tty":"x"}', wrapper, 'json: cannot unmarshal number into Go struct field ContainerConfigWrapper.Env of type string'],
  ['{"Image":"busybox","tty":"x"}', wrapper, 'json: cannot unmarshal string into Go struct field ContainerConfigWrapper.Tty of type bool'],
  ['{"Image":"busybox","HostConfig":{"Memory":"1g"}}', wrapper, 'json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Memory of type int64'],
  ['{"Image":"busybox","HostConfig":{"Memory":1.0e3}}', wrapper, 'json: cannot unmarshal number 1.0e3 into Go struct field HostConfig.HostConfig.Memory of type int64'],
  ['{"Image":"busybox","HostConfig":{"BlkioWeight":-1}}', wrapper, 'json: cannot unmarshal number -1 into Go struct field HostConfig.HostConfig.BlkioWeight of type uint16'],
  ['{"Image":"busybox","Memory":"x"}', wrapper, 'json: cannot unmarshal string into Go struct field ContainerConfigWrapper.Memory of type int64'],
  ['{"Image":"busybox","HostConfig":{"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":"3"}}}', wrapper,
    'json: cannot unmarshal string into Go struct field RestartPolicy.HostConfig.RestartPolicy.MaximumRetryCount of type int'],
  ['{"Image":"busybox","HostConfig":{"RestartPolicy":[]}}', wrapper, 'json: cannot unmarshal array into Go struct field HostConfig.HostConfig.RestartPolicy of type container.RestartPolicy'],
  ['{"Image":"busybox","HostConfig":{"Mounts":[{"Type":5}]}}', wrapper, 'json: cannot unmarshal number into Go struct field Mount.HostConfig.Mounts.Type of type mount.Type'],
  ['{"Image":"busybox","ExposedPorts":{"80/tcp":1}}', wrapper, 'json: cannot unmarshal number into Go struct field ContainerConfigWrapper.ExposedPorts of type struct {}'],
  ['{"Image":"busybox","Healthcheck":{"Interval":"1s"}}', wrapper, 'json: cannot unmarshal string into Go struct field HealthConfig.Healthcheck.Interval of type time.Duration'],
  ['{"Image":"busybox","NetworkingConfig":{"EndpointsConfig":{"bridge":{"Aliases":"x"}}}}', wrapper,
    'json: cannot unmarshal string into Go struct field EndpointSettings.NetworkingConfig.EndpointsConfig.Aliases of type []string'],
  ['[1,2]', wrapper, 'json: cannot unmarshal array into Go value of type runconfig.ContainerConfigWrapper'],
  ['{"Memory":"x"}', updateConfig, 'json: cannot unmarshal string into Go struct field UpdateConfig.Memory of type int64'],
  ['[1]', updateConfig, 'json: cannot unmarshal array into Go value of type container.UpdateConfig'],
  ['{"Cmd":"x"}', execConfig, 'json: cannot unmarshal string into Go struct field ExecConfig.Cmd of type []string'],
  ['{"Detach":"x"}', execConfig, 'json: cannot unmarshal string into Go struct field ExecConfig.Detach of type bool'],
  ['{"Image":', wrapper, 'unexpected EOF'],
  ['', wrapper, 'EOF'],
  ['  \n', wrapper, 'EOF'],
  ['not json', execConfig, "invalid character 'o' in literal null (expecting 'u')"],
  ['{"Image":"busybox" x', wrapper, "invalid character 'x' after object key:value pair"],
  ['{"Image":"busybox",}', wrapper, "invalid character '}' looking for beginning of object key string"],
];

test('a body Go cannot decode gets encoding/json\'s text, as dockerd answers it', () => {
  for (const [body, type, want] of decodeCases) assert.throws(() => goDecode(body, type), { message: want }, body);
});

test('filters are read with json.Unmarshal: trailing bytes and a cut input are syntax errors', () => {
  const cases: [string, string][] = [
    ['notjson', "invalid character 'o' in literal null (expecting 'u')"],
    ['{"name":"fa"}', 'json: cannot unmarshal string into Go value of type map[string]bool'],
    ['{"name":{"a":1}}', 'json: cannot unmarshal number into Go value of type bool'],
    ['{}x', "invalid character 'x' after top-level value"],
    ['{', 'unexpected end of JSON input'],
  ];
  for (const [body, want] of cases) assert.throws(() => goUnmarshal(body, filterArgs), { message: want }, body);
});

test('the scanner names the offending byte as Go quotes it', () => {
  const cases: [string, string][] = [
    ['123x', "invalid character 'x' after top-level value"],
    ['{"a":"\\q"}', "invalid character 'q' in string escape code"],
    ['[1,]', "invalid character ']' looking for beginning of value"],
    ['-x', "invalid character 'x' in numeric literal"],
    ['[1.x]', "invalid character 'x' after decimal point in numeric literal"],
    ['[1ex]', "invalid character 'x' in exponent of numeric literal"],
    ["['a']", "invalid character '\\'' looking for beginning of value"],
    ['{"a":"x\ny"}', "invalid character '\\n' in string literal"],
    ['tru', 'unexpected EOF'],
  ];
  for (const [body, want] of cases) assert.throws(() => goDecode(body, anyValue), { message: want }, body);
});

test('a body Go accepts comes back as JSON.parse would give it', () => {
  // a Decoder reads one value: what follows an object is not its business
  assert.deepEqual(goDecode('{"Image":"busybox","Cmd":["true"]} garbage', wrapper), { Image: 'busybox', Cmd: ['true'] });
  assert.deepEqual(goDecode('{"Cmd":"true","HostConfig":{"Memory":null},"Unknown":[1,{"x":2}]}', wrapper),
    { Cmd: 'true', HostConfig: { Memory: null }, Unknown: [1, { x: 2 }] });
  const v = goDecode('{"__proto__":{"x":1},"a":1.5e2,"s":"\\u00e9\\n"}', anyValue) as Record<string, unknown>;
  assert.deepEqual(Object.keys(v), ['__proto__', 'a', 's']);
  assert.equal(v.a, 150);
  assert.equal(v.s, 'é\n');
  assert.equal(Object.getPrototypeOf(v), Object.prototype);
});

test('nesting too deep is a clean refusal, not a stack overflow', () => {
  assert.throws(() => goDecode('['.repeat(50_000), anyValue), { message: 'exceeded max depth' });
  assert.doesNotThrow(() => goDecode('['.repeat(500) + ']'.repeat(500), anyValue));
});
