// `userns-remap`: the subordinate uid/gid range a daemon maps container root to, from
// /etc/subuid and /etc/subgid. `default` means Berth's own user `berthremap`, created (with a
// free 65536-id range) when missing, as dockerd does with `dockremap`.
import { readFile, appendFile } from 'node:fs/promises';
import { run } from './exec.ts';
import { InvalidParameter } from '../errors.ts';

export interface IdRange { uid: number; gid: number; size: number }

const DEFAULT_USER = 'berthremap';
const SIZE = 65536;

async function lines(path: string): Promise<string[][]> {
  return (await readFile(path, 'utf8').catch(() => '')).split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
}

async function lookup(file: string, names: string[]): Promise<{ start: number; size: number } | undefined> {
  const hit = (await lines(file)).find((f) => names.includes(f[0]!));
  return hit ? { start: Number(hit[1]), size: Number(hit[2]) } : undefined;
}

/** The first id after every range in the file (at least 100000). */
async function freeStart(file: string): Promise<number> {
  return Math.max(100000, ...(await lines(file)).map((f) => Number(f[1]) + Number(f[2])).filter(Number.isFinite));
}

async function ensureDefaultUser(): Promise<void> {
  const exists = await run('id', ['-u', DEFAULT_USER], { okCodes: [0, 1] });
  if (exists.code !== 0) await run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', DEFAULT_USER]);
  for (const file of ['/etc/subuid', '/etc/subgid']) {
    if (!(await lookup(file, [DEFAULT_USER]))) await appendFile(file, `${DEFAULT_USER}:${await freeStart(file)}:${SIZE}\n`);
  }
}

/** Resolves `user[:group]` (names or ids) or `default` to the ranges root is mapped to. */
export async function remapRange(spec: string): Promise<IdRange> {
  if (spec === 'default') await ensureDefaultUser();
  const [user, group] = (spec === 'default' ? DEFAULT_USER : spec).split(':') as [string, string?];
  const names = async (kind: 'passwd' | 'group', n: string): Promise<string[]> => {
    const r = await run('getent', [kind, n], { okCodes: [0, 2] });
    const f = r.stdout.trim().split(':');
    return r.code === 0 ? [f[0]!, f[2]!] : [n];
  };
  const u = await lookup('/etc/subuid', await names('passwd', user));
  const g = await lookup('/etc/subgid', await names('group', group ?? user));
  if (!u || !g) throw new InvalidParameter(`userns-remap ${spec}: no subordinate id range for it in /etc/subuid and /etc/subgid`);
  return { uid: u.start, gid: g.start, size: Math.min(u.size, g.size) };
}
