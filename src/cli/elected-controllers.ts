// Controllers that run only while their process leads, as kube-controller-manager and kube-scheduler
// run theirs: the scheduler under the kube-scheduler Lease, every other controller under the
// kube-controller-manager Lease, each with its own election (one process may lead one and not the
// other). A fresh set of controllers starts at each term, on clients fenced when the term ends
// (term-client.ts): they keep nothing in memory that matters (levels, not edges), so a new term
// starts from what the API says, and nothing of a lost term writes after it.
import type { Client } from '../client/client.ts';
import { LeaderElector } from '../client/leaderelection/elector.ts';
import { TermClient } from '../client/leaderelection/term-client.ts';
import { log } from '../util/log.ts';
import type { Component } from './components.ts';
import type { LeaderElectFlags } from './leader-elect-flags.ts';

/** What happens when a leader cannot renew in time: exit the process (upstream) or stop and campaign again. */
export type OnLost = 'exit' | 'campaign';

/**
 * Wraps a client for the term being started: once the term ends, its writes are refused and its
 * watches closed (term-client.ts says why that makes campaigning again safe).
 */
export type Fence = (client: Client) => Client;

interface Election {
  lease: string;
  /** The events' source, as each upstream binary's recorder names it. */
  eventSource: string;
  /** kube-scheduler releases its lease when it stops; kube-controller-manager lets it expire. */
  releaseOnCancel: boolean;
  names: string[];
}

/** How a leader-elected process splits its controllers over the two Leases. */
export function elections(names: string[]): Election[] {
  const controllers = names.filter((n) => n !== 'scheduler');
  const out: Election[] = [];
  if (controllers.length) out.push({ lease: 'kube-controller-manager', eventSource: 'kube-controller-manager', releaseOnCancel: false, names: controllers });
  if (names.includes('scheduler')) out.push({ lease: 'kube-scheduler', eventSource: 'default-scheduler', releaseOnCancel: true, names: ['scheduler'] });
  return out;
}

/** One Component per election; each starts its controllers when it leads and stops them when it no longer does. */
export function electedControllers(client: Client, names: string[], make: (name: string, fence: Fence) => Component, flags: LeaderElectFlags, onLost: OnLost): Component[] {
  return elections(names).map((e) => new ElectedGroup(client, e, make, flags, onLost));
}

class ElectedGroup implements Component {
  private readonly client: Client;
  private readonly election: Election;
  private readonly make: (name: string, fence: Fence) => Component;
  private readonly flags: LeaderElectFlags;
  private readonly onLost: OnLost;
  private elector: LeaderElector | undefined;
  private running: Component[] = [];
  /** The fenced clients of the current term. */
  private terms: TermClient[] = [];
  private stopped = false;

  constructor(client: Client, election: Election, make: (name: string, fence: Fence) => Component, flags: LeaderElectFlags, onLost: OnLost) {
    this.client = client;
    this.election = election;
    this.make = make;
    this.flags = flags;
    this.onLost = onLost;
  }

  async start(): Promise<void> {
    this.campaign();
  }

  stop(): void {
    this.stopped = true;
    void this.elector?.stop();
    this.stopControllers();
  }

  private campaign(): void {
    if (this.stopped) return;
    const e = this.election;
    this.elector = new LeaderElector(this.client, {
      namespace: this.flags.namespace,
      name: e.lease,
      identity: this.flags.identity,
      leaseDurationMs: this.flags.leaseDurationMs,
      renewDeadlineMs: this.flags.renewDeadlineMs,
      retryPeriodMs: this.flags.retryPeriodMs,
      eventSource: e.eventSource,
      releaseOnCancel: e.releaseOnCancel,
      onStartedLeading: async () => {
        log('info', 'leaderelection', `started leading ${e.lease}: starting ${e.names.join(', ')}`, { identity: this.flags.identity });
        const terms: TermClient[] = [];
        const fence: Fence = (c) => {
          const t = new TermClient(c);
          terms.push(t);
          return t;
        };
        const made = e.names.map((n) => this.make(n, fence));
        this.terms = terms;
        this.running = made;
        await Promise.all(made.map((c) => c.start()));
      },
      onStoppedLeading: () => {
        this.stopControllers();
        if (this.stopped) return;
        if (this.onLost === 'exit') {
          // kube-controller-manager and kube-scheduler exit here (klog.Fatalf "leaderelection lost");
          // their supervisor starts a fresh process, which campaigns again.
          log('error', 'leaderelection', 'leaderelection lost', { lease: e.lease, identity: this.flags.identity });
          process.exit(1);
        }
        log('warn', 'leaderelection', `lost ${e.lease}: controllers stopped, campaigning again`, { identity: this.flags.identity });
        this.campaign();
      },
    });
    this.elector.start();
  }

  /** Fences the term first, so that nothing of it writes while its controllers wind down. */
  private stopControllers(): void {
    for (const t of this.terms.splice(0)) t.end();
    for (const c of this.running.splice(0)) c.stop();
  }
}
