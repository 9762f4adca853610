// The slice book must plan exactly what planSlices plans, from the pod changes alone, and step
// aside (undefined) whenever the slices are not in the shape it covers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Obj } from '../../src/api/resource.ts';
import { PodMemo } from '../../src/controllers/endpoints/pod-memo.ts';
import { SliceBook } from '../../src/controllers/endpointslice/book.ts';
import { compareSliceEntries, groupsFromSorted, planSlices, podSliceEntry, type SliceEntry, type SlicePlan } from '../../src/controllers/endpointslice/reconcile.ts';

const svc = (ports: Obj[] = [{ name: 'web', port: 80, targetPort: 'web' }]): Obj => ({
  metadata: { name: 'nginx', namespace: 'default', uid: 'svc-uid', labels: { app: 'nginx' } },
  spec: { selector: { app: 'nginx' }, clusterIP: 'None', ports },
});

function pod(i: number, o: { ip?: string; ready?: boolean; deleting?: boolean; app?: string; port?: number; gen?: number }): Obj {
  const name = `web-${i}`;
  return {
    metadata: { name, namespace: 'default', uid: `uid-${i}-${o.gen ?? 0}`, labels: { app: o.app ?? 'nginx' }, deletionTimestamp: o.deleting ? '2024-01-01T00:00:09Z' : undefined },
    spec: { hostname: name, subdomain: 'nginx', nodeName: `node-${i % 4}`, containers: [{ name: 'c', ports: [{ name: 'web', containerPort: o.port ?? 80 }] }] },
    status: { phase: 'Running', podIP: o.ip, podIPs: o.ip ? [{ ip: o.ip }] : undefined, conditions: [{ type: 'Ready', status: o.ready ? 'True' : 'False' }] },
  };
}

function rng(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

/** A plan's writes, serialised: the two planners must send the very same bytes. */
const bytes = (p: SlicePlan) => JSON.stringify({ create: p.create, update: p.update, delete: p.delete.map((s) => s.metadata.name) });

/**
 * Random churn of one Service's pods, planned both ways each step and applied to a simulated
 * store (names from generateName, a new resourceVersion per write), as the controller does.
 */
function churn(seed: number, opts: { steps: number; pods: number; max: number; mixedPorts?: boolean; foreignEdits?: boolean }) {
  const r = rng(seed);
  const s = svc();
  const memo = new PodMemo<SliceEntry>(compareSliceEntries, true);
  const pods = new Map<string, Obj>();
  const slices = new Map<string, Obj>();
  const sent = new Map<string, { rv: string; endpoints: Obj[] }>();
  let rv = 1;
  let named = 0;
  let book: SliceBook | undefined;
  let last: { entries: SliceEntry[] } | undefined;
  let fast = 0;
  const gens = new Map<number, number>();
  const sentTo = (x: Obj) => {
    const w = sent.get(x.metadata.name);
    return w && w.rv === x.metadata.resourceVersion ? w.endpoints : undefined;
  };
  for (let step = 0; step < opts.steps; step++) {
    for (let k = r(12); k >= 0; k--) {
      const i = r(opts.pods);
      const key = `default/web-${i}`;
      const roll = r(20);
      if (roll === 0) pods.delete(key);
      else {
        // Now and then the pod is replaced by a new one of the same name (a new uid).
        if (roll === 1) gens.set(i, (gens.get(i) ?? 0) + 1);
        pods.set(key, pod(i, { ip: r(10) === 0 ? undefined : `10.0.${i >> 6}.${(i & 63) + r(2) * 64}`, ready: r(3) > 0, deleting: r(25) === 0, app: r(30) === 0 ? 'other' : 'nginx', port: opts.mixedPorts && r(15) === 0 ? 81 : 80, gen: gens.get(i) ?? 0 }));
      }
    }
    let edited = false;
    if (opts.foreignEdits && r(15) === 0 && slices.size) {
      edited = true;
      // Someone else rewrites a slice: its stored endpoints now differ from what we sent.
      const victim = [...slices.values()][r(slices.size)];
      slices.set(victim.metadata.name, { ...victim, endpoints: victim.endpoints.slice(1), metadata: { ...victim.metadata, resourceVersion: String(++rv) } });
    }
    const entries = memo.values(s, pods, (p) => podSliceEntry(s, p));
    const existing = [...slices.values()];
    const full = planSlices(s, existing, groupsFromSorted(entries), undefined, opts.max, sentTo);
    const delta = memo.delta;
    let got: SlicePlan | undefined;
    // As the controller: the book serves only slices as the last sync left them.
    if (edited) book = undefined;
    if (last && !edited && delta && delta.from === last.entries) {
      book ??= SliceBook.build(s, last.entries, existing, (x) => sentTo(x) ?? x.endpoints ?? [], opts.max);
      got = book?.planFromChanges(s, existing, delta.changes, entries.length, undefined, opts.max);
    }
    if (got) {
      fast++;
      // Compared as strings, and only reported as a flag: a failing diff of these plans runs for pages.
      const same = bytes(got) === bytes(full);
      assert.ok(same, `seed ${seed} step ${step}: the book's plan differs from planSlices'`);
    } else book = undefined;
    for (const c of full.create) {
      const name = `nginx-${named++}`;
      const written = { ...c, metadata: { ...c.metadata, name, resourceVersion: String(++rv) } };
      slices.set(name, written);
      sent.set(name, { rv: written.metadata.resourceVersion, endpoints: c.endpoints });
      book?.created(name, c.endpoints);
    }
    for (const u of full.update) {
      const written = { ...u, metadata: { ...u.metadata, resourceVersion: String(++rv) } };
      slices.set(u.metadata.name, written);
      sent.set(u.metadata.name, { rv: written.metadata.resourceVersion, endpoints: u.endpoints });
    }
    for (const d of full.delete) {
      slices.delete(d.metadata.name);
      sent.delete(d.metadata.name);
    }
    last = { entries };
    // A planned state plans nothing more.
    assert.deepEqual(planSlices(s, [...slices.values()], groupsFromSorted(entries), undefined, opts.max, sentTo), { create: [], update: [], delete: [] }, `fixpoint, seed ${seed} step ${step}`);
  }
  return fast;
}

test('slice book: the same writes as planSlices under random churn', () => {
  let fast = 0;
  for (let seed = 1; seed <= 20; seed++) {
    fast += churn(seed, { steps: 80, pods: 60, max: 7 });
    fast += churn(1000 + seed, { steps: 60, pods: 300, max: 25 });
    churn(2000 + seed, { steps: 60, pods: 40, max: 5, mixedPorts: true });
    churn(3000 + seed, { steps: 60, pods: 40, max: 5, foreignEdits: true });
  }
  // Most steps should have taken the book's path, or this test would prove little.
  assert.ok(fast > 2000, `book plans: ${fast}`);
});

test('slice book: steps aside for shapes it does not cover', () => {
  const s = svc();
  const entries = (n: number, port = 80) =>
    Array.from({ length: n }, (_, i) => podSliceEntry(s, pod(i, { ip: `10.0.0.${i + 1}`, ready: true, port }))!).sort(compareSliceEntries);
  const e3 = entries(3);
  const plan = planSlices(s, [], groupsFromSorted(e3));
  const slices = plan.create.map((c, i) => ({ ...c, metadata: { ...c.metadata, name: `nginx-${i}`, resourceVersion: '2' } }));
  const eps = (x: Obj) => x.endpoints;
  assert.ok(SliceBook.build(s, e3, slices, eps, 100) !== undefined, 'the usual shape');
  assert.equal(SliceBook.build(s, [], slices, eps, 100), undefined, 'no endpoints: the placeholder is planSlices business');
  assert.equal(SliceBook.build(s, e3.slice(1), slices, eps, 100), undefined, 'a slice holds an endpoint no longer desired');
  assert.equal(SliceBook.build(s, e3, slices, eps, 2), undefined, 'a slice over the limit');
  assert.equal(SliceBook.build(s, e3, [...slices, { ...slices[0], metadata: { ...slices[0].metadata, name: 'nginx-x' } }], eps, 100), undefined, 'an endpoint in two slices');
  assert.equal(SliceBook.build(s, entries(3, 81), slices, eps, 100), undefined, 'the slices are of another port group');
  const relabelled = { ...s, metadata: { ...s.metadata, labels: { app: 'nginx', tier: 'web' } } };
  assert.equal(SliceBook.build(relabelled, e3, slices, eps, 100), undefined, 'slice labels behind the service');
  const book = SliceBook.build(s, e3, slices, eps, 100)!;
  const moved = podSliceEntry(s, pod(1, { ip: '10.0.0.2', ready: true, port: 81 }))!;
  assert.equal(book.planFromChanges(s, slices, [{ before: e3[1], after: moved }], 3, undefined, 100), undefined, 'a pod changes port group');
  const fresh = SliceBook.build(s, e3, slices, eps, 100)!;
  assert.equal(fresh.planFromChanges(s, slices, [{ before: e3[0], after: undefined }, { before: e3[1], after: undefined }, { before: e3[2], after: undefined }], 0, undefined, 100), undefined, 'none left');
  const other = SliceBook.build(s, e3, slices, eps, 100)!;
  assert.equal(other.planFromChanges(s, [...slices, { ...slices[0], metadata: { ...slices[0].metadata, name: 'nginx-y' } }], [], 3, undefined, 100), undefined, 'a slice the book does not know');
});
