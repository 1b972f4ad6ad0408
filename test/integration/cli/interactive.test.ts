// berth run -it, attach and exec -it on a real terminal (a tmux pane): the shell's prompt and
// output, the terminal size and its changes, ctrl-p ctrl-q detaching, attaching again and the exit
// statuses. The same steps run with the real Docker CLI in a second pane against the same berthd,
// so what is expected here is what docker does.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon, makeBusybox, repo, sleep } from '../../helpers/daemon.ts';

// Our own tmux server: never the user's or another test's sessions.
const SOCKET = `berth-it-${process.pid}-${randomBytes(3).toString('hex')}`;

function tmux(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('tmux', ['-L', SOCKET, '-f', '/dev/null', ...args], { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`tmux ${args.join(' ')}: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

/** One tmux session running a plain bash whose CLI talks to the test daemon. */
class Pane {
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }

  async open(env: Record<string, string>): Promise<void> {
    const vars = Object.entries(env).map(([k, v]) => `${k}='${v}'`).join(' ');
    await tmux('new-session', '-d', '-s', this.name, '-x', '80', '-y', '24', `env -i ${vars} bash --norc --noprofile`);
    await this.waitFor(/^\$ ?$/m, 'the shell prompt');
  }

  /** Types a line (literally) and presses Enter. */
  async type(line: string): Promise<void> {
    await tmux('send-keys', '-t', this.name, '-l', line);
    await tmux('send-keys', '-t', this.name, 'Enter');
  }

  keys(...keys: string[]): Promise<string> {
    return tmux('send-keys', '-t', this.name, ...keys);
  }

  capture(): Promise<string> {
    return tmux('capture-pane', '-p', '-t', this.name);
  }

  /** Polls the pane until `re` matches (bounded); the failure shows the pane. */
  async waitFor(re: RegExp, what: string, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    let text = '';
    while (Date.now() < deadline) {
      text = await this.capture();
      const m = re.exec(text);
      if (m) return m;
      await sleep(100);
    }
    throw new Error(`${this.name}: timed out waiting for ${what} (${re}); the pane shows:\n${text}`);
  }

  /** The status of the last command, read with a marker no earlier output contains. */
  async status(marker: string): Promise<number> {
    // The local shell's prompt first: the Docker CLI's stdin reader takes keys typed before it exits.
    await this.waitFor(/\$ ?\n*$/, 'the local shell prompt');
    await this.type(`echo "${marker}=$?"`);
    return Number((await this.waitFor(new RegExp(`^${marker}=(\\d+)$`, 'm'), `${marker}`))[1]);
  }

  /** Runs `stty size` in the container's shell until it shows `want` (bounded). */
  async sizeBecomes(want: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.type('stty size');
      const shown = await this.waitFor(/\n(.*)\n\/ # ?\n*$/, 'stty\'s answer').then((m) => m[1]);
      if (shown === want) return;
      if (Date.now() > deadline) assert.fail(`the size stayed ${shown}, not ${want}`);
      await sleep(200);
    }
  }

  resize(w: number, h: number): Promise<string> {
    return tmux('resize-window', '-t', this.name, '-x', String(w), '-y', String(h));
  }
}

describe('interactive run, attach and exec on a terminal (tmux)', () => {
  const d = new TestDaemon();
  const state = async (name: string): Promise<{ Running: boolean; ExitCode: number }> =>
    (await d.api('GET', `/containers/${name}/json`)).json().State;

  before(async () => {
    await d.start();
    await makeBusybox(d);
  });
  after(async () => {
    await tmux('kill-server').catch(() => {});
    // tmux leaves its socket file behind when the server is killed
    rmSync(join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${process.getuid!()}`, SOCKET), { force: true });
    await d.cleanup();
  });

  // The steps, for one CLI: its command is `cli`, its containers are suffixed with `tag`.
  const flow = async (cli: string, tag: string): Promise<void> => {
    const p = new Pane(`it-${tag}`);
    await p.open({
      PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/root', TERM: 'xterm', PS1: '$ ',
      DOCKER_HOST: `unix://${d.socket}`, DOCKER_CONFIG: d.env.DOCKER_CONFIG!, DOCKER_CLI_HINTS: 'false',
    });
    const sh = `sh-${tag}`;

    // run -it: a shell on the pane's terminal, sized like it, following its resizes.
    await p.type(`${cli} run -it --name ${sh} busybox sh`);
    await p.waitFor(/^\/ # ?$/m, 'the container shell prompt');
    await p.type('echo $((6*7))');
    await p.waitFor(/^42$/m, 'the shell arithmetic');
    await p.type('stty size');
    await p.waitFor(/^24 80$/m, 'the initial size');
    await p.resize(100, 30);
    // The new size travels SIGWINCH → client → daemon → pty: asked again until it has arrived.
    await p.sizeBecomes('30 100');

    // ctrl-p ctrl-q: the client exits 0 and the container keeps running.
    await p.keys('C-p', 'C-q');
    assert.equal(await p.status('detached'), 0);
    assert.equal((await state(sh)).Running, true);

    // attach again: the same shell; detaching from attach is docker's "read escape sequence", 1.
    await p.type('clear');
    await p.type(`${cli} attach ${sh}`);
    await p.waitFor(/^\/ # ?$/m, 'the prompt redrawn on attach');
    await p.type('echo attached-$((1+1))');
    await p.waitFor(/^attached-2$/m, 'output after attaching');
    await p.keys('C-p', 'C-q');
    await p.waitFor(/read escape sequence$/m, 'the escape message');
    assert.equal(await p.status('attachdetached'), 1);
    assert.equal((await state(sh)).Running, true);

    // attach once more and end the shell: attach exits with its status.
    await p.type('clear');
    await p.type(`${cli} attach ${sh}`);
    await p.waitFor(/^\/ # ?$/m, 'the prompt on the second attach');
    await p.type('exit 5');
    assert.equal(await p.status('attachexit'), 5);
    assert.deepEqual({ ...(await state(sh)) }.ExitCode, 5);

    // exec -it into a running container: a shell of its own at the pane's current size.
    const bg = `bg-${tag}`;
    await p.type('clear');
    await p.type(`${cli} run -dit --name ${bg} busybox sh`);
    await p.waitFor(/^[0-9a-f]{64}$/m, 'the ID');
    await p.type(`${cli} exec -it ${bg} sh`);
    await p.waitFor(/^\/ # ?$/m, 'the exec shell prompt');
    await p.type('echo exec-$((3*3))');
    await p.waitFor(/^exec-9$/m, 'the exec output');
    // The Docker CLI sends the size after the exec started: it may not be there for the first stty.
    await p.sizeBecomes('30 100');
    await p.type('exit 3');
    assert.equal(await p.status('execexit'), 3);
    assert.equal((await state(bg)).Running, true, 'the exec ended, not the container');

    // --detach-keys: ctrl-a d leaves an exec as the default keys leave attach.
    await p.type('clear');
    await p.type(`${cli} exec -it --detach-keys ctrl-a,d ${bg} sh`);
    await p.waitFor(/^\/ # ?$/m, 'the second exec shell prompt');
    await p.keys('C-a', 'd');
    await p.waitFor(/read escape sequence$/m, 'the escape message of exec');
    assert.equal(await p.status('execdetached'), 1);
  };

  it('berth: run -it, resize, detach, attach, exit status, exec -it', async () => {
    await flow(join(repo, 'bin/berth'), 'berth');
  });

  it('the Docker CLI does the same against berthd', async () => {
    await flow('/usr/local/bin/docker', 'docker');
  });
});
