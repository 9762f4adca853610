// Shared fixtures for the StatefulSet unit tests: sets, revisions, pods in every state, and a tiny
// in-memory world that applies a plan the way the API would (so multi-step sequences can be
// checked without a server).
import type { Obj } from '../../src/api/resource.ts';
import { planSync, completeRollingUpdate, statusToJson, type Action, type SyncPlan } from '../../src/controllers/statefulset/control.ts';
import { newRevision, decideUpdateRevision, findCurrentRevision } from '../../src/controllers/statefulset/revisions.ts';
import { sortRevisions } from '../../src/controllers/history/history.ts';

export const NOW = Date.parse('2025-01-01T00:10:00Z');
export const LONG_AGO = '2025-01-01T00:00:00Z';

export function makeSet(spec: Obj = {}, meta: Obj = {}): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'ns', uid: 'set-uid', generation: 1, ...meta },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'nginx' } },
      serviceName: 'nginx',
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: 1 } },
      revisionHistoryLimit: 10,
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      template: {
        metadata: { labels: { app: 'nginx' } },
        spec: { containers: [{ name: 'nginx', image: 'nginx:1' }] },
      },
      ...spec,
    },
    status: { replicas: 0, availableReplicas: 0 },
  };
}

export const withImage = (set: Obj, image: string): Obj => {
  const s = structuredClone(set);
  s.spec.template.spec.containers[0].image = image;
  return s;
};

/** A stored revision of the set's template. */
export function revisionOf(set: Obj, n = 1, collisionCount = 0): Obj {
  const r = newRevision(set, n, collisionCount);
  r.metadata.uid = `rev-${n}-${r.metadata.name}`;
  r.metadata.creationTimestamp = LONG_AGO;
  return r;
}

export type PodState = 'pending' | 'running' | 'ready' | 'failed' | 'succeeded' | 'terminating' | 'readyTerminating' | 'justReady';

/** A pod of the set as the API would hold it, in a given state. */
export function pod(name: string, revision: string, state: PodState = 'ready', extra: Obj = {}): Obj {
  const ordinal = name.slice(name.lastIndexOf('-') + 1);
  const p: Obj = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'ns',
      uid: `uid-${name}`,
      resourceVersion: '1',
      labels: { app: 'nginx', 'statefulset.kubernetes.io/pod-name': name, 'apps.kubernetes.io/pod-index': ordinal, 'controller-revision-hash': revision },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'set-uid', controller: true, blockOwnerDeletion: true }],
    },
    spec: { containers: [{ name: 'nginx', image: 'x' }], hostname: name, subdomain: 'nginx' },
    status: { phase: 'Pending' },
  };
  const ready = (t: string) => ({ phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: t }] });
  switch (state) {
    case 'pending':
      break;
    case 'running':
      p.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: LONG_AGO }] };
      break;
    case 'ready':
      p.status = ready(LONG_AGO);
      break;
    case 'justReady':
      p.status = ready(new Date(NOW - 1000).toISOString());
      break;
    case 'failed':
      p.status = { phase: 'Failed' };
      break;
    case 'succeeded':
      p.status = { phase: 'Succeeded' };
      break;
    case 'terminating':
      p.status = { phase: 'Running' };
      p.metadata.deletionTimestamp = LONG_AGO;
      break;
    case 'readyTerminating':
      p.status = ready(LONG_AGO);
      p.metadata.deletionTimestamp = LONG_AGO;
      break;
  }
  return mergeDeep(p, extra);
}

function mergeDeep(a: Obj, b: Obj): Obj {
  for (const [k, v] of Object.entries(b)) {
    if (v && typeof v === 'object' && !Array.isArray(v) && a[k] && typeof a[k] === 'object') mergeDeep(a[k], v);
    else a[k] = v;
  }
  return a;
}

export function claim(name: string, extra: Obj = {}): Obj {
  return mergeDeep({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: 'ns', uid: `uid-${name}` }, spec: {} }, extra);
}

export const lookup = (claims: Obj[] = []) => (name: string) => claims.find((c) => c.metadata.name === name);

export interface PlanArgs {
  set: Obj;
  pods?: Obj[];
  claims?: Obj[];
  current?: Obj;
  update?: Obj;
  now?: number;
}

export function plan(a: PlanArgs): SyncPlan {
  const update = a.update ?? revisionOf(a.set);
  return planSync({ set: a.set, pods: a.pods ?? [], claims: lookup(a.claims), currentRevision: a.current ?? update, updateRevision: update, collisionCount: 0, now: a.now ?? NOW });
}

/** One line per action, e.g. `create web-0`, `delete web-2 (update)`, in the order they would run. */
export function describe(p: SyncPlan): string[] {
  const out: string[] = [];
  for (const phase of p.phases) for (const unit of phase.units) for (const a of unit) out.push(describeAction(a));
  return out;
}

export function describeAction(a: Action): string {
  switch (a.type) {
    case 'deletePod':
      return `delete ${a.pod.metadata.name} (${a.why})`;
    case 'createPod':
      return `create ${a.pod.metadata.name}${a.claims.create.length ? ` +claims ${a.claims.create.map((c) => c.metadata.name).join(',')}` : ''}`;
    case 'createMissingClaims':
      return `claims ${a.pod.metadata.name}`;
    case 'updatePod':
      return `update ${a.pod.metadata.name}`;
    case 'updateClaimRefs':
      return `refs ${a.pod.metadata.name}`;
  }
}

/**
 * An in-memory cluster: each step runs revisions + plan + status like a sync, then applies the
 * actions as the API would (created pods are Pending, deleted pods vanish unless `graceful`).
 */
export class World {
  set: Obj;
  pods = new Map<string, Obj>();
  claims = new Map<string, Obj>();
  revisions: Obj[] = [];
  graceful = false;
  now = NOW;
  private uid = 0;

  constructor(set: Obj) {
    this.set = structuredClone(set);
  }

  step(): string[] {
    const sorted = sortRevisions(this.revisions);
    const collision = this.set.status?.collisionCount ?? 0;
    const d = decideUpdateRevision(this.set, sorted, collision);
    let update: Obj;
    if (d.kind === 'existing') update = d.revision;
    else if (d.kind === 'rollback') update = Object.assign(d.revision, { revision: d.to });
    else {
      update = d.revision;
      update.metadata.uid = `rev-${++this.uid}`;
      this.revisions.push(update);
    }
    const current = findCurrentRevision(this.set, sorted, update);
    const p = planSync({ set: this.set, pods: [...this.pods.values()], claims: (n) => this.claims.get(n), currentRevision: current, updateRevision: update, collisionCount: collision, now: this.now });
    const done: string[] = [];
    for (const phase of p.phases) {
      for (const unit of phase.units) {
        for (const a of unit) {
          done.push(describeAction(a));
          this.apply(a);
        }
      }
    }
    this.set.status = statusToJson(completeRollingUpdate(this.set, p.status));
    return done;
  }

  private apply(a: Action): void {
    const name = a.pod.metadata.name;
    if (a.type === 'deletePod') {
      const p = this.pods.get(name);
      if (!p) return;
      if (this.graceful && p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded') p.metadata.deletionTimestamp = LONG_AGO;
      else this.pods.delete(name);
      return;
    }
    if (a.type === 'createPod' || a.type === 'createMissingClaims' || a.type === 'updatePod') {
      for (const c of a.claims.create) this.claims.set(c.metadata.name, { ...structuredClone(c), metadata: { ...c.metadata, uid: `uid-${c.metadata.name}-${++this.uid}` } });
    }
    if (a.type === 'createPod') {
      const p = structuredClone(a.pod);
      p.metadata.uid = `uid-${name}-${++this.uid}`;
      p.status = { phase: 'Pending' };
      this.pods.set(name, p);
    }
    if (a.type === 'updatePod') this.pods.set(name, structuredClone(a.desired));
    for (const u of a.refs) this.claims.set(u.claim.metadata.name, { ...u.claim, metadata: { ...u.claim.metadata, ownerReferences: u.ownerReferences } });
  }

  /** Marks pods Running and Ready (all, or the named ones). */
  ready(...names: string[]): void {
    for (const [n, p] of this.pods) {
      if (names.length && !names.includes(n)) continue;
      if (p.metadata.deletionTimestamp) continue;
      p.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: LONG_AGO }] };
    }
  }

  /** Finishes graceful deletions. */
  reap(): void {
    for (const [n, p] of this.pods) if (p.metadata.deletionTimestamp) this.pods.delete(n);
  }

  /** Runs steps, making every pod ready and reaping deletions after each, until nothing happens. Returns every action. */
  converge(max = 200): string[] {
    const all: string[] = [];
    let idle = 0;
    for (let i = 0; i < max; i++) {
      const done = this.step();
      all.push(...done);
      this.ready();
      this.reap();
      idle = done.length ? 0 : idle + 1;
      if (idle >= 2) return all;
    }
    throw new Error(`did not converge: ${all.join('; ')}`);
  }

  images(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [n, p] of [...this.pods].sort()) out[n] = p.spec.containers[0].image;
    return out;
  }

  revisionOfPod(name: string): string {
    return this.pods.get(name)?.metadata.labels['controller-revision-hash'];
  }
}
