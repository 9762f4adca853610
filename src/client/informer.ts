// A list+watch cache of one resource, as client-go's shared informer: handlers hear every change,
// and after a broken or expired watch it re-lists and reports the differences, so a controller
// built on it is level-triggered and survives anything the watch misses.
import type { Obj, ResourceDef } from '../api/resource.ts';
import type { Client, ListOptions } from './client.ts';
import { log } from '../util/log.ts';

export interface Handlers {
  add?(obj: Obj): void;
  update?(oldObj: Obj, newObj: Obj): void;
  delete?(obj: Obj): void;
}

/**
 * Keys of objects seen, one string per object version however many informers hold it: in-process
 * informers share the watch cache's objects, and a fresh key string in each would cost more than
 * the map entry itself.
 */
const keys = new WeakMap<Obj, string>();

export const objectKey = (obj: Obj): string => {
  const known = keys.get(obj);
  if (known !== undefined) return known;
  const k: string = obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name;
  keys.set(obj, k);
  return k;
};

export class Informer {
  readonly resource: ResourceDef;
  private readonly client: Client;
  private readonly opts: ListOptions;
  /**
   * Objects by namespace ('' for cluster-scoped), then name: lookups take the caller's strings as
   * they are (no key to build and hash on each call, which showed up in profiles of controllers
   * that look up thousands of objects per sync), and a namespace is listed without a scan.
   */
  private readonly items = new Map<string, Map<string, Obj>>();
  private readonly handlers: Handlers[] = [];
  private stopWatch: (() => void) | null = null;
  private stopped = false;
  private synced = false;
  private readonly syncWaiters: (() => void)[] = [];

  constructor(client: Client, resource: ResourceDef, opts: ListOptions = {}) {
    this.client = client;
    this.resource = resource;
    this.opts = opts;
  }

  on(h: Handlers): void {
    this.handlers.push(h);
  }

  get(namespace: string | undefined, name: string): Obj | undefined {
    return this.items.get(namespace || '')?.get(name);
  }

  list(namespace?: string): Obj[] {
    if (namespace === undefined || namespace === '') {
      const all: Obj[] = [];
      for (const bucket of this.items.values()) for (const o of bucket.values()) all.push(o);
      return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
    }
    const bucket = this.items.get(namespace);
    return bucket ? [...bucket.values()] : [];
  }

  hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  async start(): Promise<void> {
    await this.relist();
  }

  stop(): void {
    this.stopped = true;
    this.stopWatch?.();
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    let listed;
    try {
      listed = await this.client.list(this.resource, this.opts);
    } catch (err) {
      log('warn', 'informer', 'list failed, retrying', { resource: this.resource.plural, error: String(err) });
      setTimeout(() => void this.relist(), 1000);
      return;
    }
    const seen = new Set<string>();
    for (const obj of listed.items) {
      const key = objectKey(obj);
      seen.add(key);
      this.apply('ADDED', obj);
    }
    for (const obj of this.list()) if (!seen.has(objectKey(obj))) this.apply('DELETED', obj);
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
    this.stopWatch = this.client.watch(
      this.resource,
      { ...this.opts, resourceVersion: listed.resourceVersion },
      (type, obj) => this.apply(type, obj),
      () => {
        this.stopWatch = null;
        if (!this.stopped) setTimeout(() => void this.relist(), 0);
      },
    );
  }

  private apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: Obj): void {
    const ns: string = obj.metadata.namespace || '';
    const name: string = obj.metadata.name;
    let bucket = this.items.get(ns);
    const old = bucket?.get(name);
    if (type === 'DELETED') {
      if (!old) return;
      bucket!.delete(name);
      if (!bucket!.size) this.items.delete(ns);
      for (const h of this.handlers) h.delete?.(obj);
      return;
    }
    if (old && old.metadata.resourceVersion === obj.metadata.resourceVersion) return;
    if (!bucket) this.items.set(ns, (bucket = new Map()));
    bucket.set(name, obj);
    for (const h of this.handlers) {
      if (old) h.update?.(old, obj);
      else h.add?.(obj);
    }
  }
}
