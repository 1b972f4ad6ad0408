// berth completion commands.
import type { CommandSpec } from '../command.ts';

export const completionCommands: CommandSpec[] = [];
