// The container runtime as the node agent sees it. Shaped after the CRI (containerd) runtime
// service: a pod gets a sandbox (its network namespace and IP), containers are created in the
// sandbox, started, stopped and removed, and their state is read back. The simulated runtime
// implements it with timers; the CRI runtime will implement it with gRPC calls to containerd.
import type { Duplex } from 'node:stream';
import type { Obj } from '../../api/resource.ts';
import type { ExecOptions, StreamOptions, StreamSession } from '../../streaming/types.ts';

export type ContainerStateName = 'created' | 'running' | 'exited' | 'unknown';

export interface RuntimeContainerStatus {
  id: string;
  state: ContainerStateName;
  /** Set once exited. */
  exitCode?: number;
  /** e.g. Completed, Error, OOMKilled (upstream derives the reason from the exit when the runtime gives none). */
  reason?: string;
  message?: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** The image reference the container runs (digest form where the runtime knows it). */
  imageRef?: string;
  /** Where the runtime writes the container's output, in the CRI log format (runtimes without output leave it out). */
  logPath?: string;
}

export interface SandboxInfo {
  sandboxId: string;
  ip: string;
}

export interface SandboxSummary extends SandboxInfo {
  podUid: string;
  namespace: string;
  name: string;
  state: 'ready' | 'notready';
}

export interface ContainerSummary {
  id: string;
  sandboxId: string;
  /** The container's name in the pod spec. */
  name: string;
  /** How many times this container was restarted before this instance (CRI's attempt). */
  attempt: number;
  state: ContainerStateName;
}

/** Something changed in the runtime (a container exited, a stop finished): the agent re-syncs that pod. */
export interface RuntimeEvent {
  podUid: string;
  containerId?: string;
}

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

/** What pullImage did, for the kubelet's image events. */
export interface ImagePullResult {
  /** The image reference (digest form where known). */
  imageRef: string;
  /** Set when the image was fetched from a registry rather than found on the node: the pull's duration and the image's size. */
  pulled?: { durationMs: number; sizeBytes: number };
}
export type ProbeKind = 'readiness' | 'liveness' | 'startup';

/** One probe run, as upstream's probers report it: the verdict and the text events show. */
export interface RuntimeProbeResult {
  ok: boolean;
  /**
   * On failure what upstream puts after "Liveness probe failed: " (e.g. "HTTP probe failed with
   * statuscode: 500", "dial tcp 10.0.0.5:81: connect: connection refused", an exec probe's output).
   */
  output?: string;
  /**
   * The probe could not be run at all (a named port the container does not have, no handler):
   * upstream reports "errored and resulted in unknown state" and keeps the previous result.
   */
  error?: boolean;
}

/** What running a lifecycle hook's exec or httpGet handler came to. */
export interface RuntimeHookResult {
  ok: boolean;
  /** On failure, the error as upstream's handler runner words it (e.g. "command 'sh -c exit 3' exited with 3: ", `Get "http://...": dial tcp ...`). */
  error?: string;
  /** An exec handler's combined output (stdout then stderr). */
  output?: string;
}

export interface Runtime {
  /** The runtime's name and version, reported as the node's containerRuntimeVersion (`<name>://<version>`). */
  readonly name: string;
  readonly version: string;

  /** Node-level configuration the runtime needs, as CRI's UpdateRuntimeConfig (the pod CIDR for pod networking). */
  updateRuntimeConfig(config: { podCIDR?: string }): Promise<void>;

  runPodSandbox(pod: Obj): Promise<SandboxInfo>;
  stopPodSandbox(sandboxId: string): Promise<void>;
  removePodSandbox(sandboxId: string): Promise<void>;
  /** All sandboxes, or those of one pod (CRI filters by the pod UID label). */
  listPodSandboxes(filter?: { podUid?: string }): Promise<SandboxSummary[]>;
  /**
   * Whether every sandbox the runtime holds belongs to a pod `handled` accepts, answered from the
   * runtime's own index without listing (runtimes that keep one in memory: the simulated one).
   * Housekeeping asks it first, so a node whose sandboxes all have workers costs nothing.
   */
  allSandboxesOf?(handled: (podUid: string) => boolean): boolean;

  /**
   * Makes the image present as the pull policy asks. `onPulling` is called just before a registry
   * is contacted (or would be), so the caller can record "Pulling" ahead of the pull's outcome.
   */
  pullImage(image: string, policy: PullPolicy, onPulling?: () => void): Promise<ImagePullResult>;
  createContainer(sandboxId: string, pod: Obj, container: Obj, attempt: number): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** Resolves when the container has exited: on its own within the grace period, or killed after it. */
  stopContainer(id: string, graceSeconds: number): Promise<void>;
  removeContainer(id: string): Promise<void>;
  containerStatus(id: string): Promise<RuntimeContainerStatus>;
  listContainers(filter?: { sandboxId?: string }): Promise<ContainerSummary[]>;

  /**
   * Runs a probe of a running container once, within the probe's timeoutSeconds. `probe` is the
   * spec's probe, or undefined when the container defines none (runtimes answer ok then; the
   * simulated one lets tests say otherwise). A plain boolean is still accepted from runtimes that
   * have nothing to say beyond success.
   */
  probe(pod: Obj, container: Obj, containerId: string, kind: ProbeKind, probe: Obj | undefined): Promise<RuntimeProbeResult | boolean>;

  /**
   * What probe() would answer at once for the readiness of a container that defines no readiness
   * probe, without a promise: asked on every sync of every running container. Runtimes without it
   * are asked through probe().
   */
  readyWithoutProbe?(pod: Obj): boolean;

  /**
   * Runs a lifecycle hook's exec or httpGet handler once and waits for it, with no time limit of
   * its own (the kubelet gives hooks none; `signal` says the caller stopped waiting). `pod` has the
   * pod IP in status.podIP. Sleep handlers never get here: the agent times them itself.
   */
  runHook?(pod: Obj, container: Obj, containerId: string, kind: 'postStart' | 'preStop', handler: Obj, signal: AbortSignal): Promise<RuntimeHookResult>;

  /** Runs a command in a running container (CRI Exec). Runtimes without real processes leave it out. */
  exec?(containerId: string, opts: ExecOptions): Promise<StreamSession>;
  /** Attaches to a running container's main process (CRI Attach). */
  attach?(containerId: string, opts: StreamOptions): Promise<StreamSession>;
  /** One TCP connection to `port` on the loopback of the sandbox's network namespace (CRI PortForward). */
  portForward?(sandboxId: string, port: number): Promise<Duplex>;

  /** The pod is gone from the API: its container logs go too (kept until then for `kubectl logs` of finished pods). */
  removePodLogs?(pod: { namespace: string; name: string; uid: string }): void;

  /** Subscribe to runtime events; returns the unsubscribe function. */
  subscribe(listener: (e: RuntimeEvent) => void): () => void;

  /** The agent passes every new version of a pod it runs (the simulated runtime reads test hooks from it). */
  podUpdated?(pod: Obj): void;

  /**
   * For runtimes whose state does not outlive the agent (the simulated one): rebuild a running
   * pod's sandbox and containers from the status the agent reported before it restarted.
   * Returns false when the pod cannot be restored (it is then started afresh).
   */
  restorePod?(pod: Obj): Promise<boolean>;

  /** Releases the runtime's resources (timers, connections); running pods are not stopped. */
  close?(): void;
}
