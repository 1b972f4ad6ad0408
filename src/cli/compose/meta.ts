// The commands about projects rather than their containers' lifecycle: `config` (the loaded model
// as Compose prints it, through the model's renderConfig), `version`, and `ls` (every project the
// daemon has containers of, found by Compose's labels, so it needs no file).
import { writeFile } from 'node:fs/promises';
import { CliError } from '../command.ts';
import { table } from '../tabwriter.ts';
import type { Project } from '../../compose/model/types.ts';
import { BERTH_VERSION } from '../../types/version.ts';
import type { ComposeCommandSpec } from './command.ts';
import { renderConfig, renderConfigList } from '../../compose/model/render.ts';

const config: ComposeCommandSpec = {
  names: ['config'],
  usage: '[OPTIONS] [SERVICE...]',
  description: 'Parse, resolve and render compose file in canonical format',
  flags: [
    { name: 'format', type: 'string', desc: 'Format the output. Values: [yaml | json]', default: 'yaml' },
    { name: 'images', type: 'bool', desc: 'Print the image names, one per line.' },
    { name: 'networks', type: 'bool', desc: 'Print the network names, one per line.' },
    { name: 'no-interpolate', type: 'bool', desc: 'Don\'t interpolate environment variables' },
    { name: 'output', short: 'o', type: 'string', desc: 'Save to file (default to stdout)' },
    { name: 'profiles', type: 'bool', desc: 'Print the profile names, one per line.' },
    { name: 'quiet', short: 'q', type: 'bool', desc: 'Only validate the configuration, don\'t print anything' },
    { name: 'services', type: 'bool', desc: 'Print the service names, one per line.' },
    { name: 'volumes', type: 'bool', desc: 'Print the volume names, one per line.' },
  ],
  async run(ctx, services, o) {
    if (o.bool('no-interpolate')) throw new CliError('config --no-interpolate is not supported by berth compose');
    const format = o.str('format');
    if (format !== 'yaml' && format !== 'json') throw new CliError(`unsupported format "${format}"`);
    const project = await ctx.project();
    for (const s of services) if (!(s in project.services)) throw new CliError(`no such service: ${s}`);
    if (o.bool('quiet')) return 0;
    const list = (['services', 'volumes', 'networks', 'images', 'profiles'] as const).find((k) => o.bool(k));
    // Named services narrow what is printed, as `config web` does in Compose.
    const shown: Project = services.length ? { ...project, services: Object.fromEntries(services.map((s) => [s, project.services[s]!])) } : project;
    let text = list ? renderConfigList(list === 'profiles' ? project : shown, list) : renderConfig(shown, { format });
    if (text && !text.endsWith('\n')) text += '\n';
    const out = o.str('output');
    if (out) await writeFile(out, text);
    else ctx.out.write(text);
    return 0;
  },
};

export const versionCommand: ComposeCommandSpec = {
  names: ['version'],
  usage: '[OPTIONS]',
  description: 'Show the Docker Compose version information',
  flags: [
    { name: 'format', short: 'f', type: 'string', desc: 'Format the output. Values: [pretty | json]. (Default: pretty)' },
    { name: 'short', type: 'bool', desc: 'Shows only Compose\'s version number' },
  ],
  args: { max: 0 },
  async run(ctx, _args, o) {
    if (o.bool('short')) ctx.out.write(`${BERTH_VERSION}\n`);
    else if (o.str('format') === 'json') ctx.out.write(`${JSON.stringify({ version: `v${BERTH_VERSION}` })}\n`);
    else if (o.str('format') && o.str('format') !== 'pretty') throw new CliError(`unsupported format "${o.str('format')}"`);
    else ctx.out.write(`Berth Compose version v${BERTH_VERSION}\n`);
    return 0;
  },
};

export interface ProjectSummary { Name: string; Status: string; ConfigFiles: string }

/**
 * Projects from their containers' labels: one row per com.docker.compose.project, the states
 * counted as Compose shows them (`running(2), exited(1)`, states in name order) and the config
 * files of the first container seen.
 */
export function summarize(containers: { State?: string | null; Labels?: Record<string, string> | null }[]): ProjectSummary[] {
  const byName = new Map<string, { states: Map<string, number>; files: string }>();
  for (const c of containers) {
    const name = c.Labels?.['com.docker.compose.project'];
    if (!name) continue;
    let p = byName.get(name);
    if (!p) byName.set(name, (p = { states: new Map(), files: c.Labels?.['com.docker.compose.project.config_files'] ?? '' }));
    const st = c.State ?? 'unknown';
    p.states.set(st, (p.states.get(st) ?? 0) + 1);
  }
  return [...byName].sort(([a], [b]) => a.localeCompare(b)).map(([Name, p]) => ({
    Name,
    Status: [...p.states].sort(([a], [b]) => a.localeCompare(b)).map(([s, n]) => `${s}(${n})`).join(', '),
    ConfigFiles: p.files,
  }));
}

const ls: ComposeCommandSpec = {
  names: ['ls'],
  usage: '[OPTIONS]',
  description: 'List running compose projects',
  flags: [
    { name: 'all', short: 'a', type: 'bool', desc: 'Show all stopped Compose projects' },
    { name: 'filter', type: 'list', value: 'filter', desc: 'Filter output based on conditions provided' },
    { name: 'format', type: 'string', desc: 'Format the output. Values: [table | json]', default: 'table' },
    { name: 'quiet', short: 'q', type: 'bool', desc: 'Only display project names' },
  ],
  args: { max: 0 },
  async run(ctx, _args, o) {
    const format = o.str('format');
    if (format !== 'table' && format !== 'json') throw new CliError(`format value ${JSON.stringify(format)} could not be parsed: only table and json are supported`);
    const names: string[] = [];
    for (const f of o.list('filter')) {
      const eq = f.indexOf('=');
      if (eq < 0 || f.slice(0, eq) !== 'name') throw new CliError(`invalid filter '${f}'`);
      names.push(f.slice(eq + 1));
    }
    const containers = await ctx.client().containerList({ all: o.bool('all'), filters: JSON.stringify({ label: ['com.docker.compose.project'] }) });
    const rows = summarize(containers).filter((p) => names.length === 0 || names.some((n) => p.Name.includes(n)));
    if (o.bool('quiet')) ctx.out.write(rows.map((r) => `${r.Name}\n`).join(''));
    else if (format === 'json') ctx.out.write(`${JSON.stringify(rows)}\n`);
    else ctx.out.write(table([['NAME', 'STATUS', 'CONFIG FILES'], ...rows.map((r) => [r.Name, r.Status, r.ConfigFiles])], { minwidth: 20, padding: 3 }));
    return 0;
  },
};

export const metaCommands: ComposeCommandSpec[] = [config, versionCommand, ls];
