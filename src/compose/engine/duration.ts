// Go's time.ParseDuration, for the compose file's durations ("1m30s", "500ms", "1.5h"), which the
// model keeps as written: healthcheck times go to the API in nanoseconds, stop_grace_period in seconds.
import { ComposeError } from '../model/types.ts';

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

export function durationNs(text: string): number {
  const s = text.trim();
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;
  let total = 0;
  let sign = 1;
  let i = 0;
  if (s[0] === '-' || s[0] === '+') { sign = s[0] === '-' ? -1 : 1; i = 1; }
  re.lastIndex = i;
  let m: RegExpExecArray | null;
  let matched = false;
  while (re.lastIndex < s.length && (m = re.exec(s))) {
    total += Number(m[1]) * UNIT_NS[m[2]!]!;
    matched = true;
    if (re.lastIndex === s.length) break;
  }
  if (!matched || re.lastIndex !== s.length) throw new ComposeError(`time: invalid duration "${text}"`);
  return Math.round(sign * total);
}

export const durationSeconds = (text: string): number => Math.trunc(durationNs(text) / 1e9);
