// PortBindings checked at create with moby's validatePortBindings text (dockerd 20.10 answers
// HostPort "notaport" with 400 `invalid port specification: "notaport"`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validatePortBindings } from '../../../../src/engine/container/port-spec.ts';
import { validateRenameTarget } from '../../../../src/engine/container/names.ts';

test('a HostPort or container port that is not a port or a range is refused with moby\'s text', () => {
  assert.throws(() => validatePortBindings({ '80/tcp': [{ HostPort: 'notaport' }] }), { message: 'invalid port specification: "notaport"' });
  assert.throws(() => validatePortBindings({ 'x/tcp': [] }), { message: 'invalid port specification: "x"' });
  assert.throws(() => validatePortBindings({ '80/tcp': [{ HostPort: '9000-8000' }] }), { message: 'invalid port specification: "9000-8000"' });
  assert.throws(() => validatePortBindings({ '80/tcp': [{ HostPort: '70000' }] }), { message: 'invalid port specification: "70000"' });
});

test('empty, single and ranged host ports pass', () => {
  assert.doesNotThrow(() => validatePortBindings({ '80/tcp': [{ HostPort: '' }, { HostPort: '8080' }, { HostIp: '127.0.0.1', HostPort: '8000-8010' }], '53/udp': null }));
  assert.doesNotThrow(() => validatePortBindings(null));
});

test('rename reserves "/name" and wraps a refusal as moby\'s ContainerRename does', () => {
  assert.throws(() => validateRenameTarget('bad name'), { message: 'Error when allocating new name: Invalid container name (/bad name), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed' });
  assert.equal(validateRenameTarget('good'), 'good');
  assert.equal(validateRenameTarget('/good'), 'good');
});
