// Legacy links and the container env, against what moby 20.10 computes (links_test.go, env_test.go).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LinkIndex, linkEnv, linkHostEntry, parseLink, updateHostsAddress } from '../../../../src/engine/container/legacy-links.ts';
import { daemonEnvironment, mergeConfigEnv, replaceOrAppendEnv } from '../../../../src/engine/container/process-env.ts';

test('parseLink: name:alias, a bare name, inspect\'s /name:/parent/alias, and the refusals', () => {
  assert.deepEqual(parseLink('db:sql'), { name: 'db', alias: 'sql' });
  assert.deepEqual(parseLink('db'), { name: 'db', alias: 'db' });
  assert.deepEqual(parseLink('/db:/web/sql'), { name: 'db', alias: 'sql' });
  assert.throws(() => parseLink(''), { message: 'empty string specified for links' });
  assert.throws(() => parseLink('a:b:c'), { message: 'bad format for links: a:b:c' });
});

test('linkEnv: default port, ports sorted tcp first, a contiguous range, name and child env', () => {
  const env = linkEnv('/web/my-db', '172.17.0.2', ['PATH=/bin', 'HOME=/x', 'PASS=a=b', 'BARE'], ['8002/tcp', '53/udp', '8000/tcp', '8001/tcp', '53/tcp']);
  assert.deepEqual(env, [
    'MY_DB_PORT=tcp://172.17.0.2:53',
    'MY_DB_PORT_8000_TCP_START=tcp://172.17.0.2:8000', 'MY_DB_PORT_8000_TCP_ADDR=172.17.0.2', 'MY_DB_PORT_8000_TCP_PROTO=tcp', 'MY_DB_PORT_8000_TCP_PORT_START=8000',
    'MY_DB_PORT_8000_TCP_END=tcp://172.17.0.2:8002', 'MY_DB_PORT_8000_TCP_PORT_END=8002',
    'MY_DB_PORT_53_TCP=tcp://172.17.0.2:53', 'MY_DB_PORT_53_TCP_ADDR=172.17.0.2', 'MY_DB_PORT_53_TCP_PORT=53', 'MY_DB_PORT_53_TCP_PROTO=tcp',
    'MY_DB_PORT_53_UDP=udp://172.17.0.2:53', 'MY_DB_PORT_53_UDP_ADDR=172.17.0.2', 'MY_DB_PORT_53_UDP_PORT=53', 'MY_DB_PORT_53_UDP_PROTO=udp',
    'MY_DB_PORT_8000_TCP=tcp://172.17.0.2:8000', 'MY_DB_PORT_8000_TCP_ADDR=172.17.0.2', 'MY_DB_PORT_8000_TCP_PORT=8000', 'MY_DB_PORT_8000_TCP_PROTO=tcp',
    'MY_DB_PORT_8001_TCP=tcp://172.17.0.2:8001', 'MY_DB_PORT_8001_TCP_ADDR=172.17.0.2', 'MY_DB_PORT_8001_TCP_PORT=8001', 'MY_DB_PORT_8001_TCP_PROTO=tcp',
    'MY_DB_PORT_8002_TCP=tcp://172.17.0.2:8002', 'MY_DB_PORT_8002_TCP_ADDR=172.17.0.2', 'MY_DB_PORT_8002_TCP_PORT=8002', 'MY_DB_PORT_8002_TCP_PROTO=tcp',
    'MY_DB_NAME=/web/my-db',
    'MY_DB_ENV_PASS=a=b',
  ]);
  assert.deepEqual(linkEnv('/web/db', '10.0.0.9', null, []), ['DB_NAME=/web/db']);
});

test('/etc/hosts: the entry names alias, hostname and name (not twice), and follows a new address', () => {
  assert.equal(linkHostEntry('/web/db', '/ldb', 'abc123', '10.0.0.2'), 'db abc123 ldb:10.0.0.2');
  assert.equal(linkHostEntry('/web/ldb', '/ldb', 'abc123', '10.0.0.2'), 'ldb abc123:10.0.0.2');
  const hosts = '127.0.0.1\tlocalhost\n10.0.0.2\tdb abc123 ldb\n10.0.0.3\tdbx\n10.0.0.4\tself\n';
  assert.equal(updateHostsAddress(hosts, 'db', '10.0.0.7'), '127.0.0.1\tlocalhost\n10.0.0.7\tdb abc123 ldb\n10.0.0.3\tdbx\n10.0.0.4\tself\n');
  assert.equal(updateHostsAddress('1.1.1.1\ta.b c\n', 'a.b', '2.2.2.2'), '2.2.2.2\ta.b c\n');
});

test('LinkIndex: names, children, parents, unlink, a renamed parent, a removed child and parent', () => {
  const ix = new LinkIndex();
  assert.equal(ix.link('P', '/web', 'C', 'db'), true);
  assert.equal(ix.link('Q', '/other', 'C', 'db'), true);
  assert.equal(ix.link('P', '/web', 'D', 'db'), false, 'a taken link name is not linked again');
  assert.equal(ix.resolve('web/db'), 'C');
  assert.equal(ix.resolve('/web/db'), 'C');
  assert.equal(ix.resolve('web'), undefined, 'a plain name is no link name');
  assert.deepEqual(ix.children('P'), [['/web/db', 'C']]);
  assert.deepEqual(ix.parents('C'), [['/web/db', 'P'], ['/other/db', 'Q']]);
  assert.deepEqual(ix.namesOf('C'), ['/web/db', '/other/db']);
  ix.renameParent('P', 'web', 'site');
  assert.equal(ix.resolve('web/db'), undefined);
  assert.equal(ix.resolve('site/db'), 'C');
  ix.removed('C', '/ldb');
  assert.equal(ix.goneName('C'), '/ldb', 'links to a removed child stay, with its name');
  assert.equal(ix.resolve('site/db'), 'C');
  ix.unlink('/site/db');
  ix.removed('Q', '/other');
  assert.deepEqual(ix.namesOf('C'), []);
  assert.equal(ix.goneName('C'), undefined, 'forgotten once nothing links to it');
});

test('Config.Env: the user\'s entries first (bare names kept), then the image\'s not overridden', () => {
  assert.deepEqual(mergeConfigEnv(['PATH=/bin', 'A=img'], ['Foo', 'A=1', 'Blank=']), ['Foo', 'A=1', 'Blank=', 'PATH=/bin']);
  assert.deepEqual(mergeConfigEnv(['PATH=/bin'], []), ['PATH=/bin']);
  assert.deepEqual(mergeConfigEnv(null, null), []);
});

test('process env: defaults, link vars, then Config.Env replacing in place, appending, unsetting', () => {
  assert.deepEqual(daemonEnvironment({ hostname: 'h', tty: true, linkEnv: ['DB_NAME=/w/db'], env: ['HOSTNAME', 'PATH=/x', 'A=1', 'Foo', 'DB_NAME=mine'] }),
    ['PATH=/x', 'TERM=xterm', 'DB_NAME=mine', 'A=1']);
  assert.deepEqual(daemonEnvironment({ hostname: 'h', tty: false, linkEnv: [], env: null }),
    ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=h']);
  // as moby: an appended override is not looked up again, so a repeated new key stays twice
  assert.deepEqual(replaceOrAppendEnv(['A=0'], ['B=1', 'B=2', 'A=3', 'A=4']), ['A=4', 'B=1', 'B=2']);
});
