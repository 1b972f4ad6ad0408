// Small pieces the container commands share: query strings, docker's filter flag, flag-value
// errors printed the way pflag prints them, Go's time and host:port formatting, natural sort.
import { CliError, type CommandSpec, type Ctx } from '../command.ts';
import { usageLine } from '../help.ts';
import { goTimeString } from '../format/units.ts';

/** `?a=1&b=x` from the defined values (booleans as 1, lists repeated). */
export function query(params: Record<string, string | number | boolean | string[] | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === false) continue;
    if (Array.isArray(v)) for (const x of v) q.append(k, x);
    else q.set(k, v === true ? '1' : String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * A bad flag value, reported as pflag reports one (docker checks these while parsing, before the
 * command runs): the message, the usage line, status 125.
 */
export function flagValueError(ctx: Ctx, spec: CommandSpec, flag: string, value: string, why: string): CliError {
  return new CliError(`invalid argument "${value}" for "${flag}" flag: ${why}\n\n${usageLine(ctx.invokedAs, spec)}\n\nRun '${ctx.invokedAs} --help' for more information`, 125);
}

/** docker's `--filter k=v` values as the API's filters JSON (`{"k":{"v":true}}`), or undefined. */
export function filtersJson(ctx: Ctx, spec: CommandSpec, values: string[], flag = '-f, --filter'): string | undefined {
  const f: Record<string, Record<string, boolean>> = {};
  for (const raw of values) {
    if (raw === '') continue;
    const eq = raw.indexOf('=');
    if (eq < 0) throw flagValueError(ctx, spec, flag, raw, 'bad format of filter (expected name=value)');
    // docker lower-cases and trims the name, trims the value (opts.FilterOpt.Set)
    const name = raw.slice(0, eq).trim().toLowerCase();
    (f[name] ??= {})[raw.slice(eq + 1).trim()] = true;
  }
  return Object.keys(f).length ? JSON.stringify(f) : undefined;
}


/** Go's time.Time.String() for a unix time in local time: "2026-11-23 14:13:15 +0000 UTC". */
export const goTime = (unixSeconds: number): string => goTimeString(unixSeconds);

/** Go's net.JoinHostPort: IPv6 addresses in brackets. */
export function joinHostPort(host: string, port: string | number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** sortorder.NaturalLess: digit runs compare as numbers. */
export function naturalCompare(a: string, b: string): number {
  const re = /(\d+|\D+)/g;
  const xa = a.match(re) ?? [];
  const xb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(xa.length, xb.length); i++) {
    const x = xa[i]!;
    const y = xb[i]!;
    if (x === y) continue;
    if (/^\d/.test(x) && /^\d/.test(y)) {
      const d = Number(x) - Number(y);
      if (d) return d;
      return x.length - y.length;
    }
    return x < y ? -1 : 1;
  }
  return xa.length - xb.length;
}

/** Writes to a stream, waiting when it is full (large logs and archives to a slow reader). */
export function writeOut(s: NodeJS.WritableStream, data: Buffer | string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (s.write(data)) resolve();
    else {
      const onErr = (e: Error): void => reject(e);
      s.once('error', onErr);
      s.once('drain', () => { s.off('error', onErr); resolve(); });
    }
  });
}

/** Reads one line of stdin for a y/N prompt (docker's prompt.Confirm). */
export async function confirm(ctx: Ctx, message: string): Promise<boolean> {
  ctx.out.write(`${message} [y/N] `);
  const line = await readLine(ctx.stdin);
  return line.trim().toLowerCase() === 'y';
}

function readLine(input: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => {
    let buf = '';
    const done = (): void => {
      input.off('data', onData);
      input.off('end', done);
      input.off('error', done);
      input.pause();
      resolve(buf.split('\n')[0] ?? '');
    };
    const onData = (c: Buffer | string): void => {
      buf += c.toString();
      if (buf.includes('\n')) done();
    };
    input.on('data', onData);
    input.on('end', done);
    input.on('error', done);
    input.resume();
  });
}
