// What a pod spec asks of a real container, read back from inside it with kubectl exec: init
// containers run to completion first (sharing an emptyDir), env from literals, ConfigMaps, Secrets
// and the downward API, working dir, runAsUser/runAsGroup/fsGroup, a memory limit as the cgroup's,
// and subPath / readOnly mounts. Root only; skips with the reason elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kubectl, kubectlOk, waitUntil } from '../../integration/harness.ts';
import { realClusterUnavailable, startRealCluster, type RealCluster } from './real-cluster.ts';

const skip = realClusterUnavailable();
const IMAGE = 'registry.k8s.io/nginx-slim:0.8';

test('a pod spec, as the container sees it', { skip: skip ? `real containers: ${skip}` : false, timeout: 120_000 }, async () => {
  let real: RealCluster | undefined;
  try {
    real = await startRealCluster();
    const { cluster } = real;
    await kubectlOk(cluster, ['create', 'configmap', 'app-config', '--from-literal=color=blue']);
    await kubectlOk(cluster, ['create', 'secret', 'generic', 'app-secret', '--from-literal=password=s3cret']);
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'spec', labels: { app: 'spec' } },
      spec: {
        terminationGracePeriodSeconds: 1,
        securityContext: { runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000 },
        initContainers: [{ name: 'prepare', image: IMAGE, command: ['sh', '-c', 'echo prepared-by-$(hostname) > /work/init.txt; mkdir /work/nested'], volumeMounts: [{ name: 'work', mountPath: '/work' }] }],
        containers: [
          {
            name: 'app',
            image: IMAGE,
            command: ['sleep', '3600'],
            workingDir: '/work',
            env: [
              { name: 'GREETING', value: 'hello' },
              { name: 'COLOR', valueFrom: { configMapKeyRef: { name: 'app-config', key: 'color' } } },
              { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'app-secret', key: 'password' } } },
              { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
              { name: 'MESSAGE', value: '$(GREETING) from $(POD_NAME)' },
            ],
            resources: { limits: { memory: '64Mi', cpu: '500m' } },
            volumeMounts: [
              { name: 'work', mountPath: '/work' },
              { name: 'work', mountPath: '/sub', subPath: 'nested' },
              { name: 'config', mountPath: '/config', readOnly: true },
            ],
          },
        ],
        volumes: [{ name: 'work', emptyDir: {} }, { name: 'config', configMap: { name: 'app-config' } }],
      },
    };
    await kubectlOk(cluster, ['create', '-f', '-'], { input: JSON.stringify(pod) });
    await waitUntil(async () => (await kubectl(cluster, ['wait', '--for=condition=Ready', 'pod/spec', '--timeout=1s'])).code === 0, 40_000, () => 'pod never Ready');
    const sh = (script: string) => kubectlOk(cluster, ['exec', 'spec', '--', 'sh', '-c', script]);

    const status = JSON.parse(await kubectlOk(cluster, ['get', 'pod', 'spec', '-o', 'json'])).status;
    assert.equal(status.initContainerStatuses[0].state.terminated.reason, 'Completed');
    assert.equal(status.initContainerStatuses[0].state.terminated.exitCode, 0);
    assert.equal(await sh('cat /work/init.txt'), 'prepared-by-spec\n', 'the init container ran first, in the pod, on the shared emptyDir');

    assert.equal(await sh('echo "$GREETING|$COLOR|$PASSWORD|$POD_NAME|$POD_IP|$MESSAGE"'), `hello|blue|s3cret|spec|${status.podIP}|hello from spec\n`);
    assert.equal(await sh('pwd'), '/work\n');
    assert.equal(await sh('id -u; id -g'), '1000\n3000\n');
    assert.match(await sh('id -G'), /\b2000\b/, 'fsGroup is a supplemental group');

    // cgroup v1 here (the containerd README); v2 would be memory.max and cpu.max.
    const memory = (await sh('cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max')).trim();
    assert.equal(memory, String(64 * 1024 * 1024));
    const quota = (await sh('cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d" " -f1 /sys/fs/cgroup/cpu.max')).trim();
    assert.equal(quota, '50000', '500m is half of a 100 ms period');

    await sh('echo via-subpath > /sub/file');
    assert.equal(await sh('cat /work/nested/file'), 'via-subpath\n', 'subPath mounts a directory of the volume');
    assert.equal(await sh('cat /config/color'), 'blue');
    const readOnly = await kubectl(cluster, ['exec', 'spec', '--', 'sh', '-c', 'echo x > /config/new']);
    assert.notEqual(readOnly.code, 0, 'a readOnly mount refuses writes');
    assert.match(readOnly.stderr, /Read-only file system/);
  } catch (err) {
    real?.dumpLogs();
    throw err;
  } finally {
    await real?.stop();
  }
});
