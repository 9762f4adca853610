// Claims that grow with their template (KEP-4650) and PVC expansion, on a whole cluster (`ordinal
// up`, simulated runtime) driven by the real kubectl: a StatefulSet's claim template grows from 1Mi
// to 2Mi and every claim follows, highest ordinal first; shrinking is refused; a plain claim grows
// with `kubectl patch pvc`, waiting for a pod to finish on the node; a class without
// allowVolumeExpansion refuses with upstream's admission message.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, stopCluster, removeCluster, kubectl, kubectlOk, waitUntil, eventsAbout, type Cluster } from './harness.ts';

let c: Cluster;

before(async () => {
  c = await startCluster();
});
after(async () => {
  if (c) {
    await stopCluster(c);
    removeCluster(c);
  }
});

const WEB = `
apiVersion: v1
kind: Service
metadata: { name: nginx, labels: { app: nginx } }
spec:
  clusterIP: None
  selector: { app: nginx }
  ports: [{ port: 80, name: web }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: web }
spec:
  serviceName: nginx
  replicas: 3
  podManagementPolicy: Parallel
  volumeClaimUpdatePolicy: InPlace
  selector: { matchLabels: { app: nginx } }
  template:
    metadata: { labels: { app: nginx } }
    spec:
      containers:
      - name: nginx
        image: registry.k8s.io/nginx-slim:0.8
        volumeMounts: [{ name: www, mountPath: /usr/share/nginx/html }]
  volumeClaimTemplates:
  - metadata: { name: www }
    spec:
      accessModes: [ReadWriteOnce]
      resources: { requests: { storage: 1Mi } }
`;

/** `kubectl get pvc` (or pv) rows by name, as the columns kubectl prints. */
async function table(kind: 'pvc' | 'pv'): Promise<Map<string, Record<string, string>>> {
  const lines = (await kubectlOk(c, ['get', kind])).trim().split('\n');
  const header = lines[0]!.split(/\s{2,}/);
  const out = new Map<string, Record<string, string>>();
  for (const line of lines.slice(1)) {
    // No cell holds a space (only the header's ACCESS MODES does).
    const cells = line.split(/\s+/);
    const row: Record<string, string> = {};
    header.forEach((h, i) => (row[h] = cells[i] ?? ''));
    out.set(row.NAME!, row);
  }
  return out;
}

const claimJson = async (name: string) => JSON.parse(await kubectlOk(c, ['get', 'pvc', name, '-o', 'json']));

test('a claim template grows and every claim of the set follows, ordinal by ordinal', { timeout: 240_000 }, async () => {
  await kubectlOk(c, ['apply', '-f', '-'], { input: WEB });
  const names = ['www-web-0', 'www-web-1', 'www-web-2'];
  await waitUntil(
    async () => {
      const pvcs = await table('pvc');
      return names.every((n) => pvcs.get(n)?.STATUS === 'Bound' && pvcs.get(n)?.CAPACITY === '1Mi');
    },
    60_000,
    () => 'claims bound at 1Mi',
  );
  await waitUntil(async () => (await kubectlOk(c, ['get', 'pods', '-l', 'app=nginx', '-o', 'jsonpath={.items[*].status.phase}'])).split(' ').filter((p) => p === 'Running').length === 3, 60_000, () => 'pods Running');
  // The field is served: kubectl's strict field validation accepted it, and it reads back.
  assert.equal(await kubectlOk(c, ['get', 'sts', 'web', '-o', 'jsonpath={.spec.volumeClaimUpdatePolicy}']), 'InPlace');
  const explain = await kubectlOk(c, ['explain', 'statefulset.spec.volumeClaimUpdatePolicy']);
  assert.match(explain, /FIELD: volumeClaimUpdatePolicy <string>/);
  assert.match(explain, /ENUM:\n\s+InPlace\n\s+OnClaimDelete\n/);

  // Shrinking is refused, with the field and the rule named.
  const shrink = await kubectl(c, ['patch', 'sts', 'web', '--type', 'json', '-p', '[{"op":"replace","path":"/spec/volumeClaimTemplates/0/spec/resources/requests/storage","value":"512Ki"}]']);
  assert.notEqual(shrink.code, 0);
  assert.match(
    shrink.stderr,
    /The StatefulSet "web" is invalid: spec\.volumeClaimTemplates\[0\]\.spec\.resources\.requests\.storage: Forbidden: field can not be less than previous value/,
  );
  // Any other change of a template stays forbidden, as upstream.
  const other = await kubectl(c, ['patch', 'sts', 'web', '--type', 'json', '-p', '[{"op":"replace","path":"/spec/volumeClaimTemplates/0/spec/accessModes","value":["ReadWriteMany"]}]']);
  assert.notEqual(other.code, 0);
  assert.match(other.stderr, /updates to statefulset spec for fields other than/);

  // Grow. Record, at every look, each claim's request and capacity: a lower ordinal's request may
  // only be raised once every higher ordinal's claim shows the new capacity.
  await kubectlOk(c, ['patch', 'sts', 'web', '--type', 'json', '-p', '[{"op":"replace","path":"/spec/volumeClaimTemplates/0/spec/resources/requests/storage","value":"2Mi"}]']);
  const seen: string[] = [];
  await waitUntil(
    async () => {
      const list = JSON.parse(await kubectlOk(c, ['get', 'pvc', '-o', 'json']));
      const state = new Map<string, { req: string; cap: string }>();
      for (const p of list.items) state.set(p.metadata.name, { req: p.spec.resources.requests.storage, cap: p.status?.capacity?.storage });
      for (let i = 0; i < 2; i++) {
        const lower = state.get(names[i]!)!;
        for (let j = i + 1; j < 3; j++) {
          const higher = state.get(names[j]!)!;
          if (lower.req === '2Mi' && higher.cap !== '2Mi') assert.fail(`${names[i]} was grown while ${names[j]} had ${higher.cap}`);
        }
      }
      seen.push(names.map((n) => `${state.get(n)!.req}/${state.get(n)!.cap}`).join(' '));
      return names.every((n) => state.get(n)!.cap === '2Mi');
    },
    180_000,
    () => `claims at 2Mi:\n${seen.slice(-5).join('\n')}`,
  );
  // The table users look at: every claim and every volume shows 2Mi.
  const pvcs = await table('pvc');
  for (const n of names) assert.equal(pvcs.get(n)?.CAPACITY, '2Mi', n);
  const pvs = await table('pv');
  for (const n of names) {
    const pv = [...pvs.values()].find((r) => r.CLAIM === `default/${n}`);
    assert.equal(pv?.CAPACITY, '2Mi', `volume of ${n}`);
  }
  // Done: no resize state left on the claim.
  const done = await claimJson('www-web-0');
  assert.equal(done.status.conditions, undefined);
  assert.equal(done.status.allocatedResourceStatuses, undefined);
  assert.equal(done.status.allocatedResources.storage, '2Mi');
  // The events of each step, on the claim and on the set.
  const claimEvents = await eventsAbout(c, 'www-web-0');
  for (const want of [
    /^Normal ExternalExpanding waiting for an external controller to expand this PVC$/,
    /^Normal Resizing External resizer is resizing volume pvc-/,
    /^Normal FileSystemResizeRequired Require file system resize of volume on node$/,
    /^Normal FileSystemResizeSuccessful MountVolume\.NodeExpandVolume succeeded for volume "pvc-/,
  ]) {
    assert.ok(claimEvents.some((e) => want.test(e)), `${want} in ${JSON.stringify(claimEvents)}`);
  }
  const setEvents = await eventsAbout(c, 'web');
  for (const n of [0, 1, 2]) assert.ok(setEvents.includes(`Normal SuccessfulUpdate update Claim www-web-${n} Pod web-${n} in StatefulSet web success`), JSON.stringify(setEvents));
  // Scaling up now makes the new claim at the template's size.
  await kubectlOk(c, ['scale', 'sts', 'web', '--replicas', '4']);
  await waitUntil(async () => (await table('pvc')).get('www-web-3')?.CAPACITY === '2Mi', 60_000, () => 'www-web-3 at 2Mi');
});

test('a plain claim expands with kubectl patch, the node finishing once a pod mounts it', { timeout: 180_000 }, async () => {
  await kubectlOk(c, ['apply', '-f', '-'], {
    input: `
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: { name: grow-now }
provisioner: ordinal.dev/local-path
volumeBindingMode: Immediate
allowVolumeExpansion: true
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: plain }
spec:
  storageClassName: grow-now
  accessModes: [ReadWriteOnce]
  resources: { requests: { storage: 1Mi } }
`,
  });
  await waitUntil(async () => (await table('pvc')).get('plain')?.STATUS === 'Bound', 60_000, () => 'plain Bound');
  await kubectlOk(c, ['patch', 'pvc', 'plain', '-p', '{"spec":{"resources":{"requests":{"storage":"3Mi"}}}}']);
  // The controller's part is done (the volume has grown); no pod mounts the claim, so the node's part waits.
  let claim: any;
  await waitUntil(
    async () => {
      claim = await claimJson('plain');
      return (claim.status.conditions ?? []).some((x: any) => x.type === 'FileSystemResizePending' && x.status === 'True');
    },
    60_000,
    () => `FileSystemResizePending: ${JSON.stringify(claim?.status)}`,
  );
  assert.equal(claim.status.capacity.storage, '1Mi');
  assert.equal(claim.status.allocatedResourceStatuses.storage, 'NodeResizePending');
  assert.equal(claim.status.conditions.find((x: any) => x.type === 'FileSystemResizePending').message, 'Waiting for user to (re-)start a pod to finish file system resize of volume on node.');
  assert.equal(JSON.parse(await kubectlOk(c, ['get', 'pv', claim.spec.volumeName, '-o', 'json'])).spec.capacity.storage, '3Mi');
  assert.equal((await table('pvc')).get('plain')?.CAPACITY, '1Mi');
  const described = await kubectlOk(c, ['describe', 'pvc', 'plain']);
  assert.match(described, /Conditions:\n\s+Type\s+Status\s+LastProbeTime\s+LastTransitionTime\s+Reason\s+Message\n[\s\S]*FileSystemResizePending\s+True\s/);
  assert.match(described, /Normal\s+FileSystemResizeRequired\s+\S+\s+external-resizer ordinal\.dev\/local-path\s+Require file system resize of volume on node/);

  await kubectlOk(c, ['apply', '-f', '-'], {
    input: `
apiVersion: v1
kind: Pod
metadata: { name: user }
spec:
  containers: [{ name: c, image: busybox:1.28, volumeMounts: [{ name: d, mountPath: /d }] }]
  volumes: [{ name: d, persistentVolumeClaim: { claimName: plain } }]
`,
  });
  await waitUntil(async () => (await table('pvc')).get('plain')?.CAPACITY === '3Mi', 60_000, () => 'plain at 3Mi');
  claim = await claimJson('plain');
  assert.equal(claim.status.conditions, undefined);
  assert.ok((await eventsAbout(c, 'user')).some((e) => e.startsWith('Normal FileSystemResizeSuccessful MountVolume.NodeExpandVolume succeeded for volume')));
  // Shrinking below the capacity is refused by validation (RecoverVolumeExpansionFailure rules).
  const shrink = await kubectl(c, ['patch', 'pvc', 'plain', '-p', '{"spec":{"resources":{"requests":{"storage":"1Mi"}}}}']);
  assert.notEqual(shrink.code, 0);
  assert.match(shrink.stderr, /spec\.resources\.requests\.storage: Forbidden: field can not be less than status\.capacity/);
});

test('a claim of a class without allowVolumeExpansion is refused with upstream\'s admission message', { timeout: 120_000 }, async () => {
  await kubectlOk(c, ['apply', '-f', '-'], {
    input: `
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: { name: fixed }
provisioner: ordinal.dev/local-path
volumeBindingMode: Immediate
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: fixed-claim }
spec:
  storageClassName: fixed
  accessModes: [ReadWriteOnce]
  resources: { requests: { storage: 1Mi } }
`,
  });
  await waitUntil(async () => (await table('pvc')).get('fixed-claim')?.STATUS === 'Bound', 60_000, () => 'fixed-claim Bound');
  const r = await kubectl(c, ['patch', 'pvc', 'fixed-claim', '-p', '{"spec":{"resources":{"requests":{"storage":"2Mi"}}}}']);
  assert.notEqual(r.code, 0);
  assert.equal(
    r.stderr.trim(),
    'Error from server (Forbidden): persistentvolumeclaims "fixed-claim" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize',
  );
  assert.equal((await claimJson('fixed-claim')).spec.resources.requests.storage, '1Mi');
});

test('a set whose claims cannot grow stops at the first and says why', { timeout: 120_000 }, async () => {
  // The "fixed" class (no allowVolumeExpansion) is made by the test above.
  await kubectlOk(c, ['apply', '-f', '-'], {
    input: WEB.split('---')[1]!
      .replace('name: web }', 'name: db }')
      .replaceAll('app: nginx', 'app: db')
      .replace('replicas: 3', 'replicas: 2')
      .replace('accessModes: [ReadWriteOnce]', 'accessModes: [ReadWriteOnce]\n      storageClassName: fixed'),
  });
  await waitUntil(async () => (await table('pvc')).get('www-db-1')?.STATUS === 'Bound' && (await table('pvc')).get('www-db-0')?.STATUS === 'Bound', 60_000, () => 'db claims Bound');
  await kubectlOk(c, ['patch', 'sts', 'db', '--type', 'json', '-p', '[{"op":"replace","path":"/spec/volumeClaimTemplates/0/spec/resources/requests/storage","value":"2Mi"}]']);
  const want =
    'Warning FailedUpdate update Claim www-db-1 for Pod db-1 in StatefulSet db failed error: persistentvolumeclaims "www-db-1" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize';
  let events: string[] = [];
  await waitUntil(async () => (events = await eventsAbout(c, 'db')).includes(want), 60_000, () => `event on db: ${JSON.stringify(events)}`);
  // Blocked at the highest ordinal: the lower one is not attempted.
  assert.ok(!events.some((e) => e.includes('update Claim www-db-0')), JSON.stringify(events));
  const pvcs = await table('pvc');
  assert.equal(pvcs.get('www-db-0')?.CAPACITY, '1Mi');
  assert.equal(pvcs.get('www-db-1')?.CAPACITY, '1Mi');
});
