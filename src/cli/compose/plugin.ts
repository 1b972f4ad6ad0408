// `berth compose` as a Docker CLI plugin (`docker compose …`), and `berth compose install-plugin`.
//
// The Docker CLI's plugin protocol (docs/extend/cli_plugins.md in docker/cli): it finds an
// executable `docker-compose` in $DOCKER_CONFIG/cli-plugins (or the system plugin dirs), asks it
// `docker-compose docker-cli-plugin-metadata` for a JSON object, and runs a command as
// `docker-compose [GLOBAL OPTIONS] compose [ARGS…]`: the global options the user gave docker
// (-H, --context, --config, --tls*, -D, -l) come before the plugin's name, as they were typed.
// So the daemon is chosen here the way the Docker CLI chooses it: -H, else the context (--context,
// DOCKER_CONTEXT, config.json's currentContext; a named context's host read from
// $DOCKER_CONFIG/contexts/meta/<sha256 of the name>/meta.json), else DOCKER_HOST, else the default
// socket. bin/docker-compose runs this file; `install-plugin` links it into the plugin dir.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { mkdir, rm, symlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { EngineClient } from '../../client/engine-client.ts';
import { CliError, type Ctx } from '../command.ts';
import { FlagError, Opts, parseFlags, type FlagSpec } from '../flags.ts';
import { GLOBAL_FLAGS, configDir, makeClient } from '../globals.ts';
import { BERTH_VERSION } from '../../types/version.ts';
import type { ComposeCommandSpec } from './command.ts';

/** What `docker-compose docker-cli-plugin-metadata` prints. */
export function pluginMetadata(): string {
  return `${JSON.stringify({ SchemaVersion: '0.1.0', Vendor: 'Berth', Version: `v${BERTH_VERSION}`, ShortDescription: 'Docker Compose', URL: 'https://github.com/berth' }, null, 2)}\n`;
}

/** The plugin directory: --dir, else $DOCKER_CONFIG/cli-plugins, else ~/.docker/cli-plugins. */
export function pluginDir(dir: string | undefined, configDirectory: string): string {
  return dir ? resolve(dir) : join(configDirectory, 'cli-plugins');
}

/**
 * The checkout (or install) this berth runs from: the directory above the running script
 * (dist/berth.cjs, or src/cli/main.ts when the bundle is stale) that holds bin/docker-compose.
 * Not import.meta: the CLI is a CommonJS bundle.
 */
function repoRoot(): string {
  let d = dirname(realpathSync(process.argv[1] ?? '.'));
  for (let i = 0; i < 4; i++, d = dirname(d)) if (existsSync(join(d, 'bin/docker-compose'))) return d;
  throw new CliError('cannot find bin/docker-compose beside this berth');
}

const installPlugin: ComposeCommandSpec = {
  names: ['install-plugin'],
  usage: '[OPTIONS]',
  description: 'Install berth compose as the Docker CLI plugin (docker compose)',
  flags: [{ name: 'dir', type: 'string', desc: 'Plugin directory (default $DOCKER_CONFIG/cli-plugins)' }],
  args: { max: 0 },
  async run(ctx, _args, o) {
    const dir = pluginDir(o.str('dir'), process.env.DOCKER_CONFIG || ctx.configDir);
    await mkdir(dir, { recursive: true });
    const target = join(dir, 'docker-compose');
    // A symlink, so the plugin follows this checkout's updates; bin/docker-compose resolves it.
    await rm(target, { force: true });
    const plugin = join(repoRoot(), 'bin/docker-compose');
    await symlink(plugin, target);
    ctx.out.write(`${target} -> ${plugin}\n`);
    return 0;
  },
};

const metadata: ComposeCommandSpec = {
  names: ['docker-cli-plugin-metadata'],
  usage: '',
  description: '(hidden) The Docker CLI plugin metadata',
  flags: [],
  async run(ctx) { ctx.out.write(pluginMetadata()); },
};

export const pluginCommands: ComposeCommandSpec[] = [installPlugin, metadata];

/** The Docker CLI's context: the flag, DOCKER_CONTEXT, then config.json's currentContext. */
export function contextName(o: Opts, env: NodeJS.ProcessEnv, configDirectory: string): string {
  const named = o.str('context') || env.DOCKER_CONTEXT;
  if (named) return named;
  try {
    return (JSON.parse(readFileSync(join(configDirectory, 'config.json'), 'utf8')) as { currentContext?: string }).currentContext || 'default';
  } catch {
    return 'default';
  }
}

/** A named context's daemon address, from the Docker CLI's context store. */
export function contextHost(name: string, configDirectory: string): string {
  const dir = createHash('sha256').update(name).digest('hex');
  let meta: { Endpoints?: { docker?: { Host?: string } } };
  try {
    meta = JSON.parse(readFileSync(join(configDirectory, 'contexts/meta', dir, 'meta.json'), 'utf8'));
  } catch {
    throw new CliError(`context "${name}" does not exist`);
  }
  const host = meta.Endpoints?.docker?.Host;
  if (!host) throw new CliError(`context "${name}" has no docker endpoint`);
  return host;
}

/** The global options without --context, and with -H the context's host when one was named. */
function clientOpts(o: Opts, host: string | undefined): Opts {
  const values = new Map<string, string | number | boolean | string[]>();
  for (const s of GLOBAL_FLAGS) {
    if (s.name === 'context' || !o.changed(s.name)) continue;
    values.set(s.name, s.type === 'list' ? o.list(s.name) : s.type === 'bool' ? o.bool(s.name) : s.type === 'int' ? o.int(s.name)! : o.str(s.name)!);
  }
  if (host && !values.has('host')) values.set('host', [host]);
  return new Opts(values, new Map(GLOBAL_FLAGS.map((s): [string, FlagSpec] => [s.name, s])));
}

/** The plugin's entry: `docker-compose docker-cli-plugin-metadata` or `docker-compose [GLOBALS] compose ARGS`. */
export async function pluginMain(argv: string[]): Promise<number> {
  if (argv[0] === 'docker-cli-plugin-metadata') {
    process.stdout.write(pluginMetadata());
    return 0;
  }
  let client: EngineClient | undefined;
  try {
    const g = parseFlags(argv, GLOBAL_FLAGS, false);
    const words = g.args;
    // Run directly (not by docker), `docker-compose up` means `docker compose up`.
    if (words[0] === 'compose') words.shift();
    const env = process.env;
    const cfg = configDir(g.opts, env);
    const ctxName = g.opts.changed('host') ? 'default' : contextName(g.opts, env, cfg);
    const host = ctxName === 'default' ? undefined : contextHost(ctxName, cfg);
    const opts = clientOpts(g.opts, host);
    const ctx: Ctx = {
      client: () => (client ??= makeClient(opts, { ...env, DOCKER_CONTEXT: undefined })),
      out: process.stdout,
      err: process.stderr,
      stdin: process.stdin,
      invokedAs: 'docker compose',
      configDir: cfg,
    };
    const { composeMain } = await import('./main.ts');
    return await composeMain(ctx, words, { prog: 'docker' });
  } catch (e) {
    process.stderr.write(`${e instanceof FlagError ? e.message : e instanceof Error ? e.message : String(e)}\n`);
    return e instanceof FlagError ? 125 : e instanceof CliError ? e.status : 1;
  } finally {
    client?.close();
  }
}

