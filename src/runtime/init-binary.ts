// The init that `--init` runs as PID 1: dockerd's docker-init (Debian's docker.io ships
// tini-static under that name), found on PATH unless daemon.json `init-path` / `--init-path`
// names one. It is bound into the container, so it must be statically linked: Debian's
// /usr/bin/tini needs libc and would not start in a busybox image; tini-static and catatonit
// are the fallbacks when docker-init is not installed.
import { basename } from 'node:path';
import { System } from '../errors.ts';
import { resolveBinary, run } from '../sys/exec.ts';

/** dockerd's name for the init (daemon/config DefaultInitBinary); what `docker info` shows by default. */
export const DEFAULT_INIT_BINARY = 'docker-init';
const STATIC_FALLBACKS = ['tini-static', 'catatonit'];

/** The init's host path for a container start; dockerd's error text when there is none. */
export function initBinaryPath(configured: string): string {
  if (configured) return configured;
  for (const name of [DEFAULT_INIT_BINARY, ...STATIC_FALLBACKS]) {
    try { return resolveBinary(name); } catch { /* next */ }
  }
  throw new System(`exec: "${DEFAULT_INIT_BINARY}": executable file not found in $PATH`);
}

/** `tini version 0.19.0 - git.de40ad0` → version and commit (moby parseInitVersion); undefined if neither. */
export function parseInitVersion(out: string): { version: string; commit: string } | undefined {
  const parts = out.split(' - ');
  let commit = '';
  if (parts.length >= 2) {
    const git = parts[1]!.trim().split('.');
    if (git.length === 2 && git[0] === 'git') commit = git[1]!;
  }
  const head = parts[0]!.trim();
  const version = head.startsWith('tini version ') ? head.slice('tini version '.length) : '';
  return version || commit ? { version, commit } : undefined;
}

const versions = new Map<string, Promise<{ name: string; version: string; commit: string } | undefined>>();

/**
 * What `docker info` (InitCommit) and `docker version` (the init's component) say about the
 * init: asked once per path with `--version`; undefined when it cannot be run or read.
 */
export function initVersion(configured: string): Promise<{ name: string; version: string; commit: string } | undefined> {
  let path: string;
  try { path = initBinaryPath(configured); } catch { return Promise.resolve(undefined); }
  let v = versions.get(path);
  if (!v) {
    v = run(path, ['--version'], { timeoutMs: 5000 }).then((r) => {
      const p = parseInitVersion(r.stdout);
      return p && { name: basename(configured || DEFAULT_INIT_BINARY), ...p };
    }, () => undefined);
    versions.set(path, v);
  }
  return v;
}
