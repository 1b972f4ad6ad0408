// `berth create`'s request must be the one the Docker CLI sends for the same flags: both build the
// create body against a capture daemon (no berthd), and the bodies, query strings and, for bad
// values, the exit status and first line of the error are compared.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaptureDaemon } from '../../helpers/capture-daemon.ts';
import { runCmd, DOCKER } from '../../helpers/daemon.ts';
import { parseFlags, FlagError } from '../../../src/cli/flags.ts';
import { CliError } from '../../../src/cli/command.ts';
import { CREATE_FLAGS, RUN_FLAGS, RUN_ONLY_FLAGS, createRequest } from '../../../src/cli/run-options.ts';

const haveDocker = existsSync(DOCKER);
const d = new CaptureDaemon();
const dir = mkdtempSync(join(tmpdir(), 'berth-runopts-'));
const cfg = mkdtempSync(join(tmpdir(), 'berth-runopts-cfg-'));
const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_CONFIG: cfg, DOCKER_CLI_HINTS: 'false', BERTH_T_LOCAL: 'from-local' };
delete env.DOCKER_DEFAULT_PLATFORM;
delete env.DOCKER_CONTENT_TRUST;
const envFile = join(dir, 'env');
const labelFile = join(dir, 'labels');
const seccomp = join(dir, 'seccomp.json');

before(async () => {
  await d.start();
  writeFileSync(envFile, '# comment\n\n  FROM_FILE=1\nSPACED= a b \nBERTH_T_LOCAL\nBERTH_T_UNSET\nDUP=file\r\n');
  writeFileSync(labelFile, 'com.x=1\n# c\nflag\ncom.y=two words\n');
  writeFileSync(seccomp, '{\n  "defaultAction": "SCMP_ACT_ALLOW",\n  "syscalls": []\n}\n');
});
after(async () => {
  await d.stop();
  rmSync(dir, { recursive: true, force: true });
  rmSync(cfg, { recursive: true, force: true });
});

interface Outcome { code: number; firstLine: string; request?: { query: Record<string, string>; body: any } }

/** Go map iteration makes these orders random in docker's body: compare them sorted */
function normalise(r: { query: Record<string, string>; body: any }): { query: Record<string, string>; body: any } {
  const body = structuredClone(r.body);
  if (Array.isArray(body.Env)) body.Env.sort();
  if (Array.isArray(body.HostConfig?.Binds)) body.HostConfig.Binds.sort();
  return { query: r.query, body };
}

async function docker(cmd: string, args: string[]): Promise<Outcome> {
  const r = await runCmd(DOCKER, ['-H', `unix://${d.socket}`, cmd, ...args], { env, timeoutMs: 20_000 });
  const [req] = d.take();
  return { code: r.code, firstLine: r.stderr.split('\n')[0]!.replaceAll('docker', 'berth'), request: req && normalise(req) };
}

function berth(cmd: string, args: string[]): Outcome {
  const flags = cmd === 'create' ? CREATE_FLAGS : RUN_FLAGS;
  try {
    const { opts, args: rest } = parseFlags(args, flags, false);
    const r = createRequest(opts, rest, { invokedAs: `berth ${cmd}`, configDir: cfg, host: `unix://${d.socket}`, env, consoleSize: [0, 0] });
    const query: Record<string, string> = {};
    if (r.platform) query.platform = r.platform;
    if (r.name) query.name = r.name;
    return { code: 0, firstLine: '', request: normalise({ query, body: JSON.parse(JSON.stringify(r.body)) }) };
  } catch (e) {
    if (e instanceof FlagError) return { code: 125, firstLine: e.message };
    if (e instanceof CliError) return { code: e.status, firstLine: e.message.split('\n')[0]! };
    throw e;
  }
}

const CASES: string[][] = [
  ['busybox'],
  ['--name', 'web', 'busybox', 'sh', '-c', 'echo hi'],
  ['-e', 'A=1', '-e', 'B', '-e', 'BERTH_T_LOCAL', '-e', 'DUP=flag', '--env-file', envFile, 'busybox'],
  ['-l', 'a=b', '-l', 'c', '--label-file', labelFile, '--label', 'com.x=override', 'busybox'],
  ['-v', '/tmp:/data:ro', '-v', 'named:/n', '-v', '/anon', '-v', './rel:/rel', '-v', '/anon', 'busybox'],
  ['--mount', 'type=bind,src=/tmp,dst=/x,readonly,bind-propagation=rshared', '--mount', 'type=volume,source=v1,target=/v,volume-opt=o=1,volume-label=l=2,volume-nocopy',
    '--mount', 'type=tmpfs,dst=/t,tmpfs-size=64m,tmpfs-mode=1770', '--mount', 'src=./rel,target=/r,type=bind,bind-recursive=disabled', 'busybox'],
  ['--mount', 'target=/anon', '--mount', '"type=volume","target=/q"', 'busybox'],
  ['--tmpfs', '/run', '--tmpfs', '/tmp:rw,size=1g', 'busybox'],
  ['-p', '80', '-p', '8080:80', '-p', '127.0.0.1:8081:81', '-p', '127.0.0.1::82', '-p', '8000-8002:90-92/udp', '-p', '[::1]:83:83', '-p', '9000-9005:84', 'busybox'],
  ['-p', 'published=9090,target=90,protocol=udp', '-P', '--expose', '7000-7002', '--expose', '53/udp', '--expose', '80', 'busybox'],
  ['--network', 'host', 'busybox'],
  ['--network', 'mynet', '--network-alias', 'a1', '--net-alias', 'a2', '--ip', '10.1.2.3', '--ip6', '2001:db8::33', '--link', 'other:o', '--mac-address', '92:d0:c6:0a:29:33', 'busybox'],
  ['--net', 'none', 'busybox'],
  ['--network', 'name=n1,alias=x,driver-opt=k=v,gw-priority=2', '--network', 'n2', 'busybox'],
  ['--link', 'db:database', '--link', 'cache', 'busybox'],
  ['--link-local-ip', '169.254.1.1', '--network', 'mynet', 'busybox'],
  ['-h', 'myhost', '--domainname', 'example.com', '--dns', '8.8.8.8', '--dns', '2001:4860:4860:0:0:0:0:8888', '--dns-search', 'example.com', '--dns-option', 'ndots:2', '--dns-opt', 'timeout:1', 'busybox'],
  ['--add-host', 'h1:1.2.3.4', '--add-host', 'h2=::1', '--add-host', 'h3:host-gateway', '--add-host', 'h4=[::2]', 'busybox'],
  ['-u', '1000:1000', '-w', '/work', '--entrypoint', '/bin/sh', 'busybox', '-c', 'x'],
  ['--entrypoint', '', 'busybox'],
  ['-m', '512m', '--memory-swap', '-1', '--memory-reservation', '256m', '--memory-swappiness', '10', '--kernel-memory', '64m', '--oom-kill-disable', '--oom-score-adj', '500', 'busybox'],
  ['-m', '1.5g', '--memory-swap', '2g', 'busybox'],
  ['--cpus', '1.5', '-c', '512', '--cpu-period', '100000', '--cpu-quota', '50000', '--cpuset-cpus', '0-1', '--cpuset-mems', '0', '--cpu-rt-period', '1000', '--cpu-rt-runtime', '500', 'busybox'],
  ['--blkio-weight', '300', '--blkio-weight-device', '/dev/sda:200', '--device-read-bps', '/dev/sda:1mb', '--device-write-iops', '/dev/sda:100', '--device-read-iops', '/dev/sda:10', '--device-write-bps', '/dev/sda:2m', 'busybox'],
  ['--pids-limit', '100', '--ulimit', 'nofile=1024:2048', '--ulimit', 'nproc=50', '--ulimit', 'core=-1', '--ulimit', 'nproc=60', 'busybox'],
  ['--cap-add', 'net_admin', '--cap-add', 'SYS_TIME', '--cap-add', 'NET_ADMIN', '--cap-drop', 'all', '--cap-drop', 'CAP_CHOWN', '--privileged', '--security-opt', 'no-new-privileges', '--security-opt', 'label=disable', '--read-only', 'busybox'],
  ['--security-opt', 'systempaths=unconfined', '--security-opt', `seccomp=${seccomp}`, 'busybox'],
  ['--security-opt', 'systempaths=unconfined', 'busybox'],
  ['--restart', 'on-failure:3', 'busybox'],
  ['--restart', 'unless-stopped', 'busybox'],
  ['--rm', 'busybox'],
  ['--init', '--stop-signal', 'SIGINT', '--stop-timeout', '5', 'busybox'],
  ['--init=false', '--stop-timeout', '0', 'busybox'],
  ['--health-cmd', 'true', '--health-interval', '5s', '--health-timeout', '1m30s', '--health-retries', '3', '--health-start-period', '1.5s', '--health-start-interval', '500ms', 'busybox'],
  ['--health-interval', '2s', 'busybox'],
  ['--no-healthcheck', 'busybox'],
  ['--log-driver', 'json-file', '--log-opt', 'max-size=10m', '--log-opt', 'max-file=3', 'busybox'],
  ['--device', '/dev/fuse', '--device', '/dev/sda:/dev/xvda:rw', '--device', '/dev/null:r', '--device', 'vendor.com/class=name', '--device-cgroup-rule', 'c 1:3 mr', 'busybox'],
  ['--shm-size', '128m', '--sysctl', 'net.ipv4.ip_forward=1', '--sysctl', 'kernel.shmmax=1000', '--annotation', 'a=b', 'busybox'],
  ['--userns', 'host', '--pid', 'host', '--ipc', 'shareable', '--uts', 'host', '--cgroupns', 'private', '--cgroup-parent', '/my', '--group-add', 'audio', '--group-add', '100', 'busybox'],
  ['--pid', 'container:abc', 'busybox'],
  ['--runtime', 'runc', '--isolation', 'default', '--volumes-from', 'c1:ro', '--volume-driver', 'local', '--storage-opt', 'size=10G', 'busybox'],
  ['--platform', 'linux/arm64', '--pull', 'never', 'busybox'],
  ['--platform', 'arm64', 'busybox'],
  ['-i', '-t', 'busybox'],
  ['-a', 'stdout', 'busybox'],
  ['-a', 'STDIN', '-a', 'stderr', '-i', 'busybox'],
  ['--gpus', 'all', 'busybox'],
  ['--gpus', '"device=0,1"', '--gpus', 'count=2,capabilities=compute,driver=nvidia', 'busybox'],
  ['-v', 'a:b:c:d', '-v', 'c::d', 'busybox'],
  ['--use-api-socket', 'busybox'],
  ['localhost:5000/org/app:1.0', 'cmd'],
];

for (const args of CASES) {
  test(`create ${args.join(' ')}`, { skip: !haveDocker && 'no docker CLI' }, async () => {
    const want = await docker('create', args);
    assert.equal(want.code, 0, `docker failed: ${want.firstLine}`);
    const got = berth('create', args);
    assert.equal(got.firstLine, '');
    assert.deepStrictEqual(got.request, want.request);
  });
}

const RUN_CASES: string[][] = [
  ['-d', 'busybox'],
  ['-d', '-i', '--name', 'x', 'busybox', 'top'],
  ['-i', 'busybox'],
  ['--rm', '-a', 'stderr', 'busybox', 'echo'],
];

for (const args of RUN_CASES) {
  test(`run ${args.join(' ')}`, { skip: !haveDocker && 'no docker CLI' }, async () => {
    const want = await docker('run', args);
    assert.ok(want.request, `docker sent no create: ${want.firstLine}`);
    assert.deepStrictEqual(berth('run', args).request, want.request);
  });
}

test('config.json proxies become environment variables, unless -e sets them', { skip: !haveDocker && 'no docker CLI' }, async () => {
  writeFileSync(join(cfg, 'config.json'), JSON.stringify({ proxies: { default: { httpProxy: 'http://p:3128', noProxy: 'localhost' } } }));
  try {
    const args = ['-e', 'http_proxy=mine', '-e', 'X=1', 'busybox'];
    const want = await docker('create', args);
    assert.ok(want.request?.body.Env.includes('HTTP_PROXY=http://p:3128'));
    assert.deepStrictEqual(berth('create', args).request, want.request);
  } finally {
    rmSync(join(cfg, 'config.json'));
  }
});

const ERRORS: [string, string[]][] = [
  ['create', ['-e', '=x', 'busybox']],
  ['create', ['--add-host', 'bad', 'busybox']],
  ['create', ['--add-host', 'h:notanip', 'busybox']],
  ['create', ['-m', 'abc', 'busybox']],
  ['create', ['-m', '10x', 'busybox']],
  ['create', ['-p', 'foo', 'busybox']],
  ['create', ['-p', '1.2.3:80:80', 'busybox']],
  ['create', ['-p', '80/xyz', 'busybox']],
  ['create', ['-p', '8000-8001:80-85', 'busybox']],
  ['create', ['-p', 'target=80,bad', 'busybox']],
  ['create', ['--expose', 'abc', 'busybox']],
  ['create', ['--expose', '1:2', 'busybox']],
  ['create', ['--rm', '--restart', 'always', 'busybox']],
  ['create', ['BAD:Image']],
  ['create', ['bad image']],
  ['create', ['--pull', 'x', 'busybox']],
  ['create', ['--cpus', 'abc', 'busybox']],
  ['create', ['--cpus', '0.0000000001', 'busybox']],
  ['create', ['--health-interval', '5', 'busybox']],
  ['create', ['--health-timeout', '5q', 'busybox']],
  ['create', ['--ulimit', 'foo=1', 'busybox']],
  ['create', ['--ulimit', 'nofile=10:5', 'busybox']],
  ['create', ['--sysctl', 'a=b', 'busybox']],
  ['create', ['--mount', 'type=bind', 'busybox']],
  ['create', ['--mount', 'type=tmpfs,dst=/x,volume-nocopy', 'busybox']],
  ['create', ['--mount', 'type=bind,src=/a,dst=/b,foo=bar', 'busybox']],
  ['create', ['--mount', 'type=bind,src=/a,dst=/b,ro=maybe', 'busybox']],
  ['create', ['--network', 'host', '--network', 'mynet', 'busybox']],
  ['create', ['--network', 'name=a,bogus=1', 'busybox']],
  ['create', ['--network-alias', 'x', 'busybox']],
  ['create', ['-v', '/a:/b:/c:/d', 'busybox']],
  ['create', ['-v', '/a::/b', 'busybox']],
  ['create', ['-v', '', 'busybox']],
  ['create', ['--cpu-count', '2', 'busybox']],
  ['create', ['--io-maxiops', '100', 'busybox']],
  ['create', ['--restart', ':3', 'busybox']],
  ['create', ['--restart', 'on-failure:x', 'busybox']],
  ['create', ['--memory-swappiness', '200', 'busybox']],
  ['create', ['--no-healthcheck', '--health-cmd', 'x', 'busybox']],
  ['create', ['--env-file', '/nonexistent/env', 'busybox']],
  ['create', ['--mac-address', 'zz', 'busybox']],
  ['create', ['--pid', 'bad', 'busybox']],
  ['create', ['--uts', 'bad', 'busybox']],
  ['create', ['--userns', 'bad', 'busybox']],
  ['create', ['--cgroupns', 'bad', 'busybox']],
  ['create', ['--log-driver', 'none', '--log-opt', 'a=b', 'busybox']],
  ['create', ['--security-opt', 'foo', 'busybox']],
  ['create', ['--storage-opt', 'x', 'busybox']],
  ['create', ['--device', 'relative', 'busybox']],
  ['create', ['--device', '/dev/a:/dev/b:xyz', 'busybox']],
  ['create', ['--dns', 'x', 'busybox']],
  ['create', ['--dns-search', '-bad-', 'busybox']],
  ['create', ['--blkio-weight', 'x', 'busybox']],
  ['create', ['--blkio-weight-device', 'sda:100', 'busybox']],
  ['create', ['--device-read-bps', '/dev/sda:x', 'busybox']],
  ['create', ['-a', 'foo', 'busybox']],
  ['create', ['--stop-timeout', 'x', 'busybox']],
  ['create', ['--gpus', 'count=x', 'busybox']],
  ['create', ['--device-cgroup-rule', 'x', 'busybox']],
  ['create', ['--label', '=x', 'busybox']],
  ['create', ['--link', 'a:b:c', 'busybox']],
  ['create', ['--bogus', 'busybox']],
  ['run', ['-a', 'stdout', '-d', 'busybox']],
  ['run', ['BAD:Image']],
  ['run', ['--rm', '--restart', 'always', 'busybox']],
  ['run', ['-m', 'abc', 'busybox']],
];

for (const [cmd, args] of ERRORS) {
  test(`${cmd} ${args.join(' ')} fails as docker's does`, { skip: !haveDocker && 'no docker CLI' }, async () => {
    const want = await docker(cmd, args);
    assert.notEqual(want.code, 0);
    const got = berth(cmd, args);
    assert.deepStrictEqual({ code: got.code, firstLine: got.firstLine }, { code: want.code, firstLine: want.firstLine });
  });
}

test('run has every docker run flag; create filters the run-only ones', { skip: !haveDocker && 'no docker CLI' }, async () => {
  const names = async (cmd: string): Promise<string[]> => {
    // docker hides flags by what the daemon it reaches supports (a dockerd on the default
    // socket hides some): ask with no daemon there, so the list is the CLI's own.
    const { DOCKER_CONTEXT: _ctx, ...rest } = env;
    const r = await runCmd(DOCKER, [cmd, '--help'], { env: { ...rest, DOCKER_HOST: 'unix:///run/berth-test-nothing-here.sock' } });
    return [...r.stdout.matchAll(/^\s+(?:-(\w), )?--([\w-]+)/gm)].map((m) => `${m[1] ?? ''}/${m[2]}`).sort();
  };
  const shown = (flags: typeof RUN_FLAGS): string[] => flags.filter((f) => !f.hidden).map((f) => `${f.short ?? ''}/${f.name}`).sort();
  assert.deepStrictEqual(shown(RUN_FLAGS), await names('run'));
  assert.deepStrictEqual(shown(CREATE_FLAGS), await names('create'));
  assert.ok([...RUN_ONLY_FLAGS].every((n) => RUN_FLAGS.some((f) => f.name === n)));
});
