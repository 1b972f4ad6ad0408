// The tar codec of Berth's layers and archives.
export { applyLayer, type ApplyResult } from './extract.ts';
export { packDirectory } from './pack.ts';
export { diffChanges, type Change } from './changes.ts';
export { decompress } from './compression.ts';
export { cleanEntryName, SymlinkGuard } from './safe-path.ts';
