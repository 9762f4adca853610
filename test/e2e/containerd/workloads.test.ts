// Jobs and Deployments on real containers: a Job runs a real command to completion and its output
// is read back with `kubectl logs job/x`; a Deployment of the nginx stand-in is served through a
// ClusterIP Service, fetched by the Service's name from another pod, and after `kubectl set image`
// its pods are replaced by new ones (new random names) while the Service keeps answering, now from
// the new image. Root only; skips with the reason elsewhere.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { kubectl, kubectlOk, waitUntil, type Cluster } from '../../integration/harness.ts';
import { realClusterUnavailable, startRealCluster, type RealCluster } from './real-cluster.ts';
import { buildImage, busyboxRootfs, standardImages } from '../images/build.ts';

const skip = realClusterUnavailable();

/** A second version of the nginx stand-in whose page says which version serves it. */
function nginxSlim09() {
  return buildImage({
    ref: 'registry.k8s.io/nginx-slim:0.9',
    files: [
      ...busyboxRootfs(),
      { type: 'dir', path: 'usr/share' },
      { type: 'dir', path: 'usr/share/nginx' },
      { type: 'dir', path: 'usr/share/nginx/html' },
      { type: 'file', path: 'usr/share/nginx/html/index.html', data: 'nginx-slim 0.9\n' },
    ],
    config: { entrypoint: ['/usr/local/bin/fg'], cmd: ['httpd', '-f', '-v', '-p', '80', '-h', '/usr/share/nginx/html'], exposedPorts: ['80/tcp'] },
  });
}

const MANIFEST = `
apiVersion: batch/v1
kind: Job
metadata: {name: count}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: count
        image: busybox:1.28
        command: [sh, -c, 'for i in 1 2 3; do echo "step $i of 3 on $(hostname)"; done; echo done']
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: nginx
        image: registry.k8s.io/nginx-slim:0.8
        imagePullPolicy: Never
        ports: [{name: http, containerPort: 80}]
        readinessProbe:
          httpGet: {path: /, port: http}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.28
    command: [sleep, '3600']
`;

describe('Jobs and Deployments on a real node', { skip: skip ? `real containers: ${skip}` : false, timeout: 300_000 }, () => {
  let real: RealCluster;
  let c: Cluster;
  let ok = true;
  const webPods = async () => {
    const list = JSON.parse(await kubectlOk(c, ['get', 'pods', '-l', 'app=web', '-o', 'json']));
    return list.items.filter((p: any) => !p.metadata.deletionTimestamp).map((p: any) => p.metadata.name).sort() as string[];
  };
  const fetchByName = async () => (await kubectl(c, ['exec', 'client', '--', 'sh', '-c', 'timeout 5 wget -q -O - http://web/ || echo FAILED'])).stdout;

  before(async () => {
    real = await startRealCluster({ images: [...standardImages(), nginxSlim09()] });
    c = real.cluster;
    await kubectlOk(c, ['apply', '-f', '-'], { input: MANIFEST });
  });

  after(async () => {
    if (!real) return;
    if (!ok) real.dumpLogs();
    await real.stop();
  });

  const step = (name: string, fn: () => Promise<void>) =>
    it(name, { timeout: 120_000 }, async () => {
      try {
        await fn();
      } catch (err) {
        ok = false;
        throw err;
      }
    });

  step('a Job runs its command to completion; kubectl wait and kubectl logs job/count show it', async () => {
    const waited = await kubectl(c, ['wait', '--for=condition=complete', 'job/count', '--timeout=90s'], { timeoutMs: 100_000 });
    assert.equal(waited.code, 0, waited.stderr);
    assert.match(waited.stdout, /job.batch\/count condition met/);
    const logs = await kubectlOk(c, ['logs', 'job/count']);
    assert.match(logs, /^step 1 of 3 on count-[a-z0-9]{5}\nstep 2 of 3 on count-[a-z0-9]{5}\nstep 3 of 3 on count-[a-z0-9]{5}\ndone\n$/);
    assert.match(await kubectlOk(c, ['get', 'job', 'count']), /\ncount\s+Complete\s+1\/1\s+/);
  });

  step('the Deployment is served through its ClusterIP Service, by name, from another pod', async () => {
    const status = await kubectl(c, ['rollout', 'status', 'deploy/web', '--timeout=90s'], { timeoutMs: 100_000 });
    assert.equal(status.code, 0, status.stderr);
    await waitUntil(async () => (await kubectl(c, ['get', 'pod', 'client', '-o', 'jsonpath={.status.phase}'])).stdout === 'Running', 60_000);
    await waitUntil(async () => (await fetchByName()).includes('Welcome to nginx!'), 30_000, () => 'http://web/ from the client pod');
  });

  step('after kubectl set image the pods have new random names and the Service answers from the new image', async () => {
    const before = await webPods();
    assert.equal(before.length, 2);
    for (const n of before) assert.match(n, /^web-[a-z0-9]+-[a-z0-9]{5}$/);
    await kubectlOk(c, ['set', 'image', 'deploy/web', 'nginx=registry.k8s.io/nginx-slim:0.9']);
    const status = await kubectl(c, ['rollout', 'status', 'deploy/web', '--timeout=90s'], { timeoutMs: 100_000 });
    assert.equal(status.code, 0, status.stderr);
    await waitUntil(async () => (await webPods()).length === 2, 60_000);
    const afterNames = await webPods();
    assert.equal(afterNames.filter((n) => before.includes(n)).length, 0, `every pod replaced: ${before} -> ${afterNames}`);
    let lastPage = '';
    await waitUntil(async () => (lastPage = await fetchByName().catch((e) => String(e))).includes('nginx-slim 0.9'), 60_000, () => `the new image behind http://web/ (last answer: ${lastPage.slice(0, 200)})`);
    // Every answer now comes from the new pods.
    for (let i = 0; i < 5; i++) assert.match(await fetchByName(), /nginx-slim 0\.9/);
  });
});
