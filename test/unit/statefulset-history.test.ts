// ControllerRevision utilities and the StatefulSet revision decisions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  HASH_LABEL, equalRevision, fnv1, goJson, hashRevision, nextRevision, revisionName, revisionsToTruncate, safeEncode, sortRevisions,
} from '../../src/controllers/history/history.ts';
import { decideUpdateRevision, findCurrentRevision, newRevision, templatePatch } from '../../src/controllers/statefulset/revisions.ts';
import { makeSet, revisionOf, withImage } from './statefulset-fixtures.ts';
import type { Obj } from '../../src/api/resource.ts';

const bytes = (s: string) => new TextEncoder().encode(s);

test('history: FNV-1 32-bit test vectors', () => {
  assert.equal(fnv1(bytes('')), 0x811c9dc5);
  assert.equal(fnv1(bytes('a')), 0x050c5d7e);
  assert.equal(fnv1(bytes('foobar')), 0x31f0b262);
});

test('history: safe encoding maps digits to 4-9,b,c,d,f', () => {
  assert.equal(safeEncode('0123456789'), '456789bcdf');
});

test('history: hash is deterministic and salted by the collision count', () => {
  const h = hashRevision('{"a":1}', 0);
  assert.equal(h, hashRevision('{"a":1}', 0));
  assert.notEqual(h, hashRevision('{"a":1}', 1));
  assert.notEqual(h, hashRevision('{"a":2}', 0));
  assert.match(h, /^[456789bcdf]{1,10}$/);
  // Salting continues the same FNV stream: hash("data" + "0") === hash of the concatenation.
  assert.equal(hashRevision('xy', 7), safeEncode(String(fnv1(bytes('xy7')))));
});

test('history: names cut long parents', () => {
  assert.equal(revisionName('web', 'abc'), 'web-abc');
  assert.equal(revisionName('x'.repeat(300), 'h').length, 225);
});

test('history: goJson sorts keys, is compact, escapes like Go', () => {
  assert.equal(goJson({ b: 1, a: { d: [1, 'x'], c: null } }), '{"a":{"c":null,"d":[1,"x"]},"b":1}');
  assert.equal(goJson({ s: '<a&b>' }), '{"s":"\\u003ca\\u0026b\\u003e"}');
});

test('history: sort by revision, then age, then name', () => {
  const r = (name: string, revision: number, t = '2025-01-01T00:00:00Z') => ({ metadata: { name, creationTimestamp: t }, revision });
  const sorted = sortRevisions([r('c', 2), r('b', 1, '2025-01-02T00:00:00Z'), r('a', 1, '2025-01-02T00:00:00Z'), r('z', 1)]);
  assert.deepEqual(sorted.map((x) => x.metadata.name), ['z', 'a', 'b', 'c']);
  assert.equal(nextRevision(sorted), 3);
  assert.equal(nextRevision([]), 1);
});

test('history: equality is about the data', () => {
  const a = { metadata: { labels: { [HASH_LABEL]: 'bcd' } }, data: { x: 1, y: 2 } };
  assert.ok(equalRevision(a, { metadata: {}, data: { y: 2, x: 1 } }));
  assert.ok(!equalRevision(a, { metadata: {}, data: { x: 2 } }));
  // Numeric-looking hash labels are compared, as upstream parses them.
  assert.ok(!equalRevision({ metadata: { labels: { [HASH_LABEL]: '456' } }, data: {} }, { metadata: { labels: { [HASH_LABEL]: '457' } }, data: {} }));
});

test('history: truncation keeps live revisions and the newest `limit` others', () => {
  const revs = [1, 2, 3, 4, 5].map((n) => ({ metadata: { name: `r${n}` }, revision: n }));
  const names = (xs: Obj[]) => xs.map((x) => x.metadata.name);
  assert.deepEqual(names(revisionsToTruncate(revs, new Set(['r5']), 2)), ['r1', 'r2']);
  assert.deepEqual(names(revisionsToTruncate(revs, new Set(['r1', 'r5']), 2)), ['r2']);
  assert.deepEqual(names(revisionsToTruncate(revs, new Set(['r5']), 0)), ['r1', 'r2', 'r3', 'r4']);
  assert.deepEqual(revisionsToTruncate(revs, new Set(), -1), []);
  assert.deepEqual(revisionsToTruncate(revs, new Set(), 10), []);
});

test('revisions: the data is the template as a replace patch, with Go key order', () => {
  const set = makeSet();
  const data = templatePatch(set);
  assert.equal(
    data,
    '{"spec":{"template":{"$patch":"replace","metadata":{"creationTimestamp":null,"labels":{"app":"nginx"}},"spec":{"containers":[{"image":"nginx:1","name":"nginx"}]}}}}',
  );
});

test('revisions: a new revision is named, labelled, owned and annotated', () => {
  const set = makeSet({}, { annotations: { 'kubernetes.io/change-cause': 'v1' } });
  const r = newRevision(set, 4, 0);
  const hash = hashRevision(templatePatch(set), 0);
  assert.equal(r.metadata.name, `web-${hash}`);
  assert.equal(r.metadata.namespace, 'ns');
  assert.deepEqual(r.metadata.labels, { app: 'nginx', [HASH_LABEL]: hash });
  assert.deepEqual(r.metadata.annotations, { 'kubernetes.io/change-cause': 'v1' });
  assert.deepEqual(r.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'set-uid', controller: true, blockOwnerDeletion: true }]);
  assert.equal(r.revision, 4);
  assert.equal(r.data.spec.template.$patch, 'replace');
  // Only the template counts: replicas and strategy do not change the name.
  assert.equal(newRevision(makeSet({ replicas: 7, updateStrategy: { type: 'OnDelete' } }), 1, 0).metadata.name, r.metadata.name);
  assert.notEqual(newRevision(withImage(set, 'nginx:2'), 1, 0).metadata.name, r.metadata.name);
  assert.notEqual(newRevision(set, 1, 1).metadata.name, r.metadata.name);
});

test('revisions: decide the update revision (create, existing, rollback)', () => {
  const v1 = makeSet();
  const v2 = withImage(v1, 'nginx:2');
  assert.equal(decideUpdateRevision(v1, [], 0).kind, 'create');
  assert.equal((decideUpdateRevision(v1, [], 0).revision as Obj).revision, 1);
  const r1 = revisionOf(v1, 1);
  const r2 = revisionOf(v2, 2);
  const same = decideUpdateRevision(v2, [r1, r2], 0);
  assert.equal(same.kind, 'existing');
  assert.equal(same.revision, r2);
  const back = decideUpdateRevision(v1, [r1, r2], 0);
  assert.deepEqual({ kind: back.kind, name: back.revision.metadata.name, to: (back as { to: number }).to }, { kind: 'rollback', name: r1.metadata.name, to: 3 });
  const fresh = decideUpdateRevision(withImage(v1, 'nginx:3'), [r1, r2], 0);
  assert.equal(fresh.kind, 'create');
  assert.equal(fresh.revision.revision, 3);
});

test('revisions: current revision from status, else the update revision', () => {
  const v1 = makeSet();
  const r1 = revisionOf(v1, 1);
  const r2 = revisionOf(withImage(v1, 'nginx:2'), 2);
  assert.equal(findCurrentRevision({ ...v1, status: { currentRevision: r1.metadata.name } }, [r1, r2], r2), r1);
  assert.equal(findCurrentRevision({ ...v1, status: {} }, [r1, r2], r2), r2);
  assert.equal(findCurrentRevision({ ...v1, status: { currentRevision: 'web-gone' } }, [r1, r2], r2), r2);
});
