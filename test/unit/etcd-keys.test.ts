import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyLayout } from '../../src/storage/etcd/keys.ts';
import { prefixEnd } from '../../src/storage/etcd/store.ts';
import { storedResources } from '../../src/apiserver/stored-resources.ts';
import { parseEtcdFlags } from '../../src/cli/etcd-flags.ts';
import { judgeReservation, reservationObject, STALE_AFTER_MS } from '../../src/apiserver/ip-reservations.ts';
import { WatchCache } from '../../src/storage/cache.ts';
import type { Store, StoreEvent } from '../../src/storage/types.ts';

const layout = new KeyLayout(storedResources());

test('keys are laid out as kube-apiserver lays them out', () => {
  const cases: [string, string][] = [
    ['/registry/core/pods/default/web-0', '/registry/pods/default/web-0'],
    ['/registry/apps/statefulsets/default/web', '/registry/statefulsets/default/web'],
    ['/registry/apps/controllerrevisions/default/web-6b8f', '/registry/controllerrevisions/default/web-6b8f'],
    ['/registry/core/services/default/nginx', '/registry/services/specs/default/nginx'],
    ['/registry/core/endpoints/default/nginx', '/registry/services/endpoints/default/nginx'],
    ['/registry/core/nodes/node-1', '/registry/minions/node-1'],
    ['/registry/core/namespaces/default', '/registry/namespaces/default'],
    ['/registry/coordination.k8s.io/leases/kube-node-lease/node-1', '/registry/leases/kube-node-lease/node-1'],
    ['/registry/storage.k8s.io/storageclasses/standard', '/registry/storageclasses/standard'],
    ['/registry/certificates.k8s.io/certificatesigningrequests/csr-1', '/registry/certificatesigningrequests/csr-1'],
    ['/registry/discovery.k8s.io/endpointslices/default/nginx-abc', '/registry/endpointslices/default/nginx-abc'],
    ['/registry/networking.k8s.io/ipaddresses/10.96.0.1', '/registry/ipaddresses/10.96.0.1'],
    // A group the server does not build in (a custom resource) keeps its group, as upstream's CRDs do.
    ['/registry/example.com/widgets/default/w1', '/registry/example.com/widgets/default/w1'],
  ];
  for (const [internal, etcd] of cases) {
    assert.equal(layout.toEtcd(internal), etcd, internal);
    assert.equal(layout.fromEtcd(etcd), internal, etcd);
  }
});

test('prefixes map like keys; the whole key space maps to the etcd prefix', () => {
  assert.equal(layout.toEtcd('/registry/'), '/registry/');
  assert.equal(layout.toEtcd('/registry/core/pods/'), '/registry/pods/');
  assert.equal(layout.toEtcd('/registry/core/services/default/'), '/registry/services/specs/default/');
});

test('--etcd-prefix moves every key and only keys under it are Ordinal objects', () => {
  const l = new KeyLayout(storedResources(), '/ordinal/');
  assert.equal(l.toEtcd('/registry/core/pods/ns/p'), '/ordinal/pods/ns/p');
  assert.equal(l.fromEtcd('/ordinal/pods/ns/p'), '/registry/core/pods/ns/p');
  assert.equal(l.fromEtcd('/registry/pods/ns/p'), undefined);
});

test('keys that are not Ordinal objects map to nothing', () => {
  for (const k of ['compact_rev_key', '/registry/masterleases/10.0.0.1', '/registry/ranges/serviceips', '/registry/', '/registry/pods', '/other/pods/a/b', '/registry/unknownthings/a']) {
    assert.equal(layout.fromEtcd(k), undefined, k);
  }
  assert.throws(() => layout.toEtcd('/elsewhere/core/pods/a'), /not an Ordinal storage key/);
});

test('range ends as etcd computes them', () => {
  assert.deepEqual(prefixEnd('/registry/'), Buffer.from('/registry0'));
  assert.deepEqual(prefixEnd('/registry/pods/'), Buffer.from('/registry/pods0'));
});

test('etcd flags: kube-apiserver names, defaults and errors', () => {
  assert.equal(parseEtcdFlags('sqlite', {}), undefined);
  assert.throws(() => parseEtcdFlags('sqlite', { 'etcd-servers': 'http://127.0.0.1:2379' }), /--etcd-servers needs --store etcd/);
  assert.throws(() => parseEtcdFlags('etcd', {}), /needs --etcd-servers/);
  assert.throws(() => parseEtcdFlags('etcd', { 'etcd-servers': 'ftp://x' }), /scheme must be http or https/);
  assert.throws(() => parseEtcdFlags('etcd', { 'etcd-servers': 'https://x:2379' }), /--etcd-cafile/);
  assert.throws(() => parseEtcdFlags('etcd', { 'etcd-servers': 'http://x:2379', 'etcd-certfile': 'c' }), /go together/);
  assert.throws(() => parseEtcdFlags('etcd', { 'etcd-servers': 'http://x:2379', 'etcd-compaction-interval': 'soon' }), /invalid duration/);
  const f = parseEtcdFlags('etcd', { 'etcd-servers': 'http://a:2379, http://b:2379' })!;
  assert.deepEqual(f.servers, ['http://a:2379', 'http://b:2379']);
  assert.equal(f.prefix, '/registry');
  assert.equal(f.compactionIntervalMs, 5 * 60 * 1000);
  assert.equal(parseEtcdFlags('etcd', { 'etcd-servers': 'http://a:2379', 'etcd-compaction-interval': '0' })!.compactionIntervalMs, 0);
});

test('a ClusterIP reservation is the same Service\'s, taken while its Service holds the address or may be in flight, stale after', () => {
  const now = Date.parse('2026-01-01T00:10:00Z');
  const res = reservationObject('10.96.0.5', { namespace: 'default', name: 'a' }, new Date(now - 1000));
  const none = () => undefined;
  assert.equal(judgeReservation(res, '10.96.0.5', { namespace: 'default', name: 'a' }, none, now), 'mine');
  assert.equal(judgeReservation(res, '10.96.0.5', { namespace: 'default', name: 'b' }, none, now), 'taken');
  assert.equal(judgeReservation(res, '10.96.0.5', { namespace: 'default', name: 'b' }, none, now + STALE_AFTER_MS), 'stale');
  const holder = () => ({ spec: { clusterIP: '10.96.0.5', clusterIPs: ['10.96.0.5'] } });
  assert.equal(judgeReservation(res, '10.96.0.5', { namespace: 'default', name: 'b' }, holder, now + 10 * STALE_AFTER_MS), 'taken');
  const moved = () => ({ spec: { clusterIP: '10.96.0.9', clusterIPs: ['10.96.0.9'] } });
  assert.equal(judgeReservation(res, '10.96.0.5', { namespace: 'default', name: 'b' }, moved, now + STALE_AFTER_MS), 'stale');
});

/** A store whose change stream the test drives by hand. */
function fakeStore(): Store & { push(events: StoreEvent[], progress?: number): void; compactTo(rev: number): void } {
  let sink: ((e: StoreEvent[], p?: number) => void) | undefined;
  let compacted = 0;
  return {
    driver: 'fake',
    currentRevision: () => 10,
    compactedRevision: () => compacted,
    create: async () => { throw new Error('unused'); },
    get: async () => undefined,
    list: async () => ({ kvs: [{ key: '/registry/core/pods/default/a', value: '{"metadata":{"name":"a"}}', createRev: 5, modRev: 5 }], rev: 10 }),
    update: async () => { throw new Error('unused'); },
    delete: async () => { throw new Error('unused'); },
    watch: (_from, fn) => ((sink = fn), () => (sink = undefined)),
    compact: async () => {},
    close: async () => {},
    push: (events, progress) => sink!(events, progress),
    compactTo: (rev) => void (compacted = rev),
  };
}

test('the watch cache advances on progress revisions and honours the store\'s compaction', async () => {
  const store = fakeStore();
  const cache = new WatchCache(store, 100);
  await cache.start();
  assert.equal(cache.revision(), 10);
  let reached = false;
  const waiting = cache.waitFor(12).then(() => (reached = true));
  // Revision 11 changed a key outside the layout: only progress says so.
  store.push([], 11);
  await new Promise((r) => setImmediate(r));
  assert.equal(cache.revision(), 11);
  assert.equal(reached, false);
  store.push([{ type: 'put', rev: 12, key: '/registry/core/pods/default/b', value: '{"metadata":{"name":"b"}}', createRev: 12 }], 12);
  await waiting;
  assert.equal(cache.get('/registry/core/pods/default/b')?.obj.metadata.resourceVersion, '12');
  // Events after 10 are still in memory, but once the store compacted past them no server serves them.
  assert.equal(cache.eventsSince(10)?.length, 1);
  store.compactTo(11);
  assert.equal(cache.eventsSince(10), undefined);
  assert.equal(cache.eventsSince(11)?.length, 1);
  cache.close();
});
