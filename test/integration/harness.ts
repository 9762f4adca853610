// Starts a real `ordinal` process on a free port with a temporary data dir, and runs the real
// kubectl against it, as a user would.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startEtcd, type Etcd } from '../support/etcd.ts';

const root = resolve(import.meta.dirname, '../..');

/**
 * The store a cluster is started on when its test does not say: ORDINAL_TEST_STORE=etcd runs the
 * same test bodies on a private one-member etcd (see the *-etcd.test.ts files), sqlite otherwise.
 */
export function defaultTestStore(): 'sqlite' | 'etcd' {
  return process.env.ORDINAL_TEST_STORE === 'etcd' ? 'etcd' : 'sqlite';
}

/** The private etcd of each etcd-backed cluster, by data dir: a restart on that dir finds its state again. */
const etcdOf = new Map<string, Etcd>();

export interface Cluster {
  dataDir: string;
  kubeconfig: string;
  url: string;
  proc: ChildProcess;
  /** Output the server wrote so far (stdout and stderr, interleaved as they arrived), for failure messages and checks. */
  logs(): string;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function tempDir(prefix = 'ordinal-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Temporary directories made for one test file, all removed by removeAll (in its after hook). */
export function tempDirs(): { make(prefix: string): string; removeAll(): void } {
  const dirs: string[] = [];
  return {
    make(prefix) {
      const d = tempDir(prefix);
      dirs.push(d);
      return d;
    },
    removeAll() {
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    },
  };
}

export interface StartOptions {
  dataDir?: string;
  command?: string;
  args?: string[];
  /**
   * Environment for this cluster's process only, over the test's own and the harness's defaults
   * (e.g. ORDINAL_FREEZE_CACHE, or ORDINAL_LOG_LEVEL to see more than warnings in logs()).
   */
  env?: Record<string, string>;
}

export async function startCluster(opts: StartOptions = {}): Promise<Cluster> {
  const dataDir = opts.dataDir ?? tempDir();
  const command = opts.command ?? 'up';
  // Clusters of concurrent tests must not compete for the DNS port.
  const dns = command === 'up' && !(opts.args ?? []).some((a) => a.startsWith('--dns-port') || a === '--no-dns') ? ['--dns-port', '0'] : [];
  // Tests say which runtime they want: a containerd socket on the machine must not switch the others to it.
  const runtime = command === 'up' && !(opts.args ?? []).some((a) => a.startsWith('--runtime')) ? ['--runtime', 'sim'] : [];
  const store: string[] = [];
  if ((command === 'up' || command === 'server') && defaultTestStore() === 'etcd' && !(opts.args ?? []).some((a) => a.startsWith('--store'))) {
    let etcd = etcdOf.get(dataDir);
    if (!etcd) etcdOf.set(dataDir, (etcd = await startEtcd()));
    store.push('--store', 'etcd', '--etcd-servers', etcd.url);
  }
  // In a process group of its own, which stopCluster signals whole, as the other test helpers run
  // theirs: whatever the server starts in its group ends with it. (The containerd it may start has
  // a group of its own, which the server stops itself.)
  const proc = spawn(process.execPath, [join(root, 'src/cli/main.ts'), command, '--data-dir', dataDir, '--port', '0', ...dns, ...runtime, ...store, ...(opts.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: { ...process.env, ORDINAL_LOG_LEVEL: 'warn', ...opts.env },
  });
  let out = '';
  proc.stderr!.on('data', (d) => (out += d));
  const url = await new Promise<string>((resolveUrl, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`server did not start in time:\n${stdout}\n${out}`)), 20_000);
    proc.stdout!.on('data', (d) => {
      stdout += d;
      out += d;
      const m = /ready at (https:\/\/\S+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });
  return { dataDir, kubeconfig: join(dataDir, 'kubeconfig'), url, proc, logs: () => out };
}

export async function stopCluster(c: Cluster, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  await new Promise<void>((res) => {
    c.proc.once('exit', () => res());
    try {
      process.kill(-c.proc.pid!, signal);
    } catch {
      c.proc.kill(signal);
    }
  });
}

export async function removeCluster(c: Cluster): Promise<void> {
  rmSync(c.dataDir, { recursive: true, force: true });
  const etcd = etcdOf.get(c.dataDir);
  etcdOf.delete(c.dataDir);
  await etcd?.remove();
}

const kubectlHome = tempDir('ordinal-kubectl-home-');
mkdirSync(join(kubectlHome, '.kube'), { recursive: true });
// kubectl's cache and config for this test process only: gone with it (one per test file otherwise piles up in /tmp).
process.on('exit', () => rmSync(kubectlHome, { recursive: true, force: true }));

export function kubectl(c: Cluster, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<KubectlResult> {
  return new Promise((res) => {
    const child = execFile(
      'kubectl',
      args,
      { env: { ...process.env, KUBECONFIG: c.kubeconfig, HOME: kubectlHome }, timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

/** Runs kubectl and fails with its stderr unless it succeeded. */
export async function kubectlOk(c: Cluster, args: string[], opts: { input?: string } = {}): Promise<string> {
  const r = await kubectl(c, args, opts);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** A long-running kubectl (e.g. get -w) whose output accumulates until stopped. */
export function kubectlStream(c: Cluster, args: string[]): { output: () => string; stop: () => Promise<void>; waitFor: (re: RegExp, ms?: number) => Promise<void> } {
  const child = spawn('kubectl', args, { env: { ...process.env, KUBECONFIG: c.kubeconfig, HOME: kubectlHome }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return {
    output: () => out,
    stop: () =>
      new Promise<void>((res) => {
        if (child.exitCode !== null) return res();
        child.once('exit', () => res());
        child.kill('SIGTERM');
      }),
    waitFor: (re, ms = 10_000) => waitUntil(() => re.test(out), ms, () => `output did not match ${re}:\n${out}`),
  };
}

export async function waitUntil(cond: () => boolean | Promise<boolean>, ms = 10_000, describe: () => string = () => 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${describe()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until pod `name` exists and satisfies `pred`, and returns it; a timeout shows its last status. */
export async function waitForPod(c: Cluster, name: string, pred: (p: Record<string, any>) => boolean, ms = 10_000): Promise<Record<string, any>> {
  let last: Record<string, any> = {};
  await waitUntil(
    async () => {
      const r = await kubectl(c, ['get', 'pod', name, '-o', 'json']);
      if (r.code !== 0) return false;
      last = JSON.parse(r.stdout);
      return pred(last);
    },
    ms,
    () => `pod ${name}: ${JSON.stringify(last.status)}`,
  );
  return last;
}

/** The events about the object called `name`, as "<type> <reason> <message>". */
export async function eventsAbout(c: Cluster, name: string): Promise<string[]> {
  const list = JSON.parse(await kubectlOk(c, ['get', 'events', '-o', 'json']));
  return list.items.filter((e: Record<string, any>) => e.involvedObject?.name === name).map((e: Record<string, any>) => `${e.type} ${e.reason} ${e.message}`);
}

export const fixture = (name: string) => join(root, 'test/fixtures', name);

export interface ApiResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: any;
}

/**
 * A raw HTTPS request to the cluster's API as the admin (client certificate from the data dir),
 * for what kubectl cannot express: exact status codes, headers, malformed bodies.
 * An object body is sent as JSON; a string or Buffer as is.
 */
export async function api(c: Cluster, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
  const https = await import('node:https');
  const { readFileSync } = await import('node:fs');
  const pki = join(c.dataDir, 'pki');
  const u = new URL(path, c.url);
  const payload = body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  return new Promise((res, rej) => {
    const req = https.request(
      {
        method,
        hostname: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        ca: readFileSync(join(pki, 'ca.crt')),
        cert: readFileSync(join(pki, 'admin.crt')),
        key: readFileSync(join(pki, 'admin.key')),
        headers: { Accept: 'application/json', ...(payload !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(payload)) } : {}), ...headers },
      },
      (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (d: Buffer) => chunks.push(d));
        r.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {}
          res({ status: r.statusCode ?? 0, headers: r.headers, body: text, json });
        });
        r.on('error', rej);
      },
    );
    req.on('error', rej);
    req.end(payload);
  });
}
