// go-units v0.5 RAMInBytes, the one size parser of the CLI's byte-valued flags (run/create/update, build).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ramInBytes } from '../../../src/cli/size-parse.ts';

test('RAMInBytes: binary multipliers and docker\'s errors', () => {
  const ok: [string, number][] = [
    ['32', 32], ['32b', 32], ['32B', 32], ['32k', 32 * 1024], ['32K', 32 * 1024], ['32kb', 32 * 1024],
    ['32Kb', 32 * 1024], ['32Mb', 32 * 1024 ** 2], ['32Gb', 32 * 1024 ** 3], ['32Tb', 32 * 1024 ** 4],
    ['32PB', 32 * 1024 ** 5], ['32P', 32 * 1024 ** 5], ['32.3', 32], ['1.5g', 1.5 * 1024 ** 3], ['512MiB', 512 * 1024 ** 2], ['32 m', 32 * 1024 ** 2],
  ];
  for (const [s, want] of ok) assert.equal(ramInBytes(s), want, s);
  assert.throws(() => ramInBytes(''), /^Error: invalid size: ''$/);
  assert.throws(() => ramInBytes('hello'), /^Error: invalid size: 'hello'$/);
  assert.throws(() => ramInBytes('-32'), /^Error: invalid size: '-32'$/);
  assert.throws(() => ramInBytes('32x'), /^Error: invalid suffix: 'x'$/);
  assert.throws(() => ramInBytes('32bm'), /^Error: invalid suffix: 'bm'$/);
  assert.throws(() => ramInBytes('32mib2'), /^Error: strconv.ParseFloat: parsing "32mib2": invalid syntax$/);
});
