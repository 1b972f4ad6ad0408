// The engine's signal rules on top of util/signals.ts (moby's ParseSignal): the defaults of stop
// and kill, and ContainerKill's two steps with dockerd's texts.
import { InvalidParameter } from '../../errors.ts';
import { parseSignal as parseAnySignal, parseStopSignal, validSignalForPlatform } from '../../util/signals.ts';

/** A StopSignal or `docker stop -s` value (util's parseStopSignal); empty means `dflt`. */
export function parseSignal(s: string | number | undefined, dflt = 'SIGKILL'): number {
  if (s === undefined || s === '') return parseAnySignal(dflt);
  if (typeof s === 'number') return s;
  return parseStopSignal(s);
}

/**
 * `POST /containers/{id}/kill?signal=`, step one, before the container is looked up (moby's
 * signal.ParseSignal in the router): any integer but 0 passes here, a name must be known.
 */
export function parseKillSignal(s: string | undefined): number {
  return parseAnySignal(s || 'SIGKILL');
}

/**
 * Step two, once the container is known (moby ContainerKill's ValidSignalForPlatform): Linux has
 * 1-31 and the real-time 34-64. dockerd prints the number as the uint64 it converted it to.
 */
export function checkKillSignal(ref: string, n: number): void {
  if (validSignalForPlatform(n)) return;
  const shown = n < 0 ? BigInt.asUintN(64, BigInt(n)).toString() : String(n);
  throw new InvalidParameter(`Cannot kill container: ${ref}: The linux daemon does not support signal ${shown}`);
}
