import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { toCreateBody, sortedNetworks, envList, imageName } from '../../../../src/compose/engine/convert.ts';
import { project } from './fixtures.ts';
import type { Service } from '../../../../src/compose/model/types.ts';

const opts = (o: Partial<Parameters<typeof toCreateBody>[2]> = {}) => ({ name: 'shop-web-1', number: 1, oneoff: false, hash: 'h', multiEndpoint: true, peers: {}, warn: () => {}, ...o });

describe('compose engine: Service → container create body', () => {
  it('image defaults to <project>-<service> as Compose v2 names built images', () => {
    const p = project({ web: { build: { context: '/src/shop' } }, db: { image: 'postgres:16' } });
    assert.equal(imageName(p, p.services.web!), 'shop-web');
    assert.equal(imageName(p, p.services.db!), 'postgres:16');
  });

  it('environment: a null value comes from the project environment, or is dropped when unset', () => {
    const p = project({ web: { environment: { A: '1', B: null, C: null } } }, { environment: { B: 'from-env' } });
    assert.deepEqual(envList(p, p.services.web!), ['A=1', 'B=from-env']);
  });

  it('config fields: command, entrypoint, user, healthcheck in ns, stop_grace_period in s, tty, stdin', () => {
    const p = project({ web: {
      image: 'busybox', command: ['sh', '-c', 'x'], entrypoint: ['/init'], user: '1000', working_dir: '/app', hostname: 'h', domainname: 'd',
      labels: { a: 'b' }, stop_signal: 'SIGINT', stop_grace_period: '1m30s', tty: true, stdin_open: true,
      healthcheck: { test: ['CMD', 'true'], interval: '1s', timeout: '500ms', retries: 3, start_period: '2s' },
      networks: { default: null },
    } });
    const { body } = toCreateBody(p, p.services.web!, opts());
    assert.deepEqual(body.Cmd, ['sh', '-c', 'x']);
    assert.deepEqual(body.Entrypoint, ['/init']);
    assert.equal(body.User, '1000');
    assert.equal(body.WorkingDir, '/app');
    assert.equal(body.StopTimeout, 90);
    assert.equal(body.StopSignal, 'SIGINT');
    assert.equal(body.Tty, true);
    assert.equal(body.OpenStdin, true);
    assert.deepEqual(body.Healthcheck, { Test: ['CMD', 'true'], Interval: 1e9, Timeout: 5e8, Retries: 3, StartPeriod: 2e9 });
    assert.equal(body.Labels!.a, 'b');
    assert.equal(body.Labels!['com.docker.compose.service'], 'web');
    assert.equal(body.Labels!['com.docker.compose.container-number'], '1');
    assert.equal(body.HostConfig!.NetworkMode, 'shop_default');
    assert.deepEqual(body.NetworkingConfig!.EndpointsConfig!.shop_default!.Aliases, ['web']);
  });

  it('disabled healthcheck is Test NONE', () => {
    const p = project({ web: { healthcheck: { disable: true } } });
    assert.deepEqual(toCreateBody(p, p.services.web!, opts()).body.Healthcheck, { Test: ['NONE'] });
  });

  it('ports: ExposedPorts and PortBindings with host_ip, ranges and protocol; expose ranges', () => {
    const p = project({ web: {
      expose: ['3000-3001', '4000/udp'],
      ports: [
        { mode: 'ingress', target: 80, published: '8080', protocol: 'tcp' },
        { mode: 'ingress', target: 53, host_ip: '127.0.0.1', published: '5353', protocol: 'udp' },
        { mode: 'ingress', target: 9000, protocol: 'tcp' },
        { mode: 'ingress', target: 80, published: '8081', protocol: 'tcp' },
      ],
    } });
    const { body } = toCreateBody(p, p.services.web!, opts());
    assert.deepEqual(Object.keys(body.ExposedPorts!).sort(), ['3000/tcp', '3001/tcp', '4000/udp', '53/udp', '80/tcp', '9000/tcp']);
    assert.deepEqual(body.HostConfig!.PortBindings, {
      '80/tcp': [{ HostIp: '', HostPort: '8080' }, { HostIp: '', HostPort: '8081' }],
      '53/udp': [{ HostIp: '127.0.0.1', HostPort: '5353' }],
      '9000/tcp': [{ HostIp: '', HostPort: '' }],
    });
  });

  it('volumes: plain binds and named volumes as Binds, options only the mount API has as Mounts', () => {
    const p = project({ web: { volumes: [
      { type: 'bind', source: '/host/a', target: '/a', read_only: true },
      { type: 'bind', source: '/host/b', target: '/b', bind: { create_host_path: false } },
      { type: 'volume', source: 'data', target: '/data' },
      { type: 'volume', source: 'data', target: '/sub', volume: { subpath: 'x' } },
      { type: 'volume', target: '/anon' },
      { type: 'tmpfs', target: '/t', tmpfs: { size: 1024 } },
    ] } }, { volumes: { data: { name: 'shop_data' } } });
    const h = toCreateBody(p, p.services.web!, opts()).body.HostConfig!;
    assert.deepEqual(h.Binds, ['/host/a:/a:ro', 'shop_data:/data:rw']);
    assert.deepEqual(h.Mounts, [
      { Type: 'bind', Source: '/host/b', Target: '/b', ReadOnly: undefined, BindOptions: {} },
      { Type: 'volume', Source: 'shop_data', Target: '/sub', ReadOnly: undefined, VolumeOptions: { Subpath: 'x' } },
      { Type: 'volume', Target: '/anon', ReadOnly: undefined },
      { Type: 'tmpfs', Target: '/t', ReadOnly: undefined, TmpfsOptions: { SizeBytes: 1024 } },
    ]);
  });

  it('restart, deploy.restart_policy, resources, security and namespaces', () => {
    const s: Partial<Service> = {
      restart: 'on-failure:3', init: true, read_only: true, privileged: true, cap_add: ['NET_ADMIN'], cap_drop: ['ALL'],
      security_opt: ['no-new-privileges'], devices: [{ source: '/dev/null', target: '/dev/n' }], ulimits: { nofile: { soft: 10, hard: 20 }, nproc: { single: 5 } },
      sysctls: { 'net.core.somaxconn': '1024' }, shm_size: 67108864, logging: { driver: 'json-file', options: { 'max-size': '1m' } },
      extra_hosts: { db: ['10.0.0.1'] }, dns: ['1.1.1.1'], dns_search: ['x'], dns_opt: ['ndots:1'], pid: 'host', ipc: 'shareable', cgroup_parent: 'p',
      group_add: ['audio'], oom_score_adj: 100, mem_limit: 1000, tmpfs: ['/run:size=1m', '/tmp'],
      deploy: { resources: { limits: { cpus: '0.5', memory: 2048, pids: 50 }, reservations: { memory: 512 } } },
    };
    const p = project({ web: s });
    const h = toCreateBody(p, p.services.web!, opts()).body.HostConfig!;
    assert.deepEqual(h.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
    assert.equal(h.NanoCpus, 5e8);
    assert.equal(h.Memory, 2048);
    assert.equal(h.PidsLimit, 50);
    assert.equal(h.MemoryReservation, 512);
    assert.deepEqual(h.Ulimits, [{ Name: 'nofile', Soft: 10, Hard: 20 }, { Name: 'nproc', Soft: 5, Hard: 5 }]);
    assert.deepEqual(h.Devices, [{ PathOnHost: '/dev/null', PathInContainer: '/dev/n', CgroupPermissions: 'rwm' }]);
    assert.deepEqual(h.ExtraHosts, ['db:10.0.0.1']);
    assert.deepEqual(h.Tmpfs, { '/run': 'size=1m', '/tmp': '' });
    assert.deepEqual(h.LogConfig, { Type: 'json-file', Config: { 'max-size': '1m' } });
    assert.equal(h.Init, true);
    assert.equal(h.PidMode, 'host');
    const p2 = project({ web: { deploy: { restart_policy: { condition: 'any', max_attempts: 2 } } } });
    assert.deepEqual(toCreateBody(p2, p2.services.web!, opts()).body.HostConfig!.RestartPolicy, { Name: 'always', MaximumRetryCount: 2 });
  });

  it('networks: primary by priority then name; all endpoints at create on API ≥ 1.44, the rest connected after otherwise', () => {
    const p = project({ web: { networks: { back: { aliases: ['api'], ipv4_address: '10.1.0.5' }, front: { priority: 10 } } } },
      { networks: { back: { name: 'shop_back' }, front: { name: 'shop_front' } } });
    assert.deepEqual(sortedNetworks(p.services.web!), ['front', 'back']);
    const all = toCreateBody(p, p.services.web!, opts());
    assert.equal(all.body.HostConfig!.NetworkMode, 'shop_front');
    assert.deepEqual(all.body.NetworkingConfig!.EndpointsConfig, {
      shop_front: { Aliases: ['web'] },
      shop_back: { Aliases: ['web', 'api'], IPAMConfig: { IPv4Address: '10.1.0.5' } },
    });
    const old = toCreateBody(p, p.services.web!, opts({ multiEndpoint: false }));
    assert.deepEqual(Object.keys(old.body.NetworkingConfig!.EndpointsConfig!), ['shop_front']);
    assert.deepEqual(old.connect, [{ network: 'shop_back', endpoint: { Aliases: ['web', 'api'], IPAMConfig: { IPv4Address: '10.1.0.5' } } }]);
    // a one-off gets no service alias
    assert.deepEqual(toCreateBody(p, p.services.web!, opts({ oneoff: true })).body.NetworkingConfig!.EndpointsConfig!.shop_front, {});
  });

  it('network_mode service:x becomes container:<id>; volumes_from and links name the peer containers', () => {
    const p = project({ db: {}, web: { network_mode: 'service:db', volumes_from: ['db:ro', 'container:other'], links: ['db:database'] } });
    const { body } = toCreateBody(p, p.services.web!, opts({ peers: { db: [{ id: 'abc', name: 'shop-db-1' }] } }));
    assert.equal(body.HostConfig!.NetworkMode, 'container:abc');
    assert.equal(body.NetworkingConfig, undefined);
    assert.deepEqual(body.HostConfig!.VolumesFrom, ['shop-db-1:ro', 'other']);
    assert.deepEqual(body.HostConfig!.Links, ['shop-db-1:database']);
  });

  it('secrets: a file is a read-only bind at /run/secrets, environment/content are injected files', () => {
    const p = project({ web: { secrets: [{ source: 'key' }, { source: 'token', target: 'tok', mode: 0o400 }], configs: [{ source: 'conf', target: '/etc/app.conf' }] } }, {
      secrets: { key: { name: 'key', file: '/src/shop/key.txt' }, token: { name: 'token', environment: 'TOKEN' } },
      configs: { conf: { name: 'conf', content: 'a=1' } },
      environment: { TOKEN: 's3cret' },
    });
    const c = toCreateBody(p, p.services.web!, opts());
    assert.deepEqual(c.body.HostConfig!.Mounts, [{ Type: 'bind', Source: '/src/shop/key.txt', Target: '/run/secrets/key', ReadOnly: true }]);
    assert.deepEqual(c.files.map((f) => [f.path, f.data.toString(), f.mode]), [['/run/secrets/tok', 's3cret', 0o400], ['/etc/app.conf', 'a=1', 0o444]]);
  });

  it('fields a single engine cannot honour are warned about, never silently dropped', () => {
    const warnings: string[] = [];
    const p = project({ web: { deploy: { mode: 'global', placement: { constraints: ['node.role==manager'] } }, isolation: 'hyperv' } });
    toCreateBody(p, p.services.web!, opts({ warn: (t: string) => warnings.push(t) }));
    assert.deepEqual(warnings, [
      'services.web.deploy.placement is not supported by a single engine: ignored',
      'services.web.deploy.mode "global" is not supported by a single engine: running it as replicated',
      'services.web.isolation "hyperv" is a Windows feature: ignored',
    ]);
  });
});
