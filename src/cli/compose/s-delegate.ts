// The compose commands that act on one container (exec, cp) are the berth command of the same name
// once the service is resolved to a container: rather than copy its attach, TTY and archive code,
// they call it with an argument list built from their own flags, parsed by that command's specs.
import { parseFlags } from '../flags.ts';
import type { CommandSpec, Ctx } from '../command.ts';

/** Runs a berth command with `argv` as if typed after its name. */
export async function runBerthCommand(ctx: Ctx, spec: CommandSpec, argv: string[]): Promise<number> {
  const { opts, args } = parseFlags(argv, spec.flags, spec.interspersed ?? true);
  return (await spec.run(ctx, args, opts)) ?? 0;
}

/** A berth command by its short name (`exec`, `cp`) from a list of specs. */
export function findCommand(specs: CommandSpec[], name: string): CommandSpec {
  const spec = specs.find((s) => s.paths.some((p) => p.length === 1 && p[0] === name));
  if (!spec) throw new Error(`berth command ${name} not found`);
  return spec;
}
