// berth volume commands (short and management forms).
import type { CommandSpec } from '../command.ts';

export const volumeCommands: CommandSpec[] = [];
