// berth run commands.
import type { CommandSpec } from '../command.ts';

export const runCommands: CommandSpec[] = [];
