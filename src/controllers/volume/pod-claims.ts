// pvc-protection's view of pods: which pods name a claim, as upstream's pvc-protection controller
// keeps its pod informer indexed by claim. Pods matter to the volume controller only while a claim
// is on its way out (a claim whose deletion waits for its last pod), which is rare; watching every
// pod of the cluster all the time for it cost one more watcher of the busiest kind and a map of
// every pod. So the pods are watched only while some claim is deleting, and for a while after the
// last one is gone (deletions come in bursts: a scale-down, a namespace), then the watch stops and
// the index is dropped. Starting again lists the pods afresh, so nothing missed meanwhile matters.
import type { Obj } from '../../api/resource.ts';
import type { Client } from '../../client/client.ts';
import { Informer } from '../../client/informer.ts';
import { claimNamesOf } from './plan.ts';

/** How long the pods stay watched after the last deleting claim is gone. */
const LINGER_MS = 30_000;

const NO_PODS: readonly Obj[] = Object.freeze([]);

export class PodsByClaim {
  private readonly client: Client;
  private readonly changed: (claimKey: string) => void;
  private readonly lingerMs: number;
  private informer: Informer | undefined;
  private synced = false;
  private waiters: ((synced: boolean) => void)[] = [];
  private lingering: NodeJS.Timeout | undefined;
  /** Pods by the key (namespace/name) of each claim their volumes name, then by pod name. */
  private readonly index = new Map<string, Map<string, Obj>>();

  /** `changed` hears the key of every claim a pod that names it was added, changed or deleted for. */
  constructor(client: Client, changed: (claimKey: string) => void, lingerMs = LINGER_MS) {
    this.client = client;
    this.changed = changed;
    this.lingerMs = lingerMs;
  }

  /** Whether pods are being watched now (for tests and metrics). */
  get watching(): boolean {
    return this.informer !== undefined;
  }

  /**
   * Pods are wanted: watches them if not yet. Resolves true once they are listed, false if the
   * watch was stopped first (then nothing can be told from the index).
   */
  want(): Promise<boolean> {
    if (this.lingering) {
      clearTimeout(this.lingering);
      this.lingering = undefined;
    }
    if (!this.informer) this.startWatch();
    if (this.synced) return Promise.resolve(true);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** No claim is deleting now: the watch ends after the linger time unless wanted again. */
  idle(): void {
    if (!this.informer || this.lingering) return;
    this.lingering = setTimeout(() => {
      this.lingering = undefined;
      this.stop();
    }, this.lingerMs);
    this.lingering.unref();
  }

  /** Whether pods are listed and watched, so that podsOf tells the truth. */
  get ready(): boolean {
    return this.synced;
  }

  /** The pods whose volumes name the claim (whatever their state); meaningful only when ready. */
  podsOf(claimKey: string): Iterable<Obj> {
    return this.index.get(claimKey)?.values() ?? NO_PODS;
  }

  stop(): void {
    if (this.lingering) clearTimeout(this.lingering);
    this.lingering = undefined;
    this.informer?.stop();
    this.informer = undefined;
    this.synced = false;
    this.index.clear();
    for (const w of this.waiters.splice(0)) w(false);
  }

  private startWatch(): void {
    const informer = new Informer(this.client, this.client.resource('', 'pods'));
    this.informer = informer;
    informer.on({
      add: (p) => this.add(p),
      update: (o, p) => {
        // A pod's volumes cannot change, but a relist may bring another pod under the same name.
        if (o.metadata.uid !== p.metadata.uid) this.remove(o);
        this.add(p);
      },
      delete: (p) => this.remove(p),
    });
    void informer.start();
    void informer.waitForSync().then(() => {
      if (this.informer !== informer) return;
      this.synced = true;
      for (const w of this.waiters.splice(0)) w(true);
    });
  }

  private add(pod: Obj): void {
    const names = claimNamesOf(pod);
    if (names.length === 0) return;
    const ns: string = pod.metadata.namespace;
    const podName: string = pod.metadata.name;
    for (const name of names) {
      const key = `${ns}/${name}`;
      let pods = this.index.get(key);
      if (!pods) this.index.set(key, (pods = new Map()));
      pods.set(podName, pod);
      this.changed(key);
    }
  }

  private remove(pod: Obj): void {
    const ns: string = pod.metadata.namespace;
    const podName: string = pod.metadata.name;
    for (const name of claimNamesOf(pod)) {
      const key = `${ns}/${name}`;
      const pods = this.index.get(key);
      if (!pods || pods.get(podName)?.metadata.uid !== pod.metadata.uid) continue;
      pods.delete(podName);
      if (pods.size === 0) this.index.delete(key);
      this.changed(key);
    }
  }
}
