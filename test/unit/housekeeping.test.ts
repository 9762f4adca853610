// Node housekeeping on the simulated runtime: the orphan decision, their removal (the address goes
// back to the pool), and the runtime's own pod listing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimRuntime } from '../../src/agent/runtime/sim.ts';
import { orphanSandboxes, removeOrphans, runtimePodList } from '../../src/agent/housekeeping.ts';
import type { SandboxSummary } from '../../src/agent/runtime/types.ts';

const pod = (name: string, uid: string) => ({
  metadata: { name, namespace: 'default', uid },
  spec: { containers: [{ name: 'app', image: 'nginx:1' }], nodeName: 'node-1' },
});

test('orphans: sandboxes of pods neither bound here nor handled by a worker', () => {
  const s = (podUid: string): SandboxSummary => ({ sandboxId: `sb-${podUid}`, ip: '', podUid, namespace: 'default', name: podUid, state: 'ready' });
  const all = [s('a'), s('b'), s('c'), s('d')];
  const handled = (...uids: string[]) => (uid: string) => uids.includes(uid);
  assert.deepEqual(orphanSandboxes(all, handled('c'), () => new Set(['a'])).map((x) => x.podUid), ['b', 'd']);
  assert.deepEqual(orphanSandboxes(all, handled(), () => new Set(['a', 'b', 'c', 'd'])), []);
  assert.deepEqual(orphanSandboxes(all, handled('b'), () => new Set(['a', 'c'])).map((x) => x.podUid), ['d']);
  // Every sandbox has a worker: the bound pods are not even asked for.
  assert.deepEqual(orphanSandboxes(all, handled('a', 'b', 'c', 'd'), () => assert.fail('the pod cache is read')), []);
});

test('removing orphans stops their containers, removes their sandboxes and frees their addresses', async () => {
  const rt = new SimRuntime({ startDelayMs: 0 });
  await rt.updateRuntimeConfig({ podCIDR: '10.244.9.0/29' }); // 5 usable addresses
  const keep = await rt.runPodSandbox(pod('keep', 'u-keep'));
  const gone: string[] = [];
  for (const i of [1, 2, 3, 4]) {
    const p = pod(`old-${i}`, `u-old-${i}`);
    const sb = await rt.runPodSandbox(p);
    gone.push(sb.ip);
    const id = await rt.createContainer(sb.sandboxId, p, p.spec.containers[0]!, 0);
    await rt.startContainer(id);
  }
  await assert.rejects(rt.runPodSandbox(pod('full', 'u-full')), /no pod IP addresses left/);
  // The sim's own index answers whether a sweep has anything to look at, as the listing would.
  assert.equal(rt.allSandboxesOf((uid) => uid === 'u-keep' || uid.startsWith('u-old-')), true);
  assert.equal(rt.allSandboxesOf((uid) => uid === 'u-keep'), false);
  const orphans = orphanSandboxes(await rt.listPodSandboxes(), () => false, () => new Set(['u-keep']));
  assert.equal(orphans.length, 4);
  assert.equal(await removeOrphans(rt, orphans, 'node-1'), 4);
  assert.deepEqual((await rt.listPodSandboxes()).map((s) => s.podUid), ['u-keep']);
  assert.equal(rt.allSandboxesOf((uid) => uid === 'u-keep'), true, 'removed sandboxes leave the index');
  assert.deepEqual(await rt.listContainers(), []);
  const fresh = await rt.runPodSandbox(pod('new', 'u-new'));
  assert.ok(gone.includes(fresh.ip), 'an orphan\'s address is free again');
  assert.notEqual(fresh.ip, keep.ip);
  rt.close?.();
});

test('the runtime pod list shows what runs, with container states', async () => {
  const rt = new SimRuntime({ startDelayMs: 0 });
  await rt.updateRuntimeConfig({ podCIDR: '10.244.9.0/24' });
  const p = pod('web-0', 'u-web-0');
  const sb = await rt.runPodSandbox(p);
  const id = await rt.createContainer(sb.sandboxId, p, p.spec.containers[0]!, 0);
  await rt.startContainer(id);
  await rt.runPodSandbox(pod('web-1', 'u-web-1'));
  const list = await runtimePodList(rt);
  assert.equal(list.kind, 'PodList');
  assert.equal(list.apiVersion, 'v1');
  assert.deepEqual(list.items.map((i: { metadata: object }) => i.metadata), [
    { name: 'web-0', namespace: 'default', uid: 'u-web-0' },
    { name: 'web-1', namespace: 'default', uid: 'u-web-1' },
  ]);
  const [web0, web1] = list.items;
  assert.equal(web0.status.phase, 'Running');
  assert.equal(web0.status.podIP, sb.ip);
  assert.equal(web0.status.containerStatuses.length, 1);
  assert.equal(web0.status.containerStatuses[0].name, 'app');
  assert.ok(web0.status.containerStatuses[0].state.running, JSON.stringify(web0.status.containerStatuses[0].state));
  assert.equal(web0.status.containerStatuses[0].containerID, `sim://${id}`);
  assert.equal(web1.status.phase, 'Pending');
  assert.deepEqual(web1.status.containerStatuses, []);
  rt.close?.();
});
