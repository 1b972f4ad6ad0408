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

/** A 12-character ID without its "sha256:" prefix, unless noTrunc. */
export function shortId(id: string, noTrunc = false): string {
  return noTrunc ? id : id.replace(/^sha256:/, '').slice(0, 12);
}

