// The streaming commands as a user types them, against real containers: `kubectl exec` (exit
// codes, stdin to EOF, a terminal), `kubectl cp` both ways, `kubectl port-forward`, and their
// errors. Everything goes kubectl → API server → node agent → containerd's streaming server.
// Root only; skips with the reason elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fixture, kubectl, kubectlOk, waitUntil } from '../../integration/harness.ts';
import { realClusterUnavailable, startRealCluster, type RealCluster } from './real-cluster.ts';

const skip = realClusterUnavailable();

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

test('kubectl exec, cp and port-forward with real containers', { skip: skip ? `real containers: ${skip}` : false, timeout: 150_000 }, async () => {
  const t0 = performance.now();
  const lap = (what: string) => console.log(`# ${what}: ${Math.round(performance.now() - t0)} ms`);
  let real: RealCluster | undefined;
  const local = mkdtempSync(join(tmpdir(), 'ordinal-cp-'));
  try {
    real = await startRealCluster();
    const { cluster } = real;
    await kubectlOk(cluster, ['create', '-f', fixture('web.yaml')]);
    await waitUntil(async () => (await kubectl(cluster, ['wait', '--for=condition=Ready', 'pod/web-0', '--timeout=1s'])).code === 0, 60_000, () => 'web-0 never Ready');
    lap('web-0 ready');

    // Output streams and the exit code, as kubectl reports them.
    const r = await kubectl(cluster, ['exec', 'web-0', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, 'out\n');
    assert.match(r.stderr, /^err\n/);
    assert.match(r.stderr, /command terminated with exit code 3/);

    // stdin reaches the process whole, and its end is the process's EOF.
    const big = randomBytes(300 * 1024).toString('base64');
    const counted = await kubectl(cluster, ['exec', '-i', 'web-0', '--', 'sh', '-c', 'wc -c; echo done'], { input: big });
    assert.equal(counted.code, 0, counted.stderr);
    assert.equal(counted.stdout.trim().split(/\s+/).join(' '), `${big.length} done`);
    lap('exec and exec -i');

    // A terminal: kubectl -it under a pseudo-terminal of its own (script), as a user's shell would be.
    const tty = await new Promise<string>((resolve) => {
      const child = spawn('script', ['-qec', 'kubectl exec -it web-0 -- busybox tty', '/dev/null'], {
        env: { ...process.env, KUBECONFIG: cluster.kubeconfig },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('close', () => {
        clearTimeout(timer);
        resolve(out);
      });
    });
    assert.match(tty, /\/dev\/pts\/\d+/, tty);
    lap('exec -it');

    // kubectl cp runs tar through exec, with stdin in one direction and stdout in the other.
    const page = `copied at ${new Date().toISOString()}\n`;
    writeFileSync(join(local, 'cp.txt'), page);
    await kubectlOk(cluster, ['cp', join(local, 'cp.txt'), 'web-0:/usr/share/nginx/html/cp.txt']);
    const pod = JSON.parse(await kubectlOk(cluster, ['get', 'pod', 'web-0', '-o', 'json']));
    assert.equal(await get(`http://${pod.status.podIP}/cp.txt`), page, 'the copied file is served from the volume');
    await kubectlOk(cluster, ['cp', 'web-0:/etc/hostname', join(local, 'hostname')]);
    assert.equal(readFileSync(join(local, 'hostname'), 'utf8').trim(), 'web-0');
    lap('cp both ways');

    // port-forward: a local port reaches port 80 inside the pod.
    const pf = spawn('kubectl', ['port-forward', 'pod/web-0', ':80'], { env: { ...process.env, KUBECONFIG: cluster.kubeconfig }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let pfOut = '';
      pf.stdout.on('data', (d) => (pfOut += d));
      pf.stderr.on('data', (d) => (pfOut += d));
      await waitUntil(() => /Forwarding from 127\.0\.0\.1:\d+ -> 80/.test(pfOut), 20_000, () => `port-forward did not start: ${pfOut}`);
      const port = Number(/127\.0\.0\.1:(\d+) -> 80/.exec(pfOut)![1]);
      for (let i = 0; i < 3; i++) assert.equal(await get(`http://127.0.0.1:${port}/cp.txt`), page);
    } finally {
      pf.kill('SIGTERM');
    }
    lap('port-forward');

    // downwardAPI and projected volumes, read back with exec.
    const volumesPod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'volumes', labels: { app: 'vols', tier: 'test' }, annotations: { note: 'hello' } },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'c', image: 'registry.k8s.io/nginx-slim:0.8', command: ['sleep', '3600'], resources: { limits: { memory: '64Mi' } },
          volumeMounts: [{ name: 'info', mountPath: '/etc/podinfo' }, { name: 'all', mountPath: '/etc/all' }] }],
        volumes: [
          { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } },
          { name: 'all', projected: { sources: [
            { configMap: { name: 'settings', items: [{ key: 'mode', path: 'config/mode' }] } },
            { downwardAPI: { items: [{ path: 'mem', resourceFieldRef: { containerName: 'c', resource: 'limits.memory', divisor: '1Mi' } }] } },
          ] } },
        ],
      },
    };
    await kubectlOk(cluster, ['create', 'configmap', 'settings', '--from-literal=mode=fast']);
    await kubectlOk(cluster, ['create', '-f', '-'], { input: JSON.stringify(volumesPod) });
    await waitUntil(async () => (await kubectl(cluster, ['wait', '--for=condition=Ready', 'pod/volumes', '--timeout=1s'])).code === 0, 30_000, () => 'volumes pod never Ready');
    const read = (file: string) => kubectlOk(cluster, ['exec', 'volumes', '--', 'cat', file]);
    assert.equal(await read('/etc/podinfo/labels'), 'app="vols"\ntier="test"');
    assert.equal(await read('/etc/podinfo/name'), 'volumes');
    assert.equal(await read('/etc/all/config/mode'), 'fast');
    assert.equal(await read('/etc/all/mem'), '64');
    // The kubelet's layout: files are symlinks through ..data, which is swapped on every update...
    const listing = await kubectlOk(cluster, ['exec', 'volumes', '--', 'ls', '-a', '/etc/podinfo']);
    assert.match(listing, /^\.\.data$/m, listing);
    assert.equal((await kubectlOk(cluster, ['exec', 'volumes', '--', 'readlink', '/etc/podinfo/labels'])).trim(), '..data/labels');
    // ...so the running container sees new labels, as upstream's downward API volumes do.
    await kubectlOk(cluster, ['label', 'pod', 'volumes', 'tier=prod', 'extra=yes', '--overwrite']);
    await waitUntil(async () => (await read('/etc/podinfo/labels')) === 'app="vols"\nextra="yes"\ntier="prod"', 15_000, () => 'labels file updated');
    // ConfigMap contents follow too, within the node's periodic volume sync.
    await kubectlOk(cluster, ['patch', 'configmap', 'settings', '-p', '{"data":{"mode":"slow"}}']);
    await waitUntil(async () => (await read('/etc/all/config/mode')) === 'slow', 20_000, () => 'configmap file updated');
    lap('downwardAPI and projected volumes');

    // Errors as upstream words them.
    const badContainer = await kubectl(cluster, ['exec', 'web-0', '-c', 'nosuch', '--', 'true']);
    assert.notEqual(badContainer.code, 0);
    assert.match(badContainer.stderr, /container nosuch is not valid for pod web-0/);
    const missingBinary = await kubectl(cluster, ['exec', 'web-0', '--', 'no-such-binary']);
    assert.notEqual(missingBinary.code, 0);
    assert.match(missingBinary.stderr, /no-such-binary/);
    assert.doesNotMatch(missingBinary.stderr, /Internal error occurred: Internal error occurred/);
    lap('errors');
  } catch (err) {
    real?.dumpLogs();
    throw err;
  } finally {
    rmSync(local, { recursive: true, force: true });
    await real?.stop();
  }
});
