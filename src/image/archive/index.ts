// The tar codec of Berth's layers and archives.
export { applyLayer, extractTo, type ApplyResult, type ApplyOptions } from './extract.ts';
export { packDirectory, type PackOptions } from './pack.ts';
export { diffChanges, initPathsRelative, type Change } from './changes.ts';
export { decompress, peek } from './compression.ts';
export { cleanEntryName } from './safe-path.ts';
