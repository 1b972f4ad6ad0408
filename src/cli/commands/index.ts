// Every berth command, in one list main.ts searches by name and help prints.
import type { CommandSpec } from '../command.ts';
import { containerCommands } from './container.ts';
import { imageCommands } from './image.ts';
import { networkCommands } from './network.ts';
import { volumeCommands } from './volume.ts';
import { systemCommands } from './system.ts';
import { registryCommands } from '../registry.ts';

export const COMMANDS: CommandSpec[] = [
  ...containerCommands, ...imageCommands, ...networkCommands, ...volumeCommands, ...systemCommands, ...registryCommands,
];
