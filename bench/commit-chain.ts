// Splits the OrderedReady step (pod i Ready -> pod i+1 created) into the store's commits and the
// server's own work between them, from a commit trace (src/storage/commit-trace.ts). A step is a
// chain of dependent writes: pod i's last status write (Ready), then, with a claim template,
// claim i+1 (whose create the controller awaits), then pod i+1. For each step:
//   readyToFirst  pod i's Ready committed -> the step's first write sent (claim, or pod if no claim)
//   claimCommit   the claim's commit round trip (sent to the writer thread -> answered)
//   claimToPod    claim committed -> pod i+1 sent (the batches committed between are counted)
//   podCommit     pod i+1's commit round trip
//   total         pod i's Ready committed -> pod i+1 committed
// The commit round trips hold the disk's fsync and the hand-offs between threads; the rest is
// the main thread delivering the change and the controller acting on it.

/** One line of a trace: a batch's times (monotonic µs) and keys. */
export interface TracedCommit {
  sentUs: number;
  committedUs: number;
  keys: string[];
}

export function parseCommitTrace(text: string): TracedCommit[] {
  const out: TracedCommit[] = [];
  for (const line of text.split('\n')) {
    const [sent, committed, ...keys] = line.split(' ');
    if (!sent || !committed) continue;
    out.push({ sentUs: Number(sent), committedUs: Number(committed), keys });
  }
  return out;
}

export interface StepParts {
  readyToFirst: number;
  claimCommit?: number;
  claimToPod?: number;
  /** Batches committed between the claim's and the pod's. */
  between?: number;
  podCommit: number;
  total: number;
}

/** µs figures of each step i -> i+1 (i from 0) found in the trace; steps whose writes are missing are left out. */
export function stepParts(trace: readonly TracedCommit[], opts: { namespace: string; set: string; replicas: number; claimTemplate?: string }): StepParts[] {
  const podKey = (i: number) => `/registry/core/pods/${opts.namespace}/${opts.set}-${i}`;
  const claimKey = (i: number) => `/registry/core/persistentvolumeclaims/${opts.namespace}/${opts.claimTemplate}-${opts.set}-${i}`;
  const first = (key: string) => trace.findIndex((c) => c.keys.includes(key));
  const out: StepParts[] = [];
  for (let i = 0; i + 1 < opts.replicas; i++) {
    const pod = first(podKey(i + 1));
    const claim = opts.claimTemplate ? first(claimKey(i + 1)) : -1;
    if (pod < 0 || (opts.claimTemplate && (claim < 0 || claim > pod))) continue;
    const start = opts.claimTemplate ? claim : pod;
    // Pod i's Ready status: its last write answered before the step's first write left.
    let ready = -1;
    for (let j = start - 1; j >= 0; j--) {
      if (trace[j]!.keys.includes(podKey(i)) && trace[j]!.committedUs <= trace[start]!.sentUs) {
        ready = j;
        break;
      }
    }
    if (ready < 0) continue;
    const p = trace[pod]!;
    const r = trace[ready]!;
    const parts: StepParts = { readyToFirst: trace[start]!.sentUs - r.committedUs, podCommit: p.committedUs - p.sentUs, total: p.committedUs - r.committedUs };
    if (opts.claimTemplate) {
      const c = trace[claim]!;
      parts.claimCommit = c.committedUs - c.sentUs;
      parts.claimToPod = p.sentUs - c.committedUs;
      parts.between = pod - claim - 1;
    }
    out.push(parts);
  }
  return out;
}
