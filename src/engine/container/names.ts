// Container names: Docker's validation rule, and generated `adjective_noun` names for
// containers created without one (the CLI shows them in `docker ps`).
import { randomInt } from 'node:crypto';
import { InvalidParameter } from '../../errors.ts';

const validName = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Returns the name without its leading slash; invalid names are Docker's 400. */
export function validateName(name: string): string {
  if (!validName.test(name)) {
    throw new InvalidParameter(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  return name.replace(/^\//, '');
}

/**
 * The new name of a rename, as moby's ContainerRename reserves it: with its leading slash, and a
 * refusal wrapped in "Error when allocating new name". Returns the name without the slash.
 */
export function validateRenameTarget(name: string): string {
  const full = name.startsWith('/') ? name : `/${name}`;
  if (!validName.test(full)) {
    throw new InvalidParameter(`Error when allocating new name: Invalid container name (${full}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  return full.slice(1);
}

const left = [
  'amber', 'brave', 'calm', 'deft', 'eager', 'fond', 'gentle', 'happy', 'keen', 'lucid', 'merry', 'nimble',
  'plucky', 'quiet', 'rapid', 'serene', 'steady', 'swift', 'tidy', 'vivid', 'witty', 'zesty', 'bold', 'crisp',
];
const right = [
  'anchor', 'bollard', 'buoy', 'cargo', 'cutter', 'dock', 'ferry', 'galley', 'harbor', 'hull', 'jetty', 'keel',
  'lighter', 'mooring', 'pier', 'quay', 'rudder', 'schooner', 'skiff', 'sloop', 'tugboat', 'wharf', 'yawl', 'barge',
];

export function generateName(taken: (n: string) => boolean): string {
  for (let i = 0; i < 50; i++) {
    const base = `${left[randomInt(left.length)]}_${right[randomInt(right.length)]}`;
    const name = i < 10 ? base : `${base}${randomInt(10)}`;
    if (!taken(name)) return name;
  }
  return `berth_${randomInt(1e9)}`;
}
