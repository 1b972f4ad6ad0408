// berthd: parse flags and daemon.json, take the pidfile, open the engine (reconciling what
// runs), serve the API. SIGHUP re-reads the configuration and applies what can change live.
// On SIGTERM/SIGINT it stops listening and exits; with live-restore (the default) containers
// keep running under conmon and are found again at the next start, without it they are
// stopped first, as dockerd does.
import { hostname, release } from 'node:os';
import type https from 'node:https';
import { Router } from '../api/router.ts';
import { createApiServer, createTlsApiServer } from '../api/server.ts';
import { registerRoutes } from '../api/routes.ts';
import { Engine } from '../engine/engine.ts';
import { createLogger, type Logger } from '../util/log.ts';
import { parseDaemonConfig, configChanges, ConfigError, UsageError, type DaemonConfig } from './config.ts';
import { takePidfile } from './pidfile.ts';
import { listenAll } from './listen.ts';
import { rm, readFile } from 'node:fs/promises';
import { detectRootless, inInitialUserNamespace, kernelMountsOverlayInUserns, type RootlessMode } from '../sys/rootless.ts';
import { join } from 'node:path';

/** How long a daemon stop without live-restore waits for containers (dockerd's shutdown-timeout is 15 s, plus their own stop timeouts). */
const STOP_ALL_LIMIT_MS = 60_000;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let cfg: DaemonConfig;
  let tlsOptions;
  try {
    cfg = await parseDaemonConfig(argv);
    // node:tls (OpenSSL's TLS, ~6 MB of RSS) only when TLS is on.
    tlsOptions = cfg.tls.enabled ? await (await import('./tls.ts')).loadTlsOptions(cfg.tls) : undefined;
  } catch (err) {
    if (err instanceof UsageError) {
      // --help on stdout, status 0; a bad command line on stderr, status 1 (dockerd's).
      (err.help ? process.stdout : process.stderr).write(err.help ? err.message : `${err.message}\n`, () => process.exit(err.exitCode));
      return;
    }
    process.stderr.write(`berthd: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const log = createLogger(cfg.logLevel);
  // A promise nobody awaited is a bug to log, not a reason to drop every client at once.
  process.on('unhandledRejection', (err) => {
    log.error({ err: err instanceof Error ? err.stack : String(err) }, 'unhandled rejection');
  });
  // Rootless: inside RootlessKit's user namespace (bin/berthd-rootless), what the host lets berthd do.
  let rootless: RootlessMode | undefined;
  if (cfg.rootless && process.geteuid?.() === 0) {
    const uidMap = await readFile('/proc/self/uid_map', 'utf8');
    if (!inInitialUserNamespace(uidMap)) {
      rootless = await detectRootless(process.env);
      if (rootless.singleId) {
        log.warn({}, 'rootless: the user has no range in /etc/subuid and /etc/subgid, so only one id is mapped: every file of every image belongs to root in containers, and a container cannot change to another user (add a range: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 USER)');
      }
      if (!cfg.storageDriver && !kernelMountsOverlayInUserns(release())) {
        cfg.storageDriver = 'fuse-overlayfs';
        log.warn({ kernel: release() }, 'rootless: this kernel (before 5.11) cannot mount overlayfs in a user namespace: root filesystems use fuse-overlayfs');
      }
      if (!rootless.cgroups) log.warn({}, `rootless: containers get no cgroups: ${rootless.cgroupsWhy}; resource limits, pause and unpause are refused`);
    }
  } else if (cfg.rootless) {
    process.stderr.write('berthd: a rootless berthd runs inside RootlessKit\'s namespaces: start it with bin/berthd-rootless (bin/berthd does so for a non-root user)\n');
    process.exit(1);
  }
  const releasePid = await takePidfile(cfg.pidfile);
  const releaseRoot = await takePidfile(join(cfg.dataRoot, 'berthd.lock'), 'data root lock');
  const engine = await Engine.open({
    dataRoot: cfg.dataRoot, execRoot: cfg.execRoot, runtimePath: cfg.runtime, log, debug: cfg.debug,
    bridge: cfg.bridge, bip: cfg.bip, mtu: cfg.mtu, addressPool: cfg.addressPool, userlandProxy: cfg.userlandProxy, ipForwardNoDrop: cfg.ipForwardNoDrop, usernsRemap: cfg.usernsRemap || undefined,
    registry: { insecureRegistries: cfg.insecureRegistries, mirrors: cfg.registryMirrors, certsDir: '/etc/berth/certs.d' },
    defaultUlimits: cfg.defaultUlimits, logDriver: cfg.logDriver, logOpts: cfg.logOpts,
    namespaces: { init: cfg.init, initPath: cfg.initPath, defaultIpcMode: cfg.defaultIpcMode }, rootless,
    storageDriver: cfg.storageDriver ?? 'overlay2',
  });
  const router = new Router();
  registerRoutes(router, engine);
  const tlsServers: https.Server[] = [];
  const { listeners, sockets } = await listenAll({
    plain: () => createApiServer(router, { log }),
    tls: tlsOptions && (() => {
      const s = createTlsApiServer(router, { log }, tlsOptions);
      tlsServers.push(s);
      return s;
    }),
    verify: cfg.tls.verify,
  }, cfg.hosts, log, process.env, process.pid, cfg.rootless);
  log.info({ dataRoot: cfg.dataRoot, execRoot: cfg.execRoot, pid: process.pid, liveRestore: cfg.liveRestore }, 'berthd ready');

  let reloading = Promise.resolve();
  process.on('SIGHUP', () => {
    reloading = reloading.then(async () => { cfg = await reload(argv, cfg, engine, tlsServers, log); });
  });

  let stopping = false;
  const stop = async (sig: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal: sig, liveRestore: cfg.liveRestore }, cfg.liveRestore ? 'shutting down; containers keep running' : 'shutting down; stopping containers');
    for (const l of listeners) l.close();
    if (!cfg.liveRestore) await stopAll(engine, log);
    await engine.shutdown();
    await Promise.all(sockets.map((p) => rm(p, { force: true })));
    await releaseRoot();
    await releasePid();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/** Without live-restore: every running container gets its stop signal and stop timeout, in parallel. */
async function stopAll(engine: Engine, log: Logger): Promise<void> {
  // No restarts by policy while the daemon goes down (moby's IsShuttingDown).
  engine.containers.shuttingDown = true;
  const running = engine.containers.all().filter((c) => c.rec.State.Running);
  const all = Promise.all(running.map((c) => engine.containers.stop(c.rec.Id, {}).catch((err: unknown) => {
    log.warn({ id: c.rec.Id, err: String(err) }, 'stopping container at shutdown failed');
  })));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([all, new Promise((r) => { timer = setTimeout(r, STOP_ALL_LIMIT_MS); })]);
  clearTimeout(timer);
}

/**
 * SIGHUP: the file is read again and merged with the same flags. An invalid file changes
 * nothing. Applied at once: log-level/debug, insecure-registries, registry-mirrors, live-restore
 * (what the next stop does) and renewed TLS files; anything else is logged as needing a restart.
 */
async function reload(argv: string[], old: DaemonConfig, engine: Engine, tlsServers: https.Server[], log: Logger): Promise<DaemonConfig> {
  let next: DaemonConfig;
  let tlsOptions;
  try {
    next = await parseDaemonConfig(argv);
    tlsOptions = old.tls.enabled && tlsServers.length && JSON.stringify(next.tls) === JSON.stringify(old.tls)
      ? await (await import('./tls.ts')).loadTlsOptions(next.tls) : undefined;
  } catch (err) {
    log.error({ err: (err as Error).message, file: old.configFile }, 'Error reloading the configuration; keeping the running one');
    return old;
  }
  const { reload: applied, restart } = configChanges(old, next);
  log.level = next.logLevel;
  engine.opts.debug = next.debug;
  const registry = { ...engine.opts.registry, insecureRegistries: next.insecureRegistries, mirrors: next.registryMirrors };
  engine.images.setRegistrySettings(registry);
  engine.opts.registry = registry;
  if (tlsOptions) {
    for (const s of tlsServers) s.setSecureContext(tlsOptions);
  }
  // What needs a restart keeps its running value, so the next reload reports it again.
  const kept: DaemonConfig = {
    ...old,
    logLevel: next.logLevel, debug: next.debug, insecureRegistries: next.insecureRegistries,
    registryMirrors: next.registryMirrors, liveRestore: next.liveRestore,
  };
  log.info({ reloaded: applied, tlsCertificates: tlsOptions ? 'reloaded' : undefined, file: next.configFile }, 'Reloaded configuration');
  // dockerd's `daemon reload` event, with the values now in force.
  engine.events.emit('daemon', 'reload', engine.id, {
    name: hostname(), debug: String(next.debug), 'insecure-registries': `[${next.insecureRegistries.join(' ')}]`,
    'registry-mirrors': `[${next.registryMirrors.join(' ')}]`, 'live-restore': String(next.liveRestore),
  });
  if (restart.length) log.warn({ keys: restart }, 'configuration changes that need a restart of berthd were not applied');
  return kept;
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`berthd: ${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`berthd: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
