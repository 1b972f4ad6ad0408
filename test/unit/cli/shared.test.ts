// The sections of docker's prune reports (docker/cli container, image, network, volume, system and
// builder prune): a heading line, one line per item, nothing at all when nothing was removed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deletedSection, imagesDeletedSection } from '../../../src/cli/shared.ts';

test('a prune section: heading, one line per item; empty when nothing went', () => {
  assert.equal(deletedSection('Deleted Containers', ['a1', 'b2']), 'Deleted Containers:\na1\nb2\n');
  assert.equal(deletedSection('Deleted Networks', []), '');
  assert.equal(deletedSection('Deleted Volumes', null), '');
  assert.equal(deletedSection('Deleted build cache objects', undefined), '');
});

test('image prune lines: untagged references first as the daemon lists them, deleted IDs', () => {
  assert.equal(
    imagesDeletedSection([{ Untagged: 'busybox:latest' }, { Deleted: 'sha256:abc' }, { Untagged: 'x@sha256:def' }]),
    'Deleted Images:\nuntagged: busybox:latest\ndeleted: sha256:abc\nuntagged: x@sha256:def\n',
  );
  assert.equal(imagesDeletedSection(null), '');
});
