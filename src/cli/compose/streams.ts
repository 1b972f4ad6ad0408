// The compose CLI's stream and inspection commands, in one list for main.ts's dispatch table.
import type { ComposeCommandSpec } from './command.ts';
import { psCommand } from './ps.ts';
import { logsCommand } from './logs.ts';
import { execCommand } from './exec.ts';
import { runCommand } from './run.ts';
import { inspectCommands } from './inspect-cmds.ts';

export const streamCommands: ComposeCommandSpec[] = [psCommand, logsCommand, execCommand, runCommand, ...inspectCommands];
