// Images under rootless berthd (issue 20), as a real ordinary user made by the test: a build that
// sets owners other than root keeps them through the user's id mapping (on the host the layer's
// files belong to the matching subordinate id), push and pull against a CNCF registry, save and
// load, commit, cp in and out, and an import whose tar holds device nodes, which an ordinary user
// cannot make (they are skipped, the rest of the tar is imported).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync, readdirSync, lstatSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DOCKER, runCmd, sleep, settledWithin, type Result } from '../../helpers/daemon.ts';
import { CNCF_REGISTRY_BIN, haveCncfRegistry } from '../../helpers/cncf-registry.ts';
import { RootlessDaemon, RootlessUser, rootlessSkip } from '../../helpers/rootless.ts';

const skip = rootlessSkip() || (haveCncfRegistry() ? false : `needs ${CNCF_REGISTRY_BIN} (docker-registry)`);

/** Every path under `root` whose path ends with `suffix` (lstat, no symlinks followed). */
function findUnder(root: string, suffix: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    let names: string[];
    try { names = readdirSync(dir); } catch { return; }
    for (const n of names) {
      const p = join(dir, n);
      if (p.endsWith(suffix)) out.push(p);
      try { if (lstatSync(p).isDirectory()) walk(p); } catch { /* gone */ }
    }
  };
  walk(root);
  return out;
}

describe('rootless berthd: build, push and pull, save and load, commit, cp and import as an ordinary user', { skip }, () => {
  let user: RootlessUser | undefined;
  let d: RootlessDaemon;
  let registry: ChildProcess | undefined;
  let ctx = '';
  let dataRoot = '';

  const ok = async (p: Promise<Result>, what: string): Promise<string> => {
    const r = await p;
    assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  const docker = (args: string[], o: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<Result> =>
    d.docker(args, { timeoutMs: 30_000, ...o });
  /** The Docker CLI as the user with the legacy builder, which berthd serves (no BuildKit). */
  const legacy = (args: string[]): Promise<Result> =>
    user!.run(DOCKER, args, { env: { ...d.dockerEnv(), DOCKER_BUILDKIT: '0' }, timeoutMs: 60_000 });
  /** RootlessKit's child process: the namespaces berthd runs in. */
  const child = (): string => readFileSync(join(user!.xdg, 'berth/rootlesskit/child_pid'), 'utf8').trim();
  /** A command as the user inside RootlessKit's user and network namespaces, where berthd's 127.0.0.1 is. */
  const inNetns = (cmd: string[], timeoutMs = 15_000): Promise<Result> =>
    user!.run('nsenter', ['-t', child(), '-U', '-n', '--preserve-credentials', ...cmd], { timeoutMs });

  const comm = (pid: number): string => { try { return readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { return ''; } };
  /** The registry by its pid (runuser, which started it, does not pass SIGKILL on), then runuser's exit. */
  const stopRegistry = async (): Promise<void> => {
    const r = registry;
    if (!r || r.exitCode !== null || r.signalCode !== null) return;
    const gone = new Promise((res) => r.once('exit', res));
    for (const pid of user!.processes().filter((p) => comm(p) === 'docker-registry')) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    await settledWithin(gone, 5_000);
    if (r.exitCode === null && r.signalCode === null) r.kill('SIGKILL');
  };

  before(async () => {
    user = await RootlessUser.make();
    d = new RootlessDaemon(user);
    await d.start();
    await d.importBusybox();
    dataRoot = join(user.home, '.local/share/berth');
    ctx = join(user.home, 'ctx');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), [
      'FROM busybox',
      // Debian's busybox-static has no adduser applet: the user is written into passwd and group.
      "RUN echo 'app:x:1000:1000::/data:/bin/sh' >> /etc/passwd && echo 'app:x:1000:' >> /etc/group && mkdir /data && chown app /data",
      'COPY --chown=1000:1000 f /data/f',
      'USER app',
      '',
    ].join('\n'));
    writeFileSync(join(ctx, 'f'), 'payload\n');
    for (const p of [ctx, join(ctx, 'Dockerfile'), join(ctx, 'f')]) chownSync(p, user.uid, user.gid);
  });

  after(async () => {
    await stopRegistry();
    if (d) await d.destroy();
    if (user) {
      await user.remove();
      assert.deepEqual(user.processes(), [], `processes of ${user.name} left`);
    }
  });

  it('build keeps owners other than root through the id mapping', async () => {
    await ok(legacy(['build', '-t', 'img1', ctx]), 'build');
    assert.equal((await ok(docker(['run', '--rm', 'img1', 'stat', '-c', '%u %U', '/data/f']), 'run img1')).trim(), '1000 app');
    assert.equal((await ok(docker(['run', '--rm', 'img1', 'id', '-u']), 'id')).trim(), '1000', 'USER app');
    // On the host, container uid 1000 is the user's subordinate id start + 999 (container 0 is the
    // user itself, 1… is the range from its start).
    const host = user!.subuid.start + 999;
    const files = findUnder(dataRoot, '/data/f').filter((p) => lstatSync(p).isFile());
    assert.ok(files.length > 0, `no layer file data/f under ${dataRoot}`);
    for (const p of files) {
      assert.equal(lstatSync(p).uid, host, `${p} owner`);
      assert.equal(readFileSync(p, 'utf8'), 'payload\n');
    }
    const dirs = findUnder(dataRoot, '/data').filter((p) => lstatSync(p).isDirectory() && findUnder(p, '/f').length);
    assert.ok(dirs.length > 0);
    for (const p of dirs) assert.equal(lstatSync(p).uid, host, `${p} owner`);
  });

  it('push and pull against a CNCF registry on berthd\'s own loopback', async () => {
    // RootlessKit runs with --disable-host-loopback: berthd's 127.0.0.1 is its network
    // namespace's own, and slirp4netns does not pass 10.0.2.2 on to the host's loopback, so a
    // registry on the host's 127.0.0.1 (cncf-registry.ts's) is out of berthd's reach, on purpose:
    // the flag keeps containers away from the host's loopback services. A registry on another
    // host address would take test traffic off 127.0.0.0/8. So the registry runs as the user inside
    // RootlessKit's user and network namespaces, on 127.0.0.1:5000 there: loopback traffic only,
    // on berthd's own loopback, where a `--net=host` registry container of the user would listen.
    const dir = join(user!.home, 'registry');
    mkdirSync(dir);
    const config = join(dir, 'config.yml');
    writeFileSync(config, [
      'version: 0.1',
      'log:', '  level: error', '  accesslog:', '    disabled: true',
      'storage:', '  filesystem:', `    rootdirectory: ${join(dir, 'data')}`,
      'http:', '  addr: 127.0.0.1:5000',
      '',
    ].join('\n'));
    for (const p of [dir, config]) chownSync(p, user!.uid, user!.gid);
    registry = spawn('runuser', ['-u', user!.name, '--', 'env', '-i', ...user!.env(),
      'nsenter', '-t', child(), '-U', '-n', '--preserve-credentials', CNCF_REGISTRY_BIN, 'serve', config], { stdio: 'ignore' });
    const probe = ['/usr/bin/python3', '-c', 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:5000/v2/").status)'];
    let up = false;
    for (let i = 0; i < 100 && !up; i++) {
      up = (await inNetns(probe, 5_000)).stdout.trim() === '200';
      if (!up) await sleep(100);
    }
    assert.ok(up, 'the registry did not answer inside the namespace');
    // And it is not on the host's loopback: the two 127.0.0.1 are apart.
    const fromHost = await runCmd('/usr/bin/python3', ['-c', probe[2]!], { timeoutMs: 5_000 });
    assert.notEqual(fromHost.stdout.trim(), '200', 'a registry answers on the host\'s 127.0.0.1:5000');

    const ref = '127.0.0.1:5000/img1:v1';
    const before = (await ok(docker(['run', '--rm', 'img1', 'stat', '-c', '%u %U', '/data/f']), 'run')).trim();
    await ok(docker(['tag', 'img1', ref]), 'tag');
    const pushed = await ok(docker(['push', ref], { timeoutMs: 60_000 }), 'push (127.0.0.0/8 is an insecure registry by default)');
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed)?.[1];
    assert.ok(digest, pushed);
    // The registry holds that manifest, as a client other than berthd reads it.
    const inspected = JSON.parse(await ok(inNetns(['skopeo', 'inspect', '--tls-verify=false', `docker://${ref}`]), 'skopeo inspect'));
    assert.equal(inspected.Digest, digest);
    await ok(docker(['rmi', ref, 'img1']), 'rmi');
    assert.notEqual((await docker(['image', 'inspect', ref])).code, 0);
    const pulled = await ok(docker(['pull', ref], { timeoutMs: 60_000 }), 'pull');
    assert.ok(pulled.includes(digest!), pulled);
    assert.equal((await ok(docker(['run', '--rm', ref, 'stat', '-c', '%u %U', '/data/f']), 'run pulled')).trim(), before);
    await ok(docker(['tag', ref, 'img1']), 'tag back');
    await stopRegistry();
    assert.deepEqual(user!.processes().filter((p) => comm(p) === 'docker-registry'), [], 'the registry outlived its stop');
  });

  it('save and load give the same layers and the same files', async () => {
    const file = join(user!.home, 'img1.tar');
    const layers = (): Promise<string> => ok(docker(['image', 'inspect', '-f', '{{json .RootFS.Layers}}', 'img1']), 'inspect');
    const before = await layers();
    assert.ok(JSON.parse(before).length >= 3, before);
    await ok(docker(['save', 'img1', '-o', file], { timeoutMs: 60_000 }), 'save');
    assert.equal(statSync(file).uid, user!.uid);
    await ok(docker(['rmi', '-f', 'img1']), 'rmi');
    for (const ref of (await ok(docker(['images', '-q', '127.0.0.1:5000/img1']), 'images')).split('\n').filter(Boolean)) {
      await docker(['rmi', '-f', ref]);
    }
    assert.notEqual((await docker(['image', 'inspect', 'img1'])).code, 0);
    await ok(docker(['load', '-i', file], { timeoutMs: 60_000 }), 'load');
    assert.equal(await layers(), before);
    assert.equal((await ok(docker(['run', '--rm', 'img1', 'stat', '-c', '%u %U', '/data/f']), 'run loaded')).trim(), '1000 app');
  });

  it('commit of a running container keeps what it wrote', async () => {
    const id = (await ok(docker(['run', '-d', 'busybox', 'sh', '-c', 'echo committed > /x && sleep 60']), 'run')).trim();
    let written = false;
    for (let i = 0; i < 50 && !written; i++) {
      written = (await docker(['exec', id, 'cat', '/x'])).stdout === 'committed\n';
      if (!written) await sleep(100);
    }
    assert.ok(written);
    await ok(docker(['commit', id, 'img4']), 'commit');
    assert.equal(await ok(docker(['run', '--rm', 'img4', 'cat', '/x']), 'run img4'), 'committed\n');
    await docker(['rm', '-f', id]);
  });

  it('cp into a stopped container and out of a running one', async () => {
    const u = user!;
    const src = join(u.home, 'in.txt');
    writeFileSync(src, 'from the host\n');
    chownSync(src, u.uid, u.gid);
    const id = (await ok(docker(['create', 'busybox', 'sleep', '60']), 'create')).trim();
    await ok(docker(['cp', src, `${id}:/in.txt`]), 'cp in');
    await ok(docker(['start', id]), 'start');
    assert.equal(await ok(docker(['exec', id, 'cat', '/in.txt']), 'cat'), 'from the host\n');
    // Without -a, docker cp keeps the tar's numeric owner (moby's extraction without copyUIDGID
    // still applies the header's ids): the user's host uid, as a number inside the container.
    assert.equal((await ok(docker(['exec', id, 'stat', '-c', '%u', '/in.txt']), 'stat')).trim(), String(u.uid));
    await ok(docker(['exec', id, 'sh', '-c', 'echo from the container > /out.txt']), 'write');
    const dst = join(u.home, 'out.txt');
    await ok(docker(['cp', `${id}:/out.txt`, dst]), 'cp out');
    assert.equal(readFileSync(dst, 'utf8'), 'from the container\n');
    assert.equal(statSync(dst).uid, u.uid, 'the copy belongs to the user');
    await docker(['rm', '-f', id]);
  });

  it('import of a tar with device nodes skips the devices and imports the rest', async () => {
    // Character devices 1:3 (what /dev/null is) at dev/null2 and, outside the /dev that runc
    // mounts over a container's, at odd/null3; a regular file; and the host's static busybox to
    // look with. Made by python3's tarfile, so no device node is ever made on the host.
    const tar = await new Promise<Buffer>((resolve, reject) => {
      const p = spawn('/usr/bin/python3', ['-c', [
        'import io, sys, tarfile',
        'buf = io.BytesIO()',
        'with tarfile.open(fileobj=buf, mode="w") as t:',
        '    for name in ("bin", "dev", "odd"):',
        '        i = tarfile.TarInfo(name); i.type = tarfile.DIRTYPE; i.mode = 0o755; t.addfile(i)',
        '    for name in ("dev/null2", "odd/null3"):',
        '        i = tarfile.TarInfo(name); i.type = tarfile.CHRTYPE; i.devmajor = 1; i.devminor = 3; i.mode = 0o666; t.addfile(i)',
        '    data = b"regular\\n"',
        '    i = tarfile.TarInfo("odd/hello"); i.size = len(data); i.mode = 0o644; t.addfile(i, io.BytesIO(data))',
        '    t.add("/bin/busybox", "bin/busybox")',
        'sys.stdout.buffer.write(buf.getvalue())',
      ].join('\n')], { stdio: ['ignore', 'pipe', 'inherit'] });
      const out: Buffer[] = [];
      p.stdout.on('data', (b: Buffer) => out.push(b));
      p.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`python3 exited ${code}`))));
    });
    await ok(docker(['import', '-', 'img6'], { input: tar }), 'import');
    const bb = (args: string[]): Promise<Result> => docker(['run', '--rm', 'img6', '/bin/busybox', ...args]);
    assert.equal(await ok(bb(['cat', '/odd/hello']), 'cat'), 'regular\n');
    assert.equal((await ok(bb(['ls', '/odd']), 'ls /odd')).trim(), 'hello', 'the device is not in /odd');
    for (const dev of ['/dev/null2', '/odd/null3']) {
      const r = await bb(['ls', '-l', dev]);
      assert.notEqual(r.code, 0, `${dev} is in the container: ${r.stdout}`);
    }
    // Nor anywhere in the user's data root on the host.
    assert.deepEqual([...findUnder(dataRoot, '/null2'), ...findUnder(dataRoot, '/null3')], []);
  });
});
