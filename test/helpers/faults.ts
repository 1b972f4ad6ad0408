// Helpers of the fault tests (test/integration/faults): seeded randomness, a raw HTTP client
// for requests node:http refuses to send (bad paths, lying headers), and a census of what one
// test daemon has on the host (conmon, mounts, cgroups, netns, links, iptables rules) so a test
// can tell an orphan from a running container's own things.
import net from 'node:net';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../src/sys/exec.ts';
import { daemonTag } from '../../src/engine/engine.ts';
import type { TestDaemon } from './daemon.ts';

/** mulberry32: small, fast, seeded. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface RawResponse {
  /** 0 when no status line arrived in time. */
  status: number;
  head: string;
  /** The first bytes of the body (at most 4 KiB). */
  body: string;
  timedOut: boolean;
  error?: string;
  ms: number;
}

export interface RawRequest {
  method: string;
  /** Sent as is, byte for byte (no escaping). */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** Lie about the length: send this Content-Length instead of the body's. */
  contentLength?: number;
  /** Give up when no status line arrived by then. */
  timeoutMs?: number;
  /** After the status line, read this long more, then hang up (streams never end by themselves). */
  readMs?: number;
}

/** One request on its own connection, written raw; resolves with the status line's code. */
export function rawRequest(socketPath: string, r: RawRequest): Promise<RawResponse> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const sock = net.connect(socketPath);
    let buf = Buffer.alloc(0);
    let status = 0;
    let done = false;
    let after: NodeJS.Timeout | undefined;
    const finish = (timedOut: boolean, error?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(after);
      sock.destroy();
      const text = buf.toString('latin1');
      const i = text.indexOf('\r\n\r\n');
      resolve({
        status, head: i < 0 ? text.slice(0, 2048) : text.slice(0, i),
        body: i < 0 ? '' : buf.subarray(i + 4, i + 4 + 4096).toString('utf8'), timedOut, error, ms: Date.now() - t0,
      });
    };
    const timer = setTimeout(() => finish(true), r.timeoutMs ?? 10_000);
    sock.on('connect', () => {
      const body = r.body ?? Buffer.alloc(0);
      const headers: Record<string, string> = { Host: 'berth', Connection: 'close', ...r.headers };
      if ((r.body !== undefined || r.contentLength !== undefined) && !headers['Transfer-Encoding']) headers['Content-Length'] ??= String(r.contentLength ?? body.length);
      const head = `${r.method} ${r.path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
      sock.write(Buffer.concat([Buffer.from(head, 'latin1'), body]));
    });
    sock.on('data', (c: Buffer) => {
      if (buf.length < 65536) buf = Buffer.concat([buf, c]);
      if (!status) {
        const m = /^HTTP\/1\.[01] (\d{3})/.exec(buf.toString('latin1', 0, Math.min(buf.length, 64)));
        if (m) {
          status = Number(m[1]);
          after = setTimeout(() => finish(false), r.readMs ?? 300);
        }
      }
      // A complete response with a Content-Length ends here; a stream ends after readMs.
      const i = buf.indexOf('\r\n\r\n');
      if (status && i >= 0) {
        const len = /\r\ncontent-length: *(\d+)/i.exec(buf.toString('latin1', 0, i))?.[1];
        if (len !== undefined && buf.length >= i + 4 + Number(len)) finish(false);
        else if (buf.subarray(-5).toString('latin1') === '0\r\n\r\n') finish(false);
      }
    });
    sock.on('error', (e) => finish(false, e.message));
    sock.on('close', () => finish(false));
  });
}

/** What one daemon has on the host right now. */
export interface Census {
  /** conmon processes of this daemon: pid → container ID (`-c`), and whether it is an exec. */
  conmons: { pid: number; cid: string; exec: boolean }[];
  /** Mount points under the data root or the exec root. */
  mounts: string[];
  /** Leaf cgroups under the daemon's parent (controller/name). */
  cgroups: string[];
  /** Prepared network namespaces of this daemon, and container namespaces (berth-<id16>). */
  netns: string[];
  /** Links on the daemon's bridge (veths), and the bridges named. */
  links: string[];
  /** iptables-save lines tagged `berth:<bridge>` for the bridges named. */
  rules: string[];
}

export async function census(d: TestDaemon, bridges: string[] = [d.net.bridge]): Promise<Census> {
  const conmons: Census['conmons'] = [];
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (!argv[0]?.endsWith('conmon') || !argv.some((a) => a.startsWith(`${d.execRoot}/`))) continue;
    const ci = argv.indexOf('-c');
    conmons.push({ pid: Number(pid), cid: ci >= 0 ? argv[ci + 1] ?? '' : '', exec: argv.includes('--exec') });
  }
  const mounts = (await readFile('/proc/self/mounts', 'utf8')).split('\n').map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m.startsWith(`${d.dataRoot}/`) || m.startsWith(`${d.execRoot}/`) || m === d.execRoot);
  const cgroups: string[] = [];
  const parent = `berth-${daemonTag(d.execRoot)}`;
  for (const ctrl of await readdir('/sys/fs/cgroup').catch(() => [] as string[])) {
    for (const e of await readdir(join('/sys/fs/cgroup', ctrl, parent), { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) cgroups.push(`${ctrl}/${e.name}`);
    }
  }
  const poolPrefix = `berth-p.${daemonTag(d.execRoot)}-`;
  const ids = new Set(await readdir(join(d.dataRoot, 'containers')).catch(() => [] as string[]));
  const netns = (await readdir('/run/netns').catch(() => [] as string[]))
    .filter((n) => n.startsWith(poolPrefix) || (/^berth-[0-9a-f]{16}$/.test(n) && [...ids].some((id) => id.startsWith(n.slice(6)))));
  const linkText = (await run('ip', ['-o', 'link'], { okCodes: [0, 1] }).catch(() => ({ stdout: '' }))).stdout;
  const links: string[] = [];
  for (const l of linkText.split('\n')) {
    const name = /^\d+: ([^:@\s]+)/.exec(l)?.[1];
    const master = / master (\S+) /.exec(l)?.[1];
    if (name && (bridges.includes(name) || (master && bridges.includes(master)))) links.push(name);
  }
  const saved = (await run('iptables-save', [], { okCodes: [0, 1] }).catch(() => ({ stdout: '' }))).stdout;
  const rules = saved.split('\n').filter((l) => bridges.some((b) => new RegExp(`berth:${b}(/|[\\s"]|$)`).test(l)));
  return { conmons, mounts, cgroups, netns, links, rules };
}

/** Everything of a daemon that should be gone once it was cleaned up; [] when nothing is left. */
export async function leftovers(d: TestDaemon, bridges: string[] = [d.net.bridge]): Promise<string[]> {
  const c = await census(d, bridges);
  const out: string[] = [];
  for (const x of c.conmons) out.push(`conmon ${x.pid} (${x.cid})`);
  for (const m of c.mounts) out.push(`mount ${m}`);
  for (const g of c.cgroups) out.push(`cgroup ${g}`);
  for (const n of c.netns) out.push(`netns ${n}`);
  for (const l of c.links) out.push(`link ${l}`);
  for (const r of c.rules) out.push(`iptables ${r}`);
  const runc = await run('runc', ['--root', join(d.execRoot, 'runc'), 'list', '-q'], { okCodes: [0, 1] }).catch(() => ({ stdout: '' }));
  for (const id of runc.stdout.split('\n').filter(Boolean)) out.push(`runc ${id}`);
  return out;
}

/** VmRSS of a process in KiB (0 when it is gone). */
export async function rssKiB(pid: number): Promise<number> {
  const s = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0);
}

/** Runs fns with at most n at once; results in order. */
export async function pool<T>(n: number, items: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(items);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items) }, async () => {
    while (next < items) {
      const i = next++;
      out[i] = await fn(i);
    }
  }));
  return out;
}

/** Berth's veths (vb…) attached to no bridge: another daemon's bridge went, or a setup was cut short. */
export async function looseVeths(): Promise<string[]> {
  const text = (await run('ip', ['-o', 'link'], { okCodes: [0, 1] }).catch(() => ({ stdout: '' }))).stdout;
  return text.split('\n').filter((l) => !/ master /.test(l)).map((l) => /^\d+: (vb[0-9a-f]{11})[@:]/.exec(l)?.[1]).filter((x): x is string => !!x);
}

/** A small ustar archive (synchronous; names up to 100 bytes, longer ones are cut). */
export function makeTar(entries: { name: string; data?: Buffer | string; type?: '0' | '5' | '2'; linkname?: string; mode?: number }[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data ?? '');
    const h = Buffer.alloc(512);
    h.write(e.name.slice(0, 100), 0, 'utf8');
    h.write(((e.mode ?? (e.type === '5' ? 0o755 : 0o644)).toString(8).padStart(7, '0')) + '\0', 100, 'latin1');
    h.write('0000000\0', 108, 'latin1');
    h.write('0000000\0', 116, 'latin1');
    h.write((e.type === '0' || e.type === undefined ? data.length : 0).toString(8).padStart(11, '0') + '\0', 124, 'latin1');
    h.write(Math.floor(Date.now() / 1000).toString(8).padStart(11, '0') + '\0', 136, 'latin1');
    h.write('        ', 148, 'latin1');
    h.write(e.type ?? '0', 156, 'latin1');
    if (e.linkname) h.write(e.linkname.slice(0, 100), 157, 'utf8');
    h.write('ustar\0' + '00', 257, 'latin1');
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
    parts.push(h);
    if (e.type === '0' || e.type === undefined) {
      parts.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
    }
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** Proportional set size in KiB (shared pages divided among their users; 0 when gone). */
export async function pssKiB(pid: number): Promise<number> {
  const s = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
  return Number(/^Pss:\s+(\d+)/m.exec(s)?.[1] ?? 0);
}
