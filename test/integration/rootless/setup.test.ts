// scripts/rootless-setup.sh as the user who will run rootless berthd: a real non-root user made
// here (home under /tmp) with a subordinate range of its own. `check` reports each prerequisite
// and fails naming the subuid range once it is taken away; as root the script refuses; `install`
// writes the systemd --user unit into the user's home and prints the DOCKER_HOST line. The user,
// its home and its /etc/subuid and /etc/subgid lines are removed afterwards, on failure too; the
// files' other lines are never rewritten, since other tests and tools change them meanwhile.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync, chownSync, chmodSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runCmd, repo, type Result } from '../../helpers/daemon.ts';
import { ensureTunUsable, shadowTool } from '../../helpers/rootless.ts';

const script = join(repo, 'scripts/rootless-setup.sh');
const user = `berthrt${randomBytes(3).toString('hex')}`;
const home = `/tmp/${user}`;
const SUBID_FILES = ['/etc/subuid', '/etc/subgid'];

const skip = process.getuid?.() !== 0 ? 'needs root (it makes a user)'
  : !['/usr/sbin/useradd', '/usr/sbin/userdel', '/usr/sbin/usermod', '/usr/sbin/runuser'].every(existsSync) ? 'needs useradd, userdel, usermod and runuser'
  : false;

/** The user's "start-end" ranges in one of the files, as usermod --add-subuids takes them. */
function rangesOf(file: string): string[] {
  const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n') : [];
  return lines.filter((l) => l.startsWith(`${user}:`)).map((l) => {
    const [, start, count] = l.split(':').map(Number);
    return `${start}-${start! + count! - 1}`;
  });
}

/** A start past every range in both files, so the range given to the user overlaps nobody's. */
function freeStart(): number {
  let top = 100_000;
  for (const f of SUBID_FILES) {
    if (!existsSync(f)) continue;
    for (const l of readFileSync(f, 'utf8').split('\n')) {
      const [, start, count] = l.split(':').map(Number);
      if (Number.isFinite(start) && Number.isFinite(count)) top = Math.max(top, start! + count!);
    }
  }
  return top;
}

describe('scripts/rootless-setup.sh as a non-root user', { skip }, () => {
  let xdg = '';
  let uid = 0;
  const asUser = (args: string[]): Promise<Result> =>
    runCmd('runuser', ['-u', user, '--', 'env', `XDG_RUNTIME_DIR=${xdg}`, `HOME=${home}`, 'bash', script, ...args], { timeoutMs: 20_000 });

  before(async () => {
    ensureTunUsable();
    const made = await shadowTool('useradd', ['--create-home', '--home-dir', home, '--shell', '/bin/bash', user]);
    assert.equal(made.code, 0, `useradd: ${made.stderr}`);
    uid = Number((await runCmd('id', ['-u', user])).stdout.trim());
    // useradd gives a new user a range itself where login.defs says so; otherwise one is added.
    if (rangesOf('/etc/subuid').length === 0 || rangesOf('/etc/subgid').length === 0) {
      const s = freeStart();
      const r = await shadowTool('usermod', ['--add-subuids', `${s}-${s + 65535}`, '--add-subgids', `${s}-${s + 65535}`, user]);
      assert.equal(r.code, 0, `usermod: ${r.stderr}`);
    }
    // Its runtime dir, as pam_systemd would make /run/user/UID: its own, mode 0700.
    xdg = mkdtempSync('/tmp/berth-rt-xdg-');
    chownSync(xdg, uid, uid);
    chmodSync(xdg, 0o700);
  });

  after(async () => {
    // userdel -r takes the home, the mail spool and (shadow 4.x) the user's subordinate ranges.
    const del = await shadowTool('userdel', ['--remove', user]);
    if (del.code !== 0 && !/does not exist/.test(del.stderr)) console.error(`userdel ${user}: ${del.stderr.trim()}`);
    // Whatever userdel left of the user's lines goes; only those lines are touched.
    for (const f of SUBID_FILES) {
      if (!existsSync(f)) continue;
      const text = readFileSync(f, 'utf8');
      const kept = text.split('\n').filter((l) => !l.startsWith(`${user}:`)).join('\n');
      if (kept !== text) writeFileSync(f, kept);
    }
    await rm(home, { recursive: true, force: true });
    if (xdg) await rm(xdg, { recursive: true, force: true });
  });

  it('check passes and reports the subordinate ranges, newuidmap and the kernel, one line each', async () => {
    const r = await asUser(['check']);
    assert.equal(r.code, 0, `check failed:\n${r.stdout}${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^\\[ok\\]   subuid: ${user} has \\d+ subordinate UIDs \\(\\d+\\+\\d+\\) in /etc/subuid$`, 'm'));
    assert.match(r.stdout, new RegExp(`^\\[ok\\]   subgid: ${user} has \\d+ subordinate GIDs .* in /etc/subgid$`, 'm'));
    assert.match(r.stdout, /^\[ok\] {3}newuidmap: \S+ (is setuid root|has cap_setuid)$/m);
    assert.match(r.stdout, /^\[ok\] {3}newgidmap: \S+ (is setuid root|has cap_setgid)$/m);
    assert.match(r.stdout, /^\[ok\] {3}kernel: \S+ /m);
    assert.match(r.stdout, /^\[ok\] {3}nsenter: \S+ /m);
    assert.match(r.stdout, new RegExp(`^\\[ok\\]   /dev/net/tun: usable by ${user}$`, 'm'));
    assert.match(r.stdout, new RegExp(`^\\[ok\\]   XDG_RUNTIME_DIR: ${xdg} `, 'm'));
    // cgroup v1 here: not required, but said.
    assert.match(r.stdout, /^\[(ok|warn)\] +cgroup: /m);
    // RootlessKit ran as the user and mapped the subordinate range (at least 65536 IDs) besides the user's own.
    const mapped = Number(/^\[ok\] {3}rootlesskit: made a user namespace with (\d+) IDs mapped/m.exec(r.stdout)?.[1]);
    assert.ok(mapped >= 65537, r.stdout);
    assert.match(r.stdout, new RegExp(`^rootless berthd's prerequisites hold for ${user}$`, 'm'));
    assert.doesNotMatch(r.stdout, /\[FAIL\]/);
  });

  it('install writes the systemd --user unit into the home and prints the DOCKER_HOST line; uninstall removes it', async () => {
    const r = await asUser(['install']);
    assert.equal(r.code, 0, `install failed:\n${r.stdout}${r.stderr}`);
    const unit = join(home, '.config/systemd/user/berthd-rootless.service');
    assert.ok(existsSync(unit), r.stdout);
    assert.equal(statSync(unit).uid, uid, 'the unit belongs to the user');
    const text = readFileSync(unit, 'utf8');
    assert.match(text, new RegExp(`^ExecStart=${join(repo, 'bin/berthd-rootless')}$`, 'm'));
    assert.match(text, /^WantedBy=default\.target$/m);
    assert.match(r.stdout, new RegExp(`^export DOCKER_HOST=unix://${xdg}/berth/berth\\.sock$`, 'm'));
    // No user manager runs for a user made a moment ago: the reload is skipped, and said.
    assert.match(r.stdout, /daemon-reload/);
    if (!existsSync(join(repo, 'bin/berthd-rootless'))) assert.match(r.stdout, /does not exist yet/);

    const u = await asUser(['uninstall']);
    assert.equal(u.code, 0, u.stderr);
    assert.ok(!existsSync(unit), u.stdout);
    assert.match(u.stdout, /^removed .*berthd-rootless\.service$/m);
  });

  it('without a subuid range, check fails naming it and the fix, and install writes nothing', async () => {
    for (const range of rangesOf('/etc/subuid')) {
      const r = await runCmd('usermod', ['--del-subuids', range, user]);
      assert.equal(r.code, 0, `usermod --del-subuids: ${r.stderr}`);
    }
    assert.deepEqual(rangesOf('/etc/subuid'), []);
    const r = await asUser(['check']);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, new RegExp(`^\\[FAIL\\] subuid: ${user} has no subordinate UID range in /etc/subuid`, 'm'));
    assert.match(r.stdout, new RegExp(`^ {7}fix: as root: usermod --add-subuids \\d+-\\d+ ${user}$`, 'm'));
    assert.match(r.stdout, /^\[ok\] {3}subgid: /m, 'the gid range is still there');
    const i = await asUser(['install']);
    assert.equal(i.code, 1, i.stdout);
    assert.ok(!existsSync(join(home, '.config/systemd/user/berthd-rootless.service')));
  });

  it('without XDG_RUNTIME_DIR, check fails naming it (su and sudo do not set it)', async () => {
    const r = await runCmd('runuser', ['-u', user, '--', 'env', '-u', 'XDG_RUNTIME_DIR', `HOME=${home}`, 'bash', script, 'check'], { timeoutMs: 20_000 });
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /^\[FAIL\] XDG_RUNTIME_DIR: not set /m);
    assert.match(r.stdout, new RegExp(`loginctl enable-linger ${user}, then export XDG_RUNTIME_DIR=/run/user/${uid}$`, 'm'));
  });

  it('as root it refuses and says whom to run it as', async () => {
    const r = await runCmd('bash', [script, 'check']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^rootless-setup\.sh: refusing to run as root: run it as the user who will run berthd$/m);
  });
});
