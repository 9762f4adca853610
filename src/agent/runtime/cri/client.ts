// A CRI v1 client (RuntimeService and ImageService) over containerd's unix socket, as the kubelet
// talks to its runtime. Unary calls only; exec/attach/port-forward answer with a URL of the
// runtime's streaming server, which is spoken to directly.
import { GrpcUnixClient } from './grpc.ts';
import { ProtoReader, ProtoWriter } from './protobuf.ts';
import {
  readContainer,
  readContainerStatus,
  readImage,
  readPodSandbox,
  readPodSandboxStatus,
  readRuntimeStatus,
  readVersion,
  writeContainerConfig,
  writePodSandboxConfig,
  writeExecRequest,
  writeAttachRequest,
  writePortForwardRequest,
  type AttachRequest,
  type ExecRequest,
  type PortForwardRequest,
  type Container,
  type ContainerConfig,
  type ContainerState,
  type ContainerStatus,
  type ExecSyncResult,
  type Image,
  type PodSandbox,
  type PodSandboxConfig,
  type PodSandboxStatus,
  type RuntimeStatus,
  type SandboxState,
  type VersionInfo,
} from './messages.ts';

const RUNTIME = '/runtime.v1.RuntimeService/';
const IMAGES = '/runtime.v1.ImageService/';
const CONTAINER_STATE_NUMBER: Record<ContainerState, number> = { created: 0, running: 1, exited: 2, unknown: 3 };

export interface CriClientOptions {
  /** Deadline of ordinary calls (default 2 minutes: creating a sandbox on a busy node can take long). */
  timeoutMs?: number;
}

export class CriClient {
  private readonly grpc: GrpcUnixClient;
  private readonly timeoutMs: number;

  constructor(socket: string, opts: CriClientOptions = {}) {
    this.grpc = new GrpcUnixClient(socket);
    this.timeoutMs = opts.timeoutMs ?? 120_000;
  }

  get socket(): string {
    return this.grpc.socket;
  }

  close(): void {
    this.grpc.close();
  }

  private async call(path: string, build: (w: ProtoWriter) => void, timeoutMs = this.timeoutMs): Promise<ProtoReader> {
    const w = new ProtoWriter();
    build(w);
    return new ProtoReader(await this.grpc.call(path, w.finish(), timeoutMs));
  }

  // ---------------------------------------------------------------------------- runtime

  async version(): Promise<VersionInfo> {
    return readVersion(await this.call(RUNTIME + 'Version', (w) => w.string(1, 'v1')));
  }

  async status(verbose = false): Promise<RuntimeStatus> {
    return readRuntimeStatus(await this.call(RUNTIME + 'Status', (w) => w.bool(1, verbose)));
  }

  async updateRuntimeConfig(podCidr: string): Promise<void> {
    await this.call(RUNTIME + 'UpdateRuntimeConfig', (w) => w.message(1, (rc) => rc.message(1, (nc) => nc.string(1, podCidr))));
  }

  // ---------------------------------------------------------------------------- sandboxes

  async runPodSandbox(config: PodSandboxConfig, runtimeHandler?: string): Promise<string> {
    const r = await this.call(RUNTIME + 'RunPodSandbox', (w) => w.message(1, (c) => writePodSandboxConfig(c, config), true).string(2, runtimeHandler));
    return r.string(1);
  }

  async stopPodSandbox(id: string): Promise<void> {
    await this.call(RUNTIME + 'StopPodSandbox', (w) => w.string(1, id));
  }

  async removePodSandbox(id: string): Promise<void> {
    await this.call(RUNTIME + 'RemovePodSandbox', (w) => w.string(1, id));
  }

  async podSandboxStatus(id: string): Promise<PodSandboxStatus> {
    return readPodSandboxStatus((await this.call(RUNTIME + 'PodSandboxStatus', (w) => w.string(1, id))).message(1));
  }

  async listPodSandbox(filter: { id?: string; state?: SandboxState; labels?: Record<string, string> } = {}): Promise<PodSandbox[]> {
    const r = await this.call(RUNTIME + 'ListPodSandbox', (w) =>
      w.message(1, (f) => {
        f.string(1, filter.id);
        if (filter.state) f.message(2, (s) => s.int(1, filter.state === 'ready' ? 0 : 1), true);
        f.map(3, filter.labels);
      }),
    );
    return r.messages(1).map(readPodSandbox);
  }

  // ---------------------------------------------------------------------------- containers

  async createContainer(sandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    const r = await this.call(RUNTIME + 'CreateContainer', (w) =>
      w
        .string(1, sandboxId)
        .message(2, (c) => writeContainerConfig(c, config), true)
        .message(3, (c) => writePodSandboxConfig(c, sandboxConfig), true),
    );
    return r.string(1);
  }

  async startContainer(id: string): Promise<void> {
    await this.call(RUNTIME + 'StartContainer', (w) => w.string(1, id));
  }

  /** Sends the stop signal, waits up to timeoutSeconds, then kills; resolves once the container has exited. */
  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    await this.call(RUNTIME + 'StopContainer', (w) => w.string(1, id).int(2, Math.max(0, Math.ceil(timeoutSeconds))), (timeoutSeconds + 60) * 1000);
  }

  async removeContainer(id: string): Promise<void> {
    await this.call(RUNTIME + 'RemoveContainer', (w) => w.string(1, id));
  }

  async containerStatus(id: string): Promise<ContainerStatus> {
    return readContainerStatus((await this.call(RUNTIME + 'ContainerStatus', (w) => w.string(1, id))).message(1));
  }

  /** The verbose ContainerStatus's info map (containerd: info.info is JSON with the main process's pid). */
  async containerInfo(id: string): Promise<Record<string, string>> {
    return (await this.call(RUNTIME + 'ContainerStatus', (w) => w.string(1, id).bool(2, true))).map(2);
  }

  async listContainers(filter: { id?: string; state?: ContainerState; podSandboxId?: string; labels?: Record<string, string> } = {}): Promise<Container[]> {
    const r = await this.call(RUNTIME + 'ListContainers', (w) =>
      w.message(1, (f) => {
        f.string(1, filter.id);
        if (filter.state) f.message(2, (s) => s.int(1, CONTAINER_STATE_NUMBER[filter.state!]), true);
        f.string(3, filter.podSandboxId);
        f.map(4, filter.labels);
      }),
    );
    return r.messages(1).map(readContainer);
  }

  /** Runs a command in a running container and collects its output (probes, tests). */
  /** timeoutSeconds 0 means none on containerd's side (lifecycle hooks); callTimeoutMs then bounds the call itself. */
  async execSync(id: string, cmd: string[], timeoutSeconds = 10, callTimeoutMs = (timeoutSeconds + 10) * 1000): Promise<ExecSyncResult> {
    const r = await this.call(RUNTIME + 'ExecSync', (w) => w.string(1, id).strings(2, cmd).int(3, timeoutSeconds), callTimeoutMs);
    return { stdout: r.bytes(1), stderr: r.bytes(2), exitCode: r.int(3) };
  }

  /** The streaming-server URL for one exec session (CRI Exec); see streaming.ts. */
  async exec(req: ExecRequest): Promise<string> {
    return (await this.call(RUNTIME + 'Exec', (w) => writeExecRequest(w, req))).string(1);
  }

  /** The streaming-server URL for attaching to a container's main process (CRI Attach). */
  async attach(req: AttachRequest): Promise<string> {
    return (await this.call(RUNTIME + 'Attach', (w) => writeAttachRequest(w, req))).string(1);
  }

  /** The streaming-server URL for forwarding ports of a sandbox (CRI PortForward). */
  async portForward(req: PortForwardRequest): Promise<string> {
    return (await this.call(RUNTIME + 'PortForward', (w) => writePortForwardRequest(w, req))).string(1);
  }

  // ---------------------------------------------------------------------------- images

  /** The image, or undefined when the runtime does not have it (CRI answers that with an empty image). */
  async imageStatus(image: string): Promise<Image | undefined> {
    const r = await this.call(IMAGES + 'ImageStatus', (w) => w.message(1, (i) => i.string(1, image), true));
    if (!r.has(1)) return undefined;
    const img = readImage(r.message(1));
    return img.id ? img : undefined;
  }

  async listImages(): Promise<Image[]> {
    return (await this.call(IMAGES + 'ListImages', () => {})).messages(1).map(readImage);
  }

  /** Pulls an image; resolves with its reference (the image id). */
  async pullImage(image: string, sandboxConfig?: PodSandboxConfig): Promise<string> {
    const r = await this.call(IMAGES + 'PullImage', (w) => {
      w.message(1, (i) => i.string(1, image), true);
      if (sandboxConfig) w.message(3, (c) => writePodSandboxConfig(c, sandboxConfig), true);
    });
    return r.string(1);
  }
}
