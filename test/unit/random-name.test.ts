import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomNameSuffix } from '../../src/util/random-name.ts';

test('randomNameSuffix: upstream\'s alphabet and length, spread over it, and not repeating across pool refills', () => {
  const seen = new Set<string>();
  const counts = new Map<string, number>();
  // 3000 names of 5 draw 15000 bytes: the 4096-byte pool is refilled several times.
  for (let i = 0; i < 3000; i++) {
    const s = randomNameSuffix();
    assert.match(s, /^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    seen.add(s);
    for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  assert.ok(seen.size > 2990, `${seen.size} distinct of 3000`);
  assert.equal(counts.size, 27);
  for (const [c, n] of counts) assert.ok(n > 300 && n < 900, `${c}: ${n}`);
  assert.equal(randomNameSuffix(8).length, 8);
});
