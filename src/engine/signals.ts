// Signal names and numbers as `docker kill -s` and StopSignal accept them (SIGTERM, TERM, 15).
import { constants } from 'node:os';
import { InvalidParameter } from '../errors.ts';

const table = constants.signals as Record<string, number>;

export function parseSignal(s: string | number | undefined, dflt = 'SIGKILL'): number {
  if (s === undefined || s === '') return table[dflt]!;
  if (typeof s === 'number') return s;
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n <= 0 || n > 64) throw new InvalidParameter(`Invalid signal: ${s}`);
    return n;
  }
  const up = s.toUpperCase();
  const name = up.startsWith('SIG') ? up : `SIG${up}`;
  const n = table[name];
  if (n === undefined) throw new InvalidParameter(`Invalid signal: ${s}`);
  return n;
}
