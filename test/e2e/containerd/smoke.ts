// Proves that real containers run on this machine, and measures the floor for
// issue 4's benchmark. Root only. Everything happens in a private containerd
// (temp dir, own socket) running inside a network namespace this script
// creates, so the CNI bridge and all traffic stay inside namespaces we own.
//
//   ./node_modules/.bin/node test/e2e/containerd/smoke.ts [--runs N] [--keep]
//
// Prints one line per check and a JSON summary of timings at the end; exits 1 on failure.

import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { ociArchive, standardImages } from '../images/build.ts';
import { addNetns, ctr, deleteNetns, httpGetIn, importImage, missingPrerequisite, run, startContainerd, type Containerd } from './containerd.ts';
import { CriClient, containerConfig, sandboxConfig } from './cri.ts';

const { values: opts } = parseArgs({ options: { runs: { type: 'string', default: '5' }, parallel: { type: 'string', default: '20' }, keep: { type: 'boolean', default: false } } });
const RUNS = Number(opts.runs);
const PARALLEL = Number(opts.parallel);

const now = () => performance.now();
const ms = (t: number) => Math.round(t * 10) / 10;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const timings: Record<string, number | number[] | string> = {};
let failures = 0;

function check(ok: boolean, what: string, detail = ''): void {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? ` -- ${detail}` : ''}`);
  if (!ok) failures++;
}

/** Polls an HTTP GET inside netns until it answers; returns the body and when it first did. */
async function waitServing(netns: string, url: string, deadlineMs = 15_000): Promise<{ body: string; at: number }> {
  const end = now() + deadlineMs;
  for (;;) {
    const r = await httpGetIn(netns, url, { timeoutSec: 1 });
    if (r.code === 0) return { body: r.stdout, at: now() };
    if (now() > end) throw new Error(`${url} in ${netns} never answered: ${r.stderr.trim()}`);
    await sleep(5);
  }
}

async function main(): Promise<void> {
  const why = missingPrerequisite();
  if (why) {
    console.log(`SKIP real containers: ${why}`);
    process.exit(2);
  }
  const tag = String(process.pid);
  const nodeNs = `ordnode-${tag}`;
  let cd: Containerd | undefined;
  const podNetns: string[] = [];
  const cri: { client?: CriClient; sandboxes: string[] } = { sandboxes: [] };
  try {
    await addNetns(nodeNs);
    let t = now();
    cd = await startContainerd({ netns: nodeNs, bridgeName: 'ordpods0', podSubnet: '10.88.0.0/24' });
    timings.containerdStartMs = ms(now() - t);
    check(true, `containerd started (pid ${cd.pid}, socket ${cd.socket}, netns ${nodeNs})`, `${timings.containerdStartMs} ms`);

    t = now();
    const images = standardImages();
    const dir = join(cd.dir, 'images');
    mkdirSync(dir);
    const archive = join(dir, 'all.oci.tar');
    writeFileSync(archive, ociArchive(images));
    timings.buildImagesMs = ms(now() - t);
    t = now();
    await importImage(cd.socket, archive);
    timings.importImagesMs = ms(now() - t);
    const listed = await ctr(cd.socket, ['images', 'ls', '-q']);
    for (const img of images) check(listed.split('\n').includes(img.ref), `image imported: ${img.ref}`);

    // --- ctr run, the benchmark floor: container start to first HTTP answer ----
    const ctrRuns: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const ns = `ordpod-${tag}-${i}`;
      await addNetns(ns);
      podNetns.push(ns);
      const id = `floor-${i}`;
      const t0 = now();
      await ctr(cd.socket, ['run', '-d', '--with-ns', `network:/var/run/netns/${ns}`, 'registry.k8s.io/nginx-slim:0.8', id]);
      const { body, at } = await waitServing(ns, 'http://127.0.0.1:80/');
      ctrRuns.push(ms(at - t0));
      if (i === 0) check(body.includes('Welcome to nginx!'), 'ctr run nginx-slim stand-in serves its page on :80 inside its own netns');
      const t1 = now();
      await ctr(cd.socket, ['tasks', 'kill', '-s', 'SIGTERM', id]);
      await waitExit(cd.socket, id);
      if (i === 0) timings.ctrStopOnTermMs = ms(now() - t1);
      await ctr(cd.socket, ['tasks', 'delete', id]);
      await ctr(cd.socket, ['containers', 'rm', id]);
    }
    timings.ctrRunToServingMs = ctrRuns;
    timings.ctrRunToServingMedianMs = median(ctrRuns);
    check(true, `ctr run -> serving, ${RUNS} runs`, `median ${median(ctrRuns)} ms (${ctrRuns.join(', ')})`);

    // --- CRI: pod sandbox with the CNI bridge, containers, exec, volumes ----------
    const client = new CriClient(cd.socket);
    cri.client = client;
    const v = await client.version();
    check(v.runtimeApiVersion === 'v1', `CRI Version`, `${v.runtimeName} ${v.runtimeVersion} api ${v.runtimeApiVersion}`);
    const conds = await client.status();
    check(conds.every((c) => c.status), 'CRI Status conditions', conds.map((c) => `${c.type}=${c.status}${c.reason ? ` (${c.reason}: ${c.message})` : ''}`).join(', '));

    const logRoot = join(cd.dir, 'pod-logs');
    const pods: Array<{ name: string; sandbox: string; ip: string; container: string; cfg: ReturnType<typeof sandboxConfig> }> = [];
    const criRuns: number[] = [];
    for (const name of ['web-0', 'web-1']) {
      const uid = randomUUID();
      const logDir = join(logRoot, `default_${name}_${uid}`);
      mkdirSync(logDir, { recursive: true });
      const cfg = sandboxConfig({ name, namespace: 'default', uid, logDir });
      const t0 = now();
      const sandbox = await client.runPodSandbox(cfg);
      cri.sandboxes.push(sandbox);
      const tSandbox = now();
      const { ip, state } = await client.podSandboxStatus(sandbox);
      const container = await client.createContainer(sandbox, containerConfig({ name: 'nginx', image: 'registry.k8s.io/nginx-slim:0.8', logPath: 'nginx/0.log' }), cfg);
      await client.startContainer(container);
      const { body, at } = await waitServing(nodeNs, `http://${ip}/`);
      criRuns.push(ms(at - t0));
      timings[`criSandbox_${name}_Ms`] = ms(tSandbox - t0);
      check(state === 'READY' && /^10\.88\.0\.\d+$/.test(ip) && body.includes('nginx'), `CRI pod ${name}: sandbox ${state}, IP ${ip}, page fetched from the node netns`);
      pods.push({ name, sandbox, ip, container, cfg });
    }
    timings.criPodToServingMs = criRuns;

    for (const p of pods) {
      const h = await client.execSync(p.container, ['hostname']);
      check(h.stdout.trim() === p.name, `ExecSync hostname in ${p.name}`, JSON.stringify(h.stdout.trim()));
      await client.execSync(p.container, ['sh', '-c', 'echo $(hostname) > /usr/share/nginx/html/index.html']);
      const r = await httpGetIn(nodeNs, `http://${p.ip}/`);
      check(r.stdout.trim() === p.name, `${p.name} serves its hostname after the tutorial's exec`, JSON.stringify(r.stdout.trim()));
    }
    const p2p = await client.execSync(pods[0]!.container, ['timeout', '2', 'wget', '-q', '-O', '-', `http://${pods[1]!.ip}/`]);
    check(p2p.stdout.trim() === 'web-1', 'pod-to-pod over the bridge (web-0 -> web-1)', JSON.stringify(p2p.stdout.trim() || p2p.stderr.trim()));
    const resolv = await client.execSync(pods[0]!.container, ['cat', '/etc/resolv.conf']);
    check(resolv.stdout.includes('ndots:5'), 'sandbox DNS config lands in /etc/resolv.conf', JSON.stringify(resolv.stdout.trim()));
    const log = readFileSync(join(logRoot, readdirName(logRoot, 'web-0'), 'nginx/0.log'), 'utf8');
    check(log.length > 0, 'container log file written in CRI format', JSON.stringify(log.split('\n')[0]));

    // kubia: a hostPath volume standing in for a PVC; data survives a new pod
    const volume = join(cd.dir, 'pv-kubia-0');
    mkdirSync(volume);
    const kubia = async (attempt: number, image: string) => {
      const uid = randomUUID();
      const logDir = join(logRoot, `default_kubia-0_${uid}`);
      mkdirSync(logDir, { recursive: true });
      const cfg = sandboxConfig({ name: 'kubia-0', namespace: 'default', uid, logDir, attempt });
      const sandbox = await client.runPodSandbox(cfg);
      cri.sandboxes.push(sandbox);
      const { ip } = await client.podSandboxStatus(sandbox);
      const c = await client.createContainer(
        sandbox,
        containerConfig({ name: 'kubia', image, logPath: 'kubia/0.log', mounts: [{ containerPath: '/var/data', hostPath: volume }], memoryLimitBytes: 64 << 20 }),
        cfg,
      );
      await client.startContainer(c);
      await waitServing(nodeNs, `http://${ip}:8080/`);
      return { sandbox, ip, c };
    };
    const k1 = await kubia(0, 'kubia-stored');
    const posted = await httpGetIn(nodeNs, `http://${k1.ip}:8080/`, { body: 'hello kubia.' });
    check(posted.stdout.trim() === 'Data stored on kubia-0', 'kubia POST', JSON.stringify(posted.stdout.trim()));
    t = now();
    await client.stopContainer(k1.c, 30);
    timings.criStopContainerGrace30Ms = ms(now() - t);
    const st = await client.containerStatus(k1.c);
    check(st.state === 'EXITED', `StopContainer with TERM handled by the image's init`, `exit ${st.exitCode} reason ${st.reason} in ${timings.criStopContainerGrace30Ms} ms`);
    await client.stopPodSandbox(k1.sandbox);
    await client.removePodSandbox(k1.sandbox);
    cri.sandboxes = cri.sandboxes.filter((s) => s !== k1.sandbox);
    const k2 = await kubia(1, 'docker.io/library/kubia-stored:v2');
    const got = await httpGetIn(nodeNs, `http://${k2.ip}:8080/`);
    check(got.stdout.includes('v2, Data stored on this Pod: hello kubia.'), `replacement kubia-0 (v2, IP ${k2.ip}) still has the data`, JSON.stringify(got.stdout.trim()));
    const mem = await client.execSync(k2.c, ['cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes']);
    const memV2 = mem.exitCode === 0 ? mem : await client.execSync(k2.c, ['cat', '/sys/fs/cgroup/memory.max']);
    check(memV2.stdout.trim() === String(64 << 20), 'memory limit applied as a cgroup limit', memV2.stdout.trim() || memV2.stderr.trim());

    // the benchmark's shape: N pods started at once through CRI, until all serve
    if (PARALLEL > 0) {
      const t0 = now();
      const each = await Promise.all(
        Array.from({ length: PARALLEL }, async (_, i) => {
          const name = `par-${i}`;
          const uid = randomUUID();
          const logDir = join(logRoot, `default_${name}_${uid}`);
          mkdirSync(logDir, { recursive: true });
          const cfg = sandboxConfig({ name, namespace: 'default', uid, logDir });
          const sandbox = await client.runPodSandbox(cfg);
          cri.sandboxes.push(sandbox);
          const { ip } = await client.podSandboxStatus(sandbox);
          const c = await client.createContainer(sandbox, containerConfig({ name: 'nginx', image: 'registry.k8s.io/nginx-slim:0.8', logPath: 'nginx/0.log' }), cfg);
          await client.startContainer(c);
          const { at } = await waitServing(nodeNs, `http://${ip}/`, 60_000);
          return ms(at - t0);
        }),
      );
      timings[`criParallel${PARALLEL}AllServingMs`] = ms(Math.max(...each));
      timings[`criParallel${PARALLEL}MedianPodMs`] = median(each);
      check(true, `${PARALLEL} CRI pods started at once, all serving`, `${ms(Math.max(...each))} ms (median pod ${median(each)} ms)`);
      const t1 = now();
      await Promise.all(
        cri.sandboxes.splice(0).map(async (s) => {
          await client.stopPodSandbox(s);
          await client.removePodSandbox(s);
        }),
      );
      timings[`criStopRemoveAllSandboxesMs`] = ms(now() - t1);
    }

    // a missing image with no registry reachable: the error issue 4 turns into ErrImagePull
    const missing = await client.imageStatus('registry.example.invalid/none:1');
    check(missing === '', 'ImageStatus of an absent image is empty (no pull attempted)');
  } finally {
    if (cri.client) {
      for (const s of cri.sandboxes) {
        await cri.client.stopPodSandbox(s).catch((e) => console.log(`cleanup: ${e.message}`));
        await cri.client.removePodSandbox(s).catch((e) => console.log(`cleanup: ${e.message}`));
      }
      cri.client.close();
    }
    if (cd) {
      const t = now();
      await cd.stop({ keep: opts.keep });
      timings.containerdStopMs = ms(now() - t);
      if (opts.keep) console.log(`kept ${cd.dir}`);
    }
    for (const ns of podNetns) await deleteNetns(ns);
    await deleteNetns(nodeNs);
  }
  console.log(JSON.stringify({ failures, timings }, null, 1));
  if (failures) process.exit(1);
}

function readdirName(dir: string, podName: string): string {
  const r = readdirSync(dir).find((n) => n.includes(`_${podName}_`));
  if (!r) throw new Error(`no log dir for ${podName} in ${dir}`);
  return r;
}

async function waitExit(socket: string, id: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    const r = await run('ctr', ['-a', socket, '-n', 'k8s.io', 'tasks', 'ls']);
    const line = r.stdout.split('\n').find((l) => l.split(/\s+/)[0] === id);
    if (!line || /STOPPED/.test(line)) return;
    await sleep(10);
  }
  throw new Error(`${id} did not stop`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
