// A cluster for node-failure tests and benches: the API server (with its controllers) in its own
// process group on a fixed port, so it can be killed -9 and started again on the same data dir and
// address, and simulated nodes as `ordinal agent` processes, each in its own process group.
import { execFile, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent, createJoinToken, type AgentProcess } from './agents.ts';
import { startOrdinal } from './ordinal-process.ts';

export const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export interface ServerProcess {
  proc: ChildProcess;
  url: string;
  logs(): string;
  exited: Promise<unknown>;
  /** Signals the whole process group. */
  signal(sig: NodeJS.Signals): void;
  stop(): Promise<void>;
}

/** `ordinal up` on the simulated runtime, in its own process group; resolves once it serves. */
export async function startServer(dataDir: string, port: number, args: string[]): Promise<ServerProcess> {
  const p = startOrdinal('up', ['--data-dir', dataDir, '--port', String(port), '--runtime', 'sim', '--dns-port', '0', ...args], {
    readyPattern: /ready at (https:\/\/\S+)/,
    notReady: 'server did not start',
    logLevel: 'warn',
    keepChars: 200_000,
  });
  const url = (await p.ready)[1]!;
  return { proc: p.proc, url, logs: p.logs, exited: p.exited, signal: p.signal, stop: () => p.stop() };
}

export const simAgentArgs = (name: string, dir: string) => ['--node-name', name, '--runtime', 'sim', '--sim-start-delay', '0', '--kubelet-port', '0', '--data-dir', dir];

export interface SimNode {
  name: string;
  dir: string;
  agent: AgentProcess;
}

/** Joins simulated nodes (agent processes) with a fresh bootstrap token. */
export async function joinSimNodes(dataDir: string, names: string[]): Promise<SimNode[]> {
  const join1 = await createJoinToken(dataDir);
  const nodes = names.map((name) => {
    const dir = tempDir(`ordinal-${name}-`);
    return { name, dir, agent: startAgent(['--server', join1.server, '--token', join1.token, '--ca-cert-hash', join1.hash, ...simAgentArgs(name, dir)]) };
  });
  await Promise.all(nodes.map((n) => n.agent.joined));
  return nodes;
}

/** Starts a node's agent again on its data dir (its saved certificate: no token). */
export function restartSimNode(n: SimNode, server: string): AgentProcess {
  n.agent = startAgent(['--server', server, ...simAgentArgs(n.name, n.dir)]);
  return n.agent;
}

export interface Kubectl {
  run(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  ok(args: string[], input?: string): Promise<string>;
  json(args: string[]): Promise<any>;
}

const kubectlHome = tempDir('ordinal-kubectl-home-');
mkdirSync(join(kubectlHome, '.kube'), { recursive: true });
// kubectl's cache and config for this test process only: gone with it (one per test file otherwise piles up in /tmp).
process.on('exit', () => rmSync(kubectlHome, { recursive: true, force: true }));

export function kubectlFor(kubeconfig: string): Kubectl {
  const run = (args: string[], input?: string) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((res) => {
      const child = execFile('kubectl', args, { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: kubectlHome }, timeout: 30_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
        res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      if (input !== undefined) child.stdin!.end(input);
    });
  const ok = async (args: string[], input?: string) => {
    const r = await run(args, input);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  return { run, ok, json: async (args) => JSON.parse(await ok([...args, '-o', 'json'])) };
}

export async function poll<T>(what: string, ms: number, fn: () => Promise<T | undefined | false>, every = 250): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${last}` : ''}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

export const condition = (o: any, type: string) => (o?.status?.conditions ?? []).find((x: any) => x.type === type);
export const isReady = (o: any) => condition(o, 'Ready')?.status === 'True';

/** A StatefulSet (and its headless Service) of `replicas` pods; `claimTemplate` names a 1Gi claim template. */
export function webSet(replicas: number, extra: { podManagementPolicy?: string; image?: string; claimTemplate?: string } = {}): string {
  const claims = extra.claimTemplate
    ? `  volumeClaimTemplates:
  - metadata: { name: ${extra.claimTemplate} }
    spec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: 1Gi } } }
`
    : '';
  return `
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  clusterIP: None
  selector: { app: web }
  ports: [{ port: 80, name: web }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: web }
spec:
  serviceName: web
  replicas: ${replicas}
  podManagementPolicy: ${extra.podManagementPolicy ?? 'Parallel'}
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers: [{ name: nginx, image: ${extra.image ?? 'nginx:1'}, ports: [{ containerPort: 80, name: web }] }]
${claims}`;
}
