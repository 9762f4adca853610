// The node's look at its pods' claims is driven by the pod informer's events and a timer per claim:
// a pod that starts running has its claims read at once, a claim no running pod mounts is never
// read, and a quiet claim is read less and less often (the node's share of volume expansion).
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import type { Obj } from '../../src/api/resource.ts';
import type { Client } from '../../src/client/client.ts';
import type { EventRecorder } from '../../src/client/events.ts';
import { NodeVolumeExpansion } from '../../src/agent/volume-expansion.ts';
import { FS_RESIZE_PENDING, NODE_RESIZE_PENDING } from '../../src/controllers/volume/resize-plan.ts';

function pod(name: string, claimName: string, phase = 'Running', extra: Obj = {}): Obj {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}`, ...extra },
    spec: { nodeName: 'node-1', volumes: [{ name: 'www', persistentVolumeClaim: { claimName } }, { name: 'tmp', emptyDir: {} }] },
    status: { phase },
  };
}

/** A client that serves claims and volumes from maps and records the reads and status writes. */
function fakeCluster() {
  const claims = new Map<string, Obj>();
  const volumes = new Map<string, Obj>();
  const reads: string[] = [];
  const writes: Obj[] = [];
  const client = {
    resource: (_g: string, plural: string) => ({ plural }),
    get: async (r: { plural: string }, ns: string | undefined, name: string) => {
      reads.push(`${r.plural} ${ns ?? ''}/${name}`);
      const o = r.plural === 'persistentvolumeclaims' ? claims.get(`${ns}/${name}`) : volumes.get(name);
      if (!o) throw new Error('not found');
      return o;
    },
    update: async (_r: unknown, obj: Obj) => {
      writes.push(obj);
      claims.set(`${obj.metadata.namespace}/${obj.metadata.name}`, obj);
      return obj;
    },
  } as unknown as Client;
  const recorded: string[] = [];
  const events = { event: (o: Obj, _t: string, reason: string) => recorded.push(`${o.metadata.name} ${reason}`) } as unknown as EventRecorder;
  return { claims, volumes, reads, writes, client, events, recorded };
}

const quietClaim = (name: string): Obj => ({
  metadata: { name, namespace: 'default' },
  spec: { volumeName: `pv-${name}`, resources: { requests: { storage: '1Mi' } } },
  status: { phase: 'Bound', capacity: { storage: '1Mi' } },
});

test('claims are read when a pod starts mounting them, then on a backing-off timer, and never once no pod runs', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const c = fakeCluster();
    c.claims.set('default/www-0', quietClaim('www-0'));
    const x = new NodeVolumeExpansion(c.client, 'node-1', c.events);
    x.start();
    x.podChanged(pod('web-0', 'www-0', 'Pending'));
    mock.timers.tick(100_000);
    await Promise.resolve();
    assert.deepEqual(c.reads, [], 'a pod not yet running mounts nothing');

    x.podChanged(pod('web-0', 'www-0'));
    mock.timers.tick(0);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(c.reads, ['persistentvolumeclaims default/www-0'], 'read at once');
    assert.equal(x.mountedClaims, 1);

    // More updates of the running pod cost nothing.
    for (let i = 0; i < 10; i++) x.podChanged(pod('web-0', 'www-0'));
    mock.timers.tick(1000);
    await new Promise((r) => setImmediate(r));
    assert.equal(c.reads.length, 1, 'no read before the next look is due');

    // The next looks back off: 2 s, 4 s, ... (jittered ±25 %).
    mock.timers.tick(2600);
    await new Promise((r) => setImmediate(r));
    assert.equal(c.reads.length, 2);
    mock.timers.tick(5100);
    await new Promise((r) => setImmediate(r));
    assert.equal(c.reads.length, 3);

    // The pod stops: its claim is forgotten and never read again.
    x.podGone(pod('web-0', 'www-0', 'Running', { deletionTimestamp: 'x' }));
    assert.equal(x.mountedClaims, 0);
    mock.timers.tick(600_000);
    await new Promise((r) => setImmediate(r));
    assert.equal(c.reads.length, 3);
    x.stop();
  } finally {
    mock.timers.reset();
  }
});

test('a quiet claim is read at most about once a minute; a claim waiting for the node is finished', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const c = fakeCluster();
    c.claims.set('default/www-0', quietClaim('www-0'));
    const x = new NodeVolumeExpansion(c.client, 'node-1', c.events);
    x.podChanged(pod('web-0', 'www-0'));
    x.start();
    // Ten minutes, one tick a second: the first looks back off from 2 s, then settle at the minute.
    for (let s = 0; s < 600; s++) {
      mock.timers.tick(1000);
      await new Promise((r) => setImmediate(r));
    }
    assert.ok(c.reads.length >= 10 && c.reads.length <= 18, `${c.reads.length} reads in ten minutes`);

    // The resizer grew the volume and handed the claim to the node: the next look finishes it.
    c.volumes.set('pv-www-0', { metadata: { name: 'pv-www-0' }, spec: { capacity: { storage: '2Mi' } } });
    c.claims.set('default/www-0', {
      ...quietClaim('www-0'),
      spec: { volumeName: 'pv-www-0', resources: { requests: { storage: '2Mi' } } },
      status: { phase: 'Bound', capacity: { storage: '1Mi' }, allocatedResourceStatuses: { storage: NODE_RESIZE_PENDING }, conditions: [{ type: FS_RESIZE_PENDING, status: 'True' }] },
    });
    for (let s = 0; s < 80 && !c.writes.length; s++) {
      mock.timers.tick(1000);
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(c.writes.length, 1);
    assert.deepEqual(c.writes[0]!.status, { phase: 'Bound', capacity: { storage: '2Mi' } });
    assert.deepEqual(c.recorded, ['web-0 FileSystemResizeSuccessful', 'www-0 FileSystemResizeSuccessful']);
    x.stop();
  } finally {
    mock.timers.reset();
  }
});

test('a claim two running pods mount stays looked at until both are gone; its events go to the pods still mounting it', async (t) => {
  const c = fakeCluster();
  c.volumes.set('pv-shared', { metadata: { name: 'pv-shared' }, spec: { capacity: { storage: '2Mi' } } });
  const waiting = (): Obj => ({
    ...quietClaim('shared'),
    spec: { volumeName: 'pv-shared', resources: { requests: { storage: '2Mi' } } },
    status: { phase: 'Bound', capacity: { storage: '1Mi' }, allocatedResourceStatuses: { storage: NODE_RESIZE_PENDING } },
  });
  c.claims.set('default/shared', waiting());
  const x = new NodeVolumeExpansion(c.client, 'node-1', c.events);
  const y = new NodeVolumeExpansion(c.client, 'node-1', c.events);
  // Their look timers would keep the test process alive after a failed assertion.
  t.after(() => {
    x.stop();
    y.stop();
  });
  x.start();
  x.podChanged(pod('reader', 'shared'));
  x.podChanged(pod('writer', 'shared'));
  // A newer copy of a pod replaces the older one: its events are not doubled.
  x.podChanged(pod('writer', 'shared'));
  assert.equal(x.mountedClaims, 1);
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(c.recorded.sort(), ['reader FileSystemResizeSuccessful', 'shared FileSystemResizeSuccessful', 'writer FileSystemResizeSuccessful']);

  // One pod goes: the claim is still mounted, and a second expansion is told only to the other.
  x.podGone(pod('reader', 'shared'));
  assert.equal(x.mountedClaims, 1, 'still mounted by the writer');
  c.recorded.length = 0;
  x.stop();
  y.podChanged(pod('reader', 'shared'));
  y.podChanged(pod('writer', 'shared'));
  y.podGone(pod('reader', 'shared'));
  c.claims.set('default/shared', waiting());
  y.start();
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(c.recorded.sort(), ['shared FileSystemResizeSuccessful', 'writer FileSystemResizeSuccessful']);
  y.podGone(pod('writer', 'shared'));
  assert.equal(y.mountedClaims, 0, 'no pod mounts it any more');
});
