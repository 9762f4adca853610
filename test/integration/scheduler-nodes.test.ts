// The scheduler keeps its list of nodes between decisions: it must follow nodes that come and go
// (a pod is never bound to a node deleted since, and a new node is used at once), and its books
// must free a node's room when pods finish or are deleted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApi } from '../support/inprocess.ts';
import { Scheduler } from '../../src/scheduler/scheduler.ts';
import type { Obj } from '../../src/api/resource.ts';

const nodeObj = (name: string, pods: string): Obj => ({
  metadata: { name, labels: { 'kubernetes.io/hostname': name } },
  status: { conditions: [{ type: 'Ready', status: 'True' }], allocatable: { cpu: '4', memory: '16Gi', pods, 'ephemeral-storage': '100Gi' }, capacity: { cpu: '4', memory: '16Gi', pods, 'ephemeral-storage': '100Gi' } },
});

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('nodes that come and go, and pods that finish, are followed between decisions', { timeout: 60_000 }, async () => {
  const t = await startTestApi();
  const scheduler = new Scheduler(t.client, { retryIntervalMs: 60_000 });
  try {
    const pods = t.client.resource('', 'pods');
    const nodes = t.client.resource('', 'nodes');
    const spec = { containers: [{ name: 'c', image: 'nginx' }] };
    const nodeOf = (name: string) => async () => ((await t.client.get(pods, 'default', name)).spec.nodeName as string | undefined) || undefined;
    await t.client.create(nodes, undefined, nodeObj('first', '1'));
    await scheduler.start();

    await t.client.create(pods, 'default', { metadata: { name: 'a' }, spec });
    assert.equal(await until('a bound', nodeOf('a')), 'first');

    // The only node is full: the next pod waits.
    await t.client.create(pods, 'default', { metadata: { name: 'b' }, spec });
    await until('b reported unschedulable', async () => ((await t.client.get(pods, 'default', 'b')).status?.conditions ?? []).find((c: Obj) => c.type === 'PodScheduled' && c.status === 'False'));

    // A new node: the waiting pod goes there.
    await t.client.create(nodes, undefined, nodeObj('second', '1'));
    assert.equal(await until('b bound', nodeOf('b')), 'second');

    // Both full again. A third node without room appears, then the first node is deleted while its
    // pod is still there, then that pod goes: the freed room is on a node that no longer exists.
    await t.client.create(pods, 'default', { metadata: { name: 'c' }, spec });
    await until('c reported unschedulable', async () => ((await t.client.get(pods, 'default', 'c')).status?.conditions ?? []).find((c: Obj) => c.type === 'PodScheduled' && c.status === 'False'));
    await t.client.create(nodes, undefined, nodeObj('third', '0'));
    await t.client.delete(nodes, undefined, 'first');
    await t.client.delete(pods, 'default', 'a', { gracePeriodSeconds: 0 });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await t.client.get(pods, 'default', 'c')).spec.nodeName, undefined, 'c was bound to a deleted node');
    const third = await t.client.get(nodes, undefined, 'third');
    await t.client.update(nodes, { ...third, status: nodeObj('third', '2').status }, 'status');
    assert.equal(await until('c bound', nodeOf('c')), 'third');

    // A finished pod frees its room: d fits on second once b has Succeeded.
    await t.client.create(pods, 'default', { metadata: { name: 'd' }, spec: { ...spec, nodeSelector: { 'kubernetes.io/hostname': 'second' } } });
    await until('d reported unschedulable', async () => ((await t.client.get(pods, 'default', 'd')).status?.conditions ?? []).find((c: Obj) => c.type === 'PodScheduled' && c.status === 'False'));
    const b = await t.client.get(pods, 'default', 'b');
    await t.client.update(pods, { ...b, status: { ...b.status, phase: 'Succeeded' } }, 'status');
    assert.equal(await until('d bound', nodeOf('d')), 'second');
  } finally {
    scheduler.stop();
    await t.close();
  }
});

test('a bound volume pins pods by node labels, and relabelled nodes are seen at once', { timeout: 60_000 }, async () => {
  const t = await startTestApi();
  const scheduler = new Scheduler(t.client, { retryIntervalMs: 60_000 });
  try {
    const pods = t.client.resource('', 'pods');
    const nodes = t.client.resource('', 'nodes');
    const claims = t.client.resource('', 'persistentvolumeclaims');
    const volumes = t.client.resource('', 'persistentvolumes');
    const zoned = (name: string, zone: string): Obj => ({ ...nodeObj(name, '10'), metadata: { name, labels: { 'kubernetes.io/hostname': name, zone } } });
    await t.client.create(nodes, undefined, zoned('n1', 'a'));
    await t.client.create(nodes, undefined, zoned('n2', 'b'));
    await t.client.create(volumes, undefined, {
      metadata: { name: 'shared' },
      spec: {
        capacity: { storage: '1Gi' },
        accessModes: ['ReadWriteMany'],
        storageClassName: '',
        hostPath: { path: '/tmp/shared' },
        claimRef: { namespace: 'default', name: 'data' },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] } },
      },
    });
    const claim = await t.client.create(claims, 'default', { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteMany'], storageClassName: '', volumeName: 'shared', resources: { requests: { storage: '1Gi' } } } });
    await t.client.update(claims, { ...claim, status: { phase: 'Bound', accessModes: ['ReadWriteMany'], capacity: { storage: '1Gi' } } }, 'status');
    await scheduler.start();
    const spec = { containers: [{ name: 'c', image: 'nginx' }], volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }] };
    const nodeOf = (name: string) => async () => ((await t.client.get(pods, 'default', name)).spec.nodeName as string | undefined) || undefined;

    await t.client.create(pods, 'default', { metadata: { name: 'p1' }, spec });
    assert.equal(await until('p1 bound', nodeOf('p1')), 'n1');
    // Both nodes are in zone a now; n2 has fewer pods, so spreading picks it.
    const n2 = await t.client.get(nodes, undefined, 'n2');
    await t.client.update(nodes, { ...n2, metadata: { ...n2.metadata, labels: { ...n2.metadata.labels, zone: 'a' } } });
    await until('the scheduler sees n2 relabelled', async () => ((scheduler as unknown as { nodes: { get(ns: undefined, n: string): Obj | undefined } }).nodes.get(undefined, 'n2')?.metadata.labels.zone === 'a' ? true : undefined));
    await t.client.create(pods, 'default', { metadata: { name: 'p2' }, spec });
    assert.equal(await until('p2 bound', nodeOf('p2')), 'n2');
  } finally {
    scheduler.stop();
    await t.close();
  }
});

test('an unschedulable pod backs off as upstream (1 s, doubling, at most 10 s) however many changes come, and is bound once one fits', { timeout: 60_000 }, async () => {
  const t = await startTestApi();
  const scheduler = new Scheduler(t.client, { retryIntervalMs: 60_000 });
  try {
    const pods = t.client.resource('', 'pods');
    const nodes = t.client.resource('', 'nodes');
    await t.client.create(nodes, undefined, nodeObj('n1', '10'));
    await scheduler.start();
    await t.client.create(pods, 'default', { metadata: { name: 'picky' }, spec: { containers: [{ name: 'c', image: 'nginx' }], nodeSelector: { disk: 'ssd' } } });
    await until('picky reported unschedulable', async () => ((await t.client.get(pods, 'default', 'picky')).status?.conditions ?? []).find((c: Obj) => c.type === 'PodScheduled' && c.status === 'False'));
    // 30 node changes that matter to scheduling (a label) over about 3 s: each asks for a retry.
    const started = Date.now();
    for (let i = 0; i < 30; i++) {
      const n = await t.client.get(nodes, undefined, 'n1');
      await t.client.update(nodes, { ...n, metadata: { ...n.metadata, labels: { ...n.metadata.labels, round: String(i) } } });
      await new Promise((r) => setTimeout(r, 100));
    }
    const elapsed = Date.now() - started;
    // The attempts are the FailedScheduling event's count: the first, then after 1, 2 (and 4) s.
    const events = (await t.client.list(t.client.resource('', 'events'), { namespace: 'default' })).items.filter((e) => e.involvedObject?.name === 'picky' && e.reason === 'FailedScheduling');
    const attempts = events.reduce((n, e) => n + (e.count ?? 1), 0);
    assert.ok(attempts >= 2 && attempts <= 5, `${attempts} attempts in ${elapsed} ms of changes`);
    // A node that fits: bound within the backoff (at most 10 s), not left for the 60 s resync.
    const n = await t.client.get(nodes, undefined, 'n1');
    await t.client.update(nodes, { ...n, metadata: { ...n.metadata, labels: { ...n.metadata.labels, disk: 'ssd' } } });
    const boundIn = Date.now();
    await until('picky bound', async () => ((await t.client.get(pods, 'default', 'picky')).spec.nodeName as string | undefined) || undefined, 12_000);
    assert.ok(Date.now() - boundIn <= 10_500, `bound ${Date.now() - boundIn} ms after it fit`);
  } finally {
    scheduler.stop();
    await t.close();
  }
});
