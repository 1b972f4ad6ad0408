// Signal names and numbers as dockerd reads them, in one place: `docker kill -s`, `docker stop -s`,
// a container's StopSignal and the Dockerfile's STOPSIGNAL all go through moby/sys/signal's
// ParseSignal, so an image that builds with a signal also runs and stops with it.
import { InvalidParameter } from '../errors.ts';

const SIGRTMIN = 34;
const SIGRTMAX = 64;

/**
 * moby/sys/signal's SignalMap for Linux (signal_linux.go): the names without "SIG". The real-time
 * signals are RTMIN, RTMIN+1 … RTMIN+15, RTMAX-14 … RTMAX-1, RTMAX, spelled exactly so: no
 * "RTMIN+0", no "RTMIN+16", no leading zeros. Node's os.constants.signals lacks CLD and these.
 */
const SIGNAL_MAP: Readonly<Record<string, number>> = (() => {
  const m: Record<string, number> = {
    ABRT: 6, ALRM: 14, BUS: 7, CHLD: 17, CLD: 17, CONT: 18, FPE: 8, HUP: 1, ILL: 4, INT: 2, IO: 29,
    IOT: 6, KILL: 9, PIPE: 13, POLL: 29, PROF: 27, PWR: 30, QUIT: 3, SEGV: 11, STKFLT: 16, STOP: 19,
    SYS: 31, TERM: 15, TRAP: 5, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, USR1: 10, USR2: 12,
    VTALRM: 26, WINCH: 28, XCPU: 24, XFSZ: 25, RTMIN: SIGRTMIN, RTMAX: SIGRTMAX,
  };
  for (let i = 1; i <= 15; i++) m[`RTMIN+${i}`] = SIGRTMIN + i;
  for (let i = 1; i <= 14; i++) m[`RTMAX-${i}`] = SIGRTMAX - i;
  return Object.freeze(m);
})();

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * moby's signal.ParseSignal: a decimal integer (Go's strconv.Atoi: optional sign, any digits,
 * within int64) is taken as it is unless it is 0; anything else is upper-cased, loses one "SIG"
 * prefix and must be in the map. The error text is dockerd's as the API sends it.
 */
export function parseSignal(raw: string): number {
  if (/^[+-]?\d+$/.test(raw)) {
    const n = BigInt(raw);
    if (n >= INT64_MIN && n <= INT64_MAX) {
      if (n === 0n) throw new InvalidParameter(`Invalid signal: ${raw}`);
      return Number(n);
    }
  }
  const up = raw.toUpperCase();
  const n = SIGNAL_MAP[up.startsWith('SIG') ? up.slice(3) : up];
  if (n === undefined) throw new InvalidParameter(`Invalid signal: ${raw}`);
  return n;
}

/** moby's signal.ValidSignalForPlatform on Linux: a number the map holds (1-31, 34-64). */
export function validSignalForPlatform(n: number): boolean {
  return (n >= 1 && n <= 31) || (n >= SIGRTMIN && n <= SIGRTMAX);
}

/**
 * A StopSignal (the container's Config.StopSignal, the Dockerfile's STOPSIGNAL, `docker stop -s`):
 * parseSignal, and a number must be one Linux can deliver, 1-64. The range is Berth's own:
 * dockerd takes any non-zero number there, then fails to send it at stop and kills after the
 * timeout; Berth refuses it when it is given. The builder and the engine share the rule, so
 * what builds also runs.
 */
export function parseStopSignal(raw: string): number {
  const n = parseSignal(raw);
  if (n < 1 || n > SIGRTMAX) throw new InvalidParameter(`Invalid signal: ${raw}`);
  return n;
}
