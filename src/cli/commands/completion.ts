// berth completion bash|zsh: prints a shell completion script (docker 28's `docker completion`).
// The hidden `berth completion __complete SHELL WORDS…` is what those scripts call on each TAB.
import { CliError, type CommandSpec } from '../command.ts';

const HELP = `
Usage:  berth completion COMMAND

Generate the autocompletion script for berth for the specified shell.
See each sub-command's help for details on how to use the generated script.

Commands:
  bash        Generate the autocompletion script for bash
  zsh         Generate the autocompletion script for zsh

Run 'berth completion COMMAND --help' for more information on a command.
`;

export const completionCommands: CommandSpec[] = [
  {
    // One spec for `completion`, `completion bash|zsh` and `completion __complete …`, so the words
    // being completed after __complete reach it untouched (no flag parsing past the first argument).
    paths: [['completion']],
    usage: 'COMMAND',
    description: 'Generate the autocompletion script for the specified shell',
    interspersed: false,
    flags: [],
    async run(ctx, args) {
      const [sub, ...rest] = args;
      if (sub === undefined) {
        ctx.out.write(HELP);
        return 0;
      }
      if (sub === '__complete') {
        // Loaded here, not at start-up: only TAB presses pay for the completion code.
        const [commands, { complete, render }] = await Promise.all([import('./index.ts').then((m) => m.loadAll()), import('../completion/complete.ts')]);
        const [shell = 'bash', ...words] = rest;
        ctx.out.write(render(await complete(commands, words.length ? words : ['']), shell));
        return 0;
      }
      const { bashScript, zshScript } = await import('../completion/scripts.ts');
      if (sub === 'bash') ctx.out.write(bashScript('berth'));
      else if (sub === 'zsh') ctx.out.write(zshScript('berth'));
      else throw new CliError(`berth: unknown command: berth completion ${sub}\n\nRun 'berth completion --help' for more information`);
      return 0;
    },
  },
];
