// The non-pod commands of the StatefulSet tutorial (shared/seeds), with the real kubectl.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startCluster, stopCluster, removeCluster, kubectl, kubectlOk, kubectlStream, fixture, waitUntil, type Cluster } from './harness.ts';

let c: Cluster;
before(async () => {
  c = await startCluster();
});
after(async () => {
  await stopCluster(c);
  await removeCluster(c);
});

/** Splits kubectl table output into rows of cells (columns are separated by 2+ spaces). */
function rows(out: string): string[][] {
  return out.trim().split('\n').map((l) => l.trim().split(/\s{2,}/));
}

test('create -f web.yaml creates the headless Service and the StatefulSet', async () => {
  const out = await kubectlOk(c, ['create', '-f', fixture('web.yaml')]);
  assert.equal(out, 'service/nginx created\nstatefulset.apps/web created\n');

  const svc = rows(await kubectlOk(c, ['get', 'service', 'nginx']));
  assert.deepEqual(svc[0], ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
  assert.deepEqual(svc[1].slice(0, 5), ['nginx', 'ClusterIP', 'None', '<none>', '80/TCP']);
  assert.match(svc[1][5], /^\d+s$/);

  const sts = rows(await kubectlOk(c, ['get', 'statefulset', 'web']));
  assert.deepEqual(sts[0], ['NAME', 'READY', 'AGE']);
  assert.deepEqual(sts[1].slice(0, 2), ['web', '0/2']);

  const wide = rows(await kubectlOk(c, ['get', 'sts', 'web', '-o', 'wide']));
  assert.deepEqual(wide[0], ['NAME', 'READY', 'AGE', 'CONTAINERS', 'IMAGES']);
  assert.deepEqual([wide[1][3], wide[1][4]], ['nginx', 'registry.k8s.io/nginx-slim:0.8']);
});

test('the StatefulSet is stored with upstream defaults', async () => {
  const sts = JSON.parse(await kubectlOk(c, ['get', 'sts', 'web', '-o', 'json']));
  assert.equal(sts.spec.podManagementPolicy, 'OrderedReady');
  // maxUnavailable is honoured (and defaulted to 1) as upstream does with the feature enabled.
  assert.deepEqual(sts.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: 1 } });
  assert.equal(sts.spec.revisionHistoryLimit, 10);
  assert.deepEqual(sts.spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
  const pod = sts.spec.template.spec;
  assert.equal(pod.restartPolicy, 'Always');
  assert.equal(pod.dnsPolicy, 'ClusterFirst');
  assert.equal(pod.terminationGracePeriodSeconds, 30);
  assert.equal(pod.schedulerName, 'default-scheduler');
  assert.equal(pod.containers[0].imagePullPolicy, 'IfNotPresent');
  assert.equal(pod.containers[0].ports[0].protocol, 'TCP');
  assert.equal(pod.containers[0].terminationMessagePath, '/dev/termination-log');
  assert.equal(sts.spec.volumeClaimTemplates[0].spec.volumeMode, 'Filesystem');
  assert.equal(sts.metadata.generation, 1);
  assert.match(sts.metadata.uid, /^[0-9a-f-]{36}$/);
  assert.match(sts.metadata.resourceVersion, /^\d+$/);
});

test('scale, patch, JSON patch and set image change the set as in the tutorial', async () => {
  assert.equal(await kubectlOk(c, ['scale', 'sts', 'web', '--replicas=5']), 'statefulset.apps/web scaled\n');
  assert.equal(await kubectlOk(c, ['get', 'sts', 'web', '-o', 'jsonpath={.spec.replicas}']), '5');

  assert.equal(await kubectlOk(c, ['patch', 'sts', 'web', '-p', '{"spec":{"replicas":3}}']), 'statefulset.apps/web patched\n');
  assert.equal(await kubectlOk(c, ['get', 'sts', 'web', '-o', 'jsonpath={.spec.replicas}']), '3');

  await kubectlOk(c, ['patch', 'statefulset', 'web', '--type=json', '-p', '[{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value":"registry.k8s.io/nginx-slim:0.7"}]']);
  assert.equal(await kubectlOk(c, ['get', 'sts', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']), 'registry.k8s.io/nginx-slim:0.7');

  assert.equal(await kubectlOk(c, ['set', 'image', 'statefulset', 'web', 'nginx=registry.k8s.io/nginx-slim:0.9']), 'statefulset.apps/web image updated\n');
  const sts = JSON.parse(await kubectlOk(c, ['get', 'sts', 'web', '-o', 'json']));
  assert.equal(sts.spec.template.spec.containers.length, 1);
  assert.equal(sts.spec.template.spec.containers[0].image, 'registry.k8s.io/nginx-slim:0.9');
  assert.equal(sts.spec.template.spec.containers[0].ports[0].containerPort, 80);
  // Two template changes bumped the generation; scaling changes the spec too.
  assert.equal(sts.metadata.generation, 5);

  const scale = JSON.parse(await kubectlOk(c, ['get', '--raw', '/apis/apps/v1/namespaces/default/statefulsets/web/scale']));
  assert.equal(scale.kind, 'Scale');
  assert.equal(scale.spec.replicas, 3);
  assert.equal(scale.status.selector, 'app=nginx');
});

test('the retired apps/v1beta1 version gets a clear error', async () => {
  const r = await kubectl(c, ['create', '-f', fixture('web-v1beta1.yaml')]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /no matches for kind "StatefulSet" in version "apps\/v1beta1"/);
});

test('apply twice: created, then unchanged', async () => {
  await kubectlOk(c, ['create', 'namespace', 'applied']);
  const first = await kubectlOk(c, ['apply', '-n', 'applied', '-f', fixture('web.yaml')]);
  assert.equal(first, 'service/nginx created\nstatefulset.apps/web created\n');
  const generation = await kubectlOk(c, ['get', 'sts', 'web', '-n', 'applied', '-o', 'jsonpath={.metadata.generation}']);
  const second = await kubectlOk(c, ['apply', '-n', 'applied', '-f', fixture('web.yaml')]);
  // Upstream prints "configured" for a set with volumeClaimTemplates even when nothing changed: the
  // list has no merge key and the server adds defaults to it, so kubectl always sends it
  // (kubernetes/kubernetes#66450). The patch changes nothing: the generation stays.
  assert.equal(second, 'service/nginx unchanged\nstatefulset.apps/web configured\n');
  assert.equal(await kubectlOk(c, ['get', 'sts', 'web', '-n', 'applied', '-o', 'jsonpath={.metadata.generation}']), generation);
  // A set without claim templates is reported unchanged, as upstream.
  const plain = readFileSync(fixture('web.yaml'), 'utf8').split('---')[1].replace(/  volumeClaimTemplates:[\s\S]*$/, '').replace('name: web', 'name: plain');
  assert.equal(await kubectlOk(c, ['apply', '-n', 'applied', '-f', '-'], { input: plain }), 'statefulset.apps/plain created\n');
  assert.equal(await kubectlOk(c, ['apply', '-n', 'applied', '-f', '-'], { input: plain }), 'statefulset.apps/plain unchanged\n');
  // A changed manifest is patched in place.
  const changed = readFileSync(fixture('web.yaml'), 'utf8').replace('replicas: 2', 'replicas: 4');
  const third = await kubectlOk(c, ['apply', '-n', 'applied', '-f', '-'], { input: changed });
  assert.equal(third, 'service/nginx unchanged\nstatefulset.apps/web configured\n');
  assert.equal(await kubectlOk(c, ['get', 'sts', 'web', '-n', 'applied', '-o', 'jsonpath={.spec.replicas}']), '4');
});

test('explain statefulset.spec.updateStrategy describes the field', async () => {
  const out = await kubectlOk(c, ['explain', 'statefulset.spec.updateStrategy']);
  assert.match(out, /GROUP:\s+apps/);
  assert.match(out, /KIND:\s+StatefulSet/);
  assert.match(out, /VERSION:\s+v1/);
  assert.match(out, /FIELD: updateStrategy <StatefulSetUpdateStrategy>/);
  assert.match(out, /rollingUpdate\s+<RollingUpdateStatefulSetStrategy>/);
  assert.match(out, /type\s+<string>/);
});

test('get pods -w receives events as pods change', async () => {
  const w = kubectlStream(c, ['get', 'pods', '-w', '-l', 'app=watched']);
  await w.waitFor(/No resources found|NAME/, 10_000).catch(() => undefined);
  const pod = (name: string) => JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'watched' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
  await kubectlOk(c, ['create', '-f', '-'], { input: pod('watch-0') });
  await w.waitFor(/watch-0\s+0\/1\s+Pending\s+0\s+\d+s/);
  await kubectlOk(c, ['label', 'pod', 'watch-0', 'extra=yes']);
  await kubectlOk(c, ['create', '-f', '-'], { input: pod('watch-1') });
  await w.waitFor(/watch-1\s+0\/1\s+Pending/);
  await kubectlOk(c, ['delete', 'pod', 'watch-0']);
  await waitUntil(() => (w.output().match(/watch-0/g) ?? []).length >= 3, 10_000, () => w.output());
  await w.stop();
  const lines = w.output().trim().split('\n');
  assert.match(lines[0], /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
});

test('delete --cascade=orphan, then re-create: the Service already exists', async () => {
  assert.equal(await kubectlOk(c, ['delete', 'statefulset', 'web', '--cascade=orphan']), 'statefulset.apps "web" deleted\n');
  await waitUntil(async () => (await kubectl(c, ['get', 'sts', 'web'])).code !== 0, 10_000, () => 'the set is still there');
  const r = await kubectl(c, ['create', '-f', fixture('web.yaml')]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, 'statefulset.apps/web created\n');
  assert.match(r.stderr, /Error from server \(AlreadyExists\): error when creating ".*web.yaml": services "nginx" already exists/);
});
