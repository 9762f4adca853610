// kubectl's typed clients (create namespace/configmap/secret/..., drain) send protobuf bodies;
// the server must accept them exactly as upstream does.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { startCluster, stopCluster, removeCluster, kubectlOk, type Cluster } from './harness.ts';

let c: Cluster;

before(async () => {
  c = await startCluster();
});

after(async () => {
  if (!c) return;
  await stopCluster(c);
  removeCluster(c);
});

const getJson = async (args: string[]) => JSON.parse(await kubectlOk(c, ['get', ...args, '-o', 'json']));

test('kubectl create namespace / configmap / secret / serviceaccount', async () => {
  assert.match(await kubectlOk(c, ['create', 'namespace', 'foo']), /namespace\/foo created/);
  const ns = await getJson(['namespace', 'foo']);
  assert.equal(ns.metadata.name, 'foo');
  assert.equal(ns.status.phase, 'Active');

  await kubectlOk(c, ['create', 'configmap', 'cm1', '--from-literal=a=b', '--from-literal=empty=', '-n', 'foo']);
  const cm = await getJson(['configmap', 'cm1', '-n', 'foo']);
  assert.equal(cm.metadata.namespace, 'foo');
  assert.deepEqual(cm.data, { a: 'b', empty: '' });

  await kubectlOk(c, ['create', 'secret', 'generic', 's1', '--from-literal=k=v']);
  const s = await getJson(['secret', 's1']);
  assert.equal(s.type, 'Opaque');
  assert.deepEqual(s.data, { k: Buffer.from('v').toString('base64') });

  await kubectlOk(c, ['create', 'serviceaccount', 'sa1']);
  const sa = await getJson(['serviceaccount', 'sa1']);
  assert.equal(sa.metadata.name, 'sa1');
  assert.equal(sa.metadata.namespace, 'default');
});

test('kubectl create service clusterip', async () => {
  await kubectlOk(c, ['create', 'service', 'clusterip', 'my-svc', '--tcp=5678:8080']);
  const svc = await getJson(['service', 'my-svc']);
  assert.equal(svc.spec.type, 'ClusterIP');
  assert.deepEqual(svc.spec.selector, { app: 'my-svc' });
  assert.equal(svc.spec.ports.length, 1);
  assert.equal(svc.spec.ports[0].port, 5678);
  assert.equal(svc.spec.ports[0].targetPort, 8080);
  assert.equal(svc.spec.ports[0].protocol, 'TCP');
  assert.match(svc.spec.clusterIP, /^\d+\.\d+\.\d+\.\d+$/);

  await kubectlOk(c, ['create', 'service', 'clusterip', 'headless', '--clusterip=None', '--tcp=80']);
  const headless = await getJson(['service', 'headless']);
  assert.equal(headless.spec.clusterIP, 'None');
});

test('kubectl create pdb', async () => {
  await kubectlOk(c, ['create', 'pdb', 'pdb1', '--selector=app=x', '--min-available=1']);
  const pdb = await getJson(['pdb', 'pdb1']);
  assert.equal(pdb.spec.minAvailable, 1);
  assert.deepEqual(pdb.spec.selector, { matchLabels: { app: 'x' } });

  await kubectlOk(c, ['create', 'pdb', 'pdb2', '--selector=app=y', '--max-unavailable=50%']);
  const pdb2 = await getJson(['pdb', 'pdb2']);
  assert.equal(pdb2.spec.maxUnavailable, '50%');
});

test('kubectl drain evicts through a protobuf policy/v1 Eviction', async () => {
  await kubectlOk(c, ['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'drain-me' } }) });
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'evictee', labels: { app: 'evictee' } }, spec: { nodeName: 'drain-me', containers: [{ name: 'c', image: 'busybox' }] } };
  await kubectlOk(c, ['create', '-f', '-'], { input: JSON.stringify(pod) });
  const out = await kubectlOk(c, ['drain', 'drain-me', '--force', '--grace-period=0', '--timeout=20s']);
  assert.match(out, /pod\/evictee evicted/);
  assert.match(await kubectlOk(c, ['get', 'pods', '--field-selector=spec.nodeName=drain-me', '-o', 'name']), /^\s*$/);
});

/** POSTs a raw body with the credentials from the cluster's kubeconfig. */
function post(path: string, body: Buffer, contentType: string): Promise<{ status: number; json: any }> {
  const kc = parseYaml(readFileSync(c.kubeconfig, 'utf8'));
  const cluster = kc.clusters[0].cluster;
  const user = kc.users[0].user;
  const b64 = (v: string | undefined) => (v ? Buffer.from(v, 'base64') : undefined);
  const url = new URL(path, cluster.server);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': contentType, accept: 'application/json', ...(user.token ? { authorization: `Bearer ${user.token}` } : {}) },
        ca: b64(cluster['certificate-authority-data']),
        cert: b64(user['client-certificate-data']),
        key: b64(user['client-key-data']),
        rejectUnauthorized: !cluster['insecure-skip-tls-verify'],
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test('protobuf bodies of kinds without a description get 415, garbled ones 400', async () => {
  // 'k8s\0' + Unknown{typeMeta{apiVersion 'example.com/v1', kind 'Widget'}}
  const typeMeta = Buffer.concat([Buffer.from([0x0a, 14]), Buffer.from('example.com/v1'), Buffer.from([0x12, 6]), Buffer.from('Widget')]);
  const unknownKind = Buffer.concat([Buffer.from('k8s\0', 'latin1'), Buffer.from([0x0a, typeMeta.length]), typeMeta]);
  const r = await post('/api/v1/namespaces/default/configmaps', unknownKind, 'application/vnd.kubernetes.protobuf');
  assert.equal(r.status, 415);
  assert.equal(r.json.reason, 'UnsupportedMediaType');
  assert.match(r.json.message, /Widget/);

  const garbled = await post('/api/v1/namespaces/default/configmaps', Buffer.from('k8s\0\x0a\xff', 'latin1'), 'application/vnd.kubernetes.protobuf');
  assert.equal(garbled.status, 400);
});
