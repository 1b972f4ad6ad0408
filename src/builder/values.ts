// Values some instructions carry, checked with Docker's words: stop signals (STOPSIGNAL) and
// ports (EXPOSE).
import { constants } from 'node:os';
import { InvalidParameter } from '../errors.ts';

/** A signal name or number, as `docker stop` would send it. */
export function parseSignal(s: string): void {
  if (/^\d+$/.test(s)) { if (Number(s) > 0 && Number(s) <= 64) return; }
  const name = s.toUpperCase().replace(/^SIG/, '');
  if (`SIG${name}` in constants.signals) return;
  if (/^RTMIN(\+\d+)?$|^RTMAX(-\d+)?$/.test(name)) return;
  throw new InvalidParameter(`Invalid signal: ${s}`);
}

/** EXPOSE words → `port/proto` keys; ranges expand. */
export function exposedPorts(words: string[]): string[] {
  const out: string[] = [];
  for (const w of words) {
    const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(w);
    if (!m) throw new InvalidParameter(`Invalid containerPort: ${w.split('/')[0]}`);
    const lo = Number(m[1]);
    const hi = m[2] ? Number(m[2]) : lo;
    if (lo < 1 || hi > 65535 || hi < lo) throw new InvalidParameter(`Invalid containerPort: ${w.split('/')[0]}`);
    const proto = (m[3] ?? 'tcp').toLowerCase();
    for (let p = lo; p <= hi; p++) out.push(`${p}/${proto}`);
  }
  return out;
}
