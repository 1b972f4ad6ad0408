// Human sizes and times as the Docker CLI prints them: a port of github.com/docker/go-units
// (size.go, duration.go) plus Go's time.Time.String() layout.
import { formatFloat } from './template.ts';
import { humanDuration } from '../../util/go-units.ts';

const DECIMAL = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

function sizeAndUnit(size: number, base: number, units: string[]): [number, string] {
  let i = 0;
  while (size >= base && i < units.length - 1) { size /= base; i++; }
  return [size, units[i]!];
}

/**
 * go-units HumanSizeWithPrecision: `%.{precision}g` and decimal units ("1.2MB", "512B",
 * "1e+03kB"). The CLI uses precision 3 for image and container sizes; HumanSize is 4.
 */
export function humanSize(bytes: number, precision = 3): string {
  const [n, unit] = sizeAndUnit(bytes, 1000, DECIMAL);
  return `${formatFloat(n, 'g', precision)}${unit}`;
}

/** go-units BytesSize: `%.4g` and binary units ("1.5MiB"). */
export function bytesSize(bytes: number): string {
  const [n, unit] = sizeAndUnit(bytes, 1024, BINARY);
  return `${formatFloat(n, 'g', 4)}${unit}`;
}


/** "3 minutes ago" for a unix time in seconds (docker's RunningFor/CreatedSince). */
export function ago(unixSeconds: number, now = Date.now() / 1000): string {
  return `${humanDuration(now - unixSeconds)} ago`;
}

const MULT: Record<string, number> = { k: 1, m: 2, g: 3, t: 4, p: 5 };

function parseSize(s: string, base: number): number {
  // the number ends at the last digit, dot or space
  let sep = -1;
  for (let i = s.length - 1; i >= 0; i--) if ('0123456789. '.includes(s[i]!)) { sep = i; break; }
  if (sep < 0) throw new Error(`invalid size: '${s}'`);
  const num = s[sep] === ' ' ? s.slice(0, sep) : s.slice(0, sep + 1);
  let sfx = s.slice(sep + 1);
  // strconv.ParseFloat's syntax (decimal forms only; what sizes use)
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(num) && !/^[+-]?(inf|infinity|nan)$/i.test(num)) {
    throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(num)}: invalid syntax`);
  }
  let size = Number(num);
  if (size < 0) throw new Error(`invalid size: '${s}'`);
  if (!sfx) return Math.trunc(size);
  const bad = (): never => { throw new Error(`invalid suffix: '${sfx}'`); };
  if (sfx.length > 3) bad();
  sfx = sfx.toLowerCase();
  if (sfx[0] === 'b') { if (sfx.length > 1) bad(); return Math.trunc(size); }
  const m = MULT[sfx[0]!];
  if (m === undefined) bad();
  size *= base ** m!;
  if ((sfx.length === 2 && sfx[1] !== 'b') || (sfx.length === 3 && sfx.slice(1) !== 'ib')) bad();
  return Math.trunc(size);
}

/** go-units RAMInBytes: "512m", "1g", "100k", "1.5GiB", "1024" → bytes (binary multipliers). */
export function parseBytes(s: string): number {
  return parseSize(s, 1024);
}

/** go-units FromHumanSize: "1GB", "512kB" → bytes (decimal multipliers). */
export function parseHumanSize(s: string): number {
  return parseSize(s, 1000);
}

/** A 12-character ID without its "sha256:" prefix, unless noTrunc. */
export function shortId(id: string, noTrunc = false): string {
  return noTrunc ? id : id.replace(/^sha256:/, '').slice(0, 12);
}

