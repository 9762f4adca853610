import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_NESTING_DEPTH, aliasBudgetExceeded, nestedDeeperThan } from '../../src/apiserver/body-limits.ts';
import { parseBody } from '../../src/apiserver/handlers.ts';

const arrays = (d: number) => JSON.parse('['.repeat(d) + ']'.repeat(d));

test('nesting depth counts objects and arrays, scalars add nothing', () => {
  assert.equal(nestedDeeperThan({ a: 1 }, 1), false);
  assert.equal(nestedDeeperThan({ a: { b: 1 } }, 1), true);
  assert.equal(nestedDeeperThan([[[]]], 3), false);
  assert.equal(nestedDeeperThan([[[]]], 2), true);
  assert.equal(nestedDeeperThan('x', 0), false);
  assert.equal(nestedDeeperThan(arrays(MAX_NESTING_DEPTH)), false);
  assert.equal(nestedDeeperThan(arrays(MAX_NESTING_DEPTH + 1)), true);
  // Does not recurse: a million levels are measured without overflowing the stack.
  assert.equal(nestedDeeperThan(arrays(1_000_000)), true);
});

test("go-yaml's alias budget: 99 % of up to 400,000 decoded nodes may come through aliases, falling to 10 % at 4,000,000", () => {
  assert.equal(aliasBudgetExceeded(100, 100_000), false); // at most 100 aliased nodes always pass
  assert.equal(aliasBudgetExceeded(990, 1000), false); // and documents of at most 1,000 nodes
  assert.equal(aliasBudgetExceeded(990, 1001), false);
  assert.equal(aliasBudgetExceeded(992, 1001), true);
  assert.equal(aliasBudgetExceeded(396_000, 400_000), false);
  assert.equal(aliasBudgetExceeded(396_001, 400_000), true);
  // Half way through the range the share allowed is 0.99 - 0.89 / 2 = 0.545.
  assert.equal(aliasBudgetExceeded(1_198_000, 2_200_000), false);
  assert.equal(aliasBudgetExceeded(1_200_000, 2_200_000), true);
  assert.equal(aliasBudgetExceeded(400_000, 4_000_000), false);
  assert.equal(aliasBudgetExceeded(400_001, 4_000_000), true);
  assert.equal(aliasBudgetExceeded(1_000_001, 10_000_000), true);
});

function badRequest(fn: () => unknown, message: string): void {
  assert.throws(fn, (err: any) => {
    assert.equal(err.status?.code ?? err.code, 400, String(err));
    assert.equal(err.status?.message ?? err.message, message);
    return true;
  });
}

test('request bodies nested too deep, or with a self-containing anchor, are 400s with upstream-style messages', () => {
  const deep = '{"metadata":{"name":"x"},"data":' + '['.repeat(5000) + ']'.repeat(5000) + '}';
  badRequest(() => parseBody(Buffer.from(deep), 'application/json'), "couldn't get version/kind; json parse error: exceeded max depth");
  badRequest(() => parseBody(Buffer.from('metadata: &m {name: a, labels: *m}\n'), 'application/yaml'), "error converting YAML to JSON: yaml: anchor 'm' value contains itself");
  const deepYaml = 'a: ' + '['.repeat(5000) + ']'.repeat(5000) + '\n';
  badRequest(() => parseBody(Buffer.from(deepYaml), 'application/apply-patch+yaml'), `error converting YAML to JSON: yaml: exceeded max depth of ${MAX_NESTING_DEPTH}`);
  assert.deepEqual(parseBody(Buffer.from('{"a":' + '['.repeat(100) + ']'.repeat(100) + '}'), 'application/json'), { a: arrays(100) });
  assert.deepEqual(parseBody(Buffer.from('metadata: {name: a}\n'), 'application/yaml'), { metadata: { name: 'a' } });
});
