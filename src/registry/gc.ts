// Mark and sweep over the storage layout of storage.ts, as the CNCF registry's
// `garbage-collect`: mark every blob a manifest of any repository references (the manifest's own
// bytes, its config and layers, an index's children and theirs — untagged manifests included,
// since clients pull by digest), then remove the blobs nothing marked, the repository links to
// them, and uploads nobody touched for a while. Run it while nothing is being pushed: a blob
// uploaded for a manifest that is not pushed yet looks unreferenced (the CNCF registry has the
// same rule and asks for read-only mode).
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RegistryStorage } from './storage.ts';
import { fsyncDir } from '../util/atomic-write.ts';

export interface GcOptions {
  dryRun?: boolean;
  /** Also drop manifests no tag reaches (directly or as an index child), and then their blobs. */
  deleteUntagged?: boolean;
  /** Uploads whose data did not change for this long are stale (default one hour). */
  uploadMaxAgeMs?: number;
}

export interface GcResult {
  /** `sha256:<hex>` for blobs, `<repo>@sha256:<hex>` for untagged manifests, `upload:<uuid>` for uploads. */
  removed: string[];
  /** Bytes freed (or that would be freed, with dryRun). */
  bytes: number;
}

const HEX = /^[a-f0-9]{64}$/;
const list = async (dir: string): Promise<string[]> => readdir(dir).catch(() => [] as string[]);

interface Refs { children: string[]; blobs: string[]; subject?: string }

async function refsOf(root: string, digest: string): Promise<Refs | undefined> {
  try {
    const doc = JSON.parse(await readFile(join(root, 'blobs', 'sha256', digest.slice(7)), 'utf8')) as {
      manifests?: { digest?: string }[]; config?: { digest?: string }; layers?: { digest?: string }[]; subject?: { digest?: string };
    };
    const ds = (xs: ({ digest?: string } | undefined)[] | undefined): string[] =>
      (xs ?? []).map((x) => x?.digest).filter((d): d is string => typeof d === 'string' && /^sha256:[a-f0-9]{64}$/.test(d));
    return { children: ds(doc.manifests), blobs: ds([doc.config, ...(doc.layers ?? [])]), subject: ds([doc.subject])[0] };
  } catch {
    return undefined;
  }
}

export async function collectGarbage(root: string, opts: GcOptions = {}): Promise<GcResult> {
  const st = new RegistryStorage(root);
  const removed: string[] = [];
  let bytes = 0;
  const marked = new Set<string>();

  const mark = async (digest: string, seen: Set<string>): Promise<void> => {
    if (seen.has(digest)) return;
    seen.add(digest);
    marked.add(digest.slice(7));
    const refs = await refsOf(root, digest);
    if (!refs) return;
    for (const b of refs.blobs) marked.add(b.slice(7));
    for (const c of refs.children) await mark(c, seen);
  };

  for (const repo of await st.catalog()) {
    const revDir = join(st.repoDir(repo), '_manifests', 'revisions', 'sha256');
    let revisions = (await list(revDir)).filter((h) => HEX.test(h)).map((h) => `sha256:${h}`);
    if (opts.deleteUntagged) {
      const keep = new Set<string>();
      const reach = async (d: string): Promise<void> => {
        if (keep.has(d)) return;
        keep.add(d);
        for (const c of (await refsOf(root, d))?.children ?? []) await reach(c);
      };
      for (const tag of await st.tags(repo)) await reach(await st.resolve(repo, { tag }).catch(() => ''));
      // Referrers (signatures, SBOMs) of a kept manifest stay with it.
      let grew = true;
      while (grew) {
        grew = false;
        for (const d of revisions) {
          if (keep.has(d)) continue;
          const subject = (await refsOf(root, d))?.subject;
          if (subject && keep.has(subject)) { await reach(d); grew = true; }
        }
      }
      for (const d of revisions.filter((r) => !keep.has(r))) {
        removed.push(`${repo}@${d}`);
        if (!opts.dryRun) await st.deleteManifest(repo, d).catch(() => rm(join(revDir, d.slice(7)), { force: true }));
      }
      revisions = revisions.filter((r) => keep.has(r));
    }
    const seen = new Set<string>();
    for (const d of revisions) await mark(d, seen);
  }

  // Links go before the blobs they name, each directory fsynced, so that a power cut mid-sweep
  // never leaves a repository link (or a revision deleted above) naming bytes that are gone.
  const blobDir = join(root, 'blobs', 'sha256');
  const gone: string[] = [];
  for (const hex of (await list(blobDir)).filter((h) => HEX.test(h)).sort()) if (!marked.has(hex)) gone.push(hex);
  if (!opts.dryRun) {
    const goneSet = new Set(gone);
    for (const repo of await st.catalog()) {
      const linkDir = join(st.repoDir(repo), '_layers', 'sha256');
      let changed = false;
      for (const hex of await list(linkDir)) if (goneSet.has(hex)) { await rm(join(linkDir, hex), { force: true }); changed = true; }
      if (changed) await fsyncDir(linkDir);
      if (opts.deleteUntagged) await fsyncDir(join(st.repoDir(repo), '_manifests', 'revisions', 'sha256')).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'ENOENT') throw e; });
    }
  }
  for (const hex of gone) {
    const size = await stat(join(blobDir, hex)).then((s) => s.size, () => 0);
    removed.push(`sha256:${hex}`);
    bytes += size;
    if (!opts.dryRun) await rm(join(blobDir, hex), { force: true });
  }

  const maxAge = opts.uploadMaxAgeMs ?? 60 * 60_000;
  const uploadsDir = join(root, 'uploads');
  for (const uuid of (await list(uploadsDir)).sort()) {
    const dir = join(uploadsDir, uuid);
    const s = await stat(join(dir, 'data')).catch(() => stat(dir).catch(() => undefined));
    if (!s || Date.now() - s.mtimeMs < maxAge) continue;
    removed.push(`upload:${uuid}`);
    bytes += s.isFile() ? s.size : 0;
    if (!opts.dryRun) await rm(dir, { recursive: true, force: true });
  }
  return { removed, bytes };
}
