// Resolves Docker's --user (`name`, `uid`, `name:group`, `uid:gid`) against the container's own
// /etc/passwd and /etc/group, as moby does through libcontainer/user.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidParameter } from '../errors.ts';

export interface ResolvedUser { uid: number; gid: number; additionalGids: number[]; home: string }

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

async function readLines(path: string): Promise<string[][]> {
  // The rootfs is untrusted: a symlinked /etc/passwd could point anywhere on the host, but
  // reading through the mounted overlay is what Docker does too; only parse, never write.
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
}

/** `--group-add` entries (names or numbers) as gids, names looked up in the container's /etc/group. */
export async function resolveGroups(rootfs: string, names: string[]): Promise<number[]> {
  if (!names.length) return [];
  const groups = (await readLines(join(rootfs, 'etc/group'))).filter((f) => f.length >= 3);
  return names.map((n) => {
    if (/^\d+$/.test(n)) return Number(n);
    const g = groups.find((f) => f[0] === n);
    if (!g) throw new InvalidParameter(`Unable to find group ${n}: no matching entries in group file`);
    return Number(g[2]);
  });
}

export async function resolveUser(rootfs: string, spec: string): Promise<ResolvedUser> {
  const [userPart = '', groupPart] = spec.split(':', 2);
  const passwd: PasswdEntry[] = (await readLines(join(rootfs, 'etc/passwd')))
    .filter((f) => f.length >= 4)
    .map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '/' }));
  const groups: GroupEntry[] = (await readLines(join(rootfs, 'etc/group')))
    .filter((f) => f.length >= 3)
    .map((f) => ({ name: f[0]!, gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) }));

  let uid = 0;
  let gid = 0;
  let home = '/';
  let name: string | undefined;
  if (userPart === '') {
    const root = passwd.find((p) => p.uid === 0);
    name = root?.name ?? 'root';
    home = root?.home ?? '/root';
  } else if (/^\d+$/.test(userPart)) {
    uid = Number(userPart);
    const p = passwd.find((e) => e.uid === uid);
    if (p) { gid = p.gid; home = p.home; name = p.name; }
  } else {
    const p = passwd.find((e) => e.name === userPart);
    if (!p) throw new InvalidParameter(`unable to find user ${userPart}: no matching entries in passwd file`);
    uid = p.uid; gid = p.gid; home = p.home; name = p.name;
  }
  if (groupPart !== undefined && groupPart !== '') {
    if (/^\d+$/.test(groupPart)) gid = Number(groupPart);
    else {
      const g = groups.find((e) => e.name === groupPart);
      if (!g) throw new InvalidParameter(`unable to find group ${groupPart}: no matching entries in group file`);
      gid = g.gid;
    }
  }
  // As moby (libcontainer's GetExecUser) leaves them: the primary group is also a supplementary
  // one (`id` shows groups=GID), plus the groups naming the user unless a group was given.
  const members = name === undefined || (groupPart !== undefined && groupPart !== '') ? [] : groups.filter((g) => g.members.includes(name) && g.gid !== gid).map((g) => g.gid);
  const additionalGids = [gid, ...members];
  return { uid, gid, additionalGids, home };
}
