// berth image commands (short and management forms).
import type { CommandSpec } from '../command.ts';

export const imageCommands: CommandSpec[] = [];
