// Every berth command, in one list main.ts searches by name and help prints.
import type { CommandSpec } from '../command.ts';
import { runCommands } from './run.ts';
import { containerCommands } from './container.ts';
import { inspectCommands } from './inspect.ts';
import { imageCommands } from './image.ts';
import { buildCommands } from './build.ts';
import { networkCommands } from './network.ts';
import { volumeCommands } from './volume.ts';
import { systemCommands } from './system.ts';
import { completionCommands } from './completion.ts';
import { registryCommands } from '../registry.ts';

export const COMMANDS: CommandSpec[] = [
  ...runCommands, ...containerCommands, ...inspectCommands, ...imageCommands, ...buildCommands,
  ...networkCommands, ...volumeCommands, ...systemCommands, ...completionCommands, ...registryCommands,
];
