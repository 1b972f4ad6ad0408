// --sig-proxy: signals the client receives are sent on to the container (POST /containers/ID/kill),
// as the Docker CLI's ForwardAllSignals does, so `kill <berth pid>` or ctrl-c on a non-TTY run
// reaches the process in the container and berth exits with its status.
import type { EngineClient } from '../../client/engine-client.ts';

// Go's signal.Notify() catches every signal; Node can only listen to those it lets through.
// SIGCHLD, SIGPIPE and SIGURG are never forwarded (docker skips them too); SIGTTIN/SIGTTOU are left
// alone so a backgrounded berth reading the terminal still stops instead of spinning on EIO.
const FORWARDED: NodeJS.Signals[] = [
  'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGCONT', 'SIGTSTP', 'SIGWINCH',
  'SIGVTALRM', 'SIGPROF', 'SIGXCPU', 'SIGXFSZ', 'SIGPWR', 'SIGTRAP', 'SIGSYS', 'SIGIO',
];

/** Starts forwarding; returns the function that stops it (the default actions come back). */
export function proxySignals(client: EngineClient, id: string): () => void {
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const sig of FORWARDED) {
    const h = (): void => {
      // docker logs a failed kill at debug level only: the container may already be gone.
      client.request('POST', `/containers/${encodeURIComponent(id)}/kill?signal=${sig.slice(3)}`).catch(() => {});
    };
    try {
      process.on(sig, h);
      handlers.set(sig, h);
    } catch { /* not a signal on this platform */ }
  }
  return () => {
    for (const [sig, h] of handlers) process.removeListener(sig, h);
  };
}
