// isQualifiedName and isValidLabelValue answer valid input without working the problems out (no
// allocation on the path every write takes). The shortcut must give exactly the full answer: the
// same verdict for every string, and the very same messages when there are problems.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isQualifiedName, isValidLabelValue, labelValueProblems, qualifiedNameProblems } from '../../src/api/validation/names.ts';
import { Rng } from '../fuzz/rng.ts';

const ALPHABET = ['a', 'z', 'A', 'Z', '0', '9', '-', '_', '.', '/', ' ', 'é', '\u0000', 'k', 'x'];

function sample(rng: Rng): string {
  const kind = rng.int(10);
  // Lengths near the limits (63 for names and values, 253 for prefixes) and short ones.
  const len = kind < 2 ? 60 + rng.int(8) : kind < 3 ? 250 + rng.int(8) : rng.int(12);
  let s = '';
  for (let i = 0; i < len; i++) s += rng.pick(ALPHABET);
  if (kind === 3) s = 'example.com/' + s;
  if (kind === 4) s = 'a'.repeat(250 + rng.int(8)) + '/' + s;
  return s;
}

test('the shortcut agrees with the full answer on random and edge-case strings', () => {
  const rng = new Rng(20261207);
  const edges = ['', '/', 'a/', '/a', 'a/b/c', 'a', 'a'.repeat(63), 'a'.repeat(64), 'example.com/' + 'a'.repeat(63), 'example.com/' + 'a'.repeat(64), 'a'.repeat(253) + '/b', 'a'.repeat(254) + '/b', 'Example.com/a', 'app.kubernetes.io/name', 'statefulset.kubernetes.io/pod-name', '-a', 'a-', 'a_b', 'é', 'aé'];
  const inputs = [...edges, ...Array.from({ length: 20000 }, () => sample(rng))];
  let valid = 0;
  for (const s of inputs) {
    const full = qualifiedNameProblems(s);
    assert.deepEqual(isQualifiedName(s), full, `isQualifiedName(${JSON.stringify(s)})`);
    assert.deepEqual(isValidLabelValue(s), labelValueProblems(s), `isValidLabelValue(${JSON.stringify(s)})`);
    if (!full.length) valid++;
  }
  // Both verdicts occur often enough to mean something.
  assert.ok(valid > 1000 && valid < inputs.length - 1000, `valid: ${valid} of ${inputs.length}`);
});

test('the shared answer for valid input cannot be added to', () => {
  const none = isQualifiedName('app');
  assert.equal(none.length, 0);
  assert.throws(() => none.push('x'));
  assert.equal(isValidLabelValue('web-0'), none);
});
