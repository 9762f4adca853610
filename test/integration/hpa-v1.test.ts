// autoscaling/v1 HorizontalPodAutoscaler served beside v2 from the same objects, with upstream's
// conversion: `kubectl autoscale` (which writes autoscaling/v1 in kubectl 1.32) works, v2-only
// metrics and behavior survive in v1's annotations, and a v1 write keeps what it cannot express.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, stopCluster, removeCluster, kubectl, kubectlOk, type Cluster } from './harness.ts';

let c: Cluster;
before(async () => {
  c = await startCluster();
});
after(async () => {
  await stopCluster(c);
  removeCluster(c);
});

const json = async (args: string[]) => JSON.parse(await kubectlOk(c, [...args, '-o', 'json', '--show-managed-fields']));

const statefulSet = JSON.stringify({
  apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'web' },
  spec: { serviceName: 'web', replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
});

test('kubectl autoscale writes autoscaling/v1; both versions read the same object', async () => {
  await kubectlOk(c, ['create', '-f', '-'], { input: statefulSet });
  const out = await kubectl(c, ['autoscale', 'statefulset', 'web', '--min', '2', '--max', '5', '--cpu-percent', '80']);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /horizontalpodautoscaler.autoscaling\/web autoscaled/);
  assert.match(out.stderr, /Warning: autoscaling\/v2 HorizontalPodAutoscaler is stored but not acted on by this cluster/);
  const table = await kubectlOk(c, ['get', 'hpa']);
  assert.deepEqual(table.split('\n')[0].trim().split(/\s{2,}/), ['NAME', 'REFERENCE', 'TARGETS', 'MINPODS', 'MAXPODS', 'REPLICAS', 'AGE']);
  assert.match(table, /\nweb\s+StatefulSet\/web\s+cpu: <unknown>\/80%\s+2\s+5\s+0\s+\d+s\n/);
  const v1 = await json(['get', 'horizontalpodautoscalers.v1.autoscaling', 'web']);
  assert.equal(v1.apiVersion, 'autoscaling/v1');
  assert.deepEqual(v1.spec, { scaleTargetRef: { kind: 'StatefulSet', name: 'web', apiVersion: 'apps/v1' }, minReplicas: 2, maxReplicas: 5, targetCPUUtilizationPercentage: 80 });
  assert.deepEqual(v1.status, { currentReplicas: 0, desiredReplicas: 0 });
  assert.equal(v1.metadata.annotations, undefined);
  // Field ownership is recorded in the version written, as upstream's managedFields entries are.
  const entry = v1.metadata.managedFields.find((e: { manager: string }) => e.manager === 'kubectl-autoscale');
  assert.equal(entry.apiVersion, 'autoscaling/v1');
  assert.ok(entry.fieldsV1['f:spec']['f:targetCPUUtilizationPercentage']);
  const v2 = await json(['get', 'horizontalpodautoscalers.v2.autoscaling', 'web']);
  assert.equal(v2.apiVersion, 'autoscaling/v2');
  assert.deepEqual(v2.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
  assert.equal(v2.metadata.uid, v1.metadata.uid);
  // A v1 HPA without a target gets v1's implied 80% CPU, made explicit.
  const bare = await kubectl(c, ['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'bare' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'x' }, maxReplicas: 3 } }) });
  assert.equal(bare.code, 0, bare.stderr);
  assert.equal((await json(['get', 'horizontalpodautoscalers.v1.autoscaling', 'bare'])).spec.targetCPUUtilizationPercentage, 80);
  assert.equal((await json(['get', 'horizontalpodautoscalers.v2.autoscaling', 'bare'])).spec.minReplicas, 1);
});

test('v2-only fields ride in the autoscaling.alpha.kubernetes.io annotations of the v1 view and survive a v1 write', async () => {
  const applied = await kubectl(c, ['apply', '-f', '-'], {
    input: `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: multi
  annotations:
    team: db
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: StatefulSet, name: db}
  maxReplicas: 6
  metrics:
  - type: Pods
    pods:
      metric: {name: qps}
      target: {type: AverageValue, averageValue: "10"}
  - type: Resource
    resource:
      name: cpu
      target: {type: Utilization, averageUtilization: 60}
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 120
`,
  });
  assert.equal(applied.code, 0, applied.stderr);
  const v1 = await json(['get', 'horizontalpodautoscalers.v1.autoscaling', 'multi']);
  assert.equal(v1.spec.targetCPUUtilizationPercentage, 60);
  const ann = v1.metadata.annotations;
  assert.equal(ann.team, 'db');
  assert.deepEqual(JSON.parse(ann['autoscaling.alpha.kubernetes.io/metrics']), [{ type: 'Pods', pods: { metricName: 'qps', targetAverageValue: '10' } }]);
  const behavior = JSON.parse(ann['autoscaling.alpha.kubernetes.io/behavior']);
  assert.equal(behavior.ScaleDown.StabilizationWindowSeconds, 120);
  assert.deepEqual(behavior.ScaleUp.Policies, [{ Type: 'Pods', Value: 4, PeriodSeconds: 15 }, { Type: 'Percent', Value: 100, PeriodSeconds: 15 }]);
  // A v1 client's read-modify-write (kubectl patch against the v1 resource) changes the CPU target
  // and keeps the Pods metric and behavior it cannot express.
  const patched = await kubectl(c, ['patch', 'horizontalpodautoscalers.v1.autoscaling', 'multi', '--type=merge', '-p', '{"spec":{"targetCPUUtilizationPercentage":70,"maxReplicas":8}}']);
  assert.equal(patched.code, 0, patched.stderr);
  const v2 = await json(['get', 'horizontalpodautoscalers.v2.autoscaling', 'multi']);
  assert.equal(v2.spec.maxReplicas, 8);
  assert.deepEqual(v2.spec.metrics, [
    { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10' } } },
    { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
  ]);
  assert.equal(v2.spec.behavior.scaleDown.stabilizationWindowSeconds, 120);
  // The round-trip annotations are never stored.
  assert.deepEqual(v2.metadata.annotations, { team: 'db', 'kubectl.kubernetes.io/last-applied-configuration': v2.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'] });
  assert.match(await kubectlOk(c, ['get', 'hpa', 'multi']), /\nmulti\s+StatefulSet\/db\s+<unknown>\/10, cpu: <unknown>\/70%\s+1\s+8\s+0\s+/);
});

test('v1 validation speaks of the stored fields, as upstream validates the internal form', async () => {
  const bad = await kubectl(c, ['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'bad' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'x' }, minReplicas: 4, maxReplicas: 3, targetCPUUtilizationPercentage: 0 } }) });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /spec.maxReplicas: Invalid value: 3: must be greater than or equal to `minReplicas`/);
  assert.match(bad.stderr, /spec.metrics\[0\].resource.target.averageUtilization: Invalid value: 0: must be greater than 0/);
});

test('server-side apply through autoscaling/v1 owns v1 fields and a second apply is a no-op', async () => {
  const doc = `apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata:
  name: ssa
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: StatefulSet, name: web}
  maxReplicas: 4
  targetCPUUtilizationPercentage: 50
`;
  const first = await kubectl(c, ['apply', '--server-side', '-f', '-'], { input: doc });
  assert.equal(first.code, 0, first.stderr);
  const before = await json(['get', 'horizontalpodautoscalers.v1.autoscaling', 'ssa']);
  const entry = before.metadata.managedFields.find((e: { manager: string }) => e.manager === 'kubectl');
  assert.equal(entry.operation, 'Apply');
  assert.equal(entry.apiVersion, 'autoscaling/v1');
  assert.ok(entry.fieldsV1['f:spec']['f:targetCPUUtilizationPercentage']);
  const again = await kubectl(c, ['apply', '--server-side', '-f', '-'], { input: doc });
  assert.equal(again.code, 0, again.stderr);
  const after = await json(['get', 'horizontalpodautoscalers.v1.autoscaling', 'ssa']);
  assert.deepEqual(after, before);
  assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion);
  const changed = await kubectl(c, ['apply', '--server-side', '-f', '-'], { input: doc.replace('50', '65') });
  assert.equal(changed.code, 0, changed.stderr);
  assert.equal((await json(['get', 'horizontalpodautoscalers.v2.autoscaling', 'ssa'])).spec.metrics[0].resource.target.averageUtilization, 65);
});

test('discovery serves autoscaling v2 (preferred) and v1; the collection is watched once', async () => {
  const versions = await kubectlOk(c, ['api-versions']);
  assert.match(versions, /^autoscaling\/v1$/m);
  assert.match(versions, /^autoscaling\/v2$/m);
  const group = JSON.parse(await kubectlOk(c, ['get', '--raw', '/apis/autoscaling']));
  assert.equal(group.preferredVersion.version, 'v2');
  const v1 = JSON.parse(await kubectlOk(c, ['get', '--raw', '/apis/autoscaling/v1']));
  assert.deepEqual(v1.resources.map((r: { name: string }) => r.name), ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']);
  assert.match(await kubectlOk(c, ['explain', 'hpa.spec.targetCPUUtilizationPercentage', '--api-version=autoscaling/v1']), /FIELD: targetCPUUtilizationPercentage <integer>/);
  // Deleting through v1 removes the one object.
  await kubectlOk(c, ['delete', 'horizontalpodautoscalers.v1.autoscaling', 'bare']);
  assert.match((await kubectl(c, ['get', 'horizontalpodautoscalers.v2.autoscaling', 'bare'])).stderr, /NotFound/);
});

test('client-side kubectl apply of an autoscaling/v1 manifest: created, unchanged, configured', async () => {
  const doc = (cpu: number) => `apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata:
  name: csa
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: StatefulSet, name: web}
  minReplicas: 1
  maxReplicas: 3
  targetCPUUtilizationPercentage: ${cpu}
`;
  assert.match(await kubectlOk(c, ['apply', '-f', '-'], { input: doc(50) }), /horizontalpodautoscaler.autoscaling\/csa created/);
  assert.match(await kubectlOk(c, ['apply', '-f', '-'], { input: doc(50) }), /horizontalpodautoscaler.autoscaling\/csa unchanged/);
  assert.match(await kubectlOk(c, ['apply', '-f', '-'], { input: doc(60) }), /horizontalpodautoscaler.autoscaling\/csa configured/);
  const v2 = await json(['get', 'horizontalpodautoscalers.v2.autoscaling', 'csa']);
  assert.deepEqual(v2.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }]);
  assert.equal(v2.metadata.generation, 2);
});
