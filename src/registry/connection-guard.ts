// What one client may hold of the registry's sockets, and how a refused request lets go of its own.
// A registry is reachable by anyone who can reach its port, before any authentication: each open
// connection costs a socket and parser state, so a client that opens many (or a slowloris that
// keeps each alive by trickling bytes) could starve the others. The HTTP server's own timeouts
// (index.ts) bound how long one connection lives without progress; this file bounds how many one
// client holds at once (IPv4 address, or IPv6 /64, which one host usually owns), and closes the
// connection of a request whose body the registry refused instead of reading it to its end.
import { isIP, type Server, type Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';

/**
 * The key a client's connections and failed logins count against: the IPv4 address (also when
 * IPv4-mapped), or the first 64 bits of an IPv6 address.
 */
export function clientKey(address: string | undefined): string {
  if (!address) return 'unknown';
  const a = address.toLowerCase();
  if (a.startsWith('::ffff:') && isIP(a.slice(7)) === 4) return a.slice(7);
  if (isIP(a) !== 6) return a;
  const [head, tail = ''] = a.split('::');
  const left = head ? head.split(':') : [];
  const right = a.includes('::') && tail ? tail.split(':') : [];
  const groups = a.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => (parseInt(g, 16) || 0).toString(16)).join(':')}::/64`;
}

/**
 * Refuses (destroys at once) a connection beyond `perClient` open ones from the same client.
 * The total is capped by the server's own maxConnections, which drops before 'connection'.
 */
export function capConnectionsPerClient(server: Server, perClient: number): void {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const key = clientKey(socket.remoteAddress);
    const n = open.get(key) ?? 0;
    if (n >= perClient) {
      socket.destroy();
      return;
    }
    open.set(key, n + 1);
    socket.once('close', () => {
      const left = (open.get(key) ?? 1) - 1;
      if (left <= 0) open.delete(key);
      else open.set(key, left);
    });
  });
}

/**
 * After the answer to a request whose body was not read to its end (a 401 to a chunked PATCH):
 * stop the connection. The response carries `Connection: close`; the socket reads and discards
 * for `lingerMs` so the client is not reset before it reads the answer (what Go's net/http
 * does with its rstAvoidanceDelay), then is destroyed however much the client still sends.
 */
export function closeAfterResponse(req: IncomingMessage, lingerMs: number): void {
  const socket = req.socket;
  if (socket.destroyed) return;
  req.resume();
  socket.end();
  const t = setTimeout(() => socket.destroy(), lingerMs);
  t.unref();
  socket.once('close', () => clearTimeout(t));
}
