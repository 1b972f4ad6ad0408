// GET /events: stored events from `since`, then live ones until `until` (or until the client
// goes), filtered by type, event, container, image, network, volume, label and daemon. The CLI
// turns durations and dates into unix timestamps (`1700000000.123456789`) before sending them.
import type { Router } from '../router.ts';
import { parseFilters } from '../filters.ts';
import { InvalidParameter } from '../../errors.ts';
import type { EngineEvent, EventLog } from '../../engine/events.ts';

/** `seconds[.nanoseconds]`, or an RFC 3339 date, as nanoseconds since the epoch. */
export function parseEventTime(v: string | null, name: string): number | undefined {
  if (v === null || v === '') return undefined;
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(v);
  if (m) return Number(m[1]) * 1e9 + Number((m[2] ?? '').padEnd(9, '0'));
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidParameter(`invalid value for ${name}: ${v}`);
  return t * 1e6;
}

export function eventMatcher(raw: string | null): (e: EngineEvent) => boolean {
  // dockerd (20.10) validates no event filter key: an unknown one filters nothing
  const f = parseFilters(raw);
  const any = (key: string, test: (v: string) => boolean): boolean => {
    const vals = f.get(key);
    return !vals?.length || vals.some(test);
  };
  const actor = (e: EngineEvent, type: string) => (v: string): boolean => e.Type === type && (e.Actor.ID === v || e.Actor.ID.startsWith(v) || e.Actor.Attributes.name === v);
  return (e) => {
    const attrs = e.Actor.Attributes;
    if (!any('type', (v) => e.Type === v)) return false;
    // `exec_start: sh -c …` matches the event filter `exec_start`.
    if (!any('event', (v) => e.Action === v || e.Action.split(':')[0] === v)) return false;
    if (!any('container', (v) => actor(e, 'container')(v) || (e.Type === 'network' && attrs.container === v))) return false;
    if (!any('image', (v) => (e.Type === 'image' && (e.Actor.ID === v || attrs.name === v)) || attrs.image === v || e.from === v || attrs.image === `${v}:latest`)) return false;
    if (!any('network', (v) => actor(e, 'network')(v))) return false;
    if (!any('volume', (v) => actor(e, 'volume')(v))) return false;
    if (!any('daemon', (v) => e.Type === 'daemon' && (e.Actor.ID === v || attrs.name === v))) return false;
    if (!any('scope', (v) => e.scope === v)) return false;
    const labels = f.get('label') ?? [];
    for (const l of labels) {
      const i = l.indexOf('=');
      if (i < 0 ? !(l in attrs) : attrs[l.slice(0, i)] !== l.slice(i + 1)) return false;
    }
    return true;
  };
}

export function registerEventRoutes(router: Router, events: EventLog): void {
  router.add('GET', '/events', async (ctx) => {
    const since = parseEventTime(ctx.query.get('since'), 'since');
    const until = parseEventTime(ctx.query.get('until'), 'until');
    if (since !== undefined && until !== undefined && since > until) throw new InvalidParameter('since time must be before until time');
    const match = eventMatcher(ctx.query.get('filters'));
    const res = ctx.res;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    const send = (e: EngineEvent): void => { if (match(e)) res.write(`${JSON.stringify(e)}\n`); };
    const now = Date.now() * 1e6;
    // Past events are replayed only when asked for (since, or until in the past), as dockerd does.
    if (since !== undefined || (until !== undefined && until <= now)) for (const e of events.query(since, until)) send(e);
    if (until !== undefined && until <= now) { res.end(); return; }
    await new Promise<void>((resolve) => {
      const unsubscribe = events.subscribe((e) => { if (until === undefined || e.timeNano <= until) send(e); });
      const timer = until !== undefined ? setTimeout(done, Math.max(0, (until - now) / 1e6)) : undefined;
      function done(): void {
        unsubscribe();
        if (timer) clearTimeout(timer);
        res.end();
        resolve();
      }
      ctx.req.once('close', done);
      res.once('close', done);
    });
  });
}
