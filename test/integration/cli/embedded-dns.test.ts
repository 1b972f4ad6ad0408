// The embedded DNS at 127.0.0.11 inside user-network containers, through the real Docker CLI:
// forwarding of names it does not know to the container's --dns server (a fake DNS server the
// test runs in a network namespace of its own, behind a veth pair: no traffic leaves the host),
// port 53 left free for the container, and nothing left behind when containers go (berthd's
// sockets in their namespaces are closed: each would keep a namespace alive).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync, writeFileSync, rmSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes, randomInt } from 'node:crypto';
import { TestDaemon, makeBusybox, runCmd, until, sleep, ok, repo } from '../../helpers/daemon.ts';

/** A DNS server: A fwd.test → 192.0.2.77, TXT fwd.test → "from-upstream", NXDOMAIN for the rest; counts what it saw. */
const FAKE_DNS = `
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
const s = dgram.createSocket('udp4');
s.on('message', (msg, r) => {
  let q; try { q = dnsPacket.decode(msg); } catch { return; }
  const qq = q.questions[0];
  process.stdout.write('asked ' + qq.type + ' ' + qq.name + '\\n');
  const known = qq.name.toLowerCase() === 'fwd.test';
  const answers = !known ? [] : qq.type === 'A' ? [{ type: 'A', name: qq.name, ttl: 30, data: '192.0.2.77' }]
    : qq.type === 'TXT' ? [{ type: 'TXT', name: qq.name, ttl: 30, data: ['from-upstream'] }] : [];
  s.send(dnsPacket.encode({ type: 'response', id: q.id, flags: 0x8180 | (known ? 0 : 3), questions: q.questions, answers }), r.port, r.address);
});
s.bind(53, process.argv[2], () => process.stdout.write('ready\\n'));
`;

describe('embedded DNS at 127.0.0.11', () => {
  const d = new TestDaemon();
  const docker = (args: string[], timeoutMs?: number): Promise<string> => ok(d.docker(args, { timeoutMs }));
  const tag = randomBytes(3).toString('hex');
  const ns = `edns-${tag}`;
  const hostIf = `ed${tag}`;
  // A /30 in 198.18.0.0/15 (benchmarking range): the host end .1, the fake server .2.
  const third = randomInt(0, 256);
  const hostAddr = `198.18.${third}.1`;
  const dnsAddr = `198.18.${third}.2`;
  let fake: ChildProcess | undefined;
  let fakeOut = '';
  let scriptDir = '';

  before(async () => {
    await d.start();
    await makeBusybox(d);
    await docker(['network', 'create', 'ednet']);
    await ok(runCmd('ip', ['netns', 'add', ns]));
    await ok(runCmd('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]));
    await ok(runCmd('ip', ['addr', 'add', `${hostAddr}/30`, 'dev', hostIf]));
    await ok(runCmd('ip', ['link', 'set', hostIf, 'up']));
    await ok(runCmd('ip', ['-n', ns, 'addr', 'add', `${dnsAddr}/30`, 'dev', 'eth0']));
    await ok(runCmd('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']));
    await ok(runCmd('ip', ['-n', ns, 'link', 'set', 'lo', 'up']));
    // The script imports dns-packet from the repository's node_modules.
    scriptDir = mkdtempSync(join(repo, 'test', '.edns-'));
    writeFileSync(join(scriptDir, 'fake-dns.mjs'), FAKE_DNS);
    fake = spawn('ip', ['netns', 'exec', ns, process.execPath, join(scriptDir, 'fake-dns.mjs'), dnsAddr], { stdio: ['ignore', 'pipe', 'inherit'] });
    fake.stdout!.on('data', (b: Buffer) => { fakeOut += b.toString(); });
    await until(async () => fakeOut.includes('ready'), 10_000, 'the fake DNS server');
  });

  after(async () => {
    fake?.kill('SIGKILL');
    await d.cleanup();
    await runCmd('ip', ['netns', 'del', ns]);
    await runCmd('ip', ['link', 'del', hostIf]);
    if (scriptDir) rmSync(scriptDir, { recursive: true, force: true });
  });

  it('names it does not know go to the --dns server; its own names never do', async () => {
    await docker(['run', '-d', '--name', 'ed-web', '--network', 'ednet', 'busybox', 'sleep', '300']);
    await docker(['run', '-d', '--name', 'ed-cli', '--network', 'ednet', '--dns', dnsAddr, 'busybox', 'sleep', '300']);
    assert.equal(await docker(['exec', 'ed-cli', 'cat', '/etc/resolv.conf']), 'nameserver 127.0.0.11\noptions ndots:0\n');
    const a = await docker(['exec', 'ed-cli', 'nslookup', '-type=a', 'fwd.test']);
    assert.match(a, /Name:\s+fwd\.test\nAddress: 192\.0\.2\.77/);
    const txt = await docker(['exec', 'ed-cli', 'nslookup', '-type=txt', 'fwd.test']);
    assert.match(txt, /from-upstream/);
    const nx = await d.docker(['exec', 'ed-cli', 'nslookup', '-type=a', 'nosuch.test']);
    assert.notEqual(nx.code, 0);
    assert.match(nx.stdout + nx.stderr, /NXDOMAIN/);
    // Its own names: answered by berthd, the upstream never hears of them.
    const ip = (await docker(['inspect', '-f', '{{.NetworkSettings.Networks.ednet.IPAddress}}', 'ed-web'])).trim();
    assert.match(await docker(['exec', 'ed-cli', 'nslookup', '-type=a', 'ed-web']), new RegExp(`Address: ${ip.replace(/\./g, '\\.')}\\n`));
    assert.match(await docker(['exec', 'ed-cli', 'nslookup', '-type=aaaa', 'ed-web']), /Non-authoritative answer:\n\n?$/);
    assert.match(fakeOut, /asked A fwd\.test/);
    assert.match(fakeOut, /asked TXT fwd\.test/);
    assert.match(fakeOut, /asked A nosuch\.test/);
    assert.doesNotMatch(fakeOut, /ed-web/i);
    // Without --dns the host's resolvers are the upstreams: not asked here (no traffic off the host).
    await docker(['rm', '-f', 'ed-web', 'ed-cli']);
  });

  it('port 53 stays free for the container: its own server binds it, and 127.0.0.11 still answers', async () => {
    await docker(['run', '-d', '--name', 'ed-own', '--network', 'ednet', 'busybox', 'sh', '-c', 'nc -l -p 53 & sleep 300']);
    const out = await docker(['exec', 'ed-own', 'sh', '-c', 'sleep 0.3; netstat -lnt; nslookup -type=a ed-own']);
    // busybox nc listens on the dual-stack wildcard: it would fail if anything held port 53.
    assert.match(out, /(0\.0\.0\.0|::):53\s.*LISTEN/);
    assert.match(out, /Name:\s+ed-own/);
    await docker(['rm', '-f', 'ed-own']);
  });

  it('its sockets go with the container: berthd holds none after removal, and DNS still works for new ones', async () => {
    const pid = Number(readFileSync(join(d.execRoot, 'berthd.pid'), 'utf8').trim());
    const sockets = (): number => readdirSync(`/proc/${pid}/fd`).filter((f) => {
      try { return readlinkSync(`/proc/${pid}/fd/${f}`).startsWith('socket:'); } catch { return false; }
    }).length;
    // Which of berthd's sockets live in a container's namespace: the socket inodes of berthd's fds
    // that the namespace's own /proc/<pid>/net tables list. (A plain count of berthd's sockets is
    // moved by API connections closing meanwhile.)
    const heldIn = (cpid: number): string[] => {
      const mine = new Set(readdirSync(`/proc/${pid}/fd`).map((f) => {
        try { return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${f}`))?.[1]; } catch { return undefined; }
      }).filter((x): x is string => x !== undefined));
      const inNs: string[] = [];
      for (const t of ['udp', 'tcp', 'udp6', 'tcp6']) {
        let table = '';
        try { table = readFileSync(`/proc/${cpid}/net/${t}`, 'utf8'); } catch { continue; }
        for (const line of table.split('\n').slice(1)) {
          const inode = line.trim().split(/\s+/)[9];
          if (inode && mine.has(inode)) inNs.push(inode);
        }
      }
      return inNs;
    };
    await sleep(200);
    const base = sockets();
    const held: string[] = [];
    for (const n of ['ed-a', 'ed-b', 'ed-c']) {
      await docker(['run', '-d', '--name', n, '--network', 'ednet', 'busybox', 'sleep', '300']);
      const cpid = Number((await docker(['inspect', '-f', '{{.State.Pid}}', n])).trim());
      const inNs = heldIn(cpid);
      assert.ok(inNs.length >= 2, `${n}: berthd holds its UDP socket and TCP listener in the container's namespace (${inNs.length})`);
      held.push(...inNs);
    }
    assert.match(await docker(['exec', 'ed-a', 'nslookup', '-type=a', 'ed-c']), /Name:\s+ed-c/);
    await docker(['rm', '-f', 'ed-a', 'ed-b', 'ed-c']);
    const stillHeld = (): string[] => {
      const now = new Set(readdirSync(`/proc/${pid}/fd`).map((f) => { try { return readlinkSync(`/proc/${pid}/fd/${f}`); } catch { return ''; } }));
      return held.filter((i) => now.has(`socket:[${i}]`));
    };
    await until(async () => stillHeld().length === 0, 10_000, `berthd let go of the removed containers' DNS sockets (still ${stillHeld().length})`);
    await until(async () => sockets() <= base, 10_000, `berthd's sockets back to ${base} (now ${sockets()})`);
    // --rm containers: started and gone, nothing held.
    for (let i = 0; i < 3; i++) {
      assert.match(await docker(['run', '--rm', '--name', `ed-rm${i}`, '--network', 'ednet', 'busybox', 'nslookup', '-type=a', `ed-rm${i}`]), new RegExp(`Name:\\s+ed-rm${i}`));
    }
    await until(async () => sockets() <= base, 10_000, `berthd's sockets back to ${base} after --rm runs (now ${sockets()})`);
  });
});
