// Start-up warnings for a registry reachable from other hosts without TLS or without auth. The
// CNCF registry says only "listening on <addr>" at info level either way, which is how registries
// end up open on a LAN; `berth registry serve` prints these on stderr before "listening on".
import { isIP } from 'node:net';

/** Whether a listen host stays on this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === 'ip6-localhost') return true;
  if (h === '::1' || /^(?:0{0,4}:){7}0{0,3}1$/.test(h)) return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/** One line per reason the listener is exposed; none on loopback. */
export function exposureWarnings(o: { host: string; tls: boolean; auth: boolean }): string[] {
  if (isLoopbackHost(o.host)) return [];
  const where = o.host === '' || o.host === '0.0.0.0' || o.host === '::' ? 'every interface' : o.host;
  const out: string[] = [];
  if (!o.tls) out.push(`WARNING: the registry listens on ${where} without TLS: credentials, tokens and images cross the network in clear text (use --tls-cert and --tls-key)`);
  if (!o.auth) out.push(`WARNING: the registry listens on ${where} without authentication: anyone who can reach it can push, overwrite and delete images (use --htpasswd)`);
  return out;
}
