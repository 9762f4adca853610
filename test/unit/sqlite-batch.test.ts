// A batch crosses to the SQLite writer thread packed (numbers in one typed array): what the writer
// unpacks must be exactly the rows of the changes, in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { packRows, unpackRows } from '../../src/storage/sqlite-batch.ts';
import type { StoreEvent } from '../../src/storage/types.ts';

test('packRows/unpackRows: every field of every row, in order, through a structured clone', () => {
  const events: StoreEvent[] = [
    { type: 'put', rev: 7, key: '/registry/core/pods/ns/a', value: '{"a":1}', createRev: 7 },
    { type: 'put', rev: 8, key: '/registry/core/pods/ns/a', value: '{"a":"é\\n☃"}', createRev: 7, prevModRev: 7, prev: '{"a":1}' },
    { type: 'delete', rev: 9, key: '/registry/core/pods/ns/a', value: '{"a":2}', createRev: 7, prevModRev: 8 },
    { type: 'put', rev: 2 ** 52 + 1, key: '/registry/x/y/z', value: '', createRev: 2 ** 52 },
  ];
  const rows = unpackRows(structuredClone(packRows(events)));
  assert.deepEqual(rows, [
    { rev: 7, type: 0, key: '/registry/core/pods/ns/a', value: '{"a":1}', createRev: 7, prevModRev: null },
    { rev: 8, type: 0, key: '/registry/core/pods/ns/a', value: '{"a":"é\\n☃"}', createRev: 7, prevModRev: 7 },
    // A deletion's value stays behind: the file has it as the previous value.
    { rev: 9, type: 1, key: '/registry/core/pods/ns/a', value: '', createRev: 7, prevModRev: 8 },
    { rev: 2 ** 52 + 1, type: 0, key: '/registry/x/y/z', value: '', createRev: 2 ** 52, prevModRev: null },
  ]);
  assert.deepEqual(unpackRows(packRows([])), []);
});
