// The OCI runtime's command line (runc 1.1): every call carries Berth's own --root so two
// daemons, or Berth beside Docker, never see each other's containers.
import { run, ExecError } from '../sys/exec.ts';
import { Conflict, NotFound } from '../errors.ts';

export interface RuncState { status: 'created' | 'running' | 'paused' | 'stopped'; pid: number }

export class Runc {
  readonly path: string;
  readonly root: string;
  /** Global flags before --root: `--rootless true` in rootless mode (sys/rootless.ts). */
  private readonly globalArgs: string[];
  /**
   * Whether `kill --all` may be used: runc 1.1 finds "all" processes in the container's cgroup,
   * and a rootless container on cgroup v1 has none (it would fail with "lstat : no such file").
   * There, only init is signalled; its death ends the rest of its pid namespace.
   */
  private readonly killAll: boolean;

  constructor(path: string, root: string, o: { globalArgs?: string[]; killAll?: boolean } = {}) {
    this.path = path;
    this.root = root;
    this.globalArgs = o.globalArgs ?? [];
    this.killAll = o.killAll ?? true;
  }

  private call(args: string[], timeoutMs = 30_000): Promise<{ stdout: string; stderr: string }> {
    return run(this.path, [...this.globalArgs, '--root', this.root, ...args], { timeoutMs });
  }

  async start(id: string): Promise<void> {
    await this.call(['start', id]);
  }

  async kill(id: string, signal: number, all = false): Promise<void> {
    try {
      await this.call(['kill', ...(all && this.killAll ? ['--all'] : []), id, String(signal)]);
    } catch (err) {
      if (err instanceof ExecError && /not running|container not running|process already finished/i.test(err.stderr)) {
        throw new Conflict(`Container ${id} is not running`, { cause: err });
      }
      if (err instanceof ExecError && /does not exist/i.test(err.stderr)) throw new NotFound(`container ${id} does not exist`, { cause: err });
      throw err;
    }
  }

  async pause(id: string): Promise<void> { await this.call(['pause', id]); }

  /** Changes the cgroup limits of a running container (`runc update -r -`: the OCI resources as JSON). */
  async update(id: string, resources: object): Promise<void> {
    await run(this.path, [...this.globalArgs, '--root', this.root, 'update', '-r', '-', id], { input: JSON.stringify(resources) });
  }
  async resume(id: string): Promise<void> { await this.call(['resume', id]); }

  /** Deletes runc's state; a container runc does not know is not an error. */
  async delete(id: string): Promise<void> {
    try {
      await this.call(['delete', '--force', id]);
    } catch (err) {
      if (err instanceof ExecError && /does not exist|not exist/i.test(err.stderr)) return;
      throw err;
    }
  }

  async state(id: string): Promise<RuncState | undefined> {
    try {
      const { stdout } = await this.call(['state', id]);
      const s = JSON.parse(stdout) as { status: RuncState['status']; pid: number };
      return { status: s.status, pid: s.pid };
    } catch (err) {
      if (err instanceof ExecError && /does not exist/i.test(err.stderr)) return undefined;
      throw err;
    }
  }

  async ps(id: string): Promise<number[]> {
    const { stdout } = await this.call(['ps', '--format', 'json', id]);
    return (JSON.parse(stdout) as number[] | null) ?? [];
  }

  async list(): Promise<{ id: string; status: string; pid: number }[]> {
    const { stdout } = await this.call(['list', '--format', 'json']);
    return ((JSON.parse(stdout) as { id: string; status: string; pid: number }[] | null) ?? []);
  }
}
