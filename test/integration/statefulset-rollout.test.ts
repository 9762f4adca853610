// Issue 14 against a live cluster driven with the real kubectl: an in-process API server with the
// controllers, scheduler and a simulated node as `ordinal up` runs them. A "broken" template is one
// whose pods never become Ready (the sim's readiness hook, sim.ordinal.dev/ready: "false", carried
// in the template's annotations, with an image tag that says so).
//   - By default a rollout stuck at such a pod stays stuck after the template is fixed, as upstream's.
//   - With ordinal.dev/replace-stuck-pods: "true", fixing the template alone finishes the rollout.
//   - With ordinal.dev/progress-deadline-seconds, a set that stops progressing gets Progressing=False
//     ProgressDeadlineExceeded, a Warning event and a metric, all of which clear once it progresses.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Obj } from '../../src/api/resource.ts';
import { startTestApi, type TestApi } from '../support/inprocess.ts';
import { kubectl, kubectlOk, waitUntil, type Cluster } from './harness.ts';
import { startComponents, type Component } from '../../src/cli/components.ts';

let t: TestApi;
let c: Cluster;
let components: Component[] = [];

before(async () => {
  t = await startTestApi();
  c = { kubeconfig: t.kubeconfig } as Cluster;
  components = await startComponents(t.client, { dataDir: t.dataDir, nodes: 1, simStartDelayMs: 100, controllers: ['*'] });
});

after(async () => {
  for (const comp of components) comp.stop();
  await t?.close();
});

const GOOD = 'registry.k8s.io/nginx-slim:0.8';
const FIXED = 'registry.k8s.io/nginx-slim:0.9';
const BROKEN = 'registry.k8s.io/nginx-slim:broken';

function statefulSet(name: string, replicas: number, annotations: Record<string, string> = {}, templateAnnotations: Record<string, string> = {}): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, annotations },
    spec: {
      serviceName: name,
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name }, annotations: templateAnnotations },
        spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'nginx', image: GOOD }] },
      },
    },
  };
}

const k = (ns: string, ...args: string[]) => kubectlOk(c, ['-n', ns, ...args]);
const getJson = async (ns: string, ...what: string[]): Promise<Obj> => JSON.parse(await k(ns, 'get', ...what, '-o', 'json'));
const podsOf = async (ns: string): Promise<Obj[]> => (await getJson(ns, 'pods')).items.sort((a: Obj, b: Obj) => a.metadata.name.localeCompare(b.metadata.name));
const isReady = (p: Obj) => !!p.status?.conditions?.some((x: Obj) => x.type === 'Ready' && x.status === 'True');
const progressing = (set: Obj): Obj | undefined => set.status?.conditions?.find((x: Obj) => x.type === 'Progressing');
const breakPatch = JSON.stringify({ spec: { template: { metadata: { annotations: { 'sim.ordinal.dev/ready': 'false' } }, spec: { containers: [{ name: 'nginx', image: BROKEN }] } } } });
const fixPatch = JSON.stringify({ spec: { template: { metadata: { annotations: { 'sim.ordinal.dev/ready': null } }, spec: { containers: [{ name: 'nginx', image: FIXED }] } } } });

/** The events of namespace `ns` about the object called `name`, as "<type> <reason> <message>". */
async function eventsAbout(ns: string, name: string): Promise<string[]> {
  return (await getJson(ns, 'events')).items.filter((e: Obj) => e.involvedObject?.name === name).map((e: Obj) => `${e.type} ${e.reason} ${e.message}`);
}

/** Waits (events are recorded asynchronously) for an event of `ns`/`name` that starts with `prefix`. */
async function waitForEvent(ns: string, name: string, prefix: string): Promise<void> {
  let seen: string[] = [];
  await waitUntil(async () => (seen = await eventsAbout(ns, name)).some((e) => e.startsWith(prefix)), 10_000, () => `no event "${prefix}..." in:\n${seen.join('\n')}`);
}

async function newNamespace(ns: string) {
  await kubectlOk(c, ['create', 'namespace', ns]);
  // Pods are admitted once the namespace's default service account exists.
  await waitUntil(async () => (await kubectl(c, ['-n', ns, 'get', 'serviceaccount', 'default'])).code === 0, 20_000);
}

/** Creates the set, waits for its rollout, breaks its template and waits until it is stuck at the broken top pod. */
async function stuckRollout(ns: string, annotations: Record<string, string>): Promise<{ brokenUid: string; uids: Record<string, string> }> {
  await newNamespace(ns);
  await kubectlOk(c, ['-n', ns, 'apply', '-f', '-'], { input: JSON.stringify(statefulSet('web', 3, annotations)) });
  await k(ns, 'rollout', 'status', 'sts/web', '--timeout=60s');
  await k(ns, 'patch', 'sts', 'web', '-p', breakPatch);
  let broken: Obj | undefined;
  await waitUntil(
    async () => {
      broken = (await podsOf(ns)).find((p) => p.metadata.name === 'web-2' && p.spec.containers[0].image === BROKEN && p.status?.phase === 'Running' && !isReady(p));
      return !!broken;
    },
    30_000,
    () => 'web-2 running the broken template',
  );
  // It never becomes Ready, and the rollout goes no further.
  await new Promise((r) => setTimeout(r, 2000));
  const pods = await podsOf(ns);
  assert.deepEqual(pods.map((p) => [p.metadata.name, p.spec.containers[0].image, isReady(p)]), [['web-0', GOOD, true], ['web-1', GOOD, true], ['web-2', BROKEN, false]]);
  return { brokenUid: broken!.metadata.uid, uids: Object.fromEntries(pods.map((p) => [p.metadata.name, p.metadata.uid])) };
}

test('by default a rollout stuck at a broken pod stays stuck after the template is fixed, as upstream', async () => {
  const ns = 'stuck-default';
  const { brokenUid } = await stuckRollout(ns, {});
  await k(ns, 'patch', 'sts', 'web', '-p', fixPatch);
  await new Promise((r) => setTimeout(r, 4000));
  const pods = await podsOf(ns);
  assert.deepEqual(pods.map((p) => [p.metadata.name, p.spec.containers[0].image]), [['web-0', GOOD], ['web-1', GOOD], ['web-2', BROKEN]]);
  assert.equal(pods[2]!.metadata.uid, brokenUid, 'web-2 was not replaced');
  const r = await kubectl(c, ['-n', ns, 'rollout', 'status', 'sts/web', '--timeout=2s']);
  assert.notEqual(r.code, 0, 'rollout status does not finish');
  assert.equal(progressing(await getJson(ns, 'sts', 'web')), undefined, 'no deadline, no Progressing condition');
  // Upstream's documented way out ("forced rollback"): delete the pod by hand.
  await k(ns, 'delete', 'pod', 'web-2');
  await k(ns, 'rollout', 'status', 'sts/web', '--timeout=60s');
  assert.deepEqual((await podsOf(ns)).map((p) => p.spec.containers[0].image), [FIXED, FIXED, FIXED]);
});

test('opted in, fixing the template alone finishes the stuck rollout; the deadline reports the stall and clears', async () => {
  const ns = 'stuck-opt-in';
  const { brokenUid, uids } = await stuckRollout(ns, { 'ordinal.dev/replace-stuck-pods': 'true', 'ordinal.dev/progress-deadline-seconds': '3' });
  // Stuck for longer than the deadline: Progressing False.
  await waitUntil(async () => progressing(await getJson(ns, 'sts', 'web'))?.status === 'False', 20_000, () => 'ProgressDeadlineExceeded');
  const set = await getJson(ns, 'sts', 'web');
  const cond = progressing(set)!;
  assert.equal(cond.reason, 'ProgressDeadlineExceeded');
  assert.equal(cond.message, `StatefulSet "web" revision "${set.status.updateRevision}" has timed out progressing.`);
  // Not before the deadline (the condition's time is in whole seconds, rounded down).
  const lastProgress = set.metadata.annotations['ordinal.dev/last-progress-time'];
  assert.ok(Date.parse(cond.lastTransitionTime) + 1000 > Date.parse(lastProgress) + 3000, `${cond.lastTransitionTime} vs ${lastProgress}`);
  await waitForEvent(ns, 'web', `Warning ProgressDeadlineExceeded ${cond.message}`);

  // Fix the template and nothing else: the broken pod is replaced, then the rest rolls.
  await k(ns, 'patch', 'sts', 'web', '-p', fixPatch);
  await k(ns, 'rollout', 'status', 'sts/web', '--timeout=90s');
  const pods = await podsOf(ns);
  assert.deepEqual(pods.map((p) => [p.metadata.name, p.spec.containers[0].image, isReady(p)]), [['web-0', FIXED, true], ['web-1', FIXED, true], ['web-2', FIXED, true]]);
  assert.notEqual(pods[2]!.metadata.uid, brokenUid);
  for (const p of pods) assert.notEqual(p.metadata.uid, uids[p.metadata.name], `${p.metadata.name} was replaced`);
  await waitForEvent(ns, 'web', 'Normal ReplacingStuckPod StatefulSet stuck-opt-in/web is replacing Pod web-2: it is not Ready and its revision');
  await waitUntil(async () => progressing(await getJson(ns, 'sts', 'web'))?.reason === 'NewRevisionAvailable', 20_000, () => 'NewRevisionAvailable');
  const done = await getJson(ns, 'sts', 'web');
  assert.equal(progressing(done)!.status, 'True');
  assert.equal(done.status.currentRevision, done.status.updateRevision);
});

test('a set whose pods never become Ready passes its progress deadline: condition, event, metric, describe; a fix clears it', async () => {
  const ns = 'deadline';
  await newNamespace(ns);
  await kubectlOk(c, ['-n', ns, 'apply', '-f', '-'], { input: JSON.stringify(statefulSet('db', 2, { 'ordinal.dev/progress-deadline-seconds': '3' }, { 'sim.ordinal.dev/ready': 'false' })) });
  await waitUntil(async () => progressing(await getJson(ns, 'sts', 'db'))?.status === 'False', 30_000, () => 'ProgressDeadlineExceeded');
  const set = await getJson(ns, 'sts', 'db');
  assert.deepEqual(
    { ...progressing(set), lastTransitionTime: undefined },
    { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `StatefulSet "db" revision "${set.status.updateRevision}" has timed out progressing.`, lastTransitionTime: undefined },
  );
  // OrderedReady: only db-0 exists, not Ready.
  assert.deepEqual((await podsOf(ns)).map((p) => [p.metadata.name, isReady(p)]), [['db-0', false]]);
  await waitForEvent(ns, 'db', 'Warning ProgressDeadlineExceeded ');
  const describe = await k(ns, 'describe', 'sts', 'db');
  assert.match(describe, /Warning\s+ProgressDeadlineExceeded\s+.*StatefulSet "db" revision "db-[0-9a-z]+" has timed out progressing\./);
  const metricLine = `ordinal_statefulset_progress_deadline_exceeded{namespace="${ns}",statefulset="db"}`;
  const metrics = await kubectlOk(c, ['get', '--raw', '/metrics']);
  assert.ok(metrics.includes(`${metricLine} 1\n`), metrics.split('\n').filter((l) => l.includes('progress_deadline')).join('\n'));
  assert.match(metrics, /^ordinal_statefulset_progress_deadline_exceeded_total [1-9]\d*$/m);
  // rollout status does not read conditions (as upstream): it just waits.
  assert.notEqual((await kubectl(c, ['-n', ns, 'rollout', 'status', 'sts/db', '--timeout=1s'])).code, 0);

  // The fix: the pod's readiness comes back. Progress resumes, the set completes, the condition and metric clear.
  await k(ns, 'annotate', 'pod', 'db-0', 'sim.ordinal.dev/ready-');
  await waitUntil(async () => progressing(await getJson(ns, 'sts', 'db'))?.status === 'True', 20_000, () => 'Progressing True again');
  // db-1 is created from the template, which is still broken: fix that too, by hand, once it exists.
  await waitUntil(async () => (await kubectl(c, ['-n', ns, 'annotate', 'pod', 'db-1', 'sim.ordinal.dev/ready-'])).code === 0, 20_000, () => 'db-1 fixed');
  await k(ns, 'rollout', 'status', 'sts/db', '--timeout=60s');
  await waitUntil(async () => progressing(await getJson(ns, 'sts', 'db'))?.reason === 'NewRevisionAvailable', 20_000, () => 'NewRevisionAvailable');
  assert.ok((await kubectlOk(c, ['get', '--raw', '/metrics'])).includes(`${metricLine} 0\n`));
  // Removing the deadline takes the condition and the progress annotation away again.
  await k(ns, 'annotate', 'sts', 'db', 'ordinal.dev/progress-deadline-seconds-');
  await waitUntil(async () => {
    const s = await getJson(ns, 'sts', 'db');
    return !progressing(s) && !s.metadata.annotations?.['ordinal.dev/last-progress-time'];
  }, 20_000, () => 'condition removed');
  assert.ok(!(await kubectlOk(c, ['get', '--raw', '/metrics'])).includes(metricLine));
});
