// `berth inspect` (any object: container, then image, network, volume) and `container inspect`,
// printed as docker's inspect package prints them: an indented JSON array, compact with
// `--format json`, or a template per object; missing objects are reported after the output.
import { ApiError, type EngineClient, query } from '../../client/engine-client.ts';
import { CliError, type CommandSpec, type Ctx } from '../command.ts';
import type { InspectTypes } from '../format/list.ts';
import { inspectEach } from './inspect-each.ts';
import { imageTemplateView } from './image.ts';
import { networkTemplateView } from './network.ts';
import { markGoStructs } from '../format/go-structs.ts';

const INSPECT_FORMAT_HELP = `Format output using a custom template:
'json':             Print in JSON format
'TEMPLATE':         Print output using the given Go template.
Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates`;

const ALL_TYPES = ['config', 'container', 'image', 'network', 'node', 'plugin', 'secret', 'service', 'task', 'volume'];

type Getter = (ref: string) => Promise<unknown>;

/** Objects whose templates run on docker's typed struct first (images, networks), by kind. */
const TEMPLATE_VIEWS: Record<string, (obj: unknown) => { obj: unknown; typeName: string; types: InspectTypes }> = {
  image: imageTemplateView, network: networkTemplateView,
};
/** The typed view of each object `inspect` fetched, for its template. */
const views = new WeakMap<object, { obj: unknown; typeName: string; types: InspectTypes }>();

const enc = encodeURIComponent;

const getters = (client: EngineClient, size: boolean): [string, Getter][] => [
  ['container', (r) => client.request('GET', `/containers/${enc(r)}/json${query({ size })}`)],
  ['image', (r) => client.request('GET', `/images/${enc(r)}/json`)],
  ['network', (r) => client.request('GET', `/networks/${enc(r)}`)],
  ['volume', (r) => client.request('GET', `/volumes/${enc(r)}`)],
  ['plugin', (r) => client.request('GET', `/plugins/${enc(r)}/json`)],
  // swarm objects: berthd is never a swarm manager, so docker would skip these when no --type is given
  ['service', (r) => client.request('GET', `/services/${enc(r)}${query({ insertDefaults: true })}`)],
  ['task', (r) => client.request('GET', `/tasks/${enc(r)}`)],
  ['node', (r) => client.request('GET', `/nodes/${enc(r)}`)],
  ['secret', (r) => client.request('GET', `/secrets/${enc(r)}`)],
  ['config', (r) => client.request('GET', `/configs/${enc(r)}`)],
];

const SWARM = new Set(['service', 'task', 'node', 'secret', 'config']);

/** docker's isErrSkippable: try the next kind of object. */
const skippable = (err: unknown): boolean =>
  (err instanceof ApiError && err.status === 404) || /not supported|invalid reference format/.test((err as Error)?.message ?? '');

/** A Go template error that is not an execution error is a parse error: docker exits 64 before fetching. */
/** inspect.Inspect for any kind of object: the typed view of images and networks for templates. */
export function inspectRefs(ctx: Ctx, refs: string[], format: string | undefined, get: Getter): Promise<number> {
  return inspectEach(ctx, refs, format, async (ref) => markGoStructs(await get(ref)),
    (obj) => (obj && typeof obj === 'object' ? views.get(obj) : undefined) ?? { obj });
}

const inspect: CommandSpec = {
  paths: [['inspect']],
  usage: '[OPTIONS] NAME|ID [NAME|ID...]',
  description: 'Return low-level information on Berth objects',
  args: { min: 1 },
  flags: [
    { name: 'format', short: 'f', type: 'string', desc: INSPECT_FORMAT_HELP },
    { name: 'size', short: 's', type: 'bool', desc: 'Display total file sizes if the type is container' },
    { name: 'type', type: 'string', desc: 'Only inspect objects of the given type' },
  ],
  async run(ctx, args, o) {
    const type = o.str('type') ?? '';
    if (type && !ALL_TYPES.includes(type)) throw new CliError(`unknown type: "${type}": must be one of "${ALL_TYPES.join('", "')}"`);
    const size = o.bool('size');
    const all = getters(ctx.client(), size);
    return inspectRefs(ctx, args, o.str('format'), async (ref) => {
      for (const [kind, get] of all) {
        if (type ? kind !== type : SWARM.has(kind)) continue;
        try {
          const obj = await get(ref);
          if (size && kind !== 'container') ctx.err.write(`WARNING: --size ignored for ${kind}\n`);
          const view = TEMPLATE_VIEWS[kind];
          if (view && obj && typeof obj === 'object') views.set(obj, view(obj));
          return obj;
        } catch (err) {
          if (!type && skippable(err)) continue;
          throw err;
        }
      }
      throw new CliError(`Error: No such object: ${ref}`);
    });
  },
};

const containerInspect: CommandSpec = {
  paths: [['container', 'inspect']],
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  description: 'Display detailed information on one or more containers',
  args: { min: 1 },
  flags: [
    { name: 'format', short: 'f', type: 'string', desc: INSPECT_FORMAT_HELP },
    { name: 'size', short: 's', type: 'bool', desc: 'Display total file sizes' },
  ],
  async run(ctx, args, o) {
    const client = ctx.client();
    return inspectRefs(ctx, args, o.str('format'), (ref) => client.request('GET', `/containers/${enc(ref)}/json${query({ size: o.bool('size') })}`));
  },
};

export const inspectCommands: CommandSpec[] = [inspect, containerInspect];
