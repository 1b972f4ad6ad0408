// docker's `--filter k=v` flag values as the Engine API's `filters` parameter, for every command
// that has one (ps, images, search, events, the prune commands, network ls, volume ls).
import type { CommandSpec, Ctx } from './command.ts';
import { flagValueError } from './shared.ts';

/**
 * `--filter a=b --filter a=c` → `{"a":{"b":true,"c":true}}`, with `extra` values added (the
 * filters a command sets itself, like `dangling`), or undefined when there are none. As
 * opts.FilterOpt.Set: an empty value is ignored, the name is trimmed and lower-cased, the value
 * trimmed; a value without "=" is pflag's flag error (status 125, with the usage line).
 */
export function filtersJson(ctx: Ctx, spec: Pick<CommandSpec, 'usage'>, values: string[], flag = '-f, --filter', extra: Record<string, string[]> = {}): string | undefined {
  const f: Record<string, Record<string, boolean>> = {};
  const add = (k: string, v: string): void => { (f[k] ??= {})[v] = true; };
  for (const raw of values) {
    if (raw === '') continue;
    const eq = raw.indexOf('=');
    if (eq < 0) throw flagValueError(ctx, spec, flag, raw, 'bad format of filter (expected name=value)');
    add(raw.slice(0, eq).trim().toLowerCase(), raw.slice(eq + 1).trim());
  }
  for (const [k, vs] of Object.entries(extra)) for (const v of vs) add(k, v);
  return Object.keys(f).length ? JSON.stringify(f) : undefined;
}

/** The same as a query-string part, `filters=…` (no `?`), or '' when there are none. */
export function filterQuery(ctx: Ctx, spec: Pick<CommandSpec, 'usage'>, values: string[], flag = '-f, --filter', extra: Record<string, string[]> = {}): string {
  const f = filtersJson(ctx, spec, values, flag, extra);
  return f ? `filters=${encodeURIComponent(f)}` : '';
}
