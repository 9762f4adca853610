// Records core/v1 Events about objects, as upstream's event recorder: repeated events with the
// same reason and message on the same object are folded into one with a growing count.
import type { Obj } from '../api/resource.ts';
import type { Client } from './client.ts';
import { nowTimestamp } from '../apiserver/resource-store.ts';
import { ApiError } from '../apiserver/errors.ts';
import { log } from '../util/log.ts';

export type EventType = 'Normal' | 'Warning';

export class EventRecorder {
  private readonly client: Client;
  private readonly component: string;
  private readonly host: string | undefined;
  /** Recent events by what makes them "the same", to count repeats instead of creating new ones. */
  private readonly recent = new Map<string, { name: string; namespace: string; count: number; first: string }>();

  constructor(client: Client, component: string, host?: string) {
    this.client = client;
    this.component = component;
    this.host = host;
  }

  /** Fire and forget: an event that cannot be recorded never fails the caller's work. */
  event(obj: Obj, type: EventType, reason: string, message: string): void {
    void this.record(obj, type, reason, message).catch((err) => log('debug', 'events', 'could not record event', { reason, error: String(err) }));
  }

  private async record(obj: Obj, type: EventType, reason: string, message: string): Promise<void> {
    const r = this.client.resource('', 'events');
    const namespace = obj.metadata.namespace || 'default';
    const involvedObject = {
      kind: obj.kind,
      namespace: obj.metadata.namespace,
      name: obj.metadata.name,
      uid: obj.metadata.uid,
      apiVersion: obj.apiVersion,
      resourceVersion: obj.metadata.resourceVersion,
    };
    const key = [obj.metadata.uid, type, reason, message].join('\u0000');
    const now = nowTimestamp();
    const seen = this.recent.get(key);
    if (seen) {
      seen.count++;
      try {
        await this.client.patch(r, seen.namespace, seen.name, 'application/merge-patch+json', { count: seen.count, lastTimestamp: now });
        return;
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
        this.recent.delete(key);
      }
    }
    const name = `${obj.metadata.name}.${(Date.now() * 1000 + Math.floor(Math.random() * 1000)).toString(16)}`;
    const source: Obj = { component: this.component };
    if (this.host) source.host = this.host;
    await this.client.create(r, namespace, {
      metadata: { name, namespace },
      involvedObject,
      reason,
      message,
      source,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      type,
      reportingComponent: this.component,
      reportingInstance: this.host ?? '',
    });
    this.recent.set(key, { name, namespace, count: 1, first: now });
    if (this.recent.size > 4096) this.recent.delete(this.recent.keys().next().value!);
  }
}
