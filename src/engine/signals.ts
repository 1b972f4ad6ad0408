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

/**
 * `POST /containers/{id}/kill?signal=`, step one, before the container is looked up (moby's
 * signal.ParseSignal in the router): any integer but 0 passes here, a name must be known.
 */
export function parseKillSignal(s: string | undefined): number {
  if (s === undefined || s === '') return table.SIGKILL!;
  if (/^[+-]?\d+$/.test(s)) {
    const n = Number(s);
    if (n === 0) throw new InvalidParameter(`Invalid signal: ${s}`);
    return n;
  }
  const name = s.toUpperCase().replace(/^SIG/, '');
  const rt = /^RTM(IN|AX)([+-]\d+)?$/.exec(name);
  if (rt) {
    const n = (rt[1] === 'IN' ? 34 : 64) + Number(rt[2] ?? 0);
    if ((rt[1] === 'IN' && n >= 34 && n <= 48) || (rt[1] === 'AX' && n >= 50 && n <= 64)) return n;
  }
  const n = table[`SIG${name}`];
  if (n === undefined) throw new InvalidParameter(`Invalid signal: ${s}`);
  return n;
}

/**
 * Step two, once the container is known (moby ContainerKill's ValidSignalForPlatform): Linux has
 * 1-31 and the real-time 34-64. dockerd prints the number as the uint64 it converted it to.
 */
export function checkKillSignal(ref: string, n: number): void {
  if ((n >= 1 && n <= 31) || (n >= 34 && n <= 64)) return;
  const shown = n < 0 ? BigInt.asUintN(64, BigInt(n)).toString() : String(n);
  throw new InvalidParameter(`Cannot kill container: ${ref}: The linux daemon does not support signal ${shown}`);
}
