// The stream commands' formatting: ps's table and json rows, the log printer's prefixes and
// colours, top/images tables, events lines. Expected texts are Compose v2's
// (cmd/formatter/container.go, cmd/formatter/logs.go, cmd/compose/top.go, pkg/api Event.String).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { psRow, renderPs } from '../../../../src/cli/compose/ps.ts';
import { LineSplitter, LogPrinter, sinceOfRfc3339 } from '../../../../src/cli/compose/log-printer.ts';
import { formatEvent, imagesTable, repoTag, topTable } from '../../../../src/cli/compose/inspect-cmds.ts';
import { canonicalName, projectFilters, shortName, type Listed } from '../../../../src/cli/compose/s-containers.ts';
import { runTty } from '../../../../src/cli/compose/run.ts';

class Sink extends Writable {
  text = '';
  override _write(c: Buffer, _e: string, cb: () => void): void { this.text += c.toString(); cb(); }
}

const NOW = 1_800_000_000;
const web: Listed = {
  Id: 'a'.repeat(64), Created: NOW - 120, Names: ['/shop-web-1'], Image: 'nginx:alpine', ImageID: 'sha256:' + 'b'.repeat(64),
  Command: '/docker-entrypoint.sh nginx -g daemon off;', State: 'running', Status: 'Up 2 minutes',
  Ports: [
    { IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
    { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
  ],
  Labels: { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'web', 'com.docker.compose.container-number': '1', 'com.docker.compose.oneoff': 'False' },
};
const db: Listed = {
  Id: 'c'.repeat(64), Created: NOW - 3600, Names: ['/shop-db-1'], Image: 'postgres:16', Command: 'docker-entrypoint.sh postgres',
  State: 'exited', Status: 'Exited (0) 5 minutes ago', Ports: [],
  Labels: { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'db', 'com.docker.compose.container-number': '1' },
};

describe('compose ps formatting', () => {
  it('the default table: NAME IMAGE COMMAND SERVICE CREATED STATUS PORTS, command quoted and cut at 20', () => {
    const out = renderPs([psRow(db, { exitCode: 0 }, true, NOW), psRow(web, {}, true, NOW)], '');
    assert.equal(out,
      'NAME         IMAGE          COMMAND                  SERVICE   CREATED             STATUS                     PORTS\n' +
      'shop-db-1    postgres:16    "docker-entrypoint.s…"   db        About an hour ago   Exited (0) 5 minutes ago   \n' +
      'shop-web-1   nginx:alpine   "/docker-entrypoint.…"   web       2 minutes ago       Up 2 minutes               0.0.0.0:8080->80/tcp, [::]:8080->80/tcp\n');
  });

  // Compose formats them with the docker CLI's DisplayablePorts; since docker CLI 26 (which Compose
  // v2.3x vendors) an IPv6 address is bracketed, ":::8080" in older releases.
  it('ports as Compose shows them: "0.0.0.0:8080->80/tcp, [::]:8080->80/tcp"', () => {
    const row = psRow(web, {}, true, NOW);
    assert.equal(row.Ports, '0.0.0.0:8080->80/tcp, [::]:8080->80/tcp');
    assert.equal(row.Name, 'shop-web-1');
    assert.equal(row.Service, 'web');
    assert.equal(row.Project, 'shop');
    assert.equal(row.RunningFor, '2 minutes ago');
  });

  it('--format json: one object per line, sorted keys, Publishers in struct order', () => {
    const line = renderPs([psRow(web, { health: '' }, true, NOW)], 'json');
    assert.equal(line.split('\n').length, 2);
    const obj = JSON.parse(line) as Record<string, unknown>;
    assert.deepEqual(Object.keys(obj), [...Object.keys(obj)].sort());
    assert.equal(obj.Name, 'shop-web-1');
    assert.equal(obj.ID, 'a'.repeat(12));
    assert.equal(obj.ExitCode, 0);
    assert.match(line, /"Publishers":\[.*\{"URL":"0\.0\.0\.0","TargetPort":80,"PublishedPort":8080,"Protocol":"tcp"\}/);
  });

  it('a template reads the row and Label', () => {
    const out = renderPs([psRow(web, {}, false, NOW)], '{{.Name}} {{.Service}} {{.Label "com.docker.compose.project"}}');
    assert.equal(out, 'shop-web-1 web shop\n');
  });
});

describe('compose log printer', () => {
  it('pads every prefix to the widest name + 1, then " | "', () => {
    const out = new Sink();
    const p = new LogPrinter(out, out, { color: false, prefix: true });
    p.register('web-1');
    p.register('db-1');
    p.log('db-1', 'ready');
    p.log('web-1', 'listening');
    p.register('worker-10');
    p.log('db-1', 'again');
    assert.equal(out.text, 'db-1   | ready\nweb-1  | listening\ndb-1       | again\n');
  });

  it('no prefix with --no-log-prefix; status lines plain off a terminal', () => {
    const out = new Sink();
    const p = new LogPrinter(out, out, { color: false, prefix: false });
    p.log('web-1', 'hello');
    p.status('web-1', 'exited with code 0');
    assert.equal(out.text, 'hello\nweb-1 exited with code 0\n');
  });

  it("colours follow Compose's cycle: cyan, yellow, green, …", () => {
    const out = new Sink();
    const p = new LogPrinter(out, out, { color: true, prefix: true });
    for (const n of ['a-1', 'b-1', 'c-1']) p.register(n);
    assert.equal(p.prefix('a-1'), '\x1b[36ma-1  | \x1b[0m');
    assert.equal(p.prefix('b-1'), '\x1b[33mb-1  | \x1b[0m');
    assert.equal(p.prefix('c-1'), '\x1b[32mc-1  | \x1b[0m');
    p.status('b-1', 'exited with code 2');
    assert.equal(out.text, '\x1b[33m\r\x1b[Kb-1 exited with code 2\n\x1b[0m');
  });

  it('lines are split across chunks, a last partial line is flushed at the end', () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l));
    s.write(Buffer.from('one\ntw'));
    s.write(Buffer.from('o\nthr'));
    s.end();
    assert.deepEqual(lines, ['one', 'two', 'thr']);
  });

  it('StartedAt becomes a ?since= value', () => {
    assert.equal(sinceOfRfc3339('2026-01-02T03:04:05.123456789Z'), '1767323045.123456789');
    assert.equal(sinceOfRfc3339('0001-01-01T00:00:00Z'), undefined);
  });
});

describe('compose container selection', () => {
  it('label filters as Compose builds them', () => {
    assert.deepEqual(projectFilters('Shop', { services: ['web'] }), ['com.docker.compose.project=shop', 'com.docker.compose.config-hash', 'com.docker.compose.service=web', 'com.docker.compose.oneoff=False']);
    assert.deepEqual(projectFilters('shop', { oneoff: 'include', index: 2 }), ['com.docker.compose.project=shop', 'com.docker.compose.config-hash', 'com.docker.compose.container-number=2']);
  });
  it('names: canonical and without the project; a container_name is kept whole', () => {
    assert.equal(canonicalName({ Names: ['/other/alias', '/shop-web-1'] }), 'shop-web-1');
    assert.equal(shortName(web), 'web-1');
    assert.equal(shortName({ ...web, Names: ['/custom'] }), 'custom');
  });
  it("run's TTY: auto only with a terminal stdin; --tty with --no-tty refused", () => {
    assert.equal(runTty({ interactiveChanged: false }, false, true), false);
    assert.equal(runTty({ interactiveChanged: false }, true, true), true);
    assert.equal(runTty({ noTty: true, interactiveChanged: false }, true, true), false);
    assert.throws(() => runTty({ tty: true, noTty: true, interactiveChanged: false }, true, true), /can't be used together/);
  });
});

describe('compose top, images, events', () => {
  it('top: SERVICE # then ps columns, CMD last, minwidth 4 padding 2', () => {
    const out = topTable([{ service: 'web', replica: '1', titles: ['UID', 'PID', 'CMD', 'C'], processes: [['root', '10', 'nginx', '0']] }]);
    assert.equal(out, 'SERVICE  #   UID   PID  C   CMD\nweb      1   root  10   0   nginx\n');
  });
  it('images: CONTAINER REPOSITORY TAG IMAGE ID SIZE', () => {
    assert.deepEqual(repoTag('docker.io/library/busybox:1.36'), { repository: 'busybox', tag: '1.36' });
    assert.deepEqual(repoTag('busybox'), { repository: 'busybox', tag: 'latest' });
    const out = imagesTable([{ container: 'shop-web-1', repository: 'busybox', tag: 'latest', id: 'sha256:' + 'd'.repeat(64), size: 4_261_550 }]);
    assert.equal(out, 'CONTAINER    REPOSITORY   TAG       IMAGE ID       SIZE\nshop-web-1   busybox      latest    dddddddddddd   4.26MB\n');
  });
  it('events: Compose line format, compose labels left out, one-offs and other services skipped', () => {
    process.env.TZ = 'UTC';
    const ev = { Type: 'container', Action: 'start', Actor: { ID: 'abc', Attributes: { image: 'busybox', name: 'shop-web-1', 'com.docker.compose.service': 'web' } }, timeNano: 1_767_323_045_123_456_789 };
    const line = formatEvent(ev, [], false)!;
    assert.match(line, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} container start abc \(image=busybox, name=shop-web-1\)\n\n$/);
    assert.equal(formatEvent(ev, ['db'], false), undefined);
    const json = JSON.parse(formatEvent(ev, [], true)!) as Record<string, unknown>;
    assert.deepEqual(Object.keys(json), ['action', 'attributes', 'id', 'service', 'time', 'type']);
    assert.equal(json.service, 'web');
  });
});
