// The event log behind `GET /events` (docker events, compose, docker stats without names):
// every object's actions, in Docker's JSON shape, kept in memory and appended to
// <data-root>/events.jsonl so a `since` query still finds them after a daemon restart. The file
// is trimmed to the newest MAX_KEPT events when it grows to twice that.
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWrite } from '../util/atomic-write.ts';
import type { Logger } from '../util/log.ts';

export type EventType = 'container' | 'image' | 'network' | 'volume' | 'daemon' | 'plugin' | 'node' | 'service' | 'secret' | 'config';

export interface EngineEvent {
  /** Legacy fields (API < 1.52): the action, the actor's ID, the container's image. */
  status?: string;
  id?: string;
  from?: string;
  Type: EventType;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
}

const MAX_KEPT = 5000;

export class EventLog {
  private events: EngineEvent[] = [];
  private readonly subs = new Set<(e: EngineEvent) => void>();
  private readonly file: string;
  private readonly log: Logger;
  private writing: Promise<void> = Promise.resolve();
  private lastNano = 0n;

  private constructor(file: string, log: Logger) {
    this.file = file;
    this.log = log;
  }

  static async open(dataRoot: string, log: Logger): Promise<EventLog> {
    const l = new EventLog(join(dataRoot, 'events.jsonl'), log);
    const text = await readFile(l.file, 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      if (!line) continue;
      try { l.events.push(JSON.parse(line) as EngineEvent); } catch { /* a torn last line after a crash */ }
    }
    l.events = l.events.slice(-MAX_KEPT);
    return l;
  }

  /** Records and broadcasts an event; never throws (an event is not worth failing an action for). */
  emit(type: EventType, action: string, actorId: string, attributes: Record<string, string> = {}, legacy?: { from?: string }): void {
    // Strictly increasing timeNano keeps since/until exact when events share a millisecond.
    let nano = BigInt(Date.now()) * 1_000_000n + process.hrtime.bigint() % 1_000_000n;
    if (nano <= this.lastNano) nano = this.lastNano + 1n;
    this.lastNano = nano;
    const e: EngineEvent = {
      ...(type === 'container' || type === 'image' ? { status: action, id: actorId, ...(legacy?.from ? { from: legacy.from } : {}) } : {}),
      Type: type, Action: action, Actor: { ID: actorId, Attributes: attributes }, scope: 'local',
      time: Number(nano / 1_000_000_000n), timeNano: Number(nano),
    };
    this.events.push(e);
    for (const s of this.subs) {
      try { s(e); } catch (err) { this.log.warn({ err: String(err) }, 'event subscriber failed'); }
    }
    const line = `${JSON.stringify(e)}\n`;
    this.writing = this.writing.then(async () => {
      await appendFile(this.file, line, { mode: 0o600 });
      if (this.events.length >= 2 * MAX_KEPT) {
        this.events = this.events.slice(-MAX_KEPT);
        await atomicWrite(this.file, this.events.map((x) => JSON.stringify(x)).join('\n') + '\n');
      }
    }).catch((err: unknown) => this.log.warn({ err: String(err) }, 'event log write failed'));
  }

  /** Stored events with since ≤ time ≤ until (nanoseconds). */
  query(sinceNano?: number, untilNano?: number): EngineEvent[] {
    return this.events.filter((e) => (sinceNano === undefined || e.timeNano >= sinceNano) && (untilNano === undefined || e.timeNano <= untilNano));
  }

  subscribe(fn: (e: EngineEvent) => void): () => void {
    this.subs.add(fn);
    return () => { this.subs.delete(fn); };
  }

  get listeners(): number {
    return this.subs.size;
  }

  /** Waits for pending appends (shutdown, tests). */
  flush(): Promise<void> {
    return this.writing;
  }
}
