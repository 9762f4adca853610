// The scheduler's incremental state and shortcuts checked against plain recomputation: a node's
// booked totals after random binds, status changes and deletes; the best node without a full sort;
// and the bound-volume shortcut that judges only the nodes a volume allows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Obj } from '../../src/api/resource.ts';
import { NodeBooks } from '../../src/scheduler/node-books.ts';
import { filterNode, hasRequiredAntiAffinity, requestedOn, type NodeState } from '../../src/scheduler/filters.ts';
import { bestNode, rankNodes } from '../../src/scheduler/score.ts';
import { claimSchedulingInputs, fitErrorMessage, sameClaimSchedulingInputs, schedulePod, type ClusterView } from '../../src/scheduler/plan.ts';
import { podRequests, quantityValue } from '../../src/scheduler/resources.ts';
import { parseQuantity } from '../../src/api/validation/quantity.ts';

// A small deterministic PRNG, so a failure can be replayed.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

const CPUS = ['100m', '250m', '1', '1500m', undefined];
const MEMS = ['64Mi', '1Gi', '500M', undefined];
const PHASES = ['Pending', 'Running', 'Running', 'Succeeded', 'Failed'];

function randomPod(r: () => number, uid: string, phase = pick(r, PHASES)): Obj {
  const requests: Obj = {};
  const cpu = pick(r, CPUS);
  const mem = pick(r, MEMS);
  if (cpu) requests.cpu = cpu;
  if (mem) requests.memory = mem;
  const spec: Obj = { containers: [{ name: 'c', image: 'x', resources: { requests } }] };
  if (r() < 0.2) spec.initContainers = [{ name: 'i', image: 'x', resources: { requests: { cpu: pick(r, ['2', '10m']) } } }];
  if (r() < 0.3) spec.affinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'a' } }, topologyKey: 'kubernetes.io/hostname' }] } };
  return { metadata: { name: uid, namespace: 'default', uid, labels: { app: pick(r, ['a', 'b']) } }, spec, status: { phase } };
}

const node = (name: string, extra: Obj = {}): Obj => ({
  metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(extra.labels ?? {}) } },
  spec: { taints: extra.taints },
  status: { conditions: [{ type: 'Ready', status: 'True' }], allocatable: { cpu: extra.cpu ?? '4', memory: extra.memory ?? '8Gi', pods: extra.pods ?? '10', 'ephemeral-storage': '10Gi' } },
});

test("a node's booked totals equal a recomputation after random binds, status changes and deletes", () => {
  for (let seed = 1; seed <= 20; seed++) {
    const r = rng(seed);
    const books = new NodeBooks(node('n0'));
    const expected = new Map<string, Obj>();
    let next = 0;
    for (let step = 0; step < 400; step++) {
      const uids = [...expected.keys()];
      const op = r();
      if (op < 0.4 || uids.length === 0) {
        const uid = `p${next++}`;
        const p = randomPod(r, uid);
        books.add(p);
        expected.set(uid, p);
      } else if (op < 0.75) {
        // A new version of a booked pod: its status moves on (possibly to terminal), or it is rewritten whole.
        const uid = pick(r, uids);
        const cur = expected.get(uid)!;
        const p = r() < 0.7 ? { ...cur, status: { phase: pick(r, PHASES) } } : randomPod(r, uid);
        books.add(p);
        expected.set(uid, p);
      } else {
        const uid = r() < 0.9 ? pick(r, uids) : 'never-booked';
        books.remove(uid);
        expected.delete(uid);
      }
      const recomputed = requestedOn({ node: books.node, pods: [...expected.values()] });
      assert.deepEqual({ ...books.requested }, recomputed, `seed ${seed} step ${step}`);
      assert.equal(books.size, expected.size);
      assert.deepEqual(new Set(books.pods), new Set(expected.values()), `seed ${seed} step ${step}: pods`);
      assert.deepEqual(new Set(books.withAntiAffinity), new Set([...expected.values()].filter(hasRequiredAntiAffinity)), `seed ${seed} step ${step}: anti-affinity`);
    }
  }
});

/** quantityValue's rounding, from the parsed fraction: up, as upstream's MilliValue/Value. */
function fresh(text: string, milli: boolean): number {
  const q = parseQuantity(text)!;
  const num = milli ? q.num * 1000n : q.num;
  return Number(num % q.den === 0n || num < 0n ? num / q.den : num / q.den + 1n);
}

test('quantities memoized by text read the same as parsed afresh', () => {
  const r = rng(7);
  for (let i = 0; i < 2000; i++) {
    const q = `${Math.floor(r() * 5000)}${pick(r, ['', 'm', 'Ki', 'Mi', 'Gi', 'k', 'M', 'G', 'e3', 'u'])}`;
    const milli = r() < 0.5;
    // The same text read both ways, in a random order, each against the arithmetic done afresh.
    for (const m of milli ? [true, false, true] : [false, true, false]) assert.equal(quantityValue(q, m), fresh(q, m), `${q} milli=${m}`);
  }
  assert.equal(quantityValue('100m', true), 100);
  assert.equal(quantityValue('100m', false), 1);
  assert.equal(quantityValue('1.5Gi', false), 1.5 * 2 ** 30);
  assert.equal(quantityValue(2, true), 2000);
  assert.deepEqual(podRequests(randomPod(rng(3), 'x')), podRequests(randomPod(rng(3), 'x')));
});

function randomCluster(r: () => number, n: number): NodeBooks[] {
  const out: NodeBooks[] = [];
  for (let i = 0; i < n; i++) {
    const taints = r() < 0.3 ? [{ key: 'soft', effect: 'PreferNoSchedule' }] : r() < 0.1 ? [{ key: 'hard', effect: 'NoSchedule' }] : undefined;
    const b = new NodeBooks(node(`n${String(i).padStart(2, '0')}`, { taints, labels: { zone: pick(r, ['a', 'b', 'c']) }, cpu: pick(r, ['2', '4']), pods: pick(r, ['3', '10']) }));
    const count = Math.floor(r() * 5);
    for (let j = 0; j < count; j++) b.add(randomPod(r, `n${i}-p${j}`, 'Running'));
    out.push(b);
  }
  return out;
}

test('the best node is the one a full ranking puts first', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const r = rng(seed);
    const nodes = randomCluster(r, 1 + Math.floor(r() * 12));
    const p = randomPod(r, `new-${seed}`, 'Pending');
    if (r() < 0.3) p.spec.affinity = { ...p.spec.affinity, nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] } }] } };
    if (r() < 0.3) p.spec.affinity = { ...p.spec.affinity, podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, podAffinityTerm: { labelSelector: { matchLabels: { app: 'b' } }, topologyKey: 'zone' } }] } };
    if (r() < 0.3) p.spec.tolerations = [{ key: 'soft', operator: 'Exists' }];
    assert.equal(bestNode(p, nodes, nodes), rankNodes(p, nodes, nodes)[0]!.name, `seed ${seed}`);
  }
});

test('a pod with a bound volume gets the same decision as judging every node would give', () => {
  // Volume node affinities of several shapes: one hostname (a local volume), several, a zone with an
  // extra requirement, two terms (no shortcut), matchFields only.
  const affinityFor = (r: () => number, names: string[]): Obj => {
    const req = (key: string, values: string[]) => ({ key, operator: 'In', values });
    switch (Math.floor(r() * 5)) {
      case 0:
        return { required: { nodeSelectorTerms: [{ matchExpressions: [req('kubernetes.io/hostname', [pick(r, names)])] }] } };
      case 1:
        return { required: { nodeSelectorTerms: [{ matchExpressions: [req('kubernetes.io/hostname', [pick(r, names), pick(r, names), 'gone'])] }] } };
      case 2:
        return { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'NotIn', values: [pick(r, names)] }, req('zone', [pick(r, ['a', 'b', 'c'])])] }] } };
      case 3:
        return { required: { nodeSelectorTerms: [{ matchExpressions: [req('zone', ['a'])] }, { matchExpressions: [req('kubernetes.io/hostname', [pick(r, names)])] }] } };
      default:
        return { required: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [pick(r, names)] }] }] } };
    }
  };
  let bound = 0;
  let unschedulable = 0;
  for (let seed = 1; seed <= 400; seed++) {
    const r = rng(seed);
    const nodes = randomCluster(r, 1 + Math.floor(r() * 8));
    const nodeAffinity = affinityFor(r, nodes.map((n) => n.node.metadata.name));
    const indexed = r() < 0.7;
    const v: ClusterView = {
      nodes,
      claim: (ns, name) => ({ metadata: { name, namespace: ns }, spec: { volumeName: 'pv' }, status: { phase: 'Bound' } }),
      volume: (name) => ({ metadata: { name }, spec: { nodeAffinity } }),
      storageClass: () => undefined,
      storageClasses: () => [],
      ...(indexed ? { nodesWithLabel: (key: string, value: string) => nodes.filter((n) => n.node.metadata.labels?.[key] === value) } : {}),
    };
    const p = randomPod(r, `new-${seed}`, 'Pending');
    p.spec.volumes = [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }];
    const decision = schedulePod(p, v);
    // Judging every node, as upstream's filters do.
    const results = nodes.map((n) => ({ n, res: filterNode(p, n, nodes, [nodeAffinity]) }));
    const fit = results.filter((x) => x.res.reasons.length === 0).map((x) => x.n);
    if (fit.length) {
      bound++;
      assert.deepEqual(decision, { kind: 'bind', node: bestNode(p, fit, nodes) }, `seed ${seed}`);
    } else {
      unschedulable++;
      const reasons = new Map(results.map((x) => [x.n.node.metadata.name, x.res.reasons]));
      const unresolvable = new Set(results.filter((x) => x.res.unresolvable).map((x) => x.n.node.metadata.name));
      assert.deepEqual(decision, { kind: 'unschedulable', message: fitErrorMessage(p, nodes.length, { reasons, unresolvable }) }, `seed ${seed}`);
    }
  }
  // Both paths were exercised.
  assert.ok(bound > 40 && unschedulable > 40, `${bound} bound, ${unschedulable} unschedulable`);
});

test('claims compared field by field agree with comparing their scheduling inputs as text', () => {
  const r = rng(11);
  const claim = (): Obj => {
    const c: Obj = { metadata: { name: 'c', namespace: 'default' }, spec: {}, status: {} };
    if (r() < 0.2) c.metadata.deletionTimestamp = pick(r, ['2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z']);
    const sel = pick(r, [undefined, 'n1', 'n2']);
    if (sel) c.metadata.annotations = { 'volume.kubernetes.io/selected-node': sel, other: pick(r, ['x', 'y']) };
    const cls = pick(r, [undefined, null, '', 'local-path']);
    if (cls !== undefined) c.spec.storageClassName = cls;
    const vol = pick(r, [undefined, 'pv-1', 'pv-2']);
    if (vol) c.spec.volumeName = vol;
    c.status.phase = pick(r, ['Pending', 'Bound', 'Lost']);
    return c;
  };
  let same = 0;
  for (let i = 0; i < 5000; i++) {
    const a = claim();
    const b = r() < 0.3 ? { ...a, status: { phase: pick(r, ['Pending', 'Bound']) } } : claim();
    const want = claimSchedulingInputs(a) === claimSchedulingInputs(b);
    if (want) same++;
    assert.equal(sameClaimSchedulingInputs(a, b), want, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  }
  assert.ok(same > 500, `${same} equal pairs`);
});
