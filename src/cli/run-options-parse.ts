// The value parsers behind `berth run`/`create` flags, each a port of the Go function the Docker CLI
// uses (go-units, go-connections/nat, docker/cli opts and compose loader), with the same accepted
// forms and the same error texts, so a bad value fails the same way under both CLIs.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve as resolvePath, isAbsolute, posix } from 'node:path';
import { ramInBytes } from './size-parse.ts';

/** Go's error text for a failed file open/read: `open x: no such file or directory`. */
export function goFileError(op: string, file: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const why: Record<string, string> = {
    ENOENT: 'no such file or directory', EACCES: 'permission denied', EISDIR: 'is a directory', ENOTDIR: 'not a directory',
  };
  return `${op} ${file}: ${why[code ?? ''] ?? (e as Error).message}`;
}

const goSyntax = (fn: string, s: string, range = false): string => `strconv.${fn}: parsing ${JSON.stringify(s)}: ${range ? 'value out of range' : 'invalid syntax'}`;

/** strconv.ParseUint(s, 10, bits) */
export function parseUint(s: string, bits: number, fn = 'ParseUint', base10 = true): bigint {
  const re = base10 ? /^\d+$/ : /^(?:0[xX][0-9a-fA-F]+|0[oO]?[0-7]*|0[bB][01]+|[1-9]\d*)$/;
  if (!re.test(s)) throw new Error(goSyntax(fn, s));
  const v = BigInt(s.replace(/^0[oO]/, '0o').replace(/^0(?=[0-7])/, '0o'));
  if (v >= 1n << BigInt(bits)) throw new Error(goSyntax(fn, s, true));
  return v;
}

/** strconv.ParseInt(s, 10, 64) / Atoi */
export function parseInt64(s: string, fn = 'ParseInt'): number {
  if (!/^[+-]?\d+$/.test(s)) throw new Error(goSyntax(fn, s));
  const v = BigInt(s);
  if (v > 9223372036854775807n || v < -9223372036854775808n) throw new Error(goSyntax(fn, s, true));
  return Number(v);
}

/** Go time.ParseDuration, in nanoseconds */
export function parseDuration(s: string): number {
  const orig = s;
  const invalid = (): Error => new Error(`time: invalid duration ${JSON.stringify(orig)}`);
  let neg = false;
  if (s[0] === '-' || s[0] === '+') { neg = s[0] === '-'; s = s.slice(1); }
  if (s === '0') return 0;
  if (s === '') throw invalid();
  const units: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let total = 0;
  while (s) {
    const m = /^(\d*)(?:\.(\d*))?/.exec(s)!;
    if (!m[1] && !m[2]) throw invalid();
    if (m[0] === '.') throw invalid();
    s = s.slice(m[0].length);
    const u = /^[^\d.]*/.exec(s)![0];
    if (!u) throw new Error(`time: missing unit in duration ${JSON.stringify(orig)}`);
    const mul = units[u];
    if (mul === undefined) throw new Error(`time: unknown unit ${JSON.stringify(u)} in duration ${JSON.stringify(orig)}`);
    s = s.slice(u.length);
    total += Number(m[1] || 0) * mul + (m[2] ? Math.trunc(Number(`0.${m[2]}`) * mul) : 0);
  }
  return neg ? -total : total;
}

/** opts.ParseCPUs: a rational number of CPUs → nano CPUs */
export function parseCPUs(value: string): number {
  const fail = (): Error => new Error(`failed to parse ${value} as a rational number`);
  let num: bigint, den: bigint;
  const frac = /^([+-]?\d+)\/(\d+)$/.exec(value);
  const dec = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(value);
  if (frac) {
    num = BigInt(frac[1]!);
    den = BigInt(frac[2]!);
    if (den === 0n) throw fail();
  } else if (dec && (dec[2] || dec[3])) {
    const digits = `${dec[2] ?? ''}${dec[3] ?? ''}`;
    const exp = Number(dec[4] ?? 0) - (dec[3]?.length ?? 0);
    num = BigInt(digits) * (exp > 0 ? 10n ** BigInt(exp) : 1n) * (dec[1] === '-' ? -1n : 1n);
    den = exp < 0 ? 10n ** BigInt(-exp) : 1n;
  } else throw fail();
  const nano = num * 1_000_000_000n;
  if (nano % den !== 0n) throw new Error('value is too precise');
  return Number(nano / den);
}

/** net.ParseIP + String(): the canonical text of an IP address, or undefined */
export function canonicalIP(s: string): string | undefined {
  const v = isIP(s);
  if (v === 4) return s.split('.').map((x) => String(Number(x))).join('.');
  if (v !== 6 || s.includes('%')) return undefined;
  const host = new URL(`http://[${s}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (mapped) {
    const a = parseInt(mapped[1]!, 16), b = parseInt(mapped[2]!, 16);
    return `${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`;
  }
  return host;
}

/** net.ParseMAC */
export function validMAC(s: string): boolean {
  const t = s.trim();
  return /^[0-9a-fA-F]{2}(?:([:-])[0-9a-fA-F]{2})+$/.test(t) && [6, 8, 20].includes(t.split(/[:-]/).length) && new Set(t.match(/[:-]/g)).size === 1
    || /^[0-9a-fA-F]{4}(?:\.[0-9a-fA-F]{4})+$/.test(t) && [3, 4, 10].includes(t.split('.').length);
}

/** encoding/csv: one record (commas, double-quoted fields) */
export function csvRecord(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (s[i] === '"') {
      const start = i;
      i++;
      for (;;) {
        if (i >= s.length) throw new Error(`parse error on line 1, column ${s.length + 1}: extraneous or missing " in quoted-field`);
        if (s[i] === '"') {
          if (s[i + 1] === '"') { field += '"'; i += 2; continue; }
          i++;
          break;
        }
        field += s[i++];
      }
      if (i < s.length && s[i] !== ',') throw new Error(`parse error on line 1, column ${i + 1}: extraneous or missing " in quoted-field`);
      void start;
    } else {
      const end = s.indexOf(',', i);
      field = s.slice(i, end < 0 ? s.length : end);
      const q = field.indexOf('"');
      if (q >= 0) throw new Error(`parse error on line 1, column ${i + q + 1}: bare " in non-quoted-field`);
      i += field.length;
    }
    out.push(field);
    if (i >= s.length) return out;
    i++; // the comma
  }
}

/** pkg/kvfile.Parse: KEY=VAL lines, `#` comments, KEY alone takes lookup's value (or is dropped) */
export function parseKVFile(file: string, lookup?: (k: string) => string | undefined): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(goFileError((e as NodeJS.ErrnoException).code === 'EISDIR' ? 'read' : 'open', file, e));
  }
  const out: string[] = [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((raw, n) => {
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (n === 0 && line.startsWith('\uFEFF')) line = line.slice(1);
    line = line.replace(/^\s+/, '');
    if (!line || line[0] === '#') return;
    const eq = line.indexOf('=');
    const key = eq < 0 ? line : line.slice(0, eq);
    if (!key) throw new Error(`invalid env file (${file}): no variable name on line '${line}'`);
    if (/[ \t]/.test(key)) throw new Error(`invalid env file (${file}): variable '${key}' contains whitespaces`);
    if (eq >= 0) out.push(line);
    else if (lookup) {
      const v = lookup(line);
      if (v !== undefined) out.push(`${key}=${v}`);
    }
  });
  return out;
}

// ---- ports (go-connections/nat) ----

function parsePortRange(ports: string): [number, number] {
  if (!ports) throw new Error('empty string specified for ports');
  if (!ports.includes('-')) {
    const v = Number(parseUint(ports, 16));
    return [v, v];
  }
  const parts = ports.split('-');
  const start = Number(parseUint(parts[0]!, 16));
  const end = Number(parseUint(parts[1]!, 16));
  if (end < start) throw new Error(`invalid range specified for port: ${ports}`);
  return [start, end];
}

export function splitProtoPort(raw: string): [string, string] {
  const parts = raw.split('/');
  if (!raw || !parts[0]) return ['', ''];
  if (parts.length === 1) return ['tcp', raw];
  if (!parts[1]) return ['tcp', parts[0]];
  return [parts[1], parts[0]];
}

function newPort(proto: string, port: string): string {
  const [s, e] = port ? parsePortRange(port) : [0, 0];
  return s === e ? `${s}/${proto}` : `${s}-${e}/${proto}`;
}

export interface PortBinding { HostIp: string; HostPort: string }

/** nat.ParsePortSpecs: `-p` values → exposed ports and bindings (in first-seen order) */
export function parsePortSpecs(specs: string[]): { exposed: Map<string, true>; bindings: Map<string, PortBinding[]> } {
  const exposed = new Map<string, true>();
  const bindings = new Map<string, PortBinding[]>();
  for (const raw of specs) {
    const parts = raw.split(':');
    const n = parts.length;
    let ip = n <= 2 ? '' : parts.slice(0, n - 2).join(':');
    let hostPort = n === 1 ? '' : parts[n - 2]!;
    const [proto, containerPort] = splitProtoPort(parts[n - 1]!);
    if (ip && ip[0] === '[') {
      const m = /^\[([^\]]*)\]$/.exec(ip);
      if (!m) throw new Error(`invalid IP address ${ip}: address ${ip}: missing ']' in address`);
      ip = m[1]!;
    }
    if (ip && !canonicalIP(ip)) throw new Error(`invalid IP address: ${ip}`);
    if (!containerPort) throw new Error(`no port specified: ${raw}<empty>`);
    let start: number, end: number;
    try { [start, end] = parsePortRange(containerPort); } catch { throw new Error(`invalid containerPort: ${containerPort}`); }
    let hs = 0, he = 0;
    if (hostPort) {
      try { [hs, he] = parsePortRange(hostPort); } catch { throw new Error(`invalid hostPort: ${hostPort}`); }
    }
    if (hostPort && end - start !== he - hs && end !== start) {
      throw new Error(`invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`);
    }
    if (!['tcp', 'udp', 'sctp'].includes(proto.toLowerCase())) throw new Error(`invalid proto: ${proto}`);
    for (let i = 0; i <= end - start; i++) {
      if (hostPort) hostPort = String(hs + i);
      if (start === end && hs !== he) hostPort = `${hostPort}-${he}`;
      const port = newPort(proto.toLowerCase(), String(start + i));
      exposed.set(port, true);
      bindings.set(port, [...(bindings.get(port) ?? []), { HostIp: ip, HostPort: hostPort }]);
    }
  }
  return { exposed, bindings };
}

/** `--expose 80`, `--expose 7000-7010/udp` → ports (docker's messages) */
export function exposePorts(e: string): string[] {
  if (e.includes(':')) throw new Error(`invalid port format for --expose: ${e}`);
  const [proto, port] = splitProtoPort(e);
  let start: number, end: number;
  try { [start, end] = parsePortRange(port); } catch (err) {
    throw new Error(`invalid range format for --expose: ${e}, error: ${(err as Error).message}`);
  }
  const out: string[] = [];
  for (let i = start; i <= end; i++) out.push(newPort(proto, String(i)));
  return out;
}

/** `-p published=8080,target=80,protocol=udp` → `8080:80/udp` */
export function convertPublishNotation(p: string): string {
  if (!p.includes('=')) return p;
  const params: Record<string, string> = { protocol: 'tcp' };
  for (const param of p.split(',')) {
    const eq = param.indexOf('=');
    if (eq <= 0) throw new Error(`invalid publish opts format (should be name=value but got '${param}')`);
    params[param.slice(0, eq)] = param.slice(eq + 1);
  }
  return `${params.published ?? ''}:${params.target ?? ''}/${params.protocol ?? ''}`;
}

// ---- volumes and mounts ----

export interface VolumeSpec { type: 'bind' | 'volume'; source: string; target: string }

/** compose loader.ParseVolume, as `-v` uses it to tell binds (source given) from anonymous volumes */
export function parseVolumeSpec(spec: string): VolumeSpec {
  if (!spec) throw new Error('invalid empty volume spec');
  if (spec.length <= 2) return { type: 'volume', source: '', target: spec };
  let source = '', target = '';
  let buf = '';
  const chars = [...spec, '\0'];
  const typeOf = (): 'bind' | 'volume' => (source && /^[./~]/.test(source) || source.startsWith('\\\\') || /^[A-Za-z]:/.test(source) && [...source].length > 1 ? 'bind' : 'volume');
  for (const c of chars) {
    if (c === ':' && [...buf].length === 1 && /\p{L}/u.test(buf)) { buf += c; continue; }
    if (c === ':' || c === '\0') {
      if (!buf) throw new Error(`invalid spec: ${spec}: empty section between colons`);
      if (!source && c === '\0') target = buf;
      else if (!source) source = buf;
      else if (!target) target = buf;
      else if (c === ':') throw new Error(`invalid spec: ${spec}: too many colons`);
      buf = '';
    } else buf += c;
  }
  return { type: typeOf(), source, target };
}

/** `filepath.Abs` for a relative `./x` source, as docker resolves them */
export function absIfDotRelative(p: string): string {
  return !isAbsolute(p) && p.startsWith('.') ? resolvePath(p) : p;
}

const parseGoBool = (v: string): boolean | undefined => (/^(1|t|T|true|TRUE|True)$/.test(v) ? true : /^(0|f|F|false|FALSE|False)$/.test(v) ? false : undefined);

/** opts.MountOpt.Set: one `--mount` value → an API Mount (JSON field order as Go marshals it) */
export function parseMount(value: string): Record<string, unknown> {
  const fields = csvRecord(value);
  let type = 'volume', source = '', target = '', readOnly = false, consistency = '';
  let bind: Record<string, unknown> | undefined, vol: { NoCopy?: boolean; Labels: Record<string, string>; Subpath?: string; DriverConfig: { Name?: string; Options?: Record<string, string> } } | undefined;
  let image: { Subpath?: string } | undefined, tmpfs: { SizeBytes?: number; Mode?: number } | undefined;
  const volumeOptions = () => (vol ??= { Labels: {}, DriverConfig: {} });
  const bindOptions = () => (bind ??= {});
  const setOnMap = (m: Record<string, string>, v: string): void => {
    const eq = v.indexOf('=');
    const k = eq < 0 ? v : v.slice(0, eq);
    if (k) m[k] = eq < 0 ? '' : v.slice(eq + 1);
  };
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const val = eq < 0 ? '' : field.slice(eq + 1);
    if (eq < 0) {
      if (key === 'readonly' || key === 'ro') readOnly = true;
      else if (key === 'volume-nocopy') volumeOptions().NoCopy = true;
      else if (key === 'bind-nonrecursive') bindOptions().NonRecursive = true;
      else throw new Error(`invalid field '${field}' must be a key=value pair`);
      continue;
    }
    const bool = (): boolean => {
      const b = parseGoBool(val);
      if (b === undefined) throw new Error(`invalid value for ${key}: ${val}`);
      return b;
    };
    switch (key) {
      case 'type': type = val.toLowerCase(); break;
      case 'source': case 'src': source = absIfDotRelative(val); break;
      case 'target': case 'dst': case 'destination': target = val; break;
      case 'readonly': case 'ro': readOnly = bool(); break;
      case 'consistency': consistency = val.toLowerCase(); break;
      case 'bind-propagation': bindOptions().Propagation = val.toLowerCase(); break;
      case 'bind-nonrecursive': bindOptions().NonRecursive = bool(); break;
      case 'bind-recursive':
        if (val === 'disabled') bindOptions().NonRecursive = true;
        else if (val === 'writable') bindOptions().ReadOnlyNonRecursive = true;
        else if (val === 'readonly') bindOptions().ReadOnlyForceRecursive = true;
        else if (val !== 'enabled') throw new Error(`invalid value for ${key}: ${val} (must be "enabled", "disabled", "writable", or "readonly")`);
        break;
      case 'volume-subpath': volumeOptions().Subpath = val; break;
      case 'volume-nocopy': {
        const b = parseGoBool(val);
        if (b === undefined) throw new Error(`invalid value for volume-nocopy: ${val}`);
        volumeOptions().NoCopy = b;
        break;
      }
      case 'volume-label': setOnMap(volumeOptions().Labels, val); break;
      case 'volume-driver': volumeOptions().DriverConfig.Name = val; break;
      case 'volume-opt': setOnMap(volumeOptions().DriverConfig.Options ??= {}, val); break;
      case 'image-subpath': (image ??= {}).Subpath = val; break;
      case 'tmpfs-size': {
        let n: number;
        try { n = ramInBytes(val); } catch { throw new Error(`invalid value for ${key}: ${val}`); }
        (tmpfs ??= {}).SizeBytes = n;
        break;
      }
      case 'tmpfs-mode': {
        // strconv.ParseUint(val, 8, 32)
        if (!/^[0-7]+$/.test(val) || parseInt(val, 8) >= 2 ** 32) throw new Error(`invalid value for ${key}: ${val}`);
        (tmpfs ??= {}).Mode = parseInt(val, 8);
        break;
      }
      default: throw new Error(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (!type) throw new Error('type is required');
  if (!target) throw new Error('target is required');
  if (vol && type !== 'volume') throw new Error(`cannot mix 'volume-*' options with mount type '${type}'`);
  if (image && type !== 'image') throw new Error(`cannot mix 'image-*' options with mount type '${type}'`);
  if (bind && type !== 'bind') throw new Error(`cannot mix 'bind-*' options with mount type '${type}'`);
  if (tmpfs && type !== 'tmpfs') throw new Error(`cannot mix 'tmpfs-*' options with mount type '${type}'`);
  if (bind?.ReadOnlyNonRecursive && !readOnly) throw new Error("option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction");
  if (bind?.ReadOnlyForceRecursive) {
    if (!readOnly) throw new Error("option 'bind-recursive=readonly' requires 'readonly' to be specified in conjunction");
    if (bind.Propagation !== 'rprivate') throw new Error("option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be specified in conjunction");
  }
  // omitempty fields only when set, in Go's field order
  const m: Record<string, unknown> = { Type: type };
  if (source) m.Source = source;
  m.Target = target;
  if (readOnly) m.ReadOnly = true;
  if (consistency) m.Consistency = consistency;
  if (bind) m.BindOptions = pick(bind, ['Propagation', 'NonRecursive', 'CreateMountpoint', 'ReadOnlyNonRecursive', 'ReadOnlyForceRecursive']);
  if (vol) {
    const dc = pick(vol.DriverConfig, ['Name', 'Options']);
    m.VolumeOptions = pick({ ...vol, Labels: Object.keys(vol.Labels).length ? vol.Labels : undefined, DriverConfig: dc }, ['NoCopy', 'Labels', 'Subpath', 'DriverConfig']);
  }
  if (image) m.ImageOptions = pick(image, ['Subpath']);
  if (tmpfs) m.TmpfsOptions = pick(tmpfs, ['SizeBytes', 'Mode']);
  return m;
}

/** the keys (in this order) whose values are not Go-empty: omitempty */
function pick(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const v = o[k];
    if (v === undefined || v === false || v === '' || v === 0) continue;
    if (v && typeof v === 'object' && !Array.isArray(v) && k === 'Options' && !Object.keys(v).length) continue;
    out[k] = v;
  }
  return out;
}

// ---- small validators (docker/cli opts) ----

export function validateEnv(val: string, env: NodeJS.ProcessEnv): string {
  const eq = val.indexOf('=');
  const k = eq < 0 ? val : val.slice(0, eq);
  if (!k) throw new Error(`invalid environment variable: ${val}`);
  if (eq >= 0) return val;
  return env[k] !== undefined ? `${k}=${env[k]}` : val;
}

export function validateLabel(value: string): string {
  const key = value.split('=')[0]!.replace(/^[ \t]+/, '');
  if (!key) throw new Error(`invalid label '${value}': empty name`);
  if (/[ \t]/.test(key)) throw new Error(`label '${key}' contains whitespaces`);
  return value;
}

export function validateExtraHost(val: string): string {
  let i = val.indexOf('=');
  if (i < 0) i = val.indexOf(':');
  const k = i < 0 ? val : val.slice(0, i);
  let v = i < 0 ? '' : val.slice(i + 1);
  if (i < 0 || !k || k.includes(':')) throw new Error(`bad format for add-host: ${JSON.stringify(val)}`);
  if (v !== 'host-gateway') {
    if (v.length > 2 && v[0] === '[' && v.at(-1) === ']') v = v.slice(1, -1);
    if (!canonicalIP(v.trim())) throw new Error(`invalid IP address in add-host: ${JSON.stringify(v)}`);
  }
  return `${k}:${v}`;
}

export function validateIPAddress(val: string): string {
  const ip = canonicalIP(val.trim());
  if (!ip) throw new Error(`IP address is not correctly formatted: ${val}`);
  return ip;
}

export function validateDNSSearch(val: string): string {
  val = val.replace(/^ +| +$/g, '');
  if (val === '.') return val;
  // docker's regexp verbatim, `(:?` groups and all
  const m = /^(:?(:?[a-zA-Z0-9]|(:?[a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9]))(:?\.(:?[a-zA-Z0-9]|(:?[a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9])))*)\.?\s*$/.exec(val);
  if (!/[a-zA-Z]/.test(val) || !m || m[1]!.length >= 255) throw new Error(`${val} is not a valid domain`);
  return m[1]!;
}

export function validateLink(val: string): string {
  if (!val) throw new Error('empty string specified for links');
  if (val.split(':').length > 2) throw new Error(`bad format for links: ${val}`);
  return val;
}

export function validateSysctl(val: string): string {
  const eq = val.indexOf('=');
  const k = eq < 0 ? '' : val.slice(0, eq);
  const ok = k && (['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced'].includes(k)
    || k.startsWith('net.') || k.startsWith('fs.mqueue.'));
  if (!ok) throw new Error(`sysctl '${val}' is not allowed`);
  return val;
}

export function validateAttach(val: string): string {
  const s = val.toLowerCase();
  if (['stdin', 'stdout', 'stderr'].includes(s)) return s;
  throw new Error('valid streams are STDIN, STDOUT and STDERR');
}

export function validateDeviceCgroupRule(val: string): string {
  if (/^[acb] ([0-9]+|\*):([0-9]+|\*) [rwm]{1,3}$/.test(val)) return val;
  throw new Error(`invalid device cgroup format '${val}'`);
}

const ULIMITS = new Set(['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']);

/** go-units ParseUlimit: `nofile=1024:2048` */
export function parseUlimit(val: string): { Name: string; Hard: number; Soft: number } {
  const eq = val.indexOf('=');
  if (eq < 0) throw new Error(`invalid ulimit argument: ${val}`);
  const name = val.slice(0, eq);
  if (!ULIMITS.has(name)) throw new Error(`invalid ulimit type: ${name}`);
  const vals = val.slice(eq + 1).split(':');
  if (vals.length > 2) throw new Error(`too many limit value arguments - ${val.slice(eq + 1)}, can only have up to two, \`soft[:hard]\``);
  const hard0 = vals.length === 2 ? parseInt64(vals[1]!) : undefined;
  const soft = parseInt64(vals[0]!);
  const hard = hard0 ?? soft;
  if (hard !== -1) {
    if (soft === -1) throw new Error(`ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: ${hard}`);
    if (soft > hard) throw new Error(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  }
  return { Name: name, Hard: hard, Soft: soft };
}

function devicePath(val: string): [string, string] {
  const i = val.indexOf(':');
  const k = i < 0 ? val : val.slice(0, i);
  if (i < 0 || !k) throw new Error(`bad format: ${val}`);
  if (!k.startsWith('/dev/')) throw new Error(`bad format for device path: ${val}`);
  return [k, val.slice(i + 1)];
}

export function parseWeightDevice(val: string): { Path: string; Weight: number } {
  const [k, v] = devicePath(val);
  let w: number;
  try { w = Number(parseUint(v, 16)); } catch { throw new Error(`invalid weight for device: ${val}`); }
  if (w > 0 && (w < 10 || w > 1000)) throw new Error(`invalid weight for device: ${val}`);
  return { Path: k, Weight: w };
}

export function parseThrottleBps(val: string): { Path: string; Rate: number } {
  const [k, v] = devicePath(val);
  let rate: number;
  try { rate = ramInBytes(v); } catch { rate = -1; }
  if (rate < 0) throw new Error(`invalid rate for device: ${val}. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb`);
  return { Path: k, Rate: rate };
}

export function parseThrottleIOps(val: string): { Path: string; Rate: number } {
  const [k, v] = devicePath(val);
  try { return { Path: k, Rate: Number(parseUint(v, 64)) }; } catch {
    throw new Error(`invalid rate for device: ${val}. The correct format is <device-path>:<number>. Number must be a positive integer`);
  }
}

const validDeviceMode = (mode: string): boolean => !!mode && /^[rwm]+$/.test(mode) && new Set(mode).size === mode.length;

/** validateLinuxPath + parseLinuxDevice: `--device /dev/x[:/dev/y][:rwm]` */
export function parseDevice(val: string): { PathOnHost: string; PathInContainer: string; CgroupPermissions: string } {
  if ((val.match(/:/g) ?? []).length > 2) throw new Error(`bad format for path: ${val}`);
  const split = val.split(':');
  if (!split[0]) throw new Error(`bad format for path: ${val}`);
  let containerPath: string;
  if (split.length === 1) {
    containerPath = split[0];
    val = posix.normalize(containerPath).replace(/(.)\/$/, '$1');
  } else if (split.length === 2) {
    if (validDeviceMode(split[1]!)) {
      containerPath = split[0];
      val = `${posix.normalize(containerPath).replace(/(.)\/$/, '$1')}:${split[1]}`;
    } else {
      containerPath = split[1]!;
      val = `${split[0]}:${posix.normalize(containerPath).replace(/(.)\/$/, '$1')}`;
    }
  } else {
    containerPath = split[1]!;
    if (!validDeviceMode(split[2]!)) throw new Error(`bad mode specified: ${split[2]}`);
  }
  if (!containerPath.startsWith('/')) throw new Error(`${containerPath} is not an absolute path`);
  const arr = val.split(':');
  let src = arr[0]!, dst = '', perms = 'rwm';
  if (arr.length === 3) perms = arr[2]!;
  if (arr.length >= 2) {
    if (validDeviceMode(arr[1]!)) perms = arr[1]!;
    else dst = arr[1]!;
  }
  return { PathOnHost: src, PathInContainer: dst || src, CgroupPermissions: perms };
}

/** CDI device names (`vendor.com/class=name`) go to DeviceRequests instead of Devices */
export const isCDIName = (d: string): boolean => /^[A-Za-z0-9][A-Za-z0-9_.-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*=[A-Za-z0-9][A-Za-z0-9_.:-]*$/.test(d);

/** opts.GpuOpts.Set: `--gpus all`, `--gpus '"device=0,1"'`, `count=2,capabilities=compute` */
export function parseGpus(value: string): Record<string, unknown> {
  const fields = csvRecord(value);
  const req = { Driver: '', Count: 0, DeviceIDs: null as string[] | null, Capabilities: null as string[][] | null, Options: null as Record<string, string> | null };
  const seen = new Set<string>();
  const count = (s: string): number => {
    if (s === 'all') return -1;
    if (!/^[+-]?\d+$/.test(s)) throw new Error(`invalid count (${s}): value must be either "all" or an integer: invalid syntax`);
    return Number(s);
  };
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = eq < 0 ? field : field.slice(0, eq);
    const val = field.slice(eq + 1);
    if (seen.has(key)) throw new Error(`gpu request key '${key}' can be specified only once`);
    seen.add(key);
    if (eq < 0) {
      seen.add('count');
      req.Count = count(key);
      continue;
    }
    switch (key) {
      case 'driver': req.Driver = val; break;
      case 'count': req.Count = count(val); break;
      case 'device': req.DeviceIDs = val.split(','); break;
      case 'capabilities': req.Capabilities = [[...val.split(','), 'gpu']]; break;
      case 'options': req.Options = Object.fromEntries(csvRecord(val).map((f) => { const i = f.indexOf('='); return i < 0 ? [f, ''] : [f.slice(0, i), f.slice(i + 1)]; })); break;
      default: throw new Error(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (!seen.has('count') && req.DeviceIDs === null) req.Count = 1;
  req.Options ??= {};
  req.Capabilities ??= [['gpu']];
  return req;
}
