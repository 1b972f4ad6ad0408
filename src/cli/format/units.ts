// Human sizes and times as the Docker CLI prints them (go-units). STUB: the format helper
// replaces the bodies; the signatures are what commands use.

/** go-units HumanSize: 3 significant digits, decimal units: "1.2MB", "512B", "4.1kB". */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  while (bytes >= 1000 && i < units.length - 1) { bytes /= 1000; i++; }
  return `${Number(bytes.toPrecision(3))}${units[i]}`;
}

/** go-units HumanDuration: "Less than a second", "3 minutes", "About an hour", "2 weeks". */
export function humanDuration(seconds: number): string {
  return `${Math.round(seconds)} seconds`;
}

/** "3 minutes ago" for a unix time in seconds. */
export function ago(unixSeconds: number, now = Date.now() / 1000): string {
  return `${humanDuration(now - unixSeconds)} ago`;
}

/** go-units RAMInBytes: "512m", "1g", "100k", "1024" → bytes (binary units). */
export function parseBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?$/i.exec(s.trim());
  if (!m) throw new Error(`invalid size: '${s}'`);
  return Math.round(Number(m[1]) * 1024 ** ' kmgtp'.indexOf(m[2]!.toLowerCase() || ' '));
}

/** A 12-character ID without its "sha256:" prefix, unless noTrunc. */
export function shortId(id: string, noTrunc = false): string {
  return noTrunc ? id : id.replace(/^sha256:/, '').slice(0, 12);
}
