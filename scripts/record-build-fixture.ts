// Records what Debian's dockerd 20.10 (classic builder) makes of test/helpers/build-project.ts:
// the config fields the build test compares, in test/fixtures/build/dockerd-20.10-config.json.
// Needs docker.io installed; starts a private dockerd (own roots and socket, no bridge, no
// iptables) and removes it afterwards.   node_modules/.bin/node scripts/record-build-fixture.ts
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { startPrivateDockerd, stopPrivateDockerd } from '../bench/lib.ts';
import { writeProject, CONFIG_FIELDS } from '../test/helpers/build-project.ts';

const repo = join(import.meta.dirname, '..');
const scratch = mkdtempSync('/var/tmp/berth-fixture-');
const server = http.createServer((_req, res) => { res.end('remote file\n'); });
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
const d = await startPrivateDockerd({ dataRoot: join(scratch, 'data'), execRoot: join(scratch, 'exec'), scratch, cliConfig: join(scratch, 'cli') });
try {
  const env = { ...process.env, DOCKER_HOST: `unix://${d.socket}`, DOCKER_CONFIG: join(scratch, 'cli'), DOCKER_BUILDKIT: '0' };
  const tar = execFileSync('bash', [join(repo, 'scripts/busybox-image.sh')], { maxBuffer: 64 << 20 });
  execFileSync('docker', ['import', '-c', 'CMD ["sh"]', '-', 'busybox:latest'], { input: tar, env });
  const ctx = join(scratch, 'ctx');
  writeProject(ctx, url);
  // Not execFileSync: ADD fetches from this process's own HTTP server, which must keep serving.
  const b = await promisify(execFile)('docker', ['build', '-t', 'fixture:1', ctx], { env, maxBuffer: 16 << 20 });
  process.stderr.write(b.stdout);
  const [img] = JSON.parse(execFileSync('docker', ['image', 'inspect', 'fixture:1'], { env }).toString());
  const out = Object.fromEntries(CONFIG_FIELDS.map((k) => [k, img.Config[k] ?? null]));
  writeFileSync(join(repo, 'test/fixtures/build/dockerd-20.10-config.json'), `${JSON.stringify({ dockerd: img.DockerVersion, config: out }, null, 2)}\n`);
  console.log(JSON.stringify(out, null, 2));
} finally {
  await stopPrivateDockerd(d);
  server.close();
  rmSync(scratch, { recursive: true, force: true });
}
