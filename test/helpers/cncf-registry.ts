// The CNCF distribution registry (Debian's docker-registry, v2.8) as a test oracle and a
// push/pull target: one process per call on 127.0.0.1 with a free port, a temp storage dir and an
// optional htpasswd file. stop() kills it and removes the dir; an 'exit' hook kills it too, so a
// crashed test run leaves no process behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';

export const CNCF_REGISTRY_BIN = '/usr/bin/docker-registry';
export const haveCncfRegistry = (): boolean => existsSync(CNCF_REGISTRY_BIN);

/** A port nobody listens on right now on 127.0.0.1 (the kernel's pick; racy only against other binders). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface CncfRegistry {
  url: string;
  /** '127.0.0.1:PORT', for image references. */
  host: string;
  dir: string;
  stop(): Promise<void>;
}

export async function startCncfRegistry(opts: { htpasswd?: { user: string; password: string } } = {}): Promise<CncfRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-cncf-registry-'));
  try {
    let auth = '';
    if (opts.htpasswd) {
      const path = join(dir, 'htpasswd');
      await writeFile(path, `${opts.htpasswd.user}:${bcrypt.hashSync(opts.htpasswd.password, 5)}\n`);
      auth = `auth:\n  htpasswd:\n    realm: cncf-registry\n    path: ${path}\n`;
    }
    for (let attempt = 0; ; attempt++) {
      const port = await freePort();
      const config = join(dir, 'config.yml');
      await writeFile(config, [
        'version: 0.1',
        'log:', '  level: error', '  accesslog:', '    disabled: true',
        'storage:', '  filesystem:', `    rootdirectory: ${join(dir, 'data')}`, '  delete:', '    enabled: true',
        'http:', `  addr: 127.0.0.1:${port}`,
        auth,
      ].join('\n'));
      const child = spawn(CNCF_REGISTRY_BIN, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
      const kill = (): void => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); };
      process.on('exit', kill);
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
      const url = `http://127.0.0.1:${port}`;
      const up = await waitUp(child, url);
      if (!up) {
        kill();
        process.off('exit', kill);
        if (attempt < 3 && /address already in use/.test(stderr)) continue;
        throw new Error(`docker-registry did not start: ${stderr.trim()}`);
      }
      return {
        url, host: `127.0.0.1:${port}`, dir,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) {
            const gone = new Promise((r) => child.once('exit', r));
            child.kill('SIGKILL');
            await gone;
          }
          process.off('exit', kill);
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function waitUp(child: ChildProcess, url: string): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    try {
      const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200 || res.status === 401) return true;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
