// `berth stats`: containers' resource use computed as docker's CLI computes it (CPU % from the
// delta against precpu_stats, memory without the inactive page cache), redrawn every 500 ms with
// the same escape sequences docker writes, or printed once with --no-stream.
import { ApiError, checkOk, jsonLines, type EngineClient, query } from '../../client/engine-client.ts';
import { CliError, describeError, type CommandSpec } from '../command.ts';
import { formatList } from '../format/list.ts';
import { bytesSize, humanSize } from '../format/units.ts';
import { FORMAT_HELP, truncateId } from './container-ps.ts';
import type { ContainerStatsResponse } from '../../types/engine-api.ts';

/** One sample of GET /containers/{id}/stats. */
export type StatsJson = ContainerStatsResponse;

interface Entry {
  container: string;
  name: string;
  id: string;
  cpu: number;
  mem: number;
  memLimit: number;
  memPercent: number;
  netRx: number;
  netTx: number;
  blkRead: number;
  blkWrite: number;
  pids: number;
  invalid: boolean;
}

/** calculateCPUPercentUnix. */
export function cpuPercent(v: StatsJson): number {
  const cpuDelta = (v.cpu_stats?.cpu_usage?.total_usage ?? 0) - (v.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const systemDelta = (v.cpu_stats?.system_cpu_usage ?? 0) - (v.precpu_stats?.system_cpu_usage ?? 0);
  const online = v.cpu_stats?.online_cpus || (v.cpu_stats?.cpu_usage?.percpu_usage?.length ?? 0);
  return systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * online * 100 : 0;
}

/** calculateMemUsageUnixNoCache: usage minus the inactive file cache (cgroup v1 or v2 name). */
export function memUsage(m: StatsJson['memory_stats']): number {
  const usage = m?.usage ?? 0;
  const s = m?.stats ?? {};
  const inactive = s.total_inactive_file;
  if (inactive !== undefined && inactive !== null && inactive < usage) return usage - inactive;
  if ((s.inactive_file ?? 0) < usage) return usage - (s.inactive_file ?? 0);
  return usage;
}

export function toEntry(container: string, v: StatsJson): Entry {
  let blkRead = 0;
  let blkWrite = 0;
  for (const e of v.blkio_stats?.io_service_bytes_recursive ?? []) {
    const c = (e?.op ?? '')[0];
    if (c === 'r' || c === 'R') blkRead += e?.value ?? 0;
    else if (c === 'w' || c === 'W') blkWrite += e?.value ?? 0;
  }
  let netRx = 0;
  let netTx = 0;
  for (const n of Object.values(v.networks ?? {})) {
    netRx += n?.rx_bytes ?? 0;
    netTx += n?.tx_bytes ?? 0;
  }
  const mem = memUsage(v.memory_stats);
  const memLimit = v.memory_stats?.limit ?? 0;
  return {
    container, name: v.name ?? '', id: v.id ?? '', cpu: cpuPercent(v), mem, memLimit, memPercent: memLimit ? (mem / memLimit) * 100 : 0,
    netRx, netTx, blkRead, blkWrite, pids: v.pids_stats?.current ?? 0, invalid: false,
  };
}


const percent = (v: number): string => `${v.toFixed(2)}%`;

/** docker's statsContext, properties in its JSON key order. */
export function statsRow(e: Entry, trunc: boolean): Record<string, string> {
  const bad = e.invalid;
  return {
    BlockIO: bad ? '--' : `${humanSize(e.blkRead)} / ${humanSize(e.blkWrite)}`,
    CPUPerc: bad ? '--' : percent(e.cpu),
    Container: e.container,
    ID: trunc ? truncateId(e.id) : e.id,
    MemPerc: bad ? '--' : percent(e.memPercent),
    MemUsage: bad ? '-- / --' : `${bytesSize(e.mem)} / ${bytesSize(e.memLimit)}`,
    Name: e.name.length > 1 ? e.name.slice(1) : '--',
    NetIO: bad ? '--' : `${humanSize(e.netRx)} / ${humanSize(e.netTx)}`,
    PIDs: bad ? '--' : String(e.pids),
  };
}

const DEFAULT_STATS_FORMAT = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';
const STATS_HEADERS: Record<string, string> = {
  Container: 'CONTAINER', Name: 'NAME', ID: 'CONTAINER ID', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT', MemPerc: 'MEM %',
  NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS',
};

const emptyEntry = (container: string): Entry => ({
  container, name: '', id: '', cpu: 0, mem: 0, memLimit: 0, memPercent: 0, netRx: 0, netTx: 0, blkRead: 0, blkWrite: 0, pids: 0, invalid: false,
});

/** One container's stats, read as docker's collect() reads them. */
class Collector {
  entry: Entry;
  error: unknown;
  private firstDone = false;
  private readonly first: Promise<void>;
  private resolveFirst!: () => void;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private res?: import('node:http').IncomingMessage;

  readonly container: string;

  constructor(container: string) {
    this.container = container;
    this.entry = emptyEntry(container);
    this.first = new Promise((r) => { this.resolveFirst = r; });
  }

  private markFirst(): void {
    if (!this.firstDone) {
      this.firstDone = true;
      this.resolveFirst();
    }
  }

  /** No stats for 2 s: the row shows "--" (docker's "timeout waiting for stats"). */
  private arm(): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.entry = { ...emptyEntry(this.container), name: this.entry.name, id: this.entry.id, invalid: true };
      this.error = new Error('timeout waiting for stats');
      this.markFirst();
      this.arm();
    }, 2000);
    this.timer.unref();
  }

  /** Starts reading; resolves once the first sample (or an error, or the timeout) arrived. */
  start(client: EngineClient, stream: boolean): Promise<void> {
    this.arm();
    void this.read(client, stream);
    return this.first;
  }

  private async read(client: EngineClient, stream: boolean): Promise<void> {
    try {
      const res = await client.raw('GET', `/containers/${encodeURIComponent(this.container)}/stats${query({ stream: stream ? undefined : '0' })}`);
      this.res = res;
      await checkOk(res);
      for await (const v of jsonLines<StatsJson>(res)) {
        this.entry = toEntry(this.container, v);
        this.error = undefined;
        this.markFirst();
        this.arm();
        if (!stream) break;
      }
      if (stream && !this.stopped) {
        // the stream ended (the container stopped): the row is no longer valid
        this.entry = { ...this.entry, invalid: true };
        this.error = new Error('EOF');
      }
    } catch (err) {
      if (this.stopped) return;
      this.error = err;
      this.entry = { ...this.entry, invalid: true };
      this.markFirst();
    } finally {
      if (!stream) this.stop();
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.res?.destroy();
  }
}

export const statsCommand: CommandSpec = {
  paths: [['container', 'stats'], ['stats']],
  usage: '[OPTIONS] [CONTAINER...]',
  description: 'Display a live stream of container(s) resource usage statistics',
  flags: [
    { name: 'all', short: 'a', type: 'bool', desc: 'Show all containers (default shows just running)' },
    { name: 'format', type: 'string', desc: FORMAT_HELP },
    { name: 'no-stream', type: 'bool', desc: 'Disable streaming stats and only pull the first result' },
    { name: 'no-trunc', type: 'bool', desc: 'Do not truncate output' },
  ],
  async run(ctx, args, o) {
    const client = ctx.client();
    const stream = !o.bool('no-stream');
    const showAll = args.length === 0;
    const collectors = new Map<string, Collector>();
    const add = (name: string): Promise<void> | undefined => {
      if (collectors.has(name)) return undefined;
      const c = new Collector(name);
      collectors.set(name, c);
      return c.start(client, stream);
    };
    let events: import('node:http').IncomingMessage | undefined;
    if (showAll) {
      if (stream) events = await watchEvents(client, o.bool('all'), add, (cid) => { collectors.get(cid)?.stop(); collectors.delete(cid); });
      const list = await client.containerList({ all: o.bool('all') });
      await Promise.all(list.map((c) => add(c.Id!.slice(0, 12))));
    } else {
      await Promise.all(args.map((a) => add(a)));
      const errors = [...collectors.values()].filter((c) => c.error).map((c) => describeError(c.error));
      if (errors.length) {
        for (const c of collectors.values()) c.stop();
        throw new CliError(errors.join('\n'));
      }
    }
    const format = o.str('format') || 'table';
    const trunc = !o.bool('no-trunc');
    try {
      await new Promise<void>((resolve) => {
        ctx.out.once('error', () => resolve());
        const timer = setInterval(() => {
          const rows = [...collectors.values()].map((c) => statsRow(c.entry, trunc));
          let text = formatList(rows, { format: format === 'table' ? undefined : format, defaultFormat: DEFAULT_STATS_FORMAT, headers: STATS_HEADERS });
          if (stream) {
            // docker's bytes exactly: cursor home, the table, then each line again followed by
            // "erase to end of line", then "erase below"
            text = `\x1b[H${text}`;
            text += text.split('\n').map((l) => `${l} \x1b[K\n`).join('') + '\x1b[J';
          }
          ctx.out.write(text);
          if ((collectors.size === 0 && !showAll) || !stream) {
            clearInterval(timer);
            resolve();
          }
        }, 500);
      });
    } finally {
      events?.destroy();
      for (const c of collectors.values()) c.stop();
    }
  },
};

/** Follows container events so started (and with -a, created) containers join and dead ones leave. */
async function watchEvents(client: EngineClient, all: boolean, add: (id: string) => unknown, remove: (id: string) => void): Promise<import('node:http').IncomingMessage> {
  const res = await client.raw('GET', `/events${query({ filters: JSON.stringify({ type: { container: true } }) })}`);
  if ((res.statusCode ?? 500) >= 400) throw new ApiError(res.statusCode ?? 500, 'events');
  void (async () => {
    try {
      for await (const e of jsonLines<{ Action?: string; status?: string; Actor?: { ID?: string }; id?: string }>(res)) {
        const cid = (e.Actor?.ID ?? e.id ?? '').slice(0, 12);
        const action = e.Action ?? e.status;
        if (!cid) continue;
        if (action === 'start' || (all && action === 'create')) add(cid);
        else if (action === 'die' && !all) remove(cid);
      }
    } catch { /* the stream was closed */ }
  })();
  return res;
}
