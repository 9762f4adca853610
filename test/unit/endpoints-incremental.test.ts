// The endpoints controllers' incremental machinery (per-pod memo, membership index, cheap
// comparisons) must give exactly what the pure functions compute from scratch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Obj } from '../../src/api/resource.ts';
import {
  compareAddresses,
  computeSubsets,
  desiredEndpoints,
  desiredFromSorted,
  desiredFromSubsets,
  endpointsObject,
  endpointsUpToDate,
  podEntry,
  sameDesired,
  sameEndpointState,
  subsetsFromSorted,
} from '../../src/controllers/endpoints/compute.ts';
import type { Entry } from '../../src/controllers/endpoints/compute.ts';
import { jsonEqual } from '../../src/controllers/endpoints/equal.ts';
import { PodMemo } from '../../src/controllers/endpoints/pod-memo.ts';
import { ServicePods } from '../../src/controllers/endpoints/service-pods.ts';
import { TriggerTimeTracker } from '../../src/controllers/endpoints/trigger-time.ts';
import { compareSliceEntries, desiredGroups, groupsFromSorted, planSlices, podSliceEntry } from '../../src/controllers/endpointslice/reconcile.ts';
import type { SliceEntry } from '../../src/controllers/endpointslice/reconcile.ts';

const svc = (o: { ports?: Obj[]; clusterIP?: string; publishNotReady?: boolean; selector?: Record<string, string> } = {}): Obj => ({
  metadata: { name: 'web', namespace: 'default', uid: 'svc-uid', labels: { app: 'web' }, creationTimestamp: '2024-01-01T00:00:00Z' },
  spec: { selector: o.selector ?? { app: 'web' }, clusterIP: o.clusterIP ?? 'None', ports: o.ports ?? [{ name: 'http', port: 80, targetPort: 'web' }], publishNotReadyAddresses: o.publishNotReady },
});

interface PodOpts {
  ip?: string;
  ready?: boolean;
  deleting?: boolean;
  phase?: string;
  app?: string;
  port?: number;
  uid?: string;
  t?: string;
}

function pod(i: number, o: PodOpts = {}): Obj {
  const name = `web-${i}`;
  return {
    metadata: { name, namespace: 'default', uid: o.uid ?? `uid-${i}`, labels: { app: o.app ?? 'web' }, creationTimestamp: '2024-01-01T00:00:01Z', deletionTimestamp: o.deleting ? '2024-01-01T00:00:09Z' : undefined },
    spec: { hostname: name, subdomain: 'web', nodeName: `node-${i % 3}`, containers: [{ name: 'c', ports: o.port ? [{ name: 'web', containerPort: o.port }] : [] }] },
    status: {
      phase: o.phase ?? 'Running',
      podIP: o.ip,
      podIPs: o.ip ? [{ ip: o.ip }] : undefined,
      conditions: [{ type: 'Ready', status: o.ready ? 'True' : 'False', lastTransitionTime: o.t ?? '2024-01-01T00:00:05Z' }],
    },
  };
}

/** A small deterministic PRNG, so that a failure can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

const keyed = (pods: Iterable<Obj>) => new Map([...pods].map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, p]));

test('jsonEqual: key order and null/absent do not matter; skip ignores one top-level key', () => {
  assert.equal(jsonEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }), true);
  assert.equal(jsonEqual({ a: 1, n: null }, { a: 1 }), true);
  assert.equal(jsonEqual({ a: 1 }, { a: 1, b: 0 }), false);
  assert.equal(jsonEqual({ a: 1, b: 0 }, { a: 1 }), false);
  assert.equal(jsonEqual([1, 2], [2, 1]), false);
  assert.equal(jsonEqual({ a: [] }, { a: {} }), false);
  assert.equal(jsonEqual('1', 1), false);
  assert.equal(jsonEqual({ a: 1, rv: '1' }, { a: 1, rv: '2' }, 'rv'), true);
  assert.equal(jsonEqual({ a: 1, x: { rv: '1' } }, { a: 1, x: { rv: '2' } }, 'rv'), false, 'skip is top-level only');
});

/** Random pod churn for one service: the memo paths against the from-scratch functions. */
function churn(s: Obj, seed: number, steps: number, mixedPorts: boolean) {
  const r = rng(seed);
  const pods = new Map<string, Obj>();
  const epMemo = new PodMemo<Entry>((a, b) => compareAddresses(a.address, b.address));
  const sliceMemo = new PodMemo<SliceEntry>(compareSliceEntries);
  // The same, fed only the changes the membership index records, as the controllers do.
  const index = new ServicePods(() => [...pods.values()]);
  index.serviceChanged(s);
  const epMemoInc = new PodMemo<Entry>((a, b) => compareAddresses(a.address, b.address));
  const sliceMemoInc = new PodMemo<SliceEntry>(compareSliceEntries);
  const full = new TriggerTimeTracker();
  const inc = new TriggerTimeTracker();
  for (let step = 0; step < steps; step++) {
    // A burst: a few pods change, appear or go.
    for (let k = r(6); k >= 0; k--) {
      const i = r(40);
      const key = `default/web-${i}`;
      if (r(10) === 0) {
        const gone = pods.get(key);
        pods.delete(key);
        if (gone) index.podDeleted(gone);
      } else if (r(4) === 0 && pods.has(key)) {
        // A status detail endpoints do not show (and a new Ready transition time): a new object all the same.
        const was = pods.get(key)!;
        const p = { ...was, status: { ...was.status, conditions: was.status.conditions.map((c: Obj) => ({ ...c, lastTransitionTime: `2024-01-01T01:${String(r(60)).padStart(2, '0')}:00Z` })), startTime: `t${step}` } };
        pods.set(key, p);
        index.podChanged(p);
      } else {
        const o: PodOpts = {
          // Few distinct IPs, so that equal IPs (host-network pods) and IP changes happen too.
          // (Two pods never share a uid, so the repacking never has to choose between them.)
          ip: r(8) === 0 ? undefined : `10.0.${r(2)}.${r(30)}`,
          ready: r(2) === 0,
          deleting: r(12) === 0,
          phase: r(15) === 0 ? 'Succeeded' : 'Running',
          app: r(10) === 0 ? 'other' : 'web',
          port: mixedPorts ? 8080 + r(2) : 8080,
        };
        o.t = `2024-01-01T00:${String(r(60)).padStart(2, '0')}:00Z`;
        const p = pod(i, o);
        pods.set(key, p);
        index.podChanged(p);
      }
    }
    const list = [...pods.values()];
    const want = computeSubsets(s, list);
    assert.deepEqual(subsetsFromSorted(epMemo.values(s, pods, (p) => podEntry(s, p))), want, `endpoints, seed ${seed} step ${step}`);
    const wantGroups = [...desiredGroups(s, list)];
    assert.deepEqual([...groupsFromSorted(sliceMemo.values(s, pods, (p) => podSliceEntry(s, p)))], wantGroups, `slices, seed ${seed} step ${step}`);
    // Skipping a step now and then, as a sync that never ran: the changes pile up meanwhile.
    if (r(4) === 0) continue;
    const members = index.podsOf('default/web');
    const changed = index.changes('default/web');
    assert.deepEqual(subsetsFromSorted(epMemoInc.values(s, members, (p) => podEntry(s, p), changed)), want, `endpoints from changes, seed ${seed} step ${step}`);
    assert.deepEqual([...groupsFromSorted(sliceMemoInc.values(s, members, (p) => podSliceEntry(s, p), changed))], wantGroups, `slices from changes, seed ${seed} step ${step}`);
    const selected = keyed(list.filter((p) => p.metadata.labels.app === 'web'));
    assert.equal(inc.compute('default/web', s, members, changed), full.compute('default/web', s, selected), `trigger time from changes, seed ${seed} step ${step}`);
    index.changesDone('default/web');
  }
}

test('memoised endpoints and slice groups equal the from-scratch ones under random churn', () => {
  for (let seed = 1; seed <= 12; seed++) {
    churn(svc(), seed, 60, false);
    churn(svc(), 100 + seed, 60, true);
    churn(svc({ publishNotReady: true }), 200 + seed, 40, seed % 2 === 0);
    churn(svc({ ports: [] }), 300 + seed, 40, false);
    churn(svc({ clusterIP: '10.96.0.9', ports: [{ name: 'a', port: 80, targetPort: 'web' }, { name: 'b', port: 81, targetPort: 9000, protocol: 'UDP' }] }), 400 + seed, 40, true);
  }
});

test('memo: recomputes only changed pods, same array while nothing changed, a new service object forgets', () => {
  const s = svc();
  let computed = 0;
  const memo = new PodMemo<Entry>((a, b) => compareAddresses(a.address, b.address));
  const compute = (x: Obj, p: Obj) => {
    computed++;
    return podEntry(x, p);
  };
  const pods = keyed(Array.from({ length: 50 }, (_, i) => pod(i, { ip: `10.0.0.${100 - i}`, ready: true, port: 8080 })));
  const first = memo.values(s, pods, (p) => compute(s, p));
  assert.equal(computed, 50);
  assert.deepEqual(
    first.map((e) => e.address.ip),
    [...first.map((e) => e.address.ip)].sort(),
  );
  assert.equal(memo.values(s, pods, (p) => compute(s, p)), first);
  assert.equal(computed, 50);
  pods.set('default/web-7', pod(7, { ip: '10.0.0.93', ready: false, port: 8080 }));
  pods.delete('default/web-8');
  pods.set('default/web-99', pod(99, { ip: '10.0.0.1', ready: true, port: 8080 }));
  const next = memo.values(s, pods, (p) => compute(s, p));
  assert.equal(computed, 52);
  assert.equal(next.length, 50);
  assert.equal(next[0].address.ip, '10.0.0.1');
  assert.equal(next.find((e) => e.address.targetRef.name === 'web-7')!.ready, false);
  const s2 = svc({ publishNotReady: true });
  memo.values(s2, pods, (p) => compute(s2, p));
  assert.equal(computed, 102);
});

test('subsetsFromSorted: one subset when ports agree; the full repacking otherwise', () => {
  const s = svc({ clusterIP: '10.96.0.9', ports: [{ name: 'b', port: 81, targetPort: 'web' }, { name: 'a', port: 80, targetPort: 'web' }] });
  const pods = [pod(1, { ip: '10.0.0.2', ready: true, port: 8080 }), pod(2, { ip: '10.0.0.1', port: 8080 }), pod(3, { ip: '10.0.0.3', ready: true, port: 8080 })];
  const sorted = (ps: Obj[]) => ps.map((p) => podEntry(s, p)!).sort((a, b) => compareAddresses(a.address, b.address));
  const one = subsetsFromSorted(sorted(pods));
  assert.equal(one.length, 1);
  assert.deepEqual(
    one[0].ports.map((p: Obj) => p.name),
    ['a', 'b'],
  );
  assert.deepEqual(one, computeSubsets(s, pods));
  const mixed = [...pods, pod(4, { ip: '10.0.0.4', ready: true, port: 9090 })];
  assert.deepEqual(subsetsFromSorted(sorted(mixed)), computeSubsets(s, mixed));
  assert.equal(subsetsFromSorted(sorted(mixed)).length, 2);
  assert.deepEqual(subsetsFromSorted([]), []);
});

test('desiredFromSorted: what subsetsFromSorted and truncation give, around and far past the address limit', () => {
  // The high bits of the LCG step: its low bits repeat with short periods.
  const lcg = rng(5);
  const r = (n: number) => Math.floor((lcg(2 ** 32) / 2 ** 32) * n);
  const s = svc({ clusterIP: '10.96.0.9' });
  let truncated = 0;
  let repacked = 0;
  const sizes = [0, 1, 2, 999, 1000, 1001, 1500, 2600];
  for (let round = 0; round < 64; round++) {
    // Sizes around the limit of 1,000 and well past it, with every share of ready pods.
    const n = sizes[round % sizes.length]!;
    const readyOneIn = 1 + (Math.floor(round / sizes.length) % 4);
    const pods: Obj[] = [];
    for (let i = 0; i < n; i++) {
      const ip = `10.${r(3)}.${Math.floor(i / 250)}.${i % 250}`;
      const ready = readyOneIn === 1 ? r(50) !== 0 : r(readyOneIn) === 0;
      pods.push(pod(i, { ip, ready, port: round % 5 === 0 && r(200) === 0 ? 9090 : 8080 }));
    }
    const entries = pods.map((p) => podEntry(s, p)!).sort((a, b) => compareAddresses(a.address, b.address));
    // Now and then an address listed twice (one pod twice), which only the full repacking handles.
    if (n > 0 && round % 7 === 0) entries.splice(1, 0, entries[0]!);
    const want = desiredFromSubsets(s, subsetsFromSorted(entries));
    const got = desiredFromSorted(s, entries);
    assert.deepEqual(got, want, `round ${round}: ${n} pods`);
    // Written as JSON: the same fields in the same order.
    assert.equal(JSON.stringify(got), JSON.stringify(want), `round ${round}: key order`);
    if (want.overCapacity) truncated++;
    if (want.subsets.length > 1 || (entries.length > 1 && entries[0] === entries[1])) repacked++;
  }
  assert.ok(truncated > 15 && repacked > 5, `${truncated} truncated, ${repacked} repacked`);
});

test('sameDesired and endpointsUpToDate agree; key order of stored addresses does not matter', () => {
  const s = svc({ ports: [{ name: 'http', port: 80, targetPort: 80 }] });
  const pods = [pod(1, { ip: '10.0.0.1', ready: true }), pod(2, { ip: '10.0.0.2' })];
  const a = desiredEndpoints(s, pods);
  const b = desiredFromSubsets(s, subsetsFromSorted(pods.map((p) => podEntry(s, p)!)));
  assert.equal(sameDesired(a, b), true);
  const stored = JSON.parse(JSON.stringify(endpointsObject(s, a, undefined, undefined)));
  // Reorder keys of every address, as another writer might.
  for (const ss of stored.subsets) for (const f of ['addresses', 'notReadyAddresses']) ss[f] = ss[f]?.map((x: Obj) => Object.fromEntries(Object.entries(x).reverse()));
  assert.equal(endpointsUpToDate(stored, a), true);
  const c = desiredEndpoints(s, [pod(1, { ip: '10.0.0.1', ready: true }), pod(2, { ip: '10.0.0.2', ready: true })]);
  assert.equal(sameDesired(a, c), false);
  assert.equal(endpointsUpToDate(stored, c), false);
  stored.subsets[0].addresses[0].targetRef.fieldPath = 'x';
  assert.equal(endpointsUpToDate(stored, a), false, 'an extra field is a difference');
});

test('ServicePods: membership follows pods and selectors; unrelated status updates queue nothing', () => {
  const all = new Map<string, Obj>();
  const index = new ServicePods((ns) => [...all.values()].filter((p) => p.metadata.namespace === ns));
  const put = (p: Obj) => {
    all.set(p.metadata.name, p);
    return index.podChanged(p);
  };
  put(pod(0, { ip: '10.0.0.1' }));
  const s = svc();
  index.serviceChanged(s);
  assert.deepEqual([...index.podsOf('default/web').keys()], ['default/web-0'], 'built from the pods at hand');
  assert.deepEqual(put(pod(1)), ['default/web']);
  const p1 = pod(1, { ip: '10.0.0.2' });
  assert.deepEqual(put(p1), ['default/web'], 'got an IP');
  // Only a condition unrelated to endpoints changed.
  const p1b = structuredClone(p1);
  p1b.status.conditions.push({ type: 'PodScheduled', status: 'True' });
  index.changesDone('default/web');
  assert.deepEqual(put(p1b), []);
  assert.equal(index.podsOf('default/web').get('default/web-1'), p1b, 'still the newest object');
  assert.deepEqual(index.changes('default/web'), new Set(), 'nothing endpoints show changed');
  // The same state under another uid (a pod recreated while the watch was away) is a change.
  const p1c = { ...p1b, metadata: { ...p1b.metadata, uid: 'uid-1-again' } };
  assert.deepEqual(put(p1c), ['default/web']);
  assert.deepEqual(index.changes('default/web'), new Set(['default/web-1']));
  assert.deepEqual(put(pod(1, { ip: '10.0.0.2', app: 'other' })), ['default/web'], 'left by label');
  assert.deepEqual(put(pod(1, { ip: '10.0.0.2', app: 'other', ready: true })), [], 'not selected before or now');
  assert.deepEqual([...index.podsOf('default/web').keys()], ['default/web-0']);
  assert.deepEqual(index.podDeleted(pod(0, { ip: '10.0.0.1' })), ['default/web']);
  all.delete('web-0');
  assert.equal(index.podsOf('default/web').size, 0);
  // The selector changes: membership is rebuilt from the pods.
  index.serviceChanged(svc({ selector: { app: 'other' } }));
  assert.deepEqual([...index.podsOf('default/web').keys()], ['default/web-1']);
  // Another namespace's pods never count.
  assert.deepEqual(put({ ...pod(5, { app: 'other' }), metadata: { ...pod(5).metadata, namespace: 'x', labels: { app: 'other' } } }), []);
  // No selector: not managed, no members.
  index.serviceChanged({ ...s, spec: { ...s.spec, selector: {} } });
  assert.equal(index.podsOf('default/web').size, 0);
  assert.deepEqual(put(pod(1, { ip: '10.0.0.3', app: 'other' })), []);
  index.serviceChanged(s);
  index.serviceDeleted(s);
  assert.equal(index.podsOf('default/web').size, 0);
});

test('trigger time: same pod objects are unchanged; a pod gone and back counts', () => {
  const t = new TriggerTimeTracker();
  const s = svc();
  const p0 = pod(0, { ip: '10.0.0.1', t: '2024-01-01T00:00:05Z' });
  const p1 = pod(1, { ip: '10.0.0.2', t: '2024-01-01T00:00:03Z' });
  assert.equal(t.compute('k', s, keyed([p0, p1])), '2024-01-01T00:00:00Z');
  assert.equal(t.compute('k', s, keyed([p0, p1])), undefined);
  // A new object with the same endpoint state is no change.
  assert.equal(t.compute('k', s, keyed([structuredClone(p0), p1])), undefined);
  assert.equal(t.compute('k', s, keyed([p0, pod(1, { ip: '10.0.0.2', ready: true, t: '2024-01-01T00:00:07Z' })])), '2024-01-01T00:00:07Z');
  assert.equal(t.compute('k', s, keyed([p0])), undefined, 'a pod leaving has no time');
  assert.equal(t.compute('k', s, [p0, p1]), '2024-01-01T00:00:03Z', 'arrays work as well; the returning pod counts');
  // A changed service spec counts its creation time; a new object with the same spec does not.
  assert.equal(t.compute('k', structuredClone(s), [p0, p1]), undefined);
  assert.equal(t.compute('k', svc({ publishNotReady: true }), [p0, p1]), '2024-01-01T00:00:00Z');
});

test('planSlices: the endpoints we sent stand in for the stored ones with the same result', () => {
  const s = svc({ ports: [{ name: 'http', port: 80, targetPort: 80 }] });
  const pods = Array.from({ length: 230 }, (_, i) => pod(i, { ip: `10.1.${i >> 8}.${i & 255}`, ready: true }));
  const plan = planSlices(s, [], desiredGroups(s, pods));
  const slices = plan.create.map((x, i) => ({ ...structuredClone(x), metadata: { ...structuredClone(x.metadata), name: `web-${i}`, resourceVersion: '5' } }));
  const sent = new Map(plan.create.map((x, i) => [`web-${i}`, x.endpoints as Obj[]]));
  pods[3] = pod(3, { ip: pods[3].status.podIP, ready: false });
  pods.push(pod(500, { ip: '10.9.0.1', ready: true }));
  const want = desiredGroups(s, pods);
  const slow = planSlices(s, slices, want);
  const fast = planSlices(s, slices, want, undefined, undefined, (x) => sent.get(x.metadata.name));
  assert.deepEqual(fast, slow);
  // The changed pod's slice is full, so the new pod goes to the one with room.
  assert.deepEqual([slow.create.length, slow.update.length, slow.delete.length], [0, 2, 0]);
});

test('sameEndpointState: each field endpoints show is a change; other status details and label order are not', () => {
  const base = pod(1, { ip: '10.0.0.2', ready: true, port: 8080 });
  const variant = (f: (p: Obj) => void) => {
    const p = structuredClone(base);
    f(p);
    return p;
  };
  assert.equal(sameEndpointState(base, base), true);
  assert.equal(sameEndpointState(base, structuredClone(base)), true);
  assert.equal(sameEndpointState(base, variant((p) => p.status.conditions.push({ type: 'PodScheduled', status: 'True' }))), true, 'another condition');
  assert.equal(sameEndpointState(base, variant((p) => (p.status.startTime = '2024-01-01T00:00:02Z'))), true, 'another status field');
  assert.equal(sameEndpointState(base, variant((p) => (p.metadata.labels = { x: '1', app: 'web' }))), false, 'a label more');
  const two = variant((p) => (p.metadata.labels = { app: 'web', x: '1' }));
  assert.equal(sameEndpointState(two, variant((p) => (p.metadata.labels = { x: '1', app: 'web' }))), true, 'label order');
  const changes: [string, (p: Obj) => void][] = [
    ['podIP', (p) => (p.status.podIP = '10.0.0.3')],
    ['podIPs', (p) => (p.status.podIPs = [{ ip: '10.0.0.2' }, { ip: 'fd00::2' }])],
    ['ready', (p) => (p.status.conditions[0].status = 'False')],
    ['deletion', (p) => (p.metadata.deletionTimestamp = '2024-01-01T00:00:09Z')],
    ['phase', (p) => (p.status.phase = 'Succeeded')],
    ['hostname', (p) => (p.spec.hostname = 'other')],
    ['subdomain', (p) => (p.spec.subdomain = 'other')],
    ['nodeName', (p) => (p.spec.nodeName = 'node-9')],
    ['label value', (p) => (p.metadata.labels.app = 'other')],
    ['no labels', (p) => delete p.metadata.labels],
  ];
  for (const [what, f] of changes) {
    assert.equal(sameEndpointState(base, variant(f)), false, what);
    assert.equal(sameEndpointState(variant(f), base), false, `${what}, reversed`);
  }
});

test('trigger time: the earliest time, whatever form each time is written in', () => {
  const r = rng(7);
  const forms = [
    (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    (ms: number) => new Date(ms).toISOString(),
    // The same instant with an offset: later as a string, earlier or equal as a time.
    (ms: number) => new Date(ms + 3_600_000).toISOString().replace(/\.\d{3}Z$/, '+01:00'),
  ];
  for (let round = 0; round < 200; round++) {
    const t = new TriggerTimeTracker();
    const s = svc();
    const times: string[] = [];
    const pods = Array.from({ length: 1 + r(6) }, (_, i) => {
      const ms = Date.UTC(2024, 0, 1) + r(7200) * 1000 + r(3) * 250;
      const time = forms[r(forms.length)](ms);
      times.push(time);
      return pod(i, { ip: `10.0.0.${i + 1}`, t: time });
    });
    // Services created later than every pod change, so the pods decide.
    s.metadata.creationTimestamp = '2025-01-01T00:00:00Z';
    t.compute('k', s, []);
    const got = t.compute('k', s, pods);
    const earliest = Math.min(...times.map((x) => Date.parse(x)));
    assert.equal(Date.parse(got!), earliest, `round ${round}: ${times.join(' ')} gave ${got}`);
    assert.ok(times.includes(got!));
  }
});
