// Whether this host can listen on IPv6 (moby's portmapper IsV6Listenable): a kernel booted with
// ipv6.disable=1 cannot, and then dockerd publishes a port on 0.0.0.0 only, with no `::` twin.
import net from 'node:net';

let cached: Promise<boolean> | undefined;

/** Tries a listener on [::1]:0 once per process; the answer does not change while it runs. */
export function ipv6Listenable(): Promise<boolean> {
  cached ??= new Promise<boolean>((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '::1', port: 0 }, () => server.close(() => resolve(true)));
  });
  return cached;
}
