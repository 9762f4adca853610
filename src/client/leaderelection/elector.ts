// The effects of leader election (client-go's LeaderElector over a LeaseLock): read the Lease, act
// on decision.ts's verdict, keep trying every retryPeriod, and tell the owner when leading starts
// and stops. Events "<identity> became leader" / "<identity> stopped leading" (reason
// LeaderElection) go on the Lease, as upstream's LeaseLock records them.
import type { Obj } from '../../api/resource.ts';
import type { Client } from '../client.ts';
import { ApiError } from '../../apiserver/errors.ts';
import { EventRecorder } from '../events.ts';
import { log } from '../../util/log.ts';
import { acquireDelay, decide, leaseSpec, NO_OBSERVATION, observe, recordFromLease, releasedRecord, renewalExpired, validateElectionTimes, wrote, type ElectionTimes, type Observation } from './decision.ts';

export interface ElectorOptions extends ElectionTimes {
  /** The Lease: --leader-elect-resource-namespace / --leader-elect-resource-name. */
  namespace: string;
  name: string;
  /** `<hostname>_<uuid>`, unique per process. */
  identity: string;
  /** The component recorded as the events' source (kube-controller-manager, default-scheduler). */
  eventSource: string;
  /** Step down by clearing the holder when stopped (client-go's ReleaseOnCancel). */
  releaseOnCancel?: boolean;
  onStartedLeading: () => void | Promise<void>;
  /** Leadership ended: the renew deadline passed, or stop() was called while leading. */
  onStoppedLeading: () => void;
  /** Another identity leads (or this one, again); called when the observed holder changes. */
  onNewLeader?: (identity: string) => void;
  now?: () => number;
  random?: () => number;
}

const LEASES = ['coordination.k8s.io', 'leases'] as const;

export class LeaderElector {
  private readonly client: Client;
  private readonly opts: ElectorOptions;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly events: EventRecorder;
  private observed: Observation = NO_OBSERVATION;
  private lastLease: Obj | undefined;
  private reportedLeader = '';
  private leading = false;
  private lastRenewMs = 0;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private deadline: NodeJS.Timeout | undefined;

  constructor(client: Client, opts: ElectorOptions) {
    validateElectionTimes(opts);
    this.client = client;
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.events = new EventRecorder(client, opts.eventSource);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** The holder last observed ('' before any). */
  get leader(): string {
    return this.observed.record?.holderIdentity ?? '';
  }

  /** Starts campaigning; returns at once. */
  start(): void {
    log('info', 'leaderelection', `attempting to acquire leader lease ${this.opts.namespace}/${this.opts.name}...`, { identity: this.opts.identity });
    this.schedule(0);
  }

  /** Stops trying; a leader stops leading (and, with releaseOnCancel, clears the holder). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.deadline);
    if (!this.leading) return;
    this.leading = false;
    if (this.opts.releaseOnCancel) await this.release().catch((err) => log('warn', 'leaderelection', 'failed to release lock', { error: String(err) }));
    this.opts.onStoppedLeading();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    let ok = false;
    try {
      ok = await this.tryAcquireOrRenew();
    } catch (err) {
      log(this.leading ? 'warn' : 'debug', 'leaderelection', `error retrieving resource lock ${this.opts.namespace}/${this.opts.name}`, { error: String((err as Error).message ?? err) });
    }
    if (this.stopped) return;
    if (!this.leading) {
      if (ok) {
        this.becameLeader();
        this.schedule(this.opts.retryPeriodMs);
      } else this.schedule(acquireDelay(this.opts, this.random()));
      return;
    }
    if (ok) this.armDeadline();
    else if (renewalExpired(this.lastRenewMs, this.now(), this.opts)) return this.lost();
    this.schedule(this.opts.retryPeriodMs);
  }

  /** Resolves true when this candidate holds the lease after the call. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const r = this.client.resource(...LEASES);
    let lease: Obj | undefined;
    try {
      lease = await this.client.get(r, this.opts.namespace, this.opts.name);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
    if (this.stopped) return false;
    const now = this.now();
    if (lease) this.observed = observe(this.observed, recordFromLease(lease), now);
    this.lastLease = lease;
    this.noteLeader();
    const d = decide(this.opts.identity, lease, this.observed, now, this.opts);
    if (d.action === 'wait') return false;
    let written: Obj;
    try {
      if (d.action === 'create') {
        written = await this.client.create(r, this.opts.namespace, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.opts.name, namespace: this.opts.namespace }, spec: leaseSpec(d.record) });
      } else {
        written = await this.client.update(r, { ...lease!, spec: leaseSpec(d.record) });
      }
    } catch (err) {
      // Another candidate wrote first (409 AlreadyExists or Conflict): not ours this time.
      if (err instanceof ApiError && err.code === 409) return false;
      throw err;
    }
    if (this.stopped && !this.leading) return false;
    this.lastLease = written;
    this.observed = wrote(d.record, this.now());
    this.lastRenewMs = now;
    this.noteLeader();
    return true;
  }

  private noteLeader(): void {
    const holder = this.observed.record?.holderIdentity ?? '';
    if (holder === '' || holder === this.reportedLeader) return;
    this.reportedLeader = holder;
    if (holder !== this.opts.identity) log('info', 'leaderelection', 'new leader elected', { lease: `${this.opts.namespace}/${this.opts.name}`, leader: holder });
    this.opts.onNewLeader?.(holder);
  }

  private becameLeader(): void {
    this.leading = true;
    log('info', 'leaderelection', `successfully acquired lease ${this.opts.namespace}/${this.opts.name}`, { identity: this.opts.identity });
    this.recordEvent('became leader');
    this.armDeadline();
    void Promise.resolve()
      .then(() => this.opts.onStartedLeading())
      .catch((err) => {
        log('error', 'leaderelection', 'starting to lead failed', { error: String(err) });
        void this.stop();
      });
  }

  /**
   * A renewal request may hang (a server that accepts but never answers): the deadline fires on its
   * own then, as client-go's renew context times out whatever the request is doing.
   */
  private armDeadline(): void {
    clearTimeout(this.deadline);
    const left = this.lastRenewMs + this.opts.retryPeriodMs + this.opts.renewDeadlineMs - this.now();
    this.deadline = setTimeout(() => {
      if (this.leading && !this.stopped && renewalExpired(this.lastRenewMs, this.now(), this.opts)) this.lost();
    }, Math.max(0, left));
  }

  private lost(): void {
    if (!this.leading) return;
    this.leading = false;
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.deadline);
    log('error', 'leaderelection', `failed to renew lease ${this.opts.namespace}/${this.opts.name}: timed out waiting for the condition`, { identity: this.opts.identity });
    this.recordEvent('stopped leading');
    this.opts.onStoppedLeading();
  }

  private async release(): Promise<void> {
    const lease = this.lastLease;
    if (!lease || this.observed.record?.holderIdentity !== this.opts.identity) return;
    const record = releasedRecord(this.observed.record, this.now());
    await this.client.update(this.client.resource(...LEASES), { ...lease, spec: leaseSpec(record) });
    this.recordEvent('stopped leading');
  }

  private recordEvent(what: string): void {
    const lease = this.lastLease;
    if (!lease?.metadata?.uid) return;
    this.events.event({ ...lease, apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' }, 'Normal', 'LeaderElection', `${this.opts.identity} ${what}`);
  }
}
