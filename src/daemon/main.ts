// berthd: parse flags and daemon.json, take the pidfile, open the engine (reconciling what
// runs), serve the API. On SIGTERM/SIGINT it stops listening and exits; containers keep
// running under conmon (live restore) and are found again at the next start.
import { Router } from '../api/router.ts';
import { createApiServer } from '../api/server.ts';
import { registerRoutes } from '../api/routes.ts';
import { Engine } from '../engine/engine.ts';
import { createLogger } from '../util/log.ts';
import { parseDaemonConfig, ConfigError } from './config.ts';
import { takePidfile } from './pidfile.ts';
import { listenAll } from './listen.ts';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';

async function main(): Promise<void> {
  let cfg;
  try {
    cfg = await parseDaemonConfig(process.argv.slice(2));
  } catch (err) {
    if ((err as { code?: string }).code?.startsWith('commander.')) {
      process.exit((err as { exitCode?: number }).exitCode ?? 1);
    }
    process.stderr.write(`berthd: ${(err as Error).message}\n`);
    process.exit(err instanceof ConfigError ? 1 : 1);
  }
  const log = createLogger(cfg.logLevel);
  // A promise nobody awaited is a bug to log, not a reason to drop every client at once.
  process.on('unhandledRejection', (err) => {
    log.error({ err: err instanceof Error ? err.stack : String(err) }, 'unhandled rejection');
  });
  const releasePid = await takePidfile(cfg.pidfile);
  const releaseRoot = await takePidfile(join(cfg.dataRoot, 'berthd.lock'), 'data root lock');
  const engine = await Engine.open({
    dataRoot: cfg.dataRoot, execRoot: cfg.execRoot, runtimePath: cfg.runtime, log, debug: cfg.debug,
    bridge: cfg.bridge, bip: cfg.bip, mtu: cfg.mtu, addressPool: cfg.addressPool, userlandProxy: cfg.userlandProxy, usernsRemap: cfg.usernsRemap || undefined,
    registry: { insecureRegistries: cfg.insecureRegistries, mirrors: cfg.registryMirrors, certsDir: '/etc/berth/certs.d' },
  });
  const router = new Router();
  registerRoutes(router, engine);
  const { servers, sockets } = await listenAll(() => createApiServer(router, { log }), cfg.hosts, log);
  log.info({ dataRoot: cfg.dataRoot, execRoot: cfg.execRoot, pid: process.pid }, 'berthd ready');

  let stopping = false;
  const stop = async (sig: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal: sig }, 'shutting down; containers keep running');
    for (const s of servers) { s.close(); s.closeAllConnections(); }
    await engine.shutdown();
    await Promise.all(sockets.map((p) => rm(p, { force: true })));
    await releaseRoot();
    await releasePid();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`berthd: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
