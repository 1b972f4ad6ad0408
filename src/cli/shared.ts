// Small pieces the CLI's commands share: flag-value errors printed the way pflag prints them,
// Go's time and host:port formatting, natural sort, writes that wait for a slow reader, the
// sections of the prune reports and the y/N prompt. (Query strings are the client's `query`;
// --filter values are cli/filters.ts.)
import { CliError, type CommandSpec, type Ctx } from './command.ts';
import { usageLine } from './help.ts';
import { goTimeString } from '../util/go-units.ts';
import type { ImageDeleteResponseItem } from '../types/engine-api.ts';

/**
 * A bad flag value, reported as pflag reports one (docker checks these while parsing, before the
 * command runs): the message, the usage line, status 125.
 */
export function flagValueError(ctx: Ctx, spec: Pick<CommandSpec, 'usage'>, flag: string, value: string, why: string): CliError {
  return new CliError(`invalid argument "${value}" for "${flag}" flag: ${why}\n\n${usageLine(ctx.invokedAs, spec)}\n\nRun '${ctx.invokedAs} --help' for more information`, 125);
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

/**
 * One section of docker's prune reports (container/image/network/volume/system prune):
 * "Deleted Containers:\n<id>\n…", or '' when nothing was removed.
 */
export function deletedSection(heading: string, items: readonly string[] | null | undefined): string {
  return items?.length ? `${heading}:\n${items.map((x) => `${x}\n`).join('')}` : '';
}

/** The images section of image and system prune: "untagged: <ref>" or "deleted: <id>" per item. */
export function imagesDeletedSection(deleted: readonly ImageDeleteResponseItem[] | null | undefined): string {
  return deletedSection('Deleted Images', deleted?.map((d) => (d.Untagged ? `untagged: ${d.Untagged}` : `deleted: ${d.Deleted}`)));
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
