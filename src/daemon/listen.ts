// Listening addresses: unix sockets (mode 0660, group `berth` when it exists) and plain TCP.
import type { Server } from 'node:http';
import { connect } from 'node:net';
import { chmod, chown, rm, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../util/log.ts';

async function groupId(name: string): Promise<number | undefined> {
  const text = await readFile('/etc/group', 'utf8').catch(() => '');
  const line = text.split('\n').find((l) => l.split(':')[0] === name);
  return line ? Number(line.split(':')[2]) : undefined;
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

function listenOn(server: Server, arg: string | { port: number; host: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => { server.off('error', reject); resolve(); };
    if (typeof arg === 'string') server.listen(arg, done); else server.listen(arg.port, arg.host, done);
  });
}

/** Listens on every host; returns the unix socket paths to remove at shutdown. */
export async function listenAll(servers: () => Server, hosts: string[], log: Logger): Promise<{ servers: Server[]; sockets: string[] }> {
  const out: Server[] = [];
  const sockets: string[] = [];
  for (const h of hosts) {
    const server = servers();
    if (h.startsWith('unix://')) {
      const path = h.slice('unix://'.length);
      await mkdir(dirname(path), { recursive: true, mode: 0o755 });
      if (await answers(path)) throw new Error(`${path} is in use by another daemon`);
      await rm(path, { force: true });
      await listenOn(server, path);
      await chmod(path, 0o660);
      const gid = await groupId('berth');
      await chown(path, 0, gid ?? 0);
      sockets.push(path);
    } else if (h.startsWith('tcp://')) {
      const m = /^tcp:\/\/(\[[^\]]+\]|[^:]*)(?::(\d+))?$/.exec(h);
      if (!m) throw new Error(`invalid host address ${h}`);
      const host = (m[1] || '127.0.0.1').replace(/^\[|\]$/g, '');
      await listenOn(server, { host, port: Number(m[2] ?? 2375) });
      log.warn({ host: h }, 'API listening on TCP without TLS: anyone who can reach it controls this host');
    } else if (h.startsWith('fd://')) {
      throw new Error('fd:// (socket activation) is not supported by berthd');
    } else {
      throw new Error(`invalid host address ${h}: use unix:///path or tcp://addr:port`);
    }
    log.info({ host: h }, 'API listen on');
    out.push(server);
  }
  return { servers: out, sockets };
}
