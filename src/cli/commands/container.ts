// berth's container management commands (short and `container …` forms) other than
// run/create/start/attach/exec: names, flags, output and exit statuses as docker 28's.
import { ApiError, checkOk, query } from '../../client/engine-client.ts';
import { CliError, describeError, forEach, type CommandSpec, type Ctx } from '../command.ts';
import type { Opts } from '../flags.ts';
import { humanSize } from '../format/units.ts';
import { UPDATE_RESOURCE_FLAGS, resourceValues, shownFlag, type ResourceFields } from '../resource-flags.ts';
import type { ContainerUpdateBody, RestartPolicy } from '../../types/engine-api.ts';
import { filtersJson } from '../filters.ts';
import { confirm, deletedSection, flagValueError, joinHostPort, naturalCompare, writeOut } from '../shared.ts';
import { psCommand } from './container-ps.ts';
import { logsCommand } from './container-logs.ts';
import { cpCommand } from './container-cp.ts';
import { statsCommand } from './container-stats.ts';

const id = (name: string): string => encodeURIComponent(name);

/** docker's `--time` is a deprecated alias of `--timeout`; both at once is an error. */
function stopTimeout(o: Opts): number | undefined {
  if (o.changed('time') && o.changed('timeout')) throw new CliError('conflicting options: cannot specify both --timeout and --time');
  if (o.changed('time')) return o.int('time');
  return o.changed('timeout') ? o.int('timeout') : undefined;
}

const STOP_FLAGS: CommandSpec['flags'] = [
  { name: 'signal', short: 's', type: 'string', desc: 'Signal to send to the container' },
  { name: 'timeout', short: 't', type: 'int', desc: 'Seconds to wait before killing the container' },
  { name: 'time', type: 'int', hidden: true, desc: 'Seconds to wait before killing the container (deprecated: use --timeout)' },
];

function deprecatedTime(ctx: Ctx, o: Opts): void {
  // cobra writes deprecation notices to the command's output, which docker sets to stdout
  if (o.changed('time')) ctx.out.write('Flag --time has been deprecated, use --timeout instead\n');
}

/** stop and restart: the same flags and loop, another endpoint. */
const stopLike = (action: 'stop' | 'restart', description: string): CommandSpec => ({
  paths: [['container', action], [action]],
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  description,
  args: { min: 1 },
  flags: STOP_FLAGS,
  async run(ctx, args, o) {
    deprecatedTime(ctx, o);
    const t = stopTimeout(o);
    return forEach(ctx, args, async (n) => {
      await ctx.client().request('POST', `/containers/${id(n)}/${action}${query({ signal: o.str('signal') || undefined, t })}`);
    });
  },
});

const stop = stopLike('stop', 'Stop one or more running containers');
const restart = stopLike('restart', 'Restart one or more containers');

const kill: CommandSpec = {
  paths: [['container', 'kill'], ['kill']],
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  description: 'Kill one or more running containers',
  args: { min: 1 },
  flags: [{ name: 'signal', short: 's', type: 'string', desc: 'Signal to send to the container' }],
  async run(ctx, args, o) {
    return forEach(ctx, args, async (n) => {
      await ctx.client().request('POST', `/containers/${id(n)}/kill${query({ signal: o.str('signal') || undefined })}`);
    });
  },
};

const rm: CommandSpec = {
  paths: [['container', 'rm'], ['container', 'remove'], ['rm']],
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  description: 'Remove one or more containers',
  args: { min: 1 },
  flags: [
    { name: 'force', short: 'f', type: 'bool', desc: 'Force the removal of a running container (uses SIGKILL)' },
    { name: 'link', short: 'l', type: 'bool', desc: 'Remove the specified link' },
    { name: 'volumes', short: 'v', type: 'bool', desc: 'Remove anonymous volumes associated with the container' },
  ],
  async run(ctx, args, o) {
    const errors: string[] = [];
    for (const name of args) {
      const trimmed = name.replace(/^\/+|\/+$/g, '');
      try {
        if (!trimmed) throw new CliError('container name cannot be empty');
        await ctx.client().request('DELETE', `/containers/${id(trimmed)}${query({ v: o.bool('volumes'), link: o.bool('link'), force: o.bool('force') })}`);
        ctx.out.write(`${name}\n`);
      } catch (err) {
        // with -f a missing container is reported but is not a failure
        if (o.bool('force') && err instanceof ApiError && err.status === 404) ctx.err.write(`${describeError(err)}\n`);
        else errors.push(describeError(err));
      }
    }
    if (!errors.length) return 0;
    ctx.err.write(`${errors.join('\n')}\n`);
    return 1;
  },
};

function simpleAction(word: string, description: string): CommandSpec {
  return {
    paths: [['container', word], [word]],
    usage: 'CONTAINER [CONTAINER...]',
    description,
    args: { min: 1 },
    flags: [],
    async run(ctx, args) {
      return forEach(ctx, args, async (n) => { await ctx.client().request('POST', `/containers/${id(n)}/${word}`); });
    },
  };
}

const wait: CommandSpec = {
  paths: [['container', 'wait'], ['wait']],
  usage: 'CONTAINER [CONTAINER...]',
  description: 'Block until one or more containers stop, then print their exit codes',
  args: { min: 1 },
  flags: [],
  run(ctx, args) {
    return forEach(ctx, args, async (n) => {
      const r = await ctx.client().containerWait(n);
      if (r.Error?.Message) throw new CliError(r.Error.Message);
      return `${r.StatusCode}`;
    });
  },
};

const rename: CommandSpec = {
  paths: [['container', 'rename'], ['rename']],
  usage: 'CONTAINER NEW_NAME',
  description: 'Rename a container',
  args: { min: 2, max: 2 },
  flags: [],
  async run(ctx, args) {
    const [oldName, newName] = args.map((a) => a.trim()) as [string, string];
    if (!oldName || !newName) throw new CliError('Error: Neither old nor new names may be empty');
    try {
      await ctx.client().request('POST', `/containers/${id(oldName)}/rename${query({ name: newName })}`);
    } catch (err) {
      ctx.err.write(`${describeError(err)}\n`);
      throw new CliError(`Error: failed to rename container named ${oldName}`);
    }
  },
};

const port: CommandSpec = {
  paths: [['container', 'port'], ['port']],
  usage: 'CONTAINER [PRIVATE_PORT[/PROTO]]',
  description: 'List port mappings or a specific mapping for the container',
  args: { min: 1, max: 2 },
  flags: [],
  async run(ctx, args) {
    const c = await ctx.client().containerInspect(args[0]!);
    const ports = c.NetworkSettings?.Ports ?? {};
    const out: string[] = [];
    if (args[1] !== undefined) {
      const [p = '', proto = 'tcp'] = args[1].split(/\/(.*)/s);
      if (!/^\d+$/.test(p)) throw new CliError(`Error: invalid port (${p}): strconv.ParseUint: parsing ${JSON.stringify(p)}: invalid syntax`);
      if (Number(p) > 65535) throw new CliError(`Error: invalid port (${p}): strconv.ParseUint: parsing ${JSON.stringify(p)}: value out of range`);
      const frontends = ports[`${p}/${proto || 'tcp'}`];
      if (!frontends?.length) throw new CliError(`Error: No public port '${args[1]}' published for ${args[0]}`);
      for (const f of frontends) out.push(joinHostPort(f.HostIp ?? '', f.HostPort ?? ''));
    } else {
      for (const [from, frontends] of Object.entries(ports)) for (const f of frontends ?? []) out.push(`${from} -> ${joinHostPort(f.HostIp ?? '', f.HostPort ?? '')}`);
    }
    if (out.length) ctx.out.write(`${out.sort(naturalCompare).join('\n')}\n`);
  },
};

/** Go's tabwriter as `docker top` configures it: min width 20, padding 3, last cell unpadded. */
function topTable(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => { if (i < r.length - 1) widths[i] = Math.max(widths[i] ?? 20, c.length + 3); });
  return rows.map((r) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i]!) : c)).join('')).join('\n') + '\n';
}

const top: CommandSpec = {
  paths: [['container', 'top'], ['top']],
  usage: 'CONTAINER [ps OPTIONS]',
  description: 'Display the running processes of a container',
  args: { min: 1 },
  interspersed: false,
  flags: [],
  async run(ctx, args) {
    const [name, ...ps] = args;
    const r = await ctx.client().containerTop(name!, { ps_args: ps.length ? ps.join(' ') : undefined });
    ctx.out.write(topTable([r.Titles ?? [], ...(r.Processes ?? [])]));
  },
};

const diff: CommandSpec = {
  paths: [['container', 'diff'], ['diff']],
  usage: 'CONTAINER',
  description: "Inspect changes to files or directories on a container's filesystem",
  args: { min: 1, max: 1 },
  flags: [],
  async run(ctx, args) {
    if (!args[0]) throw new CliError('Container name cannot be empty');
    const changes = await ctx.client().containerChanges(args[0]);
    ctx.out.write((changes ?? []).map((c) => `${['C', 'A', 'D'][c.Kind] ?? '?'} ${c.Path}\n`).join(''));
  },
};

/** repo and tag of a commit/tag reference, as docker's client splits them (familiar repo name). */
function splitReference(ref: string): { repo: string; tag: string } {
  const at = ref.indexOf('@');
  const named = at < 0 ? ref : ref.slice(0, at);
  if (at >= 0 && !/^sha256:[0-9a-f]{64}$|^sha512:[0-9a-f]{128}$|^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/.test(ref.slice(at + 1))) throw new CliError('invalid reference format');
  const slash = named.lastIndexOf('/');
  const colon = named.lastIndexOf(':');
  const repo = colon > slash ? named.slice(0, colon) : named;
  const tag = colon > slash ? named.slice(colon + 1) : '';
  const parts = repo.split('/');
  const hasDomain = parts.length > 1 && /[.:]|^localhost$/.test(parts[0]!);
  const path = hasDomain ? parts.slice(1) : parts;
  // docker's ParseNormalizedNamed names the path with "library/" for official images
  const remainder = (!hasDomain && path.length === 1 ? ['library', ...path] : path).join('/');
  if (remainder !== remainder.toLowerCase()) throw new CliError(`invalid reference format: repository name (${remainder}) must be lowercase`);
  if (!path.every((p) => /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/.test(p)) || (tag && !/^\w[\w.-]{0,127}$/.test(tag))) {
    throw new CliError('invalid reference format');
  }
  if (at >= 0) throw new CliError('refusing to create a tag with a digest reference');
  return { repo: repo.replace(/^(docker\.io|index\.docker\.io)\/(library\/)?/, ''), tag };
}

const commit: CommandSpec = {
  paths: [['container', 'commit'], ['commit']],
  usage: '[OPTIONS] CONTAINER [REPOSITORY[:TAG]]',
  description: "Create a new image from a container's changes",
  args: { min: 1, max: 2 },
  interspersed: false,
  flags: [
    { name: 'author', short: 'a', type: 'string', desc: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' },
    { name: 'change', short: 'c', type: 'list', desc: 'Apply Dockerfile instruction to the created image' },
    { name: 'message', short: 'm', type: 'string', desc: 'Commit message' },
    { name: 'pause', short: 'p', type: 'bool', default: true, desc: 'Pause container during commit' },
  ],
  async run(ctx, args, o) {
    const { repo, tag } = args[1] ? splitReference(args[1]) : { repo: '', tag: '' };
    const r = await ctx.client().request<{ Id: string }>('POST', `/commit${query({
      container: args[0], repo, tag, comment: o.str('message') ?? '', author: o.str('author') ?? '', changes: o.list('change'),
      pause: o.bool('pause') ? undefined : '0',
    })}`);
    ctx.out.write(`${r.Id}\n`);
  },
};

const exportCmd: CommandSpec = {
  paths: [['container', 'export'], ['export']],
  usage: '[OPTIONS] CONTAINER',
  description: "Export a container's filesystem as a tar archive",
  args: { min: 1, max: 1 },
  flags: [{ name: 'output', short: 'o', type: 'string', desc: 'Write to a file, instead of STDOUT' }],
  async run(ctx, args, o) {
    const file = o.str('output');
    if (!file && (ctx.out as { isTTY?: boolean }).isTTY) throw new CliError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    const res = await ctx.client().raw('GET', `/containers/${id(args[0]!)}/export`);
    await checkOk(res);
    if (!file) {
      for await (const c of res) await writeOut(ctx.out, c as Buffer);
      return;
    }
    // docker's atomicwriter: a temporary file beside the target, renamed over it when complete
    const { createWriteStream, renameSync, rmSync } = await import('node:fs');
    const { dirname, basename, join } = await import('node:path');
    const { pipeline } = await import('node:stream/promises');
    const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
    try {
      await pipeline(res, createWriteStream(tmp, { mode: 0o600 }));
      renameSync(tmp, file);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw new CliError(`failed to export container: ${(err as Error).message}`);
    }
  },
};

/**
 * update's restart policy. Not docker's opts.ParseRestartPolicy (run-options.ts has that): it
 * refuses a count on a policy other than on-failure itself, where docker leaves that to the
 * daemon. Other names are sent as given for the daemon to refuse, hence the cast.
 */
function restartPolicy(s: string): RestartPolicy {
  const [n = '', count] = s.split(':');
  const name = n as NonNullable<RestartPolicy['Name']>;
  if (count !== undefined) {
    if (name !== 'on-failure') throw new CliError(`invalid restart policy format: maximum retry count can only be used with 'on-failure'`);
    if (!/^-?\d+$/.test(count)) throw new CliError('invalid restart policy format: maximum retry count must be an integer');
    return { Name: name, MaximumRetryCount: Number(count) };
  }
  return { Name: name, MaximumRetryCount: 0 };
}

const update: CommandSpec = {
  paths: [['container', 'update'], ['update']],
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  description: 'Update configuration of one or more containers',
  args: { min: 1 },
  flags: [
    ...UPDATE_RESOURCE_FLAGS,
    { name: 'restart', type: 'string', desc: 'Restart policy to apply when a container exits' },
  ],
  async run(ctx, args, o) {
    const { PidsLimit, ...resources } = resourceValues(o, (f, v, why) => flagValueError(ctx, update, shownFlag(f), v, why));
    const body: ContainerUpdateBody & ResourceFields = {
      ...resources,
      // sent only when set: docker's Resources.PidsLimit is a *int64
      ...(PidsLimit ? { PidsLimit } : {}),
      RestartPolicy: o.str('restart') ? restartPolicy(o.str('restart')!) : { Name: '', MaximumRetryCount: 0 },
    };
    if (!update.flags.some((f) => o.changed(f.name))) throw new CliError('you must provide one or more flags when using this command');
    const warnings: string[] = [];
    const errors: string[] = [];
    for (const n of args) {
      try {
        const r = await ctx.client().containerUpdate(n, body);
        ctx.out.write(`${n}\n`);
        warnings.push(...(r?.Warnings ?? []));
      } catch (err) {
        errors.push(describeError(err));
      }
    }
    if (warnings.length) ctx.out.write(`${warnings.join('\n')}\n`);
    if (errors.length) throw new CliError(errors.join('\n'));
  },
};

const prune: CommandSpec = {
  paths: [['container', 'prune']],
  usage: '[OPTIONS]',
  description: 'Remove all stopped containers',
  args: { max: 0 },
  flags: [
    { name: 'filter', type: 'list', value: 'filter', desc: 'Provide filter values (e.g. "until=<timestamp>")' },
    { name: 'force', short: 'f', type: 'bool', desc: 'Do not prompt for confirmation' },
  ],
  async run(ctx, _args, o) {
    const filters = filtersJson(ctx, prune, o.list('filter'), '--filter');
    // declining is a cancellation: docker exits 0 without a message
    if (!o.bool('force') && !(await confirm(ctx, 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue?'))) return 0;
    const r = await ctx.client().containerPrune({ filters });
    const deleted = deletedSection('Deleted Containers', r.ContainersDeleted);
    if (deleted) ctx.out.write(`${deleted}\n`);
    ctx.out.write(`Total reclaimed space: ${humanSize(deleted ? (r.SpaceReclaimed ?? 0) : 0)}\n`);
  },
};

export const containerCommands: CommandSpec[] = [
  psCommand, logsCommand, stop, restart, kill, rm,
  simpleAction('pause', 'Pause all processes within one or more containers'),
  simpleAction('unpause', 'Unpause all processes within one or more containers'),
  wait, rename, port, top, diff, commit, exportCmd, update, prune, cpCommand, statsCommand,
];
