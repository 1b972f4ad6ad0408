// berth image commands (short and management forms): images, pull, push, tag, rmi, save, load,
// import, history, image inspect, image prune, login, logout, search — with the Docker CLI 28's
// flags, output and exit statuses. List rows are docker's ImageContext / historyContext fields.
import type { Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { checkOk, readAll, query } from '../../client/engine-client.ts';
import type { ImageHistoryResponseItem, ImageSearchResult, ImageSummary } from '../../types/engine-api.ts';
import { CliError, describeError, type CommandSpec, type Ctx } from '../command.ts';
import type { FlagSpec, Opts } from '../flags.ts';
import { formatList, type InspectTypes } from '../format/list.ts';
import { inspectEach } from './inspect-each.ts';
import { goStructs, markGoStructs } from '../format/go-structs.ts';
import { ago, humanSize } from '../format/units.ts';
import { filtersJson } from '../filters.ts';
import { confirm, goTime, imagesDeletedSection, writeOut } from '../shared.ts';
import { displayStream, renderProgress } from '../io/progress.ts';
import {
  INDEX_SERVER, convertToHostname, readConfig, registryAuthHeader, storedAuth, writeConfig, configPath, type AuthConfig,
} from '../auth.ts';
import { parseReference, normalizedName, type Reference } from '../../image/reference.ts';

export const FORMAT_TABLE_DESC = "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates";
const FORMAT_INSPECT_DESC = "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates";

const TRUST_FLAG = (desc: string): FlagSpec => ({ name: 'disable-content-trust', type: 'bool', desc, default: true });

// ---- shared pieces ----

/** reference.ParseNormalizedNamed: docker's messages ("invalid reference format…") as is. */
export function parseRef(s: string): Reference {
  try {
    return parseReference(s);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

/** reference.String(): the full name with its tag or digest, `docker.io/library/busybox:latest`. */
const refString = (r: Reference): string => `${normalizedName(r)}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;

/** stringid.TruncateID: drop the algorithm, keep 12 characters. */
export function truncateId(id: string): string {
  const i = id.indexOf(':');
  return (i >= 0 ? id.slice(i + 1) : id).slice(0, 12);
}

/** formatter.Ellipsis for single-width text: cut to max with "…" last. */
function ellipsis(s: string, max: number): string {
  const rs = [...s];
  return rs.length <= max ? s : `${rs.slice(0, max - 1).join('')}…`;
}

/** Go's time.RFC3339 in local time: "2026-11-23T14:15:05Z" or "…+01:00". */
export function rfc3339(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const p = (n: number): string => String(Math.abs(n)).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? 'Z' : `${off < 0 ? '-' : '+'}${p(Math.trunc(Math.abs(off) / 60))}:${p(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}${zone}`;
}

/** os.Open's error as Go prints it: "open /x: no such file or directory". */
function openError(path: string, err: unknown): CliError {
  const code = (err as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
  return new CliError(`open ${path}: ${why}`);
}

async function openInput(path: string): Promise<Readable> {
  const { open } = await import('node:fs/promises');
  try {
    const fh = await open(path, 'r');
    return fh.createReadStream();
  } catch (err) {
    throw openError(path, err);
  }
}

const isTty = (s: unknown): boolean => !!(s as { isTTY?: boolean }).isTTY;

/** A discard sink for -q: the stream is still read for its errors. */
async function drainProgress(res: Readable): Promise<unknown[]> {
  const { jsonLines } = await import('../../client/engine-client.ts');
  return displayStream(jsonLines(res), () => {}, { tty: false });
}

// ---- images ----

const IMAGE_HEADERS = {
  ID: 'IMAGE ID', Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT',
  Size: 'SIZE', Containers: 'CONTAINERS', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE', VirtualSize: 'SIZE',
};
const IMAGE_TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';
const IMAGE_TABLE_DIGEST = 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';

/** One row of `images` (docker's imageContext): its fields are what templates and `{{json .}}` see. */
export function imageRow(img: ImageSummary, repo: string, tag: string, digest: string, trunc: boolean): Record<string, string> {
  const shared = img.SharedSize ?? -1;
  return {
    Containers: img.Containers === undefined || img.Containers === -1 ? 'N/A' : String(img.Containers),
    CreatedAt: goTime(img.Created),
    CreatedSince: ago(img.Created),
    Digest: digest,
    ID: trunc ? truncateId(img.Id) : img.Id,
    Repository: repo,
    SharedSize: shared === -1 ? 'N/A' : humanSize(shared, 4),
    Size: humanSize(img.Size),
    Tag: tag,
    UniqueSize: img.Size === -1 || shared === -1 ? 'N/A' : humanSize(img.Size - shared, 4),
    VirtualSize: humanSize(img.Size, 4),
  };
}

/** familiar name of a stored reference (`busybox`, `127.0.0.1:5000/t/x`), or undefined if unparseable. */
function familiar(ref: string): Reference | undefined {
  try { return parseReference(ref); } catch { return undefined; }
}
const familiarName = (r: Reference): string => (r.domain !== 'docker.io' ? `${r.domain}/${r.path}` : r.path.replace(/^library\/(?=[^/]+$)/, ''));

/** formatter.imageEntries: a row per repo:tag (times digest with --digests), then digest-only repos. */
export function imageRows(img: ImageSummary, digests: boolean, trunc: boolean): Record<string, string>[] {
  const tags = img.RepoTags ?? [];
  const dgs = img.RepoDigests ?? [];
  const dangling = (tags.length === 0 && dgs.length === 0)
    || (tags.length === 1 && tags[0] === '<none>:<none>' && dgs.length === 1 && dgs[0] === '<none>@<none>');
  if (dangling) return [imageRow(img, '<none>', '<none>', '<none>', trunc)];
  const repoTags = new Map<string, string[]>();
  const repoDigests = new Map<string, string[]>();
  for (const s of tags) {
    const r = familiar(s);
    if (r?.tag) repoTags.set(familiarName(r), [...(repoTags.get(familiarName(r)) ?? []), r.tag]);
  }
  for (const s of dgs) {
    const r = familiar(s);
    if (r?.digest) repoDigests.set(familiarName(r), [...(repoDigests.get(familiarName(r)) ?? []), r.digest]);
  }
  const rows: Record<string, string>[] = [];
  for (const [repo, ts] of repoTags) {
    const ds = digests ? repoDigests.get(repo) ?? [] : [];
    repoDigests.delete(repo);
    for (const t of ts) {
      if (!ds.length) rows.push(imageRow(img, repo, t, '<none>', trunc));
      for (const d of ds) rows.push(imageRow(img, repo, t, d, trunc));
    }
  }
  for (const [repo, ds] of repoDigests) {
    if (digests) for (const d of ds) rows.push(imageRow(img, repo, '<none>', d, trunc));
    else rows.push(imageRow(img, repo, '<none>', '', trunc));
  }
  return rows;
}

const images: CommandSpec = {
  paths: [['image', 'ls'], ['image', 'list'], ['images']],
  usage: '[OPTIONS] [REPOSITORY[:TAG]]',
  description: 'List images',
  args: { max: 1 },
  flags: [
    { name: 'all', short: 'a', type: 'bool', desc: 'Show all images (default hides intermediate images)' },
    { name: 'digests', type: 'bool', desc: 'Show digests' },
    { name: 'filter', short: 'f', type: 'list', value: 'filter', desc: 'Filter output based on conditions provided' },
    { name: 'format', type: 'string', desc: FORMAT_TABLE_DESC },
    { name: 'no-trunc', type: 'bool', desc: "Don't truncate output" },
    { name: 'quiet', short: 'q', type: 'bool', desc: 'Only show image IDs' },
    { name: 'tree', type: 'bool', desc: 'List multi-platform images as a tree (EXPERIMENTAL)', hidden: true },
  ],
  async run(ctx, args, o) {
    const filters = o.list('filter');
    if (args[0]) filters.push(`reference=${args[0]}`);
    const f = filtersJson(ctx, images, filters);
    let format = o.str('format') ?? '';
    if (!format) {
      const cfgFormat = readConfig(ctx).imagesFormat;
      format = typeof cfgFormat === 'string' && cfgFormat && !o.bool('quiet') ? cfgFormat : 'table';
    }
    const list = await ctx.client().imageList({ all: o.bool('all'), filters: f });
    // A template naming .Digest shows digests as --digests does.
    const digests = o.bool('digests') || /\.Digest\b/.test(format);
    const rows = list.flatMap((img) => imageRows(img, digests, !o.bool('no-trunc')));
    const quiet = o.bool('quiet') && format === 'table';
    ctx.out.write(formatList(rows, {
      format: format === 'table' ? '' : format, quiet, quietField: 'ID', headers: IMAGE_HEADERS, typeName: '*formatter.imageContext',
      defaultFormat: o.bool('digests') ? IMAGE_TABLE_DIGEST : IMAGE_TABLE,
    }));
  },
};

// ---- pull / push ----

/** The reference a pull or push works on, with docker's -a checks and its default tag. */
function namedRef(ctx: Ctx, s: string, all: boolean, quiet: boolean): Reference {
  const r = parseRef(s);
  if (all && (r.tag || r.digest)) throw new CliError("tag can't be used with --all-tags/-a");
  if (!all && !r.tag && !r.digest) {
    r.tag = 'latest';
    if (!quiet) ctx.out.write('Using default tag: latest\n');
  }
  return r;
}

/** POST to an endpoint that talks to a registry (pull, push), with the stored login for `image`'s registry. */
async function registryPost(ctx: Ctx, path: string, image: string): Promise<IncomingMessage> {
  const res = await ctx.client().raw('POST', path, undefined, { 'X-Registry-Auth': registryAuthHeader(ctx, image) ?? '' });
  await checkOk(res);
  return res;
}

const pull: CommandSpec = {
  paths: [['image', 'pull'], ['pull']],
  usage: '[OPTIONS] NAME[:TAG|@DIGEST]',
  description: 'Download an image from a registry',
  args: { min: 1, max: 1 },
  flags: [
    { name: 'all-tags', short: 'a', type: 'bool', desc: 'Download all tagged images in the repository' },
    TRUST_FLAG('Skip image verification'),
    { name: 'platform', type: 'string', desc: 'Set platform if server is multi-platform capable' },
    { name: 'quiet', short: 'q', type: 'bool', desc: 'Suppress verbose output' },
  ],
  async run(ctx, args, o) {
    const all = o.bool('all-tags');
    const quiet = o.bool('quiet');
    const r = namedRef(ctx, args[0]!, all, quiet);
    const q = query({ fromImage: normalizedName(r), tag: all ? undefined : r.digest ?? r.tag, platform: o.str('platform')?.toLowerCase() || undefined });
    const res = await registryPost(ctx, `/images/create${q}`, args[0]!);
    await (quiet ? drainProgress(res) : renderProgress(ctx, res));
    ctx.out.write(`${refString(r)}\n`);
  },
};

const push: CommandSpec = {
  paths: [['image', 'push'], ['push']],
  usage: '[OPTIONS] NAME[:TAG]',
  description: 'Upload an image to a registry',
  args: { min: 1, max: 1 },
  flags: [
    { name: 'all-tags', short: 'a', type: 'bool', desc: 'Push all tags of an image to the repository' },
    TRUST_FLAG('Skip image signing'),
    { name: 'platform', type: 'string', desc: "Push a platform-specific manifest as a single-platform image to the registry.\nImage index won't be pushed, meaning that other manifests, including attestations won't be preserved.\n'os[/arch[/variant]]': Explicit platform (eg. linux/amd64)" },
    { name: 'quiet', short: 'q', type: 'bool', desc: 'Suppress verbose output' },
  ],
  async run(ctx, args, o) {
    const all = o.bool('all-tags');
    const quiet = o.bool('quiet');
    const r = namedRef(ctx, args[0]!, all, quiet);
    if (r.digest) throw new CliError('cannot push a digest reference');
    const q = query({ tag: all ? undefined : r.tag, platform: o.str('platform') || undefined });
    const res = await registryPost(ctx, `/images/${normalizedName(r)}/push${q}`, args[0]!);
    if (quiet) {
      await drainProgress(res);
      ctx.out.write(`${refString(r)}\n`);
    } else {
      await renderProgress(ctx, res);
    }
  },
};

// ---- tag / rmi ----

const tag: CommandSpec = {
  paths: [['image', 'tag'], ['tag']],
  usage: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
  description: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
  args: { min: 2, max: 2 },
  flags: [],
  async run(ctx, args) {
    const [source, target] = args as [string, string];
    // ParseAnyReference accepts a bare ID as well as a name.
    if (!/^(sha256:)?[0-9a-f]{64}$/.test(source)) {
      try { parseReference(source); } catch (err) {
        throw new CliError(`Error parsing reference: "${source}" is not a valid repository/tag: ${(err as Error).message}`);
      }
    }
    let r: Reference;
    try { r = parseReference(target); } catch (err) {
      throw new CliError(`Error parsing reference: "${target}" is not a valid repository/tag: ${(err as Error).message}`);
    }
    if (r.digest) throw new CliError('refusing to create a tag with a digest reference');
    await ctx.client().request('POST', `/images/${source}/tag${query({ repo: normalizedName(r), tag: r.tag ?? 'latest' })}`);
  },
};

const rmi: CommandSpec = {
  paths: [['image', 'rm'], ['image', 'remove'], ['rmi']],
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  description: 'Remove one or more images',
  args: { min: 1 },
  flags: [
    { name: 'force', short: 'f', type: 'bool', desc: 'Force removal of the image' },
    { name: 'no-prune', type: 'bool', desc: 'Do not delete untagged parents' },
    { name: 'platform', type: 'list', value: 'strings', desc: 'Remove only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")' },
  ],
  async run(ctx, args, o) {
    const errors: string[] = [];
    for (const name of args) {
      try {
        const dels = await ctx.client().imageDelete(name, { force: o.bool('force'), noprune: o.bool('no-prune') });
        ctx.out.write((dels ?? []).map((d) => (d.Deleted ? `Deleted: ${d.Deleted}\n` : `Untagged: ${d.Untagged}\n`)).join(''));
      } catch (err) {
        errors.push(describeError(err));
      }
    }
    if (errors.length) throw new CliError(errors.join('\n'));
  },
};

// ---- save / load / import ----

const save: CommandSpec = {
  paths: [['image', 'save'], ['save']],
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  description: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
  args: { min: 1 },
  flags: [
    { name: 'output', short: 'o', type: 'string', desc: 'Write to a file, instead of STDOUT' },
    { name: 'platform', type: 'string', desc: 'Save only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")' },
  ],
  async run(ctx, args, o) {
    const output = o.str('output') ?? '';
    if (!output && isTty(ctx.out)) throw new CliError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    const { dirname, join, basename } = await import('node:path');
    const fs = await import('node:fs/promises');
    if (output) {
      const dir = dirname(output);
      const st = await fs.stat(dir).catch(() => undefined);
      if (!st) throw new CliError(`failed to save image: invalid output path: stat ${dir}: no such file or directory`);
      if (!st.isDirectory()) throw new CliError(`failed to save image: invalid output path: stat ${dir}: not a directory`);
    }
    const res = await ctx.client().raw('GET', `/images/get${query({ names: args, platform: o.str('platform') || undefined })}`);
    await checkOk(res);
    if (!output) {
      for await (const c of res) await writeOut(ctx.out, c as Buffer);
      return;
    }
    // command.CopyToFile: a temp file beside the target, renamed when complete.
    const tmp = join(dirname(output), `.${basename(output)}.${process.pid}.tmp`);
    const { pipeline } = await import('node:stream/promises');
    const { createWriteStream } = await import('node:fs');
    try {
      await pipeline(res, createWriteStream(tmp, { mode: 0o600 }));
      await fs.rename(tmp, output);
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw err;
    }
  },
};

const load: CommandSpec = {
  paths: [['image', 'load'], ['load']],
  usage: '[OPTIONS]',
  description: 'Load an image from a tar archive or STDIN',
  args: { max: 0 },
  flags: [
    { name: 'input', short: 'i', type: 'string', desc: 'Read from tar archive file, instead of STDIN' },
    { name: 'platform', type: 'string', desc: 'Load only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")' },
    { name: 'quiet', short: 'q', type: 'bool', desc: 'Suppress the load output' },
  ],
  async run(ctx, _args, o) {
    const input = o.str('input');
    if (!input && isTty(ctx.stdin)) throw new CliError('requested load from stdin, but stdin is empty');
    const body = input ? await openInput(input) : ctx.stdin;
    // Off a terminal the daemon is asked for the short form (docker does the same).
    const quiet = o.bool('quiet') || !isTty(ctx.out);
    const res = await ctx.client().raw('POST', `/images/load${query({ quiet, platform: o.str('platform') || undefined })}`, body, { 'Content-Type': 'application/x-tar' });
    await checkOk(res);
    if (/json/.test(String(res.headers['content-type'] ?? ''))) await renderProgress(ctx, res);
    else ctx.out.write(await readAll(res));
  },
};

const importCmd: CommandSpec = {
  paths: [['image', 'import'], ['import']],
  usage: '[OPTIONS] file|URL|- [REPOSITORY[:TAG]]',
  description: 'Import the contents from a tarball to create a filesystem image',
  args: { min: 1 }, // docker: RequiresMinArgs(1); a third argument is ignored
  flags: [
    { name: 'change', short: 'c', type: 'list', desc: 'Apply Dockerfile instruction to the created image' },
    { name: 'message', short: 'm', type: 'string', desc: 'Set commit message for imported image' },
    { name: 'platform', type: 'string', desc: 'Set platform if server is multi-platform capable' },
  ],
  async run(ctx, args, o) {
    const [source, ref] = args as [string, string | undefined];
    let body: Readable | undefined;
    let fromSrc = '-';
    if (source === '-') body = ctx.stdin;
    else if (/^https?:\/\//.test(source)) fromSrc = source;
    else body = await openInput(source);
    if (ref) parseRef(ref);
    const q = query({ fromSrc, repo: ref, message: o.str('message'), platform: o.str('platform') || undefined, changes: o.list('change') });
    const res = await ctx.client().raw('POST', `/images/create${q}`, body, body ? { 'Content-Type': 'application/x-tar' } : {});
    await checkOk(res);
    await renderProgress(ctx, res);
  },
};

// ---- history / inspect ----

const HISTORY_HEADERS = { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' };

/** docker's historyContext: CreatedSince is the RFC 3339 time without -H, sizes in bytes too. */
export function historyRow(h: ImageHistoryResponseItem, human: boolean, trunc: boolean): Record<string, string> {
  const createdBy = h.CreatedBy.replaceAll('\t', ' ');
  return {
    Comment: h.Comment,
    CreatedAt: rfc3339(h.Created),
    CreatedBy: trunc ? ellipsis(createdBy, 45) : createdBy,
    CreatedSince: human ? ago(h.Created) : rfc3339(h.Created),
    ID: trunc ? truncateId(h.Id) : h.Id,
    Size: human ? humanSize(h.Size) : String(h.Size),
  };
}

const history: CommandSpec = {
  paths: [['image', 'history'], ['history']],
  usage: '[OPTIONS] IMAGE',
  description: 'Show the history of an image',
  args: { min: 1, max: 1 },
  flags: [
    { name: 'format', type: 'string', desc: FORMAT_TABLE_DESC },
    { name: 'human', short: 'H', type: 'bool', desc: 'Print sizes and dates in human readable format', default: true },
    { name: 'no-trunc', type: 'bool', desc: "Don't truncate output" },
    { name: 'platform', type: 'string', desc: 'Show history for the given platform. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")' },
    { name: 'quiet', short: 'q', type: 'bool', desc: 'Only show image IDs' },
  ],
  async run(ctx, args, o) {
    const items = await ctx.client().imageHistory(args[0]!, { platform: o.str('platform') ? JSON.stringify(platformObject(o.str('platform')!)) : undefined });
    const human = o.bool('human');
    const format = o.str('format') ?? '';
    const rows = items.map((h) => historyRow(h, human, !o.bool('no-trunc')));
    const table = !format || format === 'table';
    ctx.out.write(formatList(rows, {
      format: table ? '' : format, quiet: o.bool('quiet') && table, quietField: 'ID', headers: HISTORY_HEADERS, typeName: '*image.historyContext',
      defaultFormat: human
        ? 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}'
        : 'table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}',
    }));
  },
};

function platformObject(p: string): { os: string; architecture?: string; variant?: string } {
  const [os, architecture, variant] = p.toLowerCase().split('/');
  return { os: os!, ...(architecture ? { architecture } : {}), ...(variant ? { variant } : {}) };
}

/** image.InspectResponse's nested structs (the rest are maps). */
const IMAGE_STRUCTS = { Config: '*dockerspec.DockerOCIImageConfig', RootFS: 'image.RootFS', Metadata: 'image.Metadata', GraphDriver: 'storage.DriverData' };

/**
 * An image as templates see docker's typed struct: Go's `ID` (JSON "Id"), and Config as the OCI
 * image config encodes it (omitempty: nulls, "", false and empty lists left out).
 */
function asGoImage(img: Record<string, unknown>): Record<string, unknown> {
  const out = { ...img };
  Object.defineProperty(out, 'ID', { get: () => img.Id, enumerable: false });
  const cfg = img.Config;
  if (cfg && typeof cfg === 'object') {
    const c: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(cfg)) {
      const empty = v === null || v === '' || v === false || v === 0 || (typeof v === 'object' && Object.keys(v).length === 0);
      // omitted from its JSON, but still a field: nil maps read as empty ones
      if (!empty) c[k] = v;
      else Object.defineProperty(c, k, { value: v === null && ['Labels', 'Volumes', 'ExposedPorts'].includes(k) ? {} : v, enumerable: false });
    }
    // fields the JSON left out are still the typed struct's: "" and nil maps (map[])
    for (const k of ['User', 'WorkingDir', 'StopSignal']) if (!(k in c)) Object.defineProperty(c, k, { value: '', enumerable: false });
    for (const k of ['Labels', 'Volumes', 'ExposedPorts']) if (!(k in c)) Object.defineProperty(c, k, { value: {}, enumerable: false });
    markGoStructs({ Config: c });
    out.Config = c;
  }
  return out;
}

/** What an image inspect template runs on: the typed struct first, then the raw reply. */
export function imageTemplateView(obj: unknown): { obj: unknown; typeName: string; types: InspectTypes } {
  const typed = asGoImage(obj as Record<string, unknown>);
  return { obj: typed, typeName: 'image.InspectResponse', types: { structType: goStructs(typed, IMAGE_STRUCTS), rawFallback: true } };
}

const inspect: CommandSpec = {
  paths: [['image', 'inspect']],
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  description: 'Display detailed information on one or more images',
  args: { min: 1 },
  flags: [
    { name: 'format', short: 'f', type: 'string', desc: FORMAT_INSPECT_DESC },
    { name: 'platform', type: 'string', desc: "Inspect a specific platform of the multi-platform image.\nIf the image or the server is not multi-platform capable, the command will error out if the platform does not match.\n'os[/arch[/variant]]': Explicit platform (eg. linux/amd64)" },
  ],
  run(ctx, args, o) {
    // typed image.InspectResponse first, then the raw reply (docker's ImageInspectWithRaw)
    return inspectEach(ctx, args, o.str('format') || undefined, (n) => ctx.client().request('GET', `/images/${n}/json`), imageTemplateView);
  },
};

// ---- prune ----

const prune: CommandSpec = {
  paths: [['image', 'prune']],
  usage: '[OPTIONS]',
  description: 'Remove unused images',
  args: { max: 0 },
  flags: [
    { name: 'all', short: 'a', type: 'bool', desc: 'Remove all unused images, not just dangling ones' },
    { name: 'filter', type: 'list', value: 'filter', desc: 'Provide filter values (e.g. "until=<timestamp>")' },
    { name: 'force', short: 'f', type: 'bool', desc: 'Do not prompt for confirmation' },
  ],
  async run(ctx, _args, o) {
    const all = o.bool('all');
    const cfgFilters = readConfig(ctx).pruneFilters;
    const given = [...(Array.isArray(cfgFilters) ? cfgFilters.map(String) : []), ...o.list('filter'), `dangling=${!all}`];
    const f = filtersJson(ctx, prune, given, '--filter');
    const warning = all
      ? 'WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue?'
      : 'WARNING! This will remove all dangling images.\nAre you sure you want to continue?';
    if (!o.bool('force') && !(await confirm(ctx, warning))) return 0;
    const report = await ctx.client().imagePrune({ filters: f });
    const deleted = imagesDeletedSection(report.ImagesDeleted);
    if (deleted) ctx.out.write(`${deleted}\n`);
    ctx.out.write(`Total reclaimed space: ${humanSize(report.SpaceReclaimed ?? 0, 4)}\n`);
  },
};

// ---- login / logout / search ----

/** Reads stdin to its end (--password-stdin). */
async function readStdin(ctx: Ctx): Promise<string> {
  return (await readAll(ctx.stdin)).toString('utf8');
}

/** A prompt on the terminal; the password without echo. */
async function prompt(ctx: Ctx, question: string, secret: boolean): Promise<string> {
  ctx.out.write(question);
  const stdin = ctx.stdin as Readable & { setRawMode?: (b: boolean) => void };
  if (secret) stdin.setRawMode?.(true);
  try {
    return await new Promise<string>((resolve) => {
      let buf = '';
      const onData = (c: Buffer): void => {
        for (const ch of c.toString('utf8')) {
          if (ch === '\r' || ch === '\n') {
            stdin.off('data', onData);
            stdin.pause();
            if (secret) ctx.out.write('\n');
            resolve(buf);
            return;
          }
          if (ch === '\u0003') process.exit(130);
          if (ch === '\u007f') buf = buf.slice(0, -1);
          else buf += ch;
        }
      };
      stdin.on('data', onData);
      stdin.resume();
    });
  } finally {
    if (secret) stdin.setRawMode?.(false);
  }
}

const loginFlags: FlagSpec[] = [
  { name: 'password', short: 'p', type: 'string', desc: 'Password or Personal Access Token (PAT)' },
  { name: 'password-stdin', type: 'bool', desc: 'Take the Password or Personal Access Token (PAT) from stdin' },
  { name: 'username', short: 'u', type: 'string', desc: 'Username' },
];

async function getCredentials(ctx: Ctx, o: Opts, server: string): Promise<AuthConfig | undefined> {
  let username = (o.str('username') ?? '').trim();
  let password = o.str('password') ?? '';
  if (o.bool('password-stdin')) {
    password = (await readStdin(ctx)).replace(/\n$/, '').replace(/\r$/, '');
  }
  if (!username && !password) {
    // Stored credentials are tried first, as the Docker CLI does.
    const stored = storedAuth(ctx, server);
    if (stored.username && (stored.password || stored.identitytoken)) return undefined;
  }
  if (!username || !password) {
    if (!isTty(ctx.stdin)) throw new CliError('Error: Cannot perform an interactive login from a non TTY device');
    if (!username) {
      const stored = storedAuth(ctx, server).username;
      username = (await prompt(ctx, stored ? `Username (${stored}): ` : 'Username: ', false)).trim() || stored || '';
      if (!username) throw new CliError('Error: Non-null Username Required');
    }
    if (!password) {
      password = await prompt(ctx, 'Password: ', true);
      if (!password) throw new CliError('Error: Password Required');
    }
  }
  return { username, password, serveraddress: server };
}

const login: CommandSpec = {
  paths: [['login']],
  usage: '[OPTIONS] [SERVER]',
  description: 'Authenticate to a registry.\nDefaults to Docker Hub if no server is specified.',
  args: { max: 1 },
  flags: loginFlags,
  async run(ctx, args, o) {
    if (o.changed('password') && o.bool('password-stdin')) throw new CliError('conflicting options: cannot specify both --password and --password-stdin');
    if (o.bool('password-stdin') && !o.str('username')) throw new CliError('the --password-stdin option requires --username to be set');
    if (o.changed('password')) ctx.err.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
    const given = args[0] ?? '';
    const server = given && given !== 'docker.io' ? convertToHostname(given) : INDEX_SERVER;
    let creds = await getCredentials(ctx, o, server);
    if (!creds) {
      const stored = storedAuth(ctx, server);
      ctx.err.write(`Authenticating with existing credentials... [Username: ${stored.username}]\n\n Info -> To login with a different account, run 'berth logout' followed by 'berth login'\n\n\n`);
      creds = { username: stored.username, password: stored.password, identitytoken: stored.identitytoken, serveraddress: server };
    }
    const status = await ctx.client().systemAuth(creds);
    // A token replaces the password in the store when the registry gives one.
    const entry: AuthConfig = { auth: Buffer.from(`${creds.username}:${status.IdentityToken ? '' : creds.password}`).toString('base64') };
    if (status.IdentityToken) entry.identitytoken = status.IdentityToken;
    const cfg = readConfig(ctx);
    const before = JSON.stringify(cfg.auths?.[server] ?? null);
    cfg.auths = { ...(cfg.auths ?? {}), [server]: entry };
    if (before !== JSON.stringify(entry)) {
      await writeConfig(ctx, cfg);
      if (!status.IdentityToken) {
        ctx.err.write(`\nWARNING! Your credentials are stored unencrypted in '${configPath(ctx)}'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n\n`);
      }
    }
    if (status.Status) ctx.out.write(`${status.Status}\n`);
  },
};

const logout: CommandSpec = {
  paths: [['logout']],
  usage: '[SERVER]',
  description: 'Log out from a registry.\nIf no server is specified, the default is defined by the daemon.',
  args: { max: 1 },
  flags: [],
  async run(ctx, args) {
    const given = args[0] ?? '';
    const isDefault = !given || given === 'docker.io' || given === INDEX_SERVER;
    const host = isDefault ? INDEX_SERVER : convertToHostname(given);
    const keys = isDefault ? [INDEX_SERVER] : [given, host, `http://${host}`, `https://${host}`];
    ctx.out.write(`Removing login credentials for ${host}\n`);
    const cfg = readConfig(ctx);
    const auths = { ...(cfg.auths ?? {}) };
    for (const k of keys) delete auths[k];
    await writeConfig(ctx, { ...cfg, auths });
  },
};

/**
 * A search result as a row reads it: the spec makes every field optional; the registry's search
 * API (and so the daemon) always sends these four.
 */
type SearchHit = ImageSearchResult[number] & Required<Pick<ImageSearchResult[number], 'name' | 'description' | 'star_count' | 'is_official'>>;

const search: CommandSpec = {
  paths: [['search']],
  usage: '[OPTIONS] TERM',
  description: 'Search Docker Hub for images',
  args: { min: 1, max: 1 },
  flags: [
    { name: 'filter', short: 'f', type: 'list', value: 'filter', desc: 'Filter output based on conditions provided' },
    { name: 'format', type: 'string', desc: 'Pretty-print search using a Go template' },
    { name: 'limit', type: 'int', desc: 'Max number of search results' },
    { name: 'no-trunc', type: 'bool', desc: "Don't truncate output" },
  ],
  async run(ctx, args, o) {
    const f = filtersJson(ctx, search, o.list('filter'));
    const results = await ctx.client().imageSearch({ term: args[0]!, limit: o.int('limit'), filters: f }, registryAuthHeader(ctx, args[0]!) ?? '') as SearchHit[];
    const trunc = !o.bool('no-trunc');
    const rows = results.map((r) => ({
      Name: r.name,
      Description: trunc ? ellipsis(r.description.replace(/\n/g, ' '), 45) : r.description,
      StarCount: String(r.star_count),
      IsOfficial: r.is_official ? '[OK]' : '',
      IsAutomated: r.is_automated ? '[OK]' : '',
    }));
    ctx.out.write(formatList(rows, {
      format: o.str('format') || '', headers: { Name: 'NAME', Description: 'DESCRIPTION', StarCount: 'STARS', IsOfficial: 'OFFICIAL', IsAutomated: 'AUTOMATED' },
      defaultFormat: 'table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}',
    }));
  },
};

export const imageCommands: CommandSpec[] = [images, pull, push, tag, rmi, save, load, importCmd, history, inspect, prune, login, logout, search];
