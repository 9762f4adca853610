// The write path copies only what it must: a status write keeps the stored spec without copying
// it, a binding shares what it does not change, and the cache's copy shares what is the previous
// cached version's. None of it may let a writer's object reach the cache, nor change what is stored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/storage/sqlite.ts';
import { WatchCache, cacheCopy, storedValue } from '../../src/storage/cache.ts';
import { ResourceStore, keyFor } from '../../src/apiserver/resource-store.ts';
import { resources } from '../../src/api/registry.ts';
import type { Obj } from '../../src/api/resource.ts';

const def = (group: string, plural: string) => resources.find((r) => r.group === group && r.plural === plural)!;
const pods = def('', 'pods');
const pvs = def('', 'persistentvolumes');

/** Every object (or array) inside v. */
function objectsIn(v: unknown, into = new Set<unknown>()): Set<unknown> {
  if (v !== null && typeof v === 'object') {
    into.add(v);
    for (const x of Object.values(v)) objectsIn(x, into);
  }
  return into;
}

function shared(a: unknown, b: unknown): unknown[] {
  const inA = objectsIn(a);
  return [...objectsIn(b)].filter((x) => inA.has(x));
}

test('cacheCopy: shares the parts that are the previous version\'s, copies the rest, never the top or metadata', () => {
  const prev = JSON.parse('{"kind":"Pod","metadata":{"name":"p","labels":{"a":"b"},"resourceVersion":"3"},"spec":{"containers":[{"name":"c"}]},"status":{"phase":"Pending"}}');
  const obj = { ...prev, metadata: { ...prev.metadata, resourceVersion: '3' }, status: { phase: 'Running', x: undefined, n: -0 } };
  const copy = cacheCopy(obj, prev)!.obj;
  const value = storedValue(obj);
  assert.deepEqual(copy, JSON.parse(value));
  assert.equal(JSON.stringify(copy), value);
  assert.equal(copy.spec, prev.spec, 'the spec is the cached one');
  assert.equal(copy.metadata.labels, prev.metadata.labels, 'so are unchanged parts of metadata');
  assert.notEqual(copy.metadata, prev.metadata);
  assert.notEqual(copy.metadata, obj.metadata);
  assert.notEqual(copy.status, obj.status);
  assert.ok(!('resourceVersion' in copy.metadata));
  assert.equal(obj.metadata.resourceVersion, '3', 'the writer\'s object is left as it was');
  // Without prev (or with an unrelated one) nothing is shared with the writer.
  assert.deepEqual(shared(obj, cacheCopy(obj)!.obj), []);
  assert.deepEqual(shared(obj, cacheCopy(obj, structuredClone(prev))!.obj), []);
  // The same part at another place is copied: only the same place counts.
  const moved = cacheCopy({ kind: 'Pod', metadata: {}, status: prev.spec }, prev)!.obj;
  assert.notEqual(moved.status, prev.spec);
  // What JSON would change otherwise is still refused, prev or not.
  assert.equal(cacheCopy({ ...obj, status: new Date(0) }, prev), undefined);
  assert.equal(cacheCopy({ ...obj, metadata: { name: 'p', t: new Date(0) } }, prev), undefined);
});

async function withStore(fn: (rs: ResourceStore, store: SqliteStore) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ordinal-rs-copies-'));
  const store = new SqliteStore(join(dir, 'state.db'));
  const cache = new WatchCache(store);
  await cache.start();
  const rs = new ResourceStore(store, cache);
  try {
    await rs.create(def('', 'namespaces'), undefined, { metadata: { name: 'ns' } }, { typed: true });
    await rs.create(def('', 'serviceaccounts'), 'ns', { metadata: { name: 'default' } }, { typed: true });
    await fn(rs, store);
  } finally {
    cache.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What the store holds for the object, parsed, with the cache's resourceVersion. */
async function storedObj(rs: ResourceStore, store: SqliteStore, key: string): Promise<Obj> {
  const kv = (await store.get(key))!;
  const o = JSON.parse(kv.value);
  o.metadata.resourceVersion = String(kv.modRev);
  return o;
}

const podInput = () => ({
  metadata: { name: 'p', labels: { app: 'a' } },
  spec: { automountServiceAccountToken: false, containers: [{ name: 'c', image: 'i' }] },
});

test('status write: the writer\'s object is not changed nor held by the cache, and what is cached is what is stored', async () => {
  await withStore(async (rs, store) => {
    const key = keyFor(pods, 'ns', 'p');
    const created = await rs.create(pods, 'ns', podInput(), { typed: true });
    const input = structuredClone(created);
    input.spec.containers[0].image = 'ignored: a status write keeps the stored spec';
    input.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null }] };
    const before = structuredClone(input);
    const updated = await rs.update(pods, 'ns', 'p', input, { typed: true }, 'status');
    assert.deepEqual(input, before, 'the writer\'s object is as it was');
    assert.deepEqual(shared(input, updated), []);
    assert.equal(updated.spec, created.spec, 'the stored spec is kept, shared with the version before');
    assert.equal(updated.status.phase, 'Running');
    assert.deepEqual(updated, await storedObj(rs, store, key));
    // The writer goes on changing its object: the cache does not see it.
    input.status.phase = 'Failed';
    input.status.conditions[0].status = 'False';
    input.metadata.labels.app = 'changed';
    assert.deepEqual(rs.get(pods, 'ns', 'p'), await storedObj(rs, store, key));
    assert.equal(rs.get(pods, 'ns', 'p').status.phase, 'Running');
    // The same status again is a no-op: no write, the cached object answers.
    const again = await rs.update(pods, 'ns', 'p', { ...structuredClone(updated) }, { typed: true }, 'status');
    assert.equal(again, rs.get(pods, 'ns', 'p'));
    assert.equal(again.metadata.resourceVersion, updated.metadata.resourceVersion);
  });
});

test('status write of a kind that keeps the stored spec: same bytes through the lean copy as through a full one', async () => {
  await withStore(async (rs, store) => {
    const pv = { metadata: { name: 'v' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/tmp/x' } } };
    await rs.create(pvs, undefined, pv, { typed: true });
    const cur = rs.get(pvs, undefined, 'v');
    const typed = await rs.update(pvs, undefined, 'v', { ...structuredClone(cur), status: { ...cur.status, phase: 'Available' } }, { typed: true }, 'status');
    const viaTyped = (await store.get(keyFor(pvs, undefined, 'v')))!.value;
    // The HTTP path (untyped) copies the whole object; it must store the same text for the same change.
    await rs.update(pvs, undefined, 'v', { ...structuredClone(typed), status: { ...typed.status, phase: 'Bound' } }, {}, 'status');
    await rs.update(pvs, undefined, 'v', { ...structuredClone(rs.get(pvs, undefined, 'v')), status: { ...typed.status } }, {}, 'status');
    const viaHttp = (await store.get(keyFor(pvs, undefined, 'v')))!.value;
    const norm = (v: string) => v.replace(/"lastPhaseTransitionTime":"[^"]*"/g, '');
    assert.equal(norm(viaHttp), norm(viaTyped));
    assert.deepEqual(rs.get(pvs, undefined, 'v'), await storedObj(rs, store, keyFor(pvs, undefined, 'v')));
  });
});

test('binding: stores what a full copy would, shares the unchanged parts with the pod before, refuses a second one', async () => {
  await withStore(async (rs, store) => {
    const key = keyFor(pods, 'ns', 'p');
    const created = await rs.create(pods, 'ns', podInput(), { typed: true });
    // What binding used to store: a deep copy with spec.nodeName and the PodScheduled condition set.
    const expected = structuredClone(created);
    expected.spec.nodeName = 'n1';
    await rs.bind(pods, 'ns', 'p', 'n1', created.metadata.uid);
    const bound = rs.get(pods, 'ns', 'p');
    const cond = bound.status.conditions.find((c: Obj) => c.type === 'PodScheduled');
    (expected.status ??= {}).conditions = [...(expected.status.conditions ?? []).filter((c: Obj) => c.type !== 'PodScheduled'), { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: cond.lastTransitionTime }];
    expected.metadata.resourceVersion = bound.metadata.resourceVersion;
    assert.equal(JSON.stringify(bound), JSON.stringify(expected), 'same fields, same order');
    assert.deepEqual(bound, await storedObj(rs, store, key));
    assert.equal(bound.spec.containers, created.spec.containers, 'the containers are the cached ones');
    assert.notEqual(bound.spec, created.spec);
    assert.equal(created.spec.nodeName, undefined, 'the version before is unchanged');
    await assert.rejects(rs.bind(pods, 'ns', 'p', 'n2'), /already assigned to node "n1"/);
  });
});

test('create and update: the writer\'s object is neither changed nor held by the cache', async () => {
  await withStore(async (rs, store) => {
    const key = keyFor(pods, 'ns', 'p');
    const input = podInput();
    const before = structuredClone(input);
    const created = await rs.create(pods, 'ns', input, { typed: true });
    assert.deepEqual(input, before);
    assert.deepEqual(shared(input, created), []);
    const next = structuredClone(created);
    next.metadata.labels.app = 'b';
    const nextBefore = structuredClone(next);
    const updated = await rs.update(pods, 'ns', 'p', next, { typed: true });
    assert.deepEqual(next, nextBefore);
    assert.deepEqual(shared(next, updated), []);
    next.spec.containers[0].image = 'changed later';
    assert.deepEqual(rs.get(pods, 'ns', 'p'), await storedObj(rs, store, key));
    assert.equal(rs.get(pods, 'ns', 'p').metadata.labels.app, 'b');
  });
});

test('create of an existing object: AlreadyExists from the store, and from the cache for a dry run', async () => {
  await withStore(async (rs, store) => {
    await rs.create(pods, 'ns', podInput(), { typed: true });
    const rev = store.currentRevision();
    for (const dryRun of [false, true]) {
      await assert.rejects(rs.create(pods, 'ns', podInput(), { typed: true, dryRun }), (err: any) => {
        assert.equal(err.code, 409);
        assert.equal(err.reason, 'AlreadyExists');
        assert.equal(err.message, 'pods "p" already exists');
        return true;
      });
    }
    assert.equal(store.currentRevision(), rev, 'nothing written');
  });
});
