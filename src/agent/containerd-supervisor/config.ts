// The own containerd's files and config (pure): where its root, state, socket, CNI config and log
// live for a data dir, and the TOML it runs with. Like k3s's, this containerd shares nothing with a
// system one: not /var/lib/containerd, not /run/containerd/runc, not /etc/cni/net.d.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface ContainerdLayout {
  /** <dataDir>/containerd: config, root, CNI config, registry hosts, log. */
  dir: string;
  config: string;
  root: string;
  /** Task bundles, shim bookkeeping and FIFOs; next to the socket. */
  state: string;
  socket: string;
  runcRoot: string;
  cniConfDir: string;
  registryConfigDir: string;
  log: string;
}

/** A unix socket path is at most 107 bytes; containerd also binds `<socket>.ttrpc`. */
const MAX_SOCKET_PATH = 107 - '.ttrpc'.length;

/** Where the own containerd keeps what, for a data dir. Socket and state move to /run/ordinal/<hash> when the data dir's path is too long for a unix socket. */
export function containerdLayout(dataDir: string): ContainerdLayout {
  const dir = join(dataDir, 'containerd');
  let runDir = dir;
  if (Buffer.byteLength(join(runDir, 'containerd.sock')) > MAX_SOCKET_PATH) {
    runDir = join('/run/ordinal', createHash('sha256').update(dataDir).digest('hex').slice(0, 12));
  }
  return {
    dir,
    config: join(dir, 'config.toml'),
    root: join(dir, 'root'),
    state: join(runDir, 'state'),
    socket: join(runDir, 'containerd.sock'),
    runcRoot: join(runDir, 'runc'),
    cniConfDir: join(dir, 'cni', 'net.d'),
    registryConfigDir: join(dir, 'certs.d'),
    log: join(dir, 'containerd.log'),
  };
}

/** Where Debian (containernetworking-plugins) and the upstream tarballs put the CNI plugins. */
export const CNI_BIN_DIRS = ['/usr/lib/cni', '/opt/cni/bin'];

export function findCniBinDir(candidates = CNI_BIN_DIRS): string | undefined {
  return candidates.find((d) => existsSync(join(d, 'bridge')) && existsSync(join(d, 'host-local')));
}

const CAP_SYS_RESOURCE = 24n;

/**
 * Whether runc must not be asked for a negative oom_score_adj: without CAP_SYS_RESOURCE in the
 * effective set the kernel refuses it, and every sandbox then fails with "can't get final child's
 * PID from pipe: EOF". `status` is /proc/self/status.
 */
export function lacksSysResource(status: string): boolean {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  if (!m) return true;
  return ((BigInt('0x' + m[1]) >> CAP_SYS_RESOURCE) & 1n) === 0n;
}

export interface ContainerdConfigOptions {
  layout: ContainerdLayout;
  sandboxImage: string;
  cniBinDir: string;
  restrictOomScoreAdj: boolean;
}

/** containerd's config (version 2, as containerd 1.6 and 1.7 read it). */
export function containerdConfigToml(o: ContainerdConfigOptions): string {
  const q = (s: string) => JSON.stringify(s); // TOML basic strings take JSON's escapes for what we write
  const l = o.layout;
  return `# Written by Ordinal at every start; changes here are overwritten.
version = 2
root = ${q(l.root)}
state = ${q(l.state)}
# Snapshotters this containerd never uses (they would only log errors).
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.internal.v1.tracing"]

[grpc]
  address = ${q(l.socket)}
[debug]
  address = ""
[metrics]
  address = ""

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ${q(o.sandboxImage)}
  # exec/attach/port-forward: loopback only, a free port
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  # ${o.restrictOomScoreAdj ? 'This process lacks CAP_SYS_RESOURCE: runc cannot set a negative oom_score_adj, so clamp to containerd\'s own.' : 'CAP_SYS_RESOURCE is there: negative oom_score_adj values work.'}
  restrict_oom_score_adj = ${o.restrictOomScoreAdj}
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = ${q(o.cniBinDir)}
    conf_dir = ${q(l.cniConfDir)}
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".registry]
    # one <host:port>/hosts.toml per registry; read at every pull
    config_path = ${q(l.registryConfigDir)}
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = ${q(l.runcRoot)}
`;
}

/** The restart delay after the n-th consecutive quick exit (n from 0): 1 s doubling to 30 s. */
export function restartDelayMs(consecutiveFailures: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.min(consecutiveFailures, 5));
}
