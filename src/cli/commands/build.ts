// berth build.
import type { CommandSpec } from '../command.ts';

export const buildCommands: CommandSpec[] = [];
