// Values some instructions carry, checked with Docker's words: ports (EXPOSE). STOPSIGNAL's
// signal is util/signals.ts's parseStopSignal, the rule the engine applies at create.
import { InvalidParameter } from '../errors.ts';

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
