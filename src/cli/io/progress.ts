// The daemon's JSON progress stream (pull, push, load, import, build) shown as the Docker CLI
// shows it. STUB: the images helper replaces it with the jsonmessage renderer.
import type { Readable } from 'node:stream';
import { jsonLines } from '../../client/engine-client.ts';
import { CliError, type Ctx } from '../command.ts';

interface JsonMessage { id?: string; status?: string; progress?: string; stream?: string; error?: string; errorDetail?: { code?: number; message?: string }; aux?: unknown }

/**
 * Prints the stream to `out` (ctx.out by default): redrawn in place per layer id on a terminal,
 * plain lines otherwise. Throws CliError with the message of an `error` line.
 * Returns the aux messages (image IDs, push digests).
 */
export async function renderProgress(ctx: Ctx, res: Readable, out: NodeJS.WritableStream = ctx.out): Promise<unknown[]> {
  const aux: unknown[] = [];
  for await (const m of jsonLines<JsonMessage>(res)) {
    if (m.error) throw new CliError(m.errorDetail?.message ?? m.error);
    if (m.aux) aux.push(m.aux);
    if (m.stream) out.write(m.stream);
    else if (m.status) out.write(`${m.id ? `${m.id}: ` : ''}${m.status}\n`);
  }
  return aux;
}
