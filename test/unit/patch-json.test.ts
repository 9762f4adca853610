import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyJsonPatch, PatchError, MAX_JSON_PATCH_OPERATIONS } from '../../src/apiserver/patch/index.ts';

interface Case {
  name: string;
  doc: unknown;
  ops: unknown;
  want?: unknown;
  /** Expected PatchError: code and the library's detail text. */
  err?: { code: number; detail: string };
}

const sts = () => ({ metadata: { name: 'web', labels: { app: 'nginx' } }, spec: { replicas: 2, template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1.1' }] } } } });

const cases: Case[] = [
  // add
  { name: 'add a member', doc: { a: 1 }, ops: [{ op: 'add', path: '/b', value: 2 }], want: { a: 1, b: 2 } },
  { name: 'add replaces an existing member', doc: { a: 1 }, ops: [{ op: 'add', path: '/a', value: [1] }], want: { a: [1] } },
  { name: 'add inserts into an array', doc: { a: [1, 3] }, ops: [{ op: 'add', path: '/a/1', value: 2 }], want: { a: [1, 2, 3] } },
  { name: 'add at the array length appends', doc: { a: [1] }, ops: [{ op: 'add', path: '/a/1', value: 2 }], want: { a: [1, 2] } },
  { name: "add with '-' appends", doc: { a: [1] }, ops: [{ op: 'add', path: '/a/-', value: { x: 1 } }], want: { a: [1, { x: 1 }] } },
  { name: 'add with a negative index counts from the end', doc: { a: [1, 2] }, ops: [{ op: 'add', path: '/a/-1', value: 9 }], want: { a: [1, 2, 9] } },
  { name: 'add without value adds null', doc: {}, ops: [{ op: 'add', path: '/a' }], want: { a: null } },
  { name: 'add a label with ~1 escaping', doc: sts(), ops: [{ op: 'add', path: '/metadata/labels/app.kubernetes.io~1name', value: 'web' }], want: (() => { const d = sts(); (d.metadata.labels as Record<string, string>)['app.kubernetes.io/name'] = 'web'; return d; })() },
  { name: '~01 decodes to ~1, not /', doc: {}, ops: [{ op: 'add', path: '/a~01b', value: 1 }], want: { 'a~1b': 1 } },
  { name: 'add to a missing parent', doc: { a: 1 }, ops: [{ op: 'add', path: '/x/y', value: 1 }], err: { code: 422, detail: 'add operation does not apply: doc is missing path: "/x/y": missing value' } },
  { name: 'add through a null parent', doc: { x: null }, ops: [{ op: 'add', path: '/x/y', value: 1 }], err: { code: 422, detail: 'add operation does not apply: doc is missing path: "/x/y": missing value' } },
  { name: 'add through a scalar', doc: { x: 'str' }, ops: [{ op: 'add', path: '/x/y', value: 1 }], err: { code: 422, detail: 'add operation does not apply: doc is missing path: "/x/y": missing value' } },
  { name: 'add past the array end', doc: { a: [1] }, ops: [{ op: 'add', path: '/a/5', value: 2 }], err: { code: 422, detail: "error in add for path: '/a/5': Unable to access invalid index: 5: invalid index referenced" } },
  { name: 'add with a non-numeric index', doc: { a: [1] }, ops: [{ op: 'add', path: '/a/x', value: 2 }], err: { code: 422, detail: `error in add for path: '/a/x': value was not a proper array index: 'x': strconv.Atoi: parsing "x": invalid syntax` } },
  { name: 'add without path', doc: {}, ops: [{ op: 'add', value: 1 }], err: { code: 422, detail: 'add operation failed to decode path: missing value' } },
  { name: 'add at the empty path', doc: {}, ops: [{ op: 'add', path: '', value: 1 }], err: { code: 422, detail: 'add operation does not apply: doc is missing path: "": missing value' } },
  { name: 'a path without leading slash ignores its first segment', doc: { b: 0 }, ops: [{ op: 'add', path: 'zzz/b', value: 1 }], want: { b: 1 } },

  // remove
  { name: 'remove a member', doc: { a: 1, b: 2 }, ops: [{ op: 'remove', path: '/a' }], want: { b: 2 } },
  { name: 'remove an array element', doc: { a: [1, 2, 3] }, ops: [{ op: 'remove', path: '/a/1' }], want: { a: [1, 3] } },
  { name: 'remove the last element by negative index', doc: { a: [1, 2, 3] }, ops: [{ op: 'remove', path: '/a/-1' }], want: { a: [1, 2] } },
  { name: 'remove a missing member', doc: { a: 1 }, ops: [{ op: 'remove', path: '/b' }], err: { code: 422, detail: "error in remove for path: '/b': Unable to remove nonexistent key: b: missing value" } },
  { name: 'remove past the array end', doc: { a: [1] }, ops: [{ op: 'remove', path: '/a/1' }], err: { code: 422, detail: "error in remove for path: '/a/1': Unable to access invalid index: 1: invalid index referenced" } },
  { name: 'remove under a missing parent', doc: {}, ops: [{ op: 'remove', path: '/spec/foo' }], err: { code: 422, detail: 'remove operation does not apply: doc is missing path: "/spec/foo": missing value' } },

  // replace
  { name: 'replace replicas', doc: sts(), ops: [{ op: 'replace', path: '/spec/replicas', value: 5 }], want: (() => { const d = sts(); d.spec.replicas = 5; return d; })() },
  { name: 'replace a container image by index', doc: sts(), ops: [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'nginx:1.2' }], want: (() => { const d = sts(); d.spec.template.spec.containers[0].image = 'nginx:1.2'; return d; })() },
  { name: 'replace of a missing member adds it (library behaviour)', doc: { spec: {} }, ops: [{ op: 'replace', path: '/spec/foo', value: 1 }], want: { spec: { foo: 1 } } },
  { name: 'replace under a missing parent', doc: { spec: {} }, ops: [{ op: 'replace', path: '/spec/foo/bar', value: 1 }], err: { code: 422, detail: 'replace operation does not apply: doc is missing path: /spec/foo/bar: missing value' } },
  { name: 'replace past the array end', doc: { a: [1] }, ops: [{ op: 'replace', path: '/a/3', value: 1 }], err: { code: 422, detail: 'replace operation does not apply: doc is missing key: /a/3: missing value' } },
  { name: "replace at '-'", doc: { a: [1] }, ops: [{ op: 'replace', path: '/a/-', value: 1 }], err: { code: 422, detail: 'replace operation does not apply: doc is missing key: /a/-: missing value' } },
  { name: 'replace the whole document', doc: { a: 1 }, ops: [{ op: 'replace', path: '', value: { b: 2 } }], want: { b: 2 } },
  { name: 'replace the whole document with a scalar', doc: { a: 1 }, ops: [{ op: 'replace', path: '', value: 3 }], err: { code: 422, detail: 'replace operation value must be object or array: %!w(<nil>)' } },
  { name: 'replace with a numeric path', doc: { a: 1 }, ops: [{ op: 'replace', path: 5, value: 3 }], err: { code: 422, detail: 'replace operation failed to decode path: json: cannot unmarshal number into Go value of type string' } },

  // move / copy
  { name: 'move a member', doc: { a: { x: 1 }, b: {} }, ops: [{ op: 'move', from: '/a/x', path: '/b/y' }], want: { a: {}, b: { y: 1 } } },
  { name: 'move within an array', doc: { a: [1, 2, 3] }, ops: [{ op: 'move', from: '/a/0', path: '/a/-' }], want: { a: [2, 3, 1] } },
  { name: 'move from a missing member', doc: { a: {} }, ops: [{ op: 'move', from: '/a/x', path: '/b' }], err: { code: 422, detail: "error in move for path: 'x': Unable to remove nonexistent key: x: missing value" } },
  { name: 'move without from', doc: {}, ops: [{ op: 'move', path: '/b' }], err: { code: 422, detail: 'move operation failed to decode from: operation, missing from field: missing value' } },
  { name: 'move into a missing destination', doc: { a: 1 }, ops: [{ op: 'move', from: '/a', path: '/x/y' }], err: { code: 422, detail: 'move operation does not apply: doc is missing destination path: /x/y: missing value' } },
  { name: 'copy a member (deep copy)', doc: { a: { x: [1] } }, ops: [{ op: 'copy', from: '/a', path: '/b' }, { op: 'add', path: '/b/x/-', value: 2 }], want: { a: { x: [1] }, b: { x: [1, 2] } } },
  { name: 'copy from a missing member copies null', doc: { a: {} }, ops: [{ op: 'copy', from: '/a/x', path: '/b' }], want: { a: {}, b: null } },
  { name: 'copy from a missing parent', doc: {}, ops: [{ op: 'copy', from: '/a/x', path: '/b' }], err: { code: 422, detail: 'copy operation does not apply: doc is missing from path: /a/x: missing value' } },

  // test
  { name: 'test passes, then replace', doc: sts(), ops: [{ op: 'test', path: '/spec/replicas', value: 2 }, { op: 'replace', path: '/spec/replicas', value: 3 }], want: (() => { const d = sts(); d.spec.replicas = 3; return d; })() },
  { name: 'test compares objects regardless of key order', doc: { a: { x: 1, y: [1, { z: true }] } }, ops: [{ op: 'test', path: '/a', value: { y: [1, { z: true }], x: 1 } }], want: { a: { x: 1, y: [1, { z: true }] } } },
  { name: 'test fails', doc: sts(), ops: [{ op: 'test', path: '/spec/replicas', value: 3 }, { op: 'replace', path: '/spec/replicas', value: 4 }], err: { code: 422, detail: 'testing value /spec/replicas failed: test failed' } },
  { name: 'test of a missing member against null passes', doc: { a: {} }, ops: [{ op: 'test', path: '/a/x', value: null }], want: { a: {} } },
  { name: 'test of a missing member against a value fails', doc: { a: {} }, ops: [{ op: 'test', path: '/a/x', value: 1 }], err: { code: 422, detail: 'testing value /a/x failed: test failed' } },
  { name: 'test of a present member against null fails', doc: { a: 1 }, ops: [{ op: 'test', path: '/a', value: null }], err: { code: 422, detail: 'testing value /a failed: test failed' } },
  { name: 'test under a missing parent', doc: {}, ops: [{ op: 'test', path: '/a/b', value: 1 }], err: { code: 422, detail: 'test operation does not apply: is missing path: /a/b: missing value' } },
  { name: 'test of an array index past the end', doc: { a: [] }, ops: [{ op: 'test', path: '/a/0', value: 1 }], err: { code: 422, detail: "error in test for path: '/a/0': Unable to access invalid index: 0: invalid index referenced" } },

  // malformed
  { name: 'unknown op', doc: {}, ops: [{ op: 'frobnicate', path: '/a' }], err: { code: 422, detail: 'Unexpected kind: frobnicate' } },
  { name: 'missing op', doc: {}, ops: [{ path: '/a' }], err: { code: 422, detail: 'Unexpected kind: unknown' } },
  { name: 'patch is an object', doc: {}, ops: { op: 'add' }, err: { code: 400, detail: 'json: cannot unmarshal object into Go value of type jsonpatch.Patch' } },
  { name: 'operation is a string', doc: {}, ops: ['add'], err: { code: 400, detail: 'json: cannot unmarshal string into Go value of type jsonpatch.Operation' } },
  { name: 'null patch is empty', doc: { a: 1 }, ops: null, want: { a: 1 } },
  { name: 'empty patch', doc: { a: 1 }, ops: [], want: { a: 1 } },
];

for (const c of cases) {
  test(`json patch: ${c.name}`, () => {
    const docBefore = structuredClone(c.doc);
    const opsBefore = structuredClone(c.ops);
    if (c.err) {
      assert.throws(
        () => applyJsonPatch(c.doc, c.ops),
        (e: unknown) => {
          assert.ok(e instanceof PatchError, String(e));
          assert.equal(e.code, c.err!.code);
          assert.equal(e.detail, c.err!.detail);
          return true;
        },
      );
    } else {
      assert.deepEqual(applyJsonPatch(c.doc, c.ops), c.want);
    }
    assert.deepEqual(c.doc, docBefore, 'document must not change');
    assert.deepEqual(c.ops, opsBefore, 'patch must not change');
  });
}

test('json patch: a failed operation applies nothing and the Status is upstream-shaped', () => {
  const doc = { spec: { replicas: 1 } };
  try {
    applyJsonPatch(doc, [{ op: 'replace', path: '/spec/replicas', value: 2 }, { op: 'test', path: '/spec/replicas', value: 1 }]);
    assert.fail('expected an error');
  } catch (e) {
    assert.ok(e instanceof PatchError);
    assert.deepEqual(e.toStatus(), {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'the server rejected our request due to an error in our request',
      reason: 'Invalid',
      details: {},
      code: 422,
    });
  }
  assert.deepEqual(doc, { spec: { replicas: 1 } });
});

test('json patch: values added are not shared with the patch', () => {
  const ops = [{ op: 'add', path: '/a', value: { x: [1] } }];
  const out = applyJsonPatch({}, ops) as { a: { x: number[] } };
  out.a.x.push(2);
  assert.deepEqual(ops[0].value, { x: [1] });
});

test('json patch: more than 10,000 operations is 413', () => {
  const ops = Array.from({ length: MAX_JSON_PATCH_OPERATIONS + 1 }, () => ({ op: 'test', path: '/a', value: 1 }));
  assert.throws(() => applyJsonPatch({ a: 1 }, ops), (e: unknown) => {
    assert.ok(e instanceof PatchError);
    assert.equal(e.code, 413);
    assert.equal(e.reason, 'RequestEntityTooLarge');
    assert.equal(e.message, 'Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001');
    return true;
  });
});

test('json patch: 400 errors carry the text as the Status message', () => {
  assert.throws(() => applyJsonPatch({}, 'x'), (e: unknown) => {
    assert.ok(e instanceof PatchError);
    assert.equal(e.reason, 'BadRequest');
    assert.equal(e.message, 'json: cannot unmarshal string into Go value of type jsonpatch.Patch');
    return true;
  });
});
