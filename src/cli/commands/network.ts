// berth network commands (short and management forms).
import type { CommandSpec } from '../command.ts';

export const networkCommands: CommandSpec[] = [];
