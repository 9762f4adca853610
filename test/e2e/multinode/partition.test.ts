// A node cut off the network (its namespace's link taken down) while it runs web-1 in a real
// container: the node turns Unknown, web-1 NotReady then Terminating, and is not replaced; its
// container keeps running on the cut-off node (as it would: nothing can tell it to stop), shown by
// that node's containerd. After the operator's force delete a new web-1 runs on another node; when
// the link comes back the old node kills its copy. `ordinal check-identities` runs all along in the
// server's namespace and reports only the forced overlap. Root only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { realClusterUnavailable } from '../containerd/real-cluster.ts';
import { nginxSlimImage } from '../images/build.ts';
import { containerdLayout } from '../../../src/agent/containerd-supervisor/config.ts';
import { startLanCluster, track, waitUntil as waitFor, type LanCluster, type Proc } from './lan-cluster.ts';
import { isReady, waitForWebPods, webSetManifest } from './web-set.ts';

const main = join(resolve(import.meta.dirname, '../../..'), 'src/cli/main.ts');

const skip = process.getuid?.() !== 0 ? 'needs root (network namespaces, containerd)' : realClusterUnavailable() ?? (existsSync('/usr/bin/nsenter') ? undefined : 'nsenter (util-linux) is missing');

let c: LanCluster;
let checker: Proc | undefined;

const kubectl = (args: string[], input?: string) => c.kubectl(args, input);
const kubectlOk = (args: string[], input?: string) => c.kubectlOk(args, input);
const json = (args: string[]) => JSON.parse(kubectlOk([...args, '-o', 'json']));
const ready = isReady;

/** As lan-cluster's, but a failing read (the node cut off, kubectl timing out) only means "not yet". */
const waitUntil = (cond: () => boolean, ms: number, what: () => string) =>
  waitFor(
    () => {
      try {
        return cond();
      } catch {
        return false;
      }
    },
    ms,
    what,
  );

/** Running tasks of a pod's containers (sandbox included) in a node's own containerd, asked on that node. */
function runningTasks(i: number, uid: string): number {
  const socket = containerdLayout(c.agentDirs[i]!).socket;
  const ctr = (args: string[]) => c.lan.exec(c.lan.nodes[i]!, 'ctr', ['--address', socket, '-n', 'k8s.io', ...args]).stdout;
  const ids = new Set(ctr(['containers', 'ls', '-q', `labels."io.kubernetes.pod.uid"==${uid}`]).split('\n').filter(Boolean));
  return ctr(['tasks', 'ls']).split('\n').filter((l) => ids.has(l.split(/\s+/)[0]!) && /RUNNING/.test(l)).length;
}

before(async () => {
  if (skip) return;
  // The agents renew their Lease every 10 s: the grace exceeds that; evictions after 5 s.
  c = await startLanCluster({
    nodes: 3,
    images: [nginxSlimImage()],
    serverArgs: ['--node-monitor-period', '1s', '--node-monitor-grace-period', '15s', '--default-unreachable-toleration-seconds', '5', '--default-not-ready-toleration-seconds', '5'],
  });
});

after(async () => {
  if (skip || !c) return;
  await checker?.stop('SIGKILL');
  for (const l of c.lan.nodes) c.lan.cut(l, false);
  await c.destroy();
});

test('a node cut off keeps running its web-1 container, not replaced until a force delete; it kills it when the link is back', { skip, timeout: 420_000 }, async () => {
  const t0 = Date.now();
  const log: string[] = [];
  const say = (s: string) => log.push(`${((Date.now() - t0) / 1000).toFixed(1)} s ${s}`);
  try {
    // The checker as any user runs it: the command, in the server's machine, until interrupted.
    checker = track(c.lan.spawn(c.lan.server, process.execPath, [main, 'check-identities', '--kubeconfig', join(c.serverDir, 'kubeconfig'), '--interval', '200ms']));
    await waitUntil(() => /checking pod identities/.test(checker!.out()), 30_000, () => checker!.out());
    kubectlOk(['apply', '-f', '-'], webSetManifest({ replicas: 2, parallel: true }));
    await waitForWebPods(c, 2, 180_000);
    const old1 = json(['get', 'pod', 'web-1']);
    const i = Number(old1.spec.nodeName.slice(4)) - 1;
    const node = c.lan.nodes[i]!;
    assert.ok(runningTasks(i, old1.metadata.uid) >= 2, 'web-1 sandbox and container run on its node');
    say(`web-1 Ready on ${old1.spec.nodeName}`);

    c.lan.cut(node, true);
    say(`${old1.spec.nodeName} cut off`);
    await waitUntil(() => ready(json(['get', 'node', old1.spec.nodeName]), 'Unknown'), 60_000, () => 'node Unknown');
    say(`${old1.spec.nodeName} Unknown`);
    await waitUntil(() => !!json(['get', 'pod', 'web-1']).metadata.deletionTimestamp, 60_000, () => 'web-1 Terminating');
    say('web-1 Terminating');
    // Not replaced while the old object exists; its container goes on running on the cut-off node.
    const until = Date.now() + 20_000;
    while (Date.now() < until) {
      assert.equal(json(['get', 'pod', 'web-1']).metadata.uid, old1.metadata.uid);
      await new Promise((r) => setTimeout(r, 1000));
    }
    assert.ok(runningTasks(i, old1.metadata.uid) >= 2, 'the old web-1 still runs on the cut-off node');
    say('old web-1 still running on the cut-off node, not replaced after 20 s');

    const forced = kubectl(['delete', 'pod', 'web-1', '--force', '--grace-period=0']);
    assert.equal(forced.code, 0, forced.stderr);
    say('web-1 force-deleted');
    await waitUntil(() => {
      const p = json(['get', 'pod', 'web-1']);
      return p.metadata.uid !== old1.metadata.uid && p.spec.nodeName !== old1.spec.nodeName && ready(p);
    }, 120_000, () => kubectl(['get', 'pods', '-o', 'wide']).stdout);
    say(`new web-1 Ready on ${json(['get', 'pod', 'web-1']).spec.nodeName}`);
    assert.ok(runningTasks(i, old1.metadata.uid) >= 2, 'both copies run now: the forced overlap');

    c.lan.cut(node, false);
    say(`${old1.spec.nodeName} link back`);
    await waitUntil(() => runningTasks(i, old1.metadata.uid) === 0, 60_000, () => 'old web-1 killed');
    say('old web-1 killed by its node');
    await waitUntil(() => ready(json(['get', 'node', old1.spec.nodeName])), 60_000, () => 'node Ready');
    const listing = JSON.parse(kubectlOk(['get', '--raw', `/api/v1/nodes/${old1.spec.nodeName}/proxy/pods`]));
    assert.ok(!listing.items.some((p: any) => p.metadata.uid === old1.metadata.uid));
    await new Promise((r) => setTimeout(r, 1500));

    checker.proc.kill('SIGINT');
    await new Promise((r) => checker!.proc.once('exit', r));
    const out = checker.out();
    process.stdout.write(`# ${log.join('\n# ')}\n# ${out.trim().split('\n').slice(-4).join('\n# ')}\n`);
    assert.equal(checker.proc.exitCode, 0, out);
    assert.match(out, /identity check: OK/);
    const forcedLines = out.split('\n').filter((l) => l.startsWith('forced overlap'));
    assert.equal(forcedLines.length, 1, out);
    assert.match(forcedLines[0]!, /pod default\/web-1/);
    assert.ok(!/VIOLATION/.test(out), out);
  } catch (err) {
    process.stderr.write(`--- log\n${log.join('\n')}\n--- checker\n${checker?.out().slice(-4000)}\n`);
    c.dumpLogs();
    throw err;
  }
});
