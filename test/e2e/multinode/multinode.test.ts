// Three machines joined to one server, each in its own network namespace on a private LAN, each
// agent with its own containerd, real containers: the tutorial's web StatefulSet spread one pod per
// node (required anti-affinity by hostname, as the ZooKeeper example), pods reaching pods on other
// nodes by DNS name and through a ClusterIP Service (host-gw routes, no overlay, no NAT), and a pod
// listing pods through kubernetes.default with its token. Root only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { createLan, type Lan, type Machine } from './lan.ts';
import { realClusterUnavailable } from '../containerd/real-cluster.ts';
import { nginxSlimImage, ociArchive, fileNameFor } from '../images/build.ts';
import { netToolsImage, netToolsUnavailable, NET_TOOLS_IMAGE } from '../images/net-tools.ts';

const root = resolve(import.meta.dirname, '../../..');
const main = join(root, 'src/cli/main.ts');

const skip = process.getuid?.() !== 0 ? 'needs root (network namespaces, containerd)' : realClusterUnavailable() ?? netToolsUnavailable() ?? (existsSync('/usr/bin/nsenter') ? undefined : 'nsenter (util-linux) is missing');

interface Proc {
  proc: ChildProcess;
  out: () => string;
  stop(): Promise<void>;
}

function track(proc: ChildProcess): Proc {
  let out = '';
  proc.stdout?.on('data', (d) => (out += d));
  proc.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return {
    proc,
    out: () => out,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      try {
        process.kill(-proc.pid!, 'SIGTERM');
      } catch {}
      const t = setTimeout(() => {
        try {
          process.kill(-proc.pid!, 'SIGKILL');
        } catch {}
      }, 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

let lan: Lan;
let work: string;
let serverDir: string;
let server: Proc;
const agents: Proc[] = [];
const agentDirs: string[] = [];

function kubectl(args: string[], input?: string): { code: number; stdout: string; stderr: string } {
  return lan.exec(lan.server, 'kubectl', ['--kubeconfig', join(serverDir, 'kubeconfig'), ...args], { input, timeoutMs: 60_000 });
}

function kubectlOk(args: string[], input?: string): string {
  const r = kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

async function waitUntil(cond: () => boolean, ms: number, what: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function dumpLogs(): void {
  process.stderr.write(`--- server\n${server?.out().slice(-6000)}\n`);
  agents.forEach((a, i) => process.stderr.write(`--- agent ${i + 1}\n${a.out().slice(-6000)}\n`));
}

before(async () => {
  if (skip) return;
  lan = createLan(3);
  work = mkdtempSync(join(tmpdir(), 'ordinal-multinode-'));
  serverDir = join(work, 'server');
  const srv = lan.spawn(lan.server, process.execPath, [main, 'up', '--data-dir', serverDir, '--host', lan.server.ip, '--port', '6443', '--runtime', 'sim', '--nodes', '0', '--dns-port', '0'], { ORDINAL_LOG_LEVEL: 'info' });
  server = track(srv);
  await waitUntil(() => /ready at https/.test(server.out()), 30_000, () => `server start:\n${server.out()}`);
  const token = lan.exec(lan.server, process.execPath, [main, 'token', 'create', '--data-dir', serverDir]);
  const m = /ordinal agent --server (\S+) --token (\S+) --ca-cert-hash (\S+)/.exec(token.stdout);
  if (!m) throw new Error(`no join command: ${token.stdout}${token.stderr}`);
  // Every node gets the test images from its images directory, imported at start.
  const images = [nginxSlimImage(), netToolsImage()];
  lan.nodes.forEach((node: Machine, i: number) => {
    const dir = join(work, `agent${i + 1}`);
    agentDirs.push(dir);
    mkdirSync(join(dir, 'images'), { recursive: true });
    for (const img of images) writeFileSync(join(dir, 'images', fileNameFor(img.ref)), ociArchive([img]));
    const p = lan.spawn(node, process.execPath, [main, 'agent', '--server', m[1]!, '--token', m[2]!, '--ca-cert-hash', m[3]!, '--node-name', `node${i + 1}`, '--data-dir', dir, '--bridge', `ordn${i + 1}`], { ORDINAL_LOG_LEVEL: 'info' });
    agents.push(track(p));
  });
  await waitUntil(() => agents.every((a) => / joined /.test(a.out())), 90_000, () => agents.map((a) => a.out().slice(-3000)).join('\n----\n'));
});

after(async () => {
  if (skip) return;
  // Pods first (their containers live in the agents' containerds), then the agents, then the server.
  kubectl(['delete', 'statefulset', 'web', '--wait=false']);
  kubectl(['delete', 'pod', '--all', '--grace-period=1', '--wait=true', '--timeout=30s']);
  await Promise.all(agents.map((a) => a.stop()));
  await server?.stop();
  lan?.destroy();
  rmSync(work, { recursive: true, force: true });
});

const WEB = `
apiVersion: v1
kind: Service
metadata: { name: nginx, labels: { app: nginx } }
spec:
  clusterIP: None
  selector: { app: nginx }
  ports: [{ port: 80, name: web }]
---
apiVersion: v1
kind: Service
metadata: { name: nginx-cip }
spec:
  selector: { app: nginx }
  ports: [{ port: 80, targetPort: 80, name: web }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: web }
spec:
  serviceName: nginx
  replicas: 3
  selector: { matchLabels: { app: nginx } }
  template:
    metadata: { labels: { app: nginx } }
    spec:
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: { matchLabels: { app: nginx } }
            topologyKey: kubernetes.io/hostname
      containers:
      - name: nginx
        image: registry.k8s.io/nginx-slim:0.8
        command: [sh, -c, 'hostname > /usr/share/nginx/html/index.html && exec httpd -f -p 80 -h /usr/share/nginx/html']
        ports: [{ containerPort: 80, name: web }]
        readinessProbe: { httpGet: { path: /, port: 80 }, periodSeconds: 1 }
        volumeMounts: [{ name: www, mountPath: /usr/share/nginx/html }]
  volumeClaimTemplates:
  - metadata: { name: www }
    spec:
      accessModes: [ReadWriteOnce]
      resources: { requests: { storage: 1Gi } }
`;

test('three joined nodes run the web StatefulSet one pod per node, and pods reach each other across nodes', { skip, timeout: 300_000 }, async (t) => {
  try {
    await waitUntil(() => (kubectl(['get', 'nodes', '--no-headers']).stdout.match(/ Ready /g) ?? []).length === 3, 60_000, () => kubectl(['get', 'nodes', '-o', 'wide']).stdout);
    const wide = kubectlOk(['get', 'nodes', '-o', 'wide']);
    for (const [i, node] of lan.nodes.entries()) assert.match(wide, new RegExp(`^node${i + 1}\\s+Ready\\s+<none>\\s+\\S+\\s+v1\\.32\\.0\\s+${node.ip.replace(/\./g, '\\.')}\\s+<none>\\s+.*containerd://`, 'm'));

    kubectlOk(['apply', '-f', '-'], WEB);
    await waitUntil(
      () => {
        const pods = JSON.parse(kubectlOk(['get', 'pods', '-l', 'app=nginx', '-o', 'json'])).items;
        return pods.length === 3 && pods.every((p: any) => p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'));
      },
      120_000,
      () => kubectl(['get', 'pods', '-o', 'wide']).stdout + kubectl(['describe', 'pods']).stdout.slice(-4000),
    );
    const pods = JSON.parse(kubectlOk(['get', 'pods', '-l', 'app=nginx', '-o', 'json'])).items;
    assert.deepEqual(pods.map((p: any) => p.spec.nodeName).sort(), ['node1', 'node2', 'node3']);
    const byName = new Map<string, any>(pods.map((p: any) => [p.metadata.name, p]));
    t.diagnostic(kubectlOk(['get', 'pods', '-o', 'wide']));

    // Each claim's directory is on its own node's disk (its data dir), made at first mount.
    const pvs = JSON.parse(kubectlOk(['get', 'pv', '-o', 'json'])).items;
    for (const pv of pvs) {
      const node = pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0];
      assert.ok(pv.spec.local.path.startsWith(join(work, `agent${node.slice(4)}`)), `${pv.metadata.name} at ${pv.spec.local.path} on ${node}`);
    }

    // Pod to pod across nodes, by the headless Service's per-pod names (exec goes through the node's own API).
    for (const [from, to] of [['web-0', 'web-2'], ['web-2', 'web-1'], ['web-1', 'web-0']] as const) {
      assert.notEqual(byName.get(from).spec.nodeName, byName.get(to).spec.nodeName);
      const page = kubectlOk(['exec', from, '--', 'wget', '-qO-', `http://${to}.nginx`]);
      assert.equal(page.trim(), to, `${from} fetched ${to}.nginx`);
    }
    // By address too, and the headless Service name lists all three.
    const ip2 = byName.get('web-2').status.podIP;
    assert.equal(kubectlOk(['exec', 'web-0', '--', 'wget', '-qO-', `http://${ip2}/`]).trim(), 'web-2');
    const lookup = kubectlOk(['exec', 'web-1', '--', 'nslookup', 'nginx.default.svc.cluster.local']);
    for (const p of pods) assert.ok(lookup.includes(p.status.podIP), `nslookup nginx lists ${p.status.podIP}:\n${lookup}`);

    // The ClusterIP Service balances over the three pods, from any node.
    const seen = new Set<string>();
    for (let i = 0; i < 12 && seen.size < 3; i++) seen.add(kubectlOk(['exec', 'web-0', '--', 'wget', '-qO-', 'http://nginx-cip']).trim());
    assert.deepEqual([...seen].sort(), ['web-0', 'web-1', 'web-2']);

    // A pod lists pods through kubernetes.default with its own token and the mounted CA, as RBAC grants it.
    kubectlOk(['run', 'lister', '--image', NET_TOOLS_IMAGE, '--image-pull-policy', 'Never', '--restart', 'Never', '--overrides', JSON.stringify({ spec: { nodeName: byName.get('web-1').spec.nodeName } }), '--command', '--', 'sleep', '3600']);
    await waitUntil(() => /Running/.test(kubectl(['get', 'pod', 'lister']).stdout), 60_000, () => kubectl(['describe', 'pod', 'lister']).stdout);
    // Its account holds nothing by default (RBAC); the test grants it view first.
    kubectlOk(['create', 'rolebinding', 'default-view', '--clusterrole=view', '--serviceaccount=default:default']);
    const listed = kubectlOk([
      'exec',
      'lister',
      '--',
      'sh',
      '-c',
      'SA=/var/run/secrets/kubernetes.io/serviceaccount; /usr/bin/curl -sS --fail-with-body --cacert $SA/ca.crt -H "Authorization: Bearer $(cat $SA/token)" https://kubernetes.default.svc/api/v1/namespaces/default/pods',
    ]);
    const names = JSON.parse(listed).items.map((p: any) => p.metadata.name);
    assert.ok(names.includes('web-0') && names.includes('lister'), names.join(','));

    // What each node's runtime really runs, through the node proxy.
    for (const p of pods) {
      const running = JSON.parse(kubectlOk(['get', '--raw', `/api/v1/nodes/${p.spec.nodeName}/proxy/pods`])).items.map((x: any) => x.metadata.name);
      assert.ok(running.includes(p.metadata.name), `${p.spec.nodeName} runs ${running}`);
    }
  } catch (err) {
    dumpLogs();
    throw err;
  }
});
