import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyMergePatch, PatchError } from '../../src/apiserver/patch/index.ts';

interface Case {
  name: string;
  doc: unknown;
  patch: unknown;
  want?: unknown;
  err?: { code: number; detail: string };
}

const pod = () => ({ metadata: { name: 'web-0', labels: { app: 'nginx', tier: 'web' }, annotations: { a: '1' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.1' }] } });

const cases: Case[] = [
  // RFC 7386 appendix A examples
  { name: 'A.1 replace a member', doc: { a: 'b' }, patch: { a: 'c' }, want: { a: 'c' } },
  { name: 'A.2 add a member', doc: { a: 'b' }, patch: { b: 'c' }, want: { a: 'b', b: 'c' } },
  { name: 'A.3 null deletes', doc: { a: 'b' }, patch: { a: null }, want: {} },
  { name: 'A.4 null deletes one of two', doc: { a: 'b', b: 'c' }, patch: { a: null }, want: { b: 'c' } },
  { name: 'A.5 array replaced by scalar', doc: { a: ['b'] }, patch: { a: 'c' }, want: { a: 'c' } },
  { name: 'A.6 scalar replaced by array', doc: { a: 'c' }, patch: { a: ['b'] }, want: { a: ['b'] } },
  { name: 'A.7 nested merge with delete', doc: { a: { b: 'c' } }, patch: { a: { b: 'd', c: null } }, want: { a: { b: 'd' } } },
  { name: 'A.8 arrays are replaced', doc: { a: [{ b: 'c' }] }, patch: { a: [1] }, want: { a: [1] } },
  { name: 'A.10 nulls pruned from added object', doc: {}, patch: { a: { bb: { ccc: null } } }, want: { a: { bb: {} } } },
  { name: 'A.11 deleting a missing member', doc: { e: null }, patch: { a: 1 }, want: { e: null, a: 1 } },
  { name: 'A.13 array patch replaces the document', doc: { a: 'foo' }, patch: ['c'], want: ['c'] },

  // kubectl label / annotate / scale style
  { name: 'kubectl label adds a label', doc: pod(), patch: { metadata: { labels: { env: 'prod' } } }, want: (() => { const p = pod(); (p.metadata.labels as Record<string, string>).env = 'prod'; return p; })() },
  { name: 'kubectl label tier- removes a label', doc: pod(), patch: { metadata: { labels: { tier: null } } }, want: (() => { const p = pod(); delete (p.metadata.labels as Record<string, string | undefined>).tier; return p; })() },
  { name: 'kubectl annotate --overwrite', doc: pod(), patch: { metadata: { annotations: { a: '2' } } }, want: (() => { const p = pod(); p.metadata.annotations.a = '2'; return p; })() },
  { name: 'kubectl scale', doc: { spec: { replicas: 1 } }, patch: { spec: { replicas: 3 } }, want: { spec: { replicas: 3 } } },
  { name: 'merge patch replaces the containers list whole', doc: pod(), patch: { spec: { containers: [{ name: 'x', image: 'y' }] } }, want: { ...pod(), spec: { containers: [{ name: 'x', image: 'y' }] } } },
  { name: 'labels added to an object without labels', doc: { metadata: { name: 'a' } }, patch: { metadata: { labels: { x: '1', y: null } } }, want: { metadata: { name: 'a', labels: { x: '1' } } } },

  // library quirks
  { name: 'null array elements are pruned when replacing a non-object', doc: { a: [1] }, patch: { a: [2, null, 3] }, want: { a: [2, 3] } },
  { name: 'an object replaced by an array keeps the array verbatim', doc: { a: { x: 1 } }, patch: { a: [null] }, want: { a: [null] } },
  { name: 'an object patch over a scalar drops its nulls', doc: { a: 'x' }, patch: { a: { b: 1, c: null } }, want: { a: { b: 1 } } },
  { name: 'a null member of the document is replaced', doc: { a: null }, patch: { a: { b: 1, c: null } }, want: { a: { b: 1 } } },
  { name: 'empty patch', doc: { a: 1 }, patch: {}, want: { a: 1 } },

  // malformed
  { name: 'null patch', doc: {}, patch: null, err: { code: 400, detail: 'Invalid JSON Patch' } },
  { name: 'scalar patch', doc: {}, patch: 3, err: { code: 400, detail: 'Invalid JSON Patch' } },
];

for (const c of cases) {
  test(`merge patch: ${c.name}`, () => {
    const docBefore = structuredClone(c.doc);
    const patchBefore = structuredClone(c.patch);
    if (c.err) {
      assert.throws(
        () => applyMergePatch(c.doc, c.patch),
        (e: unknown) => {
          assert.ok(e instanceof PatchError, String(e));
          assert.equal(e.code, c.err!.code);
          assert.equal(e.detail, c.err!.detail);
          return true;
        },
      );
    } else {
      assert.deepEqual(applyMergePatch(c.doc, c.patch), c.want);
    }
    assert.deepEqual(c.doc, docBefore, 'document must not change');
    assert.deepEqual(c.patch, patchBefore, 'patch must not change');
  });
}

test('merge patch: result shares nothing with the patch', () => {
  const patch = { spec: { list: [{ a: 1 }] } };
  const out = applyMergePatch({}, patch) as { spec: { list: { a: number }[] } };
  out.spec.list[0].a = 2;
  assert.equal(patch.spec.list[0].a, 1);
});
