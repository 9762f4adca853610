// Chaos on an HA control plane over a 3-member etcd: two `ordinal server`, two leader-elected
// `ordinal controllers` and a joined sim node given both server URLs. During a Parallel scale-up and
// a rolling update the test kills -9, at random moments, an API server, the leading controllers
// process or an etcd member (each restarted shortly after, as a supervisor would), while it writes
// ConfigMaps and logs each write a server acknowledged. Meanwhile `kubectl get pods -w` runs through a
// third server that is never killed. Afterwards the set converges, every acknowledged write is in
// etcd with the value acknowledged, and the watch stream was consistent: per pod, resourceVersions
// strictly increase (so no event came twice) and the state the stream implies is a fresh LIST's.
//
// CI runs 40 pods and 12 rounds; the issue's size is ORDINAL_CHAOS_REPLICAS=200 (and
// ORDINAL_CHAOS_ROUNDS to change the rounds).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { spawn, type ChildProcess } from 'node:child_process';
import { checkWatchStream, parseWatchLines, WATCH_JSONPATH } from '../support/watch-stream.ts';
import { cpSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { etcdMissing, freePort, startEtcdCluster, type EtcdCluster } from '../support/etcd.ts';
import { startAgent, createJoinToken, type AgentProcess } from '../support/agents.ts';
import { startControllers, type ControllersProcess } from '../support/controllers.ts';
import { kubectlFor, poll, webSet } from '../support/failure-cluster.ts';
import { ServerProcess } from '../support/ha-servers.ts';
import { tempDirs } from './harness.ts';

const root = resolve(import.meta.dirname, '../..');
const skip = etcdMissing();
const REPLICAS = Number(process.env.ORDINAL_CHAOS_REPLICAS ?? 40);
const ROUNDS = Number(process.env.ORDINAL_CHAOS_ROUNDS ?? 12);
// A simulated node holds 110 pods, as a kubelet's default --max-pods: one node per 100 pods.
const NODES = Number(process.env.ORDINAL_CHAOS_NODES ?? Math.ceil(REPLICAS / 100));

const temp = tempDirs();
const tempDir = temp.make;

class Server extends ServerProcess {}

let etcd: EtcdCluster | undefined;
const servers: Server[] = [];
const ctrls: ControllersProcess[] = [];
const agents: AgentProcess[] = [];
let watcher: ChildProcess | undefined;
let observer: Server | undefined;

after(async () => {
  if (watcher && watcher.exitCode === null) watcher.kill('SIGKILL');
  await Promise.all(agents.map((a) => a.stop()));
  await Promise.all(ctrls.map((c) => c.stop()));
  await Promise.all([...servers, ...(observer ? [observer] : [])].map((s) => s.kill('SIGTERM')));
  await etcd?.remove();
  temp.removeAll();
});

const rand = (lo: number, hi: number) => lo + Math.random() * (hi - lo);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('kill -9 of API servers, controllers and etcd members at random moments loses no acknowledged write, and the set converges', { skip, timeout: 240_000 + (REPLICAS - 40) * 3_000 }, async () => {
  const t0 = Date.now();
  const log = (msg: string) => console.log(`# ${((Date.now() - t0) / 1000).toFixed(1)}s ${msg}`);
  etcd = await startEtcdCluster(3);
  const port = await freePort();
  // Two loopback addresses on one port, as two machines; the advertised addresses are documentation
  // ones (TEST-NET-1) that only appear in the kubernetes Endpoints.
  const common = ['--store', 'etcd', '--etcd-servers', etcd.servers];
  const dirA = tempDir('ordinal-chaos-a-');
  const a = new Server(dirA, '127.0.0.2', port, [...common, '--advertise-address', '192.0.2.1']);
  servers.push(a);
  await a.start();
  const dirB = tempDir('ordinal-chaos-b-');
  cpSync(join(dirA, 'pki'), join(dirB, 'pki'), { recursive: true });
  const b = new Server(dirB, '127.0.0.3', port, [...common, '--advertise-address', '192.0.2.2']);
  servers.push(b);
  await b.start();
  const urls = servers.map((s) => s.url).join(',');
  // The observer: a third server that is never killed, only watched through.
  const dirC = tempDir('ordinal-chaos-c-');
  cpSync(join(dirA, 'pki'), join(dirC, 'pki'), { recursive: true });
  observer = new Server(dirC, '127.0.0.4', port, [...common, '--advertise-address', '192.0.2.3']);
  await observer.start();
  log(`servers ${urls} and the observer ${observer.url} on etcd ${etcd.servers}`);

  // Short leases so that a killed leader is replaced within a round or two (upstream's defaults are 15 s/10 s/2 s).
  const electArgs = ['--leader-elect-lease-duration', '4s', '--leader-elect-renew-deadline', '3s', '--leader-elect-retry-period', '1s'];
  const ctrlDirs = [0, 1].map(() => {
    const d = tempDir('ordinal-chaos-ctrl-');
    mkdirSync(d, { recursive: true });
    cpSync(join(dirA, 'pki'), join(d, 'pki'), { recursive: true });
    return d;
  });
  const startCtrl = (i: number) => {
    const c = startControllers(['--server', urls, '--data-dir', ctrlDirs[i]!, ...electArgs], { ORDINAL_LOG_LEVEL: 'warn' });
    ctrls[i] = c;
    return c;
  };
  startCtrl(0);
  startCtrl(1);

  const tok = await createJoinToken(dirA);
  const nodeNames = Array.from({ length: NODES }, (_, i) => (i === 0 ? 'chaos-node' : `chaos-node-${i}`));
  for (const name of nodeNames) agents.push(startAgent(['--server', urls, '--token', tok.token, '--ca-cert-hash', tok.hash, '--node-name', name, '--runtime', 'sim', '--sim-start-delay', '0', '--kubelet-port', '0', '--data-dir', tempDir('ordinal-chaos-agent-')]));
  await Promise.all(agents.map((a) => a.joined));

  // The stream under test: kubectl's own watch, events with their type, printed as they come.
  const kubectlHome = tempDir('ordinal-chaos-kubectl-');
  mkdirSync(join(kubectlHome, '.kube'));
  watcher = spawn('kubectl', ['--server', observer.url, 'get', 'pods', '-l', 'app=web', '-w', '--output-watch-events', '-o', `jsonpath=${WATCH_JSONPATH}`], {
    env: { ...process.env, KUBECONFIG: join(dirA, 'kubeconfig'), HOME: kubectlHome },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stream = '';
  let streamErr = '';
  watcher.stdout!.on('data', (d) => (stream += d));
  watcher.stderr!.on('data', (d) => (streamErr += d));

  // kubectl through whichever server answers (a user would retry against another).
  const kA = kubectlFor(join(dirA, 'kubeconfig'));
  const k = async (args: string[], input?: string) => {
    let last = '';
    for (let i = 0; i < 20; i++) {
      const s = servers[i % 2]!;
      if (!s.running()) continue;
      const r = await kA.run(['--server', s.url, '--request-timeout', '10s', ...args], input);
      if (r.code === 0) return r.stdout;
      last = r.stderr;
      await sleep(200);
    }
    throw new Error(`kubectl ${args.join(' ')}: ${last}`);
  };
  for (const name of nodeNames) await poll(`${name} Ready`, 30_000, async () => (await k(['get', 'node', name, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])) === 'True');

  // The writer: ConfigMaps through either server; a write counts only once a server said 201.
  const pki = join(dirA, 'pki');
  const httpAgent = new https.Agent({ keepAlive: false, ca: readFileSync(join(pki, 'ca.crt')), cert: readFileSync(join(pki, 'admin.crt')), key: readFileSync(join(pki, 'admin.key')) });
  const post = (s: Server, body: unknown) =>
    new Promise<{ status: number; json: any }>((res, rej) => {
      const req = https.request({ host: s.host, port: s.port, method: 'POST', path: '/api/v1/namespaces/default/configmaps', agent: httpAgent, headers: { 'Content-Type': 'application/json' }, timeout: 10_000 }, (r) => {
        let d = '';
        r.on('data', (c) => (d += c));
        r.on('end', () => {
          try {
            res({ status: r.statusCode!, json: d ? JSON.parse(d) : undefined });
          } catch (err) {
            rej(err);
          }
        });
        r.on('error', rej);
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', rej);
      req.end(JSON.stringify(body));
    });
  const acked = new Map<string, { value: string; uid: string }>();
  let attempts = 0;
  let writing = true;
  const writer = async (w: number) => {
    for (let i = 0; writing; i++) {
      const name = `chaos-${w}-${i}`;
      const value = `${w}:${i}:${Math.random().toString(36).slice(2)}`;
      const s = servers[(w + i) % 2]!;
      attempts++;
      try {
        const r = await post(s, { metadata: { name }, data: { v: value } });
        if (r.status === 201) acked.set(name, { value, uid: r.json.metadata.uid });
        else await sleep(100);
      } catch {
        await sleep(100); // that server is down or went down mid-request: the write is not acknowledged
      }
    }
  };
  const writers = [0, 1, 2].map(writer);

  // The workload: a small set first, then a Parallel scale-up as the rounds begin and a rolling
  // update halfway through them, so that kills land in both.
  await k(['apply', '-f', '-'], webSet(5, { podManagementPolicy: 'Parallel', image: 'nginx:1' }));
  await poll('web 5/5', 60_000, async () => (await k(['get', 'statefulset', 'web', '-o', 'jsonpath={.status.readyReplicas}'])) === '5', 500);
  await k(['scale', 'statefulset/web', `--replicas=${REPLICAS}`]);
  log(`Parallel scale-up 5 -> ${REPLICAS} started`);
  let workload: Promise<void> = Promise.resolve();
  const ids = await Promise.all(ctrls.map((c) => c.identity));

  // Rounds: each kills one component at a random moment and starts it again shortly after. Kinds
  // rotate so each is hit several times; the victim within a kind is random.
  const kinds = ['apiserver', 'controllers', 'etcd'] as const;
  for (let round = 1; round <= ROUNDS; round++) {
    await sleep(rand(500, 3000));
    if (round === Math.ceil(ROUNDS / 2)) {
      workload = k(['set', 'image', 'statefulset/web', 'nginx=nginx:2']).then(() => log('rolling update to nginx:2 started'));
    }
    const kind = kinds[(round - 1) % 3]!;
    let victim = '';
    let restart: () => Promise<void>;
    if (kind === 'apiserver') {
      const s = servers[Math.floor(Math.random() * 2)]!;
      victim = s.url;
      await s.kill();
      restart = () => s.start();
    } else if (kind === 'controllers') {
      // The active copy (the kube-controller-manager lease holder) when it can be told, else either.
      const holder = await k(['get', 'lease', '-n', 'kube-system', 'kube-controller-manager', '-o', 'jsonpath={.spec.holderIdentity}']).catch(() => '');
      const i = ids.indexOf(holder) >= 0 ? ids.indexOf(holder) : Math.floor(Math.random() * 2);
      const c = ctrls[i]!;
      victim = `controllers #${i}${ids.indexOf(holder) === i ? ' (the leader)' : ''}`;
      c.signal('SIGKILL');
      await c.exited;
      restart = async () => {
        ids[i] = await startCtrl(i).identity;
      };
    } else {
      const m = etcd.members[Math.floor(Math.random() * 3)]!;
      victim = `etcd ${m.name} (${m.url})`;
      await m.stop('SIGKILL');
      restart = async () => {
        m.start();
        await etcd!.healthy();
      };
    }
    log(`round ${round}: kill -9 ${kind} ${victim}; ${acked.size} writes acknowledged of ${attempts} tried`);
    await sleep(rand(300, 2000));
    await restart();
  }
  await workload;
  writing = false;
  await Promise.all(writers);
  log(`chaos over: ${acked.size} writes acknowledged of ${attempts} tried`);

  // However often the scheduler changed hands, no node was given more pods than it holds.
  const overCommitted = async () => {
    const pods = JSON.parse(await k(['get', 'pods', '-A', '-o', 'json'])).items as any[];
    const nodes = JSON.parse(await k(['get', 'nodes', '-o', 'json'])).items as any[];
    return nodes
      .map((n) => {
        const bound = pods.filter((p) => p.spec.nodeName === n.metadata.name && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed').length;
        return { node: n.metadata.name, bound, allocatable: Number(n.status.allocatable.pods) };
      })
      .filter((x) => x.bound > x.allocatable);
  };
  assert.deepEqual(await overCommitted(), [], 'nodes given more pods than their allocatable pods');

  // Convergence: every pod on the new revision, Running and Ready.
  try {
    await poll('web converged on nginx:2', 90_000 + (REPLICAS - 40) * 1_000, async () => {
      const st = JSON.parse(await k(['get', 'statefulset', 'web', '-o', 'json'])).status;
      return st.readyReplicas === REPLICAS && st.updatedReplicas === REPLICAS && st.currentRevision === st.updateRevision && st.observedGeneration === 3;
    }, 1000);
  } catch (err) {
    const st = await k(['get', 'statefulset', 'web', '-o', 'jsonpath={.status}']).catch((e) => String(e));
    const pods = await k(['get', 'pods', '-l', 'app=web', '-o', 'custom-columns=NAME:.metadata.name,PHASE:.status.phase,IMAGE:.spec.containers[0].image,NODE:.spec.nodeName,DEL:.metadata.deletionTimestamp,REV:.metadata.labels.controller-revision-hash']).catch((e) => String(e));
    const leases = await k(['get', 'lease', '-n', 'kube-system']).catch((e) => String(e));
    throw new Error(`${(err as Error).message}\nstatus ${st}\n${pods}\n${leases}\n${ctrls.map((c, i) => `--- controllers #${i}\n${c.logs().slice(-3000)}`).join('\n')}\n--- agents\n${agents.map((a) => a.logs().slice(-3000)).join('\n')}\n--- servers\n${servers.map((x) => x.out.slice(-2000)).join('\n')}`);
  }
  const pods = JSON.parse(await k(['get', 'pods', '-l', 'app=web', '-o', 'json'])).items;
  assert.equal(pods.length, REPLICAS);
  for (const p of pods) assert.equal(p.spec.containers[0].image, 'nginx:2', p.metadata.name);
  assert.deepEqual(pods.map((p: any) => p.metadata.name).sort(), Array.from({ length: REPLICAS }, (_, i) => `web-${i}`).sort());
  log('web converged: all pods on nginx:2, Ready');

  // Every acknowledged write is in etcd, through its quorum, with the acknowledged value and uid.
  assert.ok(acked.size > 50, `only ${acked.size} writes acknowledged`);
  const kvs = JSON.parse(await etcd.ctl(['get', '--prefix', '/registry/configmaps/default/chaos-', '-w', 'json'])).kvs ?? [];
  const stored = new Map<string, any>(kvs.map((kv: any) => [Buffer.from(kv.key, 'base64').toString().split('/').pop(), JSON.parse(Buffer.from(kv.value, 'base64').toString())]));
  const missing = [...acked].filter(([name, w]) => stored.get(name)?.data?.v !== w.value || stored.get(name)?.metadata?.uid !== w.uid).map(([n]) => n);
  assert.deepEqual(missing, [], `${missing.length} acknowledged writes missing or different in etcd`);
  log(`all ${acked.size} acknowledged writes are in etcd (${stored.size} chaos ConfigMaps stored)`);

  // The watch stream through the observer: never broken, consistent, and it ends where a LIST is.
  assert.equal(watcher.exitCode, null, `kubectl get pods -w ended early: ${streamErr}`);
  const list = JSON.parse(await kA.ok(['--server', observer.url, 'get', '--raw', '/api/v1/namespaces/default/pods?labelSelector=app%3Dweb']));
  const listed = new Map<string, string>(list.items.map((p: any) => [p.metadata.name, p.metadata.resourceVersion]));
  let verdict = checkWatchStream(parseWatchLines(stream), listed);
  await poll('the watch stream to reach the LIST', 30_000, async () => (verdict = checkWatchStream(parseWatchLines(stream), listed)).final.length === 0, 250).catch(() => {});
  assert.deepEqual(verdict.errors, [], `the watch stream is inconsistent:\n${verdict.errors.slice(0, 20).join('\n')}`);
  assert.deepEqual(verdict.final, [], `the stream's final state differs from the LIST at ${list.metadata.resourceVersion}:\n${verdict.final.slice(0, 20).join('\n')}`);
  log(`kubectl get pods -w through the observer: ${verdict.events} events, consistent, ending at the LIST's ${listed.size} pods`);
});
