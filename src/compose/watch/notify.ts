// Follows file changes under the watched host paths and reports each changed path (absolute).
// A directory is followed recursively with fs.watch({recursive: true}) (on Linux, Node keeps one
// inotify watch per directory and adds new subdirectories as they appear). A single file is
// followed through its parent directory, not its own inode: editors save by writing a new file and
// renaming it over the old one, which would end a watch on the file itself. Paths already inside
// another followed directory are not followed twice (Compose's EncompassingPaths).
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { relativeUnder } from './path-matcher.ts';

export interface Notifier {
  close(): void;
}

/**
 * Starts following `paths` (which must exist). `onChange` gets every changed path; `onError` a
 * watcher's failure (inotify limits, a followed directory removed), after which that watcher ends.
 */
export async function followPaths(paths: readonly string[], onChange: (path: string) => void, onError: (err: Error) => void): Promise<Notifier> {
  const dirs: string[] = [];
  const files: string[] = [];
  for (const p of paths) ((await stat(p)).isDirectory() ? dirs : files).push(p);
  const unique = [...new Set(dirs)];
  const roots = unique.filter((d) => !unique.some((o) => o !== d && relativeUnder(o, d) !== undefined));
  const lone = files.filter((f) => !roots.some((d) => relativeUnder(d, f) !== undefined));

  const watchers: FSWatcher[] = [];
  const close = (): void => {
    for (const w of watchers) w.close();
    watchers.length = 0;
  };
  try {
    for (const dir of roots) {
      const w = watch(dir, { recursive: true }, (_event, name) => {
        // no name: the kernel dropped events (queue overflow); nothing precise to sync
        if (name !== null) onChange(join(dir, name.toString()));
      });
      w.on('error', onError);
      watchers.push(w);
    }
    // one watcher per parent directory, reporting only the files asked for in it
    const byParent = new Map<string, Set<string>>();
    for (const f of lone) {
      const set = byParent.get(dirname(f)) ?? new Set<string>();
      set.add(basename(f));
      byParent.set(dirname(f), set);
    }
    for (const [dir, names] of byParent) {
      const w = watch(dir, (_event, name) => {
        if (name !== null && names.has(name.toString())) onChange(join(dir, name.toString()));
      });
      w.on('error', onError);
      watchers.push(w);
    }
  } catch (err) {
    close();
    throw err;
  }
  return { close };
}
