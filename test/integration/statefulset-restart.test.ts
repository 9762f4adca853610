// Restart safety: kill -9 `ordinal up` in the middle of a scale-up and of a rolling update;
// after a restart on the same data dir the cluster converges, with one pod per identity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, stopCluster, removeCluster, kubectl, kubectlOk, fixture, waitUntil, type Cluster } from './harness.ts';

const ARGS = ['--nodes', '2', '--sim-start-delay', '150'];

async function pods(c: Cluster): Promise<any[]> {
  return JSON.parse(await kubectlOk(c, ['get', 'pods', '-l', 'app=nginx', '-o', 'json'])).items;
}

const ready = (p: any) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp && p.status.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True');

async function waitForSet(c: Cluster, n: number, image?: string, ms = 30_000): Promise<void> {
  await waitUntil(
    async () => {
      const ps = await pods(c);
      return ps.length === n && ps.every(ready) && (!image || ps.every((p) => p.spec.containers[0].image === image));
    },
    ms,
    () => `${n} pods Running and Ready${image ? ` at ${image}` : ''}`,
  );
}

async function kill9(c: Cluster): Promise<void> {
  c.proc.kill('SIGKILL');
  await new Promise((r) => (c.proc.exitCode !== null || c.proc.signalCode !== null ? r(null) : c.proc.once('exit', r)));
}

/** One pod per ordinal, each with its own claim bound, its own IP, and its identity labels. */
async function assertIdentities(c: Cluster, n: number): Promise<void> {
  const ps = await pods(c);
  assert.deepEqual(ps.map((p) => p.metadata.name).sort(), Array.from({ length: n }, (_, i) => `web-${i}`).sort());
  assert.equal(new Set(ps.map((p) => p.status.podIP)).size, n, 'every pod has its own IP');
  for (const p of ps) assert.equal(p.metadata.labels['statefulset.kubernetes.io/pod-name'], p.metadata.name);
  const claims = JSON.parse(await kubectlOk(c, ['get', 'pvc', '-l', 'app=nginx', '-o', 'json'])).items;
  assert.equal(claims.filter((x: any) => x.status.phase === 'Bound').length, n);
  const ep = JSON.parse(await kubectlOk(c, ['get', 'endpoints', 'nginx', '-o', 'json']));
  const hostnames = (ep.subsets ?? []).flatMap((s: any) => (s.addresses ?? []).map((a: any) => a.hostname));
  assert.equal(new Set(hostnames).size, hostnames.length, 'no identity listed twice in the endpoints');
}

test('kill -9 during a scale-up and during a rolling update: the restarted cluster converges', async () => {
  let c = await startCluster({ args: ARGS });
  const dataDir = c.dataDir;
  try {
    await kubectlOk(c, ['create', '-f', fixture('web.yaml')]);
    await waitForSet(c, 2);

    await kubectlOk(c, ['scale', 'sts', 'web', '--replicas=6']);
    await waitUntil(async () => (await pods(c)).some((p) => p.metadata.name === 'web-3'), 15_000, () => 'web-3 created');
    await kill9(c);
    c = await startCluster({ dataDir, args: ARGS });
    await waitForSet(c, 6);
    await waitUntil(async () => {
      const ep = JSON.parse(await kubectlOk(c, ['get', 'endpoints', 'nginx', '-o', 'json']));
      return (ep.subsets?.[0]?.addresses ?? []).length === 6;
    }, 15_000, () => 'six ready endpoints');
    await assertIdentities(c, 6);

    await kubectlOk(c, ['set', 'image', 'sts/web', 'nginx=registry.k8s.io/nginx-slim:0.9']);
    await waitUntil(async () => (await pods(c)).some((p) => p.spec.containers[0].image.endsWith(':0.9') && ready(p)), 20_000, () => 'first pod updated');
    await kill9(c);
    c = await startCluster({ dataDir, args: ARGS });
    const status = await kubectl(c, ['rollout', 'status', 'sts/web', '--timeout=60s'], { timeoutMs: 70_000 });
    assert.equal(status.code, 0, status.stderr);
    await waitForSet(c, 6, 'registry.k8s.io/nginx-slim:0.9');
    await assertIdentities(c, 6);
    const sts = JSON.parse(await kubectlOk(c, ['get', 'sts', 'web', '-o', 'json']));
    assert.equal(sts.status.currentRevision, sts.status.updateRevision);
    assert.equal(sts.status.updatedReplicas, 6);
    assert.equal(sts.status.readyReplicas, 6);
  } finally {
    await stopCluster(c);
    removeCluster(c);
  }
});
