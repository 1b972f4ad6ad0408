// Secrets and configs given by environment or inline content have no file to bind: as Compose
// does, they are written into the created container (PUT /containers/{id}/archive) before it starts,
// with the mode, uid and gid the service asks for.
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { readAll } from '../../client/engine-client.ts';
import { ComposeError } from '../model/types.ts';
import type { ComposeContext } from './api.ts';
import type { InjectedFile } from './convert.ts';

export async function injectFiles(ctx: ComposeContext, id: string, files: InjectedFile[]): Promise<void> {
  const pack = tar.pack();
  for (const f of files) {
    // no directory entries: the daemon makes missing parents (0755) and leaves existing ones as they are
    pack.entry({ name: f.path.replace(/^\/+/, ''), type: 'file', mode: f.mode, uid: f.uid, gid: f.gid, size: f.data.length, mtime: new Date() }, f.data);
  }
  pack.finalize();
  const body = await readAll(pack as unknown as Readable);
  const res = await ctx.client.raw('PUT', `/containers/${encodeURIComponent(id)}/archive?path=%2F&noOverwriteDirNonDir=false`, body, { 'Content-Type': 'application/x-tar' });
  const text = await readAll(res);
  if ((res.statusCode ?? 500) >= 400) throw new ComposeError(`failed to copy secrets into the container: ${text.toString().trim()}`);
}
