// Pod identity, claim retention ownerReferences and adoption decisions of the StatefulSet controller.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyRevision, claimsFor, identityMatches, inOrdinalRange, isAvailable, newPod, parentAndOrdinal, storageMatches,
} from '../../src/controllers/statefulset/identity.ts';
import { claimRefUpdates, desiredClaimRefs, isClaimOwnerUpToDate, podClaimIsStale } from '../../src/controllers/statefulset/retention.ts';
import { adoptPatch, claimDecision, ownedOrOrphanRevisions, releasePatch } from '../../src/controllers/statefulset/adoption.ts';
import { labelSelectorFromObject } from '../../src/api/selectors/index.ts';
import { makeSet, pod, claim, lookup, revisionOf, withImage, NOW } from './statefulset-fixtures.ts';
import type { Obj } from '../../src/api/resource.ts';

test('identity: ordinals parse with a greedy prefix', () => {
  const cases: [string, string, number][] = [
    ['web-0', 'web', 0],
    ['web-12', 'web', 12],
    ['my-web-3', 'my-web', 3],
    ['web-1-2', 'web-1', 2],
    ['web', '', -1],
    ['web-', '', -1],
    ['web-x', '', -1],
    ['web-99999999999', 'web', -1],
  ];
  for (const [name, parent, ordinal] of cases) assert.deepEqual(parentAndOrdinal(name), { parent, ordinal }, name);
});

test('identity: start ordinal range', () => {
  const set = makeSet({ replicas: 2, ordinals: { start: 3 } });
  const inRange = (n: string) => inOrdinalRange({ metadata: { name: n } }, set);
  assert.deepEqual(['web-2', 'web-3', 'web-4', 'web-5'].map(inRange), [false, true, true, false]);
});

test('identity: a new pod has the full identity; an empty serviceName gives no subdomain', () => {
  const set = makeSet({ serviceName: '' });
  set.spec.template.metadata.annotations = { a: 'b' };
  set.spec.template.metadata.finalizers = ['f'];
  const p = newPod(set, 2);
  assert.equal(p.metadata.name, 'web-2');
  assert.deepEqual(p.metadata.annotations, { a: 'b' });
  assert.deepEqual(p.metadata.finalizers, ['f']);
  assert.equal(p.spec.hostname, 'web-2');
  assert.equal(p.spec.subdomain, undefined);
  assert.equal(p.metadata.labels['apps.kubernetes.io/pod-index'], '2');
  assert.ok(identityMatches(set, p));
  assert.ok(storageMatches(set, p));
  // The template itself is untouched.
  assert.equal(set.spec.template.metadata.labels['statefulset.kubernetes.io/pod-name'], undefined);
});

test('identity: identity and storage checks', () => {
  const set = makeSet({ volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: {} }] });
  const ok = pod('web-1', 'r', 'ready', { spec: { volumes: [{ name: 'www', persistentVolumeClaim: { claimName: 'www-web-1' } }] } });
  assert.ok(identityMatches(set, ok));
  assert.ok(storageMatches(set, ok));
  assert.ok(!identityMatches(set, pod('web-1', 'r', 'ready', { metadata: { namespace: 'other' } })));
  assert.ok(!identityMatches(set, pod('web-1', 'r', 'ready', { metadata: { labels: { 'statefulset.kubernetes.io/pod-name': 'web-2' } } })));
  assert.ok(!storageMatches(set, pod('web-1', 'r', 'ready', { spec: { volumes: [{ name: 'www', persistentVolumeClaim: { claimName: 'www-web-2' } }] } })));
  assert.ok(!storageMatches(set, pod('web-1', 'r', 'ready', { spec: { volumes: [{ name: 'www', emptyDir: {} }] } })));
});

test('identity: claim templates become per-ordinal claims labelled with matchLabels', () => {
  const set = makeSet({ volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { resources: { requests: { storage: '1Gi' } } } }, { metadata: { name: 'log', labels: { x: 'y' } }, spec: {} }] });
  const claims = claimsFor(set, 4);
  assert.deepEqual(claims.map((c) => [c.template, c.claim.metadata.name, c.claim.metadata.labels]), [
    ['www', 'www-web-4', { app: 'nginx' }],
    ['log', 'log-web-4', { x: 'y', app: 'nginx' }],
  ]);
  assert.equal(claims[0].claim.spec.resources.requests.storage, '1Gi');
});

test('identity: applyRevision swaps in the recorded template only', () => {
  const v1 = makeSet();
  const r1 = revisionOf(v1, 1);
  const v2 = withImage(makeSet({ replicas: 9 }), 'nginx:2');
  const restored = applyRevision(v2, r1);
  assert.equal(restored.spec.replicas, 9);
  assert.equal(restored.spec.template.spec.containers[0].image, 'nginx:1');
  assert.equal(restored.spec.template.$patch, undefined);
  assert.deepEqual(restored.spec.template.metadata, { labels: { app: 'nginx' } });
});

test('identity: availability honours minReadySeconds', () => {
  assert.ok(isAvailable(pod('web-0', 'r', 'justReady'), 0, NOW));
  assert.ok(!isAvailable(pod('web-0', 'r', 'justReady'), 30, NOW));
  assert.ok(isAvailable(pod('web-0', 'r', 'ready'), 30, NOW));
  assert.ok(!isAvailable(pod('web-0', 'r', 'running'), 0, NOW));
});

// ------------------------------------------------------------ retention policy

const setRef = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'set-uid', controller: true, blockOwnerDeletion: true };
const podRef = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', name, uid: `uid-${name}`, controller: true, blockOwnerDeletion: true });
const policy = (whenScaled: string, whenDeleted: string) =>
  makeSet({ replicas: 2, volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: {} }], persistentVolumeClaimRetentionPolicy: { whenScaled, whenDeleted } });

const table: [string, string, string, Obj[]][] = [
  // whenScaled, whenDeleted, pod, expected refs
  ['Retain', 'Retain', 'web-1', []],
  ['Retain', 'Retain', 'web-3', []],
  ['Retain', 'Delete', 'web-1', [setRef]],
  ['Retain', 'Delete', 'web-3', [setRef]],
  ['Delete', 'Retain', 'web-1', []],
  ['Delete', 'Retain', 'web-3', [podRef('web-3')]],
  ['Delete', 'Delete', 'web-1', [setRef]],
  ['Delete', 'Delete', 'web-3', [podRef('web-3')]],
];

for (const [whenScaled, whenDeleted, name, refs] of table) {
  test(`retention: ${whenScaled}/${whenDeleted} ${name === 'web-1' ? 'in range' : 'condemned'} → ${refs.map((r) => r.kind).join('+') || 'no refs'}`, () => {
    const set = policy(whenScaled, whenDeleted);
    const p = pod(name, 'r');
    const c = claim(`www-${name}`);
    assert.deepEqual(desiredClaimRefs(c, set, p), refs);
    assert.equal(isClaimOwnerUpToDate(c, set, p), refs.length === 0);
    const fixed = { ...c, metadata: { ...c.metadata, ownerReferences: refs } };
    assert.ok(isClaimOwnerUpToDate(fixed, set, p));
    // Policy changed back to Retain/Retain: our refs are scrubbed.
    assert.deepEqual(desiredClaimRefs(fixed, policy('Retain', 'Retain'), p), []);
  });
}

test('retention: scale-down under Delete/Delete moves the controller ref from set to pod', () => {
  const set = policy('Delete', 'Delete');
  const c = claim('www-web-3', { metadata: { ownerReferences: [setRef] } });
  assert.ok(!isClaimOwnerUpToDate(c, set, pod('web-3', 'r')));
  assert.deepEqual(desiredClaimRefs(c, set, pod('web-3', 'r')), [podRef('web-3')]);
});

test('retention: unrelated refs are kept and ours appended after them', () => {
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', name: 'cm', uid: 'cm-uid' };
  const c = claim('www-web-1', { metadata: { ownerReferences: [cm] } });
  assert.deepEqual(desiredClaimRefs(c, policy('Retain', 'Delete'), pod('web-1', 'r')), [cm, setRef]);
});

test('retention: a non-controller ref of ours is upgraded', () => {
  const c = claim('www-web-1', { metadata: { ownerReferences: [{ ...setRef, controller: false }] } });
  const set = policy('Retain', 'Delete');
  assert.ok(!isClaimOwnerUpToDate(c, set, pod('web-1', 'r')));
  assert.deepEqual(desiredClaimRefs(c, set, pod('web-1', 'r')), [setRef]);
});

test('retention: another controller wins; our refs are removed and an event is due', () => {
  const other = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'rs-uid', controller: true };
  const set = policy('Retain', 'Delete');
  const p = pod('web-1', 'r');
  const mine = claim('www-web-1', { metadata: { ownerReferences: [other, { ...setRef, controller: false }] } });
  assert.ok(!isClaimOwnerUpToDate(mine, set, p));
  assert.deepEqual(desiredClaimRefs(mine, set, p), [other]);
  const theirs = claim('www-web-1', { metadata: { ownerReferences: [other] } });
  assert.ok(isClaimOwnerUpToDate(theirs, set, p));
  const { updates, conflicts } = claimRefUpdates(set, p, lookup([theirs]));
  assert.deepEqual(updates, []);
  assert.deepEqual(conflicts, ['www-web-1']);
  // Under Retain/Retain other controllers are no concern at all.
  assert.deepEqual(claimRefUpdates(policy('Retain', 'Retain'), p, lookup([theirs])).conflicts, []);
});

test('retention: stale refs (same name, other uid) leave the claim alone and block re-creation', () => {
  const set = policy('Delete', 'Retain');
  const stale = claim('www-web-1', { metadata: { ownerReferences: [{ ...podRef('web-1'), uid: 'old-uid' }] } });
  assert.ok(isClaimOwnerUpToDate(stale, set, pod('web-1', 'r')));
  // A pod not yet created has no uid: any pod ref on its claim is stale.
  const placeholder = { metadata: { name: 'web-1', namespace: 'ns' } };
  assert.ok(podClaimIsStale(set, placeholder, lookup([stale])));
  assert.ok(!podClaimIsStale(set, placeholder, lookup([claim('www-web-1')])));
  assert.ok(!podClaimIsStale(policy('Retain', 'Delete'), placeholder, lookup([stale])));
});

// ------------------------------------------------------------ adoption

test('adoption: claim decisions', () => {
  const set = makeSet();
  const sel = labelSelectorFromObject(set.spec.selector);
  const orphan = (extra: Obj = {}) => pod('web-1', 'r', 'ready', { metadata: { ownerReferences: [], ...extra } });
  const rows: [string, Obj, Obj, string][] = [
    ['ours and matching', set, pod('web-1', 'r'), 'owned'],
    ['ours, labels changed', set, pod('web-1', 'r', 'ready', { metadata: { labels: { app: 'other' } } }), 'release'],
    ['ours, renamed out of the set', set, pod('db-1', 'r', 'ready', { metadata: { name: 'db-1' } }), 'release'],
    ['ours but set is being deleted', makeSet({}, { deletionTimestamp: 'x' }), pod('web-1', 'r', 'ready', { metadata: { labels: { app: 'other' } } }), 'ignore'],
    ['someone else controls it', set, pod('web-1', 'r', 'ready', { metadata: { ownerReferences: [{ ...setRef, uid: 'other' }] } }), 'ignore'],
    ['matching orphan', set, orphan(), 'adopt'],
    ['orphan with another name', set, { ...orphan(), metadata: { ...orphan().metadata, name: 'db-1' } }, 'ignore'],
    ['orphan not matching the selector', set, orphan({ labels: { app: 'x' } }), 'ignore'],
    ['orphan being deleted', set, orphan({ deletionTimestamp: 'x' }), 'ignore'],
    ['orphan while the set is being deleted', makeSet({}, { deletionTimestamp: 'x' }), orphan(), 'ignore'],
  ];
  for (const [name, s, p, want] of rows) assert.equal(claimDecision(s, sel, p), want, name);
});

test('adoption: patches carry the uid precondition', () => {
  const set = makeSet();
  const p = pod('web-1', 'r');
  assert.deepEqual(adoptPatch(set, p), { metadata: { ownerReferences: [setRef], uid: 'uid-web-1' } });
  assert.deepEqual(releasePatch(set, p), { metadata: { ownerReferences: [{ $patch: 'delete', uid: 'set-uid' }], uid: 'uid-web-1' } });
});

test('adoption: revisions that belong to the set', () => {
  const set = makeSet();
  const sel = labelSelectorFromObject(set.spec.selector);
  const r = (name: string, labels: Obj, refs: Obj[] = []) => ({ metadata: { name, namespace: 'ns', labels, ownerReferences: refs } });
  const revs = [r('mine', { app: 'nginx' }, [setRef]), r('orphan', { app: 'nginx' }), r('foreign', { app: 'nginx' }, [{ ...setRef, uid: 'x' }]), r('unmatched', { app: 'db' })];
  assert.deepEqual(ownedOrOrphanRevisions(set, sel, revs).map((x) => x.metadata.name), ['mine', 'orphan']);
});
