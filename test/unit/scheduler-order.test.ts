// The spread-order shortcut checked against the full path: a NodeOrder kept across random
// bookings, removals and node replacements always lists the nodes as a fresh sort would, and a
// decision taken through it (first fitting node in spread order) is the decision filtering and
// scoring every node gives, for pods of every shape (preferences and PreferNoSchedule taints fall
// back to the full path; selectors, taints, full nodes, anti-affinity and delayed claims do not).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Obj } from '../../src/api/resource.ts';
import { NodeBooks } from '../../src/scheduler/node-books.ts';
import { NodeOrder } from '../../src/scheduler/node-order.ts';
import { compareSpread, ranksBySpreadOnly, spreadInto } from '../../src/scheduler/score.ts';
import { schedulePod, type ClusterView } from '../../src/scheduler/plan.ts';
import { Rng } from '../fuzz/rng.ts';

/** The project's seeded generator (mulberry32), as a plain function. */
function rng(seed: number): () => number {
  const g = new Rng(seed);
  return () => g.next();
}
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

function nodeObj(r: () => number, name: string, softTaints: boolean): Obj {
  const taints = softTaints && r() < 0.2 ? [{ key: 'soft', effect: 'PreferNoSchedule' }] : r() < 0.1 ? [{ key: 'hard', effect: 'NoSchedule' }] : undefined;
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, zone: pick(r, ['a', 'b', 'c']) } },
    spec: { taints },
    status: {
      conditions: [{ type: 'Ready', status: r() < 0.95 ? 'True' : 'False' }],
      allocatable: { cpu: pick(r, ['2', '4', '8']), memory: pick(r, ['4Gi', '8Gi']), pods: pick(r, ['4', '10', '110']), 'ephemeral-storage': '10Gi' },
    },
  };
}

function podObj(r: () => number, uid: string, phase = 'Running'): Obj {
  const requests: Obj = {};
  const cpu = pick(r, ['100m', '250m', '1', '1500m', undefined]);
  const mem = pick(r, ['64Mi', '1Gi', '500M', undefined]);
  if (cpu) requests.cpu = cpu;
  if (mem) requests.memory = mem;
  const spec: Obj = { containers: [{ name: 'c', image: 'x', resources: { requests } }] };
  if (r() < 0.1) spec.affinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'a' } }, topologyKey: 'kubernetes.io/hostname' }] } };
  return { metadata: { name: uid, namespace: 'default', uid, labels: { app: pick(r, ['a', 'b']) } }, spec, status: { phase } };
}

/** A pending pod of a random shape, some with what makes scores differ per node. */
function newPod(r: () => number, uid: string): Obj {
  const p = podObj(r, uid, 'Pending');
  if (r() < 0.15) p.spec.nodeSelector = { zone: pick(r, ['a', 'b']) };
  if (r() < 0.15) p.spec.tolerations = [{ key: pick(r, ['hard', 'soft']), operator: 'Exists' }];
  if (r() < 0.1) p.spec.affinity = { ...p.spec.affinity, nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] } }] } };
  if (r() < 0.1) p.spec.affinity = { ...p.spec.affinity, podAntiAffinity: { ...p.spec.affinity?.podAntiAffinity, preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, podAffinityTerm: { labelSelector: { matchLabels: { app: 'b' } }, topologyKey: 'zone' } }] } };
  if (r() < 0.3) p.spec.volumes = [{ name: 'data', persistentVolumeClaim: { claimName: `data-${uid}` } }];
  return p;
}

function views(nodes: NodeBooks[], order: NodeOrder, claims: Map<string, Obj>): { full: ClusterView; ordered: ClusterView } {
  const full: ClusterView = {
    nodes,
    claim: (_ns, name) => claims.get(name),
    volume: () => undefined,
    storageClass: (name) => (name === 'local' ? { metadata: { name }, volumeBindingMode: 'WaitForFirstConsumer' } : undefined),
    storageClasses: () => [],
  };
  return { full, ordered: { ...full, firstBySpread: (accept) => order.first(accept) } };
}

test('a NodeOrder kept through bookings and node changes lists the nodes as sorting afresh does', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const r = rng(seed);
    const nodes = Array.from({ length: 1 + Math.floor(r() * 30) }, (_, i) => new NodeBooks(nodeObj(r, `n${String(i).padStart(2, '0')}`, true)));
    const order = new NodeOrder();
    order.reset(nodes);
    const booked: { uid: string; on: NodeBooks }[] = [];
    for (let step = 0; step < 300; step++) {
      const op = r();
      if (op < 0.5 || booked.length === 0) {
        const on = pick(r, nodes);
        const uid = `s${seed}-p${step}`;
        on.add(podObj(r, uid, pick(r, ['Running', 'Running', 'Succeeded'])));
        booked.push({ uid, on });
      } else if (op < 0.7) {
        const b = pick(r, booked);
        b.on.add(podObj(r, b.uid, pick(r, ['Running', 'Failed'])));
      } else if (op < 0.9) {
        const i = Math.floor(r() * booked.length);
        booked[i]!.on.remove(booked[i]!.uid);
        booked.splice(i, 1);
      } else {
        const n = pick(r, nodes);
        n.node = nodeObj(r, n.node.metadata.name, true);
      }
      // Several changes may pile up between two reads, as between two decisions.
      if (r() < 0.5) continue;
      const fresh = nodes.map((b) => ({ b, s: spreadInto({ name: '', pods: 0, utilisation: 0 }, b) })).sort((x, y) => compareSpread(x.s, y.s));
      assert.deepEqual(order.ordered().map((b) => b.node.metadata.name), fresh.map((x) => x.b.node.metadata.name), `seed ${seed} step ${step}`);
    }
  }
});

test('deciding through the spread order gives the decision judging every node gives', () => {
  const kinds = new Map<string, number>();
  let shortcut = 0;
  for (let seed = 1; seed <= 60; seed++) {
    const r = rng(seed);
    const softTaints = r() < 0.3;
    const nodes = Array.from({ length: 1 + Math.floor(r() * 25) }, (_, i) => new NodeBooks(nodeObj(r, `n${String(i).padStart(2, '0')}`, softTaints)));
    const order = new NodeOrder();
    order.reset(nodes);
    const claims = new Map<string, Obj>();
    const { full, ordered } = views(nodes, order, claims);
    for (let step = 0; step < 150; step++) {
      const uid = `s${seed}-p${step}`;
      const p = newPod(r, uid);
      for (const v of p.spec.volumes ?? []) {
        const selected = r() < 0.4 ? pick(r, [...nodes.map((n) => n.node.metadata.name), 'gone']) : undefined;
        claims.set(v.persistentVolumeClaim.claimName, { metadata: { name: v.persistentVolumeClaim.claimName, namespace: 'default', annotations: selected ? { 'volume.kubernetes.io/selected-node': selected } : undefined }, spec: { storageClassName: 'local' }, status: { phase: 'Pending' } });
      }
      const want = schedulePod(p, full);
      assert.deepEqual(schedulePod(p, ordered), want, `seed ${seed} step ${step}`);
      kinds.set(want.kind, (kinds.get(want.kind) ?? 0) + 1);
      if (ranksBySpreadOnly(p, nodes)) shortcut++;
      // The pod goes where it was decided (as the scheduler books it), now and then a node changes.
      if (want.kind !== 'unschedulable') nodes.find((n) => n.node.metadata.name === want.node)!.add({ ...p, spec: { ...p.spec, nodeName: want.node }, status: { phase: 'Running' } });
      if (r() < 0.05) {
        const n = pick(r, nodes);
        n.node = nodeObj(r, n.node.metadata.name, softTaints);
      }
    }
  }
  // Every outcome and both paths were exercised.
  for (const kind of ['bind', 'selectNode', 'waitForClaims', 'unschedulable']) assert.ok((kinds.get(kind) ?? 0) > 20, `${kind}: ${kinds.get(kind)}`);
  assert.ok(shortcut > 2000, `${shortcut} decisions by the spread order`);
});
