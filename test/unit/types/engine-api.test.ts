// src/types/engine-api.ts is generated from the Engine API spec and checked in: regenerating it
// must give the same bytes, so a spec update without a regeneration (or a hand edit) fails here.
// The `satisfies` lines below are checked by `tsc -p .`: they pin what the generator must give
// (intersections, nullable Go slices, literal unions) for the bodies the Docker CLI really sends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import type {
  ContainerCreateBody, ContainerUpdateBody, ContainerListQuery, ContainerListResult, ContainerSummary,
  HostConfig, RestartPolicy, VolumeListResult,
} from '../../../src/types/engine-api.ts';

const repo = resolve(import.meta.dirname, '../../..');
const spec = resolve(repo, '../shared/spec/docker-engine-api.yaml');
const script = join(repo, 'scripts/gen-engine-api.ts');
const checkedIn = join(repo, 'src/types/engine-api.ts');

function generateTo(dir: string, name: string): string {
  const out = join(dir, name);
  execFileSync(process.execPath, [script, spec, out], { stdio: ['ignore', 'ignore', 'inherit'] });
  return readFileSync(out, 'utf8');
}

test('the checked-in engine-api.ts is what the generator makes of the spec, every time', { skip: !existsSync(spec) && `no spec at ${spec}` }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'engine-api-'));
  try {
    const a = generateTo(dir, 'a.ts');
    const b = generateTo(dir, 'b.ts');
    assert.equal(a, b, 'the generator is not deterministic');
    assert.ok(a === readFileSync(checkedIn, 'utf8'), 'src/types/engine-api.ts is stale: run node scripts/gen-engine-api.ts');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the header says it is generated and from which spec version', () => {
  const head = readFileSync(checkedIn, 'utf8').split('\n').slice(0, 4).join('\n');
  assert.match(head, /GENERATED FILE, DO NOT EDIT/);
  assert.match(head, /Engine API 1\.\d+/);
  assert.match(head, /node scripts\/gen-engine-api\.ts/);
});

// ---- compile-time checks (tsc -p .) ----

// The create body of `docker run --restart on-failure:3 -p 80:80 busybox true` as the Docker CLI
// sends it: Go's nil slices and maps arrive as null.
const createBody = {
  Hostname: '', Env: null, Cmd: ['true'], Image: 'busybox', Volumes: null, Entrypoint: null,
  ExposedPorts: { '80/tcp': {} }, Labels: {},
  HostConfig: {
    Binds: null, NetworkMode: 'default', RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 },
    PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '80' }] }, Dns: [], DnsOptions: [], Links: null,
    Memory: 0, CpusetCpus: '', Devices: [],
  },
  NetworkingConfig: { EndpointsConfig: {} },
} satisfies ContainerCreateBody;

// `docker update --restart always --memory 64m`: Resources plus the restart policy.
const updateBody = { Memory: 67108864, RestartPolicy: { Name: 'always' } } satisfies ContainerUpdateBody;

const listQuery = { all: true, filters: '{"status":["running"]}' } satisfies ContainerListQuery;

// @ts-expect-error: a restart policy name outside the spec's enum
const badPolicy: RestartPolicy = { Name: 'sometimes' };
// @ts-expect-error: ContainerSummary.Names is string[], not string
const badSummary: ContainerSummary = { Names: '/x' };

test('sample bodies used in the compile-time checks are the shapes the CLI sends', () => {
  const hc: HostConfig | undefined = createBody.HostConfig;
  assert.equal(hc?.RestartPolicy?.Name, 'on-failure');
  assert.equal(updateBody.RestartPolicy.Name, 'always');
  assert.equal(listQuery.all, true);
  const rows: ContainerListResult = [{ Id: 'x', Names: null }];
  const vols: VolumeListResult = { Volumes: [], Warnings: null };
  assert.equal(rows.length + vols.Volumes!.length, 1);
  assert.ok(badPolicy && badSummary);
});
