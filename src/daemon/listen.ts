// Listening addresses: unix sockets (mode 0660, group `berth` when it exists; rootless: 0600,
// owned by the user, since the socket is the user's whole privilege), TCP (plain or
// TLS) and systemd socket activation (fd://). As in dockerd, TLS applies to every tcp:// and
// fd:// listener when it is on; unix:// sockets stay plain (file permissions guard them).
import type http from 'node:http';
import type https from 'node:https';
import { connect, createServer, type Server as NetServer, type Socket } from 'node:net';
import { chmod, chown, rm, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../util/log.ts';
import { parseHost, activationFds, selectFds } from './hosts.ts';
import { answerToName } from '../api/server.ts';

/** One open listener; close() stops accepting and drops its connections. */
export interface ApiListener { host: string; close(): void }

export interface ServerFactories {
  plain: () => http.Server;
  /** Set when TLS is on: the server for tcp:// and fd:// hosts. */
  tls?: () => https.Server;
  /** With TLS on and client certificates required (--tlsverify). */
  verify?: boolean;
}

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

function listenOn(server: NetServer, arg: string | { port: number; host: string } | { fd: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => { server.off('error', reject); resolve(); };
    if (typeof arg === 'string') server.listen(arg, done);
    else if ('fd' in arg) server.listen({ fd: arg.fd }, done);
    else server.listen(arg.port, arg.host, done);
  });
}

/**
 * The TLS port's front door. A TLS ClientHello starts with a handshake record (0x16); anything
 * else is a client speaking plain HTTP to it, which gets Go's answer ("Client sent an HTTP
 * request to an HTTPS server.") instead of a bare reset, so `docker -H tcp://…` without --tls
 * says what is wrong. Handshakes go to the https server, whose connections it tracks itself.
 */
function tlsFront(server: https.Server, log: Logger): NetServer {
  return createServer({ pauseOnConnect: true }, (sock: Socket) => {
    sock.on('error', (err) => log.debug({ err: String(err) }, 'connection error before TLS'));
    sock.setTimeout(60_000, () => sock.destroy());
    sock.once('readable', () => {
      const first = sock.read() as Buffer | null;
      if (first === null) { sock.destroy(); return; }
      sock.setTimeout(0);
      sock.unshift(first);
      if (first[0] === 0x16) {
        server.emit('connection', sock);
      } else {
        sock.end('HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n');
      }
    });
  });
}

/** dockerd's warnings for a TCP listener that lets any client in. */
function warnUnauthenticated(h: string, log: Logger): void {
  log.warn({ host: h }, 'Binding to IP address without --tlsverify is insecure and gives root access on this machine to everyone who has access to your network.');
  log.warn({ host: h }, 'Binding to an IP address, even on localhost, can also give access to scripts run in a browser. Be safe out there!');
}

/**
 * Listens on every host; returns the listeners and the unix socket paths to remove at shutdown.
 * Which TCP hosts are allowed without TLS was settled by the configuration (config.ts).
 * `rootless` (DaemonConfig.rootless; without it, whether berthd runs as non-root) makes unix
 * sockets 0600 in a 0700 directory and leaves their owner alone: a user's daemon is reachable
 * by that user only, and a non-root process could not give a socket to root anyway.
 */
export async function listenAll(make: ServerFactories, hosts: string[], log: Logger,
  env: NodeJS.ProcessEnv = process.env, pid = process.pid,
  rootless = (process.geteuid?.() ?? 0) !== 0): Promise<{ listeners: ApiListener[]; sockets: string[] }> {
  const out: ApiListener[] = [];
  const sockets: string[] = [];
  const activated = activationFds(env, pid);
  // Children (conmon, runc) must not think the sockets are theirs (sd_listen_fds(1) unsets these).
  delete env.LISTEN_FDS; delete env.LISTEN_PID; delete env.LISTEN_FDNAMES;
  const secure = (h: string, listen: (s: NetServer) => Promise<void>, name?: string): Promise<ApiListener> => {
    return (async () => {
      if (make.tls) {
        const server = make.tls();
        const front = tlsFront(server, log);
        await listen(front);
        return { host: h, close: () => { front.close(); server.close(); server.closeAllConnections(); } };
      }
      const server = make.plain();
      // A plain TCP listener checks Host (DNS rebinding, api/cross-site.ts): its own name passes.
      if (name !== undefined) answerToName(server, name);
      await listen(server);
      return { host: h, close: () => { server.close(); server.closeAllConnections(); } };
    })();
  };
  try {
    for (const h of hosts) {
      const a = parseHost(h);
      if (a.kind === 'unix') {
        const server = make.plain();
        await mkdir(dirname(a.path), { recursive: true, mode: rootless ? 0o700 : 0o755 });
        if (await answers(a.path)) throw new Error(`${a.path} is in use by another daemon`);
        await rm(a.path, { force: true });
        await listenOn(server, a.path);
        if (rootless) {
          await chmod(a.path, 0o600);
        } else {
          await chmod(a.path, 0o660);
          const gid = await groupId('berth');
          await chown(a.path, 0, gid ?? 0);
        }
        sockets.push(a.path);
        out.push({ host: h, close: () => { server.close(); server.closeAllConnections(); } });
      } else if (a.kind === 'tcp') {
        if (!make.tls || !make.verify) warnUnauthenticated(h, log);
        out.push(await secure(h, (s) => listenOn(s, { host: a.host, port: a.port }), a.host));
      } else {
        for (const fd of selectFds(a.spec, activated)) {
          out.push(await secure(`fd://${fd}`, (s) => listenOn(s, { fd })));
        }
      }
      log.info({ host: h, tls: a.kind !== 'unix' && make.tls !== undefined }, 'API listen on');
    }
  } catch (err) {
    for (const l of out) l.close();
    throw err;
  }
  return { listeners: out, sockets };
}
