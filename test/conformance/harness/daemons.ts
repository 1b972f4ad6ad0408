// The two daemons a conformance run compares: a private dockerd (Debian's docker.io, the judge)
// and a private berthd. Each has its own socket, data root, exec root, pidfile, bridge and
// address pool; dockerd also its own managed containerd (own namespaces), cgroup parent and
// config file, and neither touches iptables or ip_forward (dockerd: --iptables=false
// --ip-forward=false; berthd's rules are its own chains, removed with its bridge). A conformance
// run starts both at once on subnets of the same width (pickPairNets); the normaliser turns each
// daemon's own prefixes into the same tokens. stop() leaves nothing: processes, mounts, netns,
// links, dirs.
//
// A berthd (this suite's, another's) sets the host's FORWARD policy to DROP, as dockerd does
// when it enables forwarding. A dockerd with --iptables=false adds no rules of its own, so its
// containers could not even reach each other across its bridges (br_netfilter sends bridged
// traffic through FORWARD). startDockerd therefore accepts, at the top of FORWARD, what its
// addresses send and the replies to it (what the ACCEPT policy let through before), and stop()
// removes those rules (comment `bcd-pair:<tag>`).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { run } from '../../../src/sys/exec.ts';
import { hardCleanup, repo, settledWithin, sleep, type DaemonNet } from '../../helpers/daemon.ts';
import { api, pickSubnets, processesOf, tailOf } from '../../../bench/lib.ts';

export type Kind = 'dockerd' | 'berthd';

export interface DaemonUnderTest {
  kind: Kind;
  socket: string;
  dataRoot: string;
  execRoot: string;
  /** its default bridge's interface name */
  bridge: string;
  /** The Docker CLI's environment for this daemon. */
  env: NodeJS.ProcessEnv;
  /** Stops the daemon and removes everything it made. Idempotent. */
  stop(): Promise<void>;
  logTail(): string;
}

/** Addresses shared by the pair: a /24 for the default bridge, a /16 pool of /24s for user networks. */
export interface PairNet { tag: string; bip: string; prefix: string; pool: string }

/** Subnets no address or route of this machine uses yet (bench/lib.ts pickSubnets), and a tag for names. */
export function pickPairNet(): PairNet {
  return { tag: randomBytes(3).toString('hex'), ...pickSubnets() };
}

/**
 * Two nets for two daemons that run at the same time: neither bridge subnet, pool nor tag is
 * shared (a bridge of each with one subnet would split the host's route to it), and the
 * addresses are written with as many characters on both (10.170.5. and 10.181.7., not
 * 10.181.75.), so tabwriter columns and truncated cells line up as they did with one net.
 */
export function pickPairNets(): [PairNet, PairNet] {
  const first = pickPairNet();
  for (let i = 0; i < 200; i++) {
    const second = pickPairNet();
    if (second.tag === first.tag || second.prefix === first.prefix || second.pool === first.pool) continue;
    if (second.prefix.length !== first.prefix.length || second.pool.length !== first.pool.length) continue;
    return [first, second];
  }
  throw new Error('no second free 10.x subnet of the same width found');
}

const KEY_JSON = '/etc/docker/key.json';

/** The FORWARD rules that let a private dockerd's containers talk under a DROP policy. */
function pairForwardRules(net: PairNet): string[] {
  const c = `-m comment --comment bcd-pair:${net.tag}`;
  return [net.bip, net.pool].flatMap((s) => [`-s ${s} ${c} -j ACCEPT`, `-d ${s} -m conntrack --ctstate RELATED,ESTABLISHED ${c} -j ACCEPT`]);
}

async function removePairForwardRules(tag: string): Promise<void> {
  const { stdout } = await run('iptables-save', ['-t', 'filter']);
  const del = stdout.split('\n').filter((l) => l.startsWith('-A FORWARD ') && l.includes(`bcd-pair:${tag}`)).map((l) => l.replace(/^-A /, '-D '));
  if (del.length) await run('iptables-restore', ['--noflush', '-w', '5'], { input: `*filter\n${del.join('\n')}\nCOMMIT\n` });
}

async function ping(socket: string): Promise<boolean> {
  return api(socket, 'GET', '/_ping', undefined, undefined, 1_000).then((r) => r.status === 200, () => false);
}

async function waitUp(child: ChildProcess, socket: string, logFile: string, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}):\n${tailOf(logFile)}`);
    if (await ping(socket)) return;
    await sleep(100);
  }
  throw new Error(`${what} did not answer /_ping within ${ms / 1000} s:\n${tailOf(logFile)}`);
}

async function terminate(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  await settledWithin(exited, ms);
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await settledWithin(exited, 5_000);
  }
}

/** Removes every container, then user networks and volumes: what a daemon's stop must not keep running. */
async function removeAll(socket: string): Promise<void> {
  const list = await api(socket, 'GET', '/containers/json?all=1').catch(() => undefined);
  if (list?.status === 200) {
    for (const c of JSON.parse(list.body.toString()) as { Id: string }[]) {
      await api(socket, 'DELETE', `/containers/${c.Id}?force=1&v=1`, undefined, undefined, 60_000).catch(() => {});
    }
  }
  await api(socket, 'POST', '/networks/prune').catch(() => {});
}

/** Links whose name starts with one of `prefixes` (a private dockerd's bridges and veths). */
async function linksNamed(prefixes: string[]): Promise<string[]> {
  const out = await run('ip', ['-o', 'link'], { okCodes: [0] }).then((r) => r.stdout, () => '');
  return out.split('\n').map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1] ?? '').filter((n) => n && prefixes.some((p) => n.startsWith(p)));
}

/**
 * A dockerd of our own. Its default bridge is made here (dockerd's -b wants one that exists);
 * user networks come from `net.pool`. dockerd 20.10 writes /etc/docker/key.json whatever its
 * roots: removed at stop when it was not there before.
 */
export async function startDockerd(net: PairNet, scratch: string): Promise<DaemonUnderTest> {
  const execRoot = `/run/bcd-${net.tag}`;
  const dataRoot = join(scratch, 'dockerd-data');
  const bridge = `bcd${net.tag}`;
  const cgroupParent = `berth-conf-dockerd-${net.tag}`;
  mkdirSync(execRoot, { recursive: true });
  mkdirSync(dataRoot, { recursive: true });
  const madeKeyJson = !existsSync(KEY_JSON);
  await run('ip', ['link', 'add', bridge, 'type', 'bridge']);
  await run('ip', ['addr', 'add', net.bip, 'dev', bridge]);
  await run('ip', ['link', 'set', bridge, 'up']);
  await run('iptables-restore', ['--noflush', '-w', '5'], { input: `*filter\n${pairForwardRules(net).map((r) => `-I FORWARD ${r}`).join('\n')}\nCOMMIT\n` });
  const socket = join(execRoot, 'docker.sock');
  const logFile = join(scratch, 'dockerd.log');
  const configFile = join(scratch, 'dockerd.json');
  writeFileSync(configFile, `${JSON.stringify({ 'default-address-pools': [{ base: net.pool, size: 24 }] })}\n`);
  const fd = openSync(logFile, 'a');
  const child = spawn('dockerd', [
    '--data-root', dataRoot, '--exec-root', execRoot, '-H', `unix://${socket}`, '--pidfile', join(execRoot, 'docker.pid'),
    '--config-file', configFile, '--bridge', bridge, '--iptables=false', '--ip6tables=false', '--ip-forward=false',
    '--cgroup-parent', cgroupParent,
    '--containerd-namespace', `bcd${net.tag}`, '--containerd-plugins-namespace', `bcd${net.tag}-plugins`,
  ], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.on('error', () => {});
  const cliConfig = join(scratch, 'cli-dockerd');
  mkdirSync(cliConfig, { recursive: true });
  let stopped = false;
  const d: DaemonUnderTest = {
    kind: 'dockerd', socket, dataRoot, execRoot, bridge,
    env: { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: cliConfig, DOCKER_CLI_HINTS: 'false', DOCKER_BUILDKIT: '0' },
    logTail: () => tailOf(logFile, 40),
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) await removeAll(socket);
      await terminate(child, 20_000);
      for (let i = 0; i < 50; i++) {
        const left = ['containerd', 'containerd-shim', 'containerd-shim-runc-v2', 'docker-proxy'].flatMap((c) => processesOf(c, execRoot));
        // docker-proxy's command line names container addresses, not the exec root
        const proxies = processesOf('docker-proxy', `-container-ip ${net.prefix}`);
        if (!left.length && !proxies.length) break;
        if (i >= 10) for (const pid of [...left, ...proxies]) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
        await sleep(100);
      }
      // dockerd's own network namespaces and mounts (its exec root), then its links
      await hardCleanup(dataRoot, execRoot);
      for (const l of await linksNamed([bridge, 'br-'])) {
        // only user-network bridges of this dockerd: they carry an address of its pool
        if (l === bridge) continue;
        const addr = await run('ip', ['-o', 'addr', 'show', 'dev', l], { okCodes: [0, 1] }).then((r) => r.stdout, () => '');
        if (addr.includes(` ${net.pool.split('.').slice(0, 2).join('.')}.`)) await run('ip', ['link', 'del', l], { okCodes: [0, 1, 2] }).catch(() => {});
      }
      await run('ip', ['link', 'del', bridge], { okCodes: [0, 1, 2] }).catch(() => {});
      await removePairForwardRules(net.tag).catch((e) => process.stderr.write(`removing the FORWARD rules of dockerd ${net.tag}: ${e}\n`));
      for (const ctrl of await readdir('/sys/fs/cgroup').catch(() => [] as string[])) {
        const dir = join('/sys/fs/cgroup', ctrl, cgroupParent);
        if (existsSync(dir)) await run('rmdir', [dir], { okCodes: [0, 1] }).catch(() => {});
      }
      if (madeKeyJson) await rm(KEY_JSON, { force: true });
    },
  };
  try {
    await waitUp(child, socket, logFile, 'dockerd', 60_000);
  } catch (e) {
    await d.stop();
    throw e;
  }
  return d;
}

/** A berthd of our own, on the same addresses as the dockerd of the pair. */
export async function startBerthd(net: PairNet, scratch: string): Promise<DaemonUnderTest> {
  const execRoot = `/run/bt-${net.tag}`;
  const dataRoot = join(scratch, 'berthd-data');
  mkdirSync(execRoot, { recursive: true });
  mkdirSync(dataRoot, { recursive: true });
  const bridge = `bt${net.tag}`;
  const socket = join(execRoot, 'd.sock');
  const logFile = join(scratch, 'berthd.log');
  const fd = openSync(logFile, 'a');
  const child = spawn(join(repo, 'bin/berthd'), [
    '--data-root', dataRoot, '--exec-root', execRoot, '-H', `unix://${socket}`, '--pidfile', join(execRoot, 'berthd.pid'),
    '--bridge', bridge, '--bip', net.bip, '--default-address-pool', net.pool,
  ], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.on('error', () => {});
  const cliConfig = join(scratch, 'cli-berthd');
  mkdirSync(cliConfig, { recursive: true });
  const dnet: DaemonNet = { bridge, bip: net.bip, subnetPrefix: net.prefix, pool: net.pool, execRoot };
  let stopped = false;
  const d: DaemonUnderTest = {
    kind: 'berthd', socket, dataRoot, execRoot, bridge,
    env: { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: cliConfig, DOCKER_CLI_HINTS: 'false', DOCKER_BUILDKIT: '0' },
    logTail: () => tailOf(logFile, 40),
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) await removeAll(socket);
      await terminate(child, 15_000);
      await hardCleanup(dataRoot, execRoot, dnet);
    },
  };
  try {
    await waitUp(child, socket, logFile, 'berthd', 20_000);
  } catch (e) {
    await d.stop();
    throw e;
  }
  return d;
}

/** A scratch directory for one run (data roots, logs, CLI configs); the caller removes it. */
export function makeScratch(): string {
  return mkdtempSync('/var/tmp/berth-conformance-');
}

/** Whether Debian's dockerd is installed (scripts/install.sh installs docker.io). */
export function haveDockerd(): boolean {
  return ['/usr/sbin/dockerd', '/usr/bin/dockerd'].some((p) => existsSync(p));
}

