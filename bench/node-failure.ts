// Node failure timings: from a node agent freezing (SIGSTOP) to its pod leaving the ready addresses
// of its Service's Endpoints, and from the operator's force delete to the replacement Ready on the
// other node. Two simulated nodes as `ordinal agent` processes; each run freezes the node that runs
// web-0, then resumes it. Prints the configured periods with the figures.
//   node bench/node-failure.ts [--runs 3] [--grace 15s] [--period 1s] [--toleration 5]
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { startServer, joinSimNodes, freePort, poll, isReady, webSet, tempDir, kubectlFor } from '../test/support/failure-cluster.ts';
import { readKubeconfig } from '../src/tools/identity-checker/sampler.ts';
import { HttpClient } from '../src/client/http-client.ts';

const { values } = parseArgs({ options: { runs: { type: 'string' }, grace: { type: 'string' }, period: { type: 'string' }, toleration: { type: 'string' } } });
const runs = Number(values.runs ?? 3);
const grace = values.grace ?? '15s';
const period = values.period ?? '1s';
const toleration = values.toleration ?? '5';
// The agent renews its Lease every 10 s (the kubelet's default): the grace has to exceed it.
const LEASE_RENEW_S = 10;

const dataDir = tempDir('ordinal-bench-nf-');
const server = await startServer(dataDir, await freePort(), ['--nodes', '0', '--node-monitor-period', period, '--node-monitor-grace-period', grace, '--default-unreachable-toleration-seconds', toleration, '--default-not-ready-toleration-seconds', toleration]);
const nodes = await joinSimNodes(dataDir, ['n1', 'n2']);
const kubeconfig = join(dataDir, 'kubeconfig');
const k = kubectlFor(kubeconfig);
const access = readKubeconfig(kubeconfig);
const api = new HttpClient({ servers: [access.server], caCertPem: access.caCertPem, credentials: access.credentials });
const podsR = api.resource('', 'pods');
const endpointsR = api.resource('', 'endpoints');
const nodesR = api.resource('', 'nodes');
const ms = (t: number) => `${(t / 1000).toFixed(2)} s`;
const results: { toEndpoints: number; toUnknown: number; toReplacement: number }[] = [];

try {
  await poll('two nodes Ready', 30_000, async () => (await api.list(nodesR)).items.filter(isReady).length === 2);
  await k.ok(['apply', '-f', '-'], webSet(1));
  for (let run = 1; run <= runs; run++) {
    const pod = await poll('web-0 Ready, in the Endpoints', 120_000, async () => {
      const p = await api.get(podsR, 'default', 'web-0').catch(() => undefined);
      const ep = await api.get(endpointsR, 'default', 'web').catch(() => undefined);
      const other = (await api.list(nodesR)).items.find((n) => n.metadata.name !== p?.spec.nodeName);
      return p && isReady(p) && !p.metadata.deletionTimestamp && ep?.subsets?.[0]?.addresses?.length === 1 && isReady(other) && !other?.spec.taints?.length && p;
    });
    const node = nodes.find((n) => n.name === pod.spec.nodeName)!;
    // Freeze at a random point of the Lease's renewal cycle, as a real failure would.
    await new Promise((r) => setTimeout(r, Math.random() * LEASE_RENEW_S * 1000));
    const frozenAt = performance.now();
    node.agent.signal('SIGSTOP');
    let toUnknown = 0;
    await poll('web-0 out of the ready addresses', 120_000, async () => {
      if (!toUnknown) {
        const n = await api.get(nodesR, undefined, node.name);
        if (n.status.conditions.find((c: any) => c.type === 'Ready')?.status === 'Unknown') toUnknown = performance.now() - frozenAt;
      }
      const ep = await api.get(endpointsR, 'default', 'web');
      return !ep.subsets?.[0]?.addresses?.length;
    }, 20);
    const toEndpoints = performance.now() - frozenAt;
    await poll('web-0 Terminating', 120_000, async () => !!(await api.get(podsR, 'default', 'web-0')).metadata.deletionTimestamp);
    const deletedAt = performance.now();
    await api.delete(podsR, 'default', 'web-0', { gracePeriodSeconds: 0 });
    await poll('the replacement Ready', 60_000, async () => {
      const p = await api.get(podsR, 'default', 'web-0').catch(() => undefined);
      return p && p.metadata.uid !== pod.metadata.uid && isReady(p);
    }, 10);
    const toReplacement = performance.now() - deletedAt;
    results.push({ toEndpoints, toUnknown: toUnknown || toEndpoints, toReplacement });
    process.stdout.write(`run ${run}: ${node.name} frozen → Unknown ${ms(toUnknown)}, → out of the Endpoints ${ms(toEndpoints)}; force delete → replacement Ready ${ms(toReplacement)}\n`);
    node.agent.signal('SIGCONT');
    await poll(`${node.name} Ready again`, 60_000, async () => isReady(await api.get(nodesR, undefined, node.name)));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  process.stdout.write(
    [
      '',
      `conditions: ${cpus().length} cores, simulated runtime (start delay 0), 2 nodes as agent processes, 1-replica StatefulSet;`,
      `  --node-monitor-grace-period ${grace}, --node-monitor-period ${period}, toleration ${toleration} s, agent Lease renewed every ${LEASE_RENEW_S} s, freeze at a random point of it;`,
      '  the force delete is a DELETE with gracePeriodSeconds 0 through the API (what kubectl --force --grace-period=0 sends), polled every 10 ms',
      `freeze → pod out of the Endpoints: median ${ms(median(results.map((r) => r.toEndpoints)))} (expected between grace − renewal and grace + period: ${grace} − ${LEASE_RENEW_S}s … ${grace} + ${period})`,
      `  of which freeze → node Unknown: median ${ms(median(results.map((r) => r.toUnknown)))}`,
      `force delete → replacement Ready: median ${ms(median(results.map((r) => r.toReplacement)))}`,
      '',
    ].join('\n'),
  );
} finally {
  api.close();
  for (const n of nodes) n.agent.signal('SIGKILL');
  await server.stop();
  for (const n of nodes) rmSync(n.dir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
}
