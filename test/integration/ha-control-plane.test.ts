// A highly available control plane, as kubeadm's stacked HA: two `ordinal server` on one etcd, two
// `ordinal controllers` (each leader-elected as kube-controller-manager and kube-scheduler) talking to
// both servers, and a joined node agent given both server URLs. Killing the leading controllers
// process or one API server (kill -9) loses nothing: the other copy takes over and the cluster keeps
// converging.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCluster, stopCluster, removeCluster, kubectl, kubectlOk, waitUntil, tempDir, fixture, type Cluster } from './harness.ts';
import { etcdMissing, freePort, startEtcd, type Etcd } from '../support/etcd.ts';
import { startAgent, createJoinToken, type AgentProcess } from '../support/agents.ts';
import { startControllers, type ControllersProcess } from '../support/controllers.ts';
import { HttpClient } from '../../src/client/http-client.ts';

const skip = etcdMissing();
let etcd: Etcd;
let a: Cluster;
let b: Cluster;
const ctrls: ControllersProcess[] = [];
let agent: AgentProcess | undefined;
const dirs: string[] = [];

// Both servers listen on the same port on two loopback addresses, as two machines would, and
// advertise documentation addresses (TEST-NET-1): the kubernetes Endpoints only list them, nothing
// is ever sent there.
const HOST_A = '127.0.0.2';
const HOST_B = '127.0.0.3';
const ADV_A = '192.0.2.1';
const ADV_B = '192.0.2.2';
let port: number;
const urls = () => [`https://${HOST_A}:${port}`, `https://${HOST_B}:${port}`];

function copyPki(from: string): string {
  const dir = tempDir('ordinal-ha-');
  mkdirSync(dir, { recursive: true });
  cpSync(join(from, 'pki'), join(dir, 'pki'), { recursive: true });
  dirs.push(dir);
  return dir;
}

const serverArgs = (host: string, adv: string) => ['--store', 'etcd', '--etcd-servers', etcd.url, '--host', host, '--port', String(port), '--advertise-address', adv];

before(async () => {
  if (skip) return;
  etcd = await startEtcd();
  port = await freePort();
  a = await startCluster({ command: 'server', args: serverArgs(HOST_A, ADV_A) });
  b = await startCluster({ command: 'server', dataDir: copyPki(a.dataDir), args: serverArgs(HOST_B, ADV_B) });
});

after(async () => {
  await agent?.stop();
  await Promise.all(ctrls.map((c) => c.stop()));
  for (const c of [a, b]) {
    if (!c) continue;
    await stopCluster(c);
    removeCluster(c);
  }
  await etcd?.remove();
  for (const d of dirs) removeCluster({ dataDir: d } as Cluster);
});

async function leaseHolder(c: Cluster, name: string): Promise<string> {
  const r = await kubectl(c, ['get', 'lease', '-n', 'kube-system', name, '-o', 'jsonpath={.spec.holderIdentity}']);
  return r.code === 0 ? r.stdout.trim() : '';
}

async function readyReplicas(c: Cluster): Promise<number> {
  const r = await kubectl(c, ['get', 'statefulset', 'web', '-o', 'jsonpath={.status.readyReplicas}']);
  return r.code === 0 ? Number(r.stdout.trim() || 0) : -1;
}

async function kubernetesEndpoints(c: Cluster): Promise<string[]> {
  const r = await kubectl(c, ['get', 'endpoints', 'kubernetes', '-n', 'default', '-o', 'json']);
  if (r.code !== 0) return [];
  const ep = JSON.parse(r.stdout);
  return (ep.subsets ?? []).flatMap((s: any) => (s.addresses ?? []).map((x: any) => x.ip)).sort();
}

test('two API servers, two leader-elected controllers processes and a node survive kill -9 of a leader and of a server', { skip, timeout: 600_000 }, async () => {
  // 1. The kubernetes Endpoints list both servers (each keeps a master lease in etcd).
  await waitUntil(async () => (await kubernetesEndpoints(a)).join() === [ADV_A, ADV_B].join(), 30_000, () => 'both servers in the kubernetes Endpoints');
  const leases = (await etcd.ctl(['get', '--prefix', '/registry/masterleases/', '--keys-only'])).split('\n').filter(Boolean).sort();
  assert.deepEqual(leases, [`/registry/masterleases/${ADV_A}`, `/registry/masterleases/${ADV_B}`]);

  // 2. Two controllers processes, each with a copy of the server's PKI (the CA for csrsigning).
  const ctrlDirs = [copyPki(a.dataDir), copyPki(a.dataDir)];
  for (const dir of ctrlDirs) ctrls.push(startControllers(['--server', urls().join(','), '--data-dir', dir]));
  const ids = await Promise.all(ctrls.map((c) => c.identity));
  assert.notEqual(ids[0], ids[1]);
  for (const id of ids) assert.match(id, /^[^_]+_[0-9a-f-]{36}$/);
  await waitUntil(async () => ids.includes(await leaseHolder(a, 'kube-controller-manager')) && ids.includes(await leaseHolder(a, 'kube-scheduler')), 30_000, () => 'both leases held');
  const table = await kubectlOk(b, ['get', 'lease', '-n', 'kube-system']);
  assert.match(table, /^NAME\s+HOLDER\s+AGE/);
  assert.match(table, new RegExp(`kube-controller-manager\\s+(${ids.join('|')})`));
  assert.match(table, new RegExp(`kube-scheduler\\s+(${ids.join('|')})`));
  console.log(`# leases:\n${table}`);

  // 3. A node joins with both server URLs (its certificate comes from the leading csrsigning).
  const join1 = await createJoinToken(a.dataDir);
  agent = startAgent(['--server', urls().join(','), '--token', join1.token, '--ca-cert-hash', join1.hash, '--node-name', 'ha-node', '--runtime', 'sim', '--sim-start-delay', '0', '--kubelet-port', '0', '--data-dir', tempDir('ordinal-agent-')]);
  await agent.joined;
  await waitUntil(async () => (await kubectl(a, ['get', 'node', 'ha-node', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).stdout === 'True', 30_000, () => 'ha-node Ready');

  // 4. A StatefulSet scales (controllers and scheduler in the leading process, through either server).
  await kubectlOk(a, ['apply', '-f', fixture('web.yaml')]);
  await kubectlOk(b, ['scale', 'statefulset', 'web', '--replicas', '3']);
  await waitUntil(async () => (await readyReplicas(a)) === 3, 60_000, () => 'web 3/3');

  // 5. kill -9 the leading controllers process: the other takes the lease within the lease duration.
  const leaderId = await leaseHolder(a, 'kube-controller-manager');
  const leader = ctrls[ids.indexOf(leaderId)]!;
  const otherId = ids.find((x) => x !== leaderId)!;
  const killedAt = Date.now();
  leader.signal('SIGKILL');
  await leader.exited;
  await waitUntil(async () => (await leaseHolder(b, 'kube-controller-manager')) === otherId, 40_000, () => 'kube-controller-manager taken over');
  const takeoverMs = Date.now() - killedAt;
  console.log(`# kube-controller-manager lease taken over ${takeoverMs} ms after kill -9 of its holder (lease duration 15 s, retry period 2 s)`);
  // Upstream's bound: the holder's last renewal is seen at the candidate's next jittered try (≤ 4.4 s), then 15 s, then one more try.
  assert.ok(takeoverMs <= 15_000 + 2 * 4_400 + 2_000, `took ${takeoverMs} ms`);
  await waitUntil(async () => (await leaseHolder(b, 'kube-scheduler')) === otherId, 40_000, () => 'kube-scheduler held by the survivor');
  const lease = JSON.parse(await kubectlOk(b, ['get', 'lease', '-n', 'kube-system', 'kube-controller-manager', '-o', 'json']));
  assert.ok(lease.spec.leaseTransitions >= 1, JSON.stringify(lease.spec));
  assert.equal(lease.spec.leaseDurationSeconds, 15);
  assert.ok(lease.spec.acquireTime && lease.spec.renewTime);
  // The new leader records its LeaderElection event after it holds the lease, asynchronously as
  // every event: it may land a moment after the lease is seen taken over.
  let became: string[] = [];
  const leaderEvents = async () => {
    const events = JSON.parse(await kubectlOk(b, ['get', 'events', '-n', 'kube-system', '-o', 'json'])).items;
    became = events.filter((e: any) => e.reason === 'LeaderElection' && e.involvedObject.kind === 'Lease' && e.involvedObject.name === 'kube-controller-manager').map((e: any) => e.message);
    return became.includes(`${otherId} became leader`);
  };
  await waitUntil(leaderEvents, 10_000, () => `"${otherId} became leader" among the LeaderElection events: ${became.join('; ')}`);
  // Its supervisor starts the killed copy again: a fresh identity, standing by.
  const restarted = startControllers(['--server', urls().join(','), '--data-dir', ctrlDirs[ids.indexOf(leaderId)]!]);
  ctrls.push(restarted);
  const restartedId = await restarted.identity;
  // The set keeps converging under the new leader.
  await kubectlOk(a, ['scale', 'statefulset', 'web', '--replicas', '5']);
  await waitUntil(async () => (await readyReplicas(b)) === 5, 60_000, () => 'web 5/5 after the takeover');

  // 6. kill -9 one API server: the node stays Ready through the other, kubectl through the other works.
  // A client of both servers watches through A (the first URL) when A dies: the watch resumes on B
  // from the last resourceVersion it delivered, with no event lost or repeated and no relist.
  const pki = join(a.dataDir, 'pki');
  const client = new HttpClient({ servers: urls(), caCertPem: readFileSync(join(pki, 'ca.crt'), 'utf8'), credentials: { certPem: readFileSync(join(pki, 'admin.crt'), 'utf8'), keyPem: readFileSync(join(pki, 'admin.key'), 'utf8') } });
  const cms = client.resource('', 'configmaps');
  const seen: string[] = [];
  let closed = false;
  const stopWatch = client.watch(cms, { namespace: 'default', resourceVersion: (await client.list(cms, { namespace: 'default' })).resourceVersion }, (type, obj) => void seen.push(`${type} ${obj.metadata.name}`), () => void (closed = true));
  await client.create(cms, 'default', { metadata: { name: 'before-kill' } });
  await waitUntil(() => seen.includes('ADDED before-kill'), 10_000, () => `watch: ${seen}`);
  const nodeLeaseBefore = (await kubectlOk(b, ['get', 'lease', '-n', 'kube-node-lease', 'ha-node', '-o', 'jsonpath={.spec.renewTime}'])).trim();
  const serverKilledAt = Date.now();
  a.proc.kill('SIGKILL');
  await new Promise((r) => a.proc.once('exit', r));
  await kubectlOk(b, ['scale', 'statefulset', 'web', '--replicas', '2']);
  await kubectlOk(b, ['create', 'configmap', 'after-kill']);
  await client.create(cms, 'default', { metadata: { name: 'through-failover' } });
  await waitUntil(() => seen.includes('ADDED through-failover'), 30_000, () => `watch: ${seen}`);
  assert.deepEqual(seen, ['ADDED before-kill', 'ADDED after-kill', 'ADDED through-failover']);
  assert.equal(closed, false, 'the watch resumed by itself');
  stopWatch();
  client.close();
  await waitUntil(async () => (await kubectl(b, ['get', 'pods', '-l', 'app=nginx', '-o', 'name'])).stdout.trim().split('\n').filter(Boolean).length === 2, 60_000, () => 'web scaled down to 2 through B');
  // The node's agent renews its Lease (every 10 s) through B.
  await waitUntil(async () => (await kubectl(b, ['get', 'lease', '-n', 'kube-node-lease', 'ha-node', '-o', 'jsonpath={.spec.renewTime}'])).stdout.trim() > nodeLeaseBefore, 30_000, () => 'node lease renewed through B');
  // 7. After the dead server's master lease expires (15 s TTL, then ≤ 10 s to the next reconcile), only B is listed.
  await waitUntil(async () => (await kubernetesEndpoints(b)).join() === ADV_B, 45_000, () => 'only B in the kubernetes Endpoints');
  console.log(`# the killed server left the kubernetes Endpoints ${Date.now() - serverKilledAt} ms after kill -9 (master lease TTL 15 s, reconcile every 10 s)`);
  const node = JSON.parse(await kubectlOk(b, ['get', 'node', 'ha-node', '-o', 'json']));
  const ready = node.status.conditions.find((c: any) => c.type === 'Ready');
  assert.equal(ready.status, 'True', JSON.stringify(ready));
  await waitUntil(async () => (await readyReplicas(b)) === 2, 30_000, () => 'web 2/2');
  assert.ok(ctrls.every((c) => c === leader || c.proc.exitCode === null), 'the surviving controllers processes are still running');

  // 8. A leader that cannot renew within the renew deadline (frozen past the lease duration) finds
  // its lease taken when it wakes. kube-controller-manager exits there for its supervisor to restart
  // it; Ordinal has none, so the copy stops (and fences) that term's controllers, stays up and
  // campaigns again as a standby, while the other copy leads.
  const survivor = ctrls[ids.indexOf(otherId)]!;
  survivor.signal('SIGSTOP');
  await waitUntil(async () => (await leaseHolder(b, 'kube-controller-manager')) === restartedId, 40_000, () => 'the restarted copy took over');
  await waitUntil(async () => (await leaseHolder(b, 'kube-scheduler')) === restartedId, 40_000, () => 'the restarted copy schedules');
  survivor.signal('SIGCONT');
  await waitUntil(() => /lost kube-controller-manager: controllers stopped, campaigning again/.test(survivor.logs()), 20_000, () => `the woken copy gave up its term:\n${survivor.logs().slice(-3000)}`);
  assert.equal(survivor.proc.exitCode, null, 'the woken copy keeps running');
  assert.equal(await leaseHolder(b, 'kube-controller-manager'), restartedId);
  await kubectlOk(b, ['scale', 'statefulset', 'web', '--replicas', '3']);
  await waitUntil(async () => (await readyReplicas(b)) === 3, 60_000, () => 'web 3/3 under the restarted copy');
});

test('ordinal up runs its controllers at once by default, and under their Leases with --leader-elect', { timeout: 120_000 }, async () => {
  const plain = await startCluster({ args: ['--nodes', '1', '--sim-start-delay', '0'] });
  const elected = await startCluster({ args: ['--nodes', '1', '--sim-start-delay', '0', '--leader-elect', '--leader-elect-retry-period', '500ms'] });
  try {
    await kubectlOk(plain, ['apply', '-f', fixture('web.yaml')]);
    await waitUntil(async () => (await readyReplicas(plain)) === 2, 30_000, () => 'web 2/2 without leader election');
    assert.equal((await kubectl(plain, ['get', 'lease', '-n', 'kube-system', 'kube-controller-manager'])).code, 1, 'no lease without --leader-elect');

    await waitUntil(async () => /_/.test(await leaseHolder(elected, 'kube-controller-manager')) && /_/.test(await leaseHolder(elected, 'kube-scheduler')), 30_000, () => 'leases held');
    await kubectlOk(elected, ['apply', '-f', fixture('web.yaml')]);
    await waitUntil(async () => (await readyReplicas(elected)) === 2, 30_000, () => 'web 2/2 with leader election');
    const id = await leaseHolder(elected, 'kube-controller-manager');
    const events = JSON.parse(await kubectlOk(elected, ['get', 'events', '-n', 'kube-system', '-o', 'json'])).items;
    assert.ok(events.some((e: any) => e.reason === 'LeaderElection' && e.message === `${id} became leader` && e.source.component === 'kube-controller-manager'), JSON.stringify(events.map((e: any) => e.message)));
    assert.ok(events.some((e: any) => e.reason === 'LeaderElection' && e.involvedObject.name === 'kube-scheduler' && e.source.component === 'default-scheduler'));
  } finally {
    for (const c of [plain, elected]) {
      await stopCluster(c);
      removeCluster(c);
    }
  }
});
