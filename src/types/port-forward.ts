// One published port as the userland proxy sees it (`docker run -p hostIp:hostPort:containerPort/proto`).
// Shared by network/port-proxy (which forwards) and sys/proxy-process (which spawns the proxy).

export interface PortForward {
  proto: 'tcp' | 'udp';
  /** Address to bind on the host; '0.0.0.0' or '' means all IPv4 addresses, '::' all IPv6 ones. */
  hostIp: string;
  /** 0 = let the kernel pick a free port; the proxy reports the real one. */
  hostPort: number;
  containerIp: string;
  containerPort: number;
}
