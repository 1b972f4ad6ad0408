// Command-line flags parsed the way cobra + pflag parse them, so scripts written for `docker` and
// `dockerd` mean the same to `berth` and `berthd`: `--name=v`, `--name v`, `-n v`, `-nv`, `-n=v`,
// grouped short booleans (`-it`, `-itd`, `-dp 80:80`), `--rm=false` (a boolean takes a value only
// after '='), `--` ending the flags, and commands like `run` that stop at their first argument so
// `sh -c '…'` reaches the container untouched. The CLI (cli/flags.ts) and the daemon
// (daemon/config.ts) both use it. Hand-written rather than commander: commander costs ~20 ms of
// start-up per command (measured, BENCHMARKS.md "cli"), ~10 MB of RSS once loaded (measured in a
// bare node), and does not follow pflag's rules for values and booleans.

export type FlagType = 'bool' | 'string' | 'list' | 'int';

export interface FlagSpec {
  name: string;
  short?: string;
  type: FlagType;
  desc: string;
  /** shown in help as `--name string`; defaults to the type name */
  value?: string;
  default?: string | number | boolean;
  hidden?: boolean;
  /** a hidden old name whose values go to this flag, in command-line order (`--net` → `--network`) */
  aliasOf?: string;
}

/** A usage mistake: printed with the command's usage line, exit status 125 (as docker's flag errors). */
export class FlagError extends Error {}

export interface ParseResult { opts: Opts; args: string[]; help: boolean }

export const HELP_FLAG: FlagSpec = { name: 'help', type: 'bool', desc: 'Print usage', hidden: true };

type Value = string | number | boolean | string[];

/** The parsed flags of one command, read through typed accessors. */
export class Opts {
  private readonly values: Map<string, Value>;
  private readonly specs: Map<string, FlagSpec>;

  constructor(values: Map<string, Value>, specs: Map<string, FlagSpec>) {
    this.values = values;
    this.specs = specs;
  }

  /** Whether the flag was given on the command line (docker's `flags.Changed`). */
  changed(name: string): boolean {
    return this.values.has(name);
  }

  bool(name: string): boolean {
    const v = this.values.get(name) ?? this.specs.get(name)?.default;
    return v === true;
  }

  str(name: string): string | undefined {
    const v = this.values.get(name) ?? this.specs.get(name)?.default;
    return v === undefined ? undefined : String(v);
  }

  list(name: string): string[] {
    const v = this.values.get(name);
    return Array.isArray(v) ? v : [];
  }

  int(name: string): number | undefined {
    const v = this.values.get(name) ?? this.specs.get(name)?.default;
    return typeof v === 'number' ? v : undefined;
  }
}

const parseBool = (flag: string, v: string): boolean => {
  if (/^(1|t|true|TRUE|True)$/.test(v)) return true;
  if (/^(0|f|false|FALSE|False)$/.test(v)) return false;
  throw new FlagError(`invalid argument "${v}" for "${flag}" flag: strconv.ParseBool: parsing "${v}": invalid syntax`);
};

/**
 * Parses argv (after the command's name). With `interspersed` false, the first argument that is
 * not a flag ends the flags (docker run/exec/create); otherwise flags may follow arguments.
 */
export function parseFlags(argv: readonly string[], specs: readonly FlagSpec[], interspersed = true): ParseResult {
  const byName = new Map<string, FlagSpec>();
  const byShort = new Map<string, FlagSpec>();
  for (const s of [...specs, HELP_FLAG]) {
    byName.set(s.name, s);
    if (s.short) byShort.set(s.short, s);
  }
  if (!specs.some((s) => s.short === 'h')) byShort.set('h', HELP_FLAG);
  const values = new Map<string, Value>();
  const args: string[] = [];

  const set = (given: FlagSpec, shown: string, raw: string | undefined): void => {
    const spec = given.aliasOf ? byName.get(given.aliasOf) ?? given : given;
    switch (spec.type) {
      case 'bool':
        values.set(spec.name, raw === undefined ? true : parseBool(shown, raw));
        return;
      case 'int': {
        if (!/^-?\d+$/.test(raw ?? '')) throw new FlagError(`invalid argument "${raw}" for "${shown}" flag: strconv.ParseInt: parsing "${raw}": invalid syntax`);
        values.set(spec.name, Number(raw));
        return;
      }
      case 'list': {
        const prev = values.get(spec.name);
        values.set(spec.name, [...(Array.isArray(prev) ? prev : []), raw ?? '']);
        return;
      }
      default:
        values.set(spec.name, raw ?? '');
    }
  };

  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      const name = a.slice(2, eq < 0 ? undefined : eq);
      const spec = byName.get(name);
      if (!spec) throw new FlagError(`unknown flag: --${name}`);
      if (eq >= 0) set(spec, `--${name}`, a.slice(eq + 1));
      else if (spec.type === 'bool') set(spec, `--${name}`, undefined);
      else {
        if (i + 1 >= argv.length) throw new FlagError(`flag needs an argument: --${name}`);
        set(spec, `--${name}`, argv[++i]);
      }
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      // A group of shorthands: booleans until one takes a value, which is the rest of the group
      // (after an optional '=') or else the next argument.
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        const spec = byShort.get(c);
        if (!spec) throw new FlagError(`unknown shorthand flag: '${c}' in ${a}`);
        const shown = `-${c}, --${spec.name}`;
        if (a[j + 1] === '=') {
          set(spec, shown, a.slice(j + 2));
          break;
        }
        if (spec.type === 'bool') {
          set(spec, shown, undefined);
          continue;
        }
        if (j + 1 < a.length) set(spec, shown, a.slice(j + 1));
        else {
          if (i + 1 >= argv.length) throw new FlagError(`flag needs an argument: '${c}' in -${c}`);
          set(spec, shown, argv[++i]);
        }
        break;
      }
      continue;
    }
    args.push(a);
    if (!interspersed) {
      args.push(...argv.slice(i + 1));
      break;
    }
  }
  const help = values.get('help') === true;
  values.delete('help');
  return { opts: new Opts(values, byName), args, help };
}

/**
 * `-v, --volumes` style rows for help output, aligned and wrapped like pflag's
 * FlagUsagesWrapped (docker passes the terminal's width − 1, or 79): zero defaults are not shown.
 */
export function flagUsages(specs: readonly FlagSpec[], cols = 79): string {
  const rows = specs.filter((s) => !s.hidden).map((s) => {
    const head = `${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.type === 'bool' ? '' : ` ${s.value ?? s.type}`}`;
    const zero = s.default === undefined || s.default === false || s.default === '' || s.default === 0;
    const def = zero ? '' : ` (default ${typeof s.default === 'string' ? `"${s.default}"` : s.default})`;
    return [head, `${s.desc}${def}`] as const;
  });
  const w = Math.max(0, ...rows.map(([h]) => h.length));
  return rows.map(([h, d]) => `  ${h.padEnd(w)}   ${wrap(w + 5, cols, d)}`).join('\n');
}

/** pflag's wrap: text from column `indent` to width `cols`, five columns of slop against orphans. */
function wrap(indent: number, cols: number, text: string): string {
  let width = cols - indent;
  let out = '';
  if (width < 24) {
    indent = 16;
    width = cols - indent;
    out = `\n${' '.repeat(indent)}`;
  }
  const pad = `\n${' '.repeat(indent)}`;
  if (width < 24) return text.replaceAll('\n', out);
  const slop = 5;
  width -= slop;
  let [line, rest] = wrapN(width, slop, text);
  out += line.replaceAll('\n', pad);
  while (rest !== '') {
    [line, rest] = wrapN(width, slop, rest);
    out += pad + line.replaceAll('\n', pad);
  }
  return out;
}

function wrapN(width: number, slop: number, s: string): [string, string] {
  if (width + slop > s.length) return [s, ''];
  const head = s.slice(0, width);
  const at = Math.max(head.lastIndexOf(' '), head.lastIndexOf('\t'), head.lastIndexOf('\n'));
  if (at <= 0) return [s, ''];
  const nl = head.lastIndexOf('\n');
  if (nl > 0 && nl < at) return [s.slice(0, nl), s.slice(nl + 1)];
  return [s.slice(0, at), s.slice(at + 1)];
}
