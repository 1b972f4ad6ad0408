// HostConfig.PortBindings checked at create as moby's validatePortBindings does (daemon/
// container.go), with its text: the container port of each key and every HostPort must parse
// as a port or a range (go-connections nat.ParsePort / nat.NewPort), an empty HostPort is "any".
import { InvalidParameter } from '../../errors.ts';

/** nat.SplitProtoPort: the port part of "80/tcp", "80", "/tcp" (empty). */
function portPart(raw: string): string {
  const parts = raw.split('/');
  if (raw === '' || parts[0] === '') return '';
  return parts[0]!;
}

/** strconv.ParseUint(s, 10, 16) succeeds. */
const isPort = (s: string): boolean => /^\d+$/.test(s) && Number(s) <= 65535;

/** nat.ParsePortRangeToInt: empty, a port, or start-end with start <= end. */
function isPortRange(s: string): boolean {
  if (s === '') return true;
  if (!s.includes('-')) return isPort(s);
  const [a, b, ...more] = s.split('-');
  return more.length === 0 && isPort(a!) && isPort(b!) && Number(b) >= Number(a);
}

export function validatePortBindings(bindings: Record<string, unknown> | null | undefined): void {
  for (const [key, list] of Object.entries(bindings ?? {})) {
    const port = portPart(key);
    if (port !== '' && !isPort(port)) throw new InvalidParameter(`invalid port specification: ${JSON.stringify(port)}`);
    for (const b of Array.isArray(list) ? list : []) {
      const host = String((b as { HostPort?: unknown } | null)?.HostPort ?? '');
      if (!isPortRange(portPart(host))) throw new InvalidParameter(`invalid port specification: ${JSON.stringify(host)}`);
    }
  }
}
