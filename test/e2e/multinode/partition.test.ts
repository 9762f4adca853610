// A node cut off the network (its namespace's link taken down) while it runs web-1 in a real
// container: the node turns Unknown, web-1 NotReady then Terminating, and is not replaced; its
// container keeps running on the cut-off node (as it would: nothing can tell it to stop), shown by
// that node's containerd. After the operator's force delete a new web-1 runs on another node; when
// the link comes back the old node kills its copy. `ordinal check-identities` runs all along in the
// server's namespace and reports only the forced overlap. Root only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { createLan, type Lan, type Machine } from './lan.ts';
import { realClusterUnavailable } from '../containerd/real-cluster.ts';
import { nginxSlimImage, ociArchive, fileNameFor } from '../images/build.ts';
import { containerdLayout } from '../../../src/agent/containerd-supervisor/config.ts';

const root = resolve(import.meta.dirname, '../../..');
const main = join(root, 'src/cli/main.ts');

const skip = process.getuid?.() !== 0 ? 'needs root (network namespaces, containerd)' : realClusterUnavailable() ?? (existsSync('/usr/bin/nsenter') ? undefined : 'nsenter (util-linux) is missing');

interface Proc {
  proc: ChildProcess;
  out: () => string;
  stop(sig?: NodeJS.Signals): Promise<void>;
}

function track(proc: ChildProcess): Proc {
  let out = '';
  proc.stdout?.on('data', (d) => (out += d));
  proc.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return {
    proc,
    out: () => out,
    async stop(sig: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      try {
        process.kill(-proc.pid!, sig);
      } catch {}
      const t = setTimeout(() => {
        try {
          process.kill(-proc.pid!, 'SIGKILL');
        } catch {}
      }, 15_000);
      await exited;
      clearTimeout(t);
    },
  };
}

let lan: Lan;
let work: string;
let serverDir: string;
let server: Proc;
let checker: Proc | undefined;
const agents: Proc[] = [];
const agentDirs: string[] = [];

const kubectl = (args: string[], input?: string) => lan.exec(lan.server, 'kubectl', ['--kubeconfig', join(serverDir, 'kubeconfig'), ...args], { input, timeoutMs: 60_000 });
function kubectlOk(args: string[], input?: string): string {
  const r = kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}
const json = (args: string[]) => JSON.parse(kubectlOk([...args, '-o', 'json']));
const ready = (o: any, status = 'True') => o?.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === status);

async function waitUntil(cond: () => boolean, ms: number, what: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    let ok = false;
    try {
      ok = cond();
    } catch {}
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Running tasks of a pod's containers (sandbox included) in a node's own containerd, asked on that node. */
function runningTasks(i: number, uid: string): number {
  const socket = containerdLayout(agentDirs[i]!).socket;
  const ctr = (args: string[]) => lan.exec(lan.nodes[i]!, 'ctr', ['--address', socket, '-n', 'k8s.io', ...args]).stdout;
  const ids = new Set(ctr(['containers', 'ls', '-q', `labels."io.kubernetes.pod.uid"==${uid}`]).split('\n').filter(Boolean));
  return ctr(['tasks', 'ls']).split('\n').filter((l) => ids.has(l.split(/\s+/)[0]!) && /RUNNING/.test(l)).length;
}

const WEB = `
apiVersion: v1
kind: Service
metadata: { name: nginx }
spec:
  clusterIP: None
  selector: { app: nginx }
  ports: [{ port: 80, name: web }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: web }
spec:
  serviceName: nginx
  replicas: 2
  podManagementPolicy: Parallel
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
        command: [sh, -c, 'mkdir -p /tmp/www && hostname > /tmp/www/index.html && exec httpd -f -p 80 -h /tmp/www']
        ports: [{ containerPort: 80, name: web }]
`;

before(async () => {
  if (skip) return;
  lan = createLan(3);
  work = mkdtempSync(join(tmpdir(), 'ordinal-partition-'));
  serverDir = join(work, 'server');
  // The agents renew their Lease every 10 s: the grace exceeds that; evictions after 5 s.
  const srv = lan.spawn(lan.server, process.execPath, [main, 'up', '--data-dir', serverDir, '--host', lan.server.ip, '--port', '6443', '--runtime', 'sim', '--nodes', '0', '--dns-port', '0', '--node-monitor-period', '1s', '--node-monitor-grace-period', '15s', '--default-unreachable-toleration-seconds', '5', '--default-not-ready-toleration-seconds', '5'], { ORDINAL_LOG_LEVEL: 'info' });
  server = track(srv);
  await waitUntil(() => /ready at https/.test(server.out()), 30_000, () => `server start:\n${server.out()}`);
  const token = lan.exec(lan.server, process.execPath, [main, 'token', 'create', '--data-dir', serverDir]);
  const m = /ordinal agent --server (\S+) --token (\S+) --ca-cert-hash (\S+)/.exec(token.stdout);
  if (!m) throw new Error(`no join command: ${token.stdout}${token.stderr}`);
  const images = [nginxSlimImage()];
  lan.nodes.forEach((node: Machine, i: number) => {
    const dir = join(work, `agent${i + 1}`);
    agentDirs.push(dir);
    mkdirSync(join(dir, 'images'), { recursive: true });
    for (const img of images) writeFileSync(join(dir, 'images', fileNameFor(img.ref)), ociArchive([img]));
    agents.push(track(lan.spawn(node, process.execPath, [main, 'agent', '--server', m[1]!, '--token', m[2]!, '--ca-cert-hash', m[3]!, '--node-name', `node${i + 1}`, '--data-dir', dir, '--bridge', `ordp${i + 1}`], { ORDINAL_LOG_LEVEL: 'info' })));
  });
  await waitUntil(() => agents.every((a) => / joined /.test(a.out())), 90_000, () => agents.map((a) => a.out().slice(-3000)).join('\n----\n'));
});

after(async () => {
  if (skip) return;
  await checker?.stop('SIGKILL');
  for (const l of lan.nodes) lan.cut(l, false);
  kubectl(['delete', 'statefulset', 'web', '--wait=false']);
  kubectl(['delete', 'pod', '--all', '--grace-period=1', '--wait=true', '--timeout=30s']);
  await Promise.all(agents.map((a) => a.stop()));
  await server?.stop();
  lan?.destroy();
  rmSync(work, { recursive: true, force: true });
});

test('a node cut off keeps running its web-1 container, not replaced until a force delete; it kills it when the link is back', { skip, timeout: 420_000 }, async () => {
  const t0 = Date.now();
  const log: string[] = [];
  const say = (s: string) => log.push(`${((Date.now() - t0) / 1000).toFixed(1)} s ${s}`);
  try {
    await waitUntil(() => (kubectl(['get', 'nodes', '--no-headers']).stdout.match(/ Ready /g) ?? []).length === 3, 60_000, () => kubectl(['get', 'nodes', '-o', 'wide']).stdout);
    // The checker as any user runs it: the command, in the server's machine, until interrupted.
    checker = track(lan.spawn(lan.server, process.execPath, [main, 'check-identities', '--kubeconfig', join(serverDir, 'kubeconfig'), '--interval', '200ms']));
    await waitUntil(() => /checking pod identities/.test(checker!.out()), 30_000, () => checker!.out());
    kubectlOk(['apply', '-f', '-'], WEB);
    await waitUntil(() => {
      const pods = json(['get', 'pods', '-l', 'app=nginx']).items;
      return pods.length === 2 && pods.every((p: any) => ready(p));
    }, 180_000, () => kubectl(['get', 'pods', '-o', 'wide']).stdout);
    const old1 = json(['get', 'pod', 'web-1']);
    const i = Number(old1.spec.nodeName.slice(4)) - 1;
    const node = lan.nodes[i]!;
    assert.ok(runningTasks(i, old1.metadata.uid) >= 2, 'web-1 sandbox and container run on its node');
    say(`web-1 Ready on ${old1.spec.nodeName}`);

    lan.cut(node, true);
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

    lan.cut(node, false);
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
    process.stderr.write(`--- log\n${log.join('\n')}\n--- checker\n${checker?.out().slice(-4000)}\n--- server\n${server.out().slice(-5000)}\n`);
    agents.forEach((a, n) => process.stderr.write(`--- agent ${n + 1}\n${a.out().slice(-4000)}\n`));
    throw err;
  }
});
