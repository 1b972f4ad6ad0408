// The one --filter parser of the CLI (ps, images, search, events, prune, network ls, volume ls):
// opts.FilterOpt.Set's rules, and the query string the commands send.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterQuery, filtersJson } from '../../../src/cli/filters.ts';
import { query } from '../../../src/client/engine-client.ts';
import { CliError, type Ctx } from '../../../src/cli/command.ts';

const ctx = { invokedAs: 'berth network ls' } as Ctx;
const spec = { usage: '[OPTIONS]' };

test('filter values become the API filters JSON: names trimmed and lower-cased, values trimmed, repeats merged', () => {
  assert.equal(filtersJson(ctx, spec, [' Label = a=b ', 'label=c', 'dangling=true']), '{"label":{"a=b":true,"c":true},"dangling":{"true":true}}');
  assert.equal(filtersJson(ctx, spec, []), undefined);
});

test('an empty --filter value is ignored, as opts.FilterOpt.Set does', () => {
  assert.equal(filtersJson(ctx, spec, ['']), undefined);
  assert.equal(filterQuery(ctx, spec, ['', 'name=x']), `filters=${encodeURIComponent('{"name":{"x":true}}')}`);
});

test('filters a command adds itself are merged with the given ones', () => {
  assert.equal(filterQuery(ctx, spec, ['until=1h'], '--filter', { dangling: ['false'] }), `filters=${encodeURIComponent('{"until":{"1h":true},"dangling":{"false":true}}')}`);
  assert.equal(filterQuery(ctx, spec, []), '');
});

test('a value without "=" is pflag\'s flag error with the usage line, status 125', () => {
  assert.throws(() => filtersJson(ctx, spec, ['dangling'], '--filter'), (err: unknown) => {
    assert.ok(err instanceof CliError);
    assert.equal(err.message, 'invalid argument "dangling" for "--filter" flag: bad format of filter (expected name=value)\n\nUsage:  berth network ls [OPTIONS]\n\nRun \'berth network ls --help\' for more information');
    assert.equal(err.status, 125);
    return true;
  });
});

test('query strings: defined values only, true as 1, false left out, lists repeated', () => {
  assert.equal(query({ all: true, size: false, limit: 3, filters: undefined, names: ['a', 'b'] }), '?all=1&limit=3&names=a&names=b');
  assert.equal(query({}), '');
  assert.equal(query(), '');
});
