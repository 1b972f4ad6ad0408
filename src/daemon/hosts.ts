// The -H addresses berthd listens on, parsed the way dockerd parses them, and systemd socket
// activation (fd://): which inherited descriptors are ours. Pure functions, so the rules are
// unit-tested without sockets.
import { isIP } from 'node:net';

export type HostAddr =
  | { kind: 'unix'; path: string }
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'fd'; spec: string };

/** dockerd's default TCP address parts: `tcp://` alone is localhost:2375. */
const DEFAULT_TCP_HOST = '127.0.0.1';
const DEFAULT_TCP_PORT = 2375;

/**
 * Parses one -H value. A value without a scheme is TCP (`-H 0.0.0.0:2376`), as in dockerd's
 * ParseHost; an empty address part takes dockerd's defaults.
 */
export function parseHost(h: string): HostAddr {
  const s = h.includes('://') ? h : `tcp://${h}`;
  if (s.startsWith('unix://')) {
    const path = s.slice('unix://'.length);
    if (!path.startsWith('/')) throw new Error(`invalid host address ${h}: unix sockets need an absolute path (unix:///path)`);
    return { kind: 'unix', path };
  }
  if (s.startsWith('fd://')) {
    const spec = s.slice('fd://'.length);
    if (spec !== '' && spec !== '*' && !/^\d+$/.test(spec)) throw new Error(`failed to parse systemd fd address: should be a number: ${spec}`);
    return { kind: 'fd', spec };
  }
  if (s.startsWith('tcp://')) {
    const m = /^tcp:\/\/(\[[^\]]*\]|[^:/[\]]*)(?::(\d*))?\/?$/.exec(s);
    if (!m) throw new Error(`invalid host address ${h}: expected tcp://addr:port`);
    const host = m[1]!.replace(/^\[|\]$/g, '') || DEFAULT_TCP_HOST;
    const port = m[2] ? Number(m[2]) : DEFAULT_TCP_PORT;
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid host address ${h}: invalid port ${m[2]}`);
    return { kind: 'tcp', host, port };
  }
  throw new Error(`invalid host address ${h}: use unix:///path, tcp://addr:port or fd://`);
}

/**
 * Loopback as dockerd decides it: the literal `localhost`, or an IP in 127.0.0.0/8 or ::1.
 * Other names are not resolved here and count as not loopback (the safe side).
 */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const v = isIP(host);
  if (v === 4) return host.startsWith('127.');
  if (v === 6) return /^(0*:)*:?0*1$/.test(host) || /^::ffff:127\./i.test(host);
  return false;
}

/**
 * Descriptors systemd passed (sd_listen_fds): LISTEN_FDS of them from fd 3. LISTEN_PID, when
 * set, must name this process; else the variables were meant for a parent and are ignored.
 */
export function activationFds(env: NodeJS.ProcessEnv, pid: number): number[] {
  const n = Number(env.LISTEN_FDS ?? '');
  if (!env.LISTEN_FDS || !Number.isInteger(n) || n < 1) return [];
  if (env.LISTEN_PID !== undefined && env.LISTEN_PID !== '' && Number(env.LISTEN_PID) !== pid) return [];
  return Array.from({ length: n }, (_, i) => 3 + i);
}

/** The fds an `fd://` host names: all of them for `fd://` (or `fd://*`), one for `fd://N`. dockerd's errors. */
export function selectFds(spec: string, fds: number[]): number[] {
  if (fds.length === 0) throw new Error('no sockets found via socket activation: make sure the service was started by systemd');
  if (spec === '' || spec === '*') return fds;
  const n = Number(spec);
  if (!Number.isInteger(n)) throw new Error(`failed to parse systemd fd address: should be a number: ${spec}`);
  if (n < 3 || n - 3 >= fds.length) throw new Error('too few socket activated files passed in by systemd');
  return [n];
}
