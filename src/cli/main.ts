// berth: the Docker-compatible client. Finds the command named by the first words of argv
// (`ps`, `container ls`), parses its flags as pflag would, runs it and exits with docker's
// statuses: 125 for usage errors, 1 for failed commands, a container's own for `run`.
import { writeSync } from 'node:fs';
import module from 'node:module';
import type { EngineClient } from '../client/engine-client.ts';
import { CliError, GROUPS, describeError, type CommandSpec, type Ctx } from './command.ts';
import { FlagError, parseFlags } from './flags.ts';
import { GLOBAL_FLAGS, configDir, makeClient } from './globals.ts';
import { commandHelp, groupHelp, mainHelp, usageLine } from './help.ts';
import { FIRST_WORDS, loadAll, loadFamilies } from './commands/index.ts';
import { BERTH_VERSION } from '../types/version.ts';

// Start-up is part of every command's latency: cache V8's compiled code between runs.
module.enableCompileCache?.();

const PROG = 'berth';

function findCommand(commands: CommandSpec[], words: string[]): { spec: CommandSpec; used: number } | undefined {
  for (const n of [2, 1]) {
    if (words.length < n) continue;
    const want = words.slice(0, n).join(' ');
    const spec = commands.find((s) => s.paths.some((p) => p.join(' ') === want));
    if (spec) return { spec, used: n };
  }
  return undefined;
}

function argCountError(invokedAs: string, spec: CommandSpec, n: number): string | undefined {
  const { min, max } = spec.args ?? {};
  const plural = (k: number): string => `${k} argument${k === 1 ? '' : 's'}`;
  let msg: string | undefined;
  if (min !== undefined && min === max) msg = n !== min ? `requires ${plural(min)}` : undefined;
  else if (min !== undefined && max !== undefined) msg = n < min || n > max ? `requires at least ${min} and at most ${plural(max)}` : undefined;
  else if (min !== undefined) msg = n < min ? `requires at least ${plural(min)}` : undefined;
  else if (max === 0) msg = n > 0 ? 'accepts no arguments' : undefined;
  else if (max !== undefined) msg = n > max ? `requires at most ${plural(max)}` : undefined;
  // docker's cli/required.go says "See" only for a minimum alone.
  const verb = min !== undefined && max === undefined ? 'See' : 'Run';
  return msg && `${PROG}: '${invokedAs}' ${msg}\n\n${usageLine(invokedAs, spec)}\n\n${verb} '${invokedAs} --help' for more information\n`;
}

/** Set once process.stdout or process.stderr may hold output that is not yet written. */
let streamed = false;

/**
 * Writes main's own output (version, help, usage errors) straight to the descriptor. Creating
 * process.stdout for a pipe loads net and stream, the biggest part of `berth --version` after
 * Node's own start. Writes to a pipe or a file are synchronous on Linux either way; a pipe that
 * is full and non-blocking (EAGAIN) gets the rest through the stream, which waits for it.
 */
function say(fd: 1 | 2, text: string): void {
  const stream = (): NodeJS.WriteStream => (fd === 1 ? process.stdout : process.stderr);
  // After a command ran, its output may still be queued in the stream: stay behind it.
  if (streamed) return void stream().write(text);
  const buf = Buffer.from(text);
  let done = 0;
  try {
    while (done < buf.length) done += writeSync(fd, buf, done);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EPIPE') return; // the reader has gone (`berth --help | head -1`)
    if (code !== 'EAGAIN') throw e;
    streamed = true;
    stream().write(buf.subarray(done));
  }
}

export async function main(argv: string[]): Promise<number> {
  const out = { write: (s: string) => say(1, s) };
  const err = { write: (s: string) => say(2, s) };
  let client: EngineClient | undefined;
  let invokedAs = PROG;
  try {
    const g = parseFlags(argv, GLOBAL_FLAGS, false);
    if (g.opts.bool('version')) {
      out.write(`Berth version ${BERTH_VERSION}\n`);
      return 0;
    }
    const words = g.args;
    if (g.help || words.length === 0 || (words[0] === 'help' && words.length === 1)) {
      out.write(mainHelp(PROG, await loadAll()));
      return 0;
    }
    if (words[0] === 'help') words.shift();
    const commands = await loadFamilies(FIRST_WORDS[words[0]!] ?? []);
    const found = findCommand(commands, words);
    if (!found) {
      const group = words[0]!;
      if (group in GROUPS && (words.length === 1 || words[1] === '--help' || words[1] === '-h')) {
        out.write(groupHelp(PROG, group, await loadAll()));
        return 0;
      }
      const shown = group in GROUPS ? `${group} ${words[1]}` : group;
      err.write(`${PROG}: unknown command: ${PROG} ${shown}\n\nRun '${PROG} ${group in GROUPS ? `${group} ` : ''}--help' for more information\n`);
      return 1;
    }
    const { spec, used } = found;
    invokedAs = `${PROG} ${words.slice(0, used).join(' ')}`;
    const rest = words.slice(used);
    let parsed;
    try {
      parsed = parseFlags(rest, spec.flags, spec.interspersed ?? true);
    } catch (e) {
      if (!(e instanceof FlagError)) throw e;
      err.write(`${e.message}\n\n${usageLine(invokedAs, spec)}\n\nRun '${invokedAs} --help' for more information\n`);
      return 125;
    }
    if (parsed.help) {
      out.write(commandHelp(PROG, invokedAs, spec));
      return 0;
    }
    const countError = argCountError(invokedAs, spec, parsed.args.length);
    if (countError) {
      err.write(countError);
      return 1;
    }
    // The streams are made when a command first uses one (process.stdin's may not be wanted at all).
    streamed = true;
    const ctx: Ctx = {
      client: () => (client ??= makeClient(g.opts)),
      get out() { return process.stdout; },
      get err() { return process.stderr; },
      get stdin() { return process.stdin; },
      invokedAs,
      configDir: configDir(g.opts),
    };
    return (await spec.run(ctx, parsed.args, parsed.opts)) ?? 0;
  } catch (e) {
    if (e instanceof FlagError) {
      err.write(`${e.message}\n\nRun '${PROG} --help' for more information\n`);
      return 125;
    }
    err.write(`${describeError(e)}\n`);
    return e instanceof CliError ? e.status : 1;
  } finally {
    client?.close();
  }
}

// bin/docker-compose (the Docker CLI plugin) runs this same bundle with BERTH_CLI_PLUGIN=compose:
// one build, and the plugin starts as fast as berth.
const plugin = process.env.BERTH_CLI_PLUGIN;
delete process.env.BERTH_CLI_PLUGIN;
(plugin === 'compose' ? import('./compose/plugin.ts').then((m) => m.pluginMain(process.argv.slice(2))) : main(process.argv.slice(2))).then((code) => {
  // Exit once what was written has been handed to the kernel (pipes to a slow reader); what
  // say() wrote already has been.
  if (streamed) process.stdout.write('', () => process.exit(code));
  else process.exit(code);
});
