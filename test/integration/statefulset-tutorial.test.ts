// The whole StatefulSet tutorial (shared/seeds/000), step by step, with the real kubectl against
// `ordinal up --runtime sim`: what users type and what they expect to see.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startCluster, stopCluster, removeCluster, kubectl, kubectlOk, kubectlStream, fixture, waitUntil, type Cluster } from './harness.ts';

let c: Cluster;
before(async () => {
  c = await startCluster({ args: ['--runtime', 'sim', '--nodes', '3', '--sim-start-delay', '150'] });
});
after(async () => {
  await stopCluster(c);
  await removeCluster(c);
});

const json = async (args: string[]) => JSON.parse(await kubectlOk(c, [...args, '-o', 'json']));
const pods = async () => (await json(['get', 'pods', '-l', 'app=nginx'])).items as any[];
const isReady = (p: any) => p.status?.phase === 'Running' && p.status?.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True') && !p.metadata.deletionTimestamp;

/** Waits until exactly these pods exist and are Running and Ready. */
async function waitForReady(names: string[], ms = 20_000) {
  await waitUntil(
    async () => {
      const ps = await pods();
      return ps.length === names.length && names.every((n) => ps.some((p) => p.metadata.name === n && isReady(p)));
    },
    ms,
    () => `pods ${names.join(',')} Running and Ready`,
  );
}

const images = async () => Object.fromEntries((await pods()).map((p) => [p.metadata.name, p.spec.containers[0].image]));

/** Lines of `get pods -w` output for one pod, as [READY, STATUS]. */
function transitions(out: string, pod: string): string[] {
  return out
    .split('\n')
    .filter((l) => l.startsWith(pod + ' '))
    .map((l) => l.trim().split(/\s+/).slice(1, 3).join(' '));
}

test('ordered creation: web-1 starts only after web-0 is Running and Ready', async () => {
  const w = kubectlStream(c, ['get', 'pods', '-w', '-l', 'app=nginx']);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await kubectlOk(c, ['create', '-f', fixture('web.yaml')]), 'service/nginx created\nstatefulset.apps/web created\n');
  await waitForReady(['web-0', 'web-1']);
  await w.waitFor(/web-1\s+1\/1\s+Running/);
  await w.stop();
  const out = w.output();
  assert.deepEqual(transitions(out, 'web-0').slice(-1), ['1/1 Running']);
  assert.ok(transitions(out, 'web-0').includes('0/1 Pending'));
  // web-1 shows up only after web-0 reported Running and Ready.
  const firstWeb1 = out.indexOf('\nweb-1 ');
  const web0Running = out.search(/\nweb-0\s+1\/1\s+Running/);
  assert.ok(web0Running > 0 && firstWeb1 > web0Running, out);

  const sts = (await kubectlOk(c, ['get', 'statefulset', 'web'])).trim().split('\n');
  assert.match(sts[1], /^web\s+2\/2\s+\d+s$/);
});

test('stable network identity: hostnames, subdomain and the headless service endpoints', async () => {
  for (const i of [0, 1]) {
    const p = await json(['get', 'pod', `web-${i}`]);
    assert.equal(p.spec.hostname, `web-${i}`);
    assert.equal(p.spec.subdomain, 'nginx');
    assert.equal(p.metadata.labels['statefulset.kubernetes.io/pod-name'], `web-${i}`);
    assert.equal(p.metadata.labels['apps.kubernetes.io/pod-index'], String(i));
    assert.match(p.metadata.labels['controller-revision-hash'], /^web-[0-9a-z]+$/);
    assert.match(p.status.podIP, /^\d+\.\d+\.\d+\.\d+$/);
  }
  await waitUntil(async () => {
    const ep = await json(['get', 'endpoints', 'nginx']);
    return (ep.subsets?.[0]?.addresses ?? []).length === 2;
  }, 10_000, () => 'endpoints with two ready addresses');
  const ep = await json(['get', 'endpoints', 'nginx']);
  assert.deepEqual(ep.subsets[0].addresses.map((a: any) => a.hostname).sort(), ['web-0', 'web-1']);
});

test('stable storage: one bound claim per pod, kept when pods are deleted and recreated', async () => {
  await waitUntil(async () => (await json(['get', 'pvc', '-l', 'app=nginx'])).items.filter((p: any) => p.status.phase === 'Bound').length === 2, 10_000);
  const table = (await kubectlOk(c, ['get', 'pvc', '-l', 'app=nginx'])).trim().split('\n');
  assert.match(table[0], /^NAME\s+STATUS\s+VOLUME\s+CAPACITY\s+ACCESS MODES\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+AGE$/);
  assert.match(table[1], /^www-web-0\s+Bound\s+pvc-[0-9a-f-]+\s+1Gi\s+RWO\s+local-path\s+<unset>\s+\d+s$/);
  const volumes = Object.fromEntries((await json(['get', 'pvc', '-l', 'app=nginx'])).items.map((p: any) => [p.metadata.name, p.spec.volumeName]));
  const before = Object.fromEntries((await pods()).map((p) => [p.metadata.name, p.metadata.uid]));

  const out = await kubectlOk(c, ['delete', 'pod', '-l', 'app=nginx']);
  assert.equal(out, 'pod "web-0" deleted\npod "web-1" deleted\n');
  await waitForReady(['web-0', 'web-1']);
  const after = Object.fromEntries((await pods()).map((p) => [p.metadata.name, p.metadata.uid]));
  assert.notEqual(after['web-0'], before['web-0']);
  assert.notEqual(after['web-1'], before['web-1']);
  const volumesAfter = Object.fromEntries((await json(['get', 'pvc', '-l', 'app=nginx'])).items.map((p: any) => [p.metadata.name, p.spec.volumeName]));
  assert.deepEqual(volumesAfter, volumes);
  for (const i of [0, 1]) {
    const p = await json(['get', 'pod', `web-${i}`]);
    assert.equal(p.spec.volumes.find((v: any) => v.name === 'www').persistentVolumeClaim.claimName, `www-web-${i}`);
  }
});

test('scale up 2 -> 5 in order, scale down 5 -> 3 from the highest ordinal, claims kept', async () => {
  const w = kubectlStream(c, ['get', 'pods', '-w', '-l', 'app=nginx', '--watch-only']);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await kubectlOk(c, ['scale', 'sts', 'web', '--replicas=5']), 'statefulset.apps/web scaled\n');
  await waitForReady(['web-0', 'web-1', 'web-2', 'web-3', 'web-4'], 30_000);
  const up = w.output();
  const firstSeen = (n: string) => up.indexOf(`\n${n} `) >= 0 ? up.indexOf(`\n${n} `) : up.indexOf(`${n} `);
  assert.ok(firstSeen('web-2') < firstSeen('web-3') && firstSeen('web-3') < firstSeen('web-4'), up);

  assert.equal(await kubectlOk(c, ['patch', 'sts', 'web', '-p', '{"spec":{"replicas":3}}']), 'statefulset.apps/web patched\n');
  await waitForReady(['web-0', 'web-1', 'web-2'], 30_000);
  await w.stop();
  const down = w.output();
  const terminating = (n: string) => down.search(new RegExp(`${n}\\s+\\S+\\s+Terminating`));
  assert.ok(terminating('web-4') >= 0 && terminating('web-3') > terminating('web-4'), down);
  const claims = (await json(['get', 'pvc', '-l', 'app=nginx'])).items.map((p: any) => p.metadata.name).sort();
  assert.deepEqual(claims, ['www-web-0', 'www-web-1', 'www-web-2', 'www-web-3', 'www-web-4']);
});

test('OnDelete: the new template applies only to pods that are deleted', async () => {
  await kubectlOk(c, ['patch', 'statefulset', 'web', '-p', '{"spec":{"updateStrategy":{"type":"OnDelete","rollingUpdate":null}}}']);
  await kubectlOk(c, ['patch', 'statefulset', 'web', '--type=json', '-p', '[{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value":"registry.k8s.io/nginx-slim:0.7"}]']);
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(await images(), { 'web-0': 'registry.k8s.io/nginx-slim:0.8', 'web-1': 'registry.k8s.io/nginx-slim:0.8', 'web-2': 'registry.k8s.io/nginx-slim:0.8' });
  await kubectlOk(c, ['delete', 'pod', 'web-0']);
  await waitForReady(['web-0', 'web-1', 'web-2']);
  await waitUntil(async () => (await images())['web-0'] === 'registry.k8s.io/nginx-slim:0.7', 10_000);
  assert.equal((await images())['web-1'], 'registry.k8s.io/nginx-slim:0.8');
  await kubectlOk(c, ['delete', 'pod', 'web-1', 'web-2']);
  await waitUntil(async () => Object.values(await images()).every((i) => i === 'registry.k8s.io/nginx-slim:0.7') && (await pods()).every(isReady) && (await pods()).length === 3, 20_000);
  const out = await kubectlOk(c, ['get', 'pod', '-l', 'app=nginx', '-o', 'jsonpath={range .items[*]}{.metadata.name}{"\\t"}{.spec.containers[0].image}{"\\n"}{end}']);
  assert.equal(out, 'web-0\tregistry.k8s.io/nginx-slim:0.7\nweb-1\tregistry.k8s.io/nginx-slim:0.7\nweb-2\tregistry.k8s.io/nginx-slim:0.7\n');
});

test('RollingUpdate replaces pods from the highest ordinal down; rollout status follows it', async () => {
  await kubectlOk(c, ['patch', 'statefulset', 'web', '-p', '{"spec":{"updateStrategy":{"type":"RollingUpdate"}}}']);
  const w = kubectlStream(c, ['get', 'pods', '-w', '-l', 'app=nginx', '--watch-only']);
  await new Promise((r) => setTimeout(r, 300));
  await kubectlOk(c, ['patch', 'statefulset', 'web', '--type=json', '-p', '[{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value":"gcr.io/google_containers/nginx-slim:0.8"}]']);
  const status = await kubectl(c, ['rollout', 'status', 'sts/web', '--timeout=60s'], { timeoutMs: 70_000 });
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /statefulset rolling update complete 3 pods at revision web-[0-9a-z]+\.\.\./);
  await w.stop();
  const out = w.output();
  const term = (n: string) => out.search(new RegExp(`${n}\\s+\\S+\\s+Terminating`));
  assert.ok(term('web-2') >= 0 && term('web-1') > term('web-2') && term('web-0') > term('web-1'), out);
  assert.deepEqual(new Set(Object.values(await images())), new Set(['gcr.io/google_containers/nginx-slim:0.8']));
  const history = await kubectlOk(c, ['rollout', 'history', 'sts/web']);
  assert.match(history, /REVISION/);
});

test('partitions: staging (3), canary (2), deleted pods below the partition keep the old image, phased roll out (0)', async () => {
  await kubectlOk(c, ['patch', 'statefulset', 'web', '-p', '{"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":3}}}}']);
  await kubectlOk(c, ['patch', 'statefulset', 'web', '--type=json', '-p', '[{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value":"k8s.gcr.io/nginx-slim:0.7"}]']);
  await kubectlOk(c, ['delete', 'pod', 'web-2']);
  await waitForReady(['web-0', 'web-1', 'web-2']);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await images())['web-2'], 'gcr.io/google_containers/nginx-slim:0.8', 'below the partition a deleted pod comes back at the old revision');

  await kubectlOk(c, ['patch', 'statefulset', 'web', '-p', '{"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":2}}}}']);
  await waitUntil(async () => (await images())['web-2'] === 'k8s.gcr.io/nginx-slim:0.7' && (await pods()).every(isReady), 20_000);
  await kubectlOk(c, ['delete', 'pod', 'web-1']);
  await waitForReady(['web-0', 'web-1', 'web-2']);
  assert.equal((await images())['web-1'], 'gcr.io/google_containers/nginx-slim:0.8');

  await kubectlOk(c, ['patch', 'statefulset', 'web', '-p', '{"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":0}}}}']);
  await waitUntil(async () => Object.values(await images()).every((i) => i === 'k8s.gcr.io/nginx-slim:0.7') && (await pods()).every(isReady) && (await pods()).length === 3, 30_000);
});

test('non-cascading delete keeps the pods; the re-created set adopts them and trims to its replicas', async () => {
  assert.equal(await kubectlOk(c, ['delete', 'statefulset', 'web', '--cascade=orphan']), 'statefulset.apps "web" deleted\n');
  const orphans = await pods();
  assert.equal(orphans.length, 3);
  assert.ok(orphans.every((p) => !(p.metadata.ownerReferences ?? []).length));
  await kubectlOk(c, ['delete', 'pod', 'web-0']);
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual((await pods()).map((p) => p.metadata.name).sort(), ['web-1', 'web-2']);
  const r = await kubectl(c, ['apply', '-f', fixture('web.yaml')]);
  assert.match(r.stdout, /statefulset.apps\/web created/);
  // web-0 comes back, web-1 is adopted, and web-2 (above replicas: 2) is removed.
  await waitForReady(['web-0', 'web-1']);
  const ps = await pods();
  assert.ok(ps.every((p) => p.metadata.ownerReferences?.[0]?.kind === 'StatefulSet'));
});

test('cascading delete removes the pods but not the Service or the claims', async () => {
  assert.equal(await kubectlOk(c, ['delete', 'statefulset', 'web']), 'statefulset.apps "web" deleted\n');
  await waitUntil(async () => (await pods()).length === 0, 20_000, () => 'pods gone');
  assert.equal((await json(['get', 'service', 'nginx'])).metadata.name, 'nginx');
  assert.equal((await json(['get', 'pvc', '-l', 'app=nginx'])).items.length, 5);
  await kubectlOk(c, ['delete', 'service', 'nginx']);
});

test('Parallel pod management creates and deletes pods without waiting', async () => {
  await kubectlOk(c, ['create', '-f', fixture('web-parallel.yaml')]);
  await waitUntil(async () => (await pods()).length === 2, 5_000);
  // Both pods exist before either is Ready: nobody waited.
  await waitForReady(['web-0', 'web-1']);
  await kubectlOk(c, ['scale', 'statefulset/web', '--replicas=4']);
  await waitForReady(['web-0', 'web-1', 'web-2', 'web-3']);
  await kubectlOk(c, ['delete', 'sts', 'web']);
  await kubectlOk(c, ['delete', 'svc', 'nginx']);
  void readFileSync;
});
