// Two `ordinal server` processes on one etcd, as two kube-apiservers: each serves the whole API from
// its own watch cache, and clients may move between them without noticing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startCluster, stopCluster, removeCluster, kubectlOk, api, tempDir, type Cluster } from './harness.ts';
import { etcdMissing, startEtcd, type Etcd } from '../support/etcd.ts';

const skip = etcdMissing();
let etcd: Etcd;
let a: Cluster;
let b: Cluster;
/** A /27: 30 addresses, 2 of them the kubernetes and kube-dns Services'. */
const SERVICE_RANGE = '10.96.0.0/27';

const args = () => ['--store', 'etcd', '--etcd-servers', etcd.url, '--service-cluster-ip-range', SERVICE_RANGE, '--etcd-compaction-interval', '0'];

before(async () => {
  if (skip) return;
  etcd = await startEtcd();
  a = await startCluster({ command: 'server', args: args() });
  // The second server shares the first one's PKI (a copy of its data dir, as on another machine).
  const dirB = tempDir();
  mkdirSync(dirB, { recursive: true });
  cpSync(join(a.dataDir, 'pki'), join(dirB, 'pki'), { recursive: true });
  b = await startCluster({ command: 'server', dataDir: dirB, args: args() });
});
after(async () => {
  for (const c of [a, b]) {
    if (!c) continue;
    await stopCluster(c);
    removeCluster(c);
  }
  await etcd?.remove();
});

interface WatchEvent {
  type: string;
  object: any;
}

/** A watch that ends after `seconds`, as its events. */
async function watchEvents(c: Cluster, path: string, rv: string, seconds = 2): Promise<WatchEvent[]> {
  const r = await api(c, 'GET', `${path}?watch=1&resourceVersion=${rv}&timeoutSeconds=${seconds}`);
  assert.equal(r.status, 200, r.body);
  return r.body.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

const cm = (name: string) => ({ metadata: { name }, data: { k: name } });
const CMS = '/api/v1/namespaces/default/configmaps';

test('a write through one server is read at once through the other, at the same resourceVersion', { skip }, async () => {
  for (let i = 0; i < 5; i++) {
    const created = await api(a, 'POST', CMS, cm(`seen-${i}`));
    assert.equal(created.status, 201, created.body);
    // No waiting: the other server's read is a consistent read.
    const got = await api(b, 'GET', `${CMS}/seen-${i}`);
    assert.equal(got.status, 200, got.body);
    assert.equal(got.json.metadata.resourceVersion, created.json.metadata.resourceVersion);
    const updated = await api(b, 'PUT', `${CMS}/seen-${i}`, { ...got.json, data: { k: 'changed' } });
    assert.equal(updated.status, 200, updated.body);
    const back = await api(a, 'GET', `${CMS}/seen-${i}`);
    assert.equal(back.json.data.k, 'changed');
    assert.equal(back.json.metadata.resourceVersion, updated.json.metadata.resourceVersion);
  }
  // A stale resourceVersion is a conflict whichever server takes it.
  const stale = await api(a, 'PUT', `${CMS}/seen-0`, { ...cm('seen-0'), metadata: { name: 'seen-0', resourceVersion: '1' } });
  assert.equal(stale.status, 409);
  assert.equal(stale.json.reason, 'Conflict');
  // kubectl sees the same through either.
  const viaA = await kubectlOk(a, ['get', 'configmaps', '-o', 'name']);
  const viaB = await kubectlOk(b, ['get', 'configmaps', '-o', 'name']);
  assert.equal(viaA, viaB);
});

test('watches give the same events at the same resourceVersions on both, and resume across them', { skip }, async () => {
  const list = await api(a, 'GET', CMS);
  const rv0 = list.json.metadata.resourceVersion;
  const made: string[] = [];
  for (let i = 0; i < 3; i++) made.push((await api(i % 2 ? a : b, 'POST', CMS, cm(`w-${i}`))).json.metadata.resourceVersion);
  const onA = await watchEvents(a, CMS, rv0);
  const onB = await watchEvents(b, CMS, rv0);
  const summary = (es: WatchEvent[]) => es.map((e) => `${e.type} ${e.object.metadata.name} ${e.object.metadata.resourceVersion}`);
  assert.deepEqual(summary(onA), ['ADDED w-0 ' + made[0], 'ADDED w-1 ' + made[1], 'ADDED w-2 ' + made[2]]);
  assert.deepEqual(summary(onB), summary(onA));
  // A client that saw up to w-1 on A resumes on B and gets only what came after.
  const lastSeen = onA[1].object.metadata.resourceVersion;
  await api(a, 'DELETE', `${CMS}/w-0`);
  const resumed = await watchEvents(b, CMS, lastSeen);
  assert.deepEqual(
    resumed.map((e) => `${e.type} ${e.object.metadata.name}`),
    ['ADDED w-2', 'DELETED w-0'],
  );
});

test('a list continued on the other server is one consistent list', { skip }, async () => {
  for (let i = 0; i < 6; i++) await api(a, 'POST', CMS, cm(`page-${i}`));
  const full = (await api(a, 'GET', CMS)).json.items.map((x: any) => x.metadata.name);
  const first = await api(a, 'GET', `${CMS}?limit=4`);
  assert.ok(first.json.metadata.continue);
  // Written after the first page: not in this list, which is a snapshot of the first page's revision.
  await api(b, 'POST', CMS, cm('zz-late'));
  const names = first.json.items.map((x: any) => x.metadata.name);
  let token = first.json.metadata.continue;
  for (let hop = 0; token; hop++) {
    const page = await api(hop % 2 ? a : b, 'GET', `${CMS}?limit=4&continue=${encodeURIComponent(token)}`);
    assert.equal(page.status, 200, page.body);
    assert.equal(page.json.metadata.resourceVersion, first.json.metadata.resourceVersion);
    names.push(...page.json.items.map((x: any) => x.metadata.name));
    token = page.json.metadata.continue;
  }
  assert.deepEqual(names.filter((n: string) => n !== 'zz-late'), full);
});

test('Services created at once through both servers never share a ClusterIP', { skip }, async () => {
  const svc = (name: string) => ({ metadata: { name }, spec: { ports: [{ port: 80 }] } });
  const made = await Promise.all(Array.from({ length: 24 }, (_, i) => api(i % 2 ? a : b, 'POST', '/api/v1/namespaces/default/services', svc(`s-${i}`))));
  for (const r of made) assert.equal(r.status, 201, r.body);
  const all = (await api(a, 'GET', '/api/v1/services')).json.items;
  const ips = all.map((s: any) => s.spec.clusterIP);
  assert.equal(new Set(ips).size, ips.length, `duplicate ClusterIPs: ${ips.sort().join(' ')}`);
  assert.equal(all.length, 26);
  // The range is nearly full: four addresses remain, and a fifth Service finds none.
  const more = await Promise.all(Array.from({ length: 5 }, (_, i) => api(i % 2 ? a : b, 'POST', '/api/v1/namespaces/default/services', svc(`t-${i}`))));
  assert.deepEqual(more.map((r) => r.status).sort(), [201, 201, 201, 201, 500]);
  // Deleting a Service frees its address for the next one, through either server.
  const freed = made[3].json.spec.clusterIP;
  assert.equal((await api(b, 'DELETE', '/api/v1/namespaces/default/services/s-3')).status, 200);
  const reuse = await api(a, 'POST', '/api/v1/namespaces/default/services', svc('reuse'));
  assert.equal(reuse.status, 201, reuse.body);
  assert.equal(reuse.json.spec.clusterIP, freed);
  const keys = (await etcd.ctl(['get', '--prefix', '/registry/ipaddresses/', '--keys-only'])).split('\n').filter(Boolean);
  assert.equal(keys.length, 30);
});

test('after etcd compacts (as a kube-apiserver sharing it would), both servers answer 410 Gone for older versions', { skip }, async () => {
  const before = (await api(a, 'GET', CMS)).json.metadata.resourceVersion;
  const token = (await api(b, 'GET', `${CMS}?limit=1`)).json.metadata.continue;
  await api(a, 'POST', CMS, cm('after-compaction'));
  const now = Number((await api(b, 'GET', CMS)).json.metadata.resourceVersion);
  // Upstream's compactor: record the revision in compact_rev_key, then compact etcd to it.
  await etcd.ctl(['put', 'compact_rev_key', String(now)]);
  await etcd.ctl(['compact', String(now)]);
  for (const c of [a, b]) {
    const events = await watchEvents(c, CMS, before, 1);
    assert.equal(events.length, 1, JSON.stringify(events));
    assert.equal(events[0].type, 'ERROR');
    assert.equal(events[0].object.code, 410);
    assert.equal(events[0].object.reason, 'Expired');
    assert.match(events[0].object.message, /too old resource version/);
    const cont = await api(c, 'GET', `${CMS}?limit=1&continue=${encodeURIComponent(token)}`);
    assert.equal(cont.status, 410, cont.body);
  }
  // From the compaction on, watching works again.
  await api(b, 'POST', CMS, cm('later'));
  const events = await watchEvents(a, CMS, String(now + 1), 1);
  assert.deepEqual(events.map((e) => e.object.metadata.name), ['later']);
});
