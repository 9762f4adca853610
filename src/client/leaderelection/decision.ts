// The decisions of client-go's leader election over a coordination.k8s.io/v1 Lease, without effects:
// given the Lease as read (or none), what this candidate last observed of it and the local clock,
// whether to create it, take it over or renew it, or leave it to its holder.
//
// As upstream, expiry is judged by the local clock from the moment this candidate last saw the
// record *change*, never from the renewTime written by another machine: clocks may disagree, but
// they run at about the same rate.
import type { Obj } from '../../api/resource.ts';

/** client-go's JitterFactor: the acquire loop waits retryPeriod * (1 + rand * 1.2) between tries. */
export const JITTER_FACTOR = 1.2;

export interface ElectionTimes {
  /** How long non-leaders wait after they last saw the record change before they take it over. */
  leaseDurationMs: number;
  /** How long the leader keeps retrying a renewal before it gives up leading. */
  renewDeadlineMs: number;
  /** How long candidates wait between tries. */
  retryPeriodMs: number;
}

/** kube-controller-manager's and kube-scheduler's defaults (--leader-elect-*). */
export const DEFAULT_ELECTION_TIMES: ElectionTimes = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

/** The checks client-go's NewLeaderElector makes, with its messages; throws on the first that fails. */
export function validateElectionTimes(t: ElectionTimes): void {
  if (t.leaseDurationMs <= t.renewDeadlineMs) throw new Error('leaseDuration must be greater than renewDeadline');
  if (t.renewDeadlineMs <= JITTER_FACTOR * t.retryPeriodMs) throw new Error(`renewDeadline must be greater than retryPeriod*JitterFactor`);
  if (t.leaseDurationMs < 1) throw new Error('leaseDuration must be greater than zero');
  if (t.renewDeadlineMs < 1) throw new Error('renewDeadline must be greater than zero');
  if (t.retryPeriodMs < 1) throw new Error('retryPeriod must be greater than zero');
}

/** client-go's LeaderElectionRecord, as a Lease's spec carries it. */
export interface LeaderRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime?: string;
  renewTime?: string;
  leaderTransitions: number;
}

/** What a candidate remembers between tries. */
export interface Observation {
  /** The record last read or written; undefined before the first read. */
  record?: LeaderRecord;
  /** Its serialized form, to notice any change (a renewal changes renewTime). */
  raw?: string;
  /** Local clock (ms) when the record was last seen to change. */
  atMs: number;
}

export const NO_OBSERVATION: Observation = { atMs: 0 };

export type Decision =
  /** No Lease: create it, holding it. */
  | { action: 'create'; record: LeaderRecord }
  /** Write the record over the Lease as read (renewal, or taking over an expired or released lease). */
  | { action: 'update'; record: LeaderRecord; renewal: boolean }
  /** Another candidate holds an unexpired lease: try again later. */
  | { action: 'wait'; holder: string; expiresAtMs: number };

/** RFC 3339 with microseconds, as metav1.MicroTime serializes. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function recordFromLease(lease: Obj): LeaderRecord {
  const s = lease.spec ?? {};
  const r: LeaderRecord = {
    holderIdentity: s.holderIdentity ?? '',
    leaseDurationSeconds: s.leaseDurationSeconds ?? 0,
    leaderTransitions: s.leaseTransitions ?? 0,
  };
  if (s.acquireTime) r.acquireTime = s.acquireTime;
  if (s.renewTime) r.renewTime = s.renewTime;
  return r;
}

/** The Lease spec for a record (client-go's LeaderElectionRecordToLeaseSpec). */
export function leaseSpec(r: LeaderRecord): Obj {
  const spec: Obj = { holderIdentity: r.holderIdentity, leaseDurationSeconds: r.leaseDurationSeconds, leaseTransitions: r.leaderTransitions };
  if (r.acquireTime) spec.acquireTime = r.acquireTime;
  if (r.renewTime) spec.renewTime = r.renewTime;
  return spec;
}

function serialize(r: LeaderRecord): string {
  return JSON.stringify([r.holderIdentity, r.leaseDurationSeconds, r.acquireTime ?? '', r.renewTime ?? '', r.leaderTransitions]);
}

/**
 * Notes what was read. A record that differs from the last one observed restarts the expiry clock
 * (client-go's observedRawRecord / observedTime); the same record leaves it running.
 */
export function observe(prev: Observation, record: LeaderRecord, nowMs: number): Observation {
  const raw = serialize(record);
  if (raw === prev.raw) return prev;
  return { record, raw, atMs: nowMs };
}

/** After a successful write the candidate has observed its own record, now. */
export function wrote(record: LeaderRecord, nowMs: number): Observation {
  return { record, raw: serialize(record), atMs: nowMs };
}

/**
 * tryAcquireOrRenew's decision. `lease` is the Lease as just read (undefined when it does not exist);
 * `observed` must already include it (see observe).
 */
export function decide(identity: string, lease: Obj | undefined, observed: Observation, nowMs: number, times: ElectionTimes): Decision {
  const now = microTime(nowMs);
  const leaseDurationSeconds = Math.round(times.leaseDurationMs / 1000);
  if (!lease) {
    return { action: 'create', record: { holderIdentity: identity, leaseDurationSeconds, acquireTime: now, renewTime: now, leaderTransitions: 0 } };
  }
  const old = recordFromLease(lease);
  const mine = old.holderIdentity === identity;
  // Expiry counts the holder's own lease duration (it may run with other flags), from when the
  // record last changed in this candidate's eyes.
  const expiresAtMs = observed.atMs + old.leaseDurationSeconds * 1000;
  if (old.holderIdentity !== '' && !mine && expiresAtMs > nowMs) return { action: 'wait', holder: old.holderIdentity, expiresAtMs };
  if (mine) {
    return { action: 'update', renewal: true, record: { holderIdentity: identity, leaseDurationSeconds, acquireTime: old.acquireTime ?? now, renewTime: now, leaderTransitions: old.leaderTransitions } };
  }
  // Taken over from an expired holder, or a released lease (empty holder): one more transition.
  return { action: 'update', renewal: false, record: { holderIdentity: identity, leaseDurationSeconds, acquireTime: now, renewTime: now, leaderTransitions: old.leaderTransitions + 1 } };
}

/**
 * The record a leader writes to step down cleanly (client-go's release, with ReleaseOnCancel): no
 * holder and a one-second duration, so that the next candidate takes over at its next try.
 */
export function releasedRecord(observed: LeaderRecord, nowMs: number): LeaderRecord {
  const now = microTime(nowMs);
  return { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaderTransitions: observed.leaderTransitions };
}

/**
 * Whether the leader has to give up: client-go's renew loop starts a round of retries retryPeriod
 * after each successful renewal and gives up when the round has lasted renewDeadline.
 */
export function renewalExpired(lastRenewMs: number, nowMs: number, times: ElectionTimes): boolean {
  return nowMs - lastRenewMs >= times.retryPeriodMs + times.renewDeadlineMs;
}

/** The wait before the next try while not leading: wait.JitterUntil's retryPeriod * (1 + rand * JitterFactor). */
export function acquireDelay(times: ElectionTimes, random: number): number {
  return times.retryPeriodMs * (1 + random * JITTER_FACTOR);
}
