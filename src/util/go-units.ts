// Ports of github.com/docker/go-units and of Go's time formatting that the daemon and the CLI
// both print or read, so each is written once: human durations ("About an hour"), Go's
// time.Time.String(), the daemon's size strings, and a digest's hex.
import { InvalidParameter } from '../errors.ts';

/**
 * go-units HumanDuration of a duration in seconds (fractions allowed, as Go's time.Duration):
 * "Less than a second", "About a minute", "3 hours", "2 weeks". `docker ps` status and the CLI's
 * CreatedSince/RunningFor use it.
 */
export function humanDuration(seconds: number): string {
  const s = Math.trunc(seconds);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(seconds / 3600 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(seconds / 3600) / 24 / 365)} years`;
}

let zoneFormat: Intl.DateTimeFormat | undefined;

/**
 * Go's time.Time.String() of a unix time in the local zone (docker's CreatedAt):
 * "2026-11-23 14:08:45 +0000 UTC"; fractional seconds without trailing zeros.
 */
export function goTimeString(unixSeconds: number, tz = process.env.TZ): string {
  const ms = Math.floor(unixSeconds * 1000);
  const d = new Date(ms);
  const utc = !tz ? d.getTimezoneOffset() === 0 : /^(:?UTC|:?Etc\/UTC|UTC0|:?GMT)$/.test(tz);
  const offMin = utc ? 0 : -d.getTimezoneOffset();
  const local = new Date(ms + offMin * 60_000);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const date = `${local.getUTCFullYear()}-${p(local.getUTCMonth() + 1)}-${p(local.getUTCDate())}`;
  let time = `${p(local.getUTCHours())}:${p(local.getUTCMinutes())}:${p(local.getUTCSeconds())}`;
  const frac = Math.round((unixSeconds - Math.floor(unixSeconds)) * 1e9);
  if (frac > 0) time += `.${String(frac).padStart(9, '0').replace(/0+$/, '')}`;
  const sign = offMin < 0 ? '-' : '+';
  const off = `${sign}${p(Math.trunc(Math.abs(offMin) / 60))}${p(Math.abs(offMin) % 60)}`;
  let zone = 'UTC';
  if (!utc) {
    zoneFormat ??= new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }); // costly to make: once per process
    zone = zoneFormat.formatToParts(d).find((x) => x.type === 'timeZoneName')?.value ?? '';
    // Go names zones without an abbreviation by their offset ("+03")
    if (!/^[A-Z]{2,5}$/.test(zone)) zone = `${sign}${p(Math.trunc(Math.abs(offMin) / 60))}${Math.abs(offMin) % 60 ? p(Math.abs(offMin) % 60) : ''}`;
  }
  return `${date} ${time} ${off} ${zone}`;
}

/**
 * Go's time.Time.String() of an RFC 3339 time in the zone it carries (time.Parse keeps the
 * offset): `2026-11-23 14:11:35.982 +0000 UTC`, `… +0100 +0100`. Anything else comes back as it is.
 */
export function goTimeStringOfRfc3339(iso: string): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(iso);
  if (!m) return iso;
  const frac = (m[3] ?? '').replace(/0+$/, '');
  const zone = m[4] === 'Z' ? '+0000 UTC' : `${m[4]!.replace(':', '')} ${m[4]!.replace(':', '')}`;
  return `${m[1]} ${m[2]}${frac === '.' ? '' : frac} ${zone}`;
}

// go-units' size parser as the daemon has it (dockerd 20.10 vendors go-units v0.4: one regular
// expression, "invalid size" for any refusal; the CLI's newer v0.5 parser is its own).
const SIZE = /^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/;

function parseSize(s: string, base: number): number {
  const m = SIZE.exec(s);
  if (!m) throw new InvalidParameter(`invalid size: '${s}'`);
  if (m[2] && m[1]!.split('.').length > 2) throw new InvalidParameter(`strconv.ParseFloat: parsing "${m[1]}": invalid syntax`);
  const unit = m[3] ? 'kmgtp'.indexOf(m[3].toLowerCase()) + 1 : 0;
  return Math.trunc(Number(m[1]) * base ** unit);
}

/** go-units FromHumanSize (v0.4): "10m" → 10 000 000 (decimal; json-file's max-size). */
export function fromHumanSize(s: string): number {
  return parseSize(s, 1000);
}

/** go-units RAMInBytes (v0.4): "10m" → 10 485 760 (binary; the local driver's max-size). */
export function ramInBytes(s: string): number {
  return parseSize(s, 1024);
}
