// `berth compose …`: one berth command whose arguments (Compose's root flags, the subcommand and
// its flags) all go to cli/compose/main.ts, which parses them as Compose v2 does. The berth
// globals before `compose` (-H, --context, --config, TLS) have already chosen the daemon.
import type { CommandSpec } from '../command.ts';
import { composeMain } from '../compose/main.ts';

export const composeCommands: CommandSpec[] = [
  {
    paths: [['compose']],
    usage: '[OPTIONS] COMMAND',
    description: 'Define and run multi-container applications (Compose)',
    flags: [],
    interspersed: false,
    run: (ctx, args) => composeMain(ctx, args, { prog: 'berth' }),
  },
];
