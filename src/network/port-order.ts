// The order in which dockerd 20.10 publishes a container's ports, which decides which binding
// gets which host port from the allocator: moby's buildCreateEndpointOptions takes the
// container's exposed ports, sorts them with go-connections' nat.SortPortMap and emits, per
// port, its bindings in the sorted order (or one binding without host port when -P publishes an
// unbound port). SortPortMap's comparison is, verbatim:
//
//   hpi > hpj || pi > pj || (pi == pj && proto_i == "tcp")
//
// (explicit host ports first, then larger container ports, tcp before udp). It is not a strict
// order, so the result depends on the algorithm: Go's sort.Sort is an insertion sort for up to
// 12 elements (pdqsort and the older quicksort alike), which is what is done here. dockerd takes
// the ports from a Go map (no fixed order); Berth takes them in the container's order.

export interface HostBinding { HostIp: string; HostPort: string }

/** One binding to publish: the port key ("80/tcp") and where on the host. */
export interface OrderedBinding { key: string; HostIp: string; HostPort: string }

/** nat.ParsePortRange's start (0 when empty or not a port), as SortPortMap's toInt. */
function hostPortInt(s: string): number {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  return m ? Number(m[1]) : 0;
}

function portInt(key: string): number {
  return Number.parseInt(key.split('/')[0]!, 10) || 0;
}

function protoOf(key: string): string {
  return (key.split('/')[1] ?? 'tcp').toLowerCase();
}

/**
 * The bindings to publish in dockerd's order. `ports`: the container's ports (exposed ones and
 * those with bindings); `bindings`: HostConfig.PortBindings; `publishAll`: -P.
 */
export function publishOrder(ports: string[], bindings: Record<string, HostBinding[] | null | undefined>, publishAll: boolean): OrderedBinding[] {
  type Entry = { key: string; binding?: HostBinding };
  const entries: Entry[] = [];
  const bound = new Map<string, HostBinding[]>();
  for (const key of ports) {
    const bs = bindings[key];
    if (bs && bs.length) {
      for (const b of bs) entries.push({ key, binding: b });
      bound.set(key, []);
    } else {
      entries.push({ key });
      // a port present in PortBindings with no entries keeps one empty binding (SortPortMap appends it)
      if (bs !== undefined) bound.set(key, []);
    }
  }
  const less = (a: Entry, b: Entry): boolean => {
    const hpa = hostPortInt(a.binding?.HostPort ?? ''), hpb = hostPortInt(b.binding?.HostPort ?? '');
    const pa = portInt(a.key), pb = portInt(b.key);
    return hpa > hpb || pa > pb || (pa === pb && protoOf(a.key) === 'tcp');
  };
  for (let i = 1; i < entries.length; i++) {
    for (let j = i; j > 0 && less(entries[j]!, entries[j - 1]!); j--) [entries[j], entries[j - 1]] = [entries[j - 1]!, entries[j]!];
  }
  const order: string[] = [];
  for (const e of entries) {
    if (!order.includes(e.key)) order.push(e.key);
    bound.get(e.key)?.push(e.binding ?? { HostIp: '', HostPort: '' });
  }
  const out: OrderedBinding[] = [];
  for (const key of order) {
    const bs = bound.get(key) ?? [];
    for (const b of bs) out.push({ key, HostIp: b.HostIp, HostPort: b.HostPort });
    if (publishAll && bs.length === 0) out.push({ key, HostIp: '', HostPort: '' });
  }
  return out;
}
