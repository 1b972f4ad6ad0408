// HTTP handlers for exec: create (201 {Id}), start (hijacked, or detached), resize, inspect.
import type { Router, HijackContext } from '../router.ts';
import { sendJson, sendEmpty, decodeGoBody } from '../respond.ts';
import { execStartCheck } from '../../types/go-wire-types.ts';
import { InvalidParameter } from '../../errors.ts';
import type { Engine } from '../../engine/engine.ts';
import { writeUpgradeResponse, writeHijackError } from '../hijack.ts';
import { checkForJson } from '../cross-site.ts';
import { pipeAttach } from './attach-pipe.ts';
import { frame } from '../stdcopy.ts';
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from '../../util/escape-keys.ts';

export function registerExecRoutes(router: Router, engine: Engine): void {
  router.add('POST', '/containers/{id}/exec', async (ctx) => {
    // The request schemas (zod) load with the first exec, not at start-up (memory).
    const { readExecConfig } = await import('../decode/exec.ts');
    sendJson(ctx.res, 201, await engine.exec.create(ctx.params.id!, await readExecConfig(ctx.req)));
  });

  router.addHijack('POST', '/exec/{id}/start', (ctx) => start(ctx, engine));

  router.add('POST', '/exec/{id}/resize', async (ctx) => {
    await engine.exec.resize(ctx.params.id!, atoi(ctx.query, 'h'), atoi(ctx.query, 'w'));
    sendEmpty(ctx.res, 200);
  });

  router.add('GET', '/exec/{id}/json', (ctx) => {
    sendJson(ctx.res, 200, engine.exec.inspect(ctx.params.id!));
  });
}

async function start(ctx: HijackContext, engine: Engine): Promise<void> {
  let detach = false;
  let tty: boolean | undefined;
  let rec: ReturnType<Engine['exec']['prepareStart']>;
  try {
    checkForJson(ctx.req); // moby's ReadJSON for exec start
    const body = decodeGoBody(ctx.body.toString('utf8'), execStartCheck, 'got-eof') ?? {};
    const { decodeExecStart } = await import('../decode/exec.ts');
    const opts = decodeExecStart(body);
    detach = opts.Detach ?? false;
    tty = opts.Tty ?? undefined;
    // moby answers only a missing exec before it hijacks an attached start; everything else
    // (already run, container stopped or paused) comes as a line on the stream, status 200.
    rec = detach ? engine.exec.prepareStart(ctx.params.id!) : engine.exec.get(ctx.params.id!);
  } catch (err) {
    writeHijackError(ctx, err);
    return;
  }
  if (detach) {
    try {
      await engine.exec.start(ctx.params.id!, { detach: true, tty });
    } catch (err) {
      writeHijackError(ctx, err);
      return;
    }
    // A detached start is a plain request: answer it and let the connection go.
    ctx.socket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    return;
  }
  // As moby does, the connection is upgraded before the process starts: a runtime failure
  // (command not found) reaches the client inside the stream, and its exit code via inspect.
  // moby frames by the start request's Tty, not the exec's: docker-py's exec_start(tty=False)
  // of an exec created with tty=True reads multiplexed frames (the TTY's output as stdout)
  const useTty = tty ?? false;
  writeUpgradeResponse(ctx, { multiplexed: !useTty });
  let started: Awaited<ReturnType<Engine['exec']['start']>>;
  try {
    started = await engine.exec.start(ctx.params.id!, { detach: false, tty });
  } catch (err) {
    const msg = Buffer.from(`${(err as Error).message}\r\n`);
    ctx.socket.end(useTty ? msg : frame(1, msg)); // moby writes it to stdout
    return;
  }
  const r = started.rec;
  pipeAttach(ctx, {
    stream: Promise.resolve(started.stream!),
    cancel: () => {},
    tty: useTty,
    stdin: r.attachStdin,
    closeStdinOnEof: true,
    stdout: r.attachStdout,
    stderr: r.attachStderr,
    beforeEnd: () => r.session!.exited,
    // moby's ContainerExecStart escapes with the exec's own TTY and DetachKeys (default ctrl-p,ctrl-q)
    detachKeys: r.tty ? execDetachKeys(r.detachKeys) : undefined,
  });
}

/** moby's resize handlers parse h and w with strconv.Atoi and answer its error as it is. */
function atoi(q: URLSearchParams, name: string): number {
  const v = q.get(name) ?? '';
  if (!/^[+-]?\d+$/.test(v)) throw new InvalidParameter(`strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`);
  return Number(v);
}

/** An exec's DetachKeys; a sequence moby's term.ToBytes refuses falls back to the default. */
function execDetachKeys(keys: string): Buffer {
  try {
    return keys ? parseDetachKeys(keys) : DEFAULT_DETACH_KEYS;
  } catch {
    return DEFAULT_DETACH_KEYS;
  }
}
