// berth run, create, start, attach and exec: the commands that join the local terminal to a
// container's streams, with the Docker CLI's order of calls (attach and wait before start, so no
// output and no exit is missed), its exit statuses (125 for the daemon, 126/127 for a command that
// cannot run, else the container's own) and its terminal handling (raw mode, size, detach keys).
import type { Writable } from 'node:stream';
import { ApiError, checkOk, readAll, type EngineClient } from '../../client/engine-client.ts';
import type { ContainerConfig, ContainerExecBody, ContainerInspectResponse, ContainerState, HostConfig } from '../../types/engine-api.ts';
import { CliError, describeError, type CommandSpec, type Ctx } from '../command.ts';
import type { FlagSpec, Opts } from '../flags.ts';
import { CREATE_FLAGS, RUN_FLAGS, createRequest, type CreateRequest } from '../run-options.ts';
import { detachKeys, streamAttached, type StreamEnd } from '../io/attach.ts';
import { isTerminal, monitorTtySize, resizeTo, ttySize } from '../io/tty.ts';
import { proxySignals } from '../io/signals.ts';

const DETACH_KEYS_FLAG: FlagSpec = { name: 'detach-keys', type: 'string', desc: 'Override the key sequence for detaching a container' };

const enc = encodeURIComponent;

/** docker's withHelp: `berth: <error>` and a pointer to the command's help. */
const withHelp = (msg: string, cmd: string): string => `berth: ${msg}\n\nRun 'berth ${cmd} --help' for more information`;

/**
 * docker's toStatusError: 127 when the command was not found, 126 when it could not be executed,
 * else 125 (the daemon failed).
 */
function runError(err: unknown): CliError {
  const msg = describeError(err);
  let status = 125;
  if (/executable file not found|no such file or directory|system cannot find the file specified/.test(msg)) status = 127;
  else if (/permission denied|is a directory/.test(msg)) status = 126;
  return new CliError(withHelp(msg, 'run'), status);
}

// ---- image references, for the pull of a missing image ------------------------------------------

interface ImageRef { name: string; tag?: string; digest?: string }

/** Splits `[host/]path[:tag][@digest]`; undefined for an image ID (docker pulls no IDs). */
function parseRef(image: string): ImageRef | undefined {
  if (/^(sha256:)?[0-9a-f]{64}$/.test(image)) return undefined;
  const at = image.indexOf('@');
  const digest = at >= 0 ? image.slice(at + 1) : undefined;
  const rest = at >= 0 ? image.slice(0, at) : image;
  const colon = rest.lastIndexOf(':');
  const tag = colon > rest.lastIndexOf('/') ? rest.slice(colon + 1) : undefined;
  return { name: tag === undefined ? rest : rest.slice(0, colon), tag, digest };
}

/** reference.FamiliarString(TagNameOnly(ref)): `busybox:latest`, `localhost:5000/app:1`. */
function familiar(r: ImageRef): string {
  const name = r.name.replace(/^(docker\.io|index\.docker\.io)\/(library\/)?/, '');
  if (r.digest) return `${name}${r.tag ? `:${r.tag}` : ''}@${r.digest}`;
  return `${name}:${r.tag ?? 'latest'}`;
}

const NULL_OUT = { write: (_c: unknown, cb?: unknown) => { if (typeof cb === 'function') cb(); return true; } } as unknown as Writable;

async function pullImage(ctx: Ctx, image: string, platform: string | undefined, quiet: boolean): Promise<void> {
  const r = parseRef(image)!;
  const q = new URLSearchParams({ fromImage: r.name, tag: r.digest ?? r.tag ?? 'latest' });
  if (platform) q.set('platform', platform);
  const { registryAuthHeader } = await import('../auth.ts');
  const auth = registryAuthHeader(ctx, image);
  const res = await ctx.client().raw('POST', `/images/create?${q}`, undefined, auth ? { 'X-Registry-Auth': auth } : {});
  await checkOk(res);
  const { renderProgress } = await import('../io/progress.ts');
  await renderProgress(ctx, res, quiet ? NULL_OUT : ctx.err);
}

function validatePull(pull: string, cmd: string): void {
  if (!['always', 'missing', 'never', ''].includes(pull)) {
    throw new CliError(withHelp(`invalid pull option: '${pull}': must be one of "always", "missing" or "never"`, cmd), 125);
  }
}

/** POST /containers/create, pulling the image first (always) or when it is missing (the default). */
async function createContainer(ctx: Ctx, req: CreateRequest, quiet: boolean): Promise<string> {
  const c = ctx.client();
  const q = new URLSearchParams();
  if (req.name) q.set('name', req.name);
  if (req.platform) q.set('platform', req.platform);
  const image = req.body.Image;
  const ref = parseRef(image);
  if (req.pull === 'always' && ref) await pullImage(ctx, image, req.platform, quiet);
  const create = (): Promise<{ Id: string; Warnings?: string[] | null }> =>
    c.request('POST', `/containers/create${q.size ? `?${q}` : ''}`, req.body);
  let res;
  try {
    res = await create();
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404 && ref && (req.pull || 'missing') === 'missing' && /No such image/i.test(err.message))) throw err;
    if (!quiet) ctx.err.write(`Unable to find image '${familiar(ref)}' locally\n`);
    await pullImage(ctx, image, req.platform, quiet);
    res = await create();
  }
  for (const w of res.Warnings ?? []) ctx.err.write(`WARNING: ${w}\n`);
  return res.Id;
}

/** The create request of run/create (run-options maps the flags as docker's parse does). */
async function buildRequest(ctx: Ctx, o: Opts, args: string[]): Promise<CreateRequest> {
  const c = ctx.client();
  // The daemon's OS decides which flags apply (docker's ServerInfo): /_ping answers it.
  await c.apiVersion();
  return createRequest(o, args, {
    invokedAs: ctx.invokedAs, configDir: ctx.configDir, host: c.address, serverOS: c.ping.osType, consoleSize: ttySize(ctx.out),
  });
}

// ---- attaching ----------------------------------------------------------------------------------

interface Session {
  /** resolves when the streams are done (output ended or detached) */
  done: Promise<StreamEnd>;
  /** ends the session now (a failed start): restores the terminal */
  cancel(): void;
}

/** Hijacks /containers/ID/attach and starts moving the streams (raw mode begins now). */
async function attachStreams(ctx: Ctx, id: string, o: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean; keys?: string }): Promise<Session> {
  const q = new URLSearchParams({ stream: '1', stdin: o.stdin ? '1' : '0', stdout: o.stdout ? '1' : '0', stderr: o.stderr ? '1' : '0' });
  if (o.keys) q.set('detachKeys', o.keys);
  const keys = o.stdin && o.tty ? await detachKeys(o.keys, ctx.configDir, ctx.err) : undefined;
  const { socket, head } = await ctx.client().hijack('POST', `/containers/${enc(id)}/attach?${q}`);
  const done = streamAttached({
    socket, head, tty: o.tty, detachKeys: keys,
    stdin: o.stdin ? ctx.stdin : undefined,
    out: o.stdout ? ctx.out : undefined,
    // With a TTY the container has one output stream; docker writes it all to stdout.
    err: o.stderr ? (o.tty ? ctx.out : ctx.err) : undefined,
  });
  return { done, cancel: () => socket.destroy() };
}

/** POST /containers/ID/wait, once the daemon has answered with headers (it is then registered). */
async function waitFor(c: EngineClient, id: string, condition: string): Promise<{ code: Promise<number> }> {
  const res = await c.raw('POST', `/containers/${enc(id)}/wait?condition=${condition}`);
  await checkOk(res);
  const code = readAll(res).then((b) => {
    const r = JSON.parse(b.toString()) as { StatusCode: number; Error?: { Message?: string } | null };
    if (r.Error?.Message) {
      process.stderr.write(`ERRO[0000] Error waiting for container: ${r.Error.Message}\n`);
      return 125;
    }
    return r.StatusCode;
  }, () => 125);
  return { code };
}

/** docker run (runContainer in docker's run.go). */
async function runRun(ctx: Ctx, args: string[], o: Opts): Promise<number> {
  validatePull(o.str('pull') ?? 'missing', 'run');
  const req = await buildRequest(ctx, o, args);
  validatePull(req.pull, 'run');
  const cfg = req.body as Record<string, unknown> & { HostConfig: Record<string, unknown> };
  const tty = cfg.Tty === true;
  // (With -d, createRequest has refused -a and detached every stream.)
  if (!o.bool('detach') && tty && cfg.AttachStdin && !isTerminal(ctx.stdin)) throw new CliError('the input device is not a TTY');
  const c = ctx.client();
  let id: string;
  try {
    id = await createContainer(ctx, req, o.bool('quiet'));
  } catch (err) {
    throw runError(err);
  }
  const stopSignals = o.bool('sig-proxy') ? proxySignals(c, id) : () => {};
  let stopResize = (): void => {};
  try {
    const stdin = cfg.AttachStdin === true;
    const stdout = cfg.AttachStdout === true;
    const stderr = cfg.AttachStderr === true;
    const attach = stdin || stdout || stderr;
    let session: Session | undefined;
    if (attach) {
      const keys = o.str('detach-keys') || undefined;
      session = await attachStreams(ctx, id, { stdin, stdout, stderr, tty, keys });
    }
    const autoRemove = cfg.HostConfig.AutoRemove === true;
    const status = (await waitFor(c, id, autoRemove ? 'removed' : 'next-exit')).code;
    try {
      await c.containerStart(id);
    } catch (err) {
      if (session) {
        session.cancel();
        await session.done.catch(() => {});
      }
      if (autoRemove) await status;
      throw runError(err);
    }
    if (!session) {
      ctx.out.write(`${id}\n`);
      return 0;
    }
    if (tty && isTerminal(ctx.out)) stopResize = monitorTtySize(c, `/containers/${enc(id)}/resize`, ctx.out);
    // docker's select: the streams ending first, or the container; without stdout/stderr attached
    // the container's exit ends the session (stdin alone would never end it).
    const first = await Promise.race([session.done.then((how) => ({ how })), status.then((code) => ({ code }))]);
    if ('how' in first) {
      if (first.how === 'detached') return 0;
      return await status;
    }
    if (!stdout && !stderr) session.cancel();
    await session.done.catch(() => {});
    return first.code;
  } finally {
    stopResize();
    stopSignals();
  }
}

async function runCreate(ctx: Ctx, args: string[], o: Opts): Promise<number> {
  validatePull(o.str('pull') ?? 'missing', 'create');
  const req = await buildRequest(ctx, o, args);
  validatePull(req.pull, 'create');
  ctx.out.write(`${await createContainer(ctx, req, o.bool('quiet'))}\n`);
  return 0;
}

/**
 * What start and attach read of an inspect. The spec leaves every field of an inspect optional;
 * dockerd and berthd always send these, so they are narrowed once, here, instead of `?.` at
 * each read.
 */
type Inspect = Required<Pick<ContainerInspectResponse, 'Id'>> & {
  Config: Required<Pick<ContainerConfig, 'Tty' | 'OpenStdin'>>;
  HostConfig: Pick<HostConfig, 'AutoRemove'>;
  State: Required<Pick<NonNullable<ContainerState>, 'Running' | 'Paused' | 'Restarting'>>;
};

const inspect = async (c: EngineClient, name: string): Promise<Inspect> => (await c.containerInspect(name)) as Inspect;

async function runStart(ctx: Ctx, names: string[], o: Opts): Promise<number> {
  const c = ctx.client();
  if (!o.bool('attach') && !o.bool('interactive')) {
    // No attaching: start them all, each name printed, failures reported together.
    const failed: string[] = [];
    for (const n of names) {
      try {
        await c.containerStart(n);
        ctx.out.write(`${n}\n`);
      } catch (err) {
        ctx.err.write(`${describeError(err)}\n`);
        failed.push(n);
      }
    }
    if (failed.length) throw new CliError(`Error: failed to start containers: ${failed.join(', ')}`);
    return 0;
  }
  if (names.length > 1) throw new CliError('you cannot start and attach multiple containers at once');
  const info = await inspect(c, names[0]!);
  const tty = info.Config.Tty;
  const stopSignals = tty ? () => {} : proxySignals(c, info.Id);
  let stopResize = (): void => {};
  try {
    const stdin = o.bool('interactive') && info.Config.OpenStdin;
    const session = await attachStreams(ctx, info.Id, { stdin, stdout: true, stderr: true, tty, keys: o.str('detach-keys') || undefined });
    const status = (await waitFor(c, info.Id, info.HostConfig.AutoRemove ? 'removed' : 'next-exit')).code;
    try {
      await c.containerStart(info.Id);
    } catch (err) {
      session.cancel();
      await session.done.catch(() => {});
      if (info.HostConfig.AutoRemove) await status;
      throw err;
    }
    if (tty && isTerminal(ctx.out)) stopResize = monitorTtySize(c, `/containers/${enc(info.Id)}/resize`, ctx.out);
    if ((await session.done) === 'detached') return 0;
    return await status;
  } finally {
    stopResize();
    stopSignals();
  }
}

function checkState(info: Inspect): void {
  if (!info.State.Running) throw new CliError('You cannot attach to a stopped container, start it first');
  if (info.State.Paused) throw new CliError('You cannot attach to a paused container, unpause it first');
  if (info.State.Restarting) throw new CliError('You cannot attach to a restarting container, wait until it is running');
}

async function runAttach(ctx: Ctx, args: string[], o: Opts): Promise<number> {
  const c = ctx.client();
  const name = args[0]!;
  // The wait is asked first so an exit between inspect and attach is not missed.
  const wait = c.raw('POST', `/containers/${enc(name)}/wait`);
  wait.catch(() => {});
  const info = await inspect(c, name);
  checkState(info);
  const tty = info.Config.Tty;
  if (tty && !o.bool('no-stdin') && !isTerminal(ctx.stdin)) throw new CliError('the input device is not a TTY');
  const stdin = !o.bool('no-stdin') && info.Config.OpenStdin;
  const stopSignals = o.bool('sig-proxy') && !tty ? proxySignals(c, info.Id) : () => {};
  let stopResize = (): void => {};
  try {
    const session = await attachStreams(ctx, info.Id, { stdin, stdout: true, stderr: true, tty, keys: o.str('detach-keys') || undefined });
    checkState(await inspect(c, name));
    const size = ttySize(ctx.out);
    if (tty && size) {
      // docker resizes to one more row and column first so the shell redraws its prompt.
      const path = `/containers/${enc(info.Id)}/resize`;
      await resizeTo(c, path, size[0] + 1, size[1] + 1);
      stopResize = monitorTtySize(c, path, ctx.out);
    }
    // docker returns the escape as an error: "read escape sequence", status 1.
    if ((await session.done) === 'detached') throw new CliError('read escape sequence');
    const res = await wait;
    await checkOk(res);
    const r = JSON.parse((await readAll(res)).toString()) as { StatusCode: number; Error?: { Message?: string } | null };
    if (r.Error?.Message) throw new CliError(r.Error.Message);
    return r.StatusCode;
  } finally {
    stopResize();
    stopSignals();
  }
}

/** --env-file: KEY=value lines; `#` comments and blank lines skipped; a bare KEY takes the local value. */
async function readEnvFiles(files: string[]): Promise<string[]> {
  const { readFile } = await import('node:fs/promises');
  const out: string[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = await readFile(f, 'utf8');
    } catch (err) {
      throw new CliError(`open ${f}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
    }
    for (const raw of text.split(/\r?\n/)) {
      const line = raw.replace(/^\s+/, '');
      if (!line || line.startsWith('#')) continue;
      const eq = line.indexOf('=');
      const key = eq < 0 ? line : line.slice(0, eq);
      if (/\s/.test(key)) throw new CliError(`variable '${key}' contains whitespaces`);
      if (eq >= 0) out.push(line);
      else if (process.env[key] !== undefined) out.push(`${key}=${process.env[key]}`);
    }
  }
  return out;
}

/** -e KEY (no '=') takes the value from berth's environment, or is left out when unset. */
const envValues = (list: string[]): string[] => list.flatMap((e) => {
  if (e.includes('=')) return [e];
  const v = process.env[e];
  return v === undefined ? [] : [`${e}=${v}`];
});

async function runExec(ctx: Ctx, args: string[], o: Opts): Promise<number> {
  const c = ctx.client();
  const [name, ...cmd] = args as [string, ...string[]];
  const detach = o.bool('detach');
  const tty = o.bool('tty');
  const stdin = !detach && o.bool('interactive');
  const env = [...await readEnvFiles(o.list('env-file')), ...envValues(o.list('env'))];
  // Inspect first: "No such container" comes before the TTY check, and no exec is left behind.
  await c.containerInspect(name);
  if (!detach && tty && stdin && !isTerminal(ctx.stdin)) throw new CliError('the input device is not a TTY');
  const size = tty ? ttySize(ctx.out) : undefined;
  const body: ContainerExecBody = {
    User: o.str('user') ?? '', Privileged: o.bool('privileged'), Tty: tty, Cmd: cmd, Env: env,
    WorkingDir: o.str('workdir') ?? '', AttachStdin: stdin, AttachStdout: !detach, AttachStderr: !detach,
    DetachKeys: o.str('detach-keys') ?? '', ...(size ? { ConsoleSize: size } : {}),
  };
  const { Id } = await c.execCreate(name, body);
  if (!Id) throw new CliError('exec ID empty');
  if (detach) {
    await c.request('POST', `/exec/${Id}/start`, { Detach: true, Tty: tty, ...(size ? { ConsoleSize: size } : {}) });
    return 0;
  }
  const keys = stdin && tty ? await detachKeys(o.str('detach-keys') || undefined, ctx.configDir, ctx.err) : undefined;
  const { socket, head } = await c.hijack('POST', `/exec/${Id}/start`, { Detach: false, Tty: tty, ...(size ? { ConsoleSize: size } : {}) });
  const done = streamAttached({
    socket, head, tty, detachKeys: keys,
    stdin: stdin ? ctx.stdin : undefined, out: ctx.out, err: tty ? ctx.out : ctx.err,
  });
  const stopResize = tty && isTerminal(ctx.stdin) ? monitorTtySize(c, `/exec/${Id}/resize`, ctx.out) : () => {};
  try {
    if ((await done) === 'detached') throw new CliError('read escape sequence');
  } finally {
    stopResize();
  }
  const info = await c.execInspect(Id);
  return info.ExitCode ?? 0;
}

export const runCommands: CommandSpec[] = [
  {
    paths: [['container', 'run'], ['run']], usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
    description: 'Create and run a new container from an image', interspersed: false,
    flags: RUN_FLAGS, args: { min: 1 }, run: runRun,
  },
  {
    paths: [['container', 'exec'], ['exec']], usage: '[OPTIONS] CONTAINER COMMAND [ARG...]',
    description: 'Execute a command in a running container', interspersed: false, args: { min: 2 },
    flags: [
      { name: 'detach', short: 'd', type: 'bool', desc: 'Detached mode: run command in the background' },
      DETACH_KEYS_FLAG,
      { name: 'env', short: 'e', type: 'list', desc: 'Set environment variables' },
      { name: 'env-file', type: 'list', desc: 'Read in a file of environment variables' },
      { name: 'interactive', short: 'i', type: 'bool', desc: 'Keep STDIN open even if not attached' },
      { name: 'privileged', type: 'bool', desc: 'Give extended privileges to the command' },
      { name: 'tty', short: 't', type: 'bool', desc: 'Allocate a pseudo-TTY' },
      { name: 'user', short: 'u', type: 'string', desc: 'Username or UID (format: "<name|uid>[:<group|gid>]")' },
      { name: 'workdir', short: 'w', type: 'string', desc: 'Working directory inside the container' },
    ],
    run: runExec,
  },
  {
    paths: [['container', 'create'], ['create']], usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
    description: 'Create a new container', interspersed: false,
    flags: CREATE_FLAGS, args: { min: 1 }, run: runCreate,
  },
  {
    paths: [['container', 'start'], ['start']], usage: '[OPTIONS] CONTAINER [CONTAINER...]',
    description: 'Start one or more stopped containers', args: { min: 1 },
    flags: [
      { name: 'attach', short: 'a', type: 'bool', desc: 'Attach STDOUT/STDERR and forward signals' },
      DETACH_KEYS_FLAG,
      { name: 'interactive', short: 'i', type: 'bool', desc: "Attach container's STDIN" },
    ],
    run: runStart,
  },
  {
    paths: [['container', 'attach'], ['attach']], usage: '[OPTIONS] CONTAINER',
    description: 'Attach local standard input, output, and error streams to a running container', args: { min: 1, max: 1 },
    flags: [
      DETACH_KEYS_FLAG,
      { name: 'no-stdin', type: 'bool', desc: 'Do not attach STDIN' },
      { name: 'sig-proxy', type: 'bool', desc: 'Proxy all received signals to the process', default: true },
    ],
    run: runAttach,
  },
];
