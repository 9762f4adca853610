// The kubectl streaming checks shared by the tests whose node is a FakeNode (test/support/fake-node.ts):
// in-process (test/integration/streaming.test.ts) and behind a kubelet server in another "process"
// (test/integration/kubelet-remote.test.ts). The same user-visible behaviour must hold on both
// paths, so both run the same checks against their own cluster.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FakeNode } from './fake-node.ts';
import { waitUntil } from '../integration/harness.ts';

export interface Run {
  code: number;
  stdout: Buffer;
  stderr: string;
}

export interface KubectlOptions {
  stdinFile?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

export type Kubectl = (args: string[], opts?: KubectlOptions) => Promise<Run>;

/** Where kubectl runs: its kubeconfig and a HOME of its own (kubectl writes its cache there). */
export interface KubectlTarget {
  kubeconfig: string;
  home: string;
}

export const SPDY = { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' };
export const SPDY_PORT_FORWARD = { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' };

const envOf = (t: KubectlTarget, extra: Record<string, string> = {}) => ({ ...process.env, KUBECONFIG: t.kubeconfig, HOME: t.home, ...extra });

/** Runs kubectl to its end (killed after the timeout); stdin from a file when given. */
export function kubectlRunner(t: KubectlTarget, defaultTimeoutMs = 30_000): Kubectl {
  return (args, opts = {}) =>
    new Promise((resolve) => {
      const fd = opts.stdinFile ? openSync(opts.stdinFile, 'r') : 'ignore';
      const child = spawn('kubectl', args, { env: envOf(t, opts.env), stdio: [fd, 'pipe', 'pipe'] });
      if (typeof fd === 'number') closeSync(fd);
      const out: Buffer[] = [];
      let err = '';
      child.stdout!.on('data', (d: Buffer) => out.push(d));
      child.stderr!.on('data', (d) => (err += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? defaultTimeoutMs);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr: err });
      });
    });
}

async function inTempDir<T>(prefix: string, body: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    return await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `exec -i`: 6 MiB of stdin reach the process with their EOF, and all of the output comes back. */
export function checkLargeStdin(kubectl: Kubectl, pod: string, env: Record<string, string> = {}): Promise<void> {
  return inTempDir('ordinal-exec-', async (dir) => {
    const big = Buffer.alloc(6 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
    const file = join(dir, 'big');
    writeFileSync(file, big);
    const digest = createHash('sha256').update(big).digest('hex');
    const r = await kubectl(['exec', '-i', pod, '--', 'cat'], { stdinFile: file, env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.length, big.length);
    assert.equal(createHash('sha256').update(r.stdout).digest('hex'), digest);
    const sum = await kubectl(['exec', '-i', pod, '--', 'sha256sum'], { stdinFile: file, env });
    assert.equal(sum.stdout.toString().split(' ')[0], digest);
  });
}

/** `kubectl cp` up and down (the fake node's "container" shares this machine's filesystem). */
export function checkCopyBothWays(kubectl: Kubectl, pod: string, env: Record<string, string> = {}): Promise<void> {
  return inTempDir('ordinal-cp-', async (dir) => {
    const local = join(dir, 'local');
    const remote = join(dir, 'remote');
    mkdirSync(local);
    mkdirSync(remote);
    const text = 'uploaded through tar over exec\n'.repeat(2000);
    writeFileSync(join(local, 'up.txt'), text);
    const up = await kubectl(['cp', join(local, 'up.txt'), `${pod}:${remote}/up.txt`], { env });
    assert.equal(up.code, 0, up.stderr);
    assert.equal(readFileSync(join(remote, 'up.txt'), 'utf8'), text);
    writeFileSync(join(remote, 'down.txt'), 'downloaded\n');
    const down = await kubectl(['cp', `${pod}:${remote}/down.txt`, join(local, 'down.txt')], { env });
    assert.equal(down.code, 0, down.stderr);
    assert.equal(readFileSync(join(local, 'down.txt'), 'utf8'), 'downloaded\n');
  });
}

/** `attach -i` over WebSocket and SPDY: the input reaches the container and comes back. */
export function checkAttach(kubectl: Kubectl, pod: string): Promise<void> {
  return inTempDir('ordinal-attach-', async (dir) => {
    writeFileSync(join(dir, 'in'), 'attached input\n');
    for (const env of [{}, SPDY]) {
      const r = await kubectl(['attach', '-i', pod], { stdinFile: join(dir, 'in'), env });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout.toString(), /attached input/);
    }
  });
}

/** A kubectl exec killed mid-session aborts the session on the node. */
export async function checkClientGoneAborts(t: KubectlTarget, node: FakeNode, pod: string, env: Record<string, string> = {}): Promise<void> {
  const before = node.aborted;
  const count = node.execs.length;
  const child = spawn('kubectl', ['exec', pod, '--', 'sleep', '60'], { env: envOf(t, env), stdio: 'ignore' });
  await waitUntil(() => node.execs.length > count, 15_000, () => 'exec did not reach the node');
  await new Promise((r) => setTimeout(r, 200));
  child.kill('SIGKILL');
  await waitUntil(() => node.aborted > before, 15_000, () => 'the session on the node was not aborted');
}

/**
 * `exec -it` under script(1), which gives kubectl a terminal: the window size reaches the node and
 * stderr comes on stdout. The command lives a moment: a size sent after the session ended has
 * nowhere to go.
 */
export async function checkTerminal(t: KubectlTarget, node: FakeNode, pod: string, size: { cols: number; rows: number }, env: Record<string, string> = {}): Promise<void> {
  const before = node.resizes.length;
  const envs = Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ');
  const r = await new Promise<{ code: number; out: string }>((resolve) => {
    const child = spawn('script', ['-qec', `stty cols ${size.cols} rows ${size.rows}; ${envs} kubectl exec -it ${pod} -- sh -c 'sleep 1; echo to-out; echo to-err >&2'`, '/dev/null'], {
      env: envOf(t),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /to-out/);
  assert.match(r.out, /to-err/);
  const last = node.execs.at(-1)!;
  assert.equal(last.opts.tty, true);
  assert.equal(last.opts.stderr, false);
  assert.ok(node.resizes.slice(before).some((s) => s.width === size.cols && s.height === size.rows), JSON.stringify(node.resizes));
}

/**
 * `port-forward pod :80 :81`: connections to 80 reach the pod's server (a half-closed one still gets
 * its answer), and port 81, where nothing listens, reports the node's error. Returns kubectl's
 * output for transport-specific checks.
 */
export async function checkPortForward(t: KubectlTarget, pod: string, env: Record<string, string> = {}, args: string[] = []): Promise<string> {
  const child = spawn('kubectl', [...args, 'port-forward', `pod/${pod}`, ':80', ':81'], { env: envOf(t, env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  try {
    await waitUntil(() => /Forwarding from 127\.0\.0\.1:\d+ -> 81/.test(out), 20_000, () => out);
    const port = Number(/Forwarding from 127\.0\.0\.1:(\d+) -> 80/.exec(out)![1]);
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/try-${i}`);
      assert.equal(await res.text(), `hello from the pod, /try-${i}\n`);
    }
    const answer = await new Promise<string>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => s.end('GET /half HTTP/1.0\r\n\r\n'));
      let got = '';
      s.on('data', (d) => (got += d));
      s.on('end', () => resolve(got));
      s.on('error', reject);
    });
    assert.match(answer, /hello from the pod, \/half/);
    const port81 = Number(/Forwarding from 127\.0\.0\.1:(\d+) -> 81/.exec(out)![1]);
    await fetch(`http://127.0.0.1:${port81}/`).catch(() => undefined);
    await waitUntil(() => new RegExp(`error forwarding port 81 to pod ${pod}_default`).test(out), 15_000, () => out);
    return out;
  } finally {
    child.kill('SIGTERM');
  }
}

/** `logs -f` streams the node's ticks, and the node stops following when kubectl goes away. */
export async function checkFollowStops(t: KubectlTarget, node: FakeNode, pod: string): Promise<void> {
  node.followDestroyed = false;
  const follow = spawn('kubectl', ['logs', '-f', pod], { env: envOf(t), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  follow.stdout.on('data', (d) => (out += d));
  try {
    await waitUntil(() => out.includes('tick 3'), 15_000, () => out);
    assert.equal(node.logCalls.at(-1)!.follow, true);
  } finally {
    follow.kill('SIGTERM');
  }
  await waitUntil(() => node.followDestroyed, 15_000, () => 'the node did not stop following when kubectl went away');
}
