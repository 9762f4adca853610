// One node's books, as upstream's NodeInfo keeps them: the pods bound or assumed there and the sum
// of what they request, kept current change by change so a decision reads totals instead of walking
// every pod of every node.
//
// Bound pods are rewritten many times (every status report of their node's agent) without moving or
// changing what they request, so a re-booking of the same pod adjusts the totals only by the
// difference and rebuilds no list.
import type { Obj } from '../api/resource.ts';
import { blockingTaints, hasRequiredAntiAffinity, type NodeState } from './filters.ts';
import { cachedNodeAllocatable, holdsResources, knownPodRequests, podRequests, type NodeAllocatable, type Resources } from './resources.ts';

export type Counted = Resources & { pods: number };

/** What one booked pod adds to its node's totals: nothing once it is terminal. */
interface Booking {
  pod: Obj;
  /** The pod's requests while it holds resources, else undefined. */
  counted: Readonly<Resources> | undefined;
  anti: boolean;
}

const none: readonly Obj[] = [];

export class NodeBooks implements NodeState {
  private current: Obj;
  /**
   * Told whenever what the spread score reads may have changed (the totals, or the node object and
   * with it the allocatable), so a NodeOrder keeping these books in order can move them.
   */
  onSpreadChange: ((books: NodeBooks) => void) | undefined = undefined;
  /** The node object the two below were worked out for: every decision reads them for every node. */
  private derivedFor: Obj | undefined;
  private alloc: Readonly<NodeAllocatable> | undefined;
  private taints: readonly Obj[] | undefined;
  private readonly booked = new Map<string, Booking>();
  private antiCount = 0;
  /** Kept in place: a decision reads it synchronously and nothing holds it across changes. */
  readonly requested: Counted = { cpu: 0, memory: 0, 'ephemeral-storage': 0, pods: 0 };
  private podsCache: Obj[] | undefined;
  private antiCache: readonly Obj[] | undefined;

  constructor(node: Obj) {
    this.current = node;
  }

  get node(): Obj {
    return this.current;
  }

  set node(node: Obj) {
    this.current = node;
    this.onSpreadChange?.(this);
  }

  get allocatable(): Readonly<NodeAllocatable> {
    if (this.derivedFor !== this.node) this.derive();
    return this.alloc!;
  }

  get blockingTaints(): readonly Obj[] {
    if (this.derivedFor !== this.node) this.derive();
    return this.taints!;
  }

  private derive(): void {
    this.alloc = cachedNodeAllocatable(this.node);
    this.taints = blockingTaints(this.node);
    this.derivedFor = this.node;
  }

  /** How many pods are booked here, whether or not they still hold resources. */
  get size(): number {
    return this.booked.size;
  }

  has(uid: string): boolean {
    return this.booked.has(uid);
  }

  get pods(): readonly Obj[] {
    if (this.podsCache) return this.podsCache;
    const out: Obj[] = [];
    for (const b of this.booked.values()) out.push(b.pod);
    return (this.podsCache = out);
  }

  get withAntiAffinity(): readonly Obj[] {
    if (this.antiCache) return this.antiCache;
    if (this.antiCount === 0) return (this.antiCache = none);
    const out: Obj[] = [];
    for (const b of this.booked.values()) if (b.anti) out.push(b.pod);
    return (this.antiCache = out);
  }

  /** Books `pod` here, replacing an earlier version of it (same uid). */
  add(pod: Obj): void {
    const uid = pod.metadata.uid;
    const old = this.booked.get(uid);
    const holds = holdsResources(pod);
    if (old && old.pod.spec === pod.spec && (old.counted !== undefined || !holds)) {
      // A status report keeps the stored spec object (the store shares unchanged parts between
      // versions): what the pod requests and its anti-affinity, both read from the spec, stand.
      if (!holds && old.counted) {
        this.count(old.counted, -1);
        old.counted = undefined;
      }
      if (old.anti) this.antiCache = undefined;
      old.pod = pod;
      this.podsCache = undefined;
      return;
    }
    // Summed afresh rather than cached per object: each status report is a new version of the pod,
    // and a cache entry for every version would only grow the collector's work.
    // A pod just decided had its requests worked out by the filters: those serve.
    const counted = holds ? (knownPodRequests(pod) ?? podRequests(pod)) : undefined;
    const anti = hasRequiredAntiAffinity(pod);
    if (old) {
      this.count(old.counted, -1);
      this.count(counted, 1);
      // The list of pods with anti-affinity holds objects: it changes when this pod is or was in it.
      if (anti || old.anti) this.antiCache = undefined;
      if (old.anti !== anti) this.antiCount += anti ? 1 : -1;
      // Updating the entry in place keeps the Map's order and allocates nothing.
      old.pod = pod;
      old.counted = counted;
      old.anti = anti;
      this.podsCache = undefined;
      return;
    }
    this.booked.set(uid, { pod, counted, anti });
    this.count(counted, 1);
    if (anti) {
      this.antiCount++;
      this.antiCache = undefined;
    }
    this.podsCache = undefined;
  }

  remove(uid: string): void {
    const old = this.booked.get(uid);
    if (!old) return;
    this.booked.delete(uid);
    this.count(old.counted, -1);
    if (old.anti) {
      this.antiCount--;
      this.antiCache = undefined;
    }
    this.podsCache = undefined;
  }

  private count(r: Readonly<Resources> | undefined, sign: 1 | -1): void {
    if (!r) return;
    const t = this.requested;
    t.cpu += sign * r.cpu;
    t.memory += sign * r.memory;
    t['ephemeral-storage'] += sign * r['ephemeral-storage'];
    t.pods += sign;
    this.onSpreadChange?.(this);
  }
}
