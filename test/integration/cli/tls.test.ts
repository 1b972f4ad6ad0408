// berthd on TCP with TLS, driven by the real Docker CLI: --tlsverify requires a client
// certificate signed by the daemon's CA; a client without one, or with one from another CA, is
// refused in the handshake; plain HTTP to the TLS port gets Go's "HTTP request to an HTTPS
// server" answer. Hijacked endpoints (run -i, exec -i, attach) work over TLS with stdin EOF.
// Also: SIGHUP reloads daemon.json (and keeps the old config when the file is bad), SIGINT
// shuts down like SIGTERM, live-restore=false stops containers at shutdown, and fd:// serves a
// socket passed in as systemd does (LISTEN_FDS).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, openSync, closeSync, existsSync, mkdirSync, copyFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { TestDaemon, makeBusybox, runCmd, ok, until, sleep, repo, DOCKER, settledWithin } from '../../helpers/daemon.ts';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function openssl(dir: string, args: string[]): Promise<void> {
  const r = await runCmd('openssl', args, { env: { ...process.env, RANDFILE: join(dir, '.rnd') } });
  if (r.code !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

/** A CA, and a certificate it signs with the given extensions. */
async function makeCa(dir: string, name: string): Promise<void> {
  await openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`,
    '-keyout', join(dir, `${name}-key.pem`), '-out', join(dir, `${name}.pem`)]);
}

async function issue(dir: string, ca: string, name: string, ext: string): Promise<void> {
  writeFileSync(join(dir, `${name}.ext`), ext);
  await openssl(dir, ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`,
    '-keyout', join(dir, `${name}-key.pem`), '-out', join(dir, `${name}.csr`)]);
  await openssl(dir, ['x509', '-req', '-in', join(dir, `${name}.csr`), '-CA', join(dir, `${ca}.pem`), '-CAkey', join(dir, `${ca}-key.pem`),
    '-CAcreateserial', '-days', '2', '-extfile', join(dir, `${name}.ext`), '-out', join(dir, `${name}-cert.pem`)]);
}

describe('TCP with TLS (--tlsverify)', () => {
  const certs = mkdtempSync('/tmp/berth-tls-');
  const cfgFile = join(certs, 'daemon.json');
  let port = 0;
  let d: TestDaemon;
  const tlsArgs = (): string[] => ['--tlsverify', '--tlscacert', join(certs, 'ca.pem'), '--tlscert', join(certs, 'client-cert.pem'),
    '--tlskey', join(certs, 'client-key.pem'), '-H', `tcp://127.0.0.1:${port}`];
  // DOCKER_HOST stays on the unix socket in d.env; -H wins over it.
  const tlsDocker = (args: string[], input?: string) => d.docker([...tlsArgs(), ...args], { input });

  before(async () => {
    await makeCa(certs, 'ca');
    await issue(certs, 'ca', 'server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
    await issue(certs, 'ca', 'client', 'extendedKeyUsage=clientAuth\n');
    await makeCa(certs, 'rogue');
    await issue(certs, 'rogue', 'intruder', 'extendedKeyUsage=clientAuth\n');
    writeFileSync(cfgFile, '{}');
    port = await freePort();
    d = new TestDaemon({
      args: ['-H', `tcp://127.0.0.1:${port}`, '--tlsverify', '--tlscacert', join(certs, 'ca.pem'),
        '--tlscert', join(certs, 'server-cert.pem'), '--tlskey', join(certs, 'server-key.pem'), '--config-file', cfgFile],
    });
    await d.start();
    await makeBusybox(d);
  });
  after(async () => {
    await d?.cleanup();
    rmSync(certs, { recursive: true, force: true });
  });

  it('the Docker CLI with --tlsverify and the right certificates works: version, run, run -i, exec -i, attach', async () => {
    const v = await ok(tlsDocker(['version', '--format', '{{.Server.Os}} {{.Server.APIVersion}}']));
    assert.match(v, /^linux 1\.\d+\n$/);
    assert.equal(await ok(tlsDocker(['run', '--rm', 'busybox', 'echo', 'hi'])), 'hi\n');
    // Hijacked with stdin: the CLI's CloseWrite at EOF is a TLS close_notify; the output must still come back.
    assert.equal(await ok(tlsDocker(['run', '-i', '--rm', 'busybox', 'sh', '-c', 'cat; echo done'], 'over tls\n')), 'over tls\ndone\n');
    const id = (await ok(tlsDocker(['run', '-d', '-i', '--name', 'tls-cat', 'busybox', 'sh', '-c', 'cat; echo bye']))).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal(await ok(tlsDocker(['exec', 'tls-cat', 'echo', 'exec over tls'])), 'exec over tls\n');
    assert.equal(await ok(tlsDocker(['exec', '-i', 'tls-cat', 'sh', '-c', 'tr a-z A-Z'], 'shout\n')), 'SHOUT\n');
    await ok(tlsDocker(['rm', '-f', 'tls-cat']));
    // attach (start -ai) with stdin: create -i sets StdinOnce, so stdin EOF ends cat and the container.
    await ok(tlsDocker(['create', '-i', '--name', 'tls-attach', 'busybox', 'sh', '-c', 'cat; echo bye']));
    assert.equal(await ok(tlsDocker(['start', '-ai', 'tls-attach'], 'attached\n')), 'attached\nbye\n');
    await ok(tlsDocker(['rm', 'tls-attach']));
  });

  it('berth with --tlsverify, or DOCKER_TLS_VERIFY + DOCKER_CERT_PATH, works the same; without a client certificate it is refused', async () => {
    const berth = (args: string[], o: { input?: string; env?: NodeJS.ProcessEnv } = {}) =>
      runCmd(join(repo, 'bin/berth'), args, { input: o.input, env: { ...process.env, DOCKER_HOST: '', BERTH_HOST: '', ...o.env }, timeoutMs: 60_000 });
    assert.equal(await ok(berth([...tlsArgs(), 'version', '--format', '{{.Server.Os}}'])), 'linux\n');
    assert.equal(await ok(berth([...tlsArgs(), 'run', '--rm', 'busybox', 'echo', 'hi'])), 'hi\n');
    assert.equal(await ok(berth([...tlsArgs(), 'run', '-i', '--rm', 'busybox', 'sh', '-c', 'cat; echo done'], { input: 'over tls\n' })), 'over tls\ndone\n');
    // Docker's environment: the certificates as ca.pem, cert.pem and key.pem in DOCKER_CERT_PATH.
    const certPath = mkdtempSync('/tmp/berth-tls-env-');
    try {
      for (const [from, to] of [['ca.pem', 'ca.pem'], ['client-cert.pem', 'cert.pem'], ['client-key.pem', 'key.pem']] as const) {
        copyFileSync(join(certs, from), join(certPath, to));
      }
      const env = { DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certPath };
      assert.equal(await ok(berth(['ps', '-a', '--format', '{{.Names}}'], { env })), '');
    } finally {
      rmSync(certPath, { recursive: true, force: true });
    }
    const none = await berth(['--tls', '--tlscacert', join(certs, 'ca.pem'), '-H', `tcp://127.0.0.1:${port}`, 'version', '--format', '{{.Server.Os}}']);
    assert.equal(none.code, 1);
    assert.doesNotMatch(none.stdout, /linux/);
    assert.match(none.stderr, /certificate|handshake|socket hang up|ECONNRESET/i);
  });

  it('the unix socket keeps working beside the TLS port, without TLS', async () => {
    assert.match(await ok(d.docker(['version', '--format', '{{.Server.Os}}'])), /^linux\n$/);
  });

  it('without a client certificate, or with one from another CA, the handshake is refused', async () => {
    // --tls with the CA: the client checks the server but presents no certificate.
    const none = await d.docker(['--tls', '--tlscacert', join(certs, 'ca.pem'), '-H', `tcp://127.0.0.1:${port}`, 'version']);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /tls: certificate required|bad certificate|remote error: tls/);
    assert.doesNotMatch(none.stdout, /Server:/);
    const rogue = await d.docker(['--tlsverify', '--tlscacert', join(certs, 'ca.pem'), '--tlscert', join(certs, 'intruder-cert.pem'),
      '--tlskey', join(certs, 'intruder-key.pem'), '-H', `tcp://127.0.0.1:${port}`, 'version']);
    assert.notEqual(rogue.code, 0);
    // Go's client finds no certificate for the CA names the server asks for, and sends none.
    assert.match(rogue.stderr, /remote error: tls: (certificate required|unknown certificate authority|bad certificate)/);
    // And the client refuses a server that its own CA did not sign.
    const wrongCa = await d.docker(['--tlsverify', '--tlscacert', join(certs, 'rogue.pem'), '--tlscert', join(certs, 'client-cert.pem'),
      '--tlskey', join(certs, 'client-key.pem'), '-H', `tcp://127.0.0.1:${port}`, 'version']);
    assert.notEqual(wrongCa.code, 0);
    assert.match(wrongCa.stderr, /certificate signed by unknown authority/);
  });

  it('plain HTTP to the TLS port fails with Go\'s "HTTP request to an HTTPS server"', async () => {
    const r = await d.docker(['-H', `tcp://127.0.0.1:${port}`, 'version']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Client sent an HTTP request to an HTTPS server/);
  });

  it('SIGHUP reloads registry-mirrors and insecure-registries, reports what needs a restart, and keeps the config when the file is bad', async () => {
    writeFileSync(cfgFile, JSON.stringify({ 'registry-mirrors': ['https://mirror.test:5000'], 'insecure-registries': ['reg.test:5000'], mtu: 1400 }));
    process.kill(d.pid!, 'SIGHUP');
    const mirrors = async (): Promise<string> => (await ok(d.docker(['info', '--format', '{{json .RegistryConfig.Mirrors}}']))).trim();
    await until(async () => (await mirrors()).includes('mirror.test'), 10_000, 'mirrors reloaded');
    assert.match(await mirrors(), /https:\/\/mirror\.test:5000/);
    const index = await ok(d.docker(['info', '--format', '{{json .RegistryConfig.IndexConfigs}}']));
    assert.match(index, /reg\.test:5000/);
    await until(async () => /need a restart.*"mtu"|"keys":\["mtu"\]/.test(d.logTail(200)), 5_000, 'restart warning');

    writeFileSync(cfgFile, '{"registry-mirrors": [');
    process.kill(d.pid!, 'SIGHUP');
    await until(async () => d.logTail(200).includes('Error reloading the configuration'), 5_000, 'reload error logged');
    assert.match(await mirrors(), /mirror\.test/, 'old config kept');
    writeFileSync(cfgFile, JSON.stringify({ bip: '10.1.2.1/24' }));
    process.kill(d.pid!, 'SIGHUP');
    await until(async () => /specified both as a flag and in the configuration file: bip/.test(d.logTail(200)), 5_000, 'conflict logged');
    // Still serving, over TLS too.
    assert.match(await ok(tlsDocker(['version', '--format', '{{.Server.Os}}'])), /^linux\n$/);
    writeFileSync(cfgFile, '{}');
  });
});

describe('shutdown signals, live-restore=false, fd://', () => {
  it('SIGINT shuts down like SIGTERM: exit 0, socket removed, containers keep running (live restore)', async () => {
    const d = new TestDaemon();
    try {
      await d.start();
      await makeBusybox(d);
      await ok(d.docker(['run', '-d', '--name', 'keep', 'busybox', 'sleep', '300']));
      const pid = d.pid!;
      process.kill(pid, 'SIGINT');
      await until(async () => { try { process.kill(pid, 0); return false; } catch { return true; } }, 15_000, 'berthd exit');
      assert.equal(existsSync(d.socket), false, 'socket removed');
      assert.match(d.logTail(20), /"signal":"SIGINT".*shutting down; containers keep running/);
      await d.start();
      assert.equal((await ok(d.docker(['inspect', '-f', '{{.State.Running}}', 'keep']))).trim(), 'true');
    } finally {
      await d.cleanup();
    }
  });

  it('live-restore=false: SIGTERM stops running containers first, as dockerd does', async () => {
    const d = new TestDaemon({ args: ['--live-restore=false'] });
    try {
      await d.start();
      await makeBusybox(d);
      // sleep as pid 1 ignores SIGTERM: the stop timeout (2 s) ends in SIGKILL, within TestDaemon's 10 s.
      await ok(d.docker(['run', '-d', '--name', 'stopme', '--stop-timeout', '2', 'busybox', 'sleep', '300']));
      await d.stop();
      assert.match(d.logTail(20), /shutting down; stopping containers/);
      await d.start();
      assert.equal((await ok(d.docker(['inspect', '-f', '{{.State.Running}} {{.State.ExitCode}}', 'stopme']))).trim(), 'false 137');
    } finally {
      await d.cleanup();
    }
  });

  it('fd:// serves a listening socket passed in as systemd does (LISTEN_FDS=1, fd 3)', async () => {
    const d = new TestDaemon();
    const listener: Server = createServer();
    let child: ChildProcess | undefined;
    try {
      await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
      const port = (listener.address() as { port: number }).port;
      const fd = (listener as unknown as { _handle: { fd: number } })._handle.fd;
      mkdirSync(d.execRoot, { recursive: true });
      const log = openSync(d.logFile, 'a');
      child = spawn(join(repo, 'bin/berthd'), [
        '--data-root', d.dataRoot, '--exec-root', d.execRoot, '-H', `unix://${d.socket}`, '-H', 'fd://',
        '--pidfile', join(d.execRoot, 'berthd.pid'), '--log-level', 'debug',
        '--bridge', d.net.bridge, '--bip', d.net.bip, '--default-address-pool', d.net.pool,
      ], {
        stdio: ['ignore', log, log, fd], env: { ...process.env, LISTEN_FDS: '1' },
      });
      closeSync(log);
      listener.close(); // the child holds its own copy; only it accepts now
      await until(async () => (await runCmd(DOCKER, ['-H', `tcp://127.0.0.1:${port}`, 'version', '--format', '{{.Server.Os}}'], { env: d.env })).stdout === 'linux\n',
        15_000, 'berthd on the activated socket');
      assert.match(d.logTail(100), /"host":"fd:\/\/".*"msg":"API listen on"/);
    } finally {
      if (child && child.exitCode === null) {
        const exited = new Promise((r) => child!.once('exit', r));
        child.kill('SIGTERM');
        await settledWithin(exited, 10_000);
      }
      listener.close();
      await d.cleanup();
    }
  });
});
