// Real pods over several machines: a Parallel StatefulSet of the nginx stand-in scaled 0 → N with
// the real `kubectl scale`, on a cluster of one server and K joined agents, each agent in its own
// network namespace with its own containerd (test/e2e/multinode/lan-cluster.ts), against the same
// set-up with one agent. Total = from `kubectl scale` starting until a watch (kubectl get -w in the
// server's namespace, timestamps taken on arrival) has seen all N pods Ready. Root only.
//
//   node bench/multinode-pods.ts [--pods 20] [--reps 3] [--agents 1,3]
import { parseArgs } from 'node:util';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { startLanCluster, waitUntil, type LanCluster } from '../test/e2e/multinode/lan-cluster.ts';
import { realClusterUnavailable } from '../test/e2e/containerd/real-cluster.ts';
import { nginxSlimImage } from '../test/e2e/images/build.ts';

const { values } = parseArgs({ options: { pods: { type: 'string', default: '20' }, reps: { type: 'string', default: '3' }, agents: { type: 'string', default: '1,3' } } });
const N = Number(values.pods);
const REPS = Number(values.reps);
const AGENTS = values.agents!.split(',').map(Number);

const why = process.getuid?.() !== 0 ? 'needs root' : realClusterUnavailable();
if (why) {
  console.log(`skipped: ${why}`);
  process.exit(0);
}

const SET = (replicas: number) => `
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: bench }
spec:
  serviceName: bench
  replicas: ${replicas}
  podManagementPolicy: Parallel
  selector: { matchLabels: { app: bench } }
  template:
    metadata: { labels: { app: bench } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: registry.k8s.io/nginx-slim:0.8
        imagePullPolicy: Never
`;

interface Rep {
  totalMs: number;
  perNode: Record<string, number>;
}

async function scaleOnce(c: LanCluster): Promise<Rep> {
  // One watch for the whole rep; its lines carry name, node and readiness.
  const watcher = c.lan.spawn(c.lan.server, 'kubectl', [
    '--kubeconfig',
    join(c.serverDir, 'kubeconfig'),
    'get',
    'pods',
    '-l',
    'app=bench',
    '-w',
    '-o',
    'jsonpath={.metadata.name} {.spec.nodeName} {.status.containerStatuses[0].ready}{"\\n"}',
  ]);
  const ready = new Map<string, { at: number; node: string }>();
  let buf = '';
  watcher.stdout!.on('data', (d) => {
    const at = performance.now();
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const [name, node, isReady] = buf.slice(0, nl).trim().split(' ');
      buf = buf.slice(nl + 1);
      if (name && isReady === 'true' && !ready.has(name)) ready.set(name, { at, node: node ?? '' });
    }
  });
  await new Promise((r) => setTimeout(r, 500)); // the watch is established
  const started = performance.now();
  c.kubectlOk(['scale', 'statefulset', 'bench', `--replicas=${N}`]);
  await waitUntil(() => ready.size >= N, 180_000, () => `${ready.size}/${N} Ready`);
  const totalMs = Math.max(...[...ready.values()].map((r) => r.at)) - started;
  const perNode: Record<string, number> = {};
  for (const r of ready.values()) perNode[r.node] = (perNode[r.node] ?? 0) + 1;
  try {
    process.kill(-watcher.pid!, 'SIGTERM');
  } catch {}
  c.kubectlOk(['scale', 'statefulset', 'bench', '--replicas=0']);
  await waitUntil(() => c.kubectl(['get', 'pods', '-l', 'app=bench', '--no-headers']).stdout.trim() === '', 120_000, () => 'pods gone');
  return { totalMs, perNode };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`conditions: ${cpus().length} cores (${cpus()[0]?.model}); server and agents share the machine, each agent in its own network namespace with its own containerd; ${N} pods of the ~1 MB busybox httpd image (imported), no probe, no claims; Node ${process.version}`);
for (const k of AGENTS) {
  const c = await startLanCluster({ nodes: k, images: [nginxSlimImage()], logLevel: 'warn' });
  try {
    c.kubectlOk(['apply', '-f', '-'], SET(0));
    const reps: Rep[] = [];
    for (let i = 0; i < REPS; i++) reps.push(await scaleOnce(c));
    console.log(`${k} agent(s): 0 → ${N} all Ready: ${reps.map((r) => Math.round(r.totalMs)).join(', ')} ms (median ${Math.round(median(reps.map((r) => r.totalMs)))} ms); pods per node: ${reps.map((r) => JSON.stringify(r.perNode)).join(' ')}`);
  } finally {
    await c.destroy();
  }
}
