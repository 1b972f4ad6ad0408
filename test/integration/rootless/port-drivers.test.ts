// RootlessKit's other port driver (issue 20): BERTH_ROOTLESS_PORT_DRIVER=slirp4netns. The builtin
// driver (the default, engine.test.ts) dials the container from inside the namespace; slirp4netns
// can only deliver to its own guest address (tap0's), so berthd holds each port there on the
// wildcard and its DNAT rule or port holder takes the connection on to the container. Both a
// loopback and a wildcard publish must serve from the host, and stop serving once removed.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RootlessUser, RootlessDaemon, rootlessSkip, freePort } from '../../helpers/rootless.ts';

async function get(port: number): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const body = await fetch(`http://127.0.0.1:${port}/passwd`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.text(), () => '');
    if (body) return body;
    await new Promise((r) => setTimeout(r, 100));
  }
  return '';
}

describe('rootless berthd with the slirp4netns port driver', { skip: rootlessSkip() }, () => {
  let user: RootlessUser;
  let d: RootlessDaemon;

  before(async () => {
    user = await RootlessUser.make();
    d = new RootlessDaemon(user);
    await d.start({ env: { BERTH_ROOTLESS_PORT_DRIVER: 'slirp4netns' } });
    await d.importBusybox();
  });

  after(async () => {
    await d?.destroy();
    await user?.remove();
    if (user) assert.deepEqual(user.processes(), [], 'no process of the user is left');
  });

  for (const [what, hostIp] of [['a loopback publish', '127.0.0.1:'], ['a wildcard publish', '']] as const) {
    it(`${what} serves from the host and stops once the container is gone`, async () => {
      const port = await freePort();
      const name = `s4-${port}`;
      const r = await d.docker(['run', '-d', '--name', name, '-p', `${hostIp}${port}:80`, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(await get(port), /^root:x:0:0:/);
      const p = await d.docker(['port', name, '80']);
      assert.equal(p.stdout.split('\n')[0], `${hostIp ? '127.0.0.1' : '0.0.0.0'}:${port}`);
      assert.equal((await d.docker(['rm', '-f', name])).code, 0);
      const after = await fetch(`http://127.0.0.1:${port}/passwd`, { signal: AbortSignal.timeout(2_000) }).then(() => 'answered', () => 'refused');
      assert.equal(after, 'refused');
    });
  }
});
