// A whole multi-machine cluster on a private LAN of network namespaces (lan.ts): `ordinal up
// --nodes 0` in the server's namespace and one `ordinal agent` per node namespace, each agent
// starting its own containerd and importing the given images from its images directory. Every
// process runs in its own process group and is ended by it. Root only.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { createLan, type Lan } from './lan.ts';
import { ociArchive, fileNameFor, type BuiltImage } from '../images/build.ts';

const root = resolve(import.meta.dirname, '../../..');
const main = join(root, 'src/cli/main.ts');

export interface Proc {
  proc: ChildProcess;
  out: () => string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface LanCluster {
  lan: Lan;
  work: string;
  serverDir: string;
  server: Proc;
  agents: Proc[];
  agentDirs: string[];
  kubectl(args: string[], input?: string): { code: number; stdout: string; stderr: string };
  kubectlOk(args: string[], input?: string): string;
  dumpLogs(): void;
  destroy(): Promise<void>;
}

export function track(proc: ChildProcess): Proc {
  let out = '';
  proc.stdout?.on('data', (d) => (out += d));
  proc.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const group = (sig: NodeJS.Signals) => {
    try {
      process.kill(-proc.pid!, sig);
    } catch {
      // gone already
    }
  };
  return {
    proc,
    out: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      group(signal);
      const t = setTimeout(() => group('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/**
 * Mounts left under `dir` by a containerd that was killed (a simulated power cut) live in this
 * machine's mount namespace: unmount them, deepest first, before the directory is removed.
 */
function unmountUnder(dir: string): void {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => p === dir || p.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
  for (const p of points) {
    try {
      execFileSync('umount', ['-l', p], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
}

export async function waitUntil(cond: () => boolean, ms: number, what: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * `serverNode`: the server runs a real node of its own (`ordinal up --runtime containerd`, its own
 * containerd, node-1) beside the joined ones, instead of none.
 */
export async function startLanCluster(opts: { nodes: number; images: BuiltImage[]; serverArgs?: string[]; logLevel?: string; serverNode?: boolean }): Promise<LanCluster> {
  const lan = createLan(opts.nodes);
  const work = mkdtempSync(join(tmpdir(), 'ordinal-lan-'));
  const serverDir = join(work, 'server');
  const env = { ORDINAL_LOG_LEVEL: opts.logLevel ?? 'info' };
  const archives = opts.images.map((img) => ({ name: fileNameFor(img.ref), data: ociArchive([img]) }));
  let nodeArgs = ['--nodes', '0'];
  if (opts.serverNode) {
    mkdirSync(join(serverDir, 'images'), { recursive: true });
    for (const a of archives) writeFileSync(join(serverDir, 'images', a.name), a.data);
    lan.exec(lan.server, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
    nodeArgs = ['--runtime', 'containerd', '--bridge', 'ords'];
  }
  const server = track(lan.spawn(lan.server, process.execPath, [main, 'up', '--data-dir', serverDir, '--host', lan.server.ip, '--port', '6443', ...nodeArgs, '--dns-port', '0', ...(opts.serverArgs ?? [])], env));
  const agents: Proc[] = [];
  const agentDirs: string[] = [];
  const kubectl = (args: string[], input?: string) => lan.exec(lan.server, 'kubectl', ['--kubeconfig', join(serverDir, 'kubeconfig'), ...args], { input, timeoutMs: 60_000 });
  const cluster: LanCluster = {
    lan,
    work,
    serverDir,
    server,
    agents,
    agentDirs,
    kubectl,
    kubectlOk(args, input) {
      const r = kubectl(args, input);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}`);
      return r.stdout;
    },
    dumpLogs() {
      process.stderr.write(`--- server\n${server.out().slice(-6000)}\n`);
      agents.forEach((a, i) => process.stderr.write(`--- agent ${i + 1}\n${a.out().slice(-6000)}\n`));
    },
    async destroy() {
      // Pods first (their containers live in the agents' containerds), then the agents, then the server.
      // The sets first, and gone before their pods are deleted, so no controller makes a new pod
      // whose sandbox a stopping agent would leave half made (its network namespace stays behind).
      kubectl(['delete', 'statefulsets', '--all', '--wait=true', '--timeout=30s']);
      kubectl(['delete', 'pods', '--all', '--grace-period=1', '--wait=true', '--timeout=30s']);
      await Promise.all(agents.map((a) => a.stop()));
      await server.stop();
      lan.destroy();
      unmountUnder(work);
      rmSync(work, { recursive: true, force: true });
    },
  };
  try {
    await waitUntil(() => /ready at https/.test(server.out()), 30_000, () => `server start:\n${server.out()}`);
    const token = lan.exec(lan.server, process.execPath, [main, 'token', 'create', '--data-dir', serverDir]);
    const m = /ordinal agent --server (\S+) --token (\S+) --ca-cert-hash (\S+)/.exec(token.stdout);
    if (!m) throw new Error(`no join command: ${token.stdout}${token.stderr}`);
    lan.nodes.forEach((node, i) => {
      const dir = join(work, `agent${i + 1}`);
      agentDirs.push(dir);
      mkdirSync(join(dir, 'images'), { recursive: true });
      for (const a of archives) writeFileSync(join(dir, 'images', a.name), a.data);
      const args = [main, 'agent', '--server', m[1]!, '--token', m[2]!, '--ca-cert-hash', m[3]!, '--node-name', `node${i + 1}`, '--data-dir', dir, '--bridge', `ordn${i + 1}`];
      agents.push(track(lan.spawn(node, process.execPath, args, env)));
    });
    await waitUntil(() => agents.every((a) => / joined /.test(a.out())), 90_000, () => agents.map((a) => a.out().slice(-3000)).join('\n----\n'));
    const expected = opts.nodes + (opts.serverNode ? 1 : 0);
    await waitUntil(() => (kubectl(['get', 'nodes', '--no-headers']).stdout.match(/ Ready /g) ?? []).length === expected, 60_000, () => kubectl(['get', 'nodes', '-o', 'wide']).stdout);
  } catch (err) {
    cluster.dumpLogs();
    await cluster.destroy();
    throw err;
  }
  return cluster;
}
