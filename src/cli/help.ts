// Help and usage text in the Docker CLI's layout (cobra templates as docker configures them).
import { GROUPS, type CommandSpec } from './command.ts';
import { flagUsages } from './flags.ts';
import { GLOBAL_FLAGS } from './globals.ts';

/** docker's "Common Commands", in its order */
const COMMON_ORDER = ['run', 'exec', 'ps', 'build', 'pull', 'push', 'images', 'login', 'logout', 'search', 'version', 'info'];

/** In lists a command shows the first line of its description (cobra's Short). */
const short = (d: string): string => d.split('\n')[0]!;

/** docker wraps flag help at the width of the terminal on stdin, less one; 79 without one. */
const helpCols = (): number => (process.stdin.isTTY ? (process.stdout.columns || 80) : 80) - 1;

/** cobra's command list: names padded to at least 11 columns, then a space. */
const column = (rows: [string, string][]): string => {
  const w = Math.max(11, ...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => `  ${a.padEnd(w)} ${b}`).join('\n');
};

export function usageLine(invokedAs: string, spec: Pick<CommandSpec, 'usage'>): string {
  return `Usage:  ${invokedAs}${spec.usage ? ` ${spec.usage}` : ''}`;
}

export function commandHelp(prog: string, invokedAs: string, spec: CommandSpec): string {
  const parts = [usageLine(invokedAs, spec), spec.description];
  if (spec.paths.length > 1) parts.push(`Aliases:\n  ${spec.paths.map((p) => `${prog} ${p.join(' ')}`).join(', ')}`);
  const flags = flagUsages(spec.flags, helpCols());
  if (flags) parts.push(`Options:\n${flags}`);
  return `${parts.join('\n\n')}\n`;
}

export function groupHelp(prog: string, group: string, specs: CommandSpec[]): string {
  const rows = new Map<string, string>();
  for (const s of specs) {
    const p = s.paths.find((x) => x.length === 2 && x[0] === group);
    if (p && !rows.has(p[1]!)) rows.set(p[1]!, short(s.description));
  }
  const sorted = [...rows].sort(([a], [b]) => a.localeCompare(b));
  return `Usage:  ${prog} ${group} COMMAND\n\n${GROUPS[group]}\n\nCommands:\n${column(sorted)}\n\nRun '${prog} ${group} COMMAND --help' for more information on a command.\n`;
}

export function mainHelp(prog: string, specs: CommandSpec[]): string {
  const top = specs.map((s) => [s, s.paths.find((p) => p.length === 1)] as const).filter(([, p]) => p);
  const common = top.filter(([, p]) => COMMON_ORDER.includes(p![0]!)).map(([s, p]): [string, string] => [p![0]!, short(s.description)])
    .sort(([a], [b]) => COMMON_ORDER.indexOf(a) - COMMON_ORDER.indexOf(b));
  const other = top.filter(([, p]) => !COMMON_ORDER.includes(p![0]!)).map(([s, p]): [string, string] => [p![0]!, short(s.description)])
    .sort(([a], [b]) => a.localeCompare(b));
  const groups = Object.entries(GROUPS).sort(([a], [b]) => a.localeCompare(b)).filter(([g]) => specs.some((s) => s.paths.some((p) => p[0] === g && p.length === 2)));
  return [
    `Usage:  ${prog} [OPTIONS] COMMAND`,
    'A container engine that speaks the Docker Engine API',
    `Common Commands:\n${column(common)}`,
    `Management Commands:\n${column(groups)}`,
    `Commands:\n${column(other)}`,
    `Global Options:\n${flagUsages(GLOBAL_FLAGS, helpCols())}`,
    `Run '${prog} COMMAND --help' for more information on a command.\n`,
  ].join('\n\n');
}
