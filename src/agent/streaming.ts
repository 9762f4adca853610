// The node side of exec, attach, port-forward and logs (NodeStreaming): find the pod's worker and
// container here, answer with the kubelet's errors when they are not there, and hand the session
// to the runtime. Upstream the kubelet does the same lookups before asking the CRI runtime for a
// streaming URL; its errors reach kubectl as the body of a failed upgrade, which kubectl shows as
// `error: unable to upgrade connection: <message>`.
import type { Duplex, Readable } from 'node:stream';
import { ApiError, badRequest } from '../apiserver/errors.ts';
import type { ExecOptions, LogOptions, NodeStreaming, PodRef, StreamOptions, StreamSession } from '../streaming/types.ts';
import { openContainerLogs } from './logs.ts';
import type { ContainerView, PodWorker } from './pod-worker.ts';
import type { Runtime } from './runtime/types.ts';
import { GRPC, GrpcError } from './runtime/cri/grpc.ts';

export interface PodWorkerLookup {
  podWorker(uid: string): PodWorker | undefined;
}

/** The kubelet answers a failed lookup with a plain 500 (404 when the runtime said NotFound). */
const kubeletError = (message: string, code = 500) => new ApiError(code, code === 404 ? 'NotFound' : 'InternalError', message);

const containerNotFound = (name: string) => kubeletError(`container not found (${JSON.stringify(name)})`);

function noProcesses(what: string, pod: PodRef): ApiError {
  return badRequest(
    `${what} is not available for pod "${pod.namespace}/${pod.name}": the simulated container runtime runs no processes (start the cluster with --runtime containerd for exec, attach and port-forward)`,
  );
}

/** Runtime failures as the kubelet reports them: gRPC NotFound as 404, anything else as 500. */
function runtimeError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof GrpcError) return kubeletError(err.message, err.code === GRPC.NOT_FOUND ? 404 : 500);
  return kubeletError(err instanceof Error ? err.message : String(err));
}

export class AgentStreaming implements NodeStreaming {
  private readonly agent: PodWorkerLookup;
  private readonly runtime: Runtime;

  constructor(agent: PodWorkerLookup, runtime: Runtime) {
    this.agent = agent;
    this.runtime = runtime;
  }

  /** The running instance of a container, as the kubelet's findContainer sees running pods only. */
  private runningContainer(pod: PodRef, name: string): string {
    const c = this.agent.podWorker(pod.uid)?.view().containers.find((x) => x.name === name);
    if (!c?.id || c.status?.state !== 'running') throw containerNotFound(name);
    return c.id;
  }

  async exec(pod: PodRef, container: string, opts: ExecOptions): Promise<StreamSession> {
    const id = this.runningContainer(pod, container);
    if (!this.runtime.exec) throw noProcesses('exec', pod);
    try {
      return await this.runtime.exec(id, opts);
    } catch (err) {
      throw runtimeError(err);
    }
  }

  async attach(pod: PodRef, container: string, opts: StreamOptions): Promise<StreamSession> {
    const id = this.runningContainer(pod, container);
    if (!this.runtime.attach) throw noProcesses('attach', pod);
    try {
      return await this.runtime.attach(id, opts);
    } catch (err) {
      throw runtimeError(err);
    }
  }

  async portForward(pod: PodRef, port: number): Promise<Duplex> {
    const sandboxId = this.agent.podWorker(pod.uid)?.view().sandboxId;
    // The kubelet names the pod by its full name, <name>_<namespace>.
    if (!sandboxId) throw kubeletError(`pod not found (${JSON.stringify(`${pod.name}_${pod.namespace}`)})`);
    if (!this.runtime.portForward) throw noProcesses('port-forward', pod);
    try {
      return await this.runtime.portForward(sandboxId, port);
    } catch (err) {
      throw runtimeError(err);
    }
  }

  async logs(pod: PodRef, opts: LogOptions): Promise<Readable> {
    const worker = this.agent.podWorker(pod.uid);
    // The kubelet's log endpoint: 404s for a pod or container it does not run.
    if (!worker) throw new ApiError(404, 'NotFound', `pod ${JSON.stringify(pod.name)} does not exist`);
    const container: ContainerView | undefined = worker.view().containers.find((c) => c.name === opts.container);
    if (!container) throw new ApiError(404, 'NotFound', `container ${JSON.stringify(opts.container)} not found in pod ${JSON.stringify(pod.name)}`);
    return openContainerLogs(container, opts, { podName: pod.name, runtime: this.runtime });
  }
}
