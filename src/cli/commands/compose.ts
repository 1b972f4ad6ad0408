// `berth compose …`: one berth command. Berth's parser reads Compose's root flags (-f, -p,
// --profile…) up to the subcommand (interspersed false), then cli/compose/main.ts dispatches the
// subcommand and parses its flags as Compose v2 does. The berth globals before `compose` (-H,
// --context, --config, TLS) have already chosen the daemon.
import type { CommandSpec } from '../command.ts';
import { COMPOSE_FLAGS } from '../compose/globals.ts';
import { commandRows, composeMain } from '../compose/main.ts';

export const composeCommands: CommandSpec[] = [
  {
    paths: [['compose']],
    usage: '[OPTIONS] COMMAND',
    // `berth compose --help` is printed by berth's own help: the command list goes in here.
    get description(): string {
      return `Define and run multi-container applications with Docker\n\nCommands:\n${commandRows()}\n\nRun 'berth compose COMMAND --help' for more information on a command.`;
    },
    flags: COMPOSE_FLAGS,
    interspersed: false,
    run: (ctx, args, opts) => composeMain(ctx, args, { prog: 'berth' }, { opts, args, help: false }),
  },
];
