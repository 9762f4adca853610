// Node failure with the real kubectl: a node agent in its own process is frozen (SIGSTOP). Its node
// turns Unknown and tainted, its pods NotReady (out of the Endpoints) and, after their toleration,
// Terminating; the StatefulSet does not replace a pod while the old object exists, but does at once
// after a force delete, and the out-of-service taint moves the rest. The node renewing again removes
// the taints and cancels pending evictions; the pods of a deleted node are garbage-collected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { startCluster, stopCluster, removeCluster, kubectl, kubectlOk, eventsAbout, type Cluster } from './harness.ts';
import { webSet } from '../support/failure-cluster.ts';

const root = resolve(import.meta.dirname, '../..');

const WEB = webSet(2);

// Stays on the frozen node and tolerates it being unreachable for an hour: its eviction is pending.
const PATIENT = `
apiVersion: v1
kind: Pod
metadata: { name: patient }
spec:
  nodeName: node-2
  tolerations: [{ key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 3600 }]
  containers: [{ name: c, image: busybox:1 }]
`;

async function poll<T>(what: string, ms: number, fn: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${last}` : ''}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

const json = async (c: Cluster, args: string[]) => JSON.parse(await kubectlOk(c, [...args, '-o', 'json']));
const cond = (o: any, type: string) => (o.status?.conditions ?? []).find((x: any) => x.type === type);

function startChildAgent(c: Cluster, node: string, cidr: string, ip: string) {
  const proc = spawn(process.execPath, [join(root, 'test/support/sim-agent-child.ts'), c.kubeconfig, node, cidr, ip], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, ORDINAL_LOG_LEVEL: 'warn' } });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const group = (sig: NodeJS.Signals) => {
    try {
      process.kill(-proc.pid!, sig);
    } catch {
      // gone already
    }
  };
  return { proc, group, ready: poll('the child agent', 30_000, async () => /agent ready/.test(out) || (proc.exitCode !== null ? Promise.reject(new Error(out)) : false)), logs: () => out };
}

test('a silent node: Unknown, tainted, pods NotReady then Terminating, at most one web-1, out-of-service, recovery, podgc', { timeout: 300_000 }, async () => {
  const c = await startCluster({
    args: ['--nodes', '1', '--sim-start-delay', '0', '--node-monitor-period', '1s', '--node-monitor-grace-period', '15s', '--default-unreachable-toleration-seconds', '5', '--default-not-ready-toleration-seconds', '5'],
  });
  const agent = startChildAgent(c, 'node-2', '10.244.50.0/24', '192.0.2.50');
  try {
    await agent.ready;
    await poll('node-2 Ready', 30_000, async () => cond(await json(c, ['get', 'node', 'node-2']), 'Ready')?.status === 'True');
    // Everything on node-2: node-1 is cordoned while the set starts (its unschedulable taint comes from the controller).
    await kubectlOk(c, ['cordon', 'node-1']);
    await poll('unschedulable taint on node-1', 15_000, async () => (await json(c, ['get', 'node', 'node-1'])).spec.taints?.some((t: any) => t.key === 'node.kubernetes.io/unschedulable' && t.effect === 'NoSchedule'));
    await kubectlOk(c, ['apply', '-f', '-'], { input: WEB });
    await poll('web-0 and web-1 Ready on node-2', 30_000, async () => {
      const pods = (await json(c, ['get', 'pods', '-l', 'app=web'])).items;
      return pods.length === 2 && pods.every((p: any) => p.spec.nodeName === 'node-2' && cond(p, 'Ready')?.status === 'True');
    });
    const web1 = await json(c, ['get', 'pod', 'web-1']);
    assert.deepEqual(
      web1.spec.tolerations.filter((t: any) => t.key?.startsWith('node.kubernetes.io/')).map((t: any) => `${t.key}:${t.tolerationSeconds}`),
      ['node.kubernetes.io/not-ready:5', 'node.kubernetes.io/unreachable:5'],
      'DefaultTolerationSeconds with the server flags',
    );
    await poll('both endpoints ready', 15_000, async () => (await json(c, ['get', 'endpoints', 'web'])).subsets?.[0]?.addresses?.length === 2);
    await kubectlOk(c, ['uncordon', 'node-1']);
    await poll('unschedulable taint gone', 15_000, async () => !(await json(c, ['get', 'node', 'node-1'])).spec.taints?.length);

    // Freeze node-2.
    const frozenAt = Date.now();
    agent.group('SIGSTOP');
    const ready = await poll('node-2 Unknown', 40_000, async () => {
      const r = cond(await json(c, ['get', 'node', 'node-2']), 'Ready');
      return r?.status === 'Unknown' && r;
    });
    const unknownAfter = Date.now() - frozenAt;
    assert.equal(ready.reason, 'NodeStatusUnknown');
    assert.equal(ready.message, 'Kubelet stopped posting node status.');
    assert.ok(unknownAfter >= 13_000, `Unknown only after the grace (${unknownAfter} ms)`);
    const taints = await poll('unreachable taints', 15_000, async () => {
      const t = (await json(c, ['get', 'node', 'node-2'])).spec.taints ?? [];
      return t.length === 2 && t;
    });
    assert.deepEqual(taints.map((t: any) => `${t.key}:${t.effect}`).sort(), ['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
    assert.ok(taints.every((t: any) => t.timeAdded), 'controller taints carry timeAdded');
    // Pods NotReady and out of the ready addresses at once.
    await poll('pods NotReady', 10_000, async () => (await json(c, ['get', 'pods', '-l', 'app=web'])).items.every((p: any) => cond(p, 'Ready')?.status === 'False'));
    await poll('endpoints not ready', 10_000, async () => {
      const s = (await json(c, ['get', 'endpoints', 'web'])).subsets?.[0] ?? {};
      return !s.addresses?.length && s.notReadyAddresses?.length === 2;
    });
    kubectlOk(c, ['apply', '-f', '-'], { input: PATIENT });

    // After the 5 s toleration: Terminating (graceful delete), never confirmed by the frozen node.
    const terminating = await poll('web-1 Terminating', 30_000, async () => {
      const p = await json(c, ['get', 'pod', 'web-1']);
      return p.metadata.deletionTimestamp && p;
    });
    assert.equal(terminating.metadata.uid, web1.metadata.uid);
    assert.equal(terminating.metadata.deletionGracePeriodSeconds, 30);
    assert.deepEqual(
      ['status', 'reason', 'message'].map((k) => cond(terminating, 'DisruptionTarget')?.[k]),
      ['True', 'DeletionByTaintManager', 'Taint manager: deleting due to NoExecute taint'],
    );
    assert.match(await kubectlOk(c, ['get', 'pod', 'web-1']), /web-1\s+\S+\s+Terminating/);
    const events = await eventsAbout(c, 'web-1');
    assert.ok(events.includes('Warning NodeNotReady Node is not ready'), events.join('\n'));
    assert.ok(events.includes('Normal TaintManagerEviction Marking for deletion Pod default/web-1'), events.join('\n'));
    const describe = await kubectlOk(c, ['describe', 'pod', 'web-1']);
    // Upstream's TaintManagerEviction events name the pod without its UID, so describe (which selects
    // events by UID) does not list them; `kubectl get events` does.
    assert.match(await kubectlOk(c, ['get', 'events', '--field-selector', 'involvedObject.name=web-1,reason=TaintManagerEviction']), /Normal\s+TaintManagerEviction\s+pod\/web-1\s+Marking for deletion Pod default\/web-1/);
    assert.match(describe, /NodeNotReady\s+\S+\s+node-controller\s+Node is not ready/);

    // At most one: no second web-1 while the old object exists, however long we wait.
    const waitUntil = Date.now() + 20_000;
    while (Date.now() < waitUntil) {
      const p = await json(c, ['get', 'pod', 'web-1']);
      assert.equal(p.metadata.uid, web1.metadata.uid, 'web-1 was replaced while the old one still existed');
      await new Promise((r) => setTimeout(r, 1000));
    }

    // The operator's force delete frees the name: a new web-1 runs on node-1 at once.
    const forced = await kubectl(c, ['delete', 'pod', 'web-1', '--force', '--grace-period=0']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /pod "web-1" force deleted/);
    await poll('new web-1 Running on node-1', 30_000, async () => {
      const p = await json(c, ['get', 'pod', 'web-1']);
      return p.metadata.uid !== web1.metadata.uid && p.spec.nodeName === 'node-1' && p.status.phase === 'Running';
    });

    // Out of service: web-0 (Terminating on node-2) goes without a per-pod force delete.
    const web0 = await json(c, ['get', 'pod', 'web-0']);
    assert.ok(web0.metadata.deletionTimestamp);
    await kubectlOk(c, ['taint', 'nodes', 'node-2', 'node.kubernetes.io/out-of-service=nodeshutdown:NoExecute']);
    await poll('web-0 replaced on node-1', 45_000, async () => {
      const p = await json(c, ['get', 'pod', 'web-0']);
      return p.metadata.uid !== web0.metadata.uid && p.spec.nodeName === 'node-1';
    });
    // The patient pod did not tolerate out-of-service: evicted at once; it is Terminating as well now.
    await poll('patient Terminating or gone', 30_000, async () => {
      const r = await kubectl(c, ['get', 'pod', 'patient', '-o', 'json']);
      return r.code !== 0 || !!JSON.parse(r.stdout).metadata.deletionTimestamp;
    });
    await kubectlOk(c, ['taint', 'nodes', 'node-2', 'node.kubernetes.io/out-of-service-']);

    // A pending eviction to cancel: a pod that tolerates the unreachable node for an hour.
    await poll('patient gone', 45_000, async () => (await kubectl(c, ['get', 'pod', 'patient'])).code !== 0);
    await kubectlOk(c, ['apply', '-f', '-'], { input: PATIENT.replace('name: patient', 'name: patient2') });
    await new Promise((r) => setTimeout(r, 3000));

    // The node comes back: Ready, taints removed, the pending eviction cancelled.
    agent.group('SIGCONT');
    await poll('node-2 Ready again', 30_000, async () => cond(await json(c, ['get', 'node', 'node-2']), 'Ready')?.status === 'True');
    await poll('taints removed', 15_000, async () => !(await json(c, ['get', 'node', 'node-2'])).spec.taints?.length);
    await poll('eviction cancelled', 15_000, async () => (await eventsAbout(c, 'patient2')).includes('Normal TaintManagerEviction Cancelling deletion of Pod default/patient2'));
    assert.equal((await json(c, ['get', 'pod', 'patient2'])).metadata.deletionTimestamp, undefined);
    const nodeDescribe = await kubectlOk(c, ['describe', 'node', 'node-2']);
    assert.match(nodeDescribe, /RegisteredNode\s+\S+\s+node-controller\s+Node node-2 event: Registered Node node-2 in Controller/);
    assert.match(nodeDescribe, /NodeNotReady\s+\S+\s+node-controller\s+Node node-2 status is now: NodeNotReady/);

    // The node is deleted for good: after the 40 s quarantine, pod GC force-deletes its pods.
    agent.group('SIGKILL');
    await kubectlOk(c, ['delete', 'node', 'node-2']);
    const deletedAt = Date.now();
    await poll('patient2 garbage-collected', 90_000, async () => (await kubectl(c, ['get', 'pod', 'patient2'])).code !== 0);
    const gcAfter = Date.now() - deletedAt;
    assert.ok(gcAfter >= 39_000, `not before the quarantine (${gcAfter} ms)`);
    process.stdout.write(`# node Unknown ${unknownAfter} ms after the freeze; podgc ${gcAfter} ms after the node's deletion\n`);
  } catch (err) {
    process.stderr.write(`--- server\n${c.logs().slice(-4000)}\n--- agent\n${agent.logs().slice(-2000)}\n`);
    throw err;
  } finally {
    agent.group('SIGKILL');
    await stopCluster(c);
    removeCluster(c);
  }
});
