// berth inspect commands.
import type { CommandSpec } from '../command.ts';

export const inspectCommands: CommandSpec[] = [];
