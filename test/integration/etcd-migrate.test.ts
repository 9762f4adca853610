// `ordinal migrate`: a cluster built on SQLite through `ordinal up` and kubectl, moved to a real
// etcd, then served by `ordinal up --store etcd` with the same objects and uids.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { etcdMissing, startEtcd, type Etcd } from '../support/etcd.ts';
import { startCluster, stopCluster, removeCluster, kubectlOk, fixture, waitUntil, type Cluster } from './harness.ts';

const root = resolve(import.meta.dirname, '../..');
const skip = etcdMissing();
let etcd: Etcd | undefined;
const clusters: Cluster[] = [];
after(async () => {
  for (const c of clusters) await stopCluster(c);
  if (clusters[0]) removeCluster(clusters[0]);
  await etcd?.remove();
});

function migrate(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [join(root, 'src/cli/main.ts'), 'migrate', ...args], { timeout: 60_000 }, (err, stdout, stderr) =>
      res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const KINDS = 'statefulsets,pods,persistentvolumeclaims,persistentvolumes,secrets,services,customresourcedefinitions,dbclusters';

/** kind/namespace/name → uid of everything the test made (and what the controllers made for it). */
async function uids(c: Cluster): Promise<Map<string, string>> {
  const list = JSON.parse(await kubectlOk(c, ['get', KINDS, '-A', '-o', 'json']));
  const out = new Map<string, string>();
  for (const o of list.items) {
    if (o.metadata.namespace && o.metadata.namespace !== 'default') continue;
    if (o.kind === 'Service' && o.metadata.name === 'kubernetes') continue;
    out.set(`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, o.metadata.uid);
  }
  return out;
}

test('a SQLite cluster moves to etcd and is served from it with the same objects and uids', { skip, timeout: 240_000 }, async () => {
  etcd = await startEtcd();
  const sqlite = await startCluster();
  clusters.push(sqlite);
  await kubectlOk(sqlite, ['apply', '-f', fixture('web.yaml')]);
  await kubectlOk(sqlite, ['create', 'secret', 'generic', 'db-pass', '--from-literal=password=s3cret']);
  await kubectlOk(sqlite, ['apply', '-f', fixture('crd-dbcluster.yaml')]);
  await kubectlOk(sqlite, ['wait', '--for', 'condition=established', '--timeout=30s', 'crd/dbclusters.db.example.com']);
  await kubectlOk(sqlite, ['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'db.example.com/v1', kind: 'DBCluster', metadata: { name: 'orders', namespace: 'default' }, spec: { engine: 'postgres', instances: 3 } }) });
  await kubectlOk(sqlite, ['rollout', 'status', 'statefulset/web', '--timeout=60s']);
  await waitUntil(async () => (await kubectlOk(sqlite, ['get', 'pvc', '-o', 'name'])).trim().split('\n').length === 2, 30_000, () => 'two claims');
  const before = await uids(sqlite);
  for (const k of ['StatefulSet/default/web', 'Pod/default/web-0', 'Pod/default/web-1', 'PersistentVolumeClaim/default/www-web-0', 'PersistentVolumeClaim/default/www-web-1', 'Secret/default/db-pass', 'CustomResourceDefinition//dbclusters.db.example.com', 'DBCluster/default/orders'])
    assert.ok(before.has(k), `${k} before the move; have ${[...before.keys()].join(', ')}`);
  // Killed rather than stopped: the objects may still be in SQLite's write-ahead log, which the migration reads too.
  await stopCluster(sqlite, 'SIGKILL');

  const moved = await migrate(['--from-data-dir', sqlite.dataDir, '--to-etcd', etcd.url]);
  assert.equal(moved.code, 0, moved.stderr);
  assert.match(moved.stdout, /migrated \d+ objects from .*state\.db to http:\/\/127\.0\.0\.1:\d+ under \/registry\//);
  // kube-apiserver's layout, readable with etcdctl.
  assert.match(await etcd.ctl(['get', '/registry/statefulsets/default/web', '--print-value-only']), /"volumeClaimTemplates"/);
  assert.match(await etcd.ctl(['get', '/registry/secrets/default/db-pass', '--print-value-only']), /"password"/);
  assert.match(await etcd.ctl(['get', '/registry/apiextensions.k8s.io/customresourcedefinitions/dbclusters.db.example.com', '--print-value-only']), /DBCluster/);
  assert.match(await etcd.ctl(['get', '/registry/db.example.com/dbclusters/default/orders', '--print-value-only']), /postgres/);

  // A second run finds the prefix taken and writes nothing.
  const revBefore = JSON.parse(await etcd.ctl(['endpoint', 'status', '-w', 'json']))[0].Status.header.revision;
  const again = await migrate(['--from-data-dir', sqlite.dataDir, '--to-etcd', etcd.url]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /etcd already holds \d+ keys under \/registry\/: refusing to overwrite them/);
  assert.equal(JSON.parse(await etcd.ctl(['endpoint', 'status', '-w', 'json']))[0].Status.header.revision, revBefore);
  // Another prefix is empty, and --overwrite replaces what is there.
  const other = await migrate(['--from-data-dir', sqlite.dataDir, '--to-etcd', etcd.url, '--etcd-prefix', '/other']);
  assert.equal(other.code, 0, other.stderr);
  const replaced = await migrate(['--from-data-dir', sqlite.dataDir, '--to-etcd', etcd.url, '--etcd-prefix', '/other', '--overwrite']);
  assert.equal(replaced.code, 0, replaced.stderr);
  assert.match(replaced.stdout, /removed \d+ keys that were under \/other\//);
  const bad = await migrate(['--from-data-dir', sqlite.dataDir]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--to-etcd is required/);

  const onEtcd = await startCluster({ dataDir: sqlite.dataDir, args: ['--store', 'etcd', '--etcd-servers', etcd.url] });
  clusters.push(onEtcd);
  const afterMove = await uids(onEtcd);
  for (const [k, uid] of before) assert.equal(afterMove.get(k), uid, `${k} keeps its uid`);
  const got = await kubectlOk(onEtcd, ['get', 'dbclusters']);
  assert.match(got, /orders\s+postgres\s+3/);
  const secret = JSON.parse(await kubectlOk(onEtcd, ['get', 'secret', 'db-pass', '-o', 'json']));
  assert.equal(Buffer.from(secret.data.password, 'base64').toString(), 's3cret');
  // The moved cluster works on: the controllers act on the moved set.
  await kubectlOk(onEtcd, ['scale', 'statefulset/web', '--replicas=3']);
  await kubectlOk(onEtcd, ['rollout', 'status', 'statefulset/web', '--timeout=60s']);
  const pvcs = (await kubectlOk(onEtcd, ['get', 'pvc', '-o', 'name'])).trim().split('\n').sort();
  assert.deepEqual(pvcs, ['persistentvolumeclaim/www-web-0', 'persistentvolumeclaim/www-web-1', 'persistentvolumeclaim/www-web-2']);
  const final = await uids(onEtcd);
  assert.equal(final.get('PersistentVolumeClaim/default/www-web-0'), before.get('PersistentVolumeClaim/default/www-web-0'));
});
