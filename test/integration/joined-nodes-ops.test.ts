// Operations across nodes that joined as their own processes (simulated runtime): cordon, drain
// honouring a PodDisruptionBudget, uncordon; and a StatefulSet pod whose claim is bound to a volume
// on a lost node: after the force delete its replacement stays Pending with the scheduler's
// message until the node returns, then runs there again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { freePort, joinSimNodes, kubectlFor, poll, startServer, tempDir, isReady, type Kubectl, type ServerProcess, type SimNode } from '../support/failure-cluster.ts';

let server: ServerProcess;
let nodes: SimNode[] = [];
let k: Kubectl;

before(async () => {
  const dataDir = tempDir('ordinal-ops-');
  server = await startServer(dataDir, await freePort(), [
    '--nodes',
    '0',
    '--node-monitor-period',
    '1s',
    '--node-monitor-grace-period',
    '15s',
    '--default-unreachable-toleration-seconds',
    '2',
    '--default-not-ready-toleration-seconds',
    '2',
  ]);
  nodes = await joinSimNodes(dataDir, ['a', 'b', 'c']);
  k = kubectlFor(join(dataDir, 'kubeconfig'));
});

after(async () => {
  for (const n of nodes) n.agent.signal('SIGCONT');
  await Promise.all(nodes.map((n) => n.agent.stop('SIGKILL')));
  await server?.stop();
});

const pods = async (app: string) => (await k.json(['get', 'pods', '-l', `app=${app}`])).items as any[];

test('cordon, drain with a PodDisruptionBudget, uncordon across joined nodes', { timeout: 120_000 }, async () => {
  // Two pods, one per node (required anti-affinity), on three nodes: a drained node's pod has one place to go.
  await k.ok(['apply', '-f', '-'], SET('spread', 2, false));
  await k.ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'spread' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'spread' } } } }));
  await poll('2 spread pods Ready on 2 nodes', 30_000, async () => {
    const ps = await pods('spread');
    return ps.length === 2 && ps.every(isReady) && new Set(ps.map((p) => p.spec.nodeName)).size === 2;
  });
  await poll('the budget allows one disruption', 20_000, async () => (await k.json(['get', 'pdb', 'spread'])).status?.disruptionsAllowed === 1);
  const first = (await pods('spread')).find((p) => p.metadata.name === 'spread-0')!;
  const other = (await pods('spread')).find((p) => p.metadata.name === 'spread-1')!;
  const free = nodes.map((n) => n.name).find((n) => n !== first.spec.nodeName && n !== other.spec.nodeName)!;
  try {
    await k.ok(['cordon', other.spec.nodeName]);
    assert.match(await k.ok(['get', 'nodes']), new RegExp(`^${other.spec.nodeName}\\s+Ready,SchedulingDisabled`, 'm'));
    const drained = await k.run(['drain', first.spec.nodeName, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout', '90s']);
    assert.equal(drained.code, 0, drained.stderr + drained.stdout);
    assert.match(drained.stdout, /evicting pod default\/spread-0|pod\/spread-0 evicted/);
    assert.match(drained.stdout, new RegExp(`node/${first.spec.nodeName} drained`));
    // The pod keeps its name, not its UID, and goes to the only node left for it.
    const moved = await poll('spread-0 back and Ready', 30_000, async () => {
      const p = (await pods('spread')).find((x) => x.metadata.name === 'spread-0');
      return p && p.metadata.uid !== first.metadata.uid && isReady(p) ? p : undefined;
    });
    assert.equal(moved.spec.nodeName, free);
    // The budget was honoured: spread-1 never went.
    assert.equal((await pods('spread')).find((x) => x.metadata.name === 'spread-1')!.metadata.uid, other.metadata.uid);
  } finally {
    await k.ok(['uncordon', first.spec.nodeName]);
    await k.ok(['uncordon', other.spec.nodeName]);
  }
  assert.doesNotMatch(await k.ok(['get', 'nodes']), /SchedulingDisabled/);
  await k.ok(['delete', 'statefulset', 'spread']);
  await k.ok(['delete', 'pdb', 'spread']);
});

test('a replacement whose claim is on a lost node waits Pending until the node is back', { timeout: 180_000 }, async () => {
  await k.ok(['apply', '-f', '-'], SET('db', 2, true));
  await poll('db-0 and db-1 Ready', 30_000, async () => {
    const ps = await pods('db');
    return ps.length === 2 && ps.every(isReady);
  });
  const before = (await pods('db')).find((p) => p.metadata.name === 'db-0')!;
  const lost = nodes.find((n) => n.name === before.spec.nodeName)!;
  lost.agent.signal('SIGSTOP');
  try {
    await poll('db-0 Terminating after the node is lost', 60_000, async () => (await k.json(['get', 'pod', 'db-0'])).metadata.deletionTimestamp);
    await k.ok(['delete', 'pod', 'db-0', '--force', '--grace-period=0']);
    const pending = await poll('a new db-0, Pending', 20_000, async () => {
      const p = await k.json(['get', 'pod', 'db-0']).catch(() => undefined);
      return p && p.metadata.uid !== before.metadata.uid && p.status.phase === 'Pending' ? p : undefined;
    });
    assert.equal(pending.spec.nodeName ?? '', '');
    // The scheduler says why, as upstream's: the claim's volume is pinned to the lost node.
    const why = await poll('a FailedScheduling event', 20_000, async () => {
      const evs = (await k.json(['get', 'events', '--field-selector', `involvedObject.uid=${pending.metadata.uid}`])).items;
      return evs.find((e: any) => e.reason === 'FailedScheduling')?.message;
    });
    assert.match(why, /volume node affinity conflict/);
    assert.match(why, /untolerated taint \{node\.kubernetes\.io\/unreachable: \}/);
    // Still Pending a while later: never started away from its volume.
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal((await k.json(['get', 'pod', 'db-0'])).spec.nodeName ?? '', '');
  } finally {
    lost.agent.signal('SIGCONT');
  }
  const back = await poll('db-0 running on its own node again', 60_000, async () => {
    const p = await k.json(['get', 'pod', 'db-0']).catch(() => undefined);
    return p && isReady(p) ? p : undefined;
  });
  assert.equal(back.spec.nodeName, lost.name);
});

function SET(name: string, replicas: number, claims: boolean): string {
  const set: any = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name },
    spec: {
      serviceName: name,
      replicas,
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: name } }, topologyKey: 'kubernetes.io/hostname' }] } },
          containers: [{ name: 'c', image: 'nginx:1' }],
        },
      },
    },
  };
  if (claims) set.spec.volumeClaimTemplates = [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }];
  return JSON.stringify(set);
}
