// Parsing what a container asks to have mounted, as moby 20.10's volume/mounts/linux_parser.go
// does it: `-v` entries (HostConfig.Binds, `src:dst[:mode]`), `--mount` entries
// (HostConfig.Mounts), `--volumes-from` entries and tmpfs options. Pure functions, no side
// effects: the caller (VolumeService.plan) creates volumes afterwards, so a bad entry anywhere
// in the request is refused before anything is made. Error texts are moby's, word for word
// (clients and the conformance scenarios match them).
import { posix } from 'node:path';
import { InvalidParameter } from '../../errors.ts';

export type MountType = 'bind' | 'volume' | 'tmpfs';

/** One parsed entry, before any volume exists (moby's MountPoint as its parser returns it). */
export interface ParsedMount {
  type: MountType;
  /** bind: the host path (cleaned); volume: the name ('' = anonymous); tmpfs: '' */
  source: string;
  destination: string;
  rw: boolean;
  /** the `-v` mode text as given ('' for --mount) */
  mode: string;
  /** binds only ('' for the others) */
  propagation: string;
  copyData: boolean;
  driver?: string;
  driverOpts?: Record<string, string>;
  labels?: Record<string, string>;
  /** tmpfs: the mount data moby's ConvertTmpfsOptions makes (`ro,mode=700,size=2m`) */
  tmpfsData?: string;
  /** `-v` binds make a missing source directory at start; `--mount` ones were checked at create */
  createSource: boolean;
}

/** The --mount entry as the API carries it (api/types/mount.Mount). */
export interface MountWire {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean } | null;
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string> | null; DriverConfig?: { Name?: string; Options?: Record<string, string> | null } | null } | null;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number } | null;
}

const RW_MODES = new Set(['rw', 'ro']);
const LABEL_MODES = new Set(['z', 'Z']);
export const PROPAGATION_MODES = new Set(['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared']);
const COPY_MODES = new Set(['nocopy']);
const CONSISTENCY_MODES = new Set(['consistent', 'cached', 'delegated']);
const DEFAULT_PROPAGATION = 'rprivate';

const invalidSpec = (spec: string): string => `invalid volume specification: '${spec}'`;

/** moby's linuxValidMountMode: known words only, at most one of each kind. */
export function validMountMode(mode: string): boolean {
  if (mode === '') return true;
  const counts = [0, 0, 0, 0, 0];
  for (const o of mode.split(',')) {
    const kind = RW_MODES.has(o) ? 0 : LABEL_MODES.has(o) ? 1 : PROPAGATION_MODES.has(o) ? 2 : COPY_MODES.has(o) ? 3 : CONSISTENCY_MODES.has(o) ? 4 : -1;
    if (kind < 0) return false;
    counts[kind]!++;
  }
  return counts.every((n) => n <= 1);
}

export function readWrite(mode: string): boolean {
  return validMountMode(mode) && !mode.split(',').includes('ro');
}

const propagationOf = (mode: string): string | undefined => mode.split(',').find((o) => PROPAGATION_MODES.has(o));
const copyModeOf = (mode: string): boolean | undefined => (mode.split(',').includes('nocopy') ? false : undefined);

/** moby's errMountConfig: `invalid mount config for type "bind": <what>`. */
function mountConfigError(type: string, what: string): InvalidParameter {
  return new InvalidParameter(`invalid mount config for type "${type}": ${what}`);
}

function validateDestination(type: string, target: string): void {
  if (!target) throw mountConfigError(type, 'field Target must not be empty');
  if (posix.normalize(target) === '/' || /^\/+$/.test(target)) throw mountConfigError(type, 'invalid specification: destination can\'t be \'/\'');
  if (!target.startsWith('/')) throw mountConfigError(type, `invalid mount path: '${target}' mount path must be absolute`);
}

/** Go's path.Clean for absolute paths (no trailing slash, no dot segments). */
function clean(p: string): string {
  const n = posix.normalize(p);
  return n.length > 1 ? n.replace(/\/+$/, '') : n;
}

/**
 * moby's ConvertTmpfsOptions: the mount data of a `--mount type=tmpfs`: `ro`, `mode=<octal>`,
 * `size=<n><g|m|k>` with the largest suffix that divides the byte count.
 */
export function tmpfsData(o: MountWire['TmpfsOptions'], readOnly: boolean): string {
  const raw: string[] = [];
  if (readOnly) raw.push('ro');
  if (o?.Mode) raw.push(`mode=${o.Mode.toString(8)}`);
  if (o?.SizeBytes) {
    let size = o.SizeBytes;
    let suffix = '';
    for (const [s, d] of [['g', 2 ** 30], ['m', 2 ** 20], ['k', 2 ** 10]] as const) {
      if (size % d === 0) { size /= d; suffix = s; break; }
    }
    raw.push(`size=${size}${suffix}`);
  }
  return raw.join(',');
}

/** moby's validateMountConfigImpl + parseMountSpec. */
function fromWire(m: MountWire, validateBindSourceExists: (path: string) => boolean): ParsedMount {
  const type = m.Type ?? '';
  const target = m.Target ?? '';
  validateDestination(type, target);
  const base = { destination: clean(target), rw: m.ReadOnly !== true, mode: '', propagation: '', copyData: true, createSource: false };
  switch (type) {
    case 'bind': {
      const src = m.Source ?? '';
      if (!src) throw mountConfigError(type, 'field Source must not be empty');
      const prop = m.BindOptions?.Propagation ?? '';
      if (prop && !PROPAGATION_MODES.has(prop)) throw mountConfigError(type, `invalid propagation mode: ${prop}`);
      if (m.VolumeOptions) throw mountConfigError(type, 'field VolumeOptions must not be specified');
      if (!src.startsWith('/')) throw mountConfigError(type, `invalid mount path: '${src}' mount path must be absolute`);
      if (!validateBindSourceExists(src)) throw mountConfigError(type, `bind source path does not exist: ${src}`);
      return { ...base, type, source: clean(src), propagation: prop || DEFAULT_PROPAGATION };
    }
    case 'volume': {
      if (m.BindOptions) throw mountConfigError(type, 'field BindOptions must not be specified');
      const src = m.Source ?? '';
      if (!src && m.ReadOnly) throw mountConfigError(type, 'must not set ReadOnly mode when using anonymous volumes');
      const vo = m.VolumeOptions;
      return {
        ...base, type, source: src, copyData: vo?.NoCopy !== true,
        driver: vo?.DriverConfig?.Name || undefined, driverOpts: vo?.DriverConfig?.Options ?? undefined, labels: vo?.Labels ?? undefined,
      };
    }
    case 'tmpfs': {
      if (m.BindOptions) throw mountConfigError(type, 'field BindOptions must not be specified');
      if (m.Source) throw mountConfigError(type, 'field Source must not be specified');
      return { ...base, type, source: '', tmpfsData: tmpfsData(m.TmpfsOptions, m.ReadOnly === true) };
    }
    default:
      throw mountConfigError(type, 'mount type unknown');
  }
}

/** A `--mount` entry (moby ParseMountSpec: a bind's source must exist). */
export function parseMountSpec(m: MountWire, exists: (path: string) => boolean): ParsedMount {
  return fromWire(m, exists);
}

/** A `-v` entry of HostConfig.Binds (moby ParseMountRaw). */
export function parseBind(raw: string, volumeDriver = ''): ParsedMount {
  const arr = raw.split(':');
  if (arr[0] === '') throw new InvalidParameter(invalidSpec(raw));
  let source = '';
  let target: string;
  let mode = '';
  switch (arr.length) {
    case 1: target = arr[0]!; break;
    case 2:
      // `/foo:rw` is a destination and a mode: volumes cannot have only that.
      if (validMountMode(arr[1]!)) throw new InvalidParameter(invalidSpec(raw));
      [source, target] = arr as [string, string];
      break;
    case 3: [source, target, mode] = arr as [string, string, string]; break;
    default: throw new InvalidParameter(invalidSpec(raw));
  }
  if (!validMountMode(mode)) throw new InvalidParameter(`invalid mode: ${mode}`);
  const type: MountType = source.startsWith('/') ? 'bind' : 'volume';
  const wire: MountWire = { Type: type, Source: source, Target: target, ReadOnly: !readWrite(mode) };
  if (volumeDriver && type === 'volume') wire.VolumeOptions = { DriverConfig: { Name: volumeDriver } };
  const copy = copyModeOf(mode);
  if (copy !== undefined) wire.VolumeOptions = { ...(wire.VolumeOptions ?? {}), NoCopy: !copy };
  const prop = propagationOf(mode);
  if (prop) wire.BindOptions = { Propagation: prop };
  try {
    // `-v` makes a missing host directory (at start), so its source need not exist now.
    return { ...fromWire(wire, () => true), mode, createSource: type === 'bind' };
  } catch (err) {
    if (err instanceof InvalidParameter) throw new InvalidParameter(`${invalidSpec(raw)}: ${err.message}`);
    throw err;
  }
}

/** A `--volumes-from` entry: `container[:mode]` (moby ParseVolumesFrom). */
export function parseVolumesFrom(spec: string): { container: string; mode: string } {
  if (!spec) throw new InvalidParameter('volumes-from specification cannot be an empty string');
  const i = spec.indexOf(':');
  if (i < 0) return { container: spec, mode: 'rw' };
  const mode = spec.slice(i + 1);
  // Propagation and copy modes are the source container's to decide (dockerd 20.10 calls them invalid modes).
  if (!validMountMode(mode) || propagationOf(mode) || copyModeOf(mode) !== undefined) throw new InvalidParameter(`invalid mode: ${mode}`);
  return { container: spec.slice(0, i), mode };
}

/** `--tmpfs` and the tmpfs table's destinations (moby ValidateTmpfsMountDestination). */
export function validateTmpfsDestination(dest: string): void {
  if (posix.normalize(dest) === '/' || /^\/+$/.test(dest)) throw new InvalidParameter('invalid specification: destination can\'t be \'/\'');
  if (!dest.startsWith('/')) throw new InvalidParameter(`invalid mount path: '${dest}' mount path must be absolute`);
}

const TMPFS_FLAGS: Record<string, string> = {
  // flag word → the collision key (one propagation mode only, hence the shared key)
  ro: 'rw', rw: 'rw', suid: 'suid', nosuid: 'suid', dev: 'dev', nodev: 'dev', exec: 'exec', noexec: 'exec',
  sync: 'sync', async: 'sync', dirsync: 'dirsync', remount: 'remount', mand: 'mand', nomand: 'mand',
  atime: 'atime', noatime: 'atime', diratime: 'diratime', nodiratime: 'diratime', bind: 'bind', rbind: 'rbind',
  relatime: 'relatime', norelatime: 'relatime', strictatime: 'strictatime', nostrictatime: 'strictatime',
  private: 'prop', rprivate: 'prop', shared: 'prop', rshared: 'prop', slave: 'prop', rslave: 'prop',
  unbindable: 'prop', runbindable: 'prop',
};
const TMPFS_DATA = new Set(['size', 'mode', 'uid', 'gid', 'nr_inodes', 'nr_blocks', 'mpol']);

/**
 * The options of a container's tmpfs mount (moby: `noexec,nosuid,nodev,rprivate` then the
 * user's data, merged by MergeTmpfsOptions: the last of each kind wins, unknown words refused).
 */
export function tmpfsMountOptions(data: string): string[] {
  const options = ['noexec', 'nosuid', 'nodev', DEFAULT_PROPAGATION, ...(data ? data.split(',') : [])];
  const seen = new Set<string>();
  const out: string[] = [];
  for (let i = options.length - 1; i >= 0; i--) {
    const o = options[i]!;
    if (o === 'defaults') continue;
    const flag = TMPFS_FLAGS[o];
    if (flag) {
      if (!seen.has(`f:${flag}`)) { out.unshift(o); seen.add(`f:${flag}`); }
      continue;
    }
    const eq = o.indexOf('=');
    const key = eq < 0 ? o : o.slice(0, eq);
    if (eq < 0 || !TMPFS_DATA.has(key)) {
      // Go's %q of the split option: ["bogus"] or ["k" "v"].
      const parts = eq < 0 ? [o] : [key, o.slice(eq + 1)];
      throw new InvalidParameter(`invalid tmpfs option [${parts.map((p) => JSON.stringify(p)).join(' ')}]`);
    }
    if (!seen.has(`d:${key}`)) { out.unshift(o); seen.add(`d:${key}`); }
  }
  return out;
}
