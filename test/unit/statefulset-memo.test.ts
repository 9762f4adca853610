// The StatefulSet memos (memo.ts, OwnedMemo, UpdateRevisionMemo) must never change a decision: a
// walk that remembers verdicts has to plan exactly what a walk from scratch plans, whatever
// changed in between. Objects are replaced, never mutated, as an informer's are (and frozen here,
// so a memo or a walk that wrote into one would fail loudly).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Obj } from '../../src/api/resource.ts';
import { planSync, type Action, type SyncPlan } from '../../src/controllers/statefulset/control.ts';
import { ReplicaMemo, podFacts, factsAvailable } from '../../src/controllers/statefulset/memo.ts';
import { decideUpdateRevision, findCurrentRevision, UpdateRevisionMemo } from '../../src/controllers/statefulset/revisions.ts';
import { OwnedMemo, claimDecision } from '../../src/controllers/statefulset/adoption.ts';
import { labelSelectorFromObject } from '../../src/api/selectors/index.ts';
import { sortRevisions } from '../../src/controllers/history/history.ts';
import { isAvailable, isRunningAndReady } from '../../src/controllers/statefulset/identity.ts';
import { NOW, LONG_AGO, makeSet, pod, claim, describe, revisionOf } from './statefulset-fixtures.ts';

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v as object)) deepFreeze(x);
  }
  return v;
}

/** A small deterministic PRNG (mulberry32), so a failure names a seed that reproduces it. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CLAIMS = [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'] } }];
const READY = (t = LONG_AGO) => ({ phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: t }] });

/** An immutable little cluster: every change makes new objects. */
class Cluster {
  set: Obj;
  pods = new Map<string, Obj>();
  claims = new Map<string, Obj>();
  revisions: Obj[] = [];
  now = NOW;
  private uid = 0;

  constructor(set: Obj) {
    this.set = deepFreeze(structuredClone(set));
  }

  changeSet(f: (s: Obj) => void): void {
    const s = structuredClone(this.set);
    f(s);
    this.set = deepFreeze(s);
  }

  putPod(p: Obj): void {
    this.pods.set(p.metadata.name, deepFreeze(p));
  }

  putClaim(c: Obj): void {
    this.claims.set(c.metadata.name, deepFreeze(c));
  }

  revisionsFor(): { current: Obj; update: Obj } {
    const sorted = sortRevisions(this.revisions);
    const d = decideUpdateRevision(this.set, sorted, 0);
    let update: Obj;
    if (d.kind === 'existing') update = d.revision;
    else if (d.kind === 'rollback') {
      update = deepFreeze({ ...d.revision, revision: d.to });
      this.revisions = this.revisions.map((r) => (r === d.revision ? update : r));
    } else {
      update = deepFreeze({ ...d.revision, metadata: { ...d.revision.metadata, uid: `rev-${++this.uid}`, creationTimestamp: LONG_AGO } });
      this.revisions.push(update);
    }
    return { current: findCurrentRevision(this.set, sortRevisions(this.revisions), update), update };
  }

  plan(memo: ReplicaMemo | undefined, current: Obj, update: Obj): SyncPlan {
    return planSync({
      set: this.set,
      pods: [...this.pods.values()],
      claims: (n) => this.claims.get(n),
      currentRevision: current,
      updateRevision: update,
      collisionCount: 0,
      now: this.now,
      memo,
    });
  }

  /** Applies an action as the API would (new objects throughout). */
  apply(a: Action): void {
    const name = a.pod.metadata.name;
    if (a.type === 'deletePod') {
      const p = this.pods.get(name);
      if (p && !p.metadata.deletionTimestamp) this.putPod({ ...p, metadata: { ...p.metadata, deletionTimestamp: LONG_AGO } });
      return;
    }
    if (a.type === 'createPod' || a.type === 'createMissingClaims' || a.type === 'updatePod') {
      for (const c of a.claims.create) this.putClaim({ ...structuredClone(c), metadata: { ...structuredClone(c.metadata), uid: `uid-${c.metadata.name}-${++this.uid}` } });
    }
    if (a.type === 'createPod') {
      const p = structuredClone(a.pod);
      p.metadata.uid = `uid-${name}-${++this.uid}`;
      p.status = { phase: 'Pending' };
      this.putPod(p);
    }
    if (a.type === 'updatePod') this.putPod(structuredClone(a.desired));
    for (const u of a.refs) {
      const c = this.claims.get(u.claim.metadata.name);
      if (c) this.putClaim({ ...structuredClone(c), metadata: { ...structuredClone(c.metadata), ownerReferences: structuredClone(u.ownerReferences) } });
    }
  }
}

/** The plan as comparable data (placeholder pods are fresh objects each walk, equal in content). */
const shape = (p: SyncPlan) => JSON.parse(JSON.stringify({ phases: p.phases, status: p.status, waitingFor: p.waitingFor, slots: Array.from(p.slots, (s) => s?.metadata.name), condemned: p.condemned.map((s) => s.metadata.name) }));

/** One random change to the world, as the rest of a cluster might make it. */
function perturb(c: Cluster, r: () => number): string {
  const pick = <T>(xs: T[]): T | undefined => (xs.length ? xs[Math.floor(r() * xs.length)] : undefined);
  const x = r();
  const p = pick([...c.pods.values()]);
  const cl = pick([...c.claims.values()]);
  if (x < 0.3 && p) {
    const status = pick([{ phase: 'Pending' }, { phase: 'Running' }, READY(), READY(new Date(c.now - 2000).toISOString()), { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] }, { phase: 'Failed' }, { phase: 'Succeeded' }])!;
    c.putPod({ ...p, status: structuredClone(status), metadata: { ...p.metadata, resourceVersion: String(Number(p.metadata.resourceVersion ?? 0) + 1) } });
    return `status ${p.metadata.name}`;
  }
  if (x < 0.38 && p) {
    c.pods.delete(p.metadata.name);
    return `gone ${p.metadata.name}`;
  }
  if (x < 0.43 && p) {
    // Someone edits the pod's identity or volumes.
    const q = structuredClone(p);
    if (r() < 0.5) delete q.metadata.labels['statefulset.kubernetes.io/pod-name'];
    else q.spec.volumes = [];
    c.putPod(q);
    return `edit ${p.metadata.name}`;
  }
  if (x < 0.5 && cl) {
    const refs = pick([[], [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: c.set.metadata.uid, controller: true }], [{ apiVersion: 'v1', kind: 'Pod', name: 'web-1', uid: 'old-pod', controller: true }], [{ apiVersion: 'x/v1', kind: 'Other', name: 'o', uid: 'o', controller: true }]])!;
    c.putClaim({ ...structuredClone(cl), metadata: { ...structuredClone(cl.metadata), ownerReferences: refs } });
    return `refs ${cl.metadata.name}`;
  }
  if (x < 0.55 && cl) {
    c.claims.delete(cl.metadata.name);
    return `claim gone ${cl.metadata.name}`;
  }
  if (x < 0.58 && cl) {
    c.putClaim({ ...structuredClone(cl), metadata: { ...structuredClone(cl.metadata), deletionTimestamp: LONG_AGO } });
    return `claim deleting ${cl.metadata.name}`;
  }
  if (x < 0.64) {
    const n = Math.floor(r() * 6);
    c.changeSet((s) => (s.spec.replicas = n));
    return `replicas ${n}`;
  }
  if (x < 0.68) {
    const part = Math.floor(r() * 4);
    c.changeSet((s) => (s.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { partition: part, maxUnavailable: 1 + Math.floor(r() * 2) } }));
    return `partition ${part}`;
  }
  if (x < 0.72) {
    const img = `nginx:${1 + Math.floor(r() * 3)}`;
    c.changeSet((s) => (s.spec.template.spec.containers[0].image = img));
    return `image ${img}`;
  }
  if (x < 0.76) {
    const pol = pick(['Retain', 'Delete'])!;
    const which = r() < 0.5 ? 'whenScaled' : 'whenDeleted';
    c.changeSet((s) => (s.spec.persistentVolumeClaimRetentionPolicy = { ...s.spec.persistentVolumeClaimRetentionPolicy, [which]: pol }));
    return `${which} ${pol}`;
  }
  if (x < 0.79) {
    const mrs = pick([0, 0, 5])!;
    c.changeSet((s) => (s.spec.minReadySeconds = mrs));
    return `minReadySeconds ${mrs}`;
  }
  if (x < 0.81) {
    const start = pick([0, 0, 1])!;
    c.changeSet((s) => (s.spec.ordinals = { start }));
    return `start ${start}`;
  }
  if (x < 0.83) {
    const pmp = pick(['Parallel', 'OrderedReady'])!;
    c.changeSet((s) => (s.spec.podManagementPolicy = pmp));
    return `policy ${pmp}`;
  }
  if (x < 0.85) {
    // A namesake set: same name, new uid.
    c.changeSet((s) => (s.metadata.uid = `set-uid-${Math.floor(r() * 3)}`));
    return 'new uid';
  }
  if (x < 0.9) {
    c.now += 3000;
    return 'clock';
  }
  // Terminations finish.
  for (const [n, q] of c.pods) if (q.metadata.deletionTimestamp && r() < 0.5) c.pods.delete(n);
  return 'reap';
}

for (const policy of ['Parallel', 'OrderedReady']) {
  test(`a walk with a memo plans exactly what a walk from scratch plans (${policy}, random changes)`, () => {
    for (let seed = 1; seed <= 40; seed++) {
      const r = rng(seed);
      const c = new Cluster(makeSet({ replicas: 4, podManagementPolicy: policy, volumeClaimTemplates: CLAIMS }));
      const memo = new ReplicaMemo();
      const trail: string[] = [];
      for (let step = 0; step < 60; step++) {
        const { current, update } = c.revisionsFor();
        const withMemo = c.plan(memo, current, update);
        const fresh = c.plan(undefined, current, update);
        assert.deepEqual(shape(withMemo), shape(fresh), `seed ${seed} after: ${trail.join('; ')}`);
        // Usually carry the plan out (as a sync would), sometimes not (a failed write).
        if (r() < 0.8) for (const phase of withMemo.phases) for (const unit of phase.units) for (const a of unit) c.apply(a);
        trail.push(perturb(c, r));
      }
    }
  });
}

/** Plans and applies until nothing is left to do, every pod Running and Ready; checks the memo against a fresh walk each time. */
function settle(c: Cluster, memo: ReplicaMemo): { current: Obj; update: Obj } {
  for (let i = 0; i < 20; i++) {
    const { current, update } = c.revisionsFor();
    const p = c.plan(memo, current, update);
    assert.deepEqual(shape(p), shape(c.plan(undefined, current, update)));
    const actions = p.phases.flatMap((ph) => ph.units.flat());
    for (const a of actions) c.apply(a);
    for (const q of [...c.pods.values()]) if (!q.metadata.deletionTimestamp && q.status?.phase !== 'Running') c.putPod({ ...q, status: READY() });
    for (const [n, q] of c.pods) if (q.metadata.deletionTimestamp) c.pods.delete(n);
    if (!actions.length) return { current, update };
  }
  throw new Error('did not settle');
}

test('an unchanged replica is not walked again; a changed pod or claim is', () => {
  const c = new Cluster(makeSet({ replicas: 3, podManagementPolicy: 'Parallel', volumeClaimTemplates: CLAIMS, persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' } }));
  const memo = new ReplicaMemo();
  const { current, update } = settle(c, memo);
  let lookups: string[] = [];
  const plan = () =>
    planSync({ set: c.set, pods: [...c.pods.values()], claims: (n) => (lookups.push(n), c.claims.get(n)), currentRevision: current, updateRevision: update, collisionCount: 0, now: c.now, memo });
  plan();
  lookups = [];
  assert.deepEqual(describe(plan()), []);
  // One lookup per remembered replica (to check its claim is the same object), nothing more.
  assert.deepEqual(lookups.sort(), ['data-web-0', 'data-web-1', 'data-web-2']);

  // The claim of web-1 lost the set's owner ref: web-1 alone is walked again, and repaired.
  const cl = c.claims.get('data-web-1')!;
  c.putClaim({ ...structuredClone(cl), metadata: { ...structuredClone(cl.metadata), ownerReferences: [] } });
  assert.deepEqual(describe(plan()), ['update web-1']);
  // A new pod object of web-2 with the same content: walked again, same verdict.
  c.putPod(structuredClone(c.pods.get('web-2')!));
  lookups = [];
  assert.deepEqual(describe(plan()), ['update web-1']);
  assert.ok(lookups.filter((n) => n === 'data-web-2').length > 1);
});

test('a deleted or replaced claim invalidates the verdict of its Running pod', () => {
  const c = new Cluster(makeSet({ replicas: 1, podManagementPolicy: 'Parallel', volumeClaimTemplates: CLAIMS, persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' } }));
  const memo = new ReplicaMemo();
  const { current, update } = settle(c, memo);
  assert.deepEqual(describe(c.plan(memo, current, update)), []);
  // A Running pod's missing claim is not re-created (upstream only does that for Pending pods)...
  const old = c.claims.get('data-web-0')!;
  c.claims.delete('data-web-0');
  assert.deepEqual(describe(c.plan(memo, current, update)), []);
  // ...but when one comes back without the set's owner ref, the pod is updated to fix it.
  c.putClaim({ ...structuredClone(old), metadata: { ...structuredClone(old.metadata), uid: 'again', ownerReferences: [] } });
  assert.deepEqual(describe(c.plan(memo, current, update)), ['update web-0']);
  // The retention policy changes back to Retain: the set's refs are taken off again.
  settle(c, memo);
  c.changeSet((s) => (s.spec.persistentVolumeClaimRetentionPolicy = { whenDeleted: 'Retain', whenScaled: 'Retain' }));
  assert.deepEqual(describe(c.plan(memo, current, update)), ['update web-0']);
});

test('OrderedReady with minReadySeconds asks the clock every walk (no remembered verdicts)', () => {
  const c = new Cluster(makeSet({ replicas: 2, minReadySeconds: 10 }));
  const memo = new ReplicaMemo();
  const { current, update } = c.revisionsFor();
  c.putPod(pod('web-0', update.metadata.name, 'justReady'));
  const first = c.plan(memo, current, update);
  assert.match(first.waitingFor, /web-0 to be available/);
  c.now += 20_000;
  assert.deepEqual(describe(c.plan(memo, current, update)), ['create web-1']);
});

test('a pod that moved out of range is condemned even though its verdict was remembered', () => {
  const c = new Cluster(makeSet({ replicas: 3, podManagementPolicy: 'Parallel' }));
  const memo = new ReplicaMemo();
  const { current, update } = c.revisionsFor();
  for (const n of ['web-0', 'web-1', 'web-2']) c.putPod(pod(n, update.metadata.name, 'ready'));
  assert.deepEqual(describe(c.plan(memo, current, update)), []);
  c.changeSet((s) => (s.spec.replicas = 2));
  assert.deepEqual(describe(c.plan(memo, current, update)), ['delete web-2 (condemned)']);
  c.changeSet((s) => (s.spec.ordinals = { start: 1 }));
  assert.deepEqual(describe(c.plan(memo, current, update)), ['delete web-0 (condemned)']);
});

test('a partition keeps old pods below it with or without a memo', () => {
  const c = new Cluster(makeSet({ replicas: 4, podManagementPolicy: 'Parallel', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2, maxUnavailable: 4 } } }));
  const memo = new ReplicaMemo();
  const old = c.revisionsFor();
  for (const n of ['web-0', 'web-1', 'web-2', 'web-3']) c.putPod(pod(n, old.update.metadata.name, 'ready'));
  assert.deepEqual(describe(c.plan(memo, old.current, old.update)), []);
  c.changeSet((s) => (s.spec.template.spec.containers[0].image = 'nginx:2'));
  const next = c.revisionsFor();
  assert.notEqual(next.update.metadata.name, old.update.metadata.name);
  assert.deepEqual(describe(c.plan(memo, next.current, next.update)), ['delete web-3 (update)', 'delete web-2 (update)']);
});

test('pod facts agree with the identity predicates', () => {
  const states = ['pending', 'running', 'ready', 'failed', 'succeeded', 'terminating', 'readyTerminating', 'justReady'] as const;
  for (const s of states) {
    const p = pod('web-0', 'r1', s);
    const f = podFacts(p);
    assert.equal(f.runningAndReady, isRunningAndReady(p), s);
    for (const mrs of [0, 1, 10]) assert.equal(factsAvailable(f, mrs, NOW), isAvailable(p, mrs, NOW), `${s} ${mrs}`);
    assert.equal(f.revision, 'r1');
  }
  const bad = pod('web-0', 'r1', 'ready', { status: { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: 'not a time' }] } });
  assert.equal(factsAvailable(podFacts(bad), 5, NOW), isAvailable(bad, 5, NOW));
});

test('OwnedMemo: a remembered pod stays owned only while the set is the same', () => {
  const set = makeSet();
  const sel = labelSelectorFromObject(set.spec.selector);
  const p = deepFreeze(pod('web-0', 'r1'));
  const memo = new OwnedMemo();
  memo.begin(set);
  assert.equal(memo.isOwned(p), false);
  assert.equal(claimDecision(set, sel, p), 'owned');
  memo.remember(p);
  memo.begin({ ...set, status: { replicas: 7 } });
  assert.equal(memo.isOwned(p), true, 'a status change keeps it');
  memo.begin({ ...set, metadata: { ...set.metadata, uid: 'other' } });
  assert.equal(memo.isOwned(p), false, 'a namesake set does not inherit it');
  memo.begin({ ...set, spec: { ...set.spec, selector: { matchLabels: { app: 'other' } } } });
  assert.equal(memo.isOwned(p), false, 'a new selector asks again');
  memo.begin({ ...set, metadata: { ...set.metadata, deletionTimestamp: LONG_AGO } });
  assert.equal(memo.isOwned(p), false);
  memo.begin(set);
  assert.equal(memo.isOwned(p), true);
  assert.equal(memo.isOwned(deepFreeze(pod('web-0', 'r1'))), false, 'another object of the pod is decided afresh');
});

test('UpdateRevisionMemo reuses only an unchanged "existing" answer', () => {
  const set = deepFreeze(makeSet());
  const r1 = deepFreeze(revisionOf(set, 1));
  const memo = new UpdateRevisionMemo();
  const sorted = [r1];
  assert.deepEqual(memo.decide(set, sorted, 0), decideUpdateRevision(set, sorted, 0));
  const again = memo.decide({ ...set, status: { replicas: 3 } }, [r1], 0);
  assert.equal(again.kind, 'existing');
  assert.equal(again.revision, r1);
  // A new template: a new revision.
  const set2 = deepFreeze({ ...set, spec: { ...set.spec, template: { ...set.spec.template, spec: { containers: [{ name: 'nginx', image: 'nginx:2' }] } } } });
  assert.equal(memo.decide(set2, [r1], 0).kind, 'create');
  // Back to the first template with both revisions stored, the second newest: a rollback.
  const r2 = deepFreeze(revisionOf(set2, 2));
  assert.deepEqual(memo.decide(set, [r1, r2], 0), decideUpdateRevision(set, [r1, r2], 0));
  assert.equal(memo.decide(set, [r1, r2], 0).kind, 'rollback');
  // A collision count change is a new question.
  assert.deepEqual(memo.decide(set, [r1], 1), decideUpdateRevision(set, [r1], 1));
  // Replaced revision objects are looked at again.
  memo.decide(set, [r1], 0);
  const r1b = deepFreeze({ ...r1, data: { spec: { template: { $patch: 'replace' } } } });
  assert.deepEqual(memo.decide(set, [r1b], 0), decideUpdateRevision(set, [r1b], 0));
});
