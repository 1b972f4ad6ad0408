// Every berth command, by family. A family's module (and what it imports) is evaluated only when
// a command of that family runs: start-up is part of every command's latency, and most of the
// CLI's code is not needed by any one command. FIRST_WORDS says which families can answer a
// first word; test/unit/cli/commands-index.test.ts checks it against the families themselves.
import type { CommandSpec } from '../command.ts';

const FAMILIES: Record<string, () => Promise<CommandSpec[]>> = {
  run: () => import('./run.ts').then((m) => m.runCommands),
  container: () => import('./container.ts').then((m) => m.containerCommands),
  inspect: () => import('./inspect.ts').then((m) => m.inspectCommands),
  image: () => import('./image.ts').then((m) => m.imageCommands),
  build: () => import('./build.ts').then((m) => m.buildCommands),
  network: () => import('./network.ts').then((m) => m.networkCommands),
  volume: () => import('./volume.ts').then((m) => m.volumeCommands),
  system: () => import('./system.ts').then((m) => m.systemCommands),
  completion: () => import('./completion.ts').then((m) => m.completionCommands),
  registry: () => import('../registry.ts').then((m) => m.registryCommands),
  compose: () => import('./compose.ts').then((m) => m.composeCommands),
};

export const FAMILY_NAMES = Object.keys(FAMILIES);

/** first word of a command → the families that have commands starting with it */
export const FIRST_WORDS: Record<string, string[]> = {
  run: ['run'], create: ['run'], start: ['run'], attach: ['run'], exec: ['run'],
  ps: ['container'], logs: ['container'], stop: ['container'], restart: ['container'], kill: ['container'],
  rm: ['container'], pause: ['container'], unpause: ['container'], wait: ['container'], rename: ['container'],
  port: ['container'], top: ['container'], diff: ['container'], commit: ['container'], export: ['container'],
  update: ['container'], cp: ['container'], stats: ['container'],
  container: ['run', 'container', 'inspect'],
  inspect: ['inspect'],
  images: ['image'], pull: ['image'], push: ['image'], tag: ['image'], rmi: ['image'], save: ['image'],
  load: ['image'], import: ['image'], history: ['image'], login: ['image'], logout: ['image'], search: ['image'],
  image: ['image', 'build'],
  build: ['build'], builder: ['build'],
  network: ['network'],
  volume: ['volume'],
  version: ['system'], info: ['system'], events: ['system'], system: ['system'],
  completion: ['completion'],
  registry: ['registry'],
  compose: ['compose'],
};

/** The commands of the named families, in FAMILIES order. */
export async function loadFamilies(names: readonly string[]): Promise<CommandSpec[]> {
  const lists = await Promise.all(FAMILY_NAMES.filter((n) => names.includes(n)).map((n) => FAMILIES[n]!()));
  return lists.flat();
}

/** Every command (help, completion). */
export function loadAll(): Promise<CommandSpec[]> {
  return loadFamilies(FAMILY_NAMES);
}
