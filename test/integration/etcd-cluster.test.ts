// `ordinal up --store etcd` driven by the real kubectl through the StatefulSet tutorial's steps,
// with etcdctl showing the cluster as an operator would see it, and a kill -9 that loses nothing
// acknowledged.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, stopCluster, removeCluster, kubectl, kubectlOk, fixture, waitUntil, api, tempDir, type Cluster } from './harness.ts';
import { etcdMissing, startEtcd, type Etcd } from '../support/etcd.ts';

const skip = etcdMissing();
let etcd: Etcd;
let c: Cluster;
const dataDir = tempDir();
const start = () => startCluster({ dataDir, args: ['--runtime', 'sim', '--nodes', '2', '--sim-start-delay', '100', '--store', 'etcd', '--etcd-servers', etcd.url] });

before(async () => {
  if (skip) return;
  etcd = await startEtcd();
  c = await start();
});
after(async () => {
  if (c) {
    await stopCluster(c);
    removeCluster(c);
  }
  await etcd?.remove();
});

const json = async (args: string[]) => JSON.parse(await kubectlOk(c, [...args, '-o', 'json']));
const pods = async () => (await json(['get', 'pods', '-l', 'app=nginx'])).items as any[];
const isReady = (p: any) => p.status?.phase === 'Running' && p.status?.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True') && !p.metadata.deletionTimestamp;

async function waitForReady(names: string[], image?: string, ms = 30_000) {
  await waitUntil(
    async () => {
      const ps = await pods();
      return ps.length === names.length && names.every((n) => ps.some((p) => p.metadata.name === n && isReady(p) && (!image || p.spec.containers[0].image === image)));
    },
    ms,
    () => `pods ${names.join(',')} Running and Ready${image ? ` with ${image}` : ''}`,
  );
}

test('the tutorial on etcd: create, scale, rolling update; etcdctl shows the set under /registry/statefulsets/', { skip }, async () => {
  assert.equal(await kubectlOk(c, ['create', '-f', fixture('web.yaml')]), 'service/nginx created\nstatefulset.apps/web created\n');
  await waitForReady(['web-0', 'web-1']);

  const keys = (await etcd.ctl(['get', '--prefix', '/registry/statefulsets/', '--keys-only'])).split('\n').filter(Boolean);
  assert.deepEqual(keys, ['/registry/statefulsets/default/web']);
  const stored = JSON.parse(await etcd.ctl(['get', '/registry/statefulsets/default/web', '--print-value-only']));
  assert.equal(stored.kind, 'StatefulSet');
  assert.equal(stored.spec.replicas, 2);
  // resourceVersion is etcd's mod revision of the key, not a stored field.
  assert.equal(stored.metadata.resourceVersion, undefined);
  const sts = await json(['get', 'sts', 'web']);
  const kv = JSON.parse(await etcd.ctl(['get', '/registry/statefulsets/default/web', '-w', 'json']));
  assert.equal(sts.metadata.resourceVersion, String(kv.kvs[0].mod_revision));
  const podKeys = (await etcd.ctl(['get', '--prefix', '/registry/pods/default/', '--keys-only'])).split('\n').filter(Boolean);
  assert.deepEqual(podKeys, ['/registry/pods/default/web-0', '/registry/pods/default/web-1']);
  assert.match(await etcd.ctl(['get', '--prefix', '/registry/services/specs/default/nginx', '--keys-only']), /nginx/);

  assert.equal(await kubectlOk(c, ['scale', 'sts', 'web', '--replicas=5']), 'statefulset.apps/web scaled\n');
  await waitForReady(['web-0', 'web-1', 'web-2', 'web-3', 'web-4']);
  await kubectlOk(c, ['patch', 'sts', 'web', '-p', '{"spec":{"replicas":3}}']);
  await waitForReady(['web-0', 'web-1', 'web-2']);

  await kubectlOk(c, ['patch', 'statefulset', 'web', '--type=json', '-p', '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"registry.k8s.io/nginx-slim:0.24"}]']);
  const rollout = await kubectl(c, ['rollout', 'status', 'sts/web', '--timeout=60s'], { timeoutMs: 70_000 });
  assert.equal(rollout.code, 0, rollout.stderr + rollout.stdout);
  await waitForReady(['web-0', 'web-1', 'web-2'], 'registry.k8s.io/nginx-slim:0.24');
  const history = await kubectlOk(c, ['rollout', 'history', 'sts/web']);
  assert.match(history, /^1\s/m);
  assert.match(history, /^2\s/m);
});

test('kill -9 of the API server keeps every acknowledged write', { skip }, async () => {
  await kubectlOk(c, ['create', 'namespace', 'acked']);
  const acked = new Map<string, string>();
  let stop = false;
  const writer = async (w: number) => {
    for (let i = 0; !stop; i++) {
      const name = `w${w}-${i}`;
      try {
        const r = await api(c, 'POST', '/api/v1/namespaces/acked/configmaps', { metadata: { name }, data: { i: String(i) } });
        if (r.status === 201) acked.set(name, r.json.metadata.resourceVersion);
      } catch {
        return; // the server is gone
      }
    }
  };
  const writers = [0, 1, 2, 3].map(writer);
  await waitUntil(() => acked.size >= 40, 30_000, () => `${acked.size} writes acknowledged`);
  await stopCluster(c, 'SIGKILL');
  stop = true;
  await Promise.all(writers);
  assert.ok(acked.size >= 40);

  // Everything acknowledged is in etcd at the revision the client was told, before and after a restart.
  for (const [name, rv] of acked) {
    const out = JSON.parse(await etcd.ctl(['get', `/registry/configmaps/acked/${name}`, '-w', 'json']));
    assert.equal(String(out.kvs?.[0]?.mod_revision), rv, name);
  }
  c = await start();
  const list = await json(['get', 'configmaps', '-n', 'acked']);
  const got = new Map<string, string>(list.items.map((cm: any) => [cm.metadata.name, cm.metadata.resourceVersion]));
  for (const [name, rv] of acked) assert.equal(got.get(name), rv, name);
  // The set survived too, and its controller goes on from where it was.
  await waitForReady(['web-0', 'web-1', 'web-2'], 'registry.k8s.io/nginx-slim:0.24');
});

test('deleting the set deletes its pods from etcd; the claims stay', { skip }, async () => {
  await kubectlOk(c, ['delete', 'sts', 'web']);
  await waitUntil(async () => (await pods()).length === 0, 30_000, () => 'pods gone');
  await waitUntil(async () => (await etcd.ctl(['get', '--prefix', '/registry/pods/default/', '--keys-only'])).trim() === '', 10_000, () => 'pod keys gone');
  assert.equal(await etcd.ctl(['get', '--prefix', '/registry/statefulsets/', '--keys-only']), '');
  const claims = (await etcd.ctl(['get', '--prefix', '/registry/persistentvolumeclaims/default/', '--keys-only'])).split('\n').filter(Boolean);
  assert.equal(claims.length, 5);
});
