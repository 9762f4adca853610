// The contract between the API server's streaming endpoints (pods/exec, attach, portforward, log)
// and the node that runs the pod. Upstream the API server proxies these to the kubelet, which asks
// the CRI runtime for a streaming URL; here the API server asks the node agent through this
// interface, so the HTTP/WebSocket/SPDY side and the runtime side stay independent.
import type { Duplex, Readable, Writable } from 'node:stream';

export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
}

export interface TerminalSize {
  width: number;
  height: number;
}

export interface StreamOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

export interface ExecOptions extends StreamOptions {
  command: string[];
}

/** A running exec or attach session, from the node's side. */
export interface StreamSession {
  /** Present when stdin was asked for; end() closes the process's stdin. */
  stdin?: Writable;
  stdout?: Readable;
  /** Absent with a TTY (stderr is merged into stdout there, as upstream). */
  stderr?: Readable;
  /** Terminal size changes (TTY sessions only). */
  resize?(size: TerminalSize): void;
  /**
   * Settles when the command has ended and its output has been delivered: with its exit code
   * (0 for success). Rejects when the session failed for another reason (the message is shown to the user).
   */
  exit: Promise<number>;
  /** The client went away: tear the session down. */
  abort(): void;
}

export interface LogOptions {
  container: string;
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  /** RFC 3339 */
  sinceTime?: string;
  limitBytes?: number;
}

/** What a node offers for the pods it runs. Errors are ApiErrors (src/apiserver/errors.ts) with upstream's codes and messages. */
export interface NodeStreaming {
  exec(pod: PodRef, container: string, opts: ExecOptions): Promise<StreamSession>;
  attach(pod: PodRef, container: string, opts: StreamOptions): Promise<StreamSession>;
  /** One TCP connection to `port` inside the pod's network namespace. */
  portForward(pod: PodRef, port: number): Promise<Duplex>;
  /** The container's log as text, ready to send (timestamps, tail, since and limit applied; follows when asked). */
  logs(pod: PodRef, opts: LogOptions): Promise<Readable>;
  /** Settles once the node can be reached (nodes in other processes); rejects with the dial error otherwise. */
  reachable?(): Promise<void>;
}

/** A v1 PodList of what a node runs (its kubelet's GET /pods). */
export type PodLister = () => Promise<Record<string, any>>;

/** Node agents register here; the API server looks nodes up by name. In-process for `ordinal up`. */
export class NodeStreamingRegistry {
  private readonly nodes = new Map<string, { streaming: NodeStreaming; listPods?: PodLister }>();

  /** `listPods` answers the node proxy's /pods for this node (without it, /pods answers an empty list). */
  register(nodeName: string, node: NodeStreaming, listPods?: PodLister): () => void {
    const entry = { streaming: node, listPods };
    this.nodes.set(nodeName, entry);
    return () => {
      if (this.nodes.get(nodeName) === entry) this.nodes.delete(nodeName);
    };
  }

  get(nodeName: string): NodeStreaming | undefined {
    return this.nodes.get(nodeName)?.streaming;
  }

  /** What the node proxy serves for an in-process node: its streams and its pod listing. */
  backend(nodeName: string): { streaming: NodeStreaming; listPods: PodLister } | undefined {
    const e = this.nodes.get(nodeName);
    if (!e) return undefined;
    return { streaming: e.streaming, listPods: e.listPods ?? (async () => ({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: [] })) };
  }
}
