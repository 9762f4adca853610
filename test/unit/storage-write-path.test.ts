// The write path hands the watch cache a copy of the object it stored instead of having the cache
// parse the value back: what the cache serves must be exactly what parsing would have given.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/storage/sqlite.ts';
import { WatchCache, decode, encode, storedForm, storedValueOf, type CacheEvent } from '../../src/storage/cache.ts';
import { unknownFields, dropUnknownFields } from '../../src/apiserver/field-validation.ts';
import '../../src/api/registry.ts';

const KEY = '/registry/core/pods/ns/p';

function pod(extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'ns', labels: { app: 'x' }, resourceVersion: '7', uid: 'u-1' },
    spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80 }] }], nodeName: 'n1' },
    status: { phase: 'Pending', conditions: [{ type: 'Ready', status: 'False', lastProbeTime: null }] },
    ...extra,
  };
}

/** Whether b contains any object (or array) that is also inside a. */
function shares(a: unknown, b: unknown): boolean {
  const inA = new Set<unknown>();
  const collect = (v: unknown) => {
    if (v === null || typeof v !== 'object') return;
    inA.add(v);
    Object.values(v).forEach(collect);
  };
  collect(a);
  const found = (v: unknown): boolean => v !== null && typeof v === 'object' && (inA.has(v) || Object.values(v).some(found));
  return found(b);
}

test('storedForm: the value leaves out resourceVersion; the copy equals the parsed value and shares nothing', () => {
  const obj = pod();
  const { value, decoded } = storedForm(obj);
  const expected = structuredClone(obj) as Record<string, any>;
  delete expected.metadata.resourceVersion;
  assert.equal(value, JSON.stringify(expected));
  assert.ok(decoded);
  assert.deepEqual(decoded.obj, JSON.parse(value));
  assert.equal(JSON.stringify(decoded.obj), value);
  assert.ok(!shares(decoded.obj, obj), 'the copy shares no object with the writer');
  // The writer's object is as it was, resourceVersion included and in place.
  assert.deepEqual(Object.keys(obj.metadata), ['name', 'namespace', 'labels', 'resourceVersion', 'uid']);
  assert.equal(obj.metadata.resourceVersion, '7');
});

test('storedForm: JSON normalisations are applied to the copy; what JSON would change otherwise is parsed instead', () => {
  const odd = pod({ spec: { a: undefined, b: [undefined, () => 1, NaN, -0, Infinity], f: () => 1, n: -0 } });
  const { value, decoded } = storedForm(odd);
  assert.ok(decoded);
  assert.deepEqual(decoded.obj, JSON.parse(value));
  assert.ok(Object.is(decoded.obj.spec.n, 0));
  assert.ok(!('a' in decoded.obj.spec));
  for (const v of [new Date(0), new Map(), { toJSON: () => 'x' }]) {
    const r = storedForm(pod({ spec: { v } }));
    assert.equal(r.decoded, undefined);
    assert.equal(r.value, JSON.stringify({ ...pod({ spec: { v } }), metadata: { ...pod().metadata, resourceVersion: undefined } }));
  }
  // A metadata-less object still stores and copies.
  const bare = storedForm({ kind: 'X' });
  assert.equal(bare.value, '{"kind":"X"}');
  assert.deepEqual(bare.decoded?.obj, { kind: 'X' });
});

async function withCache(fn: (store: SqliteStore, cache: WatchCache, path: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ordinal-writepath-'));
  const path = join(dir, 'state.db');
  const store = new SqliteStore(path);
  const cache = new WatchCache(store);
  await cache.start();
  try {
    await fn(store, cache, path);
  } finally {
    cache.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('watch cache: a handed-over copy is served exactly as the parsed value would be, and survives a restart unchanged', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ordinal-writepath-'));
  const path = join(dir, 'state.db');
  try {
    let served: string[] = [];
    {
      const store = new SqliteStore(path);
      const cache = new WatchCache(store);
      await cache.start();
      const events: CacheEvent[] = [];
      cache.subscribe('/registry/core/pods/', (e) => events.push(e));
      const obj = pod();
      const first = storedForm(obj);
      const kv = await store.create(KEY, first.value, first.decoded);
      await cache.waitFor(kv.modRev);
      const cached = cache.get(KEY)!.obj;
      assert.equal(cached, first.decoded!.obj, 'the copy is the cached object');
      assert.equal(cached.metadata.resourceVersion, String(kv.modRev));
      assert.equal(Object.keys(cached.metadata).at(-1), 'resourceVersion');
      assert.equal(encode(cached), JSON.stringify(cached));
      assert.equal(storedValueOf(cached), first.value);

      const next = structuredClone(cached);
      next.status.phase = 'Running';
      next.metadata.annotations = { a: '}{"' };
      const second = storedForm(next);
      const kv2 = await store.update(KEY, second.value, kv.modRev, second.decoded);
      await cache.waitFor(kv2.modRev);
      const cached2 = cache.get(KEY)!.obj;
      assert.equal(encode(cached2), JSON.stringify(cached2));
      assert.deepEqual(cached2, { ...JSON.parse(second.value), metadata: { ...JSON.parse(second.value).metadata, resourceVersion: String(kv2.modRev) } });

      const del = await store.delete(KEY);
      await cache.waitFor(del.rev);
      assert.deepEqual(events.map((e) => [e.type, e.obj.metadata.resourceVersion, e.obj.status.phase, e.prevObj?.status.phase]), [
        ['ADDED', String(kv.modRev), 'Pending', undefined],
        ['MODIFIED', String(kv2.modRev), 'Running', 'Pending'],
        ['DELETED', String(del.rev), 'Running', 'Running'],
      ]);
      served = events.map((e) => encode(e.obj));
      for (const [i, e] of events.entries()) assert.equal(served[i], JSON.stringify(e.obj));
      cache.close();
      await store.close();
    }
    // The same changes read back from the file after a restart are the same text.
    const store = new SqliteStore(path);
    try {
      const replayed = store.history(0, store.currentRevision())!;
      assert.deepEqual(replayed.map((e) => JSON.stringify(decode(e.value, e.rev))), served);
      assert.deepEqual(replayed.map((e) => e.prev !== undefined && JSON.stringify(decode(e.prev, e.prevModRev!))), [false, served[0], served[1].replace(/"resourceVersion":"\d+"/, `"resourceVersion":"${replayed[2].prevModRev}"`)]);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('watch cache: events without a copy (other writers, replays) are parsed as before', async () => {
  await withCache(async (store, cache) => {
    const kv = await store.create(KEY, JSON.stringify({ kind: 'Pod', metadata: { name: 'p' } }));
    await cache.waitFor(kv.modRev);
    const cached = cache.get(KEY)!.obj;
    assert.deepEqual(cached, { kind: 'Pod', metadata: { name: 'p', resourceVersion: String(kv.modRev) } });
    assert.equal(storedValueOf(cached), undefined);
    assert.equal(encode(cached), JSON.stringify(cached));
  });
});

test('unknownFields: the fast pass agrees with the full walk', () => {
  const schema = 'io.k8s.api.core.v1.Pod';
  const cases: [unknown, string[]][] = [
    [pod(), []],
    [pod({ extra: 1 }), ['extra']],
    [pod({ spec: { containers: [{ name: 'c', bogus: { x: 1 } }] } }), ['spec.containers[0].bogus']],
    // Names found on Object.prototype are looked up as the full walk has always looked them up.
    [pod({ metadata: { name: 'p', labels: { anything: 'goes' }, constructor: 'x', toString: 1 } }), []],
    [pod({ status: { conditions: [{ type: 'Ready' }, { type: 'X', nope: true }] } }), ['status.conditions[1].nope']],
    [{ apiVersion: 'v1', kind: 'Pod', spec: { nodeSelector: { a: 'b' }, overhead: { cpu: '1' } } }, []],
    [{ spec: { containers: [{ env: [{ name: 'a', valueFrom: { fieldRef: { fieldPath: 'x', y: 1 } } }] }] } }, ['spec.containers[0].env[0].valueFrom.fieldRef.y']],
  ];
  for (const [obj, want] of cases) {
    assert.deepEqual(unknownFields(obj, schema), want, JSON.stringify(obj));
    const copy = structuredClone(obj);
    dropUnknownFields(copy, schema);
    assert.deepEqual(unknownFields(copy, schema), []);
  }
});

test('a SQLite delete does not read the committed value back: the DELETED event is the cached object, counted at its size in the tail', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ordinal-writepath-'));
  try {
    const store = new SqliteStore(join(dir, 'state.db'));
    // Three pods of about 3 MB each: their deletions alone pass the tail's 8 MiB.
    const big = 'x'.repeat(3_000_000);
    const keys = ['a', 'b', 'c'].map((n) => `/registry/core/pods/ns/${n}`);
    let rev = 0;
    for (const key of keys) rev = (await store.create(key, storedForm(pod({ metadata: { name: key.slice(-1), namespace: 'ns', uid: `u-${key}` }, data: big })).value)).modRev;
    // A cache started now loads them (as at a restart): its tail starts empty, so what it holds
    // after the deletes is what it counted for them.
    const cache = new WatchCache(store);
    await cache.start();
    const events: CacheEvent[] = [];
    cache.subscribe('/registry/core/pods/', (e) => events.push(e));
    const tail = cache as unknown as { tailBytes: number };
    assert.equal(tail.tailBytes, 0);
    let deletedValues = 0;
    const unsubscribe = store.watch(store.currentRevision(), (es) => {
      for (const e of es) if (e.type === 'delete') deletedValues += e.value.length;
    });
    for (const key of keys) rev = (await store.delete(key)).rev;
    await cache.waitFor(rev);
    unsubscribe();
    assert.equal(deletedValues, 0, 'the committed values were not read back for the events');
    const deleted = events.filter((e) => e.type === 'DELETED');
    assert.deepEqual(deleted.map((e) => [e.obj.metadata.name, e.obj.metadata.resourceVersion, e.obj.data.length]), [
      ['a', String(rev - 2), big.length],
      ['b', String(rev - 1), big.length],
      ['c', String(rev), big.length],
    ]);
    // The tail counted each deletion at its object's size, so it let older events go to stay within its bytes.
    assert.ok(tail.tailBytes <= 8 * 1024 * 1024, `tail holds ${tail.tailBytes} bytes`);
    assert.ok(tail.tailBytes >= 2 * big.length, `tail counted ${tail.tailBytes} bytes for the deletes`);
    // What the log replays still carries the value.
    const replayed = store.history(rev - 3, rev)!;
    assert.deepEqual(replayed.map((e) => [e.type, e.value.length > big.length]), [
      ['delete', true],
      ['delete', true],
      ['delete', true],
    ]);
    cache.close();
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
