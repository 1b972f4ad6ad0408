// What testcontainers' users do, against the daemon at DOCKER_HOST; run by testcontainers.test.ts
// in a child process per daemon, because testcontainers finds its container runtime once per
// process (and caches it). Prints one JSON line per step: {step, ok, error?, record}.
// No internet: Ryuk (the reaper, an image from Docker Hub) is off; every container is stopped here.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tar from 'tar-stream';
import { GenericContainer, Network, Wait, type StartedTestContainer } from 'testcontainers';

const BUSYBOX = 'busybox:latest';
const started: StartedTestContainer[] = [];
const scratch = mkdtempSync('/var/tmp/berth-testcontainers-');

async function keep(c: Promise<StartedTestContainer>): Promise<StartedTestContainer> {
  const s = await c;
  started.push(s);
  return s;
}

async function httpGet(url: string): Promise<string> {
  const r = await fetch(url);
  return `${r.status} ${await r.text()}`;
}

async function untarNames(stream: NodeJS.ReadableStream): Promise<Record<string, string>> {
  const extract = tar.extract();
  const files: Record<string, string> = {};
  extract.on('entry', (h, s, next) => {
    const parts: Buffer[] = [];
    s.on('data', (b: unknown) => parts.push(b as Buffer));
    s.on('end', () => { files[`${h.type}:${h.name}`] = Buffer.concat(parts).toString(); next(); });
  });
  const done = new Promise<void>((resolve, reject) => { extract.on('finish', resolve); extract.on('error', reject); });
  (stream as NodeJS.ReadableStream).pipe(extract);
  await done;
  return files;
}

const HTTPD = ['sh', '-c', 'mkdir -p /www && echo tc-ok > /www/index.html && exec httpd -f -p 8080 -h /www'];
let web: StartedTestContainer;

const steps: [string, () => Promise<unknown>][] = [
  ['forListeningPorts: an exposed port mapped on the host answers', async () => {
    web = await keep(new GenericContainer(BUSYBOX).withExposedPorts(8080).withCommand(HTTPD).withWaitStrategy(Wait.forListeningPorts()).start());
    return httpGet(`http://${web.getHost()}:${web.getMappedPort(8080)}/index.html`);
  }],
  ['forLogMessage: start returns once the line is logged', async () => {
    const c = await keep(new GenericContainer(BUSYBOX).withCommand(['sh', '-c', 'sleep 0.3; echo server ready; echo again; exec sleep 300'])
      .withWaitStrategy(Wait.forLogMessage(/server ready/)).start());
    return (await c.exec(['echo', 'after ready'])).output;
  }],
  ['forHealthCheck: start returns when the health check passes', async () => {
    const c = await keep(new GenericContainer(BUSYBOX).withCommand(['sh', '-c', 'sleep 0.5; touch /tmp/ok; exec sleep 300'])
      .withHealthCheck({ test: ['CMD-SHELL', 'test -f /tmp/ok'], interval: 200, timeout: 1000, retries: 50, startPeriod: 0 })
      .withWaitStrategy(Wait.forHealthCheck()).start());
    return (await c.exec(['ls', '/tmp/ok'])).output;
  }],
  ['forHttp: a path, a status code and a body predicate', async () => {
    const c = await keep(new GenericContainer(BUSYBOX).withExposedPorts(8080).withCommand(HTTPD)
      .withWaitStrategy(Wait.forHttp('/index.html', 8080).forStatusCode(200).forResponsePredicate((body) => body === 'tc-ok\n')).start());
    return httpGet(`http://${c.getHost()}:${c.getMappedPort(8080)}/index.html`);
  }],
  ['forOneShotStartup: a command that exits 0', async () => {
    const c = await keep(new GenericContainer(BUSYBOX).withCommand(['sh', '-c', 'echo one shot']).withWaitStrategy(Wait.forOneShotStartup()).start());
    // logs() follows, and its stream does not end for an exited container: read the line only
    const logs = await c.logs();
    const text = await new Promise<string>((resolve) => {
      let got = '';
      const timer = setTimeout(() => resolve(got), 5_000);
      logs.on('data', (b: Buffer | string) => {
        got += b.toString();
        if (got.includes('\n')) { clearTimeout(timer); resolve(got); }
      });
    });
    logs.destroy();
    return text;
  }],
  ['forOneShotStartup: a command that exits 1 fails the start', async () => {
    try {
      await keep(new GenericContainer(BUSYBOX).withCommand(['sh', '-c', 'exit 1']).withWaitStrategy(Wait.forOneShotStartup()).withStartupTimeout(20_000).start());
      return 'started';
    } catch (e) {
      return `failed: ${/Container failed to start|exit|Shell/i.test(String(e)) ? 'as expected' : String(e)}`;
    }
  }],
  ['forAll: a listening port and a log line', async () => {
    const c = await keep(new GenericContainer(BUSYBOX).withExposedPorts(9000).withCommand(['sh', '-c', 'echo listening now; exec nc -ll -p 9000 -e echo pong'])
      .withWaitStrategy(Wait.forAll([Wait.forListeningPorts(), Wait.forLogMessage('listening now')])).start());
    return (await c.exec(['sh', '-c', 'echo | nc 127.0.0.1 9000'])).stdout;
  }],
  ['copyFilesToContainer / copyContentToContainer / copyArchiveFromContainer', async () => {
    const src = join(scratch, 'host.txt');
    writeFileSync(src, 'from the host\n');
    await web.copyFilesToContainer([{ source: src, target: '/data/host.txt' }]);
    await web.copyContentToContainer([{ content: 'inline content\n', target: '/data/inline.txt' }, { content: Buffer.from('buffer\n'), target: '/data/sub/buf.txt', mode: 0o600 }]);
    const seen = (await web.exec(['sh', '-c', 'cat /data/host.txt /data/inline.txt /data/sub/buf.txt; stat -c %a /data/sub/buf.txt'])).output;
    const files = await untarNames(await web.copyArchiveFromContainer('/data'));
    return { seen, files };
  }],
  ['copy files in before start', async () => {
    const src = join(scratch, 'early.txt');
    writeFileSync(src, 'copied before start\n');
    const c = await keep(new GenericContainer(BUSYBOX).withCommand(['sh', '-c', 'cat /early/early.txt /early/content.txt; exec sleep 300'])
      .withCopyFilesToContainer([{ source: src, target: '/early/early.txt' }])
      .withCopyContentToContainer([{ content: 'content before start\n', target: '/early/content.txt' }])
      .withWaitStrategy(Wait.forLogMessage('content before start')).start());
    return (await c.exec(['cat', '/early/early.txt'])).output;
  }],
  ['exec: exit code, stdout and stderr apart, env and workdir', async () => {
    const r = await web.exec(['sh', '-c', 'echo out; echo err >&2; echo $TC_VAR; pwd; exit 2'], { env: { TC_VAR: 'set' }, workingDir: '/tmp' });
    return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
  }],
  ['Network with aliases: one container reaches another by its alias', async () => {
    const network = await new Network().start();
    try {
      const server = await keep(new GenericContainer(BUSYBOX).withNetwork(network).withNetworkAliases('tc-server').withExposedPorts(8080).withCommand(HTTPD)
        .withWaitStrategy(Wait.forListeningPorts()).start());
      const client = await keep(new GenericContainer(BUSYBOX).withNetwork(network).withCommand(['sleep', '300']).start());
      const r = await client.exec(['wget', '-qO-', 'http://tc-server:8080/index.html']);
      const ip = server.getIpAddress(network.getName());
      await client.stop();
      await server.stop();
      return { exitCode: r.exitCode, body: r.stdout, haveIp: /^\d+\.\d+\.\d+\.\d+$/.test(ip) };
    } finally {
      await network.stop();
    }
  }],
  ['GenericContainer.fromDockerfile builds an image that runs', async () => {
    const dir = join(scratch, 'ctx');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir);
    writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox:latest\nARG GREETING=hello\nRUN echo "$GREETING built" > /built\nCMD ["sleep", "300"]\n');
    const image = await GenericContainer.fromDockerfile(dir).withBuildArgs({ GREETING: 'tc' }).build('tc-built:latest', { deleteOnExit: false });
    const c = await keep(image.start());
    return (await c.exec(['cat', '/built'])).output;
  }],
  ['withReuse: the same configuration gives the same container', async () => {
    const make = (): GenericContainer => new GenericContainer(BUSYBOX).withCommand(['sleep', '300']).withLabels({ 'tc.reuse': 'yes' }).withReuse();
    const a = await keep(make().start());
    const b = await make().start();
    const same = a.getId() === b.getId();
    return { same };
  }],
  ['stop removes the containers it started', async () => {
    for (const c of started.splice(0).reverse()) await c.stop({ timeout: 1000 }).catch(() => {});
    const { getContainerRuntimeClient } = await import('testcontainers');
    const client = await getContainerRuntimeClient();
    const left = await client.container.list();
    return left.filter((x) => x.Labels?.['org.testcontainers'] === 'true').map((x) => `${x.Command} ${x.State}`).sort();
  }],
];

try {
  for (const [step, fn] of steps) {
    try {
      const record = await fn();
      process.stdout.write(`${JSON.stringify({ step, ok: true, record })}\n`);
    } catch (e) {
      process.stdout.write(`${JSON.stringify({ step, ok: false, error: (e as Error).stack ?? String(e) })}\n`);
    }
  }
} finally {
  for (const c of started.reverse()) await c.stop({ timeout: 1000 }).catch(() => {});
  rmSync(scratch, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
}
