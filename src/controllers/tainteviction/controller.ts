// kube-controller-manager's taint eviction controller ("taint-eviction-controller"): pods on a node
// with NoExecute taints they do not tolerate are deleted at once; those tolerating them for
// tolerationSeconds are deleted once that time has passed since the controller saw the taint;
// pending deletions are cancelled when the taints go. Deletion is a plain graceful DELETE, after a
// DisruptionTarget condition says why, so the pod stays Terminating until its node confirms.
import type { Obj } from '../../api/resource.ts';
import type { Client } from '../../client/client.ts';
import { Informer, objectKey } from '../../client/informer.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import { EventRecorder } from '../../client/events.ts';
import { ApiError } from '../../apiserver/errors.ts';
import { log } from '../../util/log.ts';
import { evictionDecision, noExecuteTaints } from './tolerations.ts';

export const TAINT_EVICTION_CONTROLLER = 'taint-eviction-controller';

interface Work {
  createdAtMs: number;
  fireAtMs: number;
  /** Undefined once the deletion was done: kept so the same pod is not deleted again. */
  timer: NodeJS.Timeout | undefined;
}

const sameTaints = (a: Obj[], b: Obj[]): boolean => JSON.stringify(a) === JSON.stringify(b);

export class TaintEvictionController {
  private readonly client: Client;
  private readonly nodes: Informer;
  private readonly pods: Informer;
  private readonly events: EventRecorder;
  private readonly nodeQueue: WorkQueue;
  private readonly podQueue: WorkQueue;
  private readonly tainted = new Map<string, Obj[]>();
  private readonly work = new Map<string, Work>();
  private readonly now: () => number;

  constructor(client: Client, now: () => number = Date.now) {
    this.client = client;
    this.now = now;
    this.nodes = new Informer(client, client.resource('', 'nodes'));
    this.pods = new Informer(client, client.resource('', 'pods'));
    this.events = new EventRecorder(client, TAINT_EVICTION_CONTROLLER);
    this.nodeQueue = new WorkQueue((name) => this.handleNode(name), 2);
    this.podQueue = new WorkQueue((key) => this.handlePod(key), 2);
    this.nodes.on({
      add: (n) => this.nodeQueue.add(n.metadata.name),
      update: (o, n) => !sameTaints(noExecuteTaints(o), noExecuteTaints(n)) && this.nodeQueue.add(n.metadata.name),
      delete: (n) => this.nodeQueue.add(n.metadata.name),
    });
    this.pods.on({
      add: (p) => p.spec?.nodeName && this.podQueue.add(objectKey(p)),
      update: (o, p) => (p.spec?.nodeName !== o.spec?.nodeName || JSON.stringify(p.spec?.tolerations) !== JSON.stringify(o.spec?.tolerations)) && this.podQueue.add(objectKey(p)),
      delete: (p) => this.podQueue.add(objectKey(p)),
    });
  }

  async start(): Promise<void> {
    await this.pods.start();
    await this.nodes.start();
  }

  stop(): void {
    this.nodes.stop();
    this.pods.stop();
    this.nodeQueue.stop();
    this.podQueue.stop();
    for (const w of this.work.values()) clearTimeout(w.timer);
  }

  private async handleNode(name: string): Promise<void> {
    const node = this.nodes.get(undefined, name);
    const taints = noExecuteTaints(node);
    if (taints.length === 0) this.tainted.delete(name);
    else this.tainted.set(name, taints);
    const pods = this.pods.list().filter((p) => p.spec?.nodeName === name);
    const now = this.now();
    for (const pod of pods) this.processPodOnNode(pod, taints, now);
  }

  private async handlePod(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const pod = this.pods.get(namespace, name);
    if (!pod) return this.cancel(namespace, name);
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) return;
    const taints = this.tainted.get(nodeName);
    // No entry: the node has no NoExecute taints, and whatever was pending was cancelled with them.
    if (!taints) return;
    this.processPodOnNode(pod, taints, this.now());
  }

  private processPodOnNode(pod: Obj, taints: Obj[], now: number): void {
    const { namespace, name } = pod.metadata;
    const d = evictionDecision(taints, pod.spec?.tolerations);
    if (d.kind === 'cancel') return this.cancel(namespace, name);
    if (d.kind === 'now') {
      log('info', 'taint-eviction', 'not all taints are tolerated: deleting pod now', { pod: `${namespace}/${name}`, node: pod.spec?.nodeName });
      this.cancel(namespace, name);
      return this.schedule(namespace, name, now, now);
    }
    // A deletion already scheduled keeps its time (it was counted from when the taint was first seen).
    if (this.work.has(`${namespace}/${name}`)) return;
    this.schedule(namespace, name, now, now + d.ms);
  }

  private schedule(namespace: string, name: string, createdAtMs: number, fireAtMs: number): void {
    const key = `${namespace}/${name}`;
    if (this.work.has(key)) return;
    const w: Work = { createdAtMs, fireAtMs, timer: undefined };
    w.timer = setTimeout(() => void this.fire(key, w), Math.max(0, fireAtMs - this.now()));
    this.work.set(key, w);
  }

  /** Cancels a pending deletion; the event says so only when one was still to come. */
  private cancel(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    const w = this.work.get(key);
    if (!w) return;
    this.work.delete(key);
    if (w.timer) {
      clearTimeout(w.timer);
      this.events.event(podRef(namespace, name), 'Normal', 'TaintManagerEviction', `Cancelling deletion of Pod ${key}`);
    }
  }

  private async fire(key: string, w: Work): Promise<void> {
    if (this.work.get(key) !== w) return;
    const [namespace, name] = key.split('/');
    log('info', 'taint-eviction', 'deleting pod', { controller: TAINT_EVICTION_CONTROLLER, pod: key });
    this.events.event(podRef(namespace, name), 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${key}`);
    let error: unknown;
    for (let i = 0; i < 5; i++) {
      try {
        await this.conditionAndDelete(namespace, name);
        error = undefined;
        break;
      } catch (err) {
        error = err;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    if (this.work.get(key) !== w) return;
    if (error === undefined) w.timer = undefined;
    else {
      // Failed: forgotten, so the next change of the pod or node schedules it again.
      this.work.delete(key);
      log('warn', 'taint-eviction', 'pod deletion failed', { pod: key, error: String(error) });
    }
  }

  private async conditionAndDelete(namespace: string, name: string): Promise<void> {
    const pods = this.pods.resource;
    let pod: Obj;
    try {
      pod = await this.client.get(pods, namespace, name);
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return;
      throw err;
    }
    const conditions: Obj[] = pod.status?.conditions ?? [];
    const existing = conditions.find((c) => c.type === 'DisruptionTarget');
    const wanted = { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint' };
    if (!existing || existing.status !== wanted.status || existing.reason !== wanted.reason || existing.message !== wanted.message) {
      const condition = { ...wanted, lastProbeTime: null, lastTransitionTime: existing?.status === 'True' ? existing.lastTransitionTime : new Date(this.now()).toISOString().replace(/\.\d+Z$/, 'Z') };
      await this.client.patch(pods, namespace, name, 'application/strategic-merge-patch+json', { metadata: { uid: pod.metadata.uid }, status: { conditions: [condition] } }, 'status');
    }
    // Empty options: the pod's own grace period, so it stays Terminating until its node confirms.
    await this.client.delete(pods, namespace, name, {}).catch((err) => {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    });
  }

  /** Pending deletions, for tests: pod key → when it fires (ms). */
  pending(): Map<string, number> {
    return new Map([...this.work].filter(([, w]) => w.timer).map(([k, w]) => [k, w.fireAtMs]));
  }
}

const podRef = (namespace: string, name: string): Obj => ({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace, name } });
