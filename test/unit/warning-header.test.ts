import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateHeaderValue } from 'node:http';
import { limitWarnings, warningHeaderValue } from '../../src/apiserver/warning-header.ts';

test('warnings quoting any Unicode text become a header Node accepts, carrying UTF-8 on the wire', () => {
  const texts = ['metadata.finalizers: "a.Û": prefer a domain-qualified finalizer name', 'label «日本語» 🙂', 'del \x7f and nul \0', 'lone \ud800 surrogate', 'plain'];
  const value = warningHeaderValue(texts);
  assert.doesNotThrow(() => validateHeaderValue('Warning', value));
  const wire = Buffer.from(value, 'latin1').toString('utf8');
  assert.equal(wire, texts.map((t) => `299 - ${JSON.stringify(t).replace(/\x7f/g, '\\u007f')}`).join(', '));
  assert.ok(wire.includes('«日本語» 🙂'));
  assert.equal(warningHeaderValue(['plain']), '299 - "plain"');
});

test('warnings are deduplicated, and past 4Ki runes in all each is cut to 256 runes, as upstream records them', () => {
  assert.deepEqual(limitWarnings(['a', 'b', 'a', '']), ['a', 'b']);
  const long = 'x'.repeat(100_000);
  assert.deepEqual(limitWarnings(['short', long]), ['short', 'x'.repeat(256)]);
  // Under the budget nothing is cut.
  assert.deepEqual(limitWarnings(['y'.repeat(4000), 'z'.repeat(96)]), ['y'.repeat(4000), 'z'.repeat(96)]);
  // Once truncating, texts are added until 4Ki runes are written, then dropped.
  const many = Array.from({ length: 40 }, (_, i) => `${i}`.padEnd(300, '.'));
  const kept = limitWarnings(many);
  assert.ok(kept.every((t) => t.length === 256));
  assert.equal(kept.length, 16);
  // Runes, not UTF-16 units: a cut never splits a character.
  assert.equal([...limitWarnings(['a', '🙂'.repeat(5000)])[1]].length, 256);
  assert.ok(Buffer.byteLength(warningHeaderValue([long, long + 'y'])) < 16 * 1024);
});
