// Rootless berthd for a user with no range in /etc/subuid and /etc/subgid (issue 20): it still
// starts, mapping the user's own id alone, and says what that costs: every file of every image
// belongs to root in containers (layers are extracted with one owner), and a container cannot run
// as another user (refused with the reason, not runc's "invalid argument").
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { RootlessUser, RootlessDaemon, rootlessSkip } from '../../helpers/rootless.ts';

describe('rootless berthd without a subordinate id range', { skip: rootlessSkip() }, () => {
  let user: RootlessUser;
  let d: RootlessDaemon;

  before(async () => {
    user = await RootlessUser.make({ subids: false });
    d = new RootlessDaemon(user);
    await d.start();
    await d.importBusybox();
  });

  after(async () => {
    await d?.destroy();
    await user?.remove();
    if (user) assert.deepEqual(user.processes(), [], 'no process of the user is left');
  });

  it('starts, mapping the user alone, and warns what will not work', async () => {
    const log = readFileSync(d.logFile, 'utf8');
    assert.match(log, /has no range in \/etc\/subuid and \/etc\/subgid: only one id is mapped/);
    assert.match(log, /usermod --add-subuids/);
    const r = await d.docker(['run', '--rm', 'busybox', 'cat', '/proc/self/uid_map']);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
    assert.deepEqual(rows, [['0', String(user.uid), '1']]);
  });

  it('every file of the image belongs to root in the container', async () => {
    // A layer with a file of uid 1000: id 1000 does not exist in the namespace, so extracting it
    // with its owner would fail (lchown: invalid argument); it is imported, owned by root.
    const tar = await makeTar([{ name: 'owned-by-1000', uid: 1000, body: 'x\n' }]);
    const imp = await d.docker(['import', '-', 'owned:1'], { input: tar });
    assert.equal(imp.code, 0, imp.stderr);
    const st = await d.docker(['create', '--name', 'own1', 'owned:1', 'x']);
    assert.equal(st.code, 0, st.stderr);
    const out = await d.docker(['cp', 'own1:/owned-by-1000', '-']);
    assert.equal(out.code, 0, out.stderr);
    // The tar docker cp writes names the file's owner as the daemon sees it: root.
    const header = Buffer.from(out.stdout, 'latin1').subarray(0, 512);
    assert.equal(Number.parseInt(header.subarray(108, 116).toString().replace(/\0.*$/, '').trim() || '0', 8), 0, 'uid in the tar');
  });

  it('a container as another user is refused with the reason', async () => {
    const before = (await d.docker(['ps', '-aq'])).stdout;
    const r = await d.docker(['run', '--rm', '-u', '1000', 'busybox', 'id']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /maps only one id \(the user has no range in \/etc\/subuid and \/etc\/subgid\), so a container cannot run as 1000:0/);
    assert.equal((await d.docker(['ps', '-aq'])).stdout, before, 'the --rm container is gone');
  });

  it('published ports and exec work as with a range', async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const run = await d.docker(['run', '-d', '--name', 'web1', '-p', `127.0.0.1:${port}:80`, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc']);
    assert.equal(run.code, 0, run.stderr);
    let body = '';
    for (let i = 0; i < 50 && !body; i++) {
      body = await fetch(`http://127.0.0.1:${port}/passwd`).then((res) => res.text(), () => '');
      if (!body) await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(body, /^root:x:0:0:/);
    const ex = await d.docker(['exec', 'web1', 'id', '-u']);
    assert.equal(ex.stdout, '0\n', ex.stderr);
  });
});

/** A tar (ustar) of regular files with the given owners, made with python3's tarfile. */
async function makeTar(files: Array<{ name: string; uid: number; body: string }>): Promise<Buffer> {
  const { runBuffer } = await import('../../helpers/daemon.ts');
  const script = `import io,sys,tarfile,json
files=json.loads(sys.argv[1])
buf=io.BytesIO()
with tarfile.open(fileobj=buf,mode='w',format=tarfile.USTAR_FORMAT) as t:
  for f in files:
    data=f['body'].encode()
    i=tarfile.TarInfo(f['name']); i.size=len(data); i.uid=f['uid']; i.gid=f['uid']; i.mode=0o644; i.mtime=0
    t.addfile(i,io.BytesIO(data))
sys.stdout.buffer.write(buf.getvalue())`;
  return runBuffer('python3', ['-c', script, JSON.stringify(files)]);
}
