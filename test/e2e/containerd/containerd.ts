// Starts a private containerd for tests: its own config, root, state, socket
// and CNI config under one temporary directory, so it never touches (or
// depends on) a system containerd, systemd, /var/lib/containerd or /etc/cni.
// Needs root and the Debian packages containerd, runc, containernetworking-plugins
// (see install.sh). Every process started here is stopped by its PID.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const CNI_BIN_DIR_CANDIDATES = ['/usr/lib/cni', '/opt/cni/bin'];
export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10';
export const K8S_NAMESPACE = 'k8s.io'; // the containerd namespace the CRI plugin uses

export type ContainerdOptions = {
  dir?: string; // defaults to a fresh temp dir
  sandboxImage?: string;
  snapshotter?: 'overlayfs' | 'native';
  podSubnet?: string; // CNI bridge subnet, e.g. "10.244.0.0/24"
  bridgeName?: string;
  /** Run containerd (and so the CNI bridge it sets up) inside this existing network namespace (a name under /var/run/netns). */
  netns?: string;
  /**
   * Registries (host:port on loopback, e.g. a test's docker-registry) that containerd pulls from over
   * plain HTTP. More can be added while it runs with trustRegistry(): containerd reads the hosts
   * directory at every pull.
   */
  plainHttpRegistries?: string[];
};

export type Containerd = {
  dir: string;
  socket: string;
  pid: number;
  cniConfDir: string;
  /** The CRI registry config_path: one <host:port>/hosts.toml per registry (see trustRegistry). */
  registryConfigDir: string;
  logFile: string;
  proc: ChildProcess;
  log(): string;
  /** SIGTERM, wait, SIGKILL if needed; then remove leftover tasks' mounts and the directory unless keep. */
  stop(opts?: { keep?: boolean }): Promise<void>;
};

export type Cmd = { code: number; stdout: string; stderr: string };

export function run(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<Cmd> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) || (err && !stderr ? String(err.message) : '') });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

export async function must(cmd: string, args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

export function cniBinDir(): string | undefined {
  return CNI_BIN_DIR_CANDIDATES.find((d) => existsSync(join(d, 'bridge')));
}

/** Why real containers cannot run here, or undefined when they can (as far as can be told without starting anything). */
export function missingPrerequisite(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (containerd, runc and CNI plugins manage mounts, cgroups and network namespaces)';
  for (const bin of ['containerd', 'ctr', 'runc', 'containerd-shim-runc-v2']) {
    if (!findOnPath(bin)) return `${bin} not found: apt-get install containerd runc containernetworking-plugins`;
  }
  if (!cniBinDir()) return 'CNI plugins not found in /usr/lib/cni or /opt/cni/bin: apt-get install containernetworking-plugins';
  return undefined;
}

function findOnPath(bin: string): string | undefined {
  for (const d of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    if (d && existsSync(join(d, bin))) return join(d, bin);
  }
  return undefined;
}

/** containerd's TOML config (version 2, as containerd 1.6/1.7 read it). */
export function configToml(o: { dir: string; socket: string; sandboxImage: string; snapshotter: string; cniBinDir: string; cniConfDir: string; registryConfigDir?: string }): string {
  const q = (s: string) => JSON.stringify(s); // TOML basic strings accept JSON escapes for what we put in
  return `version = 2
root = ${q(join(o.dir, 'root'))}
state = ${q(join(o.dir, 'state'))}
# only the CRI-relevant plugins matter; these are never used by tests
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.internal.v1.tracing"]

[grpc]
  address = ${q(o.socket)}
[ttrpc]
  address = ""
[debug]
  address = ""
[metrics]
  address = ""

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ${q(o.sandboxImage)}
  # exec/attach/port-forward streaming server: loopback only, any free port
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  # These machines lack CAP_SYS_RESOURCE in the bounding set, so runc cannot
  # lower oom_score_adj below 0 (the sandbox asks for -998) and fails with
  # "can't get final child's PID from pipe: EOF". Clamp to containerd's own.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = ${q(o.cniBinDir)}
    conf_dir = ${q(o.cniConfDir)}
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".registry]
    # per-registry hosts.toml files (containerd >= 1.5); private, so /etc/containerd/certs.d never applies
    config_path = ${q(o.registryConfigDir ?? join(o.dir, 'certs.d'))}
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = ${q(o.snapshotter)}
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        # runc's state would otherwise go to /run/containerd/runc, shared with any system containerd
        Root = ${q(join(o.dir, 'runc'))}
`;
}

/** A CNI network list: one Linux bridge, host-local IPAM from podSubnet, no masquerade (pods need no way out). */
export function cniConflist(o: { bridge: string; subnet: string; ipamDataDir: string }): string {
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: 'ordinal-pods',
      plugins: [
        {
          type: 'bridge',
          bridge: o.bridge,
          isGateway: true, // the bridge gets the subnet's first address, so the node reaches pods
          ipMasq: false,
          hairpinMode: true,
          ipam: { type: 'host-local', ranges: [[{ subnet: o.subnet }]], dataDir: o.ipamDataDir },
        },
      ],
    },
    null,
    2,
  );
}

export async function startContainerd(opts: ContainerdOptions = {}): Promise<Containerd> {
  const why = missingPrerequisite();
  if (why) throw new Error(why);
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'ordinal-containerd-'));
  const socket = join(dir, 'containerd.sock');
  const cniConfDir = join(dir, 'cni', 'net.d');
  mkdirSync(cniConfDir, { recursive: true });
  mkdirSync(join(dir, 'cni', 'ipam'), { recursive: true });
  writeFileSync(
    join(cniConfDir, '10-ordinal.conflist'),
    cniConflist({ bridge: opts.bridgeName ?? 'ordtest0', subnet: opts.podSubnet ?? '10.244.0.0/24', ipamDataDir: join(dir, 'cni', 'ipam') }),
  );
  const registryConfigDir = join(dir, 'certs.d');
  mkdirSync(registryConfigDir, { recursive: true });
  for (const host of opts.plainHttpRegistries ?? []) trustRegistry(registryConfigDir, host);
  const configPath = join(dir, 'config.toml');
  writeFileSync(
    configPath,
    configToml({ dir, socket, sandboxImage: opts.sandboxImage ?? PAUSE_IMAGE, snapshotter: opts.snapshotter ?? 'overlayfs', cniBinDir: cniBinDir()!, cniConfDir, registryConfigDir }),
  );
  const logFile = join(dir, 'containerd.log');
  const fd = openSync(logFile, 'a');
  // nsenter --net switches only the network namespace; `ip netns exec` would
  // also give containerd a private mount namespace, hiding its mounts from us
  const [cmd, args] = opts.netns
    ? ['nsenter', [`--net=/var/run/netns/${opts.netns}`, 'containerd', '--config', configPath]]
    : ['containerd', ['--config', configPath]];
  const proc = spawn(cmd, args as string[], { stdio: ['ignore', fd, fd], detached: false });
  closeSync(fd);
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const deadline = Date.now() + 20_000;
  let exited: number | null = null;
  proc.on('exit', (code) => (exited = code ?? -1));
  for (;;) {
    if (exited !== null) throw new Error(`containerd exited (${exited}) during start:\n${log().slice(-4000)}`);
    if (existsSync(socket) && (await run('ctr', ['-a', socket, 'version'], { timeoutMs: 5000 })).code === 0) break;
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`containerd did not answer on ${socket} within 20s:\n${log().slice(-4000)}`);
    }
    await sleep(50);
  }
  const self: Containerd = {
    dir,
    socket,
    pid: proc.pid!,
    cniConfDir,
    registryConfigDir,
    logFile,
    proc,
    log,
    async stop({ keep = false } = {}) {
      // containers outlive containerd (their shims are separate processes), so remove them first
      await removeAllContainers(socket).catch(() => {});
      if (exited === null) {
        const done = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        const t = sleep(10_000, undefined, { ref: false }).then(() => 'timeout'); // unref'd: must not hold the process open
        if ((await Promise.race([done, t])) === 'timeout') {
          proc.kill('SIGKILL');
          await done;
        }
      }
      if (!keep) await removeTree(dir);
    },
  };
  return self;
}

/**
 * hosts.toml for the registry `host` (host:port, as image references name it), reached over plain
 * HTTP (no TLS) at `via` (host:port): itself by default, or another address serving as its mirror.
 */
export function hostsToml(host: string, via: string = host): string {
  return `# ${host}: a registry on this machine without TLS${via === host ? '' : `, served at ${via}`}
server = "http://${host}"

[host."http://${via}"]
  capabilities = ["pull", "resolve", "push"]
  skip_verify = true
`;
}

/** Lets containerd pull images named host:port/... over plain HTTP (from `via` when given): writes <registryConfigDir>/<host:port>/hosts.toml. */
export function trustRegistry(registryConfigDir: string, host: string, via?: string): void {
  mkdirSync(join(registryConfigDir, host), { recursive: true });
  writeFileSync(join(registryConfigDir, host, 'hosts.toml'), hostsToml(host, via));
}

export function ctr(socket: string, args: string[], opts?: { timeoutMs?: number }): Promise<string> {
  return must('ctr', ['-a', socket, '-n', K8S_NAMESPACE, ...args], opts);
}

/** Imports an OCI archive (see ../images/build.ts) into the CRI namespace; the images keep the names annotated in it. */
export async function importImage(socket: string, archive: string): Promise<void> {
  await ctr(socket, ['images', 'import', archive], { timeoutMs: 120_000 });
}

/** Kills and deletes every task and container in the k8s.io namespace (tests' leftovers, CRI sandboxes included). */
export async function removeAllContainers(socket: string): Promise<void> {
  const list = await run('ctr', ['-a', socket, '-n', K8S_NAMESPACE, 'containers', 'ls', '-q']);
  for (const id of list.stdout.split('\n').filter(Boolean)) {
    await run('ctr', ['-a', socket, '-n', K8S_NAMESPACE, 'tasks', 'kill', '-s', 'SIGKILL', id]);
    await run('ctr', ['-a', socket, '-n', K8S_NAMESPACE, 'tasks', 'delete', '-f', id]);
    await run('ctr', ['-a', socket, '-n', K8S_NAMESPACE, 'containers', 'rm', id]);
  }
}

/** rm -rf that first unmounts anything still mounted below dir (snapshots, netns bind mounts). */
export async function removeTree(dir: string): Promise<void> {
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .map((p) => p.replace(/\\040/g, ' '))
    .filter((p) => p === dir || p.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await run('umount', ['-l', m]);
  rmSync(dir, { recursive: true, force: true });
}

// --- network namespaces the tests create (and so may send traffic into) ---------

export async function addNetns(name: string): Promise<void> {
  await must('ip', ['netns', 'add', name]);
  await must('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
}

export async function deleteNetns(name: string): Promise<void> {
  await run('ip', ['netns', 'delete', name]);
}

/** Runs a command inside a network namespace we created (e.g. wget to a pod or to 127.0.0.1 there). */
export function inNetns(name: string, cmd: string, args: string[], opts?: { timeoutMs?: number }): Promise<Cmd> {
  return run('ip', ['netns', 'exec', name, cmd, ...args], opts);
}

/**
 * One HTTP request (GET, or POST when body is given) from inside a namespace. curl when the host has it;
 * otherwise busybox wget under `timeout`, because busybox 1.35's own `wget -T` segfaults on a refused connection.
 */
export async function httpGetIn(netns: string, url: string, opts: { timeoutSec?: number; body?: string } = {}): Promise<Cmd> {
  const secs = opts.timeoutSec ?? 2;
  const limit = { timeoutMs: (secs + 3) * 1000 };
  if (findOnPath('curl')) {
    const args = ['-sS', '-f', '-m', String(secs)];
    if (opts.body !== undefined) args.push('--data-binary', opts.body);
    return inNetns(netns, 'curl', [...args, url], limit);
  }
  const args = ['timeout', String(secs), 'busybox', 'wget', '-q', '-O', '-'];
  if (opts.body !== undefined) args.push('--post-data', opts.body);
  return inNetns(netns, 'busybox', [...args, url], limit);
}
