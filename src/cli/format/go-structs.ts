// Inspect replies as docker's Go templates see them: which nested objects are Go structs (they
// print as `{a b}`, not `map[…]`), for the inspect and ls commands' templates.
import { goStruct, nilSlice } from './template.ts';

/** Marks the nested objects of an inspect reply that are Go structs (by key path; `*` is any element or map value). */
export function goStructs(obj: unknown, paths: Record<string, string>): (v: object) => string | undefined {
  const types = new WeakMap<object, string>();
  const mark = (v: unknown, parts: string[], type: string): void => {
    if (!v || typeof v !== 'object') return;
    if (!parts.length) { types.set(v, type); return; }
    const [head, ...rest] = parts;
    const next = head === '*' ? Object.values(v) : [(v as Record<string, unknown>)[head!]];
    for (const x of next) mark(x, rest, type);
  };
  for (const [path, type] of Object.entries(paths)) mark(obj, path.split('.'), type);
  return (v) => types.get(v);
}

const PORT_BINDING = ['HostIp', 'HostPort'];
const MOUNT_POINT = ['Type', 'Name', 'Source', 'Destination', 'Driver', 'Mode', 'RW', 'Propagation'];

/** Marks the struct values of a map[key]struct (nat.PortSet, volumes) or map[key][]struct. */
function markValues(m: unknown, fields: string[], slices = false): void {
  if (!m || typeof m !== 'object') return;
  for (const [k, v] of Object.entries(m)) {
    // a port published nowhere: a nil []PortBinding in docker's struct
    if (slices && v === null) (m as Record<string, unknown>)[k] = nilSlice();
    else if (slices && Array.isArray(v)) v.forEach((e) => e && typeof e === 'object' && goStruct(e, fields));
    else if (!slices && v && typeof v === 'object') goStruct(v, fields);
  }
}

/**
 * docker's template sees the typed inspect struct: the values of ExposedPorts and Volumes are
 * struct{} ("{}"), port bindings and mounts are structs ("{0.0.0.0 8080}"), not maps.
 */
export function markGoStructs(obj: unknown): unknown {
  const o = obj as { Config?: Record<string, unknown>; HostConfig?: Record<string, unknown>; NetworkSettings?: Record<string, unknown>; Mounts?: unknown };
  if (!o || typeof o !== 'object') return obj;
  markValues(o.Config?.ExposedPorts, []);
  markValues(o.Config?.Volumes, []);
  markValues(o.HostConfig?.PortBindings, PORT_BINDING, true);
  markValues(o.NetworkSettings?.Ports, PORT_BINDING, true);
  if (Array.isArray(o.Mounts)) o.Mounts.forEach((m) => m && typeof m === 'object' && goStruct(m, MOUNT_POINT));
  return obj;
}
