// The checker the chaos test judges kubectl's watch stream with: it must catch what it is for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkWatchStream, parseWatchLines } from '../support/watch-stream.ts';

const ev = (s: string) => parseWatchLines(s);
const listed = (o: Record<string, string>) => new Map(Object.entries(o));

test('a consistent stream replays to the LIST', () => {
  const v = checkWatchStream(ev('ADDED a 5\nADDED b 3\nMODIFIED a 7\nDELETED b 8\nADDED b 9\nMODIFIED b 10\n'), listed({ a: '7', b: '10' }));
  assert.deepEqual(v, { events: 6, errors: [], final: [] });
});

test('a line still being written is not read', () => {
  assert.deepEqual(ev('ADDED a 5\nMODIFIED a 1'), [{ type: 'ADDED', name: 'a', rv: '5' }]);
});

test('repeats, going back, and events on unknown objects are errors', () => {
  const twice = checkWatchStream(ev('ADDED a 5\nMODIFIED a 7\nMODIFIED a 7\n'), listed({ a: '7' }));
  assert.match(twice.errors.join('\n'), /delivered twice/);
  const back = checkWatchStream(ev('ADDED a 5\nMODIFIED a 9\nMODIFIED a 8\n'), listed({ a: '8' }));
  assert.match(back.errors.join('\n'), /#2 MODIFIED a 8: not after 9/);
  const unknown = checkWatchStream(ev('MODIFIED a 5\nDELETED b 6\n'), listed({ a: '5' }));
  assert.equal(unknown.errors.length, 2);
  const readded = checkWatchStream(ev('ADDED a 5\nADDED a 6\n'), listed({ a: '6' }));
  assert.match(readded.errors.join('\n'), /ADDED while the stream still had it/);
});

test('a stream that missed an event or a deletion differs from the LIST', () => {
  assert.deepEqual(checkWatchStream(ev('ADDED a 5\n'), listed({ a: '7' })).final, ['a: stream 5, LIST 7']);
  assert.deepEqual(checkWatchStream(ev('ADDED a 5\nADDED b 6\n'), listed({ a: '5' })).final, ['b: stream 6, LIST absent']);
  assert.deepEqual(checkWatchStream(ev('ADDED a 5\n'), listed({ a: '5', c: '9' })).final, ['c: stream absent, LIST 9']);
});
