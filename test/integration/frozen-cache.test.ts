// A whole cluster with ORDINAL_FREEZE_CACHE=1: the watch cache deep-freezes every object it holds,
// and the in-process informers of the controllers, the scheduler and the node agents share those
// same objects. Code that changes an object it was handed, instead of a copy, then throws a
// TypeError where it would otherwise quietly corrupt what every other component sees. The test
// drives, with the real kubectl, the paths that pass objects through the most components
// (StatefulSet with claims, scaling, rolling updates, patches, server-side apply, a Job, a drain,
// cascading deletes), checks that each step converges, and after each step that the server's
// output holds no error from the freeze and no uncaught exception.
//
// Where such a TypeError lands: in a sync a controller's work queue runs, it is logged at error
// level (and retried); in an informer's event handler it is uncaught and ends the server; in an
// API handler it is a 500 logged at error level. The server logs at debug level here all the
// same, so that a failure's neighbouring lines are there to read.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { startCluster, stopCluster, removeCluster, kubectl, kubectlOk, waitUntil, type Cluster } from './harness.ts';

let c: Cluster;

before(async () => {
  c = await startCluster({ args: ['--nodes', '3', '--sim-start-delay', '100'], env: { ORDINAL_FREEZE_CACHE: '1', ORDINAL_LOG_LEVEL: 'debug' } });
  // Linux shows a process's environment: the setting reached the server, not just this test.
  const environ = `/proc/${c.proc.pid}/environ`;
  if (existsSync(environ)) assert.ok(readFileSync(environ, 'utf8').split('\0').includes('ORDINAL_FREEZE_CACHE=1'), 'the server runs without ORDINAL_FREEZE_CACHE=1');
});

after(async () => {
  if (c) {
    await stopCluster(c);
    await removeCluster(c);
  }
});

/**
 * What a write to a frozen object throws (V8's messages in strict mode), what Node prints for an
 * exception or rejection nobody caught, and error-level logs. Any TypeError at all counts: this
 * scenario has none for another reason, and one that appears is a bug worth seeing too.
 */
const FAILURES = [
  /Cannot assign to read only property/,
  /Cannot add property/,
  /Cannot delete property/,
  /object is not extensible/,
  /Cannot define property/,
  /Cannot redefine property/,
  /TypeError/,
  /Uncaught/i,
  /uncaughtException|unhandledRejection|UnhandledPromiseRejection/,
  /"level":"error"/,
];

/** Fails naming the step and quoting the lines that match, unless the server is alive and its output clean. */
function assertClean(step: string): void {
  assert.equal(c.proc.exitCode, null, `the server exited during "${step}":\n${tail(c.logs())}`);
  assert.equal(c.proc.signalCode, null, `the server was killed during "${step}"`);
  const bad = c.logs().split('\n').filter((line) => FAILURES.some((re) => re.test(line)));
  assert.deepEqual(bad.slice(0, 20), [], `the server's output after "${step}" shows an error (${bad.length} lines)`);
}

const tail = (s: string) => s.split('\n').slice(-40).join('\n');

/**
 * Runs one step of the scenario, then checks the server's output. The output is also watched while
 * the step runs: a controller that fails on a frozen object often just retries, and the step would
 * otherwise wait out its timeouts and fail on a symptom. A failed step reports the output's error
 * first when there is one, as the likelier cause.
 */
async function step(name: string, run: () => Promise<void>): Promise<void> {
  let watch: NodeJS.Timeout | undefined;
  const broken = new Promise<never>((_, reject) => {
    watch = setInterval(() => {
      try {
        assertClean(name);
      } catch (err) {
        reject(err);
      }
    }, 200);
  });
  try {
    await Promise.race([run(), broken]);
  } catch (err) {
    assertClean(name);
    throw err;
  } finally {
    clearInterval(watch);
  }
  assertClean(name);
}

const json = async (args: string[]) => JSON.parse(await kubectlOk(c, [...args, '-o', 'json']));
const isReady = (p: any) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp && (p.status.conditions ?? []).some((x: any) => x.type === 'Ready' && x.status === 'True');
const webPods = async () => (await json(['get', 'pods', '-l', 'app=nginx'])).items.sort((a: any, b: any) => a.metadata.name.localeCompare(b.metadata.name, 'en', { numeric: true }));
const names = (items: any[]) => items.map((x) => x.metadata.name);

/** Waits until the set's pods are exactly `want`, all Ready, and its status says so for its current generation. */
async function settled(want: string[], ms = 20_000): Promise<any[]> {
  let seen = '';
  await waitUntil(
    async () => {
      const pods = await webPods();
      const set = await json(['get', 'sts', 'web']);
      const s = set.status ?? {};
      seen = `${pods.map((p: any) => `${p.metadata.name}:${p.status?.phase}${isReady(p) ? '/Ready' : ''}${p.metadata.deletionTimestamp ? '/Terminating' : ''}`).join(' ')}; status ${JSON.stringify(s)}`;
      return names(pods).join() === want.join() && pods.every(isReady) && s.observedGeneration === set.metadata.generation && s.readyReplicas === want.length && s.replicas === want.length;
    },
    ms,
    () => `set web as ${want.join(',')}: ${seen}`,
  );
  return webPods();
}

/** The addresses of the Service's endpoints, as pod names. */
const endpointNames = async () => ((await json(['get', 'endpoints', 'nginx'])).subsets ?? []).flatMap((s: any) => (s.addresses ?? []).map((a: any) => a.targetRef.name)).sort();
const claimNames = async () => names((await json(['get', 'pvc', '-l', 'app=nginx'])).items).sort();

const IMAGE_1 = 'registry.k8s.io/nginx-slim:0.8';
const IMAGE_2 = 'registry.k8s.io/nginx-slim:0.9';
const IMAGE_3 = 'registry.k8s.io/nginx-slim:0.10';

const WEB = `
apiVersion: v1
kind: Service
metadata: { name: nginx, labels: { app: nginx } }
spec:
  clusterIP: None
  selector: { app: nginx }
  ports: [{ port: 80, name: web }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: web }
spec:
  serviceName: nginx
  replicas: 3
  podManagementPolicy: OrderedReady
  selector: { matchLabels: { app: nginx } }
  template:
    metadata: { labels: { app: nginx } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: nginx
        image: ${IMAGE_1}
        ports: [{ containerPort: 80, name: web }]
        volumeMounts: [{ name: www, mountPath: /usr/share/nginx/html }]
  volumeClaimTemplates:
  - metadata: { name: www }
    spec:
      accessModes: [ReadWriteOnce]
      resources: { requests: { storage: 1Gi } }
`;

const CONFIG = (data: Record<string, string>) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data });

const DEPLOYMENT = (replicas: number, image: string) =>
  JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'front' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'front' } },
      template: { metadata: { labels: { app: 'front' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'front', image }] } },
    },
  });

test('a cluster whose cache is frozen runs StatefulSets, patches, apply, Jobs and a drain without touching a shared object', async () => {
  // OrderedReady creation with one claim per pod, behind a headless Service.
  await step('create the StatefulSet', async () => {
    await kubectlOk(c, ['apply', '-f', '-'], { input: WEB });
    await kubectlOk(c, ['rollout', 'status', 'sts/web', '--timeout=30s']);
    const pods = await settled(['web-0', 'web-1', 'web-2']);
    for (const p of pods) {
      assert.equal(p.spec.hostname, p.metadata.name);
      assert.equal(p.spec.subdomain, 'nginx');
    }
    // Each pod was created only once its predecessor was Ready: its creation is not before that Ready.
    const readyAt = (p: any) => Date.parse(p.status.conditions.find((x: any) => x.type === 'Ready').lastTransitionTime);
    for (let i = 1; i < 3; i++) assert.ok(Date.parse(pods[i].metadata.creationTimestamp) >= readyAt(pods[i - 1]) - 999, `web-${i} created before web-${i - 1} was Ready`);
    await waitUntil(async () => (await kubectlOk(c, ['get', 'pvc', '-l', 'app=nginx', '--no-headers'])).split('\n').filter((l) => /\sBound\s/.test(l)).length === 3, 10_000, () => 'three claims Bound');
    assert.deepEqual(await claimNames(), ['www-web-0', 'www-web-1', 'www-web-2']);
    await waitUntil(async () => (await endpointNames()).join() === 'web-0,web-1,web-2', 10_000, () => 'endpoints list the three pods');
  });

  // Scale up to 5, then down to 2: the highest ordinals go, their claims stay.
  await step('scale to 5 and back to 2', async () => {
    await kubectlOk(c, ['scale', 'sts', 'web', '--replicas=5']);
    await settled(['web-0', 'web-1', 'web-2', 'web-3', 'web-4']);
    assert.deepEqual(await claimNames(), ['www-web-0', 'www-web-1', 'www-web-2', 'www-web-3', 'www-web-4']);
    await kubectlOk(c, ['scale', 'sts', 'web', '--replicas=2']);
    await settled(['web-0', 'web-1']);
    assert.deepEqual(await claimNames(), ['www-web-0', 'www-web-1', 'www-web-2', 'www-web-3', 'www-web-4'], 'scale-down keeps the claims');
    await waitUntil(async () => (await endpointNames()).join() === 'web-0,web-1', 10_000, () => 'endpoints list the two pods left');
  });

  // A rolling update behind a partition updates only the ordinals at or above it; then all.
  await step('rolling updates', async () => {
    await kubectlOk(c, ['patch', 'sts', 'web', '-p', JSON.stringify({ spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } } })]);
    await kubectlOk(c, ['set', 'image', 'sts/web', `nginx=${IMAGE_2}`]);
    assert.match(await kubectlOk(c, ['rollout', 'status', 'sts/web', '--timeout=30s']), /partitioned roll out complete: 1 new pods have been updated/);
    let pods = await settled(['web-0', 'web-1']);
    assert.deepEqual(pods.map((p: any) => p.spec.containers[0].image), [IMAGE_1, IMAGE_2]);
    const set = await json(['get', 'sts', 'web']);
    assert.equal(set.status.updatedReplicas, 1);
    assert.notEqual(set.status.currentRevision, set.status.updateRevision);
    await kubectlOk(c, ['patch', 'sts', 'web', '--type=json', '-p', JSON.stringify([{ op: 'replace', path: '/spec/updateStrategy/rollingUpdate/partition', value: 0 }])]);
    await kubectlOk(c, ['rollout', 'status', 'sts/web', '--timeout=30s']);
    await waitUntil(async () => {
      const s = (await json(['get', 'sts', 'web'])).status;
      return s.currentRevision === s.updateRevision && s.updatedReplicas === 2;
    }, 20_000, () => 'the update finished');
    pods = await settled(['web-0', 'web-1']);
    assert.deepEqual(pods.map((p: any) => p.spec.containers[0].image), [IMAGE_2, IMAGE_2]);
    // And once more without a partition at all.
    await kubectlOk(c, ['patch', 'sts', 'web', '--type=json', '-p', JSON.stringify([{ op: 'remove', path: '/spec/updateStrategy/rollingUpdate' }])]);
    await kubectlOk(c, ['set', 'image', 'sts/web', `nginx=${IMAGE_3}`]);
    await kubectlOk(c, ['rollout', 'status', 'sts/web', '--timeout=30s']);
    pods = await settled(['web-0', 'web-1']);
    assert.deepEqual(pods.map((p: any) => p.spec.containers[0].image), [IMAGE_3, IMAGE_3]);
    assert.match(await kubectlOk(c, ['rollout', 'history', 'sts/web']), /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n3\s+<none>/);
  });

  // Labels, annotations and patches of pods and of the set, by each patch type kubectl sends.
  await step('patch, label and annotate', async () => {
    await kubectlOk(c, ['label', 'pod', 'web-0', 'tier=db']);
    await kubectlOk(c, ['annotate', 'pod', 'web-0', 'note=first']);
    await kubectlOk(c, ['patch', 'pod', 'web-1', '--type=merge', '-p', JSON.stringify({ metadata: { labels: { patched: 'merge' } } })]);
    await kubectlOk(c, ['patch', 'pod', 'web-1', '-p', JSON.stringify({ metadata: { annotations: { patched: 'strategic' } } })]);
    await kubectlOk(c, ['label', 'sts', 'web', 'team=storage']);
    await kubectlOk(c, ['annotate', 'sts', 'web', 'note=set']);
    await kubectlOk(c, ['patch', 'sts', 'web', '--type=json', '-p', JSON.stringify([{ op: 'add', path: '/metadata/labels/json', value: 'yes' }])]);
    const p0 = await json(['get', 'pod', 'web-0']);
    const p1 = await json(['get', 'pod', 'web-1']);
    const set = await json(['get', 'sts', 'web']);
    assert.equal(p0.metadata.labels.tier, 'db');
    assert.equal(p0.metadata.annotations.note, 'first');
    assert.equal(p1.metadata.labels.patched, 'merge');
    assert.equal(p1.metadata.annotations.patched, 'strategic');
    assert.deepEqual([set.metadata.labels.team, set.metadata.labels.json, set.metadata.annotations.note], ['storage', 'yes', 'set']);
    // The sim's readiness hook: NotReady takes the pod out of the endpoints and the set's ready count; back again once removed.
    await kubectlOk(c, ['annotate', 'pod', 'web-1', 'sim.ordinal.dev/ready=false']);
    await waitUntil(async () => (await endpointNames()).join() === 'web-0' && (await json(['get', 'sts', 'web'])).status.readyReplicas === 1, 15_000, () => 'web-1 out of the endpoints');
    await kubectlOk(c, ['annotate', 'pod', 'web-1', 'sim.ordinal.dev/ready-']);
    await settled(['web-0', 'web-1']);
    await waitUntil(async () => (await endpointNames()).join() === 'web-0,web-1', 15_000, () => 'web-1 back in the endpoints');
    assert.equal((await json(['get', 'pod', 'web-0'])).metadata.labels.tier, 'db', 'labels survive the status writes');
  });

  // Server-side apply: create, change (a key dropped from the applied config goes), a conflict with another manager, forced.
  await step('server-side apply', async () => {
    await kubectlOk(c, ['apply', '--server-side', '-f', '-'], { input: CONFIG({ a: '1', b: '2' }) });
    await kubectlOk(c, ['apply', '--server-side', '-f', '-'], { input: CONFIG({ a: '10' }) });
    const cm = await json(['get', 'configmap', 'settings', '--show-managed-fields']);
    assert.deepEqual(cm.data, { a: '10' });
    assert.deepEqual(cm.metadata.managedFields.map((f: any) => [f.manager, f.operation]), [['kubectl', 'Apply']]);
    await kubectlOk(c, ['apply', '--server-side', '-f', '-'], { input: DEPLOYMENT(2, 'front:1') });
    await kubectlOk(c, ['rollout', 'status', 'deploy/front', '--timeout=30s']);
    const conflict = await kubectl(c, ['apply', '--server-side', '--field-manager=other', '-f', '-'], { input: DEPLOYMENT(3, 'front:1') });
    assert.notEqual(conflict.code, 0);
    assert.match(conflict.stderr, /Apply failed with 1 conflict: conflict with "kubectl": \.spec\.replicas/);
    await kubectlOk(c, ['apply', '--server-side', '--field-manager=other', '--force-conflicts', '-f', '-'], { input: DEPLOYMENT(3, 'front:2') });
    assert.match(await kubectlOk(c, ['rollout', 'status', 'deploy/front', '--timeout=30s']), /successfully rolled out/);
    const front = await json(['get', 'deploy', 'front']);
    assert.deepEqual([front.spec.replicas, front.status.readyReplicas, front.spec.template.spec.containers[0].image], [3, 3, 'front:2']);
  });

  // Cordon and drain the node of web-1: its pods are evicted; web-1 comes back Pending (its volume
  // is on that node, which takes nothing new), then Ready there once the node is uncordoned.
  let node = '';
  await step('cordon and drain', async () => {
    node = (await json(['get', 'pod', 'web-1'])).spec.nodeName;
    const web1Uid = (await json(['get', 'pod', 'web-1'])).metadata.uid;
    await kubectlOk(c, ['cordon', node]);
    assert.match(await kubectlOk(c, ['get', 'node', node]), /Ready,SchedulingDisabled/);
    const drained = await kubectl(c, ['drain', node, '--ignore-daemonsets', '--timeout=30s']);
    assert.equal(drained.code, 0, drained.stderr);
    assert.match(drained.stdout, /pod\/web-1 evicted/);
    assert.match(drained.stdout, new RegExp(`node/${node} drained`));
    await waitUntil(async () => {
      const r = await kubectl(c, ['get', 'pod', 'web-1', '-o', 'json']);
      if (r.code !== 0) return false;
      const p = JSON.parse(r.stdout);
      return p.metadata.uid !== web1Uid && p.status?.phase === 'Pending' && !p.spec.nodeName;
    }, 15_000, () => 'web-1 recreated and unscheduled');
    await waitUntil(async () => (await json(['get', 'pods', '-l', 'app=front'])).items.filter((p: any) => isReady(p) && p.spec.nodeName !== node).length === 3, 20_000, () => 'front runs off the drained node');
    await kubectlOk(c, ['uncordon', node]);
    const pods = await settled(['web-0', 'web-1'], 30_000);
    assert.equal(pods[1].spec.nodeName, node, 'web-1 back on the node of its volume');
  });

  // get -o wide and describe: node and IP columns, and the pod's events.
  await step('get -o wide and describe', async () => {
    const wide = await kubectlOk(c, ['get', 'pods', '-l', 'app=nginx', '-o', 'wide']);
    assert.match(wide, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES\n/);
    assert.match(wide, new RegExp(`\\nweb-1\\s+1/1\\s+Running\\s+0\\s+\\S+\\s+\\d+\\.\\d+\\.\\d+\\.\\d+\\s+${node}\\s`));
    const described = await kubectlOk(c, ['describe', 'pod', 'web-1']);
    assert.match(described, /^Name:\s+web-1$/m);
    assert.match(described, /Controlled By:\s+StatefulSet\/web/);
    assert.match(described, /ClaimName:\s+www-web-1/);
    assert.match(described, /Events:/);
    assert.match(described, /FailedScheduling/);
    assert.match(described, new RegExp(`Scheduled\\s+.*Successfully assigned default/web-1 to ${node}`));
    assert.match(described, /Started/);
  });

  // A Job runs to completion.
  await step('a Job', async () => {
    await kubectlOk(c, ['create', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'once' },
        spec: { completions: 3, parallelism: 2, template: { metadata: { annotations: { 'sim.ordinal.dev/run-for': '200ms' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
      }),
    });
    await kubectlOk(c, ['wait', '--for=condition=complete', 'job/once', '--timeout=30s']);
    assert.equal((await json(['get', 'job', 'once'])).status.succeeded, 3);
  });

  // Deleting the set takes its pods (background cascade), not its claims; then the claims, and their volumes.
  await step('cascading deletes', async () => {
    const volumes = (await json(['get', 'pvc', '-l', 'app=nginx'])).items.map((x: any) => x.spec.volumeName);
    assert.equal(volumes.length, 5);
    await kubectlOk(c, ['delete', 'sts', 'web']);
    await waitUntil(async () => (await webPods()).length === 0, 20_000, () => 'the pods of web gone');
    assert.equal((await claimNames()).length, 5, 'the claims outlive the set');
    await kubectlOk(c, ['delete', 'pvc', '-l', 'app=nginx']);
    await waitUntil(async () => (await claimNames()).length === 0, 15_000, () => 'the claims gone');
    await waitUntil(async () => {
      const left = names((await json(['get', 'pv'])).items);
      return volumes.every((v: string) => !left.includes(v));
    }, 15_000, () => 'the volumes of the claims gone');
    await kubectlOk(c, ['delete', 'service/nginx', 'deploy/front', 'job/once', 'configmap/settings']);
    await waitUntil(async () => (await kubectlOk(c, ['get', 'pods', '--no-headers', '--ignore-not-found'])).trim() === '', 20_000, () => 'every pod gone');
  });
});
