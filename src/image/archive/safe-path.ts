// Where a tar entry may land: inside the target directory only. Entry names are normalised
// and `..` escapes refused; extract.ts also checks that every parent is a real directory.
import { posix } from 'node:path';
import { InvalidParameter } from '../../errors.ts';

export function cleanEntryName(name: string): string {
  const n = posix.normalize(name.replace(/^\/+/, '') || '.').replace(/\/+$/, '').replace(/^\.$/, '');
  if (n === '..' || n.startsWith('../')) throw new InvalidParameter(`invalid tar entry ${JSON.stringify(name)}: path escapes the archive`);
  return n;
}
