// Seed 001 (a Chinese write-up of "StatefulSet: deploying stateful pods") contrasts pods of a
// ReplicaSet, interchangeable cattle with random names, new identities after rescheduling and one
// shared volume, with pods of a StatefulSet, which keep name, DNS identity and their own claim
// through deletion and scaling. This walks that contrast with the real kubectl on simulated nodes,
// using the commands the write-up names.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, stopCluster, removeCluster, kubectl, kubectlOk, waitUntil, fixture, type Cluster } from './harness.ts';

let c: Cluster;
before(async () => {
  c = await startCluster({ args: ['--nodes', '2'] });
});
after(async () => {
  await stopCluster(c);
  removeCluster(c);
});

const json = async (args: string[]) => JSON.parse(await kubectlOk(c, [...args, '-o', 'json']));
const livePods = async (selector: string) =>
  (await json(['get', 'pods', '-l', selector])).items.filter((p: any) => !p.metadata.deletionTimestamp);
const names = (pods: any[]) => pods.map((p) => p.metadata.name).sort();
const allReady = (pods: any[]) => pods.every((p) => p.status?.phase === 'Running' && (p.status?.conditions ?? []).some((k: any) => k.type === 'Ready' && k.status === 'True'));

test('ReplicaSet: random names, a replacement is a new pod (new name, new uid), all replicas share one claim', async () => {
  assert.match(await kubectlOk(c, ['create', '-f', fixture('seed001-kubia-rs.yaml')]), /replicaset.apps\/kubia-rs created/);
  await waitUntil(async () => { const p = await livePods('app=kubia-rs'); return p.length === 3 && allReady(p); }, 30_000);
  const before = await livePods('app=kubia-rs');
  for (const n of names(before)) assert.match(n, /^kubia-rs-[a-z0-9]{5}$/);
  // "通过RS创建的多副本pod是共享一个持久化卷的": one claim for every replica.
  for (const p of before) assert.deepEqual(p.spec.volumes.filter((v: any) => v.persistentVolumeClaim).map((v: any) => v.persistentVolumeClaim.claimName), ['kubia-shared']);

  const victim = before[0];
  assert.match(await kubectlOk(c, ['delete', 'pod', victim.metadata.name]), new RegExp(`pod "${victim.metadata.name}" deleted`));
  await waitUntil(async () => { const p = await livePods('app=kubia-rs'); return p.length === 3 && allReady(p); }, 30_000);
  const after = await livePods('app=kubia-rs');
  const fresh = after.filter((p: any) => !names(before).includes(p.metadata.name));
  assert.equal(fresh.length, 1, 'exactly one pod is new');
  assert.notEqual(fresh[0].metadata.name, victim.metadata.name, 'the replacement has a new random name');
  assert.notEqual(fresh[0].metadata.uid, victim.metadata.uid);
  // "RS管理的pod每次重新调度后会有新的IP 和 pod名称": a new IP too.
  assert.ok(fresh[0].status.podIP && fresh[0].status.podIP !== victim.status.podIP, `${fresh[0].status.podIP} vs ${victim.status.podIP}`);
  assert.ok(!after.some((p: any) => p.metadata.name === victim.metadata.name), 'the old identity is gone for good');
  const table = await kubectlOk(c, ['get', 'rs', 'kubia-rs']);
  assert.match(table, /^NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE\nkubia-rs\s+3\s+3\s+3\s+/);
});

test('StatefulSet: ordinal names created one at a time, each with its own claim', async () => {
  const created = await kubectlOk(c, ['create', '-f', fixture('kubia-statefulset.yaml')]);
  assert.match(created, /service\/kubia created\nstatefulset.apps\/kubia created/);
  // "pod会一个一个启动,总是在前一个pod就绪后,才启动后一个": each pod is created only once its predecessor is Ready.
  const seen: string[] = [];
  await waitUntil(async () => {
    const pods = await livePods('app=kubia');
    for (const p of pods) {
      if (seen.includes(p.metadata.name)) continue;
      const ordinal = Number(p.metadata.name.split('-').pop());
      for (let i = 0; i < ordinal; i++) {
        const prev = pods.find((q: any) => q.metadata.name === `kubia-${i}`);
        assert.ok(prev && allReady([prev]), `kubia-${ordinal} appeared before kubia-${i} was Ready`);
      }
      seen.push(p.metadata.name);
    }
    return pods.length === 3 && allReady(pods);
  }, 60_000);
  assert.deepEqual(seen, ['kubia-0', 'kubia-1', 'kubia-2']);
  const pvcs = await kubectlOk(c, ['get', 'pvc', '-l', 'app=kubia']);
  for (const i of [0, 1, 2]) assert.match(pvcs, new RegExp(`\\ndatapvc-kubia-${i}\\s+Bound\\s+`));
});

test('StatefulSet: a deleted pod comes back with the same name, hostname and claim', async () => {
  const old = await json(['get', 'pod', 'kubia-0']);
  assert.match(await kubectlOk(c, ['delete', 'pod', 'kubia-0']), /pod "kubia-0" deleted/);
  await waitUntil(async () => {
    const r = await kubectl(c, ['get', 'pod', 'kubia-0', '-o', 'json']);
    if (r.code !== 0) return false;
    const p = JSON.parse(r.stdout);
    return p.metadata.uid !== old.metadata.uid && !p.metadata.deletionTimestamp && allReady([p]);
  }, 60_000);
  const now = await json(['get', 'pod', 'kubia-0']);
  assert.equal(now.spec.hostname, 'kubia-0');
  assert.equal(now.spec.subdomain, 'kubia');
  assert.deepEqual(now.spec.volumes.filter((v: any) => v.persistentVolumeClaim).map((v: any) => v.persistentVolumeClaim.claimName), ['datapvc-kubia-0']);
});

test('StatefulSet: scale down removes the highest ordinal first and keeps its claim; scale up re-attaches it', async () => {
  await kubectlOk(c, ['scale', 'sts', 'kubia', '--replicas=2']);
  await waitUntil(async () => names(await livePods('app=kubia')).join() === 'kubia-0,kubia-1', 30_000);
  // "缩容时,不会删除PVC": the claim of kubia-2 stays.
  assert.match(await kubectlOk(c, ['get', 'pvc', 'datapvc-kubia-2']), /datapvc-kubia-2\s+Bound/);
  const claimUid = (await json(['get', 'pvc', 'datapvc-kubia-2'])).metadata.uid;
  await kubectlOk(c, ['scale', 'sts', 'kubia', '--replicas=3']);
  await waitUntil(async () => { const p = await livePods('app=kubia'); return p.length === 3 && allReady(p); }, 60_000);
  const back = await json(['get', 'pod', 'kubia-2']);
  assert.deepEqual(back.spec.volumes.filter((v: any) => v.persistentVolumeClaim).map((v: any) => v.persistentVolumeClaim.claimName), ['datapvc-kubia-2']);
  assert.equal((await json(['get', 'pvc', 'datapvc-kubia-2'])).metadata.uid, claimUid, 'the same claim, not a new one');
});

test('kubectl delete po xxx --force --grace-period 0, as the write-up shows: deleted at once, then recreated with the same name', async () => {
  const old = await json(['get', 'pod', 'kubia-1']);
  const r = await kubectl(c, ['delete', 'po', 'kubia-1', '--force', '--grace-period', '0']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated\. The resource may continue to run on the cluster indefinitely\./);
  assert.match(r.stdout, /pod "kubia-1" force deleted/);
  await waitUntil(async () => {
    const g = await kubectl(c, ['get', 'pod', 'kubia-1', '-o', 'json']);
    return g.code === 0 && JSON.parse(g.stdout).metadata.uid !== old.metadata.uid && allReady([JSON.parse(g.stdout)]);
  }, 60_000);
  assert.equal((await json(['get', 'pod', 'kubia-1'])).spec.hostname, 'kubia-1');
});

test('kubectl delete pvc of a running pod: Terminating while the pod uses it, then gone with its volume once the pod is (pvc-protection)', async () => {
  const claim = await json(['get', 'pvc', 'datapvc-kubia-2']);
  const volume: string = claim.spec.volumeName;
  assert.match(await kubectlOk(c, ['delete', 'pvc', 'datapvc-kubia-2', '--wait=false']), /persistentvolumeclaim "datapvc-kubia-2" deleted/);
  await new Promise((r) => setTimeout(r, 1000));
  assert.match(await kubectlOk(c, ['get', 'pvc', 'datapvc-kubia-2']), /datapvc-kubia-2\s+Terminating/);
  assert.deepEqual((await json(['get', 'pvc', 'datapvc-kubia-2'])).metadata.finalizers, ['kubernetes.io/pvc-protection']);
  await kubectlOk(c, ['scale', 'sts', 'kubia', '--replicas=2']);
  // The controllers act as their own service accounts here, as upstream's do: the finalizer goes
  // by what persistent-volume-binder may do (update), and the Delete policy then takes the volume.
  await waitUntil(async () => (await kubectl(c, ['get', 'pvc', 'datapvc-kubia-2'])).code !== 0, 30_000);
  await waitUntil(async () => (await kubectl(c, ['get', 'pv', volume])).code !== 0, 30_000);
});
