// Resource arithmetic for scheduling: what a pod requests and what a node can still give, in plain
// numbers (milli-CPU, bytes) so filtering thousands of pods stays cheap.
import type { Obj } from '../api/resource.ts';
import { parseQuantity } from '../api/validation/quantity.ts';

export interface Resources {
  /** milli-CPU */
  cpu: number;
  /** bytes */
  memory: number;
  'ephemeral-storage': number;
}

export const emptyResources = (): Resources => ({ cpu: 0, memory: 0, 'ephemeral-storage': 0 });

/** A quantity as a number of `unit`s (1000 for milli-units), rounded up as upstream's MilliValue/Value. */
export function quantityValue(v: unknown, milli = false): number {
  if (typeof v !== 'string') return parseValue(v, milli);
  // Pods of one workload repeat the same few quantities ("100m", "1Gi"): parsing (BigInt arithmetic)
  // costs far more than a lookup, and every new version of a pod is summed again.
  const memo = milli ? milliMemo : unitMemo;
  let n = memo.get(v);
  if (n === undefined) {
    if (memo.size >= MEMO_LIMIT) memo.clear();
    memo.set(v, (n = parseValue(v, milli)));
  }
  return n;
}

const MEMO_LIMIT = 4096;
const milliMemo = new Map<string, number>();
const unitMemo = new Map<string, number>();

function parseValue(v: unknown, milli: boolean): number {
  const q = parseQuantity(v);
  if (!q) return 0;
  const num = milli ? q.num * 1000n : q.num;
  const whole = num / q.den;
  return Number(num % q.den === 0n || num < 0n ? whole : whole + 1n);
}

const resourceNames = ['cpu', 'memory', 'ephemeral-storage'] as const;

function containerRequests(c: Obj): Resources {
  const r = emptyResources();
  // Upstream defaulting copies limits into missing requests; the scheduler sees the result.
  const req = c.resources?.requests ?? {};
  const lim = c.resources?.limits ?? {};
  for (const name of resourceNames) {
    const v = req[name] ?? lim[name];
    if (v !== undefined) r[name] = quantityValue(v, name === 'cpu');
  }
  return r;
}

/**
 * The effective request of a pod: the sum over its containers (and sidecars, which run alongside),
 * or the largest single init container if that is more, plus the pod overhead.
 */
export function podRequests(pod: Obj): Resources {
  const spec = pod.spec ?? {};
  const total = emptyResources();
  for (const c of spec.containers ?? []) add(total, containerRequests(c));
  const sidecars = emptyResources();
  const initPeak = emptyResources();
  for (const c of spec.initContainers ?? []) {
    const r = containerRequests(c);
    if (c.restartPolicy === 'Always') {
      add(sidecars, r);
      continue;
    }
    // A plain init container runs alone, next to the sidecars started before it.
    for (const name of resourceNames) initPeak[name] = Math.max(initPeak[name], r[name] + sidecars[name]);
  }
  add(total, sidecars);
  for (const name of resourceNames) total[name] = Math.max(total[name], initPeak[name]);
  for (const name of resourceNames) if (spec.overhead?.[name] !== undefined) total[name] += quantityValue(spec.overhead[name], name === 'cpu');
  return total;
}

function add(into: Resources, r: Resources): void {
  for (const name of resourceNames) into[name] += r[name];
}

export interface NodeAllocatable extends Resources {
  pods: number;
}

export function nodeAllocatable(node: Obj): NodeAllocatable {
  const a = node.status?.allocatable ?? node.status?.capacity ?? {};
  return {
    cpu: a.cpu !== undefined ? quantityValue(a.cpu, true) : 0,
    memory: a.memory !== undefined ? quantityValue(a.memory) : 0,
    'ephemeral-storage': a['ephemeral-storage'] !== undefined ? quantityValue(a['ephemeral-storage']) : 0,
    pods: a.pods !== undefined ? quantityValue(a.pods) : 0,
  };
}

// API objects are never changed in place once an informer holds them: every change is a new object.
// So what a pod requests and what a node offers can be computed once per object version and kept
// beside it, instead of parsing the same quantities again for every node of every decision.
const requestsByPod = new WeakMap<Obj, Readonly<Resources>>();
const allocatableByNode = new WeakMap<Obj, Readonly<NodeAllocatable>>();

/** podRequests, computed once per pod object. The result is shared: do not modify it. */
export function cachedPodRequests(pod: Obj): Readonly<Resources> {
  // One decision asks for the same pod once per node: the last answer is kept at hand.
  if (pod === lastPod) return lastRequests!;
  let r = requestsByPod.get(pod);
  if (!r) requestsByPod.set(pod, (r = podRequests(pod)));
  lastPod = pod;
  lastRequests = r;
  return r;
}

/** podRequests of a pod whose requests were already worked out (cachedPodRequests), else undefined: remembers nothing new. */
export function knownPodRequests(pod: Obj): Readonly<Resources> | undefined {
  return pod === lastPod ? lastRequests : requestsByPod.get(pod);
}

let lastPod: Obj | undefined;
let lastRequests: Readonly<Resources> | undefined;

/** nodeAllocatable, computed once per node object. The result is shared: do not modify it. */
export function cachedNodeAllocatable(node: Obj): Readonly<NodeAllocatable> {
  let a = allocatableByNode.get(node);
  if (!a) allocatableByNode.set(node, (a = nodeAllocatable(node)));
  return a;
}

/** Whether a pod still holds node resources: terminal pods do not. */
export const holdsResources = (pod: Obj): boolean => pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
