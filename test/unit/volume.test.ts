import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Obj } from '../../src/api/resource.ts';
import { claimClass, defaultClass, findMatchingVolume, volumeFitsNode, volumeMismatch } from '../../src/controllers/volume/match.ts';
import {
  PROVISIONER,
  boundClaimStatus,
  claimBoundTo,
  claimProtection,
  nodePlanningInputs,
  planClaim,
  planVolume,
  provisionedVolume,
  releaseControllerFinalizer,
  volumeBoundTo,
  volumeProtection,
  type World,
} from '../../src/controllers/volume/plan.ts';

function claim(o: { name?: string; size?: string; modes?: string[]; cls?: string | null; selector?: Obj; ann?: Record<string, string>; volumeName?: string; mode?: string } = {}): Obj {
  const spec: Obj = { accessModes: o.modes ?? ['ReadWriteOnce'], resources: { requests: { storage: o.size ?? '1Gi' } }, volumeMode: o.mode ?? 'Filesystem' };
  if (o.cls !== null) spec.storageClassName = o.cls ?? 'local-path';
  if (o.selector) spec.selector = o.selector;
  if (o.volumeName) spec.volumeName = o.volumeName;
  return { metadata: { name: o.name ?? 'www-web-0', namespace: 'default', uid: 'uid-1', resourceVersion: '5', annotations: o.ann ?? {} }, spec, status: { phase: 'Pending' } };
}

function volume(name: string, o: { size?: string; modes?: string[]; cls?: string; labels?: Record<string, string>; claimRef?: Obj; node?: string; mode?: string; phase?: string; policy?: string; ann?: Record<string, string> } = {}): Obj {
  const spec: Obj = { capacity: { storage: o.size ?? '1Gi' }, accessModes: o.modes ?? ['ReadWriteOnce'], volumeMode: o.mode ?? 'Filesystem', persistentVolumeReclaimPolicy: o.policy ?? 'Retain' };
  if (o.cls !== undefined) spec.storageClassName = o.cls;
  if (o.claimRef) spec.claimRef = o.claimRef;
  if (o.node) spec.nodeAffinity = { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [o.node] }] }] } };
  return { metadata: { name, uid: `pv-${name}`, labels: o.labels ?? {}, annotations: o.ann ?? {} }, spec, status: { phase: o.phase ?? 'Available' } };
}

const localPath: Obj = {
  metadata: { name: 'local-path', creationTimestamp: '2024-01-01T00:00:00Z', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
  provisioner: PROVISIONER,
  reclaimPolicy: 'Delete',
  volumeBindingMode: 'WaitForFirstConsumer',
};
const fast: Obj = { metadata: { name: 'fast', creationTimestamp: '2024-01-01T00:00:00Z' }, provisioner: PROVISIONER, reclaimPolicy: 'Retain', volumeBindingMode: 'Immediate' };
const readyNode = (name: string): Obj => ({ metadata: { name, labels: { 'kubernetes.io/hostname': name } }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });

test('claim class: beta annotation wins, no class is ""', () => {
  assert.equal(claimClass(claim({ cls: 'a' })), 'a');
  assert.equal(claimClass(claim({ cls: null })), '');
  assert.equal(claimClass(claim({ cls: 'a', ann: { 'volume.beta.kubernetes.io/storage-class': 'b' } })), 'b');
});

test('default class: newest default wins', () => {
  const older = { metadata: { name: 'old', creationTimestamp: '2023-01-01T00:00:00Z', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } };
  assert.equal(defaultClass([older, localPath, fast])?.metadata.name, 'local-path');
  assert.equal(defaultClass([fast]), undefined);
});

test('findMatchingVolume: table', () => {
  const c = claim({ cls: 'manual', size: '1Gi' });
  const cases: { name: string; claim?: Obj; volumes: Obj[]; delay?: boolean; node?: Obj; want: string | undefined }[] = [
    { name: 'exact fit', volumes: [volume('a', { cls: 'manual' })], want: 'a' },
    { name: 'too small', volumes: [volume('a', { cls: 'manual', size: '500Mi' })], want: undefined },
    { name: 'smallest fitting', volumes: [volume('big', { cls: 'manual', size: '10Gi' }), volume('mid', { cls: 'manual', size: '2Gi' }), volume('small', { cls: 'manual', size: '1Mi' })], want: 'mid' },
    { name: 'class must match', volumes: [volume('a', { cls: 'other' }), volume('b')], want: undefined },
    { name: 'empty class matches empty', claim: claim({ cls: null }), volumes: [volume('a', { cls: 'x' }), volume('b')], want: 'b' },
    { name: 'access modes must be offered', claim: claim({ cls: 'manual', modes: ['ReadWriteMany'] }), volumes: [volume('a', { cls: 'manual' }), volume('b', { cls: 'manual', modes: ['ReadWriteOnce', 'ReadWriteMany'] })], want: 'b' },
    { name: 'fewer modes before smaller size', volumes: [volume('many', { cls: 'manual', modes: ['ReadWriteOnce', 'ReadOnlyMany'], size: '1Gi' }), volume('one', { cls: 'manual', size: '5Gi' })], want: 'one' },
    { name: 'volumeMode must match', volumes: [volume('a', { cls: 'manual', mode: 'Block' })], want: undefined },
    { name: 'claimed volumes are skipped', volumes: [volume('a', { cls: 'manual', claimRef: { namespace: 'default', name: 'other', uid: 'x' } })], want: undefined },
    { name: 'pre-bound to this claim wins', volumes: [volume('a', { cls: 'manual' }), volume('pre', { cls: 'other', size: '5Gi', claimRef: { namespace: 'default', name: 'www-web-0' } })], want: 'pre' },
    { name: 'pre-bound to a different uid loses', volumes: [volume('pre', { cls: 'manual', claimRef: { namespace: 'default', name: 'www-web-0', uid: 'uid-old' } })], want: undefined },
    {
      name: 'label selector',
      claim: claim({ cls: 'manual', selector: { matchLabels: { tier: 'db' } } }),
      volumes: [volume('a', { cls: 'manual' }), volume('b', { cls: 'manual', labels: { tier: 'db' } })],
      want: 'b',
    },
    { name: 'delayed binding without node: only pre-bound', delay: true, volumes: [volume('a', { cls: 'manual' })], want: undefined },
    { name: 'delayed binding with node: affinity honoured', delay: true, node: readyNode('n1'), volumes: [volume('a', { cls: 'manual', node: 'n2' }), volume('b', { cls: 'manual', node: 'n1', size: '9Gi' })], want: 'b' },
    { name: 'being deleted', volumes: [{ ...volume('a', { cls: 'manual' }), metadata: { name: 'a', deletionTimestamp: 'x' } }], want: undefined },
  ];
  for (const tc of cases) {
    const got = findMatchingVolume(tc.claim ?? c, tc.volumes, { delayBinding: tc.delay ?? false, node: tc.node });
    assert.equal(got?.metadata.name, tc.want, tc.name);
  }
});

test('node affinity operators', () => {
  const node = { metadata: { name: 'n1', labels: { zone: 'a', size: '5' } } };
  const pv = (exprs: Obj[]) => ({ metadata: { name: 'x' }, spec: { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: exprs }] } } } });
  assert.equal(volumeFitsNode(pv([{ key: 'zone', operator: 'In', values: ['a'] }]), node), true);
  assert.equal(volumeFitsNode(pv([{ key: 'zone', operator: 'NotIn', values: ['a'] }]), node), false);
  assert.equal(volumeFitsNode(pv([{ key: 'size', operator: 'Gt', values: ['4'] }]), node), true);
  assert.equal(volumeFitsNode(pv([{ key: 'gpu', operator: 'DoesNotExist' }]), node), true);
  assert.equal(volumeFitsNode({ metadata: { name: 'x' }, spec: { nodeAffinity: { required: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }] } } } }, node), true);
  assert.equal(volumeFitsNode({ metadata: { name: 'x' }, spec: {} }, node), true);
});

test('volumeMismatch for explicitly requested volumes', () => {
  assert.equal(volumeMismatch(volume('a', { cls: 'local-path', size: '100Mi' }), claim()), 'requested PV is too small');
  assert.equal(volumeMismatch(volume('a', { cls: 'x' }), claim()), 'storageClassName does not match');
  assert.equal(volumeMismatch(volume('a', { cls: 'local-path' }), claim()), undefined);
});

test('planClaim: table', () => {
  const w = (o: Partial<World> = {}): World => ({ classes: [localPath, fast], volumes: [], nodes: [readyNode('node-b'), readyNode('node-a')], ...o });
  const cases: { name: string; claim: Obj; world: World; want: Obj }[] = [
    { name: 'WFFC without node waits', claim: claim(), world: w(), want: { kind: 'event', reason: 'WaitForFirstConsumer', message: 'waiting for first consumer to be created before binding' } },
    { name: 'WFFC with selected node provisions there', claim: claim({ ann: { 'volume.kubernetes.io/selected-node': 'node-b' } }), world: w(), want: { kind: 'provision', className: 'local-path', node: 'node-b' } },
    { name: 'Immediate provisions on first Ready node', claim: claim({ cls: 'fast' }), world: w(), want: { kind: 'provision', className: 'fast', node: 'node-a' } },
    { name: 'Immediate honours the default node', claim: claim({ cls: 'fast' }), world: w({ defaultNodeName: 'node-z' }), want: { kind: 'provision', className: 'fast', node: 'node-z' } },
    { name: 'Immediate with no Ready node waits', claim: claim({ cls: 'fast' }), world: w({ nodes: [] }), want: { kind: 'event', reason: 'ProvisioningFailed', requeue: true } },
    { name: 'class-less claim gets the default', claim: claim({ cls: null }), world: w(), want: { kind: 'assignDefaultClass', className: 'local-path' } },
    { name: 'class-less claim, no default, binds a class-less volume', claim: claim({ cls: null }), world: w({ classes: [fast], volumes: [volume('pv1')] }), want: { kind: 'bind' } },
    { name: 'class-less claim, nothing', claim: claim({ cls: null }), world: w({ classes: [fast] }), want: { kind: 'event', reason: 'FailedBinding', message: 'no persistent volumes available for this claim and no storage class is set' } },
    { name: 'missing class', claim: claim({ cls: 'gold' }), world: w(), want: { kind: 'event', type: 'Warning', reason: 'ProvisioningFailed', message: 'storageclass.storage.k8s.io "gold" not found' } },
    { name: 'foreign provisioner', claim: claim({ cls: 'ext' }), world: w({ classes: [{ metadata: { name: 'ext' }, provisioner: 'ebs.csi.aws.com', volumeBindingMode: 'Immediate' }] }), want: { kind: 'event', reason: 'ExternalProvisioning' } },
    { name: 'selector blocks provisioning', claim: claim({ cls: 'fast', selector: { matchLabels: { a: 'b' } } }), world: w(), want: { kind: 'event', reason: 'ProvisioningFailed', message: 'claim Selector is not supported' } },
    { name: 'static volume preferred over provisioning', claim: claim({ cls: 'fast' }), world: w({ volumes: [volume('manual', { cls: 'fast' })] }), want: { kind: 'bind' } },
    {
      name: 'WFFC with node binds a static volume on that node',
      claim: claim({ ann: { 'volume.kubernetes.io/selected-node': 'node-a' } }),
      world: w({ volumes: [volume('on-b', { cls: 'local-path', node: 'node-b' }), volume('on-a', { cls: 'local-path', node: 'node-a' })] }),
      want: { kind: 'bind' },
    },
    { name: 'explicit volumeName too small', claim: claim({ volumeName: 'pv1' }), world: w({ volumes: [volume('pv1', { cls: 'local-path', size: '1Mi' })] }), want: { kind: 'event', reason: 'VolumeMismatch', message: 'Cannot bind to requested volume "pv1": requested PV is too small' } },
    { name: 'explicit volumeName missing', claim: claim({ volumeName: 'pv1' }), world: w(), want: { kind: 'none' } },
    { name: 'bound claim whose volume vanished is Lost', claim: claim({ volumeName: 'pv1', ann: { 'pv.kubernetes.io/bind-completed': 'yes' } }), world: w(), want: { kind: 'lost', reason: 'ClaimLost' } },
    {
      name: 'bound claim misbound',
      claim: claim({ volumeName: 'pv1', ann: { 'pv.kubernetes.io/bind-completed': 'yes' } }),
      world: w({ volumes: [volume('pv1', { claimRef: { namespace: 'default', name: 'www-web-0', uid: 'someone-else' } })] }),
      want: { kind: 'lost', reason: 'ClaimMisbound' },
    },
    {
      name: 'bound claim re-asserts binding',
      claim: claim({ volumeName: 'pv1', ann: { 'pv.kubernetes.io/bind-completed': 'yes' } }),
      world: w({ volumes: [volume('pv1', { claimRef: { namespace: 'default', name: 'www-web-0', uid: 'uid-1' } })] }),
      want: { kind: 'bind' },
    },
  ];
  for (const tc of cases) {
    const got = planClaim(tc.claim, tc.world) as Obj;
    for (const [k, v] of Object.entries(tc.want)) assert.deepEqual(got[k], v, `${tc.name}: ${k} (got ${JSON.stringify(got)})`);
  }
});

test('provisioned volume carries claim, class and node', () => {
  const c = claim({ ann: { 'volume.kubernetes.io/selected-node': 'node-a' } });
  const pv = provisionedVolume(c, localPath, 'node-a', '/data/volumes/pvc-uid-1');
  assert.equal(pv.metadata.name, 'pvc-uid-1');
  assert.equal(pv.metadata.annotations['pv.kubernetes.io/provisioned-by'], PROVISIONER);
  assert.deepEqual(pv.metadata.finalizers, ['kubernetes.io/pv-controller']);
  assert.deepEqual(pv.spec.capacity, { storage: '1Gi' });
  assert.equal(pv.spec.persistentVolumeReclaimPolicy, 'Delete');
  assert.equal(pv.spec.storageClassName, 'local-path');
  assert.deepEqual(pv.spec.claimRef, { kind: 'PersistentVolumeClaim', namespace: 'default', name: 'www-web-0', uid: 'uid-1', apiVersion: 'v1', resourceVersion: '5' });
  assert.deepEqual(pv.spec.local, { path: '/data/volumes/pvc-uid-1' });
  assert.deepEqual(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions, [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-a'] }]);
  assert.deepEqual(provisionedVolume(c, fast, 'n', '/p').metadata.finalizers, []);
});

test('binding steps are no-ops once done', () => {
  const c = claim();
  const v = volume('pv1', { cls: 'local-path' });
  const v2 = volumeBoundTo(v, c)!;
  assert.equal(v2.spec.claimRef.uid, 'uid-1');
  assert.equal(v2.metadata.annotations['pv.kubernetes.io/bound-by-controller'], 'yes');
  assert.equal(volumeBoundTo(v2, c), undefined);
  // A user's pre-binding is completed but not marked as the controller's.
  const pre = volumeBoundTo(volume('pv2', { claimRef: { namespace: 'default', name: 'www-web-0' } }), c)!;
  assert.equal(pre.metadata.annotations['pv.kubernetes.io/bound-by-controller'], undefined);
  const c2 = claimBoundTo(c, v2)!;
  assert.equal(c2.spec.volumeName, 'pv1');
  assert.equal(c2.metadata.annotations['pv.kubernetes.io/bind-completed'], 'yes');
  assert.equal(c2.metadata.annotations['pv.kubernetes.io/bound-by-controller'], 'yes');
  assert.equal(claimBoundTo(c2, v2), undefined);
  const status = boundClaimStatus(c2, v2)!;
  assert.deepEqual(status, { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } });
  assert.equal(boundClaimStatus({ ...c2, status }, v2), undefined);
});

test('planVolume: table', () => {
  const ref = { namespace: 'default', name: 'www-web-0', uid: 'uid-1' };
  const mine = { 'pv.kubernetes.io/provisioned-by': PROVISIONER };
  const bound = { ...claim({ volumeName: 'pv1' }) };
  const cases: { name: string; pv: Obj; claim?: Obj; want: Obj }[] = [
    { name: 'free volume becomes Available', pv: volume('pv1', { phase: 'Pending' }), want: { kind: 'phase', phase: 'Available' } },
    { name: 'already Available', pv: volume('pv1'), want: { kind: 'none' } },
    { name: 'pre-bound without uid stays Available', pv: volume('pv1', { claimRef: { namespace: 'default', name: 'x' } }), want: { kind: 'none' } },
    { name: 'bound claim makes it Bound', pv: volume('pv1', { claimRef: ref, phase: 'Pending' }), claim: bound, want: { kind: 'phase', phase: 'Bound' } },
    { name: 'claim not yet pointing back: sync the claim', pv: volume('pv1', { claimRef: ref }), claim: claim(), want: { kind: 'enqueueClaim', name: 'www-web-0' } },
    { name: 'claim gone, Retain: Released', pv: volume('pv1', { claimRef: ref, phase: 'Bound' }), want: { kind: 'phase', phase: 'Released', then: { kind: 'none' } } },
    { name: 'claim gone, Retain, already Released', pv: volume('pv1', { claimRef: ref, phase: 'Released' }), want: { kind: 'none' } },
    { name: 'claim gone, Delete, ours: Released then delete', pv: volume('pv1', { claimRef: ref, phase: 'Bound', policy: 'Delete', ann: mine }), want: { kind: 'phase', phase: 'Released', then: { kind: 'deleteAsset' } } },
    { name: 'claim recreated with another uid counts as gone', pv: volume('pv1', { claimRef: ref, phase: 'Released', policy: 'Delete', ann: mine }), claim: { ...claim(), metadata: { ...claim().metadata, uid: 'new' } }, want: { kind: 'deleteAsset' } },
    { name: 'claim gone, Delete, not provisioned: Failed', pv: volume('pv1', { claimRef: ref, phase: 'Released', policy: 'Delete' }), want: { kind: 'phase', phase: 'Failed' } },
    { name: 'claim bound elsewhere, user pre-bound: unbind keeping name', pv: volume('pv1', { claimRef: ref }), claim: claim({ volumeName: 'other' }), want: { kind: 'unbind', keepClaimName: true } },
  ];
  for (const tc of cases) {
    const got = planVolume(tc.pv, tc.claim) as Obj;
    for (const [k, v] of Object.entries(tc.want)) assert.deepEqual(got[k], v, `${tc.name}: ${k} (got ${JSON.stringify(got)})`);
  }
});

test('protection finalizers', () => {
  const c = claim();
  assert.deepEqual(claimProtection(c, []), { add: 'kubernetes.io/pvc-protection' });
  const deleting = { ...c, metadata: { ...c.metadata, finalizers: ['kubernetes.io/pvc-protection'], deletionTimestamp: 'now' } };
  const pod = (o: { node?: string; phase?: string }) => ({
    metadata: { name: 'web-0', namespace: 'default' },
    spec: { nodeName: o.node, volumes: [{ name: 'www', persistentVolumeClaim: { claimName: 'www-web-0' } }] },
    status: { phase: o.phase ?? 'Running' },
  });
  assert.equal(claimProtection(deleting, [pod({ node: 'n1' })]), undefined, 'in use by a running pod');
  assert.deepEqual(claimProtection(deleting, [pod({})]), { remove: 'kubernetes.io/pvc-protection' }, 'unscheduled pods do not hold it');
  assert.deepEqual(claimProtection(deleting, [pod({ node: 'n1', phase: 'Succeeded' })]), { remove: 'kubernetes.io/pvc-protection' }, 'terminated pods do not hold it');
  const pv = volume('pv1', { phase: 'Bound' });
  assert.deepEqual(volumeProtection(pv), { add: 'kubernetes.io/pv-protection' });
  const pvDeleting = { ...pv, metadata: { ...pv.metadata, finalizers: ['kubernetes.io/pv-protection'], deletionTimestamp: 'now' } };
  assert.equal(volumeProtection(pvDeleting), undefined);
  assert.deepEqual(volumeProtection({ ...pvDeleting, status: { phase: 'Released' } }), { remove: 'kubernetes.io/pv-protection' });
});

test('pv-controller finalizer release', () => {
  const pv = (o: { phase: string; deleting?: boolean; policy?: string }) => ({
    metadata: { name: 'pv1', finalizers: ['kubernetes.io/pv-controller'], annotations: { 'pv.kubernetes.io/provisioned-by': PROVISIONER }, deletionTimestamp: o.deleting ? 'now' : undefined },
    spec: { persistentVolumeReclaimPolicy: o.policy ?? 'Delete' },
    status: { phase: o.phase },
  });
  assert.equal(releaseControllerFinalizer(pv({ phase: 'Bound' })), undefined);
  assert.equal(releaseControllerFinalizer(pv({ phase: 'Bound', deleting: true })), undefined);
  assert.equal(releaseControllerFinalizer(pv({ phase: 'Released', deleting: true })), 'deleteAssetThenRelease');
  assert.equal(releaseControllerFinalizer(pv({ phase: 'Bound', policy: 'Retain' })), 'release');
});

test('node heartbeats do not requeue pending claims; readiness and labels do', () => {
  const node = (ready: string, beat: string, labels: Record<string, string> = {}, unschedulable = false): Obj => ({
    metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1', ...labels } },
    spec: { unschedulable },
    status: { conditions: [{ type: 'Ready', status: ready, lastHeartbeatTime: beat, lastTransitionTime: '2024-01-01T00:00:00Z', reason: 'KubeletReady' }] },
  });
  const base = nodePlanningInputs(node('True', '2024-01-01T00:00:00Z'));
  assert.equal(nodePlanningInputs(node('True', '2024-01-01T00:01:00Z')), base);
  assert.notEqual(nodePlanningInputs(node('False', '2024-01-01T00:01:00Z')), base);
  assert.notEqual(nodePlanningInputs(node('True', '2024-01-01T00:00:00Z', { zone: 'a' })), base);
  assert.notEqual(nodePlanningInputs(node('True', '2024-01-01T00:00:00Z', {}, true)), base);
});
