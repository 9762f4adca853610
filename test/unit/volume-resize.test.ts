// Volume expansion: the admission rule, the resizer's steps, the node's finish, and the binder
// leaving an expanding claim's capacity alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Obj } from '../../src/api/resource.ts';
import { resizeRefusal } from '../../src/apiserver/pvc-resize-admission.ts';
import { planResize, mergeResizeConditions, FS_RESIZE_PENDING_MESSAGE } from '../../src/controllers/volume/resize-plan.ts';
import { boundClaimStatus, defaultStorageClassObject, PROVISIONER } from '../../src/controllers/volume/plan.ts';
import { awaitsNodeExpansion, expansionUnderWay, finishedExpansionStatus, nextLookMs } from '../../src/agent/volume-expansion-logic.ts';

const NOW = '2026-12-06T12:00:00Z';

function claim(request: string, status: Obj = { phase: 'Bound', capacity: { storage: '1Mi' } }, cls = 'local-path'): Obj {
  return {
    metadata: { name: 'www-web-0', namespace: 'default', uid: 'uid-1' },
    spec: { storageClassName: cls, volumeName: 'pvc-uid-1', resources: { requests: { storage: request } } },
    status,
  };
}

function volume(capacity: string, extra: Obj = {}): Obj {
  return {
    metadata: { name: 'pvc-uid-1', annotations: { 'pv.kubernetes.io/provisioned-by': PROVISIONER } },
    spec: { capacity: { storage: capacity }, claimRef: { namespace: 'default', name: 'www-web-0', uid: 'uid-1' } },
    ...extra,
  };
}

const classes: Record<string, Obj> = { 'local-path': defaultStorageClassObject(), fixed: { metadata: { name: 'fixed' }, provisioner: 'x.io/y' } };
const lookup = (n: string) => classes[n];
const refusedMessage = 'only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize';

test('the local-path class allows expansion', () => {
  assert.equal(defaultStorageClassObject().allowVolumeExpansion, true);
});

test('resize admission: table', () => {
  const cases: [string, Obj, Obj, string | undefined][] = [
    ['grow, expandable class', claim('2Mi'), claim('1Mi'), undefined],
    ['same size', claim('1Mi'), claim('1Mi'), undefined],
    ['shrink is for validation to judge', claim('1Mi'), claim('2Mi'), undefined],
    ['grow, class without allowVolumeExpansion', claim('2Mi', undefined, 'fixed'), claim('1Mi', undefined, 'fixed'), refusedMessage],
    ['grow, unknown class', claim('2Mi', undefined, 'nope'), claim('1Mi', undefined, 'nope'), refusedMessage],
    ['grow, no class', claim('2Mi', undefined, ''), claim('1Mi', undefined, ''), refusedMessage],
    ['grow, unbound claim', claim('2Mi', { phase: 'Pending' }), claim('1Mi', { phase: 'Pending' }), 'Only bound persistent volume claims can be expanded'],
    ['grow, same size spelled otherwise', claim('1024Ki'), claim('1Mi'), undefined],
  ];
  for (const [name, next, old, want] of cases) assert.equal(resizeRefusal(next, old, lookup), want, name);
});

test('planResize walks Resizing → volume grown → FileSystemResizePending', () => {
  // 1: the request grew: the claim is marked.
  let c = claim('2Mi');
  let v = volume('1Mi');
  const s1 = planResize(c, v, NOW);
  assert.equal(s1.kind, 'markResizing');
  if (s1.kind !== 'markResizing') return;
  assert.deepEqual(s1.status.conditions, [{ type: 'Resizing', status: 'True', lastProbeTime: null, lastTransitionTime: NOW }]);
  assert.deepEqual(s1.status.allocatedResources, { storage: '2Mi' });
  assert.deepEqual(s1.status.allocatedResourceStatuses, { storage: 'ControllerResizeInProgress' });
  assert.deepEqual(s1.events.map((e) => [e.component, e.reason, e.message]), [
    ['volume_expand', 'ExternalExpanding', 'waiting for an external controller to expand this PVC'],
    [`external-resizer ${PROVISIONER}`, 'Resizing', 'External resizer is resizing volume pvc-uid-1'],
  ]);
  // 2: marked: the volume grows.
  c = { ...c, status: s1.status };
  const s2 = planResize(c, v, NOW);
  assert.equal(s2.kind, 'expandVolume');
  if (s2.kind !== 'expandVolume') return;
  assert.equal(s2.volume.spec.capacity.storage, '2Mi');
  assert.equal(v.spec.capacity.storage, '1Mi', 'the cached volume is not modified');
  // 3: grown: the node is to finish.
  v = s2.volume;
  const s3 = planResize(c, v, NOW);
  assert.equal(s3.kind, 'markNodePending');
  if (s3.kind !== 'markNodePending') return;
  assert.deepEqual(s3.status.conditions, [{ type: 'FileSystemResizePending', status: 'True', lastProbeTime: null, lastTransitionTime: NOW, message: FS_RESIZE_PENDING_MESSAGE }]);
  assert.deepEqual(s3.status.allocatedResourceStatuses, { storage: 'NodeResizePending' });
  assert.deepEqual(s3.events.map((e) => e.reason), ['FileSystemResizeRequired']);
  assert.equal(s3.status.capacity.storage, '1Mi', 'the capacity is the node\'s to record');
  // 4: handed to the node: nothing more for the controller.
  c = { ...c, status: s3.status };
  assert.equal(planResize(c, v, NOW).kind, 'none');
  // 5: the node finished.
  const done = finishedExpansionStatus(c, v)!;
  assert.deepEqual(done, { phase: 'Bound', capacity: { storage: '2Mi' }, allocatedResources: { storage: '2Mi' } });
  assert.equal(planResize({ ...c, status: done }, v, NOW).kind, 'none');
});

test('planResize leaves alone what is not an expansion of ours', () => {
  assert.equal(planResize(claim('1Mi'), volume('1Mi'), NOW).kind, 'none', 'nothing asked');
  assert.equal(planResize(claim('2Mi', { phase: 'Pending' }), volume('1Mi'), NOW).kind, 'none', 'unbound');
  assert.equal(planResize(claim('2Mi'), undefined, NOW).kind, 'none', 'no volume');
  const foreign = volume('1Mi');
  foreign.metadata.annotations = {};
  assert.equal(planResize(claim('2Mi'), foreign, NOW).kind, 'none', 'a volume another provisioner made');
  const other = volume('1Mi');
  other.spec.claimRef.uid = 'uid-2';
  assert.equal(planResize(claim('2Mi'), other, NOW).kind, 'none', 'a volume bound to another claim');
  const deleting = claim('2Mi');
  deleting.metadata.deletionTimestamp = NOW;
  assert.equal(planResize(deleting, volume('1Mi'), NOW).kind, 'none', 'a claim on its way out');
  // A request lowered back (RecoverVolumeExpansionFailure) to what the volume has: nothing to grow.
  assert.equal(planResize(claim('1Mi', { phase: 'Bound', capacity: { storage: '1Mi' } }), volume('1Mi'), NOW).kind, 'none');
});

test('planResize: a grown request during an expansion starts over at the new size', () => {
  const c = claim('3Mi', { phase: 'Bound', capacity: { storage: '1Mi' }, allocatedResources: { storage: '2Mi' }, allocatedResourceStatuses: { storage: 'ControllerResizeInProgress' } });
  const s = planResize(c, volume('1Mi'), NOW);
  assert.equal(s.kind, 'markResizing');
  if (s.kind === 'markResizing') assert.deepEqual(s.status.allocatedResources, { storage: '3Mi' });
});

test('mergeResizeConditions keeps other conditions and the transition time of an unchanged one', () => {
  const other = { type: 'ModifyingVolume', status: 'True' };
  const old = [other, { type: 'Resizing', status: 'True', lastTransitionTime: 'earlier' }];
  assert.deepEqual(mergeResizeConditions(old, [{ type: 'Resizing', status: 'True', lastTransitionTime: NOW }]), [other, { type: 'Resizing', status: 'True', lastTransitionTime: 'earlier' }]);
  assert.deepEqual(mergeResizeConditions(old, [{ type: 'FileSystemResizePending', status: 'True', lastTransitionTime: NOW }]), [
    other,
    { type: 'FileSystemResizePending', status: 'True', lastTransitionTime: NOW },
  ]);
});

test('the node finishes only claims handed to it, on their own volume', () => {
  const pending = claim('2Mi', { phase: 'Bound', capacity: { storage: '1Mi' }, allocatedResourceStatuses: { storage: 'NodeResizePending' } });
  assert.equal(awaitsNodeExpansion(pending), true);
  assert.equal(awaitsNodeExpansion(claim('2Mi')), false);
  assert.equal(finishedExpansionStatus(claim('2Mi'), volume('2Mi')), undefined, 'not handed to a node');
  const elsewhere = volume('2Mi');
  elsewhere.metadata.name = 'pvc-other';
  assert.equal(finishedExpansionStatus(pending, elsewhere), undefined, 'another volume');
  assert.equal(finishedExpansionStatus(pending, undefined), undefined, 'no volume');
  // A condition alone (a resizer without allocatedResourceStatuses) is enough, and other conditions stay.
  const byCondition = claim('2Mi', { phase: 'Bound', capacity: { storage: '1Mi' }, conditions: [{ type: 'FileSystemResizePending', status: 'True' }, { type: 'X', status: 'True' }] });
  assert.deepEqual(finishedExpansionStatus(byCondition, volume('2Mi')), { phase: 'Bound', capacity: { storage: '2Mi' }, conditions: [{ type: 'X', status: 'True' }] });
});

test('a node looks at a quiet claim less and less often, at a busy one soon, within a read budget', () => {
  assert.equal(nextLookMs(undefined, false, 3), 2000, 'first look');
  assert.equal(nextLookMs(2000, false, 3), 4000);
  assert.equal(nextLookMs(16_000, false, 3), 32_000);
  assert.equal(nextLookMs(32_000, false, 3), 60_000, 'capped at the kubelet\'s pod resync');
  assert.equal(nextLookMs(20_000, true, 3), 2000, 'an expansion under way');
  assert.equal(nextLookMs(2000, true, 10_000), 100_000, 'ten thousand claims: at most 100 reads a second');
  assert.equal(expansionUnderWay(claim('2Mi')), true, 'asked for more than it has');
  assert.equal(expansionUnderWay(claim('1Mi')), false);
  assert.equal(expansionUnderWay(claim('2Mi', { phase: 'Bound', capacity: { storage: '2Mi' }, allocatedResourceStatuses: { storage: 'NodeResizePending' } })), true);
});

test('the binder copies the capacity only when a claim becomes bound', () => {
  const v = { spec: { accessModes: ['ReadWriteOnce'], capacity: { storage: '2Mi' } } };
  assert.deepEqual(boundClaimStatus({ status: { phase: 'Pending' } }, v), { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '2Mi' } });
  // Bound with 1Mi while the volume already has 2Mi: an expansion the node has not finished.
  assert.equal(boundClaimStatus({ status: { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '1Mi' } } }, v), undefined);
});

test('planResize: the time is read only for a condition it writes; sizes spelled otherwise are compared as quantities', () => {
  let reads = 0;
  const now = () => {
    reads++;
    return NOW;
  };
  assert.equal(planResize(claim('1Mi'), volume('1Mi'), now).kind, 'none', 'all alike');
  assert.equal(planResize(claim('1024Ki', { phase: 'Bound', capacity: { storage: '1Mi' } }), volume('1Mi'), now).kind, 'none', 'same size spelled otherwise');
  assert.equal(reads, 0);
  const marked = planResize(claim('2Mi'), volume('1Mi'), now);
  assert.equal(marked.kind, 'markResizing');
  assert.equal(reads, 1);
  assert.equal(marked.kind === 'markResizing' && marked.status.conditions[0].lastTransitionTime, NOW);
  // Claim capacity spelled like the request but smaller than a grown volume: the node's part is next.
  assert.equal(planResize(claim('2Mi', { phase: 'Bound', capacity: { storage: '1Mi' } }), volume('2Mi'), now).kind, 'markNodePending');
});
