// What `docker volume ls/inspect` and `docker system df -v` show of a volume.
import type { VolumeRecord } from '../../engine/volumes.ts';

/** A volume as the API shows it (Berth's own fields left out). */
export function volumeView(v: VolumeRecord, usage?: { Size: number; RefCount: number }): Record<string, unknown> {
  const { Anonymous: _a, ...wire } = v;
  // moby keeps no map for a volume without labels or options: they are null on the wire
  const empty = (m: Record<string, string>): Record<string, string> | null => (Object.keys(m).length ? m : null);
  return { ...wire, Labels: empty(v.Labels), Options: empty(v.Options), ...(usage ? { UsageData: usage } : {}) };
}
