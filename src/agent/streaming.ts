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
import type { ContainerSummary, Runtime } from './runtime/types.ts';
import { GRPC, GrpcError } from './runtime/cri/grpc.ts';

export interface PodWorkerLookup {
  podWorker(uid: string): PodWorker | undefined;
}

/** The kubelet answers a failed lookup with a plain 500 (404 when the runtime said NotFound). */
const kubeletError = (message: string, code = 500) => new ApiError(code, code === 404 ? 'NotFound' : 'InternalError', message);

const containerNotFound = (name: string) => kubeletError(`container not found (${JSON.stringify(name)})`);
/** The kubelet's attach words it differently from its exec, naming the pod by its full name. */
const attachContainerNotFound = (name: string, pod: PodRef) => kubeletError(`container ${name} not found in pod ${pod.name}_${pod.namespace}`);

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

  /**
   * The running instance of a container, found as the kubelet's findContainer finds it: among the
   * containers the runtime reports running at the moment of the request. The pod worker's view is
   * only as fresh as its last sync, and a command that ends within milliseconds is gone long
   * before the next one; attaching to it would give an empty stream (its output was written
   * before anyone listened), where the kubelet's refusal makes `kubectl run` print the logs.
   */
  private async runningContainer(pod: PodRef, name: string, what: 'exec' | 'attach', hasCapability: boolean): Promise<string> {
    const notFound = () => (what === 'exec' ? containerNotFound(name) : attachContainerNotFound(name, pod));
    const worker = this.agent.podWorker(pod.uid);
    const view = worker?.view();
    const c = view?.containers.find((x) => x.name === name);
    if (!c?.id || c.status?.state !== 'running') throw notFound();
    if (!hasCapability) throw noProcesses(what, pod);
    let live: ContainerSummary[];
    try {
      live = view?.sandboxId ? await this.runtime.listContainers({ sandboxId: view.sandboxId }) : [];
    } catch (err) {
      throw runtimeError(err);
    }
    const running = live.find((x) => x.name === name && x.state === 'running');
    if (!running) throw notFound();
    // The full status sees through containerd's lag in recording an exit (runtime/cri/exit-lag.ts).
    const status = await this.runtime.containerStatus(running.id).catch((err: unknown) => {
      throw runtimeError(err);
    });
    if (status.state !== 'running') throw notFound();
    return running.id;
  }

  async exec(pod: PodRef, container: string, opts: ExecOptions): Promise<StreamSession> {
    const id = await this.runningContainer(pod, container, 'exec', !!this.runtime.exec);
    try {
      return await this.runtime.exec!(id, opts);
    } catch (err) {
      throw runtimeError(err);
    }
  }

  async attach(pod: PodRef, container: string, opts: StreamOptions): Promise<StreamSession> {
    const id = await this.runningContainer(pod, container, 'attach', !!this.runtime.attach);
    try {
      return await this.runtime.attach!(id, opts);
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
