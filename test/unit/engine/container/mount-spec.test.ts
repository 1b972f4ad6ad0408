// moby 20.10's mount parser (volume/mounts/linux_parser.go) as mount-spec.ts reproduces it; each
// error text was checked against dockerd 20.10 (scenarios mounts.scn, mounts-volumes.scn).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseBind, parseMountSpec, parseVolumesFrom, tmpfsData, tmpfsMountOptions, validMountMode } from '../../../../src/engine/container/mount-spec.ts';

describe('mount-spec', () => {
  it('-v entries: binds, volumes, modes', () => {
    assert.deepEqual(parseBind('/h/f.conf:/etc/f.conf:ro'), {
      type: 'bind', source: '/h/f.conf', destination: '/etc/f.conf', rw: false, mode: 'ro', propagation: 'rprivate', copyData: true, createSource: true,
    });
    const v = parseBind('data:/d/:nocopy,ro');
    assert.equal(v.type, 'volume'); assert.equal(v.source, 'data'); assert.equal(v.destination, '/d'); assert.equal(v.copyData, false); assert.equal(v.rw, false);
    assert.equal(parseBind('/h:/x:rshared').propagation, 'rshared');
    assert.equal(parseBind('/anon').type, 'volume');
  });

  it('-v refusals carry moby\'s texts', () => {
    const cases: [string, string][] = [
      ['/foo:rw', "invalid volume specification: '/foo:rw'"],
      ['a:/b:ro:z', "invalid volume specification: 'a:/b:ro:z'"],
      [':/b', "invalid volume specification: ':/b'"],
      ['/h:/w:bogus', 'invalid mode: bogus'],
      ['v:/w:ro,rw', 'invalid mode: ro,rw'],
      ['/h:w', "invalid volume specification: '/h:w': invalid mount config for type \"bind\": invalid mount path: 'w' mount path must be absolute"],
      ['/h:/', "invalid volume specification: '/h:/': invalid mount config for type \"bind\": invalid specification: destination can't be '/'"],
      ['v:/x:shared', "invalid volume specification: 'v:/x:shared': invalid mount config for type \"volume\": field BindOptions must not be specified"],
      ['/h:/x:nocopy', "invalid volume specification: '/h:/x:nocopy': invalid mount config for type \"bind\": field VolumeOptions must not be specified"],
    ];
    for (const [raw, msg] of cases) assert.throws(() => parseBind(raw), { message: msg, name: 'InvalidParameter' }, raw);
  });

  it('--mount entries: a bind source must exist; anonymous volumes cannot be read-only', () => {
    const none = (): boolean => false;
    assert.throws(() => parseMountSpec({ Type: 'bind', Source: '/nope', Target: '/x' }, none), { message: 'invalid mount config for type "bind": bind source path does not exist: /nope' });
    assert.throws(() => parseMountSpec({ Type: 'bind', Target: '/x' }, none), { message: 'invalid mount config for type "bind": field Source must not be empty' });
    assert.throws(() => parseMountSpec({ Type: 'volume', Target: '/x', ReadOnly: true }, none), { message: 'invalid mount config for type "volume": must not set ReadOnly mode when using anonymous volumes' });
    assert.throws(() => parseMountSpec({ Type: 'foo', Target: '/x' }, none), { message: 'invalid mount config for type "foo": mount type unknown' });
    assert.throws(() => parseMountSpec({ Type: 'tmpfs', Source: 'x', Target: '/x' }, none), { message: 'invalid mount config for type "tmpfs": field Source must not be specified' });
    const b = parseMountSpec({ Type: 'bind', Source: '/h/', Target: '/x/', BindOptions: { Propagation: 'rslave' } }, () => true);
    assert.equal(b.source, '/h'); assert.equal(b.destination, '/x'); assert.equal(b.propagation, 'rslave'); assert.equal(b.createSource, false);
  });

  it('--volumes-from modes', () => {
    assert.deepEqual(parseVolumesFrom('c'), { container: 'c', mode: 'rw' });
    assert.deepEqual(parseVolumesFrom('c:ro'), { container: 'c', mode: 'ro' });
    for (const m of ['xx', 'shared', 'nocopy']) assert.throws(() => parseVolumesFrom(`c:${m}`), { message: `invalid mode: ${m}` });
  });

  it('tmpfs data and options (ConvertTmpfsOptions, MergeTmpfsOptions)', () => {
    assert.equal(tmpfsData({ SizeBytes: 2 * 2 ** 20, Mode: 0o700 }, false), 'mode=700,size=2m');
    assert.equal(tmpfsData({ SizeBytes: 1500 }, true), 'ro,size=1500');
    assert.deepEqual(tmpfsMountOptions('size=1m,mode=1777'), ['noexec', 'nosuid', 'nodev', 'rprivate', 'size=1m', 'mode=1777']);
    assert.deepEqual(tmpfsMountOptions('ro,exec'), ['nosuid', 'nodev', 'rprivate', 'ro', 'exec']);
    assert.throws(() => tmpfsMountOptions('bogus'), { message: 'invalid tmpfs option ["bogus"]' });
    assert.ok(validMountMode('z,ro,rprivate,nocopy,cached'));
    assert.ok(!validMountMode('ro,'));
  });
});
