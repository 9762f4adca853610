// Seed 004 (the kubia StatefulSet tutorial) with real containers: the headless Service and the
// StatefulSet from test/fixtures/kubia-statefulset.yaml, pods created 0..2 one at a time, one
// local-path PVC each, data POSTed to one pod stays on that pod (and survives its replacement),
// and `kubectl set image` rolls the set 2, 1, 0 onto v2, which still serves the same data.
// Root only; skips with the reason elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { fixture, kubectl, kubectlOk, kubectlStream, waitUntil, type Cluster } from '../../integration/harness.ts';
import { realClusterUnavailable, startRealCluster, type RealCluster } from './real-cluster.ts';

const skip = realClusterUnavailable();

/** curl http://ip:8080/ (GET), or curl -X POST -d body (POST). */
function curl(url: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: body === undefined ? 'GET' : 'POST', timeout: 3000, headers: body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('timeout', () => req.destroy(new Error(`${url} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

interface KubiaPod {
  name: string;
  uid: string;
  ip: string;
  phase: string;
  ready: boolean;
  image: string;
  terminating: boolean;
}

async function kubiaPods(c: Cluster): Promise<KubiaPod[]> {
  const list = JSON.parse(await kubectlOk(c, ['get', 'pods', '-l', 'app=kubia', '-o', 'json']));
  return list.items
    .map((p: any) => ({
      name: p.metadata.name,
      uid: p.metadata.uid,
      ip: p.status?.podIP ?? '',
      phase: p.status?.phase ?? '',
      ready: !!p.status?.containerStatuses?.length && p.status.containerStatuses.every((s: any) => s.ready),
      image: p.spec.containers[0].image,
      terminating: !!p.metadata.deletionTimestamp,
    }))
    .sort((a: KubiaPod, b: KubiaPod) => a.name.localeCompare(b.name));
}

async function waitAllRunning(c: Cluster, ms: number, ok: (pods: KubiaPod[]) => boolean = () => true): Promise<KubiaPod[]> {
  let pods: KubiaPod[] = [];
  await waitUntil(
    async () => {
      pods = await kubiaPods(c);
      return pods.length === 3 && pods.every((p) => p.phase === 'Running' && p.ready && p.ip && !p.terminating) && ok(pods);
    },
    ms,
    () => `kubia-0..2 not all Running 1/1: ${JSON.stringify(pods)}\n${c.logs().slice(-3000)}`,
  );
  return pods;
}

/** One line per watch event from `kubectl get pods -w -o jsonpath=...`: name, image, ready, terminating, IP. */
const WATCH_FORMAT = '{.metadata.name}|{.spec.containers[0].image}|{.status.containerStatuses[0].ready}|{.metadata.deletionTimestamp}|{.status.podIP}{"\\n"}';
type WatchLine = { name: string; image: string; ready: boolean; terminating: boolean; ip: string };
const parseWatch = (out: string): WatchLine[] =>
  out
    .split('\n')
    .filter((l) => l.startsWith('kubia-'))
    .map((l) => {
      const [name = '', image = '', ready = '', deleting = '', ip = ''] = l.split('|');
      return { name, image, ready: ready === 'true', terminating: deleting !== '', ip };
    });

/** Names in the order in which each first satisfies `pick`. */
function firstOrder(lines: WatchLine[], pick: (l: WatchLine) => boolean): string[] {
  const seen: string[] = [];
  for (const l of lines) if (pick(l) && !seen.includes(l.name)) seen.push(l.name);
  return seen;
}

test('seed 004: kubia StatefulSet on containerd: ordered start, per-pod data, stable storage, rolling update 2..0', { skip: skip ? `real containers: ${skip}` : false, timeout: 240_000 }, async () => {
  let t = performance.now();
  const t0 = t;
  const lap = (what: string) => {
    const now = performance.now();
    console.log(`# ${what}: ${Math.round(now - t)} ms (total ${Math.round(now - t0)} ms)`);
    t = now;
  };
  let real: RealCluster | undefined;
  let watch: ReturnType<typeof kubectlStream> | undefined;
  try {
    real = await startRealCluster();
    const { cluster } = real;
    lap('containerd started, images imported, ordinal up');

    // kubectl apply -f kubia-statefulset.yaml, watching the pods come up.
    watch = kubectlStream(cluster, ['get', 'pods', '-l', 'app=kubia', '-w', '-o', `jsonpath=${WATCH_FORMAT}`]);
    // (get -w lists, then watches from that list's resourceVersion: nothing is missed however late it starts)
    const applied = await kubectlOk(cluster, ['apply', '-f', fixture('kubia-statefulset.yaml')]);
    assert.match(applied, /service\/kubia created/);
    assert.match(applied, /statefulset\.apps\/kubia created/);
    let pods = await waitAllRunning(cluster, 60_000);
    lap('kubia-0..2 Running 1/1');
    // OrderedReady: each pod appears only after the one before it is Ready.
    const startup = parseWatch(watch.output());
    const appeared = firstOrder(startup, () => true);
    assert.deepEqual(appeared, ['kubia-0', 'kubia-1', 'kubia-2'], watch.output());
    for (const [prev, next] of [['kubia-0', 'kubia-1'], ['kubia-1', 'kubia-2']] as const) {
      const readyAt = startup.findIndex((l) => l.name === prev && l.ready);
      const nextAt = startup.findIndex((l) => l.name === next);
      assert.ok(readyAt !== -1 && readyAt < nextAt, `${next} appeared before ${prev} was ready:\n${watch.output()}`);
    }
    const sts = await kubectlOk(cluster, ['get', 'statefulset', 'kubia']);
    assert.match(sts, /^kubia\s+3\/3\s/m);

    // kubectl get pvc: one Bound local-path claim per pod, named <template>-<set>-<ordinal>.
    let pvcs: any[] = [];
    await waitUntil(
      async () => {
        pvcs = JSON.parse(await kubectlOk(cluster, ['get', 'pvc', '-o', 'json'])).items;
        return pvcs.length === 3 && pvcs.every((p) => p.status?.phase === 'Bound');
      },
      10_000,
      () => JSON.stringify(pvcs.map((p) => [p.metadata.name, p.status])),
    );
    assert.deepEqual(pvcs.map((p) => p.metadata.name).sort(), ['datapvc-kubia-0', 'datapvc-kubia-1', 'datapvc-kubia-2']);
    for (const p of pvcs) assert.equal(p.spec.storageClassName, 'local-path');
    const pvTable = await kubectlOk(cluster, ['get', 'pv']);
    for (let i = 0; i < 3; i++) assert.match(pvTable, new RegExp(`Bound\\s+default/datapvc-kubia-${i}\\s+local-path`));
    const svc = await kubectlOk(cluster, ['get', 'svc', 'kubia']);
    assert.match(svc, /^kubia\s+ClusterIP\s+None\s+<none>\s+80\/TCP/m);
    lap('PVCs Bound, headless Service');

    // kubectl get endpoints kubia: the three pod IPs on the target port.
    const endpointsOf = async () => {
      const row = (await kubectlOk(cluster, ['get', 'endpoints', 'kubia'])).split('\n').find((l) => l.startsWith('kubia '));
      return (row?.trim().split(/\s+/)[1] ?? '').split(',').sort();
    };
    const want = (ps: KubiaPod[]) => ps.map((p) => `${p.ip}:8080`).sort();
    let eps: string[] = [];
    await waitUntil(async () => JSON.stringify((eps = await endpointsOf())) === JSON.stringify(want(pods)), 10_000, () => `endpoints ${eps} != ${want(pods)}`);
    lap('endpoints list the three pods');

    const ipOf = (name: string) => pods.find((p) => p.name === name)!.ip;
    for (const p of pods) {
      const r = await curl(`http://${p.ip}:8080`);
      assert.equal(r.status, 200);
      assert.equal(r.body, `You've hit ${p.name}\nData stored on this Pod: No data posted yet\n`);
    }
    const posted = await curl(`http://${ipOf('kubia-1')}:8080`, 'hello kubia.');
    assert.equal(posted.body, 'Data stored on kubia-1\n');
    assert.equal((await curl(`http://${ipOf('kubia-1')}:8080`)).body, "You've hit kubia-1\nData stored on this Pod: hello kubia.\n");
    for (const other of ['kubia-0', 'kubia-2']) {
      assert.equal((await curl(`http://${ipOf(other)}:8080`)).body, `You've hit ${other}\nData stored on this Pod: No data posted yet\n`, 'data is per pod');
    }
    lap('GET, POST to kubia-1, data only on kubia-1');

    // kubectl delete po kubia-1: a new kubia-1 (new UID, new IP) gets the same claim and so the data.
    const old1 = pods.find((p) => p.name === 'kubia-1')!;
    assert.match(await kubectlOk(cluster, ['delete', 'po', 'kubia-1']), /pod "kubia-1" deleted/);
    pods = await waitAllRunning(cluster, 60_000, (ps) => ps.find((p) => p.name === 'kubia-1')?.uid !== old1.uid);
    const new1 = pods.find((p) => p.name === 'kubia-1')!;
    assert.notEqual(new1.ip, old1.ip, 'the replacement has a new IP');
    await waitUntil(async () => JSON.stringify((eps = await endpointsOf())) === JSON.stringify(want(pods)), 10_000, () => `endpoints ${eps} != ${want(pods)}`);
    assert.ok(eps.includes(`${new1.ip}:8080`) && !eps.includes(`${old1.ip}:8080`));
    assert.equal((await curl(`http://${new1.ip}:8080`)).body, "You've hit kubia-1\nData stored on this Pod: hello kubia.\n");
    lap('kubia-1 replaced with a new IP, data kept');

    // Rolling update to v2: highest ordinal first, one at a time.
    const mark = watch.output().length;
    assert.match(await kubectlOk(cluster, ['set', 'image', 'statefulset', 'kubia', 'kubia=kubia-stored:v2']), /statefulset\.apps\/kubia image updated/);
    const rollout = await kubectl(cluster, ['rollout', 'status', 'statefulset', 'kubia', '--timeout=120s'], { timeoutMs: 130_000 });
    assert.equal(rollout.code, 0, rollout.stderr + rollout.stdout);
    assert.match(rollout.stdout, /partitioned roll out complete: 3 new pods have been updated/);
    lap('set image → rollout status complete');
    pods = await waitAllRunning(cluster, 30_000, (ps) => ps.every((p) => p.image === 'kubia-stored:v2'));
    const update = parseWatch(watch.output().slice(mark));
    assert.deepEqual(firstOrder(update, (l) => l.terminating), ['kubia-2', 'kubia-1', 'kubia-0'], `termination order:\n${watch.output().slice(mark)}`);
    assert.deepEqual(firstOrder(update, (l) => l.image === 'kubia-stored:v2'), ['kubia-2', 'kubia-1', 'kubia-0'], 'v2 pods created 2, 1, 0');
    // One at a time: kubia-1 is only taken down once the new kubia-2 is ready, and kubia-0 after kubia-1.
    for (const [done, next] of [['kubia-2', 'kubia-1'], ['kubia-1', 'kubia-0']] as const) {
      const readyAt = update.findIndex((l) => l.name === done && l.image === 'kubia-stored:v2' && l.ready);
      const downAt = update.findIndex((l) => l.name === next && l.terminating);
      assert.ok(readyAt !== -1 && readyAt < downAt, `${next} went down before v2 ${done} was ready`);
    }
    const v2 = pods.find((p) => p.name === 'kubia-1')!;
    assert.equal((await curl(`http://${v2.ip}:8080`)).body, "You've hit kubia-1\nv2, Data stored on this Pod: hello kubia.\n");
    assert.equal((await curl(`http://${pods[0]!.ip}:8080`)).body, "You've hit kubia-0\nv2, Data stored on this Pod: No data posted yet\n");
    lap('v2 serves kubia-1\'s data');
  } catch (err) {
    if (watch) console.log(watch.output());
    real?.dumpLogs();
    throw err;
  } finally {
    await watch?.stop();
    await real?.stop();
  }
});
