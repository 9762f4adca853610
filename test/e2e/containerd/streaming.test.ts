// exec, attach-style sessions and port-forward against real containers, from the node's side:
// the containerd runtime asks CRI for a streaming URL and speaks SPDY/3.1 to containerd's
// streaming server, as the kubelet does. (The kubectl → API server half is tested elsewhere.)
// Root only; skips with the reason elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { kubectlOk, waitUntil } from '../../integration/harness.ts';
import { ContainerdRuntime } from '../../../src/agent/runtime/containerd.ts';
import { CriClient } from '../../../src/agent/runtime/cri/client.ts';
import { StreamStatusError } from '../../../src/agent/runtime/cri/streaming.ts';
import type { StreamSession } from '../../../src/streaming/types.ts';
import { NGINX_DEFAULT_PAGE } from '../images/build.ts';
import { realClusterUnavailable, startRealCluster, type RealCluster } from './real-cluster.ts';

const skip = realClusterUnavailable();

const POD = `apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: nginx
    image: registry.k8s.io/nginx-slim:0.8
    ports:
    - containerPort: 80
`;

// Every wait is bounded, so a hang fails the step and the cluster is still torn down.
function within<T>(p: Promise<T>, ms = 15_000, what = 'stream'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function readAll(r: Readable | undefined): Promise<Buffer> {
  if (!r) return Promise.resolve(Buffer.alloc(0));
  return within(new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    r.on('data', (c: Buffer) => chunks.push(c));
    r.on('end', () => resolve(Buffer.concat(chunks)));
    r.on('error', reject);
  }), 15_000, 'output');
}

async function collect(s: StreamSession): Promise<{ out: string; err: string; code: number }> {
  const [out, err, code] = await Promise.all([readAll(s.stdout), readAll(s.stderr), within(s.exit, 15_000, 'exit')]);
  return { out: out.toString(), err: err.toString(), code };
}

test('exec and port-forward through containerd streaming server', { skip: skip ? `real containers: ${skip}` : false, timeout: 120_000 }, async () => {
  const t0 = performance.now();
  const lap = (what: string) => console.log(`# ${what}: ${Math.round(performance.now() - t0)} ms`);
  let real: RealCluster | undefined;
  let runtime: ContainerdRuntime | undefined;
  let cri: CriClient | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'ordinal-streaming-'));
  let ok = false;
  try {
    real = await startRealCluster();
    const { cluster, cd } = real;
    lap('cluster up');
    await kubectlOk(cluster, ['apply', '-f', '-'], { input: POD });
    let containerId = '';
    await waitUntil(
      async () => {
        const pod = JSON.parse(await kubectlOk(cluster, ['get', 'pod', 'web', '-o', 'json']));
        containerId = String(pod.status?.containerStatuses?.[0]?.containerID ?? '').replace('containerd://', '');
        return pod.status?.phase === 'Running' && !!pod.status?.containerStatuses?.[0]?.ready && !!containerId;
      },
      30_000,
      () => `pod web not running\n${cluster.logs().slice(-3000)}`,
    );
    lap('pod running');
    cri = new CriClient(cd.socket);
    const [container] = await cri.listContainers({ id: containerId });
    const sandboxId = container!.podSandboxId;
    runtime = await ContainerdRuntime.connect({ socket: cd.socket, dataDir });
    const io = { stdin: false, stdout: true, stderr: true, tty: false };

    // stdout, stderr and the exit code, each on its own channel.
    const r1 = await collect(await runtime.exec(containerId, { ...io, command: ['sh', '-c', 'echo out; echo err >&2; exit 3'] }));
    assert.deepEqual(r1, { out: 'out\n', err: 'err\n', code: 3 });
    const r0 = await collect(await runtime.exec(containerId, { ...io, command: ['true'] }));
    assert.equal(r0.code, 0);
    lap('exec with exit codes');

    // stdin: more than the SPDY window and several pipe buffers, and the process ends on EOF.
    const input = Buffer.alloc(300 * 1024);
    for (let i = 0; i < input.length; i++) input[i] = (i * 7 + (i >> 10)) & 0xff;
    const cat = await runtime.exec(containerId, { ...io, stdin: true, command: ['cat'] });
    const catOut = readAll(cat.stdout);
    cat.stdin!.end(input);
    const echoed = await catOut;
    assert.equal(await within(cat.exit), 0);
    assert.equal(echoed.length, input.length);
    assert.ok(echoed.equals(input), 'cat returned the input unchanged');
    // Counting on the container side: wc sees every byte.
    const wc = await runtime.exec(containerId, { ...io, stdin: true, command: ['wc', '-c'] });
    const wcOut = readAll(wc.stdout);
    wc.stdin!.end(input);
    assert.equal((await wcOut).toString().trim(), String(input.length));
    assert.equal(await within(wc.exit), 0);
    lap('stdin with EOF');

    // A terminal: no separate stderr, and the command sees a pseudo-terminal (the stand-in image
    // has busybox without a `tty` link).
    const tty = await runtime.exec(containerId, { stdin: false, stdout: true, stderr: true, tty: true, command: ['busybox', 'tty'] });
    assert.equal(tty.stderr, undefined);
    const ttyOut = await collect(tty);
    assert.match(ttyOut.out, /^\/dev\/pts\/\d+\r?\n$/);
    assert.equal(ttyOut.code, 0);

    // Resizing the terminal: the command waits for a line, then reports the size it sees.
    const sized = await runtime.exec(containerId, { stdin: true, stdout: true, stderr: false, tty: true, command: ['sh', '-c', 'read line; stty size'] });
    const sizedOut = readAll(sized.stdout);
    sized.resize!({ width: 123, height: 45 });
    await new Promise((r) => setTimeout(r, 300));
    sized.stdin!.write('go\n');
    assert.match((await sizedOut).toString(), /45 123/);
    assert.equal(await within(sized.exit), 0);
    lap('tty and resize');

    // A command that cannot start: the runtime's own message, not an exit code.
    const bad = await runtime.exec(containerId, { ...io, command: ['/no/such/binary'] });
    await Promise.all([readAll(bad.stdout), readAll(bad.stderr)]);
    await assert.rejects(within(bad.exit), (err: Error) => {
      console.log(`# failed exec: ${err.message}`);
      return err instanceof StreamStatusError && /no\/such\/binary|not found|no such file/i.test(err.message);
    });

    // Port-forward to the web server inside the pod's network namespace.
    for (let i = 0; i < 2; i++) {
      const conn = await runtime.portForward(sandboxId, 80);
      const page = readAll(conn);
      conn.end('GET / HTTP/1.0\r\nHost: localhost\r\n\r\n');
      const text = (await page).toString();
      assert.match(text, /^HTTP\/1\.[01] 200/);
      assert.ok(text.endsWith(NGINX_DEFAULT_PAGE), text);
    }
    // A port nobody listens on: the error the streaming server reports.
    const closed = await runtime.portForward(sandboxId, 81);
    const failure = await within(new Promise<string>((resolve) => {
      closed.on('error', (e) => resolve(e.message));
      closed.on('data', () => {});
      closed.on('end', () => setTimeout(() => resolve('ended without error'), 1000));
      closed.end('x');
    }));
    console.log(`# port 81: ${failure}`);
    assert.match(failure, /81/);
    lap('port-forward');
    ok = true;
  } finally {
    if (!ok) real?.dumpLogs();
    runtime?.close();
    cri?.close();
    await real?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
