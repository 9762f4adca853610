// A whole real cluster for end-to-end tests: a private containerd with the test images imported,
// and `ordinal up --runtime containerd` on a pod network of its own (bridge and CIDR claimed
// under /tmp, so concurrent tests and test files never share a bridge or an address range).
// Needs root and the packages of install.sh; `realClusterUnavailable()` says why not otherwise.
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ociArchive, standardImages, type BuiltImage } from '../images/build.ts';
import { importImage, missingPrerequisite, run, startContainerd, type Containerd } from './containerd.ts';
import { kubectl, removeCluster, startCluster, stopCluster, type Cluster } from '../../integration/harness.ts';
import { CriClient } from '../../../src/agent/runtime/cri/client.ts';
import { deleteBridge } from '../../../src/agent/runtime/cri/network.ts';

export interface PodNetwork {
  bridge: string;
  cidr: string;
  /** The bridge's address: the node's address on the pod network, where pods find cluster DNS. */
  gateway: string;
  /**
   * The cluster's service CIDR: its node holds these ClusterIPs in the host's network namespace,
   * so concurrent clusters each get their own (a user's default 10.96.0.0/12 is never used).
   */
  serviceCIDR: string;
  release(): void;
}

export interface RealCluster {
  cd: Containerd;
  cluster: Cluster;
  net: PodNetwork;
  /** Prints the cluster's and containerd's logs (call when a test failed). */
  dumpLogs(): void;
  stop(): Promise<void>;
}

/** Why real clusters cannot run here, or undefined when they can. */
export function realClusterUnavailable(): string | undefined {
  const why = missingPrerequisite();
  if (why) return why;
  if (!existsSync(process.env.BUSYBOX ?? '/bin/busybox')) return 'busybox-static is missing (apt-get install busybox-static), the test images are built from it';
  return undefined;
}

const CLAIMS = '/tmp/ordinal-e2e-networks';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Claims a free bridge name, pod /24 and service /24 (ordt<N>, 10.244.<100+N>.0/24, 10.112.<N>.0/24) for this process. */
export function claimPodNetwork(): PodNetwork {
  mkdirSync(CLAIMS, { recursive: true });
  for (let n = 1; n <= 100; n++) {
    const dir = join(CLAIMS, String(n));
    try {
      mkdirSync(dir);
    } catch {
      // Taken, unless its owner is gone. No pid file yet: another test is claiming it this very
      // moment (between its mkdir and its write), unless that was long ago and it died.
      let owner = 0;
      try {
        owner = Number(readFileSync(join(dir, 'pid'), 'utf8').trim() || 0) || 0;
      } catch {
        if (Date.now() - statSync(dir).mtimeMs < 60_000) continue;
      }
      if (owner && alive(owner)) continue;
      rmSync(dir, { recursive: true, force: true });
      try {
        mkdirSync(dir);
      } catch {
        continue;
      }
    }
    writeFileSync(join(dir, 'pid'), String(process.pid));
    return {
      bridge: `ordt${n}`,
      cidr: `10.244.${100 + n}.0/24`,
      gateway: `10.244.${100 + n}.1`,
      serviceCIDR: `10.112.${n}.0/24`,
      release: () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  throw new Error(`no free test pod network under ${CLAIMS}`);
}

export async function startRealCluster(opts: { images?: BuiltImage[]; args?: string[] } = {}): Promise<RealCluster> {
  const net = claimPodNetwork();
  let cd: Containerd | undefined;
  try {
    cd = await startContainerd({});
    const dir = join(cd.dir, 'images');
    mkdirSync(dir);
    writeFileSync(join(dir, 'all.oci.tar'), ociArchive(opts.images ?? standardImages()));
    await importImage(cd.socket, join(dir, 'all.oci.tar'));
    const cluster = await startCluster({
      args: ['--runtime', 'containerd', '--containerd-socket', cd.socket, '--pod-cidr', net.cidr, '--bridge', net.bridge, '--service-cluster-ip-range', net.serviceCIDR, ...(opts.args ?? [])],
    });
    const containerd = cd;
    return {
      cd: containerd,
      cluster,
      net,
      dumpLogs: () => {
        console.log(cluster.logs().slice(-6000));
        console.log(containerd.log().slice(-3000));
      },
      stop: () => stopRealCluster(containerd, cluster, net),
    };
  } catch (err) {
    await cd?.stop().catch(() => {});
    await deleteBridge(net.bridge);
    net.release();
    throw err;
  }
}

async function stopRealCluster(cd: Containerd, cluster: Cluster, net: PodNetwork): Promise<void> {
  await kubectl(cluster, ['get', 'pods', '-o', 'wide']).then((r) => console.log(r.stdout)).catch(() => {});
  await stopCluster(cluster);
  // Pods outlive the agent. Sandboxes go through CRI so CNI releases their veths and network
  // namespaces (containerd's own stop only kills tasks).
  const cri = new CriClient(cd.socket);
  for (const s of await cri.listPodSandbox().catch(() => [])) {
    await cri.stopPodSandbox(s.id).catch((e) => console.log(`cleanup: ${e.message}`));
    await cri.removePodSandbox(s.id).catch((e) => console.log(`cleanup: ${e.message}`));
  }
  cri.close();
  await cd.stop();
  await deleteBridge(net.bridge);
  net.release();
  // Volumes were written by root inside containers; the data dir goes after containerd has let go of it.
  await run('rm', ['-rf', cluster.dataDir]);
  removeCluster(cluster);
}
