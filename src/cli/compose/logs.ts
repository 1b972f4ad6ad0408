// `compose logs`: the project's containers' output through the log printer, stdout and stderr
// both to stdout with the `web-1  | ` prefix (Compose's logs consumer); -f follows containers that
// start later and ends on Ctrl-C or when none is left running.
import type { Opts } from '../flags.ts';
import { CliError } from '../command.ts';
import type { ComposeCommandSpec, ComposeCtx } from './command.ts';
import { attachProject } from './log-printer.ts';
import { projectOrName } from './ps.ts';
import { checkServices } from './s-containers.ts';

async function runLogs(ctx: ComposeCtx, services: string[], o: Opts): Promise<number> {
  const { name, known } = await projectOrName(ctx);
  checkServices(known, services);
  const index = o.int('index') ?? 0;
  if (index > 0 && services.length !== 1) throw new CliError('--index requires one service to be selected');
  if (known && !services.length) {
    // services with `attach: false` are left out unless named
    const p = await ctx.project();
    services = known.filter((s) => p.services[s]?.attach !== false);
  }
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const attached = await attachProject(ctx, name, {
      services, follow: o.bool('follow'), tail: o.str('tail'), since: o.str('since'), until: o.str('until'),
      timestamps: o.bool('timestamps'), noColor: o.bool('no-color'), noPrefix: o.bool('no-log-prefix'),
      index: index > 0 ? index : undefined, signal: abort.signal,
    });
    await attached.done;
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  }
  return 0;
}

export const logsCommand: ComposeCommandSpec = {
  names: ['logs'],
  usage: '[OPTIONS] [SERVICE...]',
  description: 'View output from containers',
  flags: [
    { name: 'follow', short: 'f', type: 'bool', desc: 'Follow log output' },
    { name: 'index', type: 'int', default: 0, desc: 'index of the container if service has multiple replicas' },
    { name: 'no-color', type: 'bool', desc: 'Produce monochrome output' },
    { name: 'no-log-prefix', type: 'bool', desc: "Don't print prefix in logs" },
    { name: 'since', type: 'string', desc: 'Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)' },
    { name: 'tail', short: 'n', type: 'string', default: 'all', desc: 'Number of lines to show from the end of the logs for each container' },
    { name: 'timestamps', short: 't', type: 'bool', desc: 'Show timestamps' },
    { name: 'until', type: 'string', desc: 'Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)' },
  ],
  run: runLogs,
};
