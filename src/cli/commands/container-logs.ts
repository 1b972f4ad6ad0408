// `berth logs`: a container's output, raw for TTY containers and split back into stdout and
// stderr otherwise; --since/--until take what docker's timetypes.GetTimestamp takes.
import { checkOk, demux, query } from '../../client/engine-client.ts';
import { CliError, type CommandSpec } from '../command.ts';
import { writeOut } from '../shared.ts';

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration in seconds, or undefined: "10m", "1h30m", "1.5h", "-2s". */
export function parseGoDuration(s: string): number | undefined {
  const m = /^([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/.exec(s);
  if (!m) return s === '0' ? 0 : undefined;
  let ns = 0;
  for (const part of s.slice(m[1]!.length).matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) ns += Number(part[1]) * UNIT_NS[part[2]!]!;
  return (m[1] === '-' ? -ns : ns) / 1e9;
}

/**
 * docker's timetypes.GetTimestamp: a duration is that long before now (whole seconds); RFC 3339
 * dates and times, with or without a zone (none means local time), become "secs.nanos"; a unix
 * timestamp is passed as it is.
 */
export function getTimestamp(value: string, now = Date.now()): string {
  const d = parseGoDuration(value);
  if (value !== '0' && d !== undefined) return String(Math.floor((now / 1000) - d));
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?(Z|z|[+-]\d{2}:\d{2})?$/.exec(value);
  if (m) {
    const [, y, mo, da, h = '0', mi = '0', se = '0', frac = '', zone] = m;
    // Go's time.Parse range checks, with its messages
    const days = new Date(Date.UTC(+y!, +mo!, 0)).getUTCDate();
    const bad = +mo! < 1 || +mo! > 12 ? 'month' : +da! < 1 || +da! > days ? 'day' : +h > 23 ? 'hour' : +mi > 59 ? 'minute' : +se > 59 ? 'second' : '';
    if (bad) throw new Error(`parsing time ${JSON.stringify(value)}: ${bad} out of range`);
    let ms: number;
    if (zone) {
      const off = /^z$/i.test(zone) ? 0 : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
      ms = Date.UTC(+y!, +mo! - 1, +da!, +h, +mi, +se) - off * 60_000;
    } else {
      ms = new Date(+y!, +mo! - 1, +da!, +h, +mi, +se).getTime();
    }
    return `${Math.floor(ms / 1000)}.${frac.padEnd(9, '0')}`;
  }
  if (value.includes('-')) throw new Error(`parsing time ${JSON.stringify(value)}: cannot parse ${JSON.stringify(value)} as RFC 3339`);
  if (!/^\d+(\.\d+)?$/.test(value)) throw new Error(`failed to parse value as time or duration: ${JSON.stringify(value)}`);
  return value;
}

export const logsCommand: CommandSpec = {
  paths: [['container', 'logs'], ['logs']],
  usage: '[OPTIONS] CONTAINER',
  description: 'Fetch the logs of a container',
  args: { min: 1, max: 1 },
  flags: [
    { name: 'details', type: 'bool', desc: 'Show extra details provided to logs' },
    { name: 'follow', short: 'f', type: 'bool', desc: 'Follow log output' },
    { name: 'since', type: 'string', desc: 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
    { name: 'tail', short: 'n', type: 'string', default: 'all', desc: 'Number of lines to show from the end of the logs' },
    { name: 'timestamps', short: 't', type: 'bool', desc: 'Show timestamps' },
    { name: 'until', type: 'string', desc: 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
  ],
  async run(ctx, args, o) {
    const client = ctx.client();
    const c = await client.containerInspect(args[0]!);
    // the docker client converts these before sending, wrapping its errors
    const stamp = (flag: string): string | undefined => {
      const v = o.str(flag);
      if (!v) return undefined;
      try {
        return getTimestamp(v);
      } catch (err) {
        throw new CliError(`invalid value for "${flag}": ${(err as Error).message}`);
      }
    };
    const since = stamp('since');
    const until = stamp('until');
    const res = await client.raw('GET', `/containers/${c.Id!}/logs${query({
      stdout: true, stderr: true, since, until, timestamps: o.bool('timestamps'), follow: o.bool('follow'),
      tail: o.str('tail') || undefined, details: o.bool('details'),
    })}`);
    await checkOk(res);
    if (c.Config?.Tty) {
      for await (const chunk of res) await writeOut(ctx.out, chunk as Buffer);
    } else {
      for await (const f of demux(res)) await writeOut(f.stream === 2 ? ctx.err : ctx.out, f.data);
    }
  },
};
