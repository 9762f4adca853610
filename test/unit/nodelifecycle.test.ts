// The node lifecycle, taint eviction and pod GC decisions, with a fake clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideNodeHealth, type NodeHealth } from '../../src/controllers/nodelifecycle/health.ts';
import { noScheduleTaintChanges, swapTaints } from '../../src/controllers/nodelifecycle/taints.ts';
import { computeZoneState, planDisruption, zoneKey, zoneRate, type ZoneState } from '../../src/controllers/nodelifecycle/zones.ts';
import { RateLimitedTimedQueue } from '../../src/controllers/nodelifecycle/rate-limited-queue.ts';
import { DEFAULT_NODE_LIFECYCLE_OPTIONS } from '../../src/controllers/nodelifecycle/options.ts';
import { evictionDecision, minTolerationMs } from '../../src/controllers/tainteviction/tolerations.ts';
import { missingNodes, outOfServiceTerminating, terminatedToDelete, unscheduledTerminating } from '../../src/controllers/podgc/select.ts';
import { addDefaultTolerations } from '../../src/api/kinds/pod.ts';
import { parseNodeLifecycleFlags } from '../../src/cli/node-lifecycle-flags.ts';

const T0 = Date.parse('2025-01-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const micro = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
const opts = { gracePeriodMs: 50_000, startupGracePeriodMs: 60_000 };

function node(ready: string | undefined, heartbeatMs: number, extra: { conditions?: object[] } = {}) {
  const conditions = [
    { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', lastHeartbeatTime: iso(heartbeatMs), lastTransitionTime: iso(T0) },
    ...(ready ? [{ type: 'Ready', status: ready, reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: iso(heartbeatMs), lastTransitionTime: iso(T0) }] : []),
    ...(extra.conditions ?? []),
  ];
  return { metadata: { name: 'n1', uid: 'u1', creationTimestamp: iso(T0) }, status: { conditions } };
}
const lease = (renewMs: number) => ({ metadata: { name: 'n1', namespace: 'kube-node-lease' }, spec: { renewTime: micro(renewMs) } });

test('node health: heartbeats and lease renewals keep a node alive; silence past the grace makes it Unknown', () => {
  // First sight: alive from now, nothing to write.
  let d = decideNodeHealth(undefined, node('True', T0), lease(T0), T0, opts);
  assert.equal(d.conditions, undefined);
  assert.equal(d.health.probeMs, T0);
  let h: NodeHealth = d.health;
  // Only the lease moves: still alive at T0 + 90 s (renewed at +45 s).
  d = decideNodeHealth(h, node('True', T0), lease(T0 + 45_000), T0 + 45_000, opts);
  assert.equal(d.health.probeMs, T0 + 45_000);
  h = d.health;
  d = decideNodeHealth(h, node('True', T0), lease(T0 + 45_000), T0 + 95_000, opts);
  assert.equal(d.conditions, undefined, 'exactly at the grace: not yet');
  // Past the grace: Ready and the pressure conditions Unknown, PIDPressure and DiskPressure added as never updated.
  d = decideNodeHealth(h, node('True', T0), lease(T0 + 45_000), T0 + 95_001, opts);
  assert.ok(d.conditions);
  assert.equal(d.observedReady.status, 'True');
  assert.equal(d.currentReady!.status, 'Unknown');
  const byType = Object.fromEntries(d.conditions!.map((c) => [c.type, c]));
  assert.deepEqual([byType.Ready.status, byType.Ready.reason, byType.Ready.message], ['Unknown', 'NodeStatusUnknown', 'Kubelet stopped posting node status.']);
  assert.equal(byType.Ready.lastHeartbeatTime, iso(T0), 'the heartbeat time is left as the kubelet wrote it');
  assert.equal(byType.Ready.lastTransitionTime, iso(T0 + 95_001 - 1));
  assert.equal(byType.MemoryPressure.reason, 'NodeStatusUnknown');
  assert.deepEqual([byType.DiskPressure.status, byType.DiskPressure.reason, byType.DiskPressure.message], ['Unknown', 'NodeStatusNeverUpdated', 'Kubelet never posted node status.']);
  assert.equal(byType.DiskPressure.lastHeartbeatTime, iso(T0), 'never-posted conditions take the creation time as heartbeat');
  assert.ok(byType.PIDPressure);
  // Once written, the next pass has nothing more to write (already Unknown).
  const written = { ...node('True', T0), status: { conditions: d.conditions } };
  const again = decideNodeHealth(d.health, written, lease(T0 + 45_000), T0 + 100_000, opts);
  assert.equal(again.conditions, undefined);
  assert.equal(again.observedReady.status, 'Unknown');
  // The kubelet posts again (new heartbeat): alive.
  const back = decideNodeHealth(again.health, node('True', T0 + 101_000), lease(T0 + 45_000), T0 + 101_000, opts);
  assert.equal(back.health.probeMs, T0 + 101_000);
  assert.equal(back.currentReady!.status, 'True');
});

test('node health: a node that never posted Ready gets the startup grace from its creation', () => {
  const fresh = node(undefined, T0);
  let d = decideNodeHealth(undefined, fresh, undefined, T0 + 60_000, opts);
  assert.equal(d.conditions, undefined);
  assert.equal(d.currentReady, undefined);
  d = decideNodeHealth(d.health, fresh, undefined, T0 + 60_001, opts);
  const ready = d.conditions!.find((c) => c.type === 'Ready')!;
  assert.deepEqual([ready.status, ready.reason], ['Unknown', 'NodeStatusNeverUpdated']);
  assert.equal(d.observedReady.status, 'Unknown');
  // A lease alone keeps a node that never posted status alive, as upstream.
  const leased = decideNodeHealth(undefined, fresh, lease(T0 + 59_000), T0 + 70_000, opts);
  assert.equal(leased.conditions, undefined);
});

test('NoSchedule taints follow conditions and cordon; other taints are left alone', () => {
  const n = {
    spec: { unschedulable: true, taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }, { key: 'dedicated', value: 'db', effect: 'NoSchedule' }, { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }] },
    status: { conditions: [{ type: 'Ready', status: 'Unknown' }, { type: 'DiskPressure', status: 'True' }, { type: 'MemoryPressure', status: 'False' }, { type: 'NetworkUnavailable', status: 'True' }] },
  };
  const { add, remove } = noScheduleTaintChanges(n);
  assert.deepEqual(add.map((t) => t.key).sort(), ['node.kubernetes.io/disk-pressure', 'node.kubernetes.io/network-unavailable', 'node.kubernetes.io/unreachable', 'node.kubernetes.io/unschedulable']);
  assert.deepEqual(remove, [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }]);
  const ready = { spec: { taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }] }, status: { conditions: [{ type: 'Ready', status: 'True' }] } };
  assert.deepEqual(noScheduleTaintChanges(ready), { add: [], remove: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }] });
  const swapped = swapTaints(n.spec.taints, [{ key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }], remove, T0);
  assert.deepEqual(swapped, [
    { key: 'dedicated', value: 'db', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule', timeAdded: iso(T0) },
  ]);
  assert.equal(swapTaints(swapped, [{ key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }], [], T0 + 5), undefined, 'nothing to change');
});

test('zone states, rates and the master disruption mode', () => {
  const t = 0.55;
  assert.equal(computeZoneState(['True', 'True'], t).state, 'Normal');
  assert.equal(computeZoneState(['Unknown'], t).state, 'FullDisruption');
  assert.equal(computeZoneState([undefined, 'False'], t).state, 'FullDisruption');
  assert.equal(computeZoneState(['True', 'Unknown', 'Unknown'], t).state, 'Normal', 'two down never makes a partial disruption');
  assert.equal(computeZoneState(['True', 'Unknown', 'Unknown', 'False'], t).state, 'PartialDisruption');
  assert.equal(computeZoneState(['True', 'True', 'Unknown', 'Unknown', 'False', 'True'], t).state, 'Normal', '3 of 6 < 55 %');
  const o = DEFAULT_NODE_LIFECYCLE_OPTIONS;
  assert.equal(zoneRate('Normal', 3, o), 0.1);
  assert.equal(zoneRate('PartialDisruption', 50, o), 0);
  assert.equal(zoneRate('PartialDisruption', 51, o), 0.01);
  assert.equal(zoneRate('FullDisruption', 3, o), 0.1);
  assert.equal(zoneKey({ metadata: { labels: { 'topology.kubernetes.io/region': 'r', 'topology.kubernetes.io/zone': 'z' } } }), 'r:\u0000:z');
  assert.equal(zoneKey({ metadata: { labels: { 'failure-domain.beta.kubernetes.io/zone': 'z' } } }), ':\u0000:z');
  assert.equal(zoneKey({ metadata: {} }), '');

  const zones = (m: Record<string, (string | undefined)[]>) => new Map(Object.entries(m));
  let states = new Map<string, ZoneState>();
  // First pass: the zone is new (Initial), then gets its rate.
  let p = planDisruption(states, zones({ a: ['True', 'True'] }), o);
  assert.equal(p.kind, 'rates');
  assert.deepEqual([...(p as { rates: Map<string, number> }).rates], [['a', 0.1]]);
  states = p.states;
  // One node of a two-node cluster down: Normal, nothing changes.
  p = planDisruption(states, zones({ a: ['True', 'Unknown'] }), o);
  assert.deepEqual([p.kind, [...(p as { rates: Map<string, number> }).rates]], ['rates', []]);
  // Every zone fully down: master disruption.
  p = planDisruption(p.states, zones({ a: ['Unknown', 'Unknown'], b: ['False'] }), o);
  assert.equal(p.kind, 'enter-master-disruption');
  assert.deepEqual([...p.states.values()], ['FullDisruption', 'FullDisruption']);
  // Still all down: nothing.
  assert.equal(planDisruption(p.states, zones({ a: ['Unknown', 'Unknown'], b: ['False'] }), o).kind, 'none');
  // One node back: exit, every zone to its own state's rate (b stays fully down: normal rate).
  const exit = planDisruption(p.states, zones({ a: ['True', 'Unknown'], b: ['False'] }), o);
  assert.equal(exit.kind, 'exit-master-disruption');
  assert.deepEqual([...exit.states], [['a', 'Normal'], ['b', 'FullDisruption']]);
  assert.deepEqual([...(exit as { rates: Map<string, number> }).rates], [['a', 0.1], ['b', 0.1]]);
  // A small zone partly down stops tainting.
  const partial = planDisruption(new Map([['a', 'Normal' as ZoneState], ['b', 'Normal' as ZoneState]]), zones({ a: ['True', 'False', 'False', 'False'], b: ['True'] }), o);
  assert.deepEqual([...(partial as { rates: Map<string, number> }).rates], [['a', 0]]);
});

test('the tainting queue takes one node per token, in order, and a zero rate takes none', async () => {
  let now = T0;
  const q = new RateLimitedTimedQueue(0.1, now);
  assert.equal(q.add('a', 'ua', now), true);
  assert.equal(q.add('a', 'ua', now), false);
  q.add('b', 'ub', now);
  const taken: string[] = [];
  const take = async (v: string) => (taken.push(v), { done: true as const });
  await q.try(() => now, take);
  assert.deepEqual(taken, ['a'], 'burst 1');
  now += 5_000;
  await q.try(() => now, take);
  assert.deepEqual(taken, ['a']);
  now += 5_000;
  await q.try(() => now, take);
  assert.deepEqual(taken, ['a', 'b'], 'the next one 10 s later at 0.1/s');
  q.add('c', 'uc', now);
  q.swapLimiter(0, now);
  now += 100_000;
  await q.try(() => now, take);
  assert.deepEqual(q.values(), ['c']);
  q.swapLimiter(0.1, now);
  await q.try(() => now, async () => ({ done: false, retryMs: 50 }));
  assert.deepEqual(q.values(), ['c'], 'a failed value stays queued');
});

test('taint eviction: untolerated now, tolerated for the shortest tolerationSeconds, forever without one', () => {
  const unreachable = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' };
  const notReady = { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' };
  const oos = { key: 'node.kubernetes.io/out-of-service', value: 'nodeshutdown', effect: 'NoExecute' };
  const defaults = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 },
  ];
  assert.deepEqual(evictionDecision([], defaults), { kind: 'cancel' });
  assert.deepEqual(evictionDecision([unreachable], defaults), { kind: 'after', ms: 5_000 });
  assert.deepEqual(evictionDecision([unreachable, notReady], defaults), { kind: 'after', ms: 5_000 });
  assert.deepEqual(evictionDecision([unreachable, oos], defaults), { kind: 'now' });
  assert.deepEqual(evictionDecision([unreachable], undefined), { kind: 'now' });
  assert.deepEqual(evictionDecision([unreachable], [{ operator: 'Exists' }]), { kind: 'cancel' }, 'a toleration without seconds tolerates forever');
  assert.deepEqual(evictionDecision([unreachable], [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', tolerationSeconds: -3 }]), { kind: 'after', ms: 0 });
  assert.deepEqual(evictionDecision([oos], [{ key: 'node.kubernetes.io/out-of-service', operator: 'Equal', value: 'other', effect: 'NoExecute' }]), { kind: 'now' }, 'values must match with Equal');
  assert.equal(minTolerationMs([{ tolerationSeconds: 30 }, {}, { tolerationSeconds: 10 }]), 10_000);
});

test('DefaultTolerationSeconds adds what the pod does not tolerate, with the configured seconds', () => {
  const spec: { tolerations?: object[] } = {};
  addDefaultTolerations(spec, 7, 9);
  assert.deepEqual(spec.tolerations, [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 7 },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 9 },
  ]);
  const own = { tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists' }] };
  addDefaultTolerations(own);
  assert.deepEqual(own.tolerations.map((t: { key?: string }) => t.key), ['node.kubernetes.io/unreachable', 'node.kubernetes.io/not-ready']);
  const all = { tolerations: [{ operator: 'Exists', effect: 'NoExecute' }] };
  addDefaultTolerations(all);
  assert.equal(all.tolerations.length, 1, 'an empty key covers both');
  const noSchedule = { tolerations: [{ operator: 'Exists', effect: 'NoSchedule' }] };
  addDefaultTolerations(noSchedule);
  assert.equal(noSchedule.tolerations.length, 3, 'a NoSchedule toleration does not count');
});

test('pod GC selection', () => {
  const pod = (name: string, o: { phase?: string; reason?: string; created?: number; node?: string; deleting?: boolean }) => ({
    metadata: { name, namespace: 'ns', creationTimestamp: iso(o.created ?? T0), ...(o.deleting ? { deletionTimestamp: iso(T0) } : {}) },
    spec: { nodeName: o.node },
    status: { phase: o.phase ?? 'Running', reason: o.reason },
  });
  const pods = [
    pod('old-failed', { phase: 'Failed', created: T0 }),
    pod('evicted', { phase: 'Failed', reason: 'Evicted', created: T0 + 5000 }),
    pod('b-done', { phase: 'Succeeded', created: T0 + 1000 }),
    pod('a-done', { phase: 'Succeeded', created: T0 + 1000 }),
    pod('running', { created: T0 }),
  ];
  assert.deepEqual(terminatedToDelete(pods, 2).map((p) => p.metadata.name), ['evicted', 'old-failed']);
  assert.deepEqual(terminatedToDelete(pods, 1).map((p) => p.metadata.name), ['evicted', 'old-failed', 'a-done']);
  assert.deepEqual(terminatedToDelete(pods, 4), []);
  assert.deepEqual(terminatedToDelete(pods, 0), [], '0 disables');

  const nodes: Record<string, object> = {
    down: { spec: { taints: [{ key: 'node.kubernetes.io/out-of-service', value: 'nodeshutdown', effect: 'NoSchedule' }] }, status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } },
    up: { spec: { taints: [{ key: 'node.kubernetes.io/out-of-service', effect: 'NoExecute' }] }, status: { conditions: [{ type: 'Ready', status: 'True' }] } },
    plain: { status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } },
  };
  const onNodes = [pod('t-down', { node: 'down', deleting: true }), pod('r-down', { node: 'down' }), pod('t-up', { node: 'up', deleting: true }), pod('t-plain', { node: 'plain', deleting: true })];
  assert.deepEqual(outOfServiceTerminating(onNodes, (n) => nodes[n]).map((p) => p.metadata.name), ['t-down']);
  assert.deepEqual([...missingNodes([...onNodes, pod('x', { node: 'gone' }), pod('y', {})], new Set(Object.keys(nodes)))], ['gone']);
  assert.deepEqual(unscheduledTerminating([pod('u', { deleting: true }), pod('s', { deleting: true, node: 'up' }), pod('p', {})]).map((p) => p.metadata.name), ['u']);
});

test('node lifecycle flags: defaults, Go durations and refusals', () => {
  const d = parseNodeLifecycleFlags({});
  assert.deepEqual([d.nodeLifecycle.nodeMonitorPeriodMs, d.nodeLifecycle.nodeMonitorGracePeriodMs, d.nodeLifecycle.nodeStartupGracePeriodMs], [5000, 50000, 60000]);
  assert.deepEqual([d.terminatedPodGcThreshold, d.admission.defaultNotReadyTolerationSeconds, d.admission.defaultUnreachableTolerationSeconds], [12500, 300, 300]);
  const f = parseNodeLifecycleFlags({ 'node-monitor-grace-period': '1m30s', 'node-eviction-rate': '0.5', 'default-unreachable-toleration-seconds': '5' });
  assert.equal(f.nodeLifecycle.nodeMonitorGracePeriodMs, 90_000);
  assert.equal(f.nodeLifecycle.evictionRate, 0.5);
  assert.equal(f.admission.defaultUnreachableTolerationSeconds, 5);
  assert.throws(() => parseNodeLifecycleFlags({ 'node-monitor-period': '5' }), /invalid --node-monitor-period: invalid duration "5"/);
  assert.throws(() => parseNodeLifecycleFlags({ 'node-monitor-grace-period': '0s' }), /must be longer than 0/);
  assert.throws(() => parseNodeLifecycleFlags({ 'large-cluster-size-threshold': '2.5' }), /a whole number/);
  assert.throws(() => parseNodeLifecycleFlags({ 'node-eviction-rate': 'fast' }), /invalid --node-eviction-rate fast/);
});
