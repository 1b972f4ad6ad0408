// API fuzz (issue 8): a few thousand seeded-random requests against every route berthd serves —
// random and malformed paths (traversal, long names, unicode, bad %-escapes), query strings of
// the wrong types, JSON bodies with wrong types per field, nulls, deep nesting, huge strings and
// invalid JSON, random build contexts and image archives — must never get a 5xx (501 aside) and
// must never bring berthd down. Bodies that could touch the host (privileged, devices, host
// binds, host subnets, remote registries) are filtered out first.
//
// FUZZ_SEED=<n> replays a run; FUZZ_REQUESTS=<n> changes the count (default 3000).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { TestDaemon, makeBusybox, repo, sleep } from '../../helpers/daemon.ts';
import { rng, rawRequest, leftovers, census, pool, makeTar, type RawResponse } from '../../helpers/faults.ts';
import { Router } from '../../../src/api/router.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20250808);
const TOTAL = Number(process.env.FUZZ_REQUESTS ?? 4000);
const TIME_BUDGET_MS = 150_000;
const CONCURRENCY = 8;
const BATCH = 100;

/** Every `router.add('METHOD', '/path', …)` in src/api. */
function routes(): { method: string; pattern: string }[] {
  const dir = join(repo, 'src/api/handlers');
  const out: { method: string; pattern: string }[] = [];
  for (const f of [...readdirSync(dir).map((f) => join(dir, f)), join(repo, 'src/api/routes.ts')]) {
    if (!f.endsWith('.ts')) continue;
    for (const m of readFileSync(f, 'utf8').matchAll(/router\.add(?:Hijack)?\('(\w+)', '([^']+)'/g)) out.push({ method: m[1]!, pattern: m[2]! });
  }
  return out;
}

interface Sent { method: string; path: string; route: string; body?: Buffer; headers?: Record<string, string>; contentLength?: number }
interface Got extends Sent { res: RawResponse }

describe('API fuzz', () => {
  const d = new TestDaemon();
  const R = rng(SEED);
  const tmp = mkdtempSync('/tmp/berth-fuzz-');
  const all = routes();
  const matcher = new Router();
  for (const r of all) matcher.add(r.method, r.pattern, () => {});
  const results: Got[] = [];
  const pools = {
    container: ['fzc', 'fzs'] as string[], image: ['busybox', 'busybox:latest', 'fzimg', 'fzimg:latest', '127.0.0.1:1/fzbase'] as string[],
    network: ['fznet', 'bridge', 'none', 'host'] as string[], volume: ['fzvol'] as string[], exec: [] as string[],
  };
  let rootBefore: string[] = [];
  const bridges = (): string[] => [d.net.bridge];
  const fuzzBridges = new Set<string>();

  // ---- random values -------------------------------------------------------------------------
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(R() * xs.length)]!;
  const chance = (p: number): boolean => R() < p;
  const int = (n: number): number => Math.floor(R() * n);
  const alnum = (n: number): string => Array.from({ length: n }, () => pick('abcdefghijklmnopqrstuvwxyz0123456789'.split(''))).join('');
  const weird = [
    '', ' ', '.', '..', '../..', '../../../etc/passwd', '/', '//', 'a/b', '\\', '\u0000', '\n', '\r\n', '%', '%zz', '%E0%A4%A',
    '容器☃', '\u{1F600}', '\uFFFD', '\u202E', 'a'.repeat(300), 'x'.repeat(70_000), 'null', 'undefined', 'true', '0', '-1',
    '1e309', 'NaN', '9'.repeat(40), 'sha256:', `sha256:${'g'.repeat(64)}`, `sha256:${'a'.repeat(64)}`, ':', '@', 'a@sha256:abc', 'A:B:C',
    '$(id)', '`id`', '; ls', '${HOME}', '<script>', '{}', '[]', '{"a":1}', '-', '--help', 'CON', '*', '?',
  ];
  const str = (): string => chance(0.5) ? pick(weird) : alnum(1 + int(20));
  function value(depth = 0): unknown {
    switch (int(depth > 3 ? 9 : 12)) {
      case 0: return null;
      case 1: return chance(0.5);
      case 2: return int(1000) - 500;
      case 3: return pick([0, -1, 1.5, 2 ** 31, 2 ** 53, 2 ** 64, 1e308, -1e308, -0, Number.MAX_SAFE_INTEGER + 2]);
      case 4: case 5: return str();
      case 6: return 'x'.repeat(int(2) ? 1000 : 200_000);
      case 7: return alnum(8);
      case 8: return {};
      case 9: return Array.from({ length: int(4) }, () => value(depth + 1));
      case 10: return Object.fromEntries(Array.from({ length: int(4) }, () => [str(), value(depth + 1)]));
      default: return [str()];
    }
  }
  function deep(n: number): string {
    return chance(0.5) ? '['.repeat(n) + ']'.repeat(n) : '{"a":'.repeat(n) + '1' + '}'.repeat(n);
  }
  /** Wrong types per field, deleted and added fields, recursively. */
  function mutate(v: unknown, depth = 0): unknown {
    if (v === null || typeof v !== 'object') return chance(0.15) ? value(depth) : v;
    if (Array.isArray(v)) {
      const a = v.map((x) => mutate(x, depth + 1));
      if (chance(0.1)) a.push(value(depth + 1));
      return chance(0.05) ? value(depth) : a;
    }
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (chance(0.05)) continue;
      o[k] = chance(0.12) ? value(depth + 1) : mutate(x, depth + 1);
    }
    if (chance(0.1)) o[str()] = value(depth + 1);
    return o;
  }

  // ---- what is never sent -------------------------------------------------------------------------
  const safeSubnets = ['198.51.100.0/24', '198.51.100.0/25', '2001:db8:1::/64'];
  function sanitizeHostConfig(hc: unknown): void {
    if (!hc || typeof hc !== 'object' || Array.isArray(hc)) return;
    const h = hc as Record<string, unknown>;
    for (const k of ['Privileged', 'Devices', 'DeviceRequests', 'DeviceCgroupRules', 'CapAdd', 'CgroupParent', 'Sysctls', 'SecurityOpt', 'Cgroup', 'UsernsMode', 'CgroupnsMode']) delete h[k];
    for (const k of ['PidMode', 'IpcMode', 'UTSMode']) if (typeof h[k] === 'string' && /host/i.test(h[k] as string)) delete h[k];
    if (Array.isArray(h.Binds)) {
      // Named and anonymous volumes stay; a host path only under the fuzzer's own temp dir.
      h.Binds = h.Binds.filter((b) => {
        if (typeof b !== 'string') return true;
        const src = b.split(':')[0]!;
        return !src.includes('/') || (src.startsWith(`${tmp}/`) && !src.includes('..'));
      });
    }
    if (Array.isArray(h.Mounts)) {
      for (const m of h.Mounts) {
        if (!m || typeof m !== 'object') continue;
        const mm = m as Record<string, unknown>;
        if (typeof mm.Source === 'string' && (mm.Type !== 'volume' || mm.Source.includes('/') || mm.Source.includes('..'))) mm.Source = `${tmp}/m${int(3)}`;
        delete mm.VolumeOptions;
      }
    }
    if (h.LogConfig && typeof h.LogConfig === 'object') {
      const l = h.LogConfig as Record<string, unknown>;
      if (typeof l.Type === 'string' && !['json-file', 'local', 'none', 'k8s-file'].includes(l.Type)) l.Type = pick(['json-file', 'none', 'bogus']);
      if (l.Config && typeof l.Config === 'object') for (const k of Object.keys(l.Config)) if (/addr|url|host|endpoint/i.test(k)) delete (l.Config as Record<string, unknown>)[k];
    }
    if (h.PortBindings && typeof h.PortBindings === 'object') {
      for (const v of Object.values(h.PortBindings as Record<string, unknown>)) {
        if (!Array.isArray(v)) continue;
        for (const b of v) if (b && typeof b === 'object' && typeof (b as Record<string, unknown>).HostPort === 'string' && /^\d+$/.test((b as Record<string, string>).HostPort!)) (b as Record<string, string>).HostPort = String(40000 + int(20000));
      }
    }
  }
  function sanitize(route: string, body: unknown, query: URLSearchParams): void {
    // Only local registries that are not there: nothing may leave the host.
    for (const k of ['fromImage']) if (query.has(k)) query.set(k, `127.0.0.1:1/${alnum(4)}`);
    if (query.has('fromSrc')) query.set('fromSrc', pick(['-', '-', 'http://127.0.0.1:1/x.tar', alnum(5)]));
    query.delete('pull'); query.delete('remote');
    if (route === 'POST /build') query.delete('platform'); // another platform than the local busybox's is a pull
    if (query.has('networkmode')) query.set('networkmode', pick(['none', 'default', alnum(4)]));
    if (query.has('cgroupparent')) query.delete('cgroupparent');
    if (!body || typeof body !== 'object' || Array.isArray(body)) return;
    const b = body as Record<string, unknown>;
    delete b.Privileged;
    if (route === 'POST /auth') { b.serveraddress = pick(['127.0.0.1:1', 'http://127.0.0.1:1/', 'https://127.0.0.1:1/v1/']); delete b.ServerAddress; delete b.Serveraddress; }
    sanitizeHostConfig(b.HostConfig);
    if (route === 'POST /containers/{id}/update') sanitizeHostConfig(b);
    if (route === 'POST /networks/create') {
      if (typeof b.Driver === 'string' && /vlan|overlay/i.test(b.Driver)) b.Driver = 'bridge';
      if (b.Options && typeof b.Options === 'object') for (const k of Object.keys(b.Options)) if (/bridge\.name|parent/i.test(k)) delete (b.Options as Record<string, unknown>)[k];
      const ipam = b.IPAM as Record<string, unknown> | undefined;
      if (ipam && typeof ipam === 'object' && Array.isArray(ipam.Config)) {
        for (const c of ipam.Config) {
          if (!c || typeof c !== 'object') continue;
          const cc = c as Record<string, unknown>;
          for (const k of ['Subnet', 'IPRange']) if (typeof cc[k] === 'string' && /^[\d.:a-f/]+$/i.test(cc[k] as string)) cc[k] = pick(safeSubnets);
          if (typeof cc.Gateway === 'string' && /^[\d.:a-f]+$/i.test(cc.Gateway)) cc.Gateway = pick(['198.51.100.1', '198.51.100.200', '2001:db8:1::1']);
          delete cc.AuxiliaryAddresses;
        }
      }
    }
    if (route === 'POST /volumes/create' && b.DriverOpts && typeof b.DriverOpts === 'object') {
      b.DriverOpts = chance(0.5) ? { type: 'tmpfs', device: 'tmpfs', o: pick(['size=1m', 'size=zz', 'uid=-1', '']) } : { [alnum(3)]: str() };
    }
  }

  // ---- requests -----------------------------------------------------------------------------------
  const containerBase = (): Record<string, unknown> => ({
    Hostname: 'fz', Domainname: '', User: '', AttachStdin: false, AttachStdout: true, AttachStderr: true, Tty: false,
    OpenStdin: false, StdinOnce: false, Env: ['A=1', 'B'], Cmd: ['sleep', '600'], Image: pick(['busybox', 'fzimg', 'busybox:latest', 'nosuch']),
    Volumes: { '/data': {} }, WorkingDir: '/tmp', Entrypoint: null, NetworkDisabled: false, MacAddress: '', OnBuild: null,
    Labels: { fuzz: '1' }, StopSignal: 'SIGTERM', StopTimeout: 1, Shell: ['/bin/sh', '-c'], ExposedPorts: { '80/tcp': {} },
    Healthcheck: { Test: ['CMD', 'true'], Interval: 1e9, Timeout: 1e9, Retries: 1, StartPeriod: 0 },
    HostConfig: {
      Binds: [`${tmp}/b:/b`, 'fzvol:/v'], Mounts: [{ Type: 'tmpfs', Target: '/t' }, { Type: 'volume', Source: 'fzvol', Target: '/w' }],
      Tmpfs: { '/run': 'size=1m' }, VolumesFrom: [], NetworkMode: pick(['none', 'bridge', 'fznet', 'default', 'container:fzc']),
      PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] }, RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
      AutoRemove: false, CapDrop: ['NET_RAW'], Dns: ['192.0.2.1'], DnsOptions: ['ndots:1'], DnsSearch: ['example.invalid'],
      ExtraHosts: ['h:192.0.2.2'], GroupAdd: ['10'], ReadonlyRootfs: false, ShmSize: 1 << 20, OomScoreAdj: 0, ConsoleSize: [24, 80],
      Init: false, LogConfig: { Type: 'json-file', Config: { 'max-size': '1m' } }, Memory: 64 << 20, MemorySwap: -1,
      MemoryReservation: 0, NanoCpus: 0, CpuShares: 512, CpuPeriod: 100000, CpuQuota: 0, CpusetCpus: '0', CpusetMems: '',
      PidsLimit: 100, Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 1024 }], BlkioWeight: 0, OomKillDisable: false,
      Links: [], PublishAllPorts: false, StorageOpt: {}, Runtime: 'runc', Isolation: '',
    },
    NetworkingConfig: { EndpointsConfig: { fznet: { Aliases: ['a'], IPAMConfig: { IPv4Address: '' } } } },
  });
  const networkBase = (): Record<string, unknown> => ({
    Name: `fzn${alnum(5)}`, CheckDuplicate: true, Driver: 'bridge', Internal: chance(0.5), Attachable: true, EnableIPv6: false,
    IPAM: { Driver: 'default', Config: chance(0.5) ? [{ Subnet: pick(safeSubnets), Gateway: '198.51.100.1' }] : [], Options: {} },
    Options: { 'com.docker.network.bridge.enable_icc': 'true', 'com.docker.network.driver.mtu': '1400' }, Labels: { a: 'b' },
  });
  const execBase = (): Record<string, unknown> => ({
    AttachStdin: false, AttachStdout: true, AttachStderr: true, DetachKeys: 'ctrl-p,ctrl-q', Tty: false, Env: ['X=1'],
    Cmd: pick([['true'], ['sh', '-c', 'echo hi'], ['nosuch'], []]), User: pick(['', 'root', '0:0', 'nobody', '65535:65535']), WorkingDir: pick(['', '/', '/tmp', 'rel']),
    ConsoleSize: [24, 80],
  });
  const updateBase = (): Record<string, unknown> => ({
    Memory: pick([0, 32 << 20, 4096, -1]), MemorySwap: pick([0, -1, 64 << 20]), MemoryReservation: 0, CpuShares: pick([0, 2, 512, 262144]),
    CpuPeriod: pick([0, 1000, 100000]), CpuQuota: pick([0, -1, 50000]), CpusetCpus: pick(['', '0', '0-1000', 'x']), CpusetMems: pick(['', '0', '9']),
    PidsLimit: pick([0, -1, 1, 100]), BlkioWeight: pick([0, 10, 1000, 5]), NanoCpus: pick([0, 1e9, 1]),
    RestartPolicy: { Name: pick(['no', 'always', 'on-failure', 'unless-stopped', 'bogus']), MaximumRetryCount: pick([0, 3, -1]) },
  });
  const dockerfiles = [
    'FROM 127.0.0.1:1/fzbase\nRUN echo hi > /x\nCMD ["cat","/x"]\n', 'FROM scratch\nCOPY a /a\n', 'FROM 127.0.0.1:1/fzbase\nCOPY a b /dst/\nENV A=1 B\nLABEL x=y\n',
    'FROM 127.0.0.1:1/nosuch\n', 'FROM 127.0.0.1:1/fzbase AS s1\nFROM s1\nWORKDIR /w\nUSER nobody\nEXPOSE 80/tcp\n', 'RUN true\n', '',
    'FROM 127.0.0.1:1/fzbase\nADD http://127.0.0.1:1/x /x\n', 'FROM 127.0.0.1:1/fzbase\nCOPY ../../../etc/passwd /p\n', 'FROM 127.0.0.1:1/fzbase\nHEALTHCHECK --interval=0s CMD true\n',
    'FROM 127.0.0.1:1/fzbase\nONBUILD RUN true\nSTOPSIGNAL bogus\nSHELL ["x"]\n', 'FROM 127.0.0.1:1/fzbase\nRUN exit 3\n', 'FROM\n', 'from 127.0.0.1:1/fzbase\n\\\n', '# syntax=x\nFROM 127.0.0.1:1/fzbase\nVOLUME /v\n',
    'FROM 127.0.0.1:1/fzbase\nCOPY --chown=1:1 a /a\nARG X\nRUN echo $X\n', 'FROM 127.0.0.1:1/fzbase\nENTRYPOINT\n', `FROM 127.0.0.1:1/fzbase\nLABEL ${'k'.repeat(5000)}=v\n`,
  ];
  function buildBody(): Buffer {
    const k = int(10);
    if (k === 0) return Buffer.alloc(0);
    if (k === 1) return Buffer.from(str());
    if (k === 2) return gzipSync(Buffer.from(str()));
    const entries: Parameters<typeof makeTar>[0] = [{ name: 'Dockerfile', data: chance(0.8) ? pick(dockerfiles) : str() }, { name: 'a', data: 'A' }, { name: 'b', data: 'B' }];
    if (chance(0.2)) entries.push({ name: '.dockerignore', data: pick(['*', '!a', '[', 'a\n**/..', '']) });
    if (chance(0.2)) entries.push({ name: pick(['../evil', '/abs', 'l']), type: '2', linkname: pick(['/etc/passwd', '../../x', 'a']) });
    if (chance(0.1)) entries.push({ name: 'dir', type: '5' });
    let tar = makeTar(entries);
    if (chance(0.1)) tar = tar.subarray(0, int(tar.length));
    return chance(0.3) ? gzipSync(tar) : tar;
  }
  function loadBody(): Buffer {
    const k = int(6);
    if (k === 0) return Buffer.alloc(0);
    if (k === 1) return Buffer.from(str());
    if (k === 2) return gzipSync(Buffer.from('garbage'));
    const manifest = pick([
      '[]', '{}', 'garbage', JSON.stringify([{ Config: 'c.json', RepoTags: ['fzload:1'], Layers: ['l.tar'] }]),
      JSON.stringify([{ Config: '../../etc/passwd', RepoTags: [str()], Layers: [] }]), JSON.stringify([{ Config: 'c.json', RepoTags: null, Layers: ['nosuch.tar'] }]),
      JSON.stringify([{ Config: 'c.json', RepoTags: ['Bad:Name:x'], Layers: [] }]),
    ]);
    const entries: Parameters<typeof makeTar>[0] = [{ name: 'manifest.json', data: manifest }, { name: 'c.json', data: pick(['{}', 'x', JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: {} }), JSON.stringify({ rootfs: { type: 'layers', diff_ids: ['sha256:' + 'a'.repeat(64)] } })]) }];
    if (chance(0.5)) entries.push({ name: 'l.tar', data: chance(0.5) ? makeTar([{ name: 'f', data: 'x' }]) : 'notatar' });
    if (chance(0.3)) entries.push({ name: 'repositories', data: pick(['{}', 'x', '{"a":{"b":"c"}}']) });
    const tar = makeTar(entries);
    return k === 5 ? gzipSync(tar) : tar;
  }

  const knownParams = [
    'all', 'limit', 'size', 'filters', 'name', 'force', 'v', 'link', 't', 'signal', 'condition', 'h', 'w', 'ps_args', 'path',
    'noOverwriteDirNonDir', 'copyUIDGID', 'stream', 'one-shot', 'follow', 'stdout', 'stderr', 'since', 'until', 'timestamps', 'tail',
    'details', 'logs', 'stdin', 'detachKeys', 'container', 'repo', 'tag', 'author', 'comment', 'pause', 'changes', 'fromImage', 'fromSrc',
    'message', 'platform', 'names', 'quiet', 'noprune', 'dockerfile', 'target', 'buildargs', 'labels', 'nocache', 'rm', 'forcerm', 'q',
    'networkmode', 'extrahosts', 'memory', 'memswap', 'cpushares', 'cpuperiod', 'cpuquota', 'shmsize', 'cpusetcpus', 'cpusetmems', 'ulimits',
    'type', 'digests', 'shared-size', 'version',
  ];
  const queryValues = (): string => pick([
    '', '1', '0', 'true', 'false', 'True', 'yes', '-1', '99999999999999999999999', '1e308', '1.5', 'NaN', 'Infinity', '-Infinity', '0x10',
    '{}', '[]', '{"a":', 'null', '{"label":"x"}', '{"label":{"a":"b"}}', '{"label":["a=b"]}', '{"status":["running"]}', '{"dangling":["x"]}',
    '{"before":["nosuch"]}', '{"since":["fzimg"]}', '{"until":["x"]}', '{"reference":["*"]}', '{"reference":["[["]}', '{"label":{"a":true}}',
    '{"id":[1,2]}', '{"x":{"y":{"z":1}}}', '[1]', '"s"', '2020-01-01T00:00:00Z', '1700000000.5', '-9e99', str(), str(), alnum(70),
    'SIGKILL', 'SIGTERM', 'SIGFOO', '99', 'not-running', 'next-exit', 'removed', '-ef', 'aux', '-o pid,comm', '/', '/etc', '/../../', '/nosuch',
    'linux/amd64', 'windows', JSON.stringify({ A: 'b' }), JSON.stringify([{ Name: 'nofile', Hard: 1, Soft: 2 }]), 'CMD ["x"]', 'ENV A=b', 'RUN x',
  ]);
  const enc = (s: string): string => (chance(0.85) ? encodeURIComponent(s) : chance(0.5) ? s.replace(/[\s#?]/g, (c) => encodeURIComponent(c)) : pick(['%', '%zz', '%E0%A4%A', '%00', '%2e%2e%2f', '%C0%AF', '%FF']));
  function query(route: string): URLSearchParams {
    const q = new URLSearchParams();
    for (let i = int(5); i > 0; i--) q.append(chance(0.9) ? pick(knownParams) : str(), queryValues());
    if (route === 'POST /commit' && chance(0.8)) q.set('container', pick(pools.container));
    if (route === 'POST /images/create' && chance(0.8)) (chance(0.5) ? q.set('fromSrc', '-') : q.set('fromImage', 'x'));
    if (route === 'GET /events' && !q.has('until') && chance(0.7)) q.set('until', String(Math.floor(Date.now() / 1000)));
    return q;
  }
  function param(pattern: string, name: string): string {
    // A name a registry would be asked about: never one that resolves outside this host.
    if (pattern.startsWith('/distribution') || pattern.endsWith('/push')) return `127.0.0.1:1/${chance(0.8) ? alnum(4) : encodeURIComponent(str())}`;
    if (chance(0.25)) return str();
    if (pattern.startsWith('/containers')) return pick(pools.container);
    if (pattern.startsWith('/images')) return pick(pools.image);
    if (pattern.startsWith('/networks')) return pick(pools.network);
    if (pattern.startsWith('/volumes')) return pick(pools.volume);
    if (pattern.startsWith('/exec')) return pools.exec.length ? pick(pools.exec) : alnum(64);
    return name;
  }
  function jsonBody(route: string, q: URLSearchParams): Buffer | undefined {
    // An empty or mutated-away login body means Docker Hub: only invalid JSON or a local address.
    const shape = route === 'POST /auth' ? pick([5, 6, 7, 50, 60, 70, 80, 90]) : int(100);
    if (shape < 5) return Buffer.alloc(0);
    if (shape < 10) return Buffer.from(pick(['{', '{"a":}', 'nul', '[1,', '"unterminated', '{"Image":"busybox",}', '\u0000', '\xff\xfe', 'true false']));
    if (shape < 14) return Buffer.from(deep(pick([100, 1000, 10_000, 100_000])));
    if (shape < 17) return Buffer.from(JSON.stringify(value()));
    if (shape < 19) return Buffer.from(JSON.stringify({ Image: 'x'.repeat(1 << 20), Cmd: ['x'.repeat(1 << 20)] }));
    let base: unknown;
    switch (route) {
      case 'POST /containers/create': base = containerBase(); break;
      case 'POST /commit': base = { Cmd: ['sh'], Env: ['A=1'], Labels: { a: 'b' }, ExposedPorts: { '80/tcp': {} }, Volumes: { '/v': {} } }; break;
      case 'POST /networks/create': base = networkBase(); break;
      case 'POST /volumes/create': base = { Name: pick([`fzv${alnum(5)}`, '', str()]), Driver: pick(['local', '', 'nosuch']), DriverOpts: {}, Labels: { a: 'b' } }; break;
      case 'POST /containers/{id}/exec': base = execBase(); break;
      case 'POST /exec/{id}/start': base = { Detach: chance(0.7), Tty: false, ConsoleSize: [24, 80] }; break;
      case 'POST /containers/{id}/update': base = updateBase(); break;
      case 'POST /auth': base = { username: str(), password: str(), email: '', serveraddress: '127.0.0.1:1', identitytoken: '', registrytoken: '' }; break;
      case 'POST /networks/{id}/connect': case 'POST /networks/{id}/disconnect':
        base = { Container: pick(pools.container), Force: chance(0.5), EndpointConfig: { Aliases: [str()], IPAMConfig: { IPv4Address: pick(['', '198.51.100.7', 'x']) } } }; break;
      default: base = value();
    }
    const body = chance(0.8) ? mutate(base) : base;
    sanitize(route, body, q);
    return Buffer.from(JSON.stringify(body));
  }
  function request(): Sent {
    const kind = int(100);
    const versions = ['', '', '', '/v1.24', '/v1.41', '/v1.47', '/v1.48', '/v1.23', '/v9999999999999999999.1', '/v1.', '/v0.0', '/V1.41', '/v1.41.1'];
    if (kind < 6) {
      // A path of garbage segments; a method of garbage sometimes.
      const segs = Array.from({ length: 1 + int(5) }, () => (chance(0.5) ? pick(['containers', 'images', 'json', 'exec', 'networks', 'volumes', '..', '.', '']) : enc(str())));
      const path = `${pick(versions)}/${segs.join('/')}`;
      const method = pick(['GET', 'POST', 'DELETE', 'PUT', 'HEAD', 'PATCH', 'OPTIONS', 'TRACE', 'FOO', 'get']);
      // Never a push, pull or remote lookup with a name the fuzzer made up.
      if (/push|distribution|images\/create|auth|build/.test(path)) return { method: 'GET', path: '/_ping', route: 'GET /_ping' };
      return { method, path, route: 'garbage' };
    }
    const r = pick(all);
    const route = `${r.method} ${r.pattern}`;
    const method = chance(0.05) ? pick(['GET', 'POST', 'DELETE', 'PUT', 'HEAD']) : r.method;
    const path = r.pattern.replace(/\{(\w+)(?::[^}]*)?\}/g, (_m, name: string) => enc(param(r.pattern, name)));
    const q = query(route);
    let body: Buffer | undefined;
    let headers: Record<string, string> | undefined;
    if (route === 'POST /build') {
      body = buildBody();
      headers = { 'Content-Type': 'application/x-tar' };
      if (chance(0.2)) headers['X-Registry-Config'] = pick(['garbage', Buffer.from('{"127.0.0.1:1":{"username":"a"}}').toString('base64'), Buffer.from('[1]').toString('base64')]);
    } else if (route === 'POST /images/load') {
      body = loadBody();
      headers = { 'Content-Type': 'application/x-tar' };
    } else if (route === 'PUT /containers/{id}/archive') {
      body = chance(0.5) ? makeTar([{ name: `fz-${alnum(4)}`, data: 'x' }]) : Buffer.from(str());
      q.set('path', pick(['/tmp', '/', '/nosuch', 'tmp', '/etc/passwd']));
    } else if (route === 'POST /images/create' && q.get('fromSrc') === '-') {
      body = chance(0.5) ? makeTar([{ name: 'f', data: 'x' }]) : Buffer.from(str());
    } else if (r.method !== 'GET' && r.method !== 'HEAD' && r.method !== 'DELETE' || chance(0.1)) {
      body = jsonBody(route, q);
      headers = { 'Content-Type': pick(['application/json', 'application/json', 'text/plain', 'application/json; charset=utf-8', '']) };
    }
    sanitize(route, undefined, q);
    if (chance(0.1)) (headers ??= {})['X-Registry-Auth'] = pick(['', 'garbage!!', Buffer.from('{"username":1}').toString('base64'), Buffer.from('null').toString('base64'), 'e30=']);
    const qs = q.toString();
    // The framing lies sometimes: a short Content-Length (the rest is a second, garbage request),
    // or a chunked body whose chunk sizes are wrong.
    let contentLength: number | undefined;
    if (body?.length && chance(0.03)) contentLength = int(body.length);
    else if (body?.length && chance(0.03)) {
      headers = { ...headers, 'Transfer-Encoding': 'chunked' };
      body = Buffer.concat([Buffer.from(`${pick(['zz', '1', 'ffffffff', (body.length + 5).toString(16)])}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
    }
    return { contentLength, method, path: `${pick(versions)}${path}${qs ? `?${qs}` : ''}${chance(0.03) ? '#frag' : ''}`, route, body, headers };
  }

  function learn(s: Sent, res: RawResponse): void {
    if (res.status !== 201 && res.status !== 200) return;
    let id: string | undefined;
    let name: string | undefined;
    try {
      const j = JSON.parse(res.body) as { Id?: string; Name?: string };
      id = j.Id; name = j.Name;
    } catch { return; }
    if (!id && !name) return;
    if (s.route === 'POST /containers/create' && id) pools.container.push(id.slice(0, 12 + int(52)));
    if (s.route === 'POST /containers/{id}/exec' && id) pools.exec.push(id);
    if (s.route === 'POST /networks/create' && id) pools.network.push(id);
    if (s.route === 'POST /volumes/create' && name) pools.volume.push(name);
    if (s.route === 'POST /commit' && id) pools.image.push(id);
  }

  /** Keeps a running `fzc` and a stopped `fzs` around, so that routes reach the engine. */
  async function fixtures(): Promise<void> {
    const c = await d.api('GET', '/containers/fzc/json');
    if (c.status === 404) {
      await d.api('POST', '/containers/create?name=fzc', { Image: 'busybox', Cmd: ['sleep', '600'], HostConfig: { NetworkMode: 'fznet' } });
    }
    if (c.status !== 200 || !c.json().State.Running) await d.api('POST', '/containers/fzc/start');
    if ((await d.api('GET', '/containers/fzs/json')).status === 404) await d.api('POST', '/containers/create?name=fzs', { Image: 'busybox', Cmd: ['true'] });
    if ((await d.api('GET', '/images/busybox/json')).status === 404) await makeBusybox(d);
    if ((await d.api('GET', '/images/fzimg/json')).status === 404) await d.api('POST', '/images/busybox/tag?repo=fzimg&tag=latest');
    // What builds start FROM: should the fuzzer delete it, a build's pull goes to a closed local port, never to Docker Hub.
    if ((await d.api('GET', '/images/127.0.0.1:1/fzbase/json')).status === 404) await d.api('POST', '/images/busybox/tag?repo=127.0.0.1:1/fzbase&tag=latest');
    if ((await d.api('GET', '/networks/fznet')).status === 404) await d.api('POST', '/networks/create', { Name: 'fznet' });
    if ((await d.api('GET', '/volumes/fzvol')).status === 404) await d.api('POST', '/volumes/create', { Name: 'fzvol' });
  }

  before(async () => {
    rootBefore = readdirSync('/');
    for (const sub of ['b', 'm0', 'm1', 'm2']) mkdirSync(join(tmp, sub));
    await d.start();
    await makeBusybox(d);
    await fixtures();
  });
  after(async () => {
    await d.cleanup();
    await rm(tmp, { recursive: true, force: true });
  });

  it(`sends ${TOTAL} random requests (seed ${SEED}): no 5xx, berthd stays up`, { timeout: 240_000 }, async (t) => {
    const t0 = Date.now();
    let sent = 0;
    const pid = d.pid!;
    while (sent < TOTAL && Date.now() - t0 < TIME_BUDGET_MS) {
      const batch = Array.from({ length: Math.min(BATCH, TOTAL - sent) }, () => request());
      await pool(CONCURRENCY, batch.length, async (i) => {
        const s = batch[i]!;
        const res = await rawRequest(d.socket, { method: s.method, path: s.path, headers: s.headers, body: s.body, contentLength: s.contentLength, timeoutMs: 8_000, readMs: 400 });
        results.push({ ...s, res });
        learn(s, res);
      });
      sent += batch.length;
      // Still alive: the same process answers.
      const ping = await d.api('GET', '/_ping').catch((e: Error) => ({ status: 0, body: Buffer.from(e.message) }));
      assert.equal(ping.status, 200, `berthd stopped answering after ${sent} requests:\n${d.logTail()}`);
      assert.equal(d.pid, pid);
      try { process.kill(pid, 0); } catch { assert.fail(`berthd died after ${sent} requests:\n${d.logTail()}`); }
      await fixtures();
    }
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    const byStatus = new Map<number, number>();
    for (const r of results) byStatus.set(r.res.status, (byStatus.get(r.res.status) ?? 0) + 1);
    t.diagnostic(`fuzz: ${results.length} requests in ${secs} s, seed ${SEED}; statuses ${[...byStatus].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}:${n}`).join(' ')}`);
    const hung = results.filter((r) => r.res.timedOut);
    if (hung.length) t.diagnostic(`no answer within 8 s: ${[...new Set(hung.map((r) => r.route))].join(', ')}`);
    console.log(`api-fuzz: ${results.length} requests, seed ${SEED}`);
    if (process.env.FUZZ_DUMP) {
      writeFileSync(process.env.FUZZ_DUMP, results.filter((r) => r.res.status >= 500 || r.res.timedOut)
        .map((r) => JSON.stringify({ route: r.route, method: r.method, path: r.path, body: r.body?.subarray(0, 2000).toString(), status: r.res.status, res: r.res.body.slice(0, 2000) })).join('\n'));
    }

    const bad = results.filter((r) => r.res.status >= 500 && !allowed(r));
    const groups = new Map<string, Got[]>();
    for (const r of bad) {
      const key = `${r.res.status} ${r.route} ${messageOf(r).replace(/[0-9a-f]{12,64}/g, '<id>').slice(0, 160)}`;
      groups.set(key, [...(groups.get(key) ?? []), r]);
    }
    const report = [...groups].map(([k, rs]) => `${rs.length}× ${k}\n    e.g. ${rs[0]!.method} ${rs[0]!.path.slice(0, 300)} ${rs[0]!.body ? `body ${rs[0]!.body.subarray(0, 300).toString()}` : ''}`);
    for (const line of report) t.diagnostic(line);
    const known = bad.filter((r) => knownBugs.some((b) => b.match(r)));
    const unknown = bad.filter((r) => !knownBugs.some((b) => b.match(r)));
    if (known.length) t.diagnostic(`${known.length} 5xx of known bugs (see the todo tests)`);
    assert.deepEqual(unknown.map((r) => `${r.res.status} ${r.method} ${r.path.slice(0, 200)} → ${messageOf(r).slice(0, 200)}`), []);
  });

  it('the API boundary: malformed escapes and non-decimal integers are 400s; booleans read as moby reads them', async () => {
    for (const path of ['/containers/%zz/json', '/containers/%E0%A4%A/json', '/images/%FF/json', '/volumes/%/x']) {
      const r = await rawRequest(d.socket, { method: 'GET', path, timeoutMs: 5000 });
      assert.ok(r.status === 400 || r.status === 404, `${path}: ${r.status} ${r.body}`);
    }
    for (const v of ['1e3', '0x10', '1.5', ' 7', '99999999999999999999', 'NaN']) {
      const r = await d.api('GET', `/containers/json?limit=${encodeURIComponent(v)}`);
      assert.equal(r.status, 400, `limit=${v}: ${r.status} ${r.body}`);
    }
    assert.equal((await d.api('GET', '/containers/json?limit=-1')).status, 200);
    // all=yes lists the stopped fzs as moby does (BoolValue: all but 0/no/false/none is true).
    const names = async (q: string): Promise<string[]> => ((await d.api('GET', `/containers/json?${q}`)).json() as { Names: string[] }[]).map((c) => c.Names[0]!);
    for (const yes of ['1', 'true', 'True', 'yes', 'on']) assert.ok((await names(`all=${yes}`)).includes('/fzs'), `all=${yes}`);
    for (const no of ['0', 'false', 'FALSE', 'no', 'none', '']) assert.ok(!(await names(`all=${no}`)).includes('/fzs'), `all=${no}`);
  });

  /** 501, and a 503 that says a registry is unreachable. */
  function allowed(r: Got): boolean {
    if (r.res.status === 501) return true;
    // swarm endpoints answer 503 as a dockerd outside a swarm does (what docker-py's tests expect)
    if (r.res.status === 503 && /^(\/v[\d.]+)?\/(swarm|nodes|services|tasks|secrets|configs)\b/.test(r.path)) return true;
    return r.res.status === 503 && /127\.0\.0\.1:1|registry|connect/i.test(r.res.body);
  }
  function messageOf(r: Got): string {
    try { return String((JSON.parse(r.res.body) as { message?: string }).message ?? r.res.body); } catch { return r.res.body.slice(0, 200); }
  }

  /**
   * Bugs this test found (since fixed). Each has a test that counts the fuzzer's hits and also
   * replays a fixed request (`probe`) that showed the bug on its own; a probe answers the
   * statuses it got, which must all be below 500.
   */
  type Probe = () => Promise<string[]>;
  const api = async (method: string, path: string, body?: unknown): Promise<string> => {
    const r = await d.api(method, path, body);
    return `${r.status} ${method} ${path} ${String(r.body).slice(0, 200)}`;
  };
  const raw = async (method: string, path: string, body?: Buffer): Promise<string> => {
    const r = await rawRequest(d.socket, { method, path, body, headers: body ? { 'Content-Type': 'application/x-tar' } : {}, timeoutMs: 8_000, readMs: 400 });
    return `${r.status} ${method} ${path} ${r.body.slice(0, 200)}`;
  };
  const knownBugs: { name: string; match: (r: Got) => boolean; probe: Probe }[] = [
    { name: 'server.ts route(): a path starting with // is parsed as a URL with a host (new URL throws "Invalid URL", or routes //containers/json as /json)',
      match: (r) => /^\/\//.test(r.path) && (r.method === 'HEAD' || /Invalid URL/.test(r.res.body)),
      probe: async () => [await raw('GET', '//a%2Fb//%20'), await raw('HEAD', '//[]/%/*/containers')] },
    { name: 'image load: an image config (or manifest.json) that is not JSON is a 500 (JSON.parse error in ImageStore.load), not a 400',
      match: (r) => r.route === 'POST /images/load' && /JSON|Unexpected token|Unexpected end/i.test(r.res.body),
      probe: async () => [
        await raw('POST', '/images/load', makeTar([{ name: 'manifest.json', data: 'x' }])),
        await raw('POST', '/images/load', makeTar([{ name: 'manifest.json', data: JSON.stringify([{ Config: 'c.json', RepoTags: ['probe:load'], Layers: [] }]) }, { name: 'c.json', data: 'x' }])),
      ] },
    { name: 'pause of a container that has just exited (berthd still records it running) is runc\'s 500 "container not running", not a 409',
      match: (r) => /\/(un)?pause$/.test(r.route) && /runc .*(pause|resume)|not running|not paused/.test(r.res.body),
      probe: async () => {
        // Paused right after its start, while it exits (berthd still thinks it runs; runc knows better).
        await d.api('POST', '/containers/create?name=probe-pause', { Image: 'busybox', Cmd: ['true'], HostConfig: { NetworkMode: 'none' } });
        const out: string[] = [];
        for (let i = 0; i < 5; i++) {
          await d.api('POST', '/containers/probe-pause/start');
          out.push(await api('POST', '/containers/probe-pause/pause'), await api('POST', '/containers/probe-pause/unpause'));
          await d.api('POST', '/containers/probe-pause/wait');
        }
        return out;
      } },
    { name: 'network create: IPAM fields of the wrong type reach the engine (TypeError: ip.split is not a function)',
      match: (r) => r.route === 'POST /networks/create' && /is not a function|Cannot read prop|is not iterable|Cannot convert/.test(r.res.body),
      probe: async () => [await api('POST', '/networks/create', { Name: 'probe-net', IPAM: { Config: [{ Subnet: '198.51.100.0/25', Gateway: 1.5 }] } })] },
    { name: 'network connect/disconnect: a Container that is not a string reaches the engine (TypeError: ref.replace is not a function)',
      match: (r) => /^POST \/networks\/\{id\}\/(dis)?connect$/.test(r.route) && /is not a function|Cannot read prop|is not iterable/.test(r.res.body),
      probe: async () => [await api('POST', '/networks/fznet/connect', { Container: 413 }), await api('POST', '/networks/fznet/disconnect', { Container: {} })] },
    { name: 'create accepts an Env entry without "=" and start then fails in runc with a 500 (invalid environment variable)',
      match: (r) => /invalid environment variable/.test(r.res.body),
      probe: async () => {
        const c = await api('POST', '/containers/create?name=probe-env', { Image: 'busybox', Cmd: ['true'], Env: ['B'], HostConfig: { NetworkMode: 'none' } });
        return [c, await api('POST', '/containers/probe-env/start')];
      } },
    { name: 'image store commitLayer: two commits or imports making the same layer at once race on its directory (EEXIST mkdir image/layers/<chain id>)',
      match: (r) => /EEXIST[^"]*image\/layers/.test(r.res.body),
      probe: async () => {
        // Containers never started have the same (empty) upper layer: their commits make one layer.
        for (let i = 0; i < 6; i++) await d.api('POST', `/containers/create?name=probe-commit${i}`, { Image: 'busybox', Cmd: ['true'] });
        return Promise.all(Array.from({ length: 6 }, (_v, i) => api('POST', `/commit?container=probe-commit${i}&repo=probe-commit&tag=${i}`)));
      } },
    { name: 'network removal: concurrent removals of one network (prune and prune/delete) both delete its iptables rules; the second iptables-restore fails (Bad rule)',
      match: (r) => /networks\/(prune|\{id\})$/.test(r.route) && /iptables-restore.*Bad rule/.test(r.res.body),
      probe: async () => {
        const out: string[] = [];
        for (let i = 0; i < 3; i++) {
          await d.api('POST', '/networks/create', { Name: `probe-rm${i}` });
          out.push(...await Promise.all([api('DELETE', `/networks/probe-rm${i}`), api('POST', '/networks/prune'), api('DELETE', `/networks/probe-rm${i}`)]));
        }
        return out;
      } },
    { name: 'archive/export/changes of a stopped container removed meanwhile: its rootfs mount fails with a 500 (mount point does not exist)',
      match: (r) => /mount point does not exist|ENOENT.*containers\//.test(r.res.body),
      probe: async () => {
        const out: string[] = [];
        for (let i = 0; i < 10; i++) {
          // A first reader holds the container's lock; the removal queues behind it (not yet
          // marked removing), and so do the readers after it: they find the container gone.
          await d.api('POST', `/containers/create?name=probe-arch${i}`, { Image: 'busybox', Cmd: ['true'] });
          const after = async <T>(ms: number, f: () => Promise<T>): Promise<T> => { await sleep(ms); return f(); };
          out.push(...await Promise.all([
            raw('GET', `/containers/probe-arch${i}/export`),
            after(2, () => api('DELETE', `/containers/probe-arch${i}`)),
            after(4, () => raw('GET', `/containers/probe-arch${i}/export`)),
            after(6, () => raw('GET', `/containers/probe-arch${i}/archive?path=/etc`)),
            after(8, () => raw('GET', `/containers/probe-arch${i}/changes`)),
          ]));
        }
        return out;
      } },
    { name: 'resources of the wrong type (CpuShares: "x") pass create and update, go into the OCI spec, and start fails in runc with a 500 (an update of a stopped container bricks it)',
      match: (r) => /cannot unmarshal \w+ into Go struct field/.test(r.res.body),
      probe: async () => {
        const c = await api('POST', '/containers/create?name=probe-res', { Image: 'busybox', Cmd: ['true'], HostConfig: { NetworkMode: 'none', CpuShares: 'x' } });
        const out = [c];
        if (c.startsWith('201')) out.push(await api('POST', '/containers/probe-res/start'));
        await d.api('POST', '/containers/create?name=probe-upd', { Image: 'busybox', Cmd: ['true'], HostConfig: { NetworkMode: 'none' } });
        out.push(await api('POST', '/containers/probe-upd/update', { CpuShares: 'x', Memory: 'lots' }), await api('POST', '/containers/probe-upd/start'));
        return out;
      } },
    { name: 'a build context of 1-3 bytes: compression.ts peek() unshifts after the end event (ERR_STREAM_UNSHIFT_AFTER_END_EVENT → 500, not a 400)',
      match: (r) => /unshift\(\) after end/.test(r.res.body),
      probe: async () => [
        await raw('POST', '/build', Buffer.from('k7')), await raw('POST', '/images/load', Buffer.from('k7')),
        await raw('POST', '/images/create?fromSrc=-&repo=probe-import', Buffer.from('k7')),
      ] },
    { name: 'volume create: fields of the wrong type reach the volume store (Name: true → TypeError in path.join)',
      match: (r) => r.route === 'POST /volumes/create' && /argument must be of type|is not a function|Cannot read prop/.test(r.res.body),
      probe: async () => [await api('POST', '/volumes/create', { Name: true }), await api('POST', '/volumes/create', { Name: 'probe-vol', DriverOpts: 1.5, Labels: [1] })] },
  ];
  for (const b of knownBugs) {
    it(`no 5xx: ${b.name}`, { timeout: 60_000 }, async () => {
      const hits = results.filter((r) => r.res.status >= 500 && b.match(r)).map((r) => `fuzz: ${r.res.status} ${r.method} ${r.path.slice(0, 200)} → ${messageOf(r).slice(0, 200)}`);
      const probed = (await b.probe()).filter((x) => Number(x.slice(0, 3)) >= 500 || !/^\d{3}/.test(x)).map((x) => `probe: ${x}`);
      assert.deepEqual([...probed, ...hits], []);
    });
  }

  it('everything the fuzzer made can be removed, and nothing is left on the host', { timeout: 120_000 }, async () => {
    const problems: string[] = [];
    const conts = (await d.api('GET', '/containers/json?all=1')).json() as { Id: string }[];
    await pool(8, conts.length, async (i) => {
      const r = await d.api('DELETE', `/containers/${conts[i]!.Id}?force=1&v=1`);
      if (r.status !== 204 && r.status !== 404) problems.push(`rm ${conts[i]!.Id}: ${r.status} ${r.body}`);
    });
    const nets = (await d.api('GET', '/networks')).json() as { Id: string; Name: string; Options: Record<string, string> }[];
    for (const n of nets) {
      if (['bridge', 'none', 'host'].includes(n.Name)) continue;
      fuzzBridges.add(n.Options?.['com.docker.network.bridge.name'] || `br-${n.Id.slice(0, 12)}`);
      const r = await d.api('DELETE', `/networks/${n.Id}`);
      if (r.status !== 204 && r.status !== 404) problems.push(`network rm ${n.Name}: ${r.status} ${r.body}`);
    }
    const vols = ((await d.api('GET', '/volumes')).json() as { Volumes: { Name: string }[] | null }).Volumes ?? [];
    for (const v of vols) {
      const r = await d.api('DELETE', `/volumes/${encodeURIComponent(v.Name)}?force=1`);
      if (r.status !== 204 && r.status !== 404) problems.push(`volume rm ${v.Name}: ${r.status} ${r.body}`);
    }
    const imgs = (await d.api('GET', '/images/json?all=1')).json() as { Id: string }[];
    for (const im of imgs) {
      const r = await d.api('DELETE', `/images/${im.Id}?force=1`);
      if (r.status !== 200 && r.status !== 404) problems.push(`rmi ${im.Id}: ${r.status} ${r.body}`);
    }
    assert.deepEqual(problems, []);
    assert.deepEqual((await d.api('GET', '/containers/json?all=1')).json(), []);
    assert.deepEqual((await d.api('GET', '/images/json?all=1')).json(), []);
    // With the daemon still up: nothing of a container is left (the prepared namespaces are the daemon's own).
    await sleep(500);
    const c = await census(d, [d.net.bridge, ...fuzzBridges]);
    assert.deepEqual({ conmons: c.conmons, mounts: c.mounts, cgroups: c.cgroups }, { conmons: [], mounts: [], cgroups: [] });
    assert.deepEqual(c.links.filter((l) => fuzzBridges.has(l)), [], 'bridges of removed networks');
    assert.deepEqual(c.rules.filter((l) => [...fuzzBridges].some((b) => l.includes(`berth:${b}`))), [], 'rules of removed networks');
    if (process.env.FUZZ_DUMP) writeFileSync(`${process.env.FUZZ_DUMP}.log`, readFileSync(d.logFile));
    await d.cleanup();
    assert.deepEqual(await leftovers(d, [...bridges(), ...fuzzBridges]), []);
    const rootNew = readdirSync('/').filter((f) => !rootBefore.includes(f));
    assert.deepEqual(rootNew, [], 'files the fuzzer made in /');
  });
});
