// .dockerignore matching against moby/patternmatcher's own test tables (TestMatches, TestMatch,
// ignorefile's TestReadAll) plus the walker behaviour of Docker's archive code (an excluded
// directory is entered only when an exception pattern starts with it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  makeMatcher,
  parseDockerignore,
  patternsFrom,
  readIgnoreFile,
  walkContext,
} from '../../../src/util/dockerignore.ts';
import { InvalidParameter } from '../../../src/errors.ts';

const excluded = (patterns: string[], path: string): boolean => makeMatcher(patternsFrom(patterns)).excluded(path);

// patternmatcher_test.go TestMatches (single pattern, MatchesOrParentMatches).
const single: [string, string, boolean][] = [
  ['**', 'file', true], ['**', 'file/', true], ['**/', 'file', true], ['**/', 'file/', true],
  ['**', '/', true], ['**/', '/', true], ['**', 'dir/file', true], ['**/', 'dir/file', true],
  ['**', 'dir/file/', true], ['**/', 'dir/file/', true], ['**/**', 'dir/file', true], ['**/**', 'dir/file/', true],
  ['dir/**', 'dir/file', true], ['dir/**', 'dir/file/', true], ['dir/**', 'dir/dir2/file', true],
  ['dir/**', 'dir/dir2/file/', true], ['**/dir', 'dir', true], ['**/dir', 'dir/file', true],
  ['**/dir2/*', 'dir/dir2/file', true], ['**/dir2/*', 'dir/dir2/file/', true],
  ['**/dir2/**', 'dir/dir2/dir3/file', true], ['**/dir2/**', 'dir/dir2/dir3/file/', true],
  ['**file', 'file', true], ['**file', 'dir/file', true], ['**/file', 'dir/file', true],
  ['**file', 'dir/dir/file', true], ['**/file', 'dir/dir/file', true], ['**/file*', 'dir/dir/file', true],
  ['**/file*', 'dir/dir/file.txt', true], ['**/file*txt', 'dir/dir/file.txt', true],
  ['**/file*.txt', 'dir/dir/file.txt', true], ['**/file*.txt*', 'dir/dir/file.txt', true],
  ['**/**/*.txt', 'dir/dir/file.txt', true], ['**/**/*.txt2', 'dir/dir/file.txt', false],
  ['**/*.txt', 'file.txt', true], ['**/**/*.txt', 'file.txt', true], ['a**/*.txt', 'a/file.txt', true],
  ['a**/*.txt', 'a/dir/file.txt', true], ['a**/*.txt', 'a/dir/dir/file.txt', true],
  ['a/*.txt', 'a/dir/file.txt', false], ['a/*.txt', 'a/file.txt', true], ['a/*.txt**', 'a/file.txt', true],
  ['a[b-d]e', 'ae', false], ['a[b-d]e', 'ace', true], ['a[b-d]e', 'aae', false], ['a[^b-d]e', 'aze', true],
  ['.*', '.foo', true], ['.*', 'foo', false], ['abc.def', 'abcdef', false], ['abc.def', 'abc.def', true],
  ['abc.def', 'abcZdef', false], ['abc?def', 'abcZdef', true], ['abc?def', 'abcdef', false],
  ['a\\\\', 'a\\', true], ['**/foo/bar', 'foo/bar', true], ['**/foo/bar', 'dir/foo/bar', true],
  ['**/foo/bar', 'dir/dir2/foo/bar', true], ['abc/**', 'abc', false], ['abc/**', 'abc/def', true],
  ['abc/**', 'abc/def/ghi', true], ['**/.foo', '.foo', true], ['**/.foo', 'bar.foo', false],
  ['a(b)c/def', 'a(b)c/def', true], ['a(b)c/def', 'a(b)c/xyz', false], ['a.|)$(}+{bc', 'a.|)$(}+{bc', true],
  ['dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', true],
  ['dist/*.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', true],
  ['a\\*b', 'a*b', true],
];

test('patternmatcher TestMatches table', () => {
  for (const [pattern, path, want] of single) assert.equal(excluded([pattern], path), want, `${pattern} vs ${path}`);
});

test('patternmatcher multi-pattern table: exceptions and the last match', () => {
  const whl = 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl';
  assert.equal(excluded(['**', '!util/docker/web'], 'util/docker/web/foo'), false);
  assert.equal(excluded(['**', '!util/docker/web', 'util/docker/web/foo'], 'util/docker/web/foo'), true);
  assert.equal(excluded(['**', `!${whl}`], whl), false);
  assert.equal(excluded(['**', '!dist/*.whl'], whl), false);
});

// patternmatcher_test.go TestMatch (filepath.Match compatibility, including syntax errors).
const goMatch: [string, string, boolean | 'error'][] = [
  ['abc', 'abc', true], ['*', 'abc', true], ['*c', 'abc', true], ['a*', 'a', true], ['a*', 'abc', true],
  ['a*', 'ab/c', true], ['a*/b', 'abc/b', true], ['a*/b', 'a/c/b', false],
  ['a*b*c*d*e*/f', 'axbxcxdxe/f', true], ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
  ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false], ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false],
  ['a*b?c*x', 'abxbbxdbxebxczzx', true], ['a*b?c*x', 'abxbbxdbxebxczzy', false],
  ['ab[c]', 'abc', true], ['ab[b-d]', 'abc', true], ['ab[e-g]', 'abc', false], ['ab[^c]', 'abc', false],
  ['ab[^b-d]', 'abc', false], ['ab[^e-g]', 'abc', true], ['a\\*b', 'a*b', true], ['a\\*b', 'ab', false],
  ['a?b', 'a☺b', true], ['a[^a]b', 'a☺b', true], ['a???b', 'a☺b', false], ['a[^a][^a][^a]b', 'a☺b', false],
  ['[a-ζ]*', 'α', true], ['*[a-ζ]', 'A', false], ['a?b', 'a/b', false], ['a*b', 'a/b', false],
  ['[\\]a]', ']', true], ['[\\-]', '-', true], ['[x\\-]', 'x', true], ['[x\\-]', '-', true],
  ['[x\\-]', 'z', false], ['[\\-x]', 'x', true], ['[\\-x]', '-', true], ['[\\-x]', 'a', false],
  ['[]a]', ']', 'error'], ['[-]', '-', 'error'], ['[x-]', 'x', 'error'], ['[x-]', '-', 'error'],
  ['[x-]', 'z', 'error'], ['[-x]', 'x', 'error'], ['[-x]', '-', 'error'], ['[-x]', 'a', 'error'],
  ['\\', 'a', 'error'], ['[a-b-c]', 'a', 'error'], ['[', 'a', 'error'], ['[^', 'a', 'error'],
  ['[^bc', 'a', 'error'], ['a[', 'a', 'error'], ['a[', 'ab', 'error'], ['*x', 'xxx', true],
];

test('patternmatcher TestMatch table (filepath.Match semantics and syntax errors)', () => {
  for (const [pattern, path, want] of goMatch) {
    if (want === 'error') {
      assert.throws(() => patternsFrom([pattern]), { message: 'syntax error in pattern' }, pattern);
    } else {
      assert.equal(excluded([pattern], path), want, `${pattern} vs ${path}`);
    }
  }
});

test('patternmatcher: simple and exception cases, the context root never excluded', () => {
  assert.equal(excluded(['*'], 'fileutils.go'), true);
  assert.equal(excluded(['*.go'], 'fileutils.go'), true);
  assert.equal(excluded(['!fileutils.go', '*.go'], 'fileutils.go'), true);
  assert.equal(excluded(['*.go', '!fileutils.go'], 'fileutils.go'), false);
  assert.equal(excluded(['docs', '!docs/README.md'], 'docs/README.md'), false);
  assert.equal(excluded(['docs/', '!docs/README.md'], 'docs/README.md'), false);
  assert.equal(excluded(['docs/*', '!docs/README.md'], 'docs/README.md'), false);
  assert.equal(excluded(['*.go'], '.'), false);
  assert.equal(excluded(['docs', '  !docs/README.md'], 'docs/README.md'), false);
  assert.equal(excluded(['docs', '!docs/README.md  '], 'docs/README.md'), false);
  assert.throws(() => patternsFrom(['!']), { message: 'illegal exclusion pattern: "!"' });
  assert.throws(() => patternsFrom(['!']), InvalidParameter);
});

test('dockerignore usage cases: **/*.go, *.md with exception, dir/ excludes children, a/**/b, leading slash, ..', () => {
  const m = makeMatcher(parseDockerignore('**/*.go\n*.md\n!important.md\nbuild/\na/**/b\n/secret\n./tmp\n../outside\n'));
  assert.equal(m.excluded('main.go'), true);
  assert.equal(m.excluded('cmd/x/main.go'), true);
  assert.equal(m.excluded('README.md'), true);
  assert.equal(m.excluded('important.md'), false);
  assert.equal(m.excluded('docs/README.md'), false); // *.md matches one segment only
  assert.equal(m.excluded('build', true), true);
  assert.equal(m.excluded('build/out/bin'), true);
  assert.equal(m.excluded('a/b'), true);
  assert.equal(m.excluded('a/x/y/b'), true);
  assert.equal(m.excluded('a/x/y/b/c'), true);
  assert.equal(m.excluded('a/x/c'), false);
  assert.equal(m.excluded('secret'), true);
  assert.equal(m.excluded('tmp/file'), true);
  assert.equal(m.excluded('outside'), false);
  assert.equal(m.excluded('keep.txt'), false);
});

test('readIgnoreFile (ignorefile TestReadAll): comments, blanks, cleaning, leading slash, BOM', () => {
  const content = '\uFEFFtest1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n!\n! ';
  assert.deepEqual(readIgnoreFile(content), [
    'test1', 'test2', 'a/file/here', 'lastfile', '!inverted/abs/path', '!', '!',
  ]);
  assert.deepEqual(readIgnoreFile('a/../b\r\n./c/\n  # not a comment\n'), ['b', 'c', '# not a comment']);
  assert.throws(() => parseDockerignore('a\n!\n'), { message: 'illegal exclusion pattern: "!"' });
});

test('mayContainExceptions: only exception patterns that start with the directory', () => {
  const m = makeMatcher(parseDockerignore('node_modules\n!node_modules/keep/x.js\nvendor\n!**/important\n'));
  assert.equal(m.excluded('node_modules', true), true);
  assert.equal(m.mayContainExceptions('node_modules'), true);
  assert.equal(m.mayContainExceptions('node_modules/keep'), true);
  assert.equal(m.mayContainExceptions('node_modules/other'), false);
  assert.equal(m.mayContainExceptions('vendor'), false);
  assert.equal(makeMatcher(parseDockerignore('a\n')).mayContainExceptions('a'), false);
  assert.equal(m.excluded('node_modules/keep/x.js'), false);
  assert.equal(m.excluded('node_modules/keep/y.js'), true);
});

test('walkContext yields included paths and enters excluded directories only for exceptions', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-ignore-'));
  try {
    for (const d of ['src', 'node_modules/keep', 'node_modules/drop', 'vendor/lib']) await mkdir(join(root, d), { recursive: true });
    for (const f of ['Dockerfile', 'README.md', 'src/a.ts', 'src/b.md', 'node_modules/keep/x.js', 'node_modules/drop/y.js', 'vendor/lib/important']) {
      await writeFile(join(root, f), '');
    }
    const m = makeMatcher(parseDockerignore('*.md\nnode_modules\n!node_modules/keep/x.js\nvendor\n!**/important\n'));
    const seen: string[] = [];
    for await (const p of walkContext(root, m)) seen.push(p);
    // Docker's tar has no entries for the excluded directories it enters, and `!**/important` does
    // not reach into the skipped vendor/.
    assert.deepEqual(seen, ['Dockerfile', 'node_modules/keep/x.js', 'src', 'src/a.ts', 'src/b.md']);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
