// The at-most-one guarantee under node failure, proven by the identity checker from every node's own
// /pods listing, with the real kubectl and every node an `ordinal agent` process (simulated runtime):
// a. a node frozen (SIGSTOP) while it runs web-0 and web-1: Unknown, pods NotReady then Terminating,
//    no second web-1 for a long wait; after the operator's force delete a new web-1 runs elsewhere;
//    SIGCONT and the old agent stops its copy. The only overlap the checker sees is the forced one.
// c. a node shut down (agent killed with its runtime): the out-of-service taint moves its pod without
//    a per-pod force delete, and the checker finds no violation.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { startServer, joinSimNodes, freePort, kubectlFor, poll, condition, isReady, webSet, tempDir, type ServerProcess, type SimNode } from '../support/failure-cluster.ts';
import { startIdentityChecker, formatVerdict, type IdentityChecker } from '../../src/tools/identity-checker/sampler.ts';

let server: ServerProcess | undefined;
let nodes: SimNode[] = [];
let checker: IdentityChecker | undefined;
const dataDir = tempDir('ordinal-identity-');

after(async () => {
  await checker?.stop();
  for (const n of nodes) n.agent.signal('SIGKILL');
  await server?.stop();
  for (const n of nodes) rmSync(n.dir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

const stamp = (t0: number) => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

test('a frozen node, a force delete, its return; then a node shut down and the out-of-service taint: only the forced overlap', { timeout: 420_000 }, async () => {
  // The agents renew their Lease every 10 s (the kubelet's default), so the grace must exceed that.
  server = await startServer(dataDir, await freePort(), ['--nodes', '0', '--node-monitor-period', '1s', '--node-monitor-grace-period', '15s', '--default-unreachable-toleration-seconds', '5', '--default-not-ready-toleration-seconds', '5']);
  const k = kubectlFor(join(dataDir, 'kubeconfig'));
  const log: string[] = [];
  const t0 = Date.now();
  try {
    nodes = await joinSimNodes(dataDir, ['n1', 'n2', 'n3']);
    await poll('three nodes Ready', 30_000, async () => (await k.json(['get', 'nodes'])).items.filter(isReady).length === 3);
    checker = await startIdentityChecker({ kubeconfig: join(dataDir, 'kubeconfig'), intervalMs: 200, onNote: (l) => log.push(`${stamp(t0)} ${l}`) });

    // web-0 and web-1 both on n2: the other nodes are cordoned while the set starts.
    await k.ok(['cordon', 'n1', 'n3']);
    await k.ok(['apply', '-f', '-'], webSet(2));
    await poll('web-0 and web-1 Ready on n2', 30_000, async () => {
      const pods = (await k.json(['get', 'pods', '-l', 'app=web'])).items;
      return pods.length === 2 && pods.every((p: any) => p.spec.nodeName === 'n2' && isReady(p));
    });
    await k.ok(['uncordon', 'n1', 'n3']);
    await poll('n1 and n3 schedulable', 15_000, async () => (await k.json(['get', 'nodes'])).items.every((n: any) => !n.spec.taints?.length));
    const old1 = await k.json(['get', 'pod', 'web-1']);
    const n2 = nodes.find((n) => n.name === 'n2')!;
    const runsOnN2 = async () => JSON.parse((await k.ok(['get', '--raw', '/api/v1/nodes/n2/proxy/pods'])) || '{}').items.map((p: any) => p.metadata.uid);
    assert.ok((await runsOnN2()).includes(old1.metadata.uid), "n2's runtime runs web-1");

    // a. Freeze n2.
    n2.agent.signal('SIGSTOP');
    log.push(`${stamp(t0)} n2 frozen (SIGSTOP)`);
    await poll('n2 Unknown', 40_000, async () => condition(await k.json(['get', 'node', 'n2']), 'Ready')?.status === 'Unknown');
    log.push(`${stamp(t0)} n2 Unknown`);
    await poll('web-1 NotReady', 15_000, async () => condition(await k.json(['get', 'pod', 'web-1']), 'Ready')?.status === 'False');
    await poll('web-1 Terminating', 40_000, async () => !!(await k.json(['get', 'pod', 'web-1'])).metadata.deletionTimestamp);
    assert.match(await k.ok(['get', 'pod', 'web-1']), /web-1\s+\S+\s+Terminating/);
    log.push(`${stamp(t0)} web-1 Terminating`);
    // No second web-1 for a long wait: the old object stays, never confirmed by the frozen node.
    const until = Date.now() + 25_000;
    while (Date.now() < until) {
      const pods = (await k.json(['get', 'pods', '-l', 'app=web'])).items.filter((p: any) => p.metadata.name === 'web-1');
      assert.deepEqual(pods.map((p: any) => p.metadata.uid), [old1.metadata.uid], 'a second web-1 while the old one was not confirmed gone');
      await new Promise((r) => setTimeout(r, 1000));
    }
    assert.equal(checker.verdict().violations.length, 0, formatVerdict(checker.verdict()));
    assert.equal(checker.verdict().forced.length, 0);

    // The operator's force delete: a new web-1 on another node.
    const forced = await k.run(['delete', 'pod', 'web-1', '--force', '--grace-period=0']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stderr, /Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated/);
    log.push(`${stamp(t0)} web-1 force-deleted`);
    const new1 = await poll('a new web-1 Ready elsewhere', 30_000, async () => {
      const p = await k.json(['get', 'pod', 'web-1']);
      return p.metadata.uid !== old1.metadata.uid && p.spec.nodeName !== 'n2' && isReady(p) && p;
    });
    log.push(`${stamp(t0)} new web-1 Ready on ${new1.spec.nodeName}`);
    await new Promise((r) => setTimeout(r, 2000));

    // The node comes back: it stops the copy the API no longer binds to it.
    n2.agent.signal('SIGCONT');
    log.push(`${stamp(t0)} n2 resumed (SIGCONT)`);
    await poll('old web-1 gone from n2', 40_000, async () => !(await runsOnN2()).includes(old1.metadata.uid));
    log.push(`${stamp(t0)} old web-1 gone from n2's runtime`);
    await poll('n2 Ready', 40_000, async () => isReady(await k.json(['get', 'node', 'n2'])));
    // web-0, Terminating on the frozen node, is confirmed by n2 itself and comes back.
    await poll('web-0 Ready again', 60_000, async () => {
      const p = await k.json(['get', 'pod', 'web-0']);
      return isReady(p) && !p.metadata.deletionTimestamp;
    });
    await new Promise((r) => setTimeout(r, 1000));
    let v = checker.verdict();
    assert.equal(v.ok, true, formatVerdict(v));
    assert.equal(v.forced.length, 1, formatVerdict(v));
    assert.equal(v.forced[0]!.identity, 'pod default/web-1');
    assert.equal(v.forced[0]!.forced!.uid, old1.metadata.uid);
    process.stdout.write(`# a. frozen node\n# ${formatVerdict(v).replaceAll('\n', '\n# ')}\n`);

    // c. Shut down the node that runs the new web-1: its agent killed, and its simulated runtime with it.
    const victim = nodes.find((n) => n.name === new1.spec.nodeName)!;
    victim.agent.signal('SIGKILL');
    await victim.agent.exited;
    log.push(`${stamp(t0)} ${victim.name} shut down (agent killed)`);
    await poll(`${victim.name} Unknown`, 40_000, async () => condition(await k.json(['get', 'node', victim.name]), 'Ready')?.status === 'Unknown');
    await poll('web-1 Terminating', 40_000, async () => !!(await k.json(['get', 'pod', 'web-1'])).metadata.deletionTimestamp);
    log.push(`${stamp(t0)} web-1 Terminating on ${victim.name}`);
    await k.ok(['taint', 'nodes', victim.name, 'node.kubernetes.io/out-of-service=nodeshutdown:NoExecute']);
    log.push(`${stamp(t0)} ${victim.name} tainted out-of-service`);
    const moved = await poll('web-1 moved by the out-of-service taint', 60_000, async () => {
      const p = await k.json(['get', 'pod', 'web-1']);
      return p.metadata.uid !== new1.metadata.uid && p.spec.nodeName !== victim.name && isReady(p) && p;
    });
    log.push(`${stamp(t0)} web-1 Ready on ${moved.spec.nodeName}`);
    await new Promise((r) => setTimeout(r, 1000));
    v = await checker.stop();
    checker = undefined;
    process.stdout.write(`# c. node shut down, out-of-service\n# ${formatVerdict(v).replaceAll('\n', '\n# ')}\n# ${log.join('\n# ')}\n`);
    assert.equal(v.ok, true, formatVerdict(v));
    // Pod GC's deletion was not confirmed by the (dead) node: the checker cannot see a dead runtime,
    // so it lists the possible overlap with the pod GC deletion apart, never as a violation.
    const second = v.forced.filter((o) => o.forced!.uid === new1.metadata.uid);
    assert.ok(second.every((o) => o.kind === 'possible'), formatVerdict(v));
    assert.equal(v.forced.filter((o) => o.forced!.uid === old1.metadata.uid).length, 1);
  } catch (err) {
    process.stderr.write(`--- log\n${log.join('\n')}\n--- server\n${server.logs().slice(-5000)}\n`);
    for (const n of nodes) process.stderr.write(`--- ${n.name}\n${n.agent.logs().slice(-3000)}\n`);
    throw err;
  }
});
