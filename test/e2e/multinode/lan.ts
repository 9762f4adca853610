// A private "LAN" for multi-node tests: one network namespace per machine (the server's and each
// node's), joined by a bridge that lives in the server's namespace. Nothing is added to the host's
// namespace: its routes, addresses and forwarding stay as they are, and no namespace here has a
// default route, so no packet of these tests can leave the machine.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Machine {
  name: string;
  /** The network namespace (ip netns name). */
  netns: string;
  /** Its address on the LAN. */
  ip: string;
}

export interface Lan {
  server: Machine;
  nodes: Machine[];
  /** Runs a command inside a machine's network namespace (only the network is entered). */
  exec(m: Machine, cmd: string, args: string[], opts?: { timeoutMs?: number; input?: string }): { code: number; stdout: string; stderr: string };
  /** Starts a long-running process in a machine's network namespace, in its own process group. */
  spawn(m: Machine, cmd: string, args: string[], env?: Record<string, string>): ChildProcess;
  /** Takes a machine's link to the LAN down (true) or up again (false). */
  cut(m: Machine, down: boolean): void;
  destroy(): void;
}

const CLAIMS = '/tmp/ordinal-e2e-lans';

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Claims a LAN number (10.123.<n>.0/24, namespaces ordl<n>-*), reclaiming those of dead owners. */
function claim(): number {
  mkdirSync(CLAIMS, { recursive: true });
  for (let n = 1; n < 200; n++) {
    const dir = join(CLAIMS, String(n));
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'pid'), String(process.pid));
      return n;
    } catch {
      let owner = 0;
      try {
        owner = Number(readFileSync(join(dir, 'pid'), 'utf8'));
      } catch {}
      if (owner && !alive(owner)) {
        removeNamespaces(n);
        rmSync(dir, { recursive: true, force: true });
        n--;
      }
    }
  }
  throw new Error('no free test LAN');
}

function removeNamespaces(n: number): void {
  for (const ns of readdirSync('/var/run/netns').filter((x) => x.startsWith(`ordl${n}-`))) {
    // Processes still in the namespace keep it alive: end them first (they are this test's).
    try {
      const pids = sh('ip', ['netns', 'pids', ns]).split(/\s+/).filter(Boolean).map(Number);
      for (const p of pids) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {}
      }
    } catch {}
    try {
      sh('ip', ['netns', 'delete', ns]);
    } catch {}
  }
}

export function createLan(nodeCount: number): Lan {
  const n = claim();
  const subnet = `10.123.${n}`;
  const server: Machine = { name: 'server', netns: `ordl${n}-srv`, ip: `${subnet}.1` };
  const nodes: Machine[] = Array.from({ length: nodeCount }, (_, i) => ({ name: `node${i + 1}`, netns: `ordl${n}-n${i + 1}`, ip: `${subnet}.${11 + i}` }));
  const bridge = 'lan0';
  const ipIn = (ns: string, ...args: string[]) => sh('ip', ['-n', ns, ...args]);
  sh('ip', ['netns', 'add', server.netns]);
  ipIn(server.netns, 'link', 'set', 'lo', 'up');
  ipIn(server.netns, 'link', 'add', bridge, 'type', 'bridge');
  ipIn(server.netns, 'addr', 'add', `${server.ip}/24`, 'dev', bridge);
  ipIn(server.netns, 'link', 'set', bridge, 'up');
  for (const [i, m] of nodes.entries()) {
    sh('ip', ['netns', 'add', m.netns]);
    ipIn(m.netns, 'link', 'set', 'lo', 'up');
    // The veth pair is made inside the node's namespace and its peer moved to the server's.
    const peer = `v${n}n${i + 1}`;
    ipIn(m.netns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', peer);
    ipIn(m.netns, 'link', 'set', peer, 'netns', server.netns);
    ipIn(server.netns, 'link', 'set', peer, 'master', bridge);
    ipIn(server.netns, 'link', 'set', peer, 'up');
    ipIn(m.netns, 'addr', 'add', `${m.ip}/24`, 'dev', 'eth0');
    ipIn(m.netns, 'link', 'set', 'eth0', 'up');
    // Each node routes for its pods (host-gw): forwarding inside the node's own namespace only.
    sh('ip', ['netns', 'exec', m.netns, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
  }
  const enter = (m: Machine) => ['--net=/var/run/netns/' + m.netns];
  return {
    server,
    nodes,
    exec(m, cmd, args, opts = {}) {
      try {
        const stdout = execFileSync('nsenter', [...enter(m), cmd, ...args], { encoding: 'utf8', timeout: opts.timeoutMs ?? 30_000, input: opts.input, stdio: ['pipe', 'pipe', 'pipe'] });
        return { code: 0, stdout, stderr: '' };
      } catch (err) {
        const e = err as { status?: number; stdout?: string; stderr?: string };
        return { code: e.status ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
      }
    },
    spawn(m, cmd, args, env = {}) {
      return spawn('nsenter', [...enter(m), cmd, ...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    },
    cut(m, down) {
      ipIn(m.netns, 'link', 'set', 'eth0', down ? 'down' : 'up');
    },
    destroy() {
      removeNamespaces(n);
      rmSync(join(CLAIMS, String(n)), { recursive: true, force: true });
    },
  };
}

/** Every process whose parent chain reaches one of `roots` (the roots included). */
function withDescendants(roots: number[]): number[] {
  const children = new Map<number, number[]>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      // The parent pid is the 4th field, after "(comm)", which may itself hold spaces.
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(e)]);
    } catch {} // gone meanwhile
  }
  const out = new Set<number>();
  const walk = (p: number) => {
    if (out.has(p)) return;
    out.add(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  roots.forEach(walk);
  return [...out];
}

/** The `ip netns` names whose namespace is the network namespace of one of these processes. */
function namedNetnsOf(pids: number[]): string[] {
  const inodes = new Set<string>();
  for (const p of pids) {
    try {
      inodes.add(execFileSync('stat', ['-L', '-c', '%i', `/proc/${p}/ns/net`], { encoding: 'utf8' }).trim());
    } catch {}
  }
  const names: string[] = [];
  for (const n of readdirSync('/run/netns')) {
    try {
      if (inodes.has(execFileSync('stat', ['-L', '-c', '%i', join('/run/netns', n)], { encoding: 'utf8' }).trim())) names.push(n);
    } catch {}
  }
  return names;
}

/**
 * A power cut: every process of the machine dies at once. That is everything in its network
 * namespace (agent, containerd, shims) and everything those started, which includes the pods'
 * containers: they live in network namespaces of their own (CNI's), so they are found as the
 * shims' descendants. The pods' named network namespaces are removed too, as a reboot would lose
 * them; nothing else would, since the machine's containerd is gone with the rest.
 */
export function powerOff(m: Machine): void {
  const inNetns = sh('ip', ['netns', 'pids', m.netns]).split(/\s+/).filter(Boolean).map(Number);
  const all = withDescendants(inNetns);
  const podNetns = namedNetnsOf(all).filter((n) => n !== m.netns && n.startsWith('cni-'));
  for (const p of all) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {}
  }
  for (const n of podNetns) {
    try {
      sh('ip', ['netns', 'delete', n]);
    } catch {}
  }
}
