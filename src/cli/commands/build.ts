// `berth build`: the classic builder's API (what `DOCKER_BUILDKIT=0 docker build` sends to
// /build) with its flags. The context is a directory (tarred minus .dockerignore), a tar or a
// Dockerfile on stdin (`-`), or a URL the daemon fetches; the step stream is printed as it comes
// and a failed step's exit code is the command's.
import type { Readable } from 'node:stream';
import { checkOk, query } from '../../client/engine-client.ts';
import { CliError, type CommandSpec, type Ctx } from '../command.ts';
import type { FlagSpec, Opts } from '../flags.ts';
import { humanSize } from '../format/units.ts';
import { ramInBytes } from '../size-parse.ts';
import { flagValueError } from '../shared.ts';
import { StreamError, displayStream, terminalOf, type JsonMessage } from '../io/progress.ts';
import { registryConfigHeader } from '../auth.ts';

const FLAGS: FlagSpec[] = [
  { name: 'add-host', type: 'list', desc: 'Add a custom host-to-IP mapping ("host:ip")' },
  { name: 'build-arg', type: 'list', desc: 'Set build-time variables' },
  { name: 'cache-from', type: 'list', value: 'strings', desc: 'Images to consider as cache sources' },
  { name: 'cgroup-parent', type: 'string', desc: 'Set the parent cgroup for the "RUN" instructions during build' },
  { name: 'compress', type: 'bool', desc: 'Compress the build context using gzip' },
  { name: 'cpu-period', type: 'int', desc: 'Limit the CPU CFS (Completely Fair Scheduler) period' },
  { name: 'cpu-quota', type: 'int', desc: 'Limit the CPU CFS (Completely Fair Scheduler) quota' },
  { name: 'cpu-shares', short: 'c', type: 'int', desc: 'CPU shares (relative weight)' },
  { name: 'cpuset-cpus', type: 'string', desc: 'CPUs in which to allow execution (0-3, 0,1)' },
  { name: 'cpuset-mems', type: 'string', desc: 'MEMs in which to allow execution (0-3, 0,1)' },
  { name: 'disable-content-trust', type: 'bool', desc: 'Skip image verification', default: true },
  { name: 'file', short: 'f', type: 'string', desc: 'Name of the Dockerfile (Default is "PATH/Dockerfile")' },
  { name: 'force-rm', type: 'bool', desc: 'Always remove intermediate containers' },
  { name: 'iidfile', type: 'string', desc: 'Write the image ID to the file' },
  { name: 'isolation', type: 'string', desc: 'Container isolation technology' },
  { name: 'label', type: 'list', desc: 'Set metadata for an image' },
  { name: 'memory', short: 'm', type: 'string', value: 'bytes', desc: 'Memory limit' },
  { name: 'memory-swap', type: 'string', value: 'bytes', desc: 'Swap limit equal to memory plus swap: -1 to enable unlimited swap' },
  { name: 'network', type: 'string', desc: 'Set the networking mode for the RUN instructions during build', default: 'default' },
  { name: 'no-cache', type: 'bool', desc: 'Do not use cache when building the image' },
  { name: 'platform', type: 'string', desc: 'Set platform if server is multi-platform capable' },
  { name: 'pull', type: 'bool', desc: 'Always attempt to pull a newer version of the image' },
  { name: 'quiet', short: 'q', type: 'bool', desc: 'Suppress the build output and print image ID on success' },
  { name: 'rm', type: 'bool', desc: 'Remove intermediate containers after a successful build', default: true },
  { name: 'security-opt', type: 'list', value: 'strings', desc: 'Security options' },
  { name: 'shm-size', type: 'string', value: 'bytes', desc: 'Size of "/dev/shm"' },
  { name: 'squash', type: 'bool', desc: 'Squash newly built layers into a single new layer' },
  { name: 'tag', short: 't', type: 'list', desc: 'Name and optionally a tag in the "name:tag" format' },
  { name: 'target', type: 'string', desc: 'Set the target build stage to build.' },
  { name: 'ulimit', type: 'list', value: 'ulimit', desc: 'Ulimit options', default: '[]' },
];

/** KEY=VALUE list → map; a bare KEY takes the environment's value (build args: null when unset). */
function kvMap(list: string[], fromEnv: boolean): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const s of list) {
    const i = s.indexOf('=');
    if (i >= 0) out[s.slice(0, i)] = s.slice(i + 1);
    else out[s] = fromEnv ? process.env[s] ?? null : '';
  }
  return out;
}

/** go-units ParseUlimit: `nofile=1024[:2048]`. */
function parseUlimit(ctx: Ctx, v: string): { Name: string; Hard: number; Soft: number } {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(v);
  if (!m) throw flagValueError(ctx, build, '--ulimit', v, `invalid ulimit argument: ${v}`);
  const soft = Number(m[2]);
  const hard = m[3] === undefined ? soft : Number(m[3]);
  if (soft > hard && hard !== -1) throw flagValueError(ctx, build, '--ulimit', v, `ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return { Name: m[1]!, Hard: hard, Soft: soft };
}

function bytesFlag(ctx: Ctx, o: Opts, name: string, shown: string, allowMinus = false): number | undefined {
  const v = o.str(name);
  if (v === undefined || v === '') return undefined;
  if (allowMinus && v === '-1') return -1;
  try {
    return ramInBytes(v);
  } catch (err) {
    throw flagValueError(ctx, build, shown, v, (err as Error).message);
  }
}

/** build.IsArchive: compressed, or a header block whose checksum holds. */
function isArchive(head: Buffer): boolean {
  const magic = [[0x1f, 0x8b, 0x08], [0x42, 0x5a, 0x68], [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], [0x28, 0xb5, 0x2f, 0xfd]];
  if (magic.some((m) => m.every((b, i) => head[i] === b))) return true;
  if (head.length < 512) return false;
  const stored = parseInt(head.subarray(148, 156).toString('latin1').replace(/\0.*$/s, '').trim(), 8);
  if (Number.isNaN(stored)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : head[i]!;
  return sum === stored;
}

/** Stdin's first block (for the archive check) and a stream of the whole of it. */
async function peekStdin(stdin: Readable): Promise<{ head: Buffer; body: Readable }> {
  const { PassThrough } = await import('node:stream');
  const chunks: Buffer[] = [];
  let size = 0;
  const it = stdin[Symbol.asyncIterator]();
  while (size < 512) {
    const n = await it.next();
    if (n.done) break;
    chunks.push(n.value as Buffer);
    size += (n.value as Buffer).length;
  }
  const head = Buffer.concat(chunks);
  const body = new PassThrough();
  body.write(head);
  (async () => {
    for (let n = await it.next(); !n.done; n = await it.next()) if (!body.write(n.value)) await new Promise((r) => body.once('drain', r));
    body.end();
  })().catch((err: Error) => body.destroy(err));
  return { head, body };
}

interface Context { body?: Readable; dockerfile: string; remote?: string }

/** The context to send and the Dockerfile's name in it, with docker's "unable to prepare context" errors. */
async function prepareContext(ctx: Ctx, arg: string, file: string | undefined): Promise<Context> {
  const { randomBytes } = await import('node:crypto');
  const { readAll } = await import('../../client/engine-client.ts');
  const stdinDockerfile = file === '-';
  if (arg === '-') {
    if (stdinDockerfile) throw new CliError('invalid argument: can\'t use stdin for both build context and dockerfile');
    const { head, body } = await peekStdin(ctx.stdin);
    if (isArchive(head)) return { body, dockerfile: file || 'Dockerfile' };
    // A Dockerfile on stdin: the context is that file alone.
    const { packFiles } = await import('../../client/build-context.ts');
    return { body: packFiles([{ name: 'Dockerfile', data: await readAll(body) }]), dockerfile: 'Dockerfile' };
  }
  if (/^(https?:\/\/|git@|git:\/\/|github\.com\/)/.test(arg)) return { remote: arg, dockerfile: file || 'Dockerfile' };
  const { lstat, realpath } = await import('node:fs/promises');
  const { join, relative, resolve, sep } = await import('node:path');
  const st = await lstat(arg).catch(() => undefined);
  if (!st) throw new CliError(`unable to prepare context: path "${arg}" not found`);
  const dir = await realpath(resolve(arg)).catch((err: Error) => { throw new CliError(`unable to prepare context: unable to evaluate symlinks in context path: ${err.message}`); });
  if (!(await lstat(dir)).isDirectory()) throw new CliError(`unable to prepare context: context must be a directory: ${dir}`);
  const { packContext } = await import('../../client/build-context.ts');
  const extra: { name: string; data: Buffer }[] = [];
  let rel: string;
  if (stdinDockerfile) {
    rel = `.dockerfile.${randomBytes(10).toString('hex')}`;
    extra.push({ name: rel, data: await readAll(ctx.stdin) });
  } else {
    // -f is relative to the working directory, not to the context (GetContextFromLocalDir).
    let abs = file ? resolve(file) : join(dir, 'Dockerfile');
    if (!file && !(await lstat(abs).catch(() => undefined))) {
      const lower = join(dir, 'dockerfile');
      if (await lstat(lower).catch(() => undefined)) abs = lower;
    }
    abs = await realpath(abs).catch(() => {
      throw new CliError(`unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${abs}: no such file or directory`);
    });
    rel = relative(dir, abs);
    // A Dockerfile outside the context travels inside it under a name of its own.
    if (rel.startsWith(`..${sep}`)) {
      const { readFile } = await import('node:fs/promises');
      rel = `.dockerfile.${randomBytes(10).toString('hex')}`;
      extra.push({ name: rel, data: await readFile(abs) });
    }
  }
  return { body: packContext(dir, rel, extra), dockerfile: rel.split(sep).join('/') };
}

/** Counts what goes up and prints docker's "Sending build context" line (redrawn with \r). */
async function withUploadProgress(body: Readable, write: (s: string) => void): Promise<Readable> {
  const { Transform } = await import('node:stream');
  let sent = 0;
  let shown = 0;
  const line = (): void => write(`Sending build context to Docker daemon ${humanSize(sent, 4).padStart(8)}\r`);
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      sent += chunk.length;
      if (sent - shown >= 512 * 1024) {
        shown = sent;
        line();
      }
      cb(null, chunk);
    },
    flush(cb) {
      line();
      write('\r\n');
      cb();
    },
  });
  body.once('error', (err) => counter.destroy(err));
  return body.pipe(counter);
}

const build: CommandSpec = {
  paths: [['image', 'build'], ['build'], ['builder', 'build']],
  usage: '[OPTIONS] PATH | URL | -',
  description: 'Build an image from a Dockerfile',
  args: { min: 1, max: 1 },
  flags: FLAGS,
  async run(ctx, args, o) {
    const quiet = o.bool('quiet');
    const ulimits = o.list('ulimit').map((v) => parseUlimit(ctx, v));
    const memory = bytesFlag(ctx, o, 'memory', '-m, --memory');
    const memswap = bytesFlag(ctx, o, 'memory-swap', '--memory-swap', true);
    const shmsize = bytesFlag(ctx, o, 'shm-size', '--shm-size');
    const context = await prepareContext(ctx, args[0]!, o.str('file'));
    // With -q the progress goes to a buffer shown only if the build fails (as docker does).
    let progBuf = '';
    const progWrite = quiet ? (s: string): void => { progBuf += s; } : (s: string): void => { ctx.out.write(s); };
    const body = context.body ? await withUploadProgress(context.body, progWrite) : undefined;
    const strings = (name: string): string[] => o.list(name).flatMap((v) => v.split(',')).filter(Boolean);
    const q = query({
      t: o.list('tag'), extrahosts: o.list('add-host').map((h) => h.replace('=', ':')), securityopt: strings('security-opt'),
      q: quiet, remote: context.remote, nocache: o.bool('no-cache'), rm: o.bool('rm') ? '1' : '0', forcerm: o.bool('force-rm'),
      pull: o.bool('pull'), squash: o.bool('squash'), isolation: o.str('isolation') || undefined,
      cpusetcpus: o.str('cpuset-cpus') || undefined, cpusetmems: o.str('cpuset-mems') || undefined,
      networkmode: o.str('network'), cpushares: o.int('cpu-shares'), cpuquota: o.int('cpu-quota'), cpuperiod: o.int('cpu-period'),
      memory, memswap, cgroupparent: o.str('cgroup-parent') || undefined, shmsize, dockerfile: context.dockerfile,
      target: o.str('target') || undefined, ulimits: ulimits.length ? JSON.stringify(ulimits) : undefined,
      buildargs: o.list('build-arg').length ? JSON.stringify(kvMap(o.list('build-arg'), true)) : undefined,
      labels: o.list('label').length ? JSON.stringify(kvMap(o.list('label'), false)) : undefined,
      cachefrom: strings('cache-from').length ? JSON.stringify(strings('cache-from')) : undefined,
      platform: o.str('platform')?.toLowerCase() || undefined,
    });
    const res = await ctx.client().raw('POST', `/build${q}`, body, {
      'Content-Type': 'application/x-tar', 'X-Registry-Config': registryConfigHeader(ctx),
    });
    await checkOk(res);
    const { jsonLines } = await import('../../client/engine-client.ts');
    let buildBuf = '';
    let imageId = '';
    try {
      const aux = await displayStream(jsonLines<JsonMessage>(res), quiet ? (s) => { buildBuf += s; } : (s) => { ctx.out.write(s); }, quiet ? { tty: false } : terminalOf(ctx.out));
      for (const a of aux) {
        const id = (a as { ID?: string }).ID;
        if (id) imageId = id;
      }
    } catch (err) {
      if (!(err instanceof StreamError)) throw err;
      if (quiet) ctx.err.write(`${progBuf}${buildBuf}`);
      throw new CliError(err.message, err.code || 1);
    }
    if (quiet) {
      imageId = buildBuf;
      ctx.out.write(buildBuf);
    }
    const iidfile = o.str('iidfile');
    if (iidfile) {
      if (!imageId) throw new CliError(`Server did not provide an image ID. Cannot write ${iidfile}`);
      const { writeFile } = await import('node:fs/promises');
      await writeFile(iidfile, imageId, { mode: 0o666 });
    }
  },
};

export const buildCommands: CommandSpec[] = [build];
