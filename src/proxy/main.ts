// berth-proxy: the userland port proxy process, one per container, spawned detached by berthd
// (sys/proxy-process.ts) so published ports outlive a berthd restart.
//
// Protocol with the parent: exactly one JSON line on stdout, `{"ok":true,"forwards":[…]}` with
// the real host ports once everything is bound, or `{"ok":false,"error":"…"}` and exit 1. After
// the ready line stdout is closed (fd 1 becomes /dev/null), so a parent that went away cannot
// hurt the proxy with EPIPE. SIGTERM/SIGINT close every listener and exit 0.
import { closeSync, openSync, writeSync } from 'node:fs';
import { PortProxy, parseForwards } from '../network/port-proxy.ts';

const USAGE = `Usage: berth-proxy --forwards '<JSON array>' [--debug]

Forwards connections on host addresses to container addresses (Berth's docker-proxy).

  --forwards JSON  [{"proto":"tcp"|"udp","hostIp":"0.0.0.0","hostPort":8080,
                     "containerIp":"172.17.0.2","containerPort":80}, …]
                   hostPort 0 picks a free port; the ready line reports it
  --debug          log connection errors to stderr
  --help           show this help
`;

function reply(line: object): void {
  writeSync(1, `${JSON.stringify(line)}\n`);
}

/** Closes the ready pipe; reopening /dev/null takes the lowest free fd, which is 1 again. */
function detachStdout(): void {
  closeSync(1);
  const fd = openSync('/dev/null', 'w');
  if (fd !== 1) closeSync(fd);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let forwardsJson: string | undefined;
  let debug = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--help' || a === '-h') {
      process.stdout.write(USAGE);
      return;
    } else if (a === '--debug') {
      debug = true;
    } else if (a === '--forwards') {
      forwardsJson = args[++i];
    } else if (a.startsWith('--forwards=')) {
      forwardsJson = a.slice('--forwards='.length);
    } else if (a === '--owner') {
      // Only read back from /proc by berthd: which container this proxy serves.
      i++;
    } else {
      reply({ ok: false, error: `unknown argument ${JSON.stringify(a)} (see --help)` });
      process.exit(1);
    }
  }
  if (forwardsJson === undefined) {
    reply({ ok: false, error: 'missing --forwards (see --help)' });
    process.exit(1);
  }

  const log = debug ? (msg: string) => { process.stderr.write(`berth-proxy: ${msg}\n`); } : undefined;
  // A connection-level fault must never take every other published connection down with it.
  process.on('uncaughtException', (err) => log?.(`uncaught: ${err.stack ?? err}`));
  process.on('unhandledRejection', (err) => log?.(`unhandled rejection: ${String(err)}`));
  process.on('SIGHUP', () => {});

  let proxy: PortProxy;
  let forwards;
  try {
    proxy = new PortProxy(parseForwards(forwardsJson), { log });
    forwards = await proxy.start();
  } catch (err) {
    reply({ ok: false, error: (err as Error).message });
    process.exit(1);
  }
  reply({ ok: true, forwards });
  detachStdout();

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    const bail = setTimeout(() => process.exit(0), 2000);
    bail.unref();
    proxy.close().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

await main();
