// One published port as the userland proxy sees it (`docker run -p hostIp:hostPort:containerPort/proto`),
// and the control protocol of berth-proxy, the one proxy process a berthd with userland-proxy=true
// keeps (proxy/main.ts serves it, sys/proxy-process.ts speaks it).

export interface PortForward {
  proto: 'tcp' | 'udp';
  /** Address to bind on the host; '0.0.0.0' or '' means all IPv4 addresses, '::' all IPv6 ones. */
  hostIp: string;
  /** 0 = let the kernel pick a free port; the proxy reports the real one. */
  hostPort: number;
  containerIp: string;
  containerPort: number;
}

/**
 * One request on berth-proxy's control socket: a JSON line; the answer is one JSON line.
 * `add` binds every forward of a container or none (replacing what it had), `remove` lets go of
 * them (no error when it had none), `list` names the containers whose forwards are held.
 */
export type ProxyRequest =
  | { op: 'add'; owner: string; forwards: PortForward[] }
  | { op: 'remove'; owner: string }
  | { op: 'list' };

/**
 * The answer: the proxy's pid; `forwards` as bound (after add; hostPort 0 replaced by the real
 * port); `owners` (after list); `exiting` when nothing is left to hold and the proxy is going away
 * (its control socket is already closed, so the next request starts a new one).
 */
export type ProxyReply =
  | { ok: true; pid: number; forwards?: PortForward[]; owners?: string[]; exiting?: boolean }
  | { ok: false; error: string };
