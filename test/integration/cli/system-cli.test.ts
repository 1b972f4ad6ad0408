// berth version, info, events and system df/prune against a real berthd, compared with the Docker
// CLI's output for the same commands against the same daemon.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon, makeBusybox } from '../../helpers/daemon.ts';
import { berthCli, BERTH } from '../../helpers/berth-cli.ts';
import { BERTH_VERSION } from '../../../src/types/version.ts';

const ids = (s: string): string => s.replace(/(sha256:)?[0-9a-f]{64}/g, '<id>');

describe('berth version, info, events and system', () => {
  const d = new TestDaemon();
  const { berth, same } = berthCli(d, { bin: process.env.BERTH_TEST_BIN || BERTH, env: { ...d.env, DOCKER_HOST: '' } });
  before(async () => {
    await d.start();
    await makeBusybox(d);
  });
  after(async () => { await d.cleanup(); });

  it('version: berth\'s own Client section, the same Server section as docker, templates', async () => {
    const want = await d.docker(['version']);
    const got = await berth(['version']);
    assert.equal(got.code, 0, got.stderr);
    const [client, server] = got.stdout.split('\n\nServer:');
    assert.equal(`Server:${server}`, want.stdout.slice(want.stdout.indexOf('Server:')));
    assert.equal(client, ['Client:', ` Version:           ${BERTH_VERSION}`, ' API version:       1.47',
      ` Node.js version:   ${process.version}`, ' Git commit:        ', ' Built:             ',
      ` OS/Arch:           linux/${process.arch === 'x64' ? 'amd64' : process.arch}`, ' Context:           default'].join('\n'));
    assert.equal((await berth(['version', '-f', '{{.Server.Version}} {{.Client.APIVersion}} {{.Client.Version}}'])).stdout, `${BERTH_VERSION} 1.47 ${BERTH_VERSION}\n`);
    const wantJson = JSON.parse((await d.docker(['version', '--format', '{{json .Server}}'])).stdout);
    assert.deepEqual(JSON.parse((await berth(['version', '--format', '{{json .Server}}'])).stdout), wantJson);
    const all = JSON.parse((await berth(['version', '--format', 'json'])).stdout);
    assert.deepEqual(Object.keys(all.Client), ['Version', 'ApiVersion', 'DefaultAPIVersion', 'GoVersion', 'Os', 'Arch', 'Context']);
  });

  it('version without a daemon prints the Client section, then the connection error, status 1', async () => {
    const r = await berth(['version'], { host: 'unix:///nonexistent/berth.sock' });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^Client:\n Version: +\S+\n API version: +1\.47\n[\s\S]* Context: +default\n$/);
    assert.equal(r.stderr, 'Cannot connect to the Berth daemon at unix:///nonexistent/berth.sock. Is berthd running?\n');
  });

  it('info prints docker\'s layout (only the client version differs)', async () => {
    const want = await d.docker(['info']);
    const got = await berth(['info']);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(got.stdout, want.stdout.replace(/^ Version: +\S+$/m, ` Version:    ${BERTH_VERSION}`));
    assert.equal(got.stderr, want.stderr);
    assert.equal((await berth(['system', 'info'])).stdout, got.stdout);
    await same(['info', '-f', '{{.ServerVersion}} {{.Driver}} {{.NCPU}} {{json .Plugins}}']);
    await same(['system', 'info', '--format', '{{.ClientInfo.Context}} {{.ClientInfo.Debug}}']);
  });

  it('system df and df -v as docker prints them', async () => {
    await d.docker(['run', '--name', 'dfc', '-v', 'dfvol:/data', 'busybox', 'sh', '-c', 'echo x > /data/f; echo y > /f']);
    await same(['system', 'df']);
    await same(['system', 'df', '--format', '{{.Type}}: {{.TotalCount}} {{.Active}} {{.Size}} {{.Reclaimable}}']);
    await same(['system', 'df', '--format', 'json']);
    const norm = (s: string): string => s.replace(/(\d+|About an?|Less than a) \w+ ago/g, '<ago>').replace(/ {2,}/g, '  ');
    const want = await d.docker(['system', 'df', '-v']);
    const got = await berth(['system', 'df', '-v']);
    assert.equal(norm(got.stdout), norm(want.stdout));
    await d.docker(['rm', 'dfc']);
    await d.docker(['volume', 'rm', 'dfvol']);
  });

  it('system prune: docker\'s warning, each section\'s removals, the total', async () => {
    await same(['system', 'prune'], { input: 'n\n' });
    await same(['system', 'prune', '-a', '--volumes', '--filter', 'label=a=b', '--filter', 'until=10m'], { input: 'n\n' });
    await same(['system', 'prune', '--volumes', '--filter', 'until=10m', '-f']);
    const setup = async (): Promise<void> => {
      await d.docker(['create', '--name', 'sp1', '--label', 'p=1', 'busybox', 'true']);
      await d.docker(['network', 'create', '--label', 'p=1', 'spnet']);
      await d.docker(['volume', 'create', '--label', 'p=1', 'spvol']);
    };
    await setup();
    const want = await d.docker(['system', 'prune', '-f', '--volumes', '--filter', 'label=p=1']);
    await d.docker(['volume', 'rm', '-f', 'spvol']);
    await setup();
    const got = await berth(['system', 'prune', '-f', '--volumes', '--filter', 'label=p=1']);
    assert.equal(ids(got.stdout), ids(want.stdout));
    assert.match(want.stdout, /^Deleted Containers:\n[0-9a-f]{64}\n\nDeleted Networks:\nspnet\n\n/);
    await d.docker(['volume', 'rm', '-f', 'spvol']);
  });

  it('events between two times, filtered and formatted, as docker prints them', async () => {
    const since = (Date.now() / 1000 - 1).toFixed(3);
    await d.docker(['create', '--name', 'ev1', '--label', 'z=1', '--label', 'a=2', 'busybox', 'true']);
    await d.docker(['start', '-a', 'ev1']);
    await d.docker(['network', 'create', 'evnet']);
    await d.docker(['network', 'rm', 'evnet']);
    await d.docker(['rm', 'ev1']);
    const until = (Date.now() / 1000 + 0.5).toFixed(3);
    await new Promise((r) => setTimeout(r, 700));
    const got = await same(['events', '--since', since, '--until', until]);
    assert.match(got.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z container create [0-9a-f]{64} \(a=2, image=busybox, name=ev1, z=1\)\n/m);
    assert.match(got.stdout, / network destroy [0-9a-f]{64} \(name=evnet, type=bridge\)\n/);
    await same(['system', 'events', '--since', since, '--until', until, '-f', 'type=network']);
    await same(['events', '--since', since, '--until', until, '--filter', 'event=die', '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Status}}']);
    await same(['events', '--since', since, '--until', until, '--format', '{{json .}}']);
    // a duration: events of the last minute, up to now
    const recent = await berth(['events', '--since', '1m', '--until', '0s', '-f', 'container=ev1', '-f', 'event=destroy']);
    assert.match(recent.stdout, /^\S+ container destroy [0-9a-f]{64} \(a=2, image=busybox, name=ev1, z=1\)\n$/);
  });
});
