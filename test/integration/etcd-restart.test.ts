// Restart safety on etcd, as restart.test.ts and statefulset-restart.test.ts check it on SQLite: an
// API server, a leader-elected controllers process and a joined sim node on a 3-member etcd, every
// one of them (each etcd member too) killed -9 at once, then all started again. Everything is
// there with its uid and resourceVersion, new resourceVersions are above every old one, a watch from
// an old resourceVersion resumes or is told 410 Gone (as upstream's watch cache tells it), and the
// set is Ready again.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { etcdMissing, freePort, startEtcdCluster, type EtcdCluster } from '../support/etcd.ts';
import { startAgent, createJoinToken, type AgentProcess } from '../support/agents.ts';
import { startControllers, type ControllersProcess } from '../support/controllers.ts';
import { kubectlFor, poll, webSet, simAgentArgs, isReady } from '../support/failure-cluster.ts';
import { ServerProcess } from '../support/ha-servers.ts';
import { tempDirs } from './harness.ts';

const skip = etcdMissing();
const temp = tempDirs();
const tempDir = temp.make;

let etcd: EtcdCluster | undefined;
let server: ServerProcess | undefined;
let ctrl: ControllersProcess | undefined;
let agent: AgentProcess | undefined;

after(async () => {
  await agent?.stop();
  await ctrl?.stop();
  await server?.kill('SIGTERM');
  await etcd?.remove();
  temp.removeAll();
});

/** The first event of a watch from `rv`, or undefined when none comes within `ms`. */
function firstWatchEvent(s: ServerProcess, path: string, ms: number): Promise<{ status: number; event?: any }> {
  const pki = join(s.dataDir, 'pki');
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: s.host, port: s.port, path, ca: readFileSync(join(pki, 'ca.crt')), cert: readFileSync(join(pki, 'admin.crt')), key: readFileSync(join(pki, 'admin.key')) },
      (res) => {
        let buf = '';
        const timer = setTimeout(() => {
          req.destroy();
          resolve({ status: res.statusCode! });
        }, ms);
        res.on('data', (d) => {
          buf += d;
          const nl = buf.indexOf('\n');
          if (nl < 0) return;
          clearTimeout(timer);
          req.destroy();
          resolve({ status: res.statusCode!, event: JSON.parse(buf.slice(0, nl)) });
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode!, event: buf ? JSON.parse(buf) : undefined });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('kill -9 of the API server, the controllers, the agent and every etcd member: after a restart everything is there and the set is Ready', { skip, timeout: 300_000 }, async () => {
  const t0 = Date.now();
  const log = (msg: string) => console.log(`# ${((Date.now() - t0) / 1000).toFixed(1)}s ${msg}`);
  etcd = await startEtcdCluster(3);
  const dir = tempDir('ordinal-etcd-restart-');
  server = new ServerProcess(dir, '127.0.0.2', await freePort(), ['--store', 'etcd', '--etcd-servers', etcd.servers, '--advertise-address', '192.0.2.1']);
  await server.start();
  const ctrlDir = tempDir('ordinal-etcd-restart-ctrl-');
  cpSync(join(dir, 'pki'), join(ctrlDir, 'pki'), { recursive: true });
  // Short leases: the restarted copy has a new identity and waits out the old holder's lease.
  const ctrlArgs = ['--server', server.url, '--data-dir', ctrlDir, '--leader-elect-lease-duration', '4s', '--leader-elect-renew-deadline', '3s', '--leader-elect-retry-period', '1s'];
  ctrl = startControllers(ctrlArgs, { ORDINAL_LOG_LEVEL: 'warn' });
  const agentDir = tempDir('ordinal-etcd-restart-agent-');
  const tok = await createJoinToken(dir);
  agent = startAgent(['--server', server.url, '--token', tok.token, '--ca-cert-hash', tok.hash, ...simAgentArgs('restart-node', agentDir)]);
  await agent.joined;
  const k = kubectlFor(join(dir, 'kubeconfig'));

  await k.ok(['create', 'namespace', 'keep']);
  await k.ok(['apply', '-n', 'keep', '-f', '-'], webSet(3, { podManagementPolicy: 'OrderedReady' }));
  await k.ok(['create', 'configmap', 'settings', '-n', 'keep', '--from-literal=mode=ha']);
  await k.ok(['create', 'secret', 'generic', 'creds', '-n', 'keep', '--from-literal=password=s3cret']);
  await poll('web 3/3 Ready', 90_000, async () => (await k.ok(['get', 'sts', 'web', '-n', 'keep', '-o', 'jsonpath={.status.readyReplicas}'])) === '3', 500);
  log('web 3/3 Ready on a 3-member etcd');

  // What must come back: objects, and a pods list resourceVersion to watch from afterwards; a change
  // made after that list is what a resumed watch has to deliver.
  const kinds = ['namespace/keep', 'statefulset/web', 'service/web', 'configmap/settings', 'secret/creds'];
  const before = (await k.json(['get', '-n', 'keep', ...kinds])).items as any[];
  // Raw: kubectl's own -o json of a list has no resourceVersion.
  const podList = JSON.parse(await k.ok(['get', '--raw', '/api/v1/namespaces/keep/pods']));
  const listRv = podList.metadata.resourceVersion as string;
  await k.ok(['label', 'pod', 'web-0', '-n', 'keep', 'after-list=yes']);
  const labelled = await k.json(['get', 'pod', 'web-0', '-n', 'keep']);
  const maxBefore = Math.max(Number(labelled.metadata.resourceVersion), ...before.map((o) => Number(o.metadata.resourceVersion)));

  // Everything at once, with no chance to flush or hand over.
  await Promise.all([server.kill('SIGKILL'), (ctrl.signal('SIGKILL'), ctrl.exited), (agent.signal('SIGKILL'), agent.exited), ...etcd.members.map((m) => m.stop('SIGKILL'))]);
  log('killed -9: API server, controllers, agent, etcd m0 m1 m2');

  for (const m of etcd.members) m.start();
  await etcd.healthy(60_000);
  await server.start();
  ctrl = startControllers(ctrlArgs, { ORDINAL_LOG_LEVEL: 'warn' });
  agent = startAgent(['--server', server.url, ...simAgentArgs('restart-node', agentDir)]);
  const restartedAt = Date.now();
  log('all restarted');

  // Objects: each with its uid, its resourceVersion and its content.
  const again = (await k.json(['get', '-n', 'keep', ...kinds])).items as any[];
  const strip = (o: any) => ({ kind: o.kind, metadata: o.metadata, spec: o.spec, data: o.data });
  assert.deepEqual(again.map(strip), before.map(strip));

  // A watch from the old list's resourceVersion: resumed with the change made after it, or 410.
  const w = await firstWatchEvent(server, `/api/v1/namespaces/keep/pods?watch=1&resourceVersion=${listRv}`, 10_000);
  assert.equal(w.status, 200);
  assert.ok(w.event, 'the watch gave an event');
  if (w.event.type === 'ERROR') {
    assert.equal(w.event.object.code, 410);
    assert.equal(w.event.object.reason, 'Expired');
    log(`watch from ${listRv}: 410 ${w.event.object.message}`);
  } else {
    assert.ok(Number(w.event.object.metadata.resourceVersion) > Number(listRv), `an event after ${listRv}`);
    assert.equal(w.event.object.metadata.name, 'web-0');
    assert.equal(w.event.object.metadata.labels['after-list'], 'yes');
    log(`watch from ${listRv}: resumed with ${w.event.type} web-0 at ${w.event.object.metadata.resourceVersion}`);
  }

  // New writes are numbered above everything written before the kill.
  const created = JSON.parse(await k.ok(['create', 'configmap', 'after', '-n', 'keep', '-o', 'json']));
  assert.ok(Number(created.metadata.resourceVersion) > maxBefore, `${created.metadata.resourceVersion} > ${maxBefore}`);

  // The node and the set are Ready again, the same pods under the same names; what the API said
  // before the kill does not count: the node's lease is renewed by the new agent, the controllers'
  // lease held by the new copy, and the set grows by one pod.
  await poll('restart-node renewing its lease', 90_000, async () => {
    const lease = await k.json(['get', 'lease', 'restart-node', '-n', 'kube-node-lease']);
    return Date.parse(lease.spec.renewTime) >= restartedAt - 1000;
  }, 500);
  await poll('restart-node Ready', 90_000, async () => isReady(await k.json(['get', 'node', 'restart-node'])), 500);
  const id = await ctrl.identity;
  await poll(`the restarted controllers (${id}) leading`, 60_000, async () => (await k.ok(['get', 'lease', 'kube-controller-manager', '-n', 'kube-system', '-o', 'jsonpath={.spec.holderIdentity}'])) === id, 500);
  await k.ok(['scale', 'sts', 'web', '-n', 'keep', '--replicas=4']);
  await poll('web 4/4 Ready after the restart', 90_000, async () => {
    const pods = (await k.json(['get', 'pods', '-n', 'keep', '-l', 'app=web'])).items as any[];
    const sts = await k.json(['get', 'sts', 'web', '-n', 'keep']);
    return pods.length === 4 && pods.every((p) => p.status.phase === 'Running' && isReady(p)) && sts.status.readyReplicas === 4;
  }, 500);
  const pods = (await k.json(['get', 'pods', '-n', 'keep', '-l', 'app=web'])).items as any[];
  assert.deepEqual(pods.map((p) => p.metadata.name).sort(), ['web-0', 'web-1', 'web-2', 'web-3']);
  const uids = new Map((podList.items as any[]).map((p) => [p.metadata.name, p.metadata.uid]));
  // The pods were Running before the kill: nothing had a reason to replace them.
  for (const p of pods.filter((p) => p.metadata.name !== 'web-3')) assert.equal(p.metadata.uid, uids.get(p.metadata.name), `${p.metadata.name} kept its uid`);
  log('node Ready, web scaled to 4/4 by the restarted controllers, the first three pods the same');
});
