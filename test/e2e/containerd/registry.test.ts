// Image pulls through CRI from a private registry on loopback (Debian's docker-registry): the
// kubia v2 image is pushed with the registry API, pods refer to it as 127.0.0.1:<port>/kubia-stored:v2,
// and the kubelet's image events come out as upstream words them for a real pull
// (imagePullPolicy Always), a hit (IfNotPresent) and a missing tag (ErrImagePull → ImagePullBackOff).
// Root and docker-registry only; skips with the reason elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { kubectlOk, waitUntil, type Cluster } from '../../integration/harness.ts';
import { kubiaImage, nginxSlimImage, pauseImage } from '../images/build.ts';
import { trustRegistry } from './containerd.ts';
import { realClusterUnavailable, startRealCluster, type RealCluster } from './real-cluster.ts';
import { registryUnavailable, startRegistry, type Registry } from './registry.ts';

const skip = realClusterUnavailable() ?? registryUnavailable();

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

const pod = (name: string, image: string, imagePullPolicy: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'kubia', image, imagePullPolicy }] },
});

/** The pod's events as "Reason: message", oldest first. */
async function eventsOf(c: Cluster, name: string): Promise<string[]> {
  const list = JSON.parse(await kubectlOk(c, ['get', 'events', '--field-selector', `involvedObject.name=${name}`, '-o', 'json']));
  return list.items
    .sort((a: any, b: any) => String(a.firstTimestamp ?? a.eventTime).localeCompare(String(b.firstTimestamp ?? b.eventTime)) || Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion))
    .map((e: any) => `${e.reason}: ${e.message}`);
}

async function podJson(c: Cluster, name: string): Promise<any> {
  return JSON.parse(await kubectlOk(c, ['get', 'pod', name, '-o', 'json']));
}

async function waitRunning(c: Cluster, name: string, ms = 30_000): Promise<any> {
  let p: any = {};
  await waitUntil(async () => (p = await podJson(c, name)).status?.phase === 'Running' && p.status.containerStatuses?.[0]?.ready, ms, () => `${name}: ${JSON.stringify(p.status)}`);
  return p;
}

test('pulls through CRI from a local registry: Always pulls, IfNotPresent hits, a missing tag backs off', { skip: skip ? `local registry: ${skip}` : false, timeout: 120_000 }, async () => {
  let t = performance.now();
  const lap = (what: string) => {
    console.log(`# ${what}: ${Math.round(performance.now() - t)} ms`);
    t = performance.now();
  };
  let real: RealCluster | undefined;
  let reg: Registry | undefined;
  try {
    reg = await startRegistry();
    const v2 = kubiaImage('v2');
    const digest = await reg.push(v2, 'kubia-stored', 'v2');
    assert.equal(digest, v2.manifest.digest);
    lap(`registry on ${reg.host}, kubia-stored:v2 pushed`);
    // Without kubia v2 on the node, so its blobs have to come over the wire.
    real = await startRealCluster({ images: [pauseImage(), nginxSlimImage(), kubiaImage('v1')] });
    trustRegistry(real.cd.registryConfigDir, reg.host);
    const { cluster } = real;
    lap('real cluster up');

    // Always: the image is not on the node, so it is fetched from the registry.
    const image = `${reg.host}/kubia-stored:v2`;
    await kubectlOk(cluster, ['create', '-f', '-'], { input: JSON.stringify(pod('always', image, 'Always')) });
    const always = await waitRunning(cluster, 'always');
    assert.equal(always.status.containerStatuses[0].imageID, `${reg.host}/kubia-stored@${digest}`);
    assert.equal(await get(`http://${always.status.podIP}:8080`), "You've hit always\nv2, Data stored on this Pod: No data posted yet\n");
    let ev = await eventsOf(cluster, 'always');
    const pulling = ev.indexOf(`Pulling: Pulling image "${image}"`);
    const pulledAt = ev.findIndex((e) => e.startsWith('Pulled: '));
    assert.ok(pulling !== -1 && pulling < pulledAt, ev.join('\n'));
    assert.match(ev[pulledAt]!, new RegExp(`^Pulled: Successfully pulled image "${image.replace(/\./g, '\\.')}" in [0-9.]+m?s \\([0-9.]+m?s including waiting\\)\\. Image size: [1-9][0-9]+ bytes\\.$`));
    assert.ok(ev.indexOf('Created: Created container: kubia') > pulledAt);
    assert.match(reg.log(), new RegExp(`"GET /v2/kubia-stored/blobs/${v2.layerDigest} HTTP/1\\.1" 200 .*containerd`), 'the layer came from the registry');
    lap(`Always: pulled and running (${ev[pulledAt]})`);

    // IfNotPresent: now it is present, so no pull and upstream's "already present" event.
    await kubectlOk(cluster, ['create', '-f', '-'], { input: JSON.stringify(pod('present', image, 'IfNotPresent')) });
    await waitRunning(cluster, 'present');
    ev = await eventsOf(cluster, 'present');
    assert.ok(ev.includes(`Pulled: Container image "${image}" already present on machine`), ev.join('\n'));
    assert.ok(!ev.some((e) => e.startsWith('Pulling:')), ev.join('\n'));
    lap('IfNotPresent: already present');

    // The CRI registry config_path is honoured: images named after a registry that is not there
    // (localhost:1 refuses connections) come from ours, through its hosts.toml.
    trustRegistry(real.cd.registryConfigDir, 'localhost:1', reg.host);
    await kubectlOk(cluster, ['create', '-f', '-'], { input: JSON.stringify(pod('mirrored', 'localhost:1/kubia-stored:v2', 'Always')) });
    const mirrored = await waitRunning(cluster, 'mirrored');
    assert.ok(String(mirrored.status.containerStatuses[0].imageID).endsWith(`/kubia-stored@${digest}`)); // the same image under two names
    assert.ok((await eventsOf(cluster, 'mirrored')).some((e) => e.startsWith('Pulled: Successfully pulled image "localhost:1/kubia-stored:v2"')));
    lap('hosts.toml: localhost:1 served by the local registry');

    // A tag the registry does not have: ErrImagePull with the registry's answer, then back-off.
    const missing = `${reg.host}/kubia-stored:v3`;
    await kubectlOk(cluster, ['create', '-f', '-'], { input: JSON.stringify(pod('missing', missing, 'IfNotPresent')) });
    const waitingOf = async () => (await podJson(cluster, 'missing')).status?.containerStatuses?.[0]?.state?.waiting ?? {};
    let w: any = {};
    await waitUntil(async () => (w = await waitingOf()).reason === 'ErrImagePull', 15_000, () => JSON.stringify(w));
    assert.match(w.message, /kubia-stored:v3: not found/);
    await waitUntil(async () => (w = await waitingOf()).reason === 'ImagePullBackOff', 15_000, () => JSON.stringify(w));
    assert.match(w.message, new RegExp(`^Back-off pulling image "${missing.replace(/\./g, '\\.')}"`));
    ev = await eventsOf(cluster, 'missing');
    assert.ok(ev.includes(`Pulling: Pulling image "${missing}"`), ev.join('\n'));
    assert.ok(ev.some((e) => e.startsWith(`Failed: Failed to pull image "${missing}": `) && /not found/.test(e)), ev.join('\n'));
    assert.equal((await podJson(cluster, 'missing')).status.phase, 'Pending');
    lap('missing tag: ErrImagePull → ImagePullBackOff');
  } catch (err) {
    real?.dumpLogs();
    if (reg) console.log(reg.log().slice(-3000));
    throw err;
  } finally {
    await real?.stop();
    await reg?.stop();
  }
});
