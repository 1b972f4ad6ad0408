import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseReference, familiarString, tagKey, normalizedName } from '../../../src/image/reference.ts';
import { applyChanges } from '../../../src/image/change-instructions.ts';
import { cleanEntryName } from '../../../src/image/archive/safe-path.ts';

test('references normalise as Docker does', () => {
  const cases: [string, string, string][] = [
    ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['busybox:1', 'docker.io/library/busybox:1', 'busybox:1'],
    ['library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['docker.io/library/busybox:latest', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['user/app:v2', 'docker.io/user/app:v2', 'user/app:v2'],
    ['localhost:5000/a/b:c', 'localhost:5000/a/b:c', 'localhost:5000/a/b:c'],
    ['127.0.0.1:5000/app', '127.0.0.1:5000/app:latest', '127.0.0.1:5000/app:latest'],
  ];
  for (const [input, key, familiar] of cases) {
    const r = parseReference(input);
    assert.equal(tagKey(r), key, input);
    assert.equal(familiarString(r), familiar, input);
  }
  const dg = parseReference(`host.example/a@sha256:${'a'.repeat(64)}`);
  assert.equal(normalizedName(dg), 'host.example/a');
  assert.equal(dg.digest, `sha256:${'a'.repeat(64)}`);
  assert.throws(() => parseReference('Busybox'), { message: 'invalid reference format: repository name (library/Busybox) must be lowercase' });
  for (const bad of ['', 'a b', 'busybox:', ':tag', 'x@sha256:short', 'a//b']) assert.throws(() => parseReference(bad), /invalid reference format/, bad);
});

test('import --change instructions', () => {
  const c = applyChanges({}, ['CMD ["sh"]', 'ENTRYPOINT echo hi', 'ENV A=1 B="two words"', 'ENV C 3', 'WORKDIR /srv', 'USER nobody',
    'EXPOSE 80 53/udp', 'LABEL k=v', 'VOLUME /data', 'STOPSIGNAL SIGINT']);
  assert.deepEqual(c.Cmd, ['sh']);
  assert.deepEqual(c.Entrypoint, ['/bin/sh', '-c', 'echo hi']);
  assert.deepEqual(c.Env, ['A=1', 'B=two words', 'C=3']);
  assert.equal(c.WorkingDir, '/srv');
  assert.equal(c.User, 'nobody');
  assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
  assert.deepEqual(c.Labels, { k: 'v' });
  assert.deepEqual(c.Volumes, { '/data': {} });
  assert.equal(c.StopSignal, 'SIGINT');
  assert.throws(() => applyChanges({}, ['RUN rm -rf /']), /run is not a valid change command/);
});

test('tar entry paths stay inside the target', () => {
  assert.equal(cleanEntryName('./bin/sh'), 'bin/sh');
  assert.equal(cleanEntryName('/etc/passwd'), 'etc/passwd');
  assert.equal(cleanEntryName('a/../b'), 'b');
  assert.equal(cleanEntryName('./'), '');
  assert.throws(() => cleanEntryName('../../etc/x'), /path escapes the archive/);
  assert.throws(() => cleanEntryName('a/../../x'), /path escapes the archive/);
});
