// `kubectl delete namespace` of a namespace holding a StatefulSet of 300 pods with claims: the
// namespace controller deletes the set before its pods, so that the set's controller does not try
// to replace them (refused, the namespace being terminated) while they go, which made a namespace
// of 3,000 such pods take minutes; and everything in it goes, the claims' volumes too.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, stopCluster, removeCluster, kubectl, kubectlOk, kubectlStream, waitUntil, type Cluster } from './harness.ts';
import { webSet } from '../support/failure-cluster.ts';

const REPLICAS = 300;
const manifest = `${webSet(REPLICAS, { claimTemplate: 'www' })}---
apiVersion: v1
kind: ConfigMap
metadata: { name: settings }
data: { a: b }
`;

let c: Cluster;

before(async () => {
  c = await startCluster({ args: ['--nodes', '3', '--sim-stop-delay', '0'] });
});

after(async () => {
  if (!c) return;
  await stopCluster(c);
  await removeCluster(c);
});

/** One line per watch event: type, name, resourceVersion, deletionTimestamp (empty when none). */
const LINE = '{.type} {.object.metadata.name} {.object.metadata.resourceVersion} {.object.metadata.deletionTimestamp}{"\\n"}';
const events = (out: string) =>
  out
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [type, name, rv, deletion] = l.trim().split(/\s+/);
      return { type, name, rv: Number(rv), marked: !!deletion };
    });

test('kubectl delete namespace: the StatefulSet goes before its pods, then everything in the namespace, volumes included', async () => {
  await kubectlOk(c, ['create', 'namespace', 'tear']);
  await kubectlOk(c, ['apply', '-n', 'tear', '-f', '-'], { input: manifest });
  await kubectlOk(c, ['rollout', 'status', '-n', 'tear', 'statefulset/web', '--timeout=120s']);
  const volumes = () => kubectlOk(c, ['get', 'pv', '-o', 'jsonpath={range .items[*]}{.spec.claimRef.namespace}{"\\n"}{end}']);
  assert.equal((await volumes()).split('\n').filter((ns) => ns === 'tear').length, REPLICAS);

  const pods = kubectlStream(c, ['get', 'pods', '-n', 'tear', '-w', '--output-watch-events', '-o', `jsonpath=${LINE}`]);
  const sets = kubectlStream(c, ['get', 'statefulsets', '-n', 'tear', '-w', '--output-watch-events', '-o', `jsonpath=${LINE}`]);
  try {
    await pods.waitFor(new RegExp(`ADDED web-${REPLICAS - 1} `), 20_000);
    await sets.waitFor(/ADDED web /, 20_000);
    const started = Date.now();
    // kubectl waits until the namespace itself is gone.
    await kubectlOk(c, ['delete', 'namespace', 'tear', '--timeout=120s']);
    const seconds = (Date.now() - started) / 1000;
    await sets.waitFor(/DELETED web /, 10_000);
    await pods.waitFor(new RegExp(`DELETED web-`), 10_000);
    const setDeleted = events(sets.output()).find((e) => e.type === 'DELETED')!;
    const firstMarked = events(pods.output()).find((e) => e.marked || e.type === 'DELETED')!;
    assert.ok(
      setDeleted.rv < firstMarked.rv,
      `the StatefulSet was deleted at revision ${setDeleted.rv}, after pod ${firstMarked.name} was marked at ${firstMarked.rv}`,
    );
    assert.ok(seconds < 60, `the namespace took ${seconds} s to go`);
  } finally {
    await pods.stop();
    await sets.stop();
  }

  const ns = await kubectl(c, ['get', 'namespace', 'tear']);
  assert.match(ns.stderr, /NotFound/);
  for (const kind of ['pods', 'persistentvolumeclaims', 'statefulsets', 'configmaps', 'services']) {
    const left = await kubectlOk(c, ['get', kind, '-n', 'tear', '-o', 'name']);
    assert.equal(left.trim(), '', `${kind} left in the deleted namespace`);
  }
  // The claims' volumes (reclaim policy Delete) go after their claims.
  await waitUntil(async () => !(await volumes()).split('\n').includes('tear'), 30_000, () => 'the volumes of the namespace deleted');
});

test('a namespace held by a finalizer says what it waits for in its conditions, as upstream, and goes once it is released', async () => {
  await kubectlOk(c, ['create', 'namespace', 'held']);
  await kubectlOk(c, ['apply', '-n', 'held', '-f', '-'], {
    input: 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: keep, finalizers: [example.com/hold] }\ndata: { a: b }\n',
  });
  await kubectlOk(c, ['delete', 'namespace', 'held', '--wait=false']);
  const conditions = async () => {
    const ns = JSON.parse(await kubectlOk(c, ['get', 'namespace', 'held', '-o', 'json']));
    return Object.fromEntries((ns.status.conditions ?? []).map((x: Record<string, string>) => [x.type, `${x.status} ${x.reason}: ${x.message}`]));
  };
  await waitUntil(async () => (await conditions()).NamespaceFinalizersRemaining?.startsWith('True'), 10_000, () => 'the finalizer reported');
  assert.deepEqual(await conditions(), {
    NamespaceDeletionDiscoveryFailure: 'False ResourcesDiscovered: All resources successfully discovered',
    NamespaceDeletionGroupVersionParsingFailure: 'False ParsedGroupVersions: All legacy kube types successfully parsed',
    NamespaceDeletionContentFailure: 'False ContentDeleted: All content successfully deleted, may be waiting on finalization',
    NamespaceContentRemaining: 'True SomeResourcesRemain: Some resources are remaining: configmaps. has 1 resource instances',
    NamespaceFinalizersRemaining: 'True SomeFinalizersRemain: Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances',
  });
  const described = await kubectlOk(c, ['describe', 'namespace', 'held']);
  assert.match(described, /Status:\s+Terminating/);
  await kubectlOk(c, ['patch', 'configmap', 'keep', '-n', 'held', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
  await kubectlOk(c, ['wait', '--for=delete', 'namespace/held', '--timeout=30s']);
});
