// berth-proxy: the userland port proxy of a berthd run with userland-proxy=true. One process per
// daemon holds the published ports of all its containers (network/port-proxy.ts ForwardTable);
// berthd starts it detached (sys/proxy-process.ts), so published ports outlive a berthd restart,
// and drives it over a unix socket in the daemon's exec root.
//
// Start-up: bind the control socket (a stale one, whose process is gone, is replaced; a live one
// means another proxy serves this daemon: error), write the pidfile, then exactly one JSON line on
// stdout, `{"ok":true,"pid":N}`, or `{"ok":false,"error":"…"}` and exit 1. After the ready line
// stdout is closed (fd 1 becomes /dev/null), so a parent that went away cannot hurt the proxy with
// EPIPE.
//
// Control: one JSON request per line, one JSON answer per line (types/port-forward.ts). When the
// last container's forwards are removed (or an add fails and leaves nothing), the proxy closes the
// control socket and removes the pidfile *before* it answers `exiting: true`, then exits: the next
// request finds no socket and starts a new proxy. A proxy that is given nothing to hold within
// IDLE_MS of starting exits too. SIGTERM/SIGINT close every listener and exit 0.
import net from 'node:net';
import { closeSync, openSync, writeSync } from 'node:fs';
import { chmod, unlink, readFile } from 'node:fs/promises';
import { ForwardTable, checkForwards } from '../network/port-proxy.ts';
import { atomicWrite } from '../util/atomic-write.ts';
import type { ProxyReply, ProxyRequest } from '../types/port-forward.ts';

const USAGE = `Usage: berth-proxy --control SOCKET --pidfile FILE [--debug]

Forwards connections on host addresses to container addresses for one berthd (Berth's docker-proxy).

  --control SOCKET  unix socket berthd drives it on: one JSON line per request
                    {"op":"add","owner":ID,"forwards":[{"proto":"tcp"|"udp","hostIp":"0.0.0.0",
                     "hostPort":8080,"containerIp":"172.17.0.2","containerPort":80}, …]}
                    {"op":"remove","owner":ID} · {"op":"list"}
  --pidfile FILE    where its pid is written
  --debug           log connection errors to stderr
  --help            show this help
`;

/** How long a proxy waits for its first forwards before it exits (berthd died right after starting it). */
const IDLE_MS = 10_000;
/** A request line longer than this closes the connection. */
const MAX_LINE = 1024 * 1024;

function reply(line: object): void {
  writeSync(1, `${JSON.stringify(line)}\n`);
}

/** Closes the ready pipe; reopening /dev/null takes the lowest free fd, which is 1 again. */
function detachStdout(): void {
  closeSync(1);
  const fd = openSync('/dev/null', 'w');
  if (fd !== 1) closeSync(fd);
}

/** Listens on `path`; a socket file nobody answers on (a crashed proxy's) is removed first. */
async function listenControl(server: net.Server, path: string): Promise<void> {
  const listen = (): Promise<void> => new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(path, () => { server.off('error', fail); ok(); });
  });
  try {
    await listen();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    const live = await new Promise<boolean>((done) => {
      const c = net.connect(path);
      c.once('connect', () => { c.destroy(); done(true); });
      c.once('error', () => done(false));
    });
    if (live) throw new Error(`another berth-proxy serves ${path}`);
    await unlink(path).catch(() => {});
    await listen();
  }
  await chmod(path, 0o600);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let control: string | undefined;
  let pidfile: string | undefined;
  let debug = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--help' || a === '-h') {
      process.stdout.write(USAGE);
      return;
    } else if (a === '--debug') {
      debug = true;
    } else if (a === '--control' || a === '--pidfile') {
      const v = args[++i];
      if (!v) { reply({ ok: false, error: `${a} needs a value (see --help)` }); process.exit(1); }
      if (a === '--control') control = v; else pidfile = v;
    } else {
      reply({ ok: false, error: `unknown argument ${JSON.stringify(a)} (see --help)` });
      process.exit(1);
    }
  }
  if (!control || !pidfile) {
    reply({ ok: false, error: 'missing --control or --pidfile (see --help)' });
    process.exit(1);
  }

  const log = debug ? (msg: string) => { process.stderr.write(`berth-proxy: ${msg}\n`); } : undefined;
  // A connection-level fault must never take every other published connection down with it.
  process.on('uncaughtException', (err) => log?.(`uncaught: ${err.stack ?? err}`));
  process.on('unhandledRejection', (err) => log?.(`unhandled rejection: ${String(err)}`));
  process.on('SIGHUP', () => {});

  const ctl = control;
  const pidPath = pidfile;
  const table = new ForwardTable({ log });
  let idle: NodeJS.Timeout | undefined;
  let exiting = false;
  /** Stops taking requests and lets the next proxy have the socket and pidfile; then the caller exits. */
  const retire = async (): Promise<void> => {
    exiting = true;
    server.close(); // a unix socket's file goes with its server
    // The pidfile is ours only while it names us (a new proxy may have taken it over).
    if ((await readFile(pidPath, 'utf8').catch(() => '')).trim() === String(process.pid)) await unlink(pidPath).catch(() => {});
  };

  const handle = async (req: ProxyRequest): Promise<ProxyReply> => {
    if (exiting) return { ok: false, error: 'berth-proxy is exiting' };
    try {
      switch (req?.op) {
        case 'add': {
          if (typeof req.owner !== 'string' || !req.owner) return { ok: false, error: 'invalid request: no owner' };
          try {
            const { forwards } = await table.add(req.owner, checkForwards(req.forwards));
            clearTimeout(idle);
            return { ok: true, pid: process.pid, forwards };
          } catch (err) {
            if (table.size === 0) { await retire(); setImmediate(() => process.exit(0)); }
            return { ok: false, error: (err as Error).message };
          }
        }
        case 'remove': {
          if (typeof req.owner !== 'string') return { ok: false, error: 'invalid request: no owner' };
          await table.remove(req.owner);
          if (table.size > 0) return { ok: true, pid: process.pid };
          await retire();
          setImmediate(() => process.exit(0));
          return { ok: true, pid: process.pid, exiting: true };
        }
        case 'list':
          return { ok: true, pid: process.pid, owners: await table.owners() };
        default:
          return { ok: false, error: `invalid request: unknown op ${JSON.stringify((req as { op?: unknown })?.op)}` };
      }
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
  };

  // Requests are answered one at a time, whichever connection they come on.
  let queue: Promise<unknown> = Promise.resolve();
  const server = net.createServer((conn) => {
    let buf = '';
    conn.setEncoding('utf8');
    conn.on('error', (err) => log?.(`control connection: ${err.message}`));
    conn.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_LINE) { conn.destroy(); return; }
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        queue = queue.then(async () => {
          let req: ProxyRequest;
          try { req = JSON.parse(line) as ProxyRequest; } catch { conn.write(`${JSON.stringify({ ok: false, error: 'invalid request: not JSON' })}\n`); return; }
          const answer = await handle(req);
          if (!conn.destroyed) conn.write(`${JSON.stringify(answer)}\n`);
        });
      }
    });
  });

  try {
    await listenControl(server, ctl);
    await atomicWrite(pidPath, `${process.pid}\n`, 0o644);
  } catch (err) {
    reply({ ok: false, error: `berth-proxy: ${(err as Error).message}` });
    process.exit(1);
  }
  idle = setTimeout(() => { if (table.size === 0) void retire().finally(() => process.exit(0)); }, IDLE_MS);
  reply({ ok: true, pid: process.pid });
  detachStdout();

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    const bail = setTimeout(() => process.exit(0), 2000);
    bail.unref();
    void retire().then(() => table.close()).finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

await main();
