// Service account tokens in real pods: the kube-api-access volume the ServiceAccount admission
// plugin adds is filled by the node agent (a pod-bound token, the cluster CA, the namespace), and
// the token read inside the container authenticates against the API server from the host.
// Root only; skips with the reason elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kubectl, kubectlOk, waitUntil } from '../../integration/harness.ts';
import { realClusterUnavailable, startRealCluster, type RealCluster } from './real-cluster.ts';

const skip = realClusterUnavailable();
const DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

test('a pod reads its mounted service account token and the host uses it against the API', { skip: skip ? `real containers: ${skip}` : false, timeout: 120_000 }, async () => {
  let real: RealCluster | undefined;
  let ok = false;
  try {
    real = await startRealCluster();
    const c = real.cluster;
    await kubectlOk(c, ['run', 'p', '--image=registry.k8s.io/nginx-slim:0.8', '--restart=Never', '--command', '--', 'sleep', '3600']);
    let phase = '';
    await waitUntil(async () => {
      phase = (await kubectl(c, ['get', 'pod', 'p', '-o', 'jsonpath={.status.phase}'])).stdout;
      return phase === 'Running';
    }, 60_000, () => `pod p Running (is ${phase}):\n${c.logs().slice(-3000)}`);

    const token = (await kubectlOk(c, ['exec', 'p', '--', 'cat', `${DIR}/token`])).trim();
    assert.equal(await kubectlOk(c, ['exec', 'p', '--', 'cat', `${DIR}/namespace`]), 'default');
    assert.equal(await kubectlOk(c, ['exec', 'p', '--', 'cat', `${DIR}/ca.crt`]), readFileSync(join(c.dataDir, 'pki', 'ca.crt'), 'utf8'));
    // As the kubelet lays volumes out: token is a symlink through ..data to a file with the volume's defaultMode.
    assert.equal((await kubectlOk(c, ['exec', 'p', '--', 'readlink', `${DIR}/token`])).trim(), '..data/token');
    assert.equal((await kubectlOk(c, ['exec', 'p', '--', 'stat', '-L', '-c', '%a', `${DIR}/token`])).trim(), '644', 'the volume\'s defaultMode 0644');
    // Mounted read-only, as the admission plugin asks.
    assert.notEqual((await kubectl(c, ['exec', 'p', '--', 'sh', '-c', `echo x > ${DIR}/token`])).code, 0);

    const pod = JSON.parse(await kubectlOk(c, ['get', 'pod', 'p', '-o', 'json']));
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    assert.deepEqual(claims['kubernetes.io'].pod, { name: 'p', uid: pod.metadata.uid });
    assert.equal(claims['kubernetes.io'].node.name, 'node-1');
    // The admission plugin's 3607 s is extended to a year for the API server's audience; it only warns after 3607 s.
    assert.equal(claims.exp - claims.iat, 365 * 24 * 3600);
    assert.equal(claims['kubernetes.io'].warnafter - claims.iat, 3607);

    // `kubectl --token=$(kubectl exec p -- cat .../token) auth whoami`, with nothing but the token and the CA.
    const asPod = ['--kubeconfig=/dev/null', `--server=${c.url}`, `--certificate-authority=${join(c.dataDir, 'pki', 'ca.crt')}`, `--token=${token}`];
    const who = await kubectlOk(c, [...asPod, 'auth', 'whoami']);
    assert.match(who, /Username\s+system:serviceaccount:default:default/);
    assert.match(who, /authentication.kubernetes.io\/pod-name\s+\[p\]/);
    // The account holds no rights yet (RBAC); once bound to `view` it lists pods.
    assert.match((await kubectl(c, [...asPod, 'get', 'pods'])).stderr, /pods is forbidden: User "system:serviceaccount:default:default" cannot list resource "pods" in API group "" in the namespace "default"/);
    await kubectlOk(c, ['create', 'rolebinding', 'default-view', '--clusterrole=view', '--serviceaccount=default:default']);
    await waitUntil(async () => (await kubectl(c, [...asPod, 'get', 'pods'])).code === 0, 10_000, () => 'the binding takes effect');
    assert.match(await kubectlOk(c, [...asPod, 'get', 'pods']), /^p\s+1\/1\s+Running/m);

    // Deleting the pod ends its token.
    await kubectlOk(c, ['delete', 'pod', 'p', '--grace-period=1']);
    await waitUntil(async () => (await kubectl(c, ['get', 'pod', 'p'])).code !== 0, 30_000, () => 'pod p gone');
    assert.match((await kubectl(c, [...asPod, 'get', 'pods'])).stderr, /Unauthorized/);
    ok = true;
  } finally {
    if (real && !ok) real.dumpLogs();
    await real?.stop();
  }
});
