// A model of what survives a power cut, fed by a recording DurableIo (src/util/durable.ts) that
// also does the real work in a scratch directory. Rules (POSIX fsync(2), ext4/xfs practice):
//   - a file's data is durable once it is fsynced (writeFile with sync, fsyncFile) or the
//     filesystem is synced (syncFs); a rename moves the file's state with it;
//   - a name (a rename's target) is durable once its directory is fsynced, or after syncFs;
//   - a path is durable when its data and its name are, and so is every ancestor's name that the
//     model saw made (directories made outside the io, by mkdir, are taken as durable: the model
//     judges the order of content and the metadata that names it, not mkdir).
// Before each rename that publishes a metadata file, `onPublish` may check that what the file
// names is durable at that instant — had the power gone right after the rename, the file could
// survive, so everything it names must already be on disk.
import { dirname, relative } from 'node:path';
import { nodeIo, type DurableIo } from '../../src/util/durable.ts';

export interface Op { op: 'write' | 'fsync' | 'fsyncDir' | 'rename' | 'syncfs'; path: string; to?: string; sync?: boolean }

export class PowerCutModel {
  readonly ops: Op[] = [];
  readonly violations: string[] = [];
  private dataSynced = new Map<string, boolean>();
  private nameDurable = new Map<string, boolean>();
  private readonly root: string;
  /** Called before a rename makes `to` visible; returns what it finds wrong. */
  onPublish: (to: string, from: string, model: PowerCutModel) => Promise<string[]> = async () => [];

  constructor(root: string) { this.root = root; }

  rel(p: string): string { return relative(this.root, p); }

  /** Would `path` read back complete after a power cut now? */
  durable(path: string): boolean {
    if (this.dataSynced.get(path) !== true) return false;
    for (let p = path; p.startsWith(this.root) && p !== this.root; p = dirname(p)) {
      if (this.nameDurable.get(p) === false) return false;
    }
    return true;
  }

  /** Why `path` is not durable, for messages. */
  why(path: string): string {
    if (this.dataSynced.get(path) !== true) return `${this.rel(path)}: data not fsynced`;
    for (let p = path; p.startsWith(this.root) && p !== this.root; p = dirname(p)) {
      if (this.nameDurable.get(p) === false) return `${this.rel(path)}: directory entry ${this.rel(p)} not fsynced`;
    }
    return `${this.rel(path)}: durable`;
  }

  /** A DurableIo that records into this model and then does the real operation (syncFs: none needed in a test). */
  io(): Required<DurableIo> {
    return {
      writeFile: async (path, data, mode, sync) => {
        this.ops.push({ op: 'write', path, sync });
        await nodeIo.writeFile(path, data, mode, sync);
        this.dataSynced.set(path, sync);
        this.nameDurable.set(path, false);
      },
      fsyncFile: async (path) => {
        this.ops.push({ op: 'fsync', path });
        await nodeIo.fsyncFile(path);
        this.dataSynced.set(path, true);
      },
      fsyncDir: async (path) => {
        this.ops.push({ op: 'fsyncDir', path });
        await nodeIo.fsyncDir(path);
        for (const k of this.nameDurable.keys()) if (dirname(k) === path) this.nameDurable.set(k, true);
      },
      rename: async (from, to) => {
        this.ops.push({ op: 'rename', path: from, to });
        this.violations.push(...(await this.onPublish(to, from, this)));
        await nodeIo.rename(from, to);
        // The file (or tree) keeps its data state; its old name and everything under it move.
        for (const m of [this.dataSynced, this.nameDurable]) {
          for (const [k, v] of [...m]) {
            if (k === from || k.startsWith(`${from}/`)) { m.delete(k); m.set(to + k.slice(from.length), v); }
          }
        }
        // A file written by a stream the model never saw: its data counts as not synced.
        if (!this.dataSynced.has(to)) this.dataSynced.set(to, false);
        this.nameDurable.set(to, false);
      },
      syncFs: async (path) => {
        this.ops.push({ op: 'syncfs', path });
        for (const k of this.dataSynced.keys()) this.dataSynced.set(k, true);
        for (const k of this.nameDurable.keys()) this.nameDurable.set(k, true);
      },
    };
  }
}
