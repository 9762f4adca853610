// Deployments, ReplicaSets, DaemonSets, Jobs and CronJobs with the real kubectl on simulated nodes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, stopCluster, removeCluster, kubectl, kubectlOk, waitUntil, type Cluster } from './harness.ts';

let c: Cluster;
before(async () => {
  c = await startCluster({ args: ['--nodes', '3'] });
});
after(async () => {
  await stopCluster(c);
  removeCluster(c);
});

const json = async (args: string[]) => JSON.parse(await kubectlOk(c, [...args, '-o', 'json']));
const podNames = async (selector: string) =>
  (await json(['get', 'pods', '-l', selector])).items.filter((p: any) => !p.metadata.deletionTimestamp).map((p: any) => p.metadata.name).sort();
const rsRevisions = async () =>
  Object.fromEntries((await json(['get', 'rs', '-l', 'app=web'])).items.map((r: any) => [r.metadata.annotations['deployment.kubernetes.io/revision'], r.spec.template.spec.containers[0].image]));

test('a Deployment is created, scaled, rolled with new random pod names, rolled back, paused and resumed', async () => {
  await kubectlOk(c, ['create', 'deployment', 'web', '--image=nginx:1', '--replicas=3']);
  const status = await kubectlOk(c, ['rollout', 'status', 'deploy/web', '--timeout=60s']);
  assert.match(status, /deployment "web" successfully rolled out/);
  const first = await podNames('app=web');
  assert.equal(first.length, 3);
  for (const n of first) assert.match(n, /^web-[bcdfghjklmnpqrstvwxz2456789]+-[a-z0-9]{5}$/);
  const table = await kubectlOk(c, ['get', 'deploy', 'web']);
  assert.match(table, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\nweb\s+3\/3\s+3\s+3\s+/);

  await kubectlOk(c, ['scale', 'deploy', 'web', '--replicas=5']);
  await kubectlOk(c, ['rollout', 'status', 'deploy/web', '--timeout=60s']);
  assert.equal((await podNames('app=web')).length, 5);

  await kubectlOk(c, ['set', 'image', 'deploy/web', 'nginx=nginx:2']);
  assert.match(await kubectlOk(c, ['rollout', 'status', 'deploy/web', '--timeout=60s']), /successfully rolled out/);
  await waitUntil(async () => (await podNames('app=web')).length === 5, 20_000);
  const second = await podNames('app=web');
  assert.equal(second.filter((n: string) => first.includes(n)).length, 0, 'every pod was replaced by one with a new name');
  assert.deepEqual(await rsRevisions(), { '1': 'nginx:1', '2': 'nginx:2' });
  const rsTable = await kubectlOk(c, ['get', 'rs']);
  assert.match(rsTable, /^NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE\n/);
  const d = await json(['get', 'deploy', 'web']);
  assert.equal(d.metadata.annotations['deployment.kubernetes.io/revision'], '2');
  const progressing = d.status.conditions.find((x: any) => x.type === 'Progressing');
  assert.equal(progressing.reason, 'NewReplicaSetAvailable');
  assert.match(await kubectlOk(c, ['rollout', 'history', 'deploy/web']), /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);

  await kubectlOk(c, ['rollout', 'undo', 'deploy/web']);
  await kubectlOk(c, ['rollout', 'status', 'deploy/web', '--timeout=60s']);
  // The old ReplicaSet is reused and becomes revision 3.
  assert.deepEqual(await rsRevisions(), { '2': 'nginx:2', '3': 'nginx:1' });

  await kubectlOk(c, ['rollout', 'pause', 'deploy/web']);
  await kubectlOk(c, ['set', 'image', 'deploy/web', 'nginx=nginx:3']);
  await waitUntil(async () => (await json(['get', 'deploy', 'web'])).status.conditions.some((x: any) => x.reason === 'DeploymentPaused'), 10_000);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(Object.values(await rsRevisions()).includes('nginx:3'), false, 'a paused Deployment starts no rollout');
  await kubectlOk(c, ['rollout', 'resume', 'deploy/web']);
  await kubectlOk(c, ['rollout', 'status', 'deploy/web', '--timeout=60s']);
  assert.equal((await rsRevisions())['4'], 'nginx:3');

  await kubectlOk(c, ['rollout', 'restart', 'deploy/web']);
  await kubectlOk(c, ['rollout', 'status', 'deploy/web', '--timeout=60s']);
  assert.ok((await rsRevisions())['5'], 'a restart makes a new revision');
});

test('a Recreate Deployment never runs old and new pods together', async () => {
  await kubectlOk(c, ['create', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'solo' },
      spec: { replicas: 2, strategy: { type: 'Recreate' }, selector: { matchLabels: { app: 'solo' } }, template: { metadata: { labels: { app: 'solo' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'solo:1' }] } } },
    }),
  });
  await kubectlOk(c, ['rollout', 'status', 'deploy/solo', '--timeout=60s']);
  let mixed = false;
  let polling = true;
  const poll = (async () => {
    while (polling) {
      const r = await kubectl(c, ['get', 'pods', '-l', 'app=solo', '-o', 'jsonpath={range .items[*]}{.spec.containers[0].image}{" "}{end}']);
      const images = new Set(r.stdout.trim().split(/\s+/).filter(Boolean));
      if (images.size > 1) mixed = true;
    }
  })();
  await kubectlOk(c, ['set', 'image', 'deploy/solo', 'c=solo:2']);
  await kubectlOk(c, ['rollout', 'status', 'deploy/solo', '--timeout=60s']);
  polling = false;
  await poll;
  assert.equal(mixed, false, 'old and new pods existed at the same time');
  const images = (await json(['get', 'pods', '-l', 'app=solo'])).items.filter((p: any) => !p.metadata.deletionTimestamp).map((p: any) => p.spec.containers[0].image);
  assert.deepEqual(images, ['solo:2', 'solo:2']);
});

test('a Deployment with a bad spec is refused naming the field', async () => {
  const r = await kubectl(c, ['create', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'bad' },
      spec: { selector: { matchLabels: { app: 'x' } }, template: { metadata: { labels: { app: 'y' } }, spec: { containers: [{ name: 'c', image: 'i' }] } }, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } },
    }),
  });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /The Deployment "bad" is invalid/);
  assert.match(r.stderr, /spec.template.metadata.labels: Invalid value: map\[string\]string\{"app":"y"\}: `selector` does not match template `labels`/);
  assert.match(r.stderr, /spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0/);
});

test('a ReplicaSet adopts a matching orphan and creates only the rest', async () => {
  await kubectlOk(c, ['run', 'orphan', '--image=busybox', '--labels=tier=cache']);
  await kubectlOk(c, ['create', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'cache' },
      spec: { replicas: 3, selector: { matchLabels: { tier: 'cache' } }, template: { metadata: { labels: { tier: 'cache' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
    }),
  });
  await waitUntil(async () => (await json(['get', 'rs', 'cache'])).status.readyReplicas === 3, 20_000);
  const pods = (await json(['get', 'pods', '-l', 'tier=cache'])).items;
  assert.equal(pods.length, 3);
  const orphan = pods.find((p: any) => p.metadata.name === 'orphan');
  assert.equal(orphan.metadata.ownerReferences[0].kind, 'ReplicaSet');
  assert.equal(orphan.metadata.ownerReferences[0].name, 'cache');
  for (const p of pods.filter((p: any) => p.metadata.name !== 'orphan')) assert.match(p.metadata.name, /^cache-[a-z0-9]{5}$/);
  // Scaling down removes the generated pods as upstream ranks them, then the released-by-label pod goes free.
  await kubectlOk(c, ['label', 'pod', 'orphan', 'tier=gone', '--overwrite']);
  await waitUntil(async () => !(await json(['get', 'pod', 'orphan'])).metadata.ownerReferences?.length, 10_000);
  await waitUntil(async () => (await podNames('tier=cache')).length === 3, 10_000);
});

test('a DaemonSet runs one pod per untainted node and follows the taint', async () => {
  await kubectlOk(c, ['taint', 'node', 'node-3', 'dedicated=db:NoSchedule']);
  await kubectlOk(c, ['create', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent' },
      spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'a', image: 'agent:1' }] } } },
    }),
  });
  await waitUntil(async () => (await json(['get', 'ds', 'agent'])).status.numberReady === 2, 20_000);
  const nodes = (await json(['get', 'pods', '-l', 'app=agent'])).items.map((p: any) => p.spec.nodeName).sort();
  assert.deepEqual(nodes, ['node-1', 'node-2']);
  assert.match(await kubectlOk(c, ['get', 'ds', 'agent']), /^NAME\s+DESIRED\s+CURRENT\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+NODE SELECTOR\s+AGE\nagent\s+2\s+2\s+2\s+2\s+2\s+<none>/);
  await kubectlOk(c, ['set', 'image', 'ds/agent', 'a=agent:2']);
  assert.match(await kubectlOk(c, ['rollout', 'status', 'ds/agent', '--timeout=60s']), /daemon set "agent" successfully rolled out/);
  await kubectlOk(c, ['taint', 'node', 'node-3', 'dedicated-']);
  await waitUntil(async () => (await json(['get', 'ds', 'agent'])).status.numberReady === 3, 20_000);
});

const jobManifest = (name: string, spec: Record<string, any>, annotations: Record<string, string>) =>
  JSON.stringify({
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name },
    spec: { ...spec, template: { metadata: { annotations }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
  });

test('a Job of 5 completions with parallelism 2 completes', async () => {
  await kubectlOk(c, ['create', '-f', '-'], { input: jobManifest('five', { completions: 5, parallelism: 2 }, { 'sim.ordinal.dev/run-for': '500ms' }) });
  let maxActive = 0;
  const watch = setInterval(async () => {
    const r = await kubectl(c, ['get', 'job', 'five', '-o', 'jsonpath={.status.active}']);
    maxActive = Math.max(maxActive, Number(r.stdout || 0));
  }, 200);
  try {
    await kubectlOk(c, ['wait', '--for=condition=complete', 'job/five', '--timeout=60s']);
  } finally {
    clearInterval(watch);
  }
  const job = await json(['get', 'job', 'five']);
  assert.equal(job.status.succeeded, 5);
  assert.ok(maxActive <= 2, `at most 2 pods at once, saw ${maxActive}`);
  assert.deepEqual(job.status.conditions.map((x: any) => x.type), ['SuccessCriteriaMet', 'Complete']);
  assert.match(await kubectlOk(c, ['get', 'job', 'five']), /^NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE\nfive\s+Complete\s+5\/5\s+/);
  const pods = (await json(['get', 'pods', '-l', 'job-name=five'])).items;
  assert.equal(pods.length, 5);
  for (const p of pods) assert.deepEqual(p.metadata.finalizers ?? [], [], 'tracking finalizers are released once counted');
});

test('an Indexed Job gives each pod its index', async () => {
  await kubectlOk(c, ['create', '-f', '-'], { input: jobManifest('idx', { completions: 3, parallelism: 3, completionMode: 'Indexed', ttlSecondsAfterFinished: 2 }, { 'sim.ordinal.dev/run-for': '300ms' }) });
  await kubectlOk(c, ['wait', '--for=condition=complete', 'job/idx', '--timeout=60s']);
  assert.equal((await json(['get', 'job', 'idx'])).status.completedIndexes, '0-2');
  const pods = (await json(['get', 'pods', '-l', 'job-name=idx'])).items;
  const seen = pods.map((p: any) => [p.metadata.annotations['batch.kubernetes.io/job-completion-index'], p.spec.hostname]).sort();
  assert.deepEqual(seen, [['0', 'idx-0'], ['1', 'idx-1'], ['2', 'idx-2']]);
  // ttlSecondsAfterFinished: the Job and its pods go two seconds after it completed.
  await waitUntil(async () => (await kubectl(c, ['get', 'job', 'idx'])).code !== 0, 15_000, () => 'job idx deleted by its TTL');
  await waitUntil(async () => (await podNames('job-name=idx')).length === 0, 15_000, () => 'pods of job idx gone');
});

test('a failing Job stops at its backoffLimit with BackoffLimitExceeded', async () => {
  await kubectlOk(c, ['create', '-f', '-'], { input: jobManifest('bad', { backoffLimit: 0 }, { 'sim.ordinal.dev/fail': 'true' }) });
  await kubectlOk(c, ['wait', '--for=condition=failed', 'job/bad', '--timeout=60s']);
  const job = await json(['get', 'job', 'bad']);
  const failed = job.status.conditions.find((x: any) => x.type === 'Failed');
  assert.deepEqual([failed.reason, failed.message], ['BackoffLimitExceeded', 'Job has reached the specified backoff limit']);
  assert.equal(job.status.failed, 1);
  assert.match(await kubectlOk(c, ['get', 'job', 'bad']), /bad\s+Failed\s+0\/1\s/);
});

test('a CronJob creates Jobs on its schedule, and kubectl create job --from=cronjob works', async () => {
  await kubectlOk(c, ['create', 'cronjob', 'tick', '--image=busybox', '--schedule=@every 2s']);
  const cj = await json(['get', 'cj', 'tick']);
  assert.equal(cj.spec.concurrencyPolicy, 'Allow');
  assert.equal(cj.spec.successfulJobsHistoryLimit, 3);
  await waitUntil(async () => (await json(['get', 'jobs'])).items.some((j: any) => j.metadata.ownerReferences?.[0]?.name === 'tick' && /^tick-\d+$/.test(j.metadata.name)), 15_000, () => 'a scheduled job');
  await waitUntil(async () => !!(await json(['get', 'cj', 'tick'])).status.lastScheduleTime, 10_000);
  assert.match(await kubectlOk(c, ['get', 'cj', 'tick']), /^NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE\ntick\s+@every 2s\s+<none>\s+False\s+/);
  await kubectlOk(c, ['create', 'job', 'by-hand', '--from=cronjob/tick']);
  const manual = await json(['get', 'job', 'by-hand']);
  assert.equal(manual.metadata.annotations['cronjob.kubernetes.io/instantiate'], 'manual');
  assert.equal(manual.metadata.ownerReferences[0].kind, 'CronJob');
  const bad = await kubectl(c, ['create', 'cronjob', 'nope', '--image=busybox', '--schedule=61 * * * *']);
  assert.match(bad.stderr, /spec.schedule: Invalid value: "61 \* \* \* \*": end of range \(61\) above maximum \(59\): 61/);
});
