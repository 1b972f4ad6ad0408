// Quarantine: what a store finds inconsistent at start-up (a metadata file that does not parse,
// an image whose config is empty or whose layers are gone) is moved aside, never deleted, and
// reported — in the log, in a report.json beside it, and in `docker info`'s Warnings for as long
// as the quarantine directory is there. An operator can look at it, recover from it, or remove it.
//
//   <data-root>/quarantine/<UTC time>/<path relative to the data root>   what was moved
//   <data-root>/quarantine/<UTC time>/report.json                        [{path, reason}]
//
// Moves are renames within the data root's filesystem, so quarantining a big layer is cheap.
import { mkdir, readdir, readFile, rename } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { atomicWriteJson } from './atomic-write.ts';
import type { Logger } from './log.ts';

export interface QuarantineEntry { path: string; reason: string }

export class Quarantine {
  readonly dir: string;
  readonly entries: QuarantineEntry[] = [];
  private readonly dataRoot: string;
  private readonly log: Logger;

  constructor(dataRoot: string, log: Logger, now = new Date()) {
    this.dataRoot = dataRoot;
    this.log = log;
    this.dir = join(dataRoot, 'quarantine', now.toISOString().replace(/[:.]/g, '-'));
  }

  /** Moves path (under the data root) aside, keeping its relative path, and records why. */
  async move(path: string, reason: string): Promise<void> {
    const rel = relative(this.dataRoot, path);
    if (rel.startsWith('..')) throw new Error(`quarantine: ${path} is outside ${this.dataRoot}`);
    const dest = join(this.dir, rel);
    await mkdir(dirname(dest), { recursive: true, mode: 0o700 });
    await rename(path, dest);
    this.entries.push({ path: rel, reason });
    this.log.warn({ path: rel, reason, quarantine: this.dir }, 'moved an inconsistent item to quarantine');
  }

  /** Notes something that was dropped with nothing to move (a tag whose image went to quarantine). */
  note(path: string, reason: string): void {
    this.entries.push({ path, reason });
    this.log.warn({ path, reason, quarantine: this.dir }, 'inconsistent item dropped');
  }

  /** Writes report.json (durably) when anything was quarantined. */
  async finish(): Promise<void> {
    if (this.entries.length === 0) return;
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await atomicWriteJson(join(this.dir, 'report.json'), this.entries);
  }
}

/**
 * One warning per quarantine directory still on disk, for `docker info`: it stays until an
 * operator removes the directory.
 */
export async function quarantineWarnings(dataRoot: string): Promise<string[]> {
  const root = join(dataRoot, 'quarantine');
  const out: string[] = [];
  for (const name of (await readdir(root).catch(() => [] as string[])).sort()) {
    const dir = join(root, name);
    const entries = await readFile(join(dir, 'report.json'), 'utf8').then((t) => JSON.parse(t) as QuarantineEntry[], () => undefined);
    const what = entries?.length
      ? `${entries.length} inconsistent item(s): ${entries.slice(0, 5).map((e) => `${e.path} (${e.reason})`).join('; ')}${entries.length > 5 ? '; …' : ''}`
      : 'inconsistent items';
    out.push(`WARNING: berthd found ${what} at start-up and moved them to ${dir}; see report.json there, then remove the directory`);
  }
  return out;
}
