import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDocument } from 'yaml';
import { MAX_NESTING_DEPTH, nestedDeeperThan, selfContainedAnchor } from '../../src/apiserver/body-limits.ts';
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

test('an anchor used inside its own value is found by name; plain aliases are fine', () => {
  assert.equal(selfContainedAnchor(parseDocument('metadata: &m {name: a, labels: *m}\n')), 'm');
  assert.equal(selfContainedAnchor(parseDocument('a: &x [1, [2, *x]]\n')), 'x');
  assert.equal(selfContainedAnchor(parseDocument('data: &a {x: y}\nbinaryData: *a\n')), undefined);
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
