// Chaos: kill -9 of the API server (with its controllers) or of a node agent at a random moment of a
// scale-up, a scale-down or a rolling update, then a restart. Each round the StatefulSet converges to
// what was asked; the identity checker, sampling every node's /pods all along, finds no overlap; and
// every ConfigMap the API acknowledged (a writer creates them all the while) is still there.
// ORDINAL_CHAOS_ROUNDS (default 21) and ORDINAL_CHAOS_SEED make longer or repeatable runs.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { startServer, joinSimNodes, restartSimNode, freePort, kubectlFor, poll, isReady, webSet, tempDir, type ServerProcess, type SimNode } from '../support/failure-cluster.ts';
import { startIdentityChecker, formatVerdict, readKubeconfig, type IdentityChecker } from '../../src/tools/identity-checker/sampler.ts';
import { HttpClient } from '../../src/client/http-client.ts';

const ROUNDS = Number(process.env.ORDINAL_CHAOS_ROUNDS ?? 21);
const SEED = Number(process.env.ORDINAL_CHAOS_SEED ?? Date.now() % 100_000);
const SERVER_ARGS = ['--nodes', '0', '--node-monitor-period', '1s', '--node-monitor-grace-period', '15s'];

let server: ServerProcess | undefined;
let nodes: SimNode[] = [];
let checker: IdentityChecker | undefined;
let writerStop = false;
const dataDir = tempDir('ordinal-chaos-');

after(async () => {
  writerStop = true;
  await checker?.stop();
  for (const n of nodes) n.agent.signal('SIGKILL');
  await server?.stop();
  for (const n of nodes) rmSync(n.dir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

/** mulberry32: a small seeded generator, so a failing run can be repeated with its seed. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test(`chaos: ${ROUNDS} rounds of kill -9 during scale-up, scale-down and rolling updates`, { timeout: 120_000 + ROUNDS * 40_000 }, async () => {
  const random = rng(SEED);
  const port = await freePort();
  server = await startServer(dataDir, port, SERVER_ARGS);
  const kubeconfig = join(dataDir, 'kubeconfig');
  const k = kubectlFor(kubeconfig);
  const lines: string[] = [`seed ${SEED}`];
  const say = (s: string) => {
    lines.push(s);
    process.stdout.write(`# ${s}\n`);
  };
  try {
    nodes = await joinSimNodes(dataDir, ['n1', 'n2', 'n3']);
    await poll('three nodes Ready', 30_000, async () => (await k.json(['get', 'nodes'])).items.filter(isReady).length === 3);
    checker = await startIdentityChecker({ kubeconfig, intervalMs: 200 });
    const access = readKubeconfig(kubeconfig);
    const api = new HttpClient({ servers: [access.server], caCertPem: access.caCertPem, credentials: access.credentials, timeoutMs: 5000 });
    const configmaps = api.resource('', 'configmaps');
    const sets = api.resource('apps', 'statefulsets');
    const podsR = api.resource('', 'pods');

    // Acknowledged writes: a ConfigMap per write, kept only when the API answered 201.
    const acked: string[] = [];
    let failedWrites = 0;
    const writer = (async () => {
      for (let i = 0; !writerStop; i++) {
        const name = `ack-${i}`;
        try {
          await api.create(configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { n: String(i) } });
          acked.push(name);
        } catch {
          failedWrites++;
          await new Promise((r) => setTimeout(r, 100));
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    })();

    let replicas = 3;
    let image = 1;
    await k.ok(['apply', '-f', '-'], webSet(replicas, { podManagementPolicy: 'OrderedReady', image: 'nginx:1' }));

    // Why the set is not converged yet, for the message of a round that times out.
    let notYet = '';
    const converged = async () => {
      const set = await api.get(sets, 'default', 'web');
      const s = set.status ?? {};
      const pods = (await api.list(podsR, { namespace: 'default', labelSelector: 'app=web' })).items;
      // Both the set and its pods, whichever check fails: a round that times out says which pod held it.
      notYet =
        `set: spec.replicas ${set.spec.replicas} (want ${replicas}), generation ${set.metadata.generation}, status ${JSON.stringify(s)}; ` +
        `pods: ${pods
          .map(
            (p) =>
              `${p.metadata.name}@${p.spec.nodeName} uid=${p.metadata.uid} rv=${p.metadata.resourceVersion} phase=${p.status?.phase} ready=${isReady(p)} ` +
              `deleting=${p.metadata.deletionTimestamp ?? false} revision=${p.metadata.labels?.['controller-revision-hash']} image=${p.spec.containers[0].image} ` +
              `listed=${checker!.lastListing(p.spec.nodeName)?.uids.has(p.metadata.uid) ?? 'never'}`,
          )
          .join('; ')}`;
      if (set.spec.replicas !== replicas || s.observedGeneration !== set.metadata.generation) return false;
      if (s.readyReplicas !== replicas || s.replicas !== replicas || s.updatedReplicas !== replicas || s.currentRevision !== s.updateRevision) return false;
      const names = pods.map((p) => p.metadata.name).sort();
      const want = Array.from({ length: replicas }, (_, i) => `web-${i}`).sort();
      if (JSON.stringify(names) !== JSON.stringify(want)) return false;
      if (!pods.every((p) => isReady(p) && !p.metadata.deletionTimestamp && p.spec.containers[0].image === `nginx:${image}`)) return false;
      // And what the API says is what the runtimes run: each pod in a listing of its node taken since.
      notYet += `; listings since the restart: ${[...new Set(pods.map((p) => p.spec.nodeName))].map((n) => `${n} ${(checker!.lastListing(n)?.sentAt ?? 0) > since}`).join(', ')}`;
      return pods.every((p) => {
        const l = checker!.lastListing(p.spec.nodeName);
        return !!l && l.sentAt > since && l.uids.has(p.metadata.uid);
      });
    };
    const settle = (what: string) => poll(what, 60_000, converged, 200).catch((err: Error) => {
      throw new Error(`${err.message}\nlast seen: ${notYet}`);
    });
    let since = 0;
    await settle('the set converged');

    const ops = ['scale-up', 'scale-down', 'rolling update'] as const;
    for (let round = 1; round <= ROUNDS; round++) {
      const op = ops[(round - 1) % ops.length]!;
      const targets = ['server', ...nodes.map((n) => n.name)];
      const target = targets[Math.floor(random() * targets.length)]!;
      const killAfter = Math.floor(random() * 800);
      const downFor = 300 + Math.floor(random() * 1200);
      const t0 = Date.now();
      let what: string;
      if (op === 'scale-up') {
        replicas += 2;
        what = `scale to ${replicas}`;
        await k.ok(['scale', 'statefulset', 'web', `--replicas=${replicas}`]);
      } else if (op === 'scale-down') {
        replicas -= 2;
        what = `scale to ${replicas}`;
        await k.ok(['scale', 'statefulset', 'web', `--replicas=${replicas}`]);
      } else {
        image++;
        what = `set image nginx:${image}`;
        await k.ok(['set', 'image', 'statefulset/web', `nginx=nginx:${image}`]);
      }
      await new Promise((r) => setTimeout(r, killAfter));
      const killedAt = Date.now() - t0;
      if (target === 'server') {
        server.signal('SIGKILL');
        await server.exited;
        await new Promise((r) => setTimeout(r, downFor));
        server = await startServer(dataDir, port, SERVER_ARGS);
      } else {
        const n = nodes.find((x) => x.name === target)!;
        n.agent.signal('SIGKILL');
        await n.agent.exited;
        await new Promise((r) => setTimeout(r, downFor));
        await restartSimNode(n, server.url).joined;
      }
      const restartedAt = Date.now() - t0;
      since = Date.now();
      await settle(`round ${round} (${op}) converged`);
      const convergedAt = Date.now() - t0;
      const v = checker.verdict();
      say(`round ${String(round).padStart(2)}: ${op.padEnd(14)} (${what.padEnd(17)}) kill -9 ${target.padEnd(6)} at +${killedAt} ms, restarted at +${restartedAt} ms, converged at +${convergedAt} ms; overlaps so far ${v.violations.length + v.resurrections.length}, acknowledged writes ${acked.length}`);
      assert.equal(v.ok, true, formatVerdict(v));
    }

    writerStop = true;
    await writer;
    // Every acknowledged write survived every kill.
    const present = new Set((await api.list(configmaps, { namespace: 'default' })).items.map((c) => c.metadata.name));
    const lost = acked.filter((n) => !present.has(n));
    say(`writes: ${acked.length} acknowledged, ${failedWrites} failed (server down), ${lost.length} lost`);
    assert.deepEqual(lost, [], 'acknowledged writes lost');
    assert.ok(acked.length > 0);
    api.close();
    const v = await checker.stop();
    checker = undefined;
    say(formatVerdict(v));
    assert.equal(v.ok, true, formatVerdict(v));
    assert.equal(v.forced.length, 0, 'nobody force-deleted anything');
    assert.ok(v.stats.samples > 100);
  } catch (err) {
    process.stderr.write(`--- rounds\n${lines.join('\n')}\n--- server\n${server?.logs().slice(-5000)}\n`);
    for (const n of nodes) process.stderr.write(`--- ${n.name}\n${n.agent.logs().slice(-3000)}\n`);
    if (checker) process.stderr.write(`--- checker\n${formatVerdict(checker.verdict())}\n`);
    throw err;
  }
});
