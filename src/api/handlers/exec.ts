// HTTP handlers for exec: create (201 {Id}), start (hijacked, or detached), resize, inspect.
import type { Router, HijackContext } from '../router.ts';
import { sendJson, sendEmpty, readJson, intParam } from '../respond.ts';
import { InvalidParameter } from '../../errors.ts';
import type { Engine } from '../../engine/engine.ts';
import { decode, execStartSchema } from '../../engine/container-config.ts';
import { writeUpgradeResponse, writeHijackError } from '../hijack.ts';
import { pipeAttach } from './attach-pipe.ts';

export function registerExecRoutes(router: Router, engine: Engine): void {
  router.add('POST', '/containers/{id}/exec', async (ctx) => {
    const body = await readJson(ctx.req);
    sendJson(ctx.res, 201, engine.exec.create(ctx.params.id!, body));
  });

  router.addHijack('POST', '/exec/{id}/start', (ctx) => start(ctx, engine));

  router.add('POST', '/exec/{id}/resize', async (ctx) => {
    await engine.exec.resize(ctx.params.id!, intParam(ctx.query, 'h', 0)!, intParam(ctx.query, 'w', 0)!);
    sendEmpty(ctx.res, 200);
  });

  router.add('GET', '/exec/{id}/json', (ctx) => {
    sendJson(ctx.res, 200, engine.exec.inspect(ctx.params.id!));
  });
}

async function start(ctx: HijackContext, engine: Engine): Promise<void> {
  let started: Awaited<ReturnType<Engine['exec']['start']>>;
  let detach = false;
  try {
    let body: unknown = {};
    if (ctx.body.length) {
      try { body = JSON.parse(ctx.body.toString('utf8')); } catch (e) { throw new InvalidParameter(`invalid JSON: ${(e as Error).message}`); }
    }
    const opts = decode(execStartSchema, body, 'ExecStartCheck');
    detach = opts.Detach ?? false;
    started = await engine.exec.start(ctx.params.id!, { detach, tty: opts.Tty ?? undefined });
  } catch (err) {
    writeHijackError(ctx, err);
    return;
  }
  if (detach || !started.stream) {
    // A detached start is a plain request: answer it and let the connection go.
    ctx.socket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    return;
  }
  const rec = started.rec;
  writeUpgradeResponse(ctx, { multiplexed: !rec.tty });
  pipeAttach(ctx, {
    stream: Promise.resolve(started.stream),
    cancel: () => {},
    tty: rec.tty,
    stdin: rec.attachStdin,
    closeStdinOnEof: true,
    stdout: rec.attachStdout,
    stderr: rec.attachStderr,
    beforeEnd: () => rec.session!.exited,
  });
}
