// parseQuantity answers by text from a bounded table: repeated text gives the same frozen answer,
// and the answers stay exact however many distinct texts pass through (the table is cleared when full).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addQuantity, compareQuantity, parseQuantity } from '../../src/api/validation/quantity.ts';

const exact = (text: unknown, num: bigint, den: bigint) => {
  const q = parseQuantity(text);
  assert.ok(q, `${String(text)} parses`);
  assert.equal(q.num * den, num * q.den, `${String(text)} = ${num}/${den}`);
};

test('the same text gives the same frozen answer; callers cannot change it for others', () => {
  const a = parseQuantity('1Gi')!;
  const b = parseQuantity('1Gi')!;
  assert.equal(a, b);
  assert.ok(Object.isFrozen(a));
  assert.throws(() => {
    (a as { num: bigint }).num = 0n;
  }, TypeError);
  exact('1Gi', 1n << 30n, 1n);
  // Sums make new values and leave the shared ones alone.
  const two = addQuantity(a, b);
  assert.equal(compareQuantity(two, parseQuantity('2Gi')!), 0);
  exact('1Gi', 1n << 30n, 1n);
});

test('answers stay exact through many distinct texts, malformed ones included', () => {
  for (let i = 0; i < 5000; i++) {
    exact(`${i}Mi`, BigInt(i) << 20n, 1n);
    exact(`${i}m`, BigInt(i), 1000n);
    assert.equal(parseQuantity(`${i}Qi`), undefined);
  }
  exact(1.5, 3n, 2n);
  exact('1.5', 3n, 2n);
  exact('2e3', 2000n, 1n);
  assert.equal(parseQuantity(' 1Gi'), undefined);
  assert.equal(parseQuantity(undefined), undefined);
  // A malformed text, asked again, is still malformed (its answer is remembered as such).
  assert.equal(parseQuantity('abc'), undefined);
  assert.equal(parseQuantity('abc'), undefined);
});
