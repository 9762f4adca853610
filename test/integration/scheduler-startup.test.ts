// A scheduler that starts (a new leader's, a new term's) decides nothing before it has seen every
// pod already bound: its first LIST is applied pod by pod, and a decision taken halfway would count
// only the bound pods listed so far. Upstream's scheduler waits for its caches to sync first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApi } from '../support/inprocess.ts';
import { Scheduler } from '../../src/scheduler/scheduler.ts';

test('a fresh scheduler does not overfill a node whose bound pods come late in its first LIST', { timeout: 60_000 }, async () => {
  const t = await startTestApi();
  const scheduler = new Scheduler(t.client, { retryIntervalMs: 60_000 });
  try {
    const pods = t.client.resource('', 'pods');
    await t.client.create(t.client.resource('', 'nodes'), undefined, {
      metadata: { name: 'small', labels: { 'kubernetes.io/hostname': 'small' } },
      status: { conditions: [{ type: 'Ready', status: 'True' }], allocatable: { cpu: '4', memory: '16Gi', pods: '3', 'ephemeral-storage': '100Gi' }, capacity: { cpu: '4', memory: '16Gi', pods: '3', 'ephemeral-storage': '100Gi' } },
    });
    const spec = { containers: [{ name: 'c', image: 'nginx' }] };
    // The node is full: three pods bound by an earlier scheduler. Pending ones sort first in a LIST.
    for (let i = 0; i < 3; i++) await t.client.create(pods, 'default', { metadata: { name: `z-bound-${i}` }, spec: { ...spec, nodeName: 'small' } });
    for (let i = 0; i < 5; i++) await t.client.create(pods, 'default', { metadata: { name: `a-pending-${i}` }, spec });
    const listed = (await t.client.list(pods, { namespace: 'default' })).items.map((p) => p.metadata.name);
    assert.ok(listed.indexOf('a-pending-0') < listed.indexOf('z-bound-0'), `list order: ${listed.join(' ')}`);

    await scheduler.start();
    // Long enough for every pending pod to be decided (FailedScheduling) or bound.
    await new Promise((r) => setTimeout(r, 1500));
    const bound = (await t.client.list(pods, { namespace: 'default' })).items.filter((p) => p.spec.nodeName === 'small').map((p) => p.metadata.name).sort();
    assert.deepEqual(bound, ['z-bound-0', 'z-bound-1', 'z-bound-2'], 'no pod beyond the node\'s 3 was bound');
  } finally {
    scheduler.stop();
    await t.close();
  }
});
