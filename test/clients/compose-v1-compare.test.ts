// berth compose against docker-compose 1.29 (Debian's): the same project (test/fixtures/compose/
// app6, valid for both) brought up by each tool on the same private berthd, one after the other
// under the same project name with `down -v` between, and what each made compared by inspect:
// every container's Config, HostConfig, mounts and per-network endpoint settings (aliases…), and
// the networks' and volumes' settings and labels.
//
// The two tools legitimately differ in some places (v1's `_` separators, its version label, no
// depends_on label, volumes passed as Binds…): those are the ALLOWED table below, each with its
// reason and, where it can be stated, the exact form the difference must take. Any other
// difference fails the test, listed path by path. Values that differ between any two runs (IDs,
// addresses, times) are taken out before the comparison, and a Go zero value (null, false, 0,
// "", [], {}) counts as absent, as it does on the wire (omitempty).
//
// COMPOSE_V1_SELF_CHECK=1 runs docker-compose 1.29 on both sides: the comparison must then find
// nothing at all, which checks the normalisation rather than berth compose.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon, makeBusybox, repo, runCmd, type Result } from '../helpers/daemon.ts';

const V1 = '/usr/bin/docker-compose';
const BERTH = join(repo, 'bin/berth');
const APP6 = join(repo, 'test/fixtures/compose/app6');
const FILE = join(APP6, 'compose.yaml');
const PROJECT = 'app6';
const SELF_CHECK = process.env.COMPOSE_V1_SELF_CHECK === '1';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

/** One difference: where, and each side's value (undefined: absent or a zero value). */
interface Diff { path: string; v1: Json | undefined; v2: Json | undefined }

/** A difference the two tools may show, why, and (when it can be stated) the form it must take. */
interface Allowed { path: RegExp; reason: string; ok?: (v1: Json | undefined, v2: Json | undefined, path: string) => boolean }

const label = (name: string): string => `\\.Labels\\["${name.replaceAll('.', '\\.')}"\\]$`;

const ALLOWED: Allowed[] = [
  {
    path: /^container\.\w+\.Name$/,
    reason: 'v1 names containers <project>_<service>_<n>, v2 <project>-<service>-<n>',
    ok: (v1, v2) => typeof v1 === 'string' && typeof v2 === 'string' && v1.replaceAll('_', '-') === v2,
  },
  {
    path: new RegExp(`^(container|network|volume)\\.[\\w-]+(\\.Config)?${label('com.docker.compose.version')}`),
    reason: 'the tool\'s own version: 1.29.2 for v1, berth compose\'s Compose version for v2',
    ok: (v1, v2) => v1 === '1.29.2' && typeof v2 === 'string' && /^2\./.test(v2),
  },
  {
    path: new RegExp(`^(container|network|volume)\\.[\\w-]+(\\.Config)?${label('com.docker.compose.config-hash')}`),
    reason: 'each tool hashes its own model of the service (v2 also hashes networks and volumes; v1 does not label them)',
    ok: (v1, v2) => typeof v2 === 'string' && /^[0-9a-f]{64}$/.test(v2),
  },
  {
    path: new RegExp(`^container\\.\\w+\\.Config${label('com.docker.compose.depends_on')}`),
    reason: 'v2 records the dependencies (service:condition:restart) for down and restart order; v1 has no such label',
    ok: (v1, v2) => v1 === undefined && typeof v2 === 'string',
  },
  {
    path: new RegExp(`^container\\.\\w+\\.Config${label('com.docker.compose.image')}`),
    reason: 'v2 records the image ID it created the container from, to recreate when the image changes; v1 has no such label',
    ok: (v1, v2) => v1 === undefined && typeof v2 === 'string' && /^sha256:[0-9a-f]{64}$/.test(v2),
  },
  {
    path: /^container\.\w+\.Config\.Volumes(\.|$)/,
    reason: 'v1 (docker-py) also declares each mount target in Config.Volumes; v2 does not (the mounts compared below are the same)',
    ok: (v1, v2) => v2 === undefined,
  },
  {
    path: /^container\.\w+\.HostConfig\.(Binds|Mounts)(\[|$)/,
    reason: 'v1 passes volumes and binds as HostConfig.Binds strings, v2 as HostConfig.Mounts objects; the resulting mounts (container.*.Mounts) must be the same',
  },
  {
    path: /^container\.\w+\.Mounts\[[^\]]+\]\.(Mode|Propagation)$/,
    reason: 'inspect shows a Binds entry\'s mode ("rw", "ro") and propagation as given; a Mounts entry has none',
  },
  {
    path: /^container\.\w+\.Config\.(AttachStdout|AttachStderr)$/,
    reason: 'v2 creates every container with stdout and stderr attachable (it may attach later); v1\'s up -d does not',
    ok: (v1, v2) => v1 === undefined && v2 === true,
  },
  {
    path: /^container\.\w+\.HostConfig\.RestartPolicy\.Name$/,
    reason: 'no restart policy: v1 sends "", v2 "no" (the same to the daemon)',
    ok: (v1, v2) => (v1 === undefined || v1 === 'no') && (v2 === undefined || v2 === 'no'),
  },
  {
    path: /^container\.\w+\.Networks\.[\w-]+\.Aliases$/,
    reason: 'v2 adds the container\'s name to its aliases on every network; v1 only the service name and the aliases of the file',
    ok: (v1, v2, path) => {
      const svc = /^container\.(\w+)\./.exec(path)![1]!;
      const name = `${PROJECT}-${svc}-1`;
      return Array.isArray(v1) && Array.isArray(v2) && JSON.stringify([...v1, name].sort()) === JSON.stringify([...v2].sort());
    },
  },
  {
    path: /^network\.[\w-]+\.Attachable$/,
    reason: 'v1 makes its networks attachable (for one-off containers on swarm networks); v2 only when the file says attachable: true',
    ok: (v1, v2) => v1 === true && v2 === undefined,
  },
  {
    path: /^container\.\w+\.Networks\.[\w-]+\.DNSNames$/,
    reason: 'the daemon lists the container\'s name among its DNS names, and the names differ (v1 _, v2 -), as do the aliases above',
  },
];

/** Runtime values that differ between any two runs of one tool: never compared. */
const RUN_SPECIFIC_ENDPOINT = ['NetworkID', 'EndpointID', 'Gateway', 'IPAddress', 'IPPrefixLen', 'MacAddress', 'IPv6Gateway', 'GlobalIPv6Address', 'GlobalIPv6PrefixLen'];

interface Snapshot { container: Record<string, Obj>; network: Record<string, Obj>; volume: Record<string, Obj> }

const isZero = (v: Json | undefined): boolean =>
  v === undefined || v === null || v === false || v === 0 || v === '' ||
  (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);

/** Every difference between a and b, by path (objects by key; an array as a whole, its elements compared in order). */
function diff(a: Json | undefined, b: Json | undefined, path: string, out: Diff[]): void {
  if (isZero(a) && isZero(b)) return;
  const bothObjects = a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b);
  if (bothObjects) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      diff(a[k], b[k], /^[\w]+$/.test(k) ? `${path}.${k}` : `${path}["${k}"]`, out);
    }
    return;
  }
  // arrays of the same length element by element (so that key order inside objects does not count)
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    const before = out.length;
    a.forEach((x, i) => diff(x, b[i], `${path}[${i}]`, out));
    // one entry for the whole array, so that a rule names the array's path
    if (out.length > before) out.splice(before, out.length - before, { path, v1: a, v2: b });
    return;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ path, v1: isZero(a) ? undefined : a, v2: isZero(b) ? undefined : b });
}

describe('berth compose against docker-compose 1.29: the same project, compared by inspect', { timeout: 180_000 }, () => {
  const skip = existsSync(V1) ? false : 'docker-compose 1.29 is not installed (scripts/install.sh installs it)';
  const d = new TestDaemon();
  const snaps: { v1?: Snapshot; v2?: Snapshot } = {};

  const v1 = (args: string[]): Promise<Result> => runCmd(V1, ['--ansi', 'never', '-p', PROJECT, '-f', FILE, ...args],
    { env: { ...d.env, COMPOSE_DOCKER_CLI_BUILD: '0', DOCKER_BUILDKIT: '0' }, timeoutMs: 90_000 });
  const v2 = (args: string[]): Promise<Result> => SELF_CHECK ? v1(args)
    : runCmd(BERTH, ['compose', '--ansi', 'never', '-p', PROJECT, '-f', FILE, ...args], { env: d.env, timeoutMs: 90_000 });

  before(async () => {
    if (skip) return;
    await d.start();
    await makeBusybox(d);
    for (const s of ['web', 'app']) {
      const r = await d.docker(['build', '-q', '-t', `app6-${s}:local`, join(APP6, s)], { env: { DOCKER_BUILDKIT: '0' }, timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stderr);
    }
  }, { timeout: 120_000 });

  after(async () => {
    if (skip) return;
    await v1(['down', '-v', '-t', '0']).catch(() => undefined);
    await v2(['down', '-v', '-t', '0']).catch(() => undefined);
    await d.cleanup();
  }, { timeout: 90_000 });

  const byLabel = (l: string): string => encodeURIComponent(JSON.stringify({ label: [`com.docker.compose.project=${l}`] }));

  /** What the project made, normalised: containers by service, networks and volumes by name. */
  async function snapshot(): Promise<Snapshot> {
    const snap: Snapshot = { container: {}, network: {}, volume: {} };
    const list = (await d.api('GET', `/containers/json?all=1&filters=${byLabel(PROJECT)}`)).json() as { Id: string }[];
    for (const { Id } of list) {
      const c = (await d.api('GET', `/containers/${Id}/json`)).json() as Obj & { Config: Obj & { Labels: Record<string, string> }; HostConfig: Obj; Mounts: Obj[]; NetworkSettings: { Networks: Record<string, Obj> } };
      const short = Id.slice(0, 12);
      const svc = c.Config.Labels['com.docker.compose.service']!;
      const { Hostname: _h, ...config } = c.Config; // the short ID
      const networks: Record<string, Obj> = {};
      for (const [name, ep] of Object.entries(c.NetworkSettings.Networks)) {
        const kept: Obj = {};
        for (const [k, v] of Object.entries(ep)) if (!RUN_SPECIFIC_ENDPOINT.includes(k)) kept[k] = v;
        // dockerd < API 1.44 adds the short ID to the aliases (berthd to DNSNames too): not the tool's
        for (const k of ['Aliases', 'DNSNames']) if (Array.isArray(kept[k])) kept[k] = [...new Set((kept[k] as string[]).filter((a) => a !== short))].sort();
        networks[name] = kept;
      }
      const mounts: Obj = {};
      for (const m of c.Mounts) mounts[String(m.Destination)] = m;
      const env = [...(config.Env as string[] ?? [])].sort();
      snap.container[svc] = { Name: c.Name as string, Config: { ...config, Env: env }, HostConfig: c.HostConfig, Mounts: mounts, Networks: networks };
    }
    for (const n of (await d.api('GET', `/networks?filters=${byLabel(PROJECT)}`)).json() as Obj[]) {
      const { Id: _i, Created: _c, Containers: _cs, IPAM, ...rest } = n;
      // the subnets are the daemon's pick from its pool, in creation order: run-specific
      snap.network[String(n.Name)] = { ...rest, IPAM: { Driver: (IPAM as Obj)?.Driver ?? null, Options: (IPAM as Obj)?.Options ?? null } };
    }
    const vols = ((await d.api('GET', `/volumes?filters=${byLabel(PROJECT)}`)).json() as { Volumes: Obj[] | null }).Volumes ?? [];
    for (const v of vols) {
      const { CreatedAt: _c, ...rest } = v;
      snap.volume[String(v.Name)] = rest;
    }
    return snap;
  }

  it('docker-compose 1.29 up -d, inspect, down -v', { skip }, async () => {
    const up = await v1(['up', '-d']);
    assert.equal(up.code, 0, up.stderr);
    snaps.v1 = await snapshot();
    assert.deepEqual(Object.keys(snaps.v1.container).sort(), ['app', 'cache', 'db', 'migrate', 'web', 'worker']);
    const down = await v1(['down', '-v', '-t', '0']);
    assert.equal(down.code, 0, down.stderr);
  });

  it(`${SELF_CHECK ? 'docker-compose 1.29 again' : 'berth compose'} up -d, inspect, down -v`, { skip }, async () => {
    const up = await v2(['up', '-d']);
    assert.equal(up.code, 0, `${up.stderr}${up.stdout}`);
    snaps.v2 = await snapshot();
    const down = await v2(['down', '-v', '-t', '0']);
    assert.equal(down.code, 0, `${down.stderr}${down.stdout}`);
    const left = (await d.api('GET', `/containers/json?all=1&filters=${byLabel(PROJECT)}`)).json() as unknown[];
    assert.deepEqual(left, []);
  });

  it('the containers, networks and volumes differ only as the ALLOWED table says', { skip }, (t) => {
    assert.ok(snaps.v1 && snaps.v2, 'both tools brought the project up');
    const diffs: Diff[] = [];
    for (const kind of ['container', 'network', 'volume'] as const) {
      diff(snaps.v1[kind] as Json, snaps.v2[kind] as Json, kind, diffs);
    }
    const unexplained = diffs.filter((df) => {
      const rule = ALLOWED.find((a) => a.path.test(df.path));
      return !rule || (rule.ok !== undefined && !rule.ok(df.v1, df.v2, df.path));
    });
    // the allowed ones, for whoever reads the run: each with the rule that let it pass
    for (const df of diffs.filter((x) => !unexplained.includes(x))) {
      t.diagnostic(`allowed ${df.path}: v1 ${JSON.stringify(df.v1)} v2 ${JSON.stringify(df.v2)} (${ALLOWED.find((a) => a.path.test(df.path))!.reason})`);
    }
    if (SELF_CHECK) assert.deepEqual(diffs, [], 'one tool against itself differs in nothing');
    assert.deepEqual(unexplained.map((df) => `${df.path}: v1 ${JSON.stringify(df.v1)} v2 ${JSON.stringify(df.v2)}`), []);
  });
});
