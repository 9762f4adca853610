// The endpointslice controller under pod churn, against an in-process API server: after bursts of
// pods appearing, turning ready, going, being replaced under the same name, and another writer
// editing a slice, the stored slices are what the full planner accepts as they are (no write left
// to make) and hold every desired endpoint exactly once. The controller plans most of these syncs
// from the changed pods alone (slice book); this checks the slices that planning leaves.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Obj } from '../../src/api/resource.ts';
import { ApiError } from '../../src/apiserver/errors.ts';
import { startTestApi, type TestApi } from '../support/inprocess.ts';
import { waitUntil } from './harness.ts';
import { EndpointSliceController } from '../../src/controllers/endpointslice/controller.ts';
import { desiredGroups, planSlices } from '../../src/controllers/endpointslice/reconcile.ts';

let t: TestApi;
let ctl: EndpointSliceController;
const MAX = 10;

before(async () => {
  t = await startTestApi();
  ctl = new EndpointSliceController(t.client, { maxEndpointsPerSlice: MAX });
  await ctl.start();
});
after(async () => {
  ctl.stop();
  await t.close();
});

const r = (plural: string, group = '') => t.client.resource(group, plural);

function rng(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

async function setStatus(name: string, ip: string, ready: boolean) {
  const current = await t.client.get(r('pods'), 'default', name);
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const status = { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now }] };
  await t.client.update(r('pods'), { ...current, status }, 'status');
}

async function createPod(i: number) {
  await t.client.create(r('pods'), 'default', {
    metadata: { name: `web-${i}`, labels: { app: 'nginx' } },
    spec: { hostname: `web-${i}`, subdomain: 'nginx', nodeName: `node-${i % 3}`, containers: [{ name: 'nginx', image: 'nginx', ports: [{ name: 'web', containerPort: 80 }] }] },
  });
}

const slicesNow = async () => (await t.client.list(r('endpointslices', 'discovery.k8s.io'), { namespace: 'default', labelSelector: 'kubernetes.io/service-name=nginx' })).items;
const podsNow = async () => (await t.client.list(r('pods'), { namespace: 'default' })).items;

/** Whether the stored slices are exactly what the full planner wants for the pods now. */
async function settled(svc: Obj): Promise<string | undefined> {
  const slices = await slicesNow();
  const pods = await podsNow();
  const plan = planSlices(svc, slices, desiredGroups(svc, pods), undefined, MAX);
  if (plan.create.length || plan.update.length || plan.delete.length) return `planSlices would still write: ${plan.create.length} create, ${plan.update.length} update, ${plan.delete.length} delete`;
  const want = new Map<string, Obj>();
  for (const g of desiredGroups(svc, pods).values()) for (const e of g.endpoints) want.set(e.targetRef.uid, e);
  const seen = new Set<string>();
  for (const s of slices) {
    if (s.endpoints.length > MAX) return `slice ${s.metadata.name} holds ${s.endpoints.length}`;
    for (const e of s.endpoints) {
      if (seen.has(e.targetRef.uid)) return `${e.targetRef.name} listed twice`;
      seen.add(e.targetRef.uid);
      assert.deepEqual(e, want.get(e.targetRef.uid), `endpoint of ${e.targetRef.name}`);
    }
  }
  return seen.size === want.size ? undefined : `${seen.size} endpoints listed, ${want.size} desired`;
}

test('slices stay exact through bursts of pod churn and a foreign edit', async () => {
  const svc = await t.client.create(r('services'), 'default', {
    metadata: { name: 'nginx', labels: { app: 'nginx' } },
    spec: { clusterIP: 'None', selector: { app: 'nginx' }, ports: [{ name: 'web', port: 80 }] },
  });
  const rand = rng(42);
  const alive = new Set<number>();
  let why: string | undefined;
  for (let round = 0; round < 8; round++) {
    for (let k = 0; k < 25; k++) {
      const i = rand(60);
      const ip = `10.244.${i % 3}.${10 + i}`;
      if (!alive.has(i)) {
        await createPod(i);
        alive.add(i);
        if (rand(4) > 0) await setStatus(`web-${i}`, ip, rand(2) === 0);
      } else if (rand(6) === 0) {
        await t.client.delete(r('pods'), 'default', `web-${i}`, { gracePeriodSeconds: 0 });
        alive.delete(i);
        // Replaced at once under the same name (a new uid), as a StatefulSet does.
        if (rand(2) === 0) {
          await createPod(i);
          alive.add(i);
          await setStatus(`web-${i}`, ip, true);
        }
      } else await setStatus(`web-${i}`, ip, rand(3) > 0);
    }
    if (round === 4) {
      // Another writer drops an endpoint from one of our slices: the controller puts it back. The
      // controller may still be writing the round's changes to that slice: on a conflict the
      // writer reads it again, as any client of the API would.
      for (let attempt = 1; ; attempt++) {
        const [s] = (await slicesNow()).filter((x) => x.endpoints?.length > 1);
        try {
          await t.client.update(r('endpointslices', 'discovery.k8s.io'), { ...s, endpoints: s.endpoints.slice(1) });
          break;
        } catch (err) {
          if (!(err instanceof ApiError && err.code === 409) || attempt >= 20) throw err;
        }
        await new Promise((res) => setTimeout(res, 50));
      }
    }
    await waitUntil(async () => (why = await settled(svc)) === undefined, 20_000, () => `round ${round}: ${why}`);
  }
  assert.ok((await slicesNow()).length >= 2, 'the pods span several slices');
});
