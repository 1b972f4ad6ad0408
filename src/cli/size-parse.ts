// go-units v0.5 RAMInBytes, the size parser behind the Docker CLI's byte-valued flags (run/create
// --memory, --shm-size, --mount tmpfs-size, --device-*-bps, update's resources, build --memory and
// --shm-size). Its own small module: `run` and `build` load it at start-up, and neither needs the
// template engine that cli/format/units.ts brings.

/** strconv.ParseFloat(s, 64) for the decimal forms sizes use (Go also reads inf, nan and hex floats) */
function parseFloat64(s: string): number {
  if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(s)) throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(s)}: invalid syntax`);
  return Number(s);
}

/** go-units RAMInBytes: `512m`, `1.5g`, `100 KiB`, `1024` (binary multiples) */
export function ramInBytes(size: string): number {
  // the number ends at the last digit, dot or space
  let sep = -1;
  for (let i = size.length - 1; i >= 0; i--) {
    if ('0123456789. '.includes(size[i]!)) { sep = i; break; }
  }
  if (sep === -1) throw new Error(`invalid size: '${size}'`);
  const num = size[sep] !== ' ' ? size.slice(0, sep + 1) : size.slice(0, sep);
  let sfx = size.slice(sep + 1);
  let n = parseFloat64(num);
  if (n < 0) throw new Error(`invalid size: '${size}'`);
  if (!sfx.length) return Math.trunc(n);
  const bad = (): Error => new Error(`invalid suffix: '${sfx}'`);
  if (sfx.length > 3) throw bad();
  sfx = sfx.toLowerCase();
  if (sfx[0] === 'b') {
    if (sfx.length > 1) throw bad();
    return Math.trunc(n);
  }
  const mul = ({ k: 1, m: 2, g: 3, t: 4, p: 5 } as Record<string, number>)[sfx[0]!];
  if (mul === undefined) throw bad();
  n *= 1024 ** mul;
  if ((sfx.length === 2 && sfx[1] !== 'b') || (sfx.length === 3 && sfx.slice(1) !== 'ib')) throw bad();
  return Math.trunc(n);
}
