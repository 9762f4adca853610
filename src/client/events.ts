// Records core/v1 Events about objects, as upstream's event recorder: an EventCorrelator
// (event-correlator.ts) folds repeats into a growing count, aggregates events that differ only by
// message and drops a source's spam about one object; what remains is written here.
import type { Obj } from '../api/resource.ts';
import type { Client } from './client.ts';
import { nowTimestamp } from '../apiserver/resource-store.ts';
import { ApiError } from '../apiserver/errors.ts';
import { log } from '../util/log.ts';
import { EventCorrelator, type EventDraft } from './event-correlator.ts';

export type EventType = 'Normal' | 'Warning';

let lastStamp = 0;

/**
 * Upstream names an event `<object>.<unix nanoseconds in hex>`; here microseconds, a random
 * sub-millisecond part keeping two processes' names apart. Within a process the stamps only grow:
 * events list in name order, and `kubectl describe` keeps that order among events of the same
 * second, so a kubelet's Pulled, Created, Started must not come out shuffled, as a random part
 * alone left events made within one millisecond.
 */
export function eventName(objectName: string, nowMs: number): string {
  lastStamp = Math.max(lastStamp + 1, nowMs * 1000 + Math.floor(Math.random() * 1000));
  return `${objectName}.${lastStamp.toString(16)}`;
}

export class EventRecorder {
  private readonly client: Client;
  private readonly component: string;
  private readonly host: string | undefined;
  private readonly correlator: EventCorrelator;
  /** Writes to one event in order: a count patch must not overtake the create it follows. */
  private readonly pending = new Map<string, Promise<void>>();

  constructor(client: Client, component: string, host?: string, correlator?: EventCorrelator) {
    this.client = client;
    this.component = component;
    this.host = host;
    this.correlator = correlator ?? new EventCorrelator({ newName: eventName });
  }

  /** Fire and forget: an event that cannot be recorded never fails the caller's work. */
  event(obj: Obj, type: EventType, reason: string, message: string): void {
    const source: EventDraft['source'] = { component: this.component };
    if (this.host) source.host = this.host;
    const involvedObject = {
      kind: obj.kind,
      namespace: obj.metadata.namespace,
      name: obj.metadata.name,
      uid: obj.metadata.uid,
      apiVersion: obj.apiVersion,
      resourceVersion: obj.metadata.resourceVersion,
    };
    const draft: EventDraft = { type, reason, message, source, involvedObject, reportingController: this.component, reportingInstance: this.host ?? '' };
    const c = this.correlator.correlate(draft);
    if (c.skip) return;
    const namespace = obj.metadata.namespace || 'default';
    const write = async () => {
      const now = nowTimestamp();
      if (c.patch) {
        try {
          await this.client.patch(this.client.resource('', 'events'), namespace, c.name, 'application/merge-patch+json', { count: c.count, lastTimestamp: now, message: c.message });
          return;
        } catch (err) {
          // Gone (expired by its TTL, or deleted): recreated with its count, as upstream does.
          if (!(err instanceof ApiError && err.code === 404)) throw err;
        }
      }
      await this.client.create(this.client.resource('', 'events'), namespace, {
        metadata: { name: c.name, namespace },
        involvedObject,
        reason,
        message: c.message,
        source,
        firstTimestamp: c.patch ? nowTimestamp(c.first) : now,
        lastTimestamp: now,
        count: c.count,
        type,
        reportingComponent: this.component,
        reportingInstance: this.host ?? '',
      });
    };
    const before = this.pending.get(c.name);
    const done = (before ? before.catch(() => {}).then(write) : write())
      .catch((err) => log('debug', 'events', 'could not record event', { reason, error: String(err) }))
      .finally(() => {
        if (this.pending.get(c.name) === done) this.pending.delete(c.name);
      });
    this.pending.set(c.name, done);
  }
}
