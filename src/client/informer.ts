// A list+watch cache of one resource, as client-go's shared informer: handlers hear every change,
// and after a broken or expired watch it re-lists and reports the differences, so a controller
// built on it is level-triggered and survives anything the watch misses.
//
// Informers of one resource, with the same selectors, on the same client (or on clients that list
// and watch through the same one: informerSource) share one list, one watch and one map, as
// kube-controller-manager's controllers share one informer factory: at 10,000 pods a dozen
// controllers each holding and updating their own map of every pod cost a dozen watch deliveries
// and map updates per change. Each Informer keeps its own handlers, start and stop.
import type { Obj, ResourceDef } from '../api/resource.ts';
import type { Client, ListOptions } from './client.ts';
import { log } from '../util/log.ts';

export interface Handlers {
  add?(obj: Obj): void;
  update?(oldObj: Obj, newObj: Obj): void;
  delete?(obj: Obj): void;
}

/**
 * An object's `namespace/name` (its name when cluster-scoped). Made afresh at each call: a table
 * of keys by object version (a WeakMap, once) cost four times as much, since nearly every call is
 * about a version never seen before (a store write makes a new object), and held an ephemeron for
 * every live object for the garbage collector to trace. A map that already holds the key keeps its
 * first string, so long-lived maps hold one string per entry either way.
 */
export const objectKey = (obj: Obj): string => (obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name);

/** The client whose lists and watches `client` makes: itself, unless it only routes them to another. */
export function informerSource(client: Client): Client {
  const source = client.informerSource?.();
  return source && source !== client ? informerSource(source) : client;
}

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One list+watch and its map, fanned out to the Informers started on it. */
class SharedCache {
  private readonly client: Client;
  private readonly resource: ResourceDef;
  private readonly opts: ListOptions;
  private readonly release: () => void;
  /**
   * Objects by namespace ('' for cluster-scoped), then name: lookups take the caller's strings as
   * they are (no key to build and hash on each call, which showed up in profiles of controllers
   * that look up thousands of objects per sync), and a namespace is listed without a scan.
   */
  readonly items = new Map<string, Map<string, Obj>>();
  /**
   * The informers started on this cache, in start order: they hear each change in that order.
   * Replaced, never changed in place, when one joins or leaves: a delivery walks the array it
   * started with (a handler may stop its informer, or start one, midway) without copying it for
   * every change.
   */
  private users: readonly Informer[] = [];
  private stopWatch: (() => void) | null = null;
  private stopped = false;
  synced = false;
  private started: Promise<void> | undefined;

  constructor(client: Client, resource: ResourceDef, opts: ListOptions, release: () => void) {
    this.client = client;
    this.resource = resource;
    this.opts = opts;
    this.release = release;
  }

  /** Adds a user; its handlers first hear every object already held as added, as client-go's late AddEventHandler. */
  join(user: Informer): Promise<void> {
    this.users = [...this.users, user];
    for (const bucket of this.items.values()) for (const o of bucket.values()) user.deliver('ADDED', undefined, o);
    this.started ??= this.relist();
    return this.started;
  }

  leave(user: Informer): void {
    this.users = this.users.filter((u) => u !== user);
    if (this.users.length || this.stopped) return;
    this.stopped = true;
    this.stopWatch?.();
    this.release();
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
    if (this.stopped) return;
    const seen = new Set<string>();
    for (const obj of listed.items) {
      seen.add(objectKey(obj));
      this.apply('ADDED', obj);
    }
    for (const bucket of [...this.items.values()]) for (const obj of [...bucket.values()]) if (!seen.has(objectKey(obj))) this.apply('DELETED', obj);
    if (!this.synced) {
      this.synced = true;
      for (const u of this.users) u.markSynced();
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

  private apply(type: EventType, obj: Obj): void {
    const ns: string = obj.metadata.namespace || '';
    const name: string = obj.metadata.name;
    let bucket = this.items.get(ns);
    const old = bucket?.get(name);
    if (type === 'DELETED') {
      if (!old) return;
      bucket!.delete(name);
      if (!bucket!.size) this.items.delete(ns);
    } else {
      if (old && old.metadata.resourceVersion === obj.metadata.resourceVersion) return;
      if (!bucket) this.items.set(ns, (bucket = new Map()));
      bucket.set(name, obj);
    }
    const users = this.users;
    for (let i = 0; i < users.length; i++) users[i]!.deliver(type, old, obj);
  }
}

/** Shared caches by source client, then resource definition, then selectors. */
const shared = new WeakMap<Client, WeakMap<ResourceDef, Map<string, SharedCache>>>();

function sharedCache(client: Client, resource: ResourceDef, opts: ListOptions): SharedCache {
  const source = informerSource(client);
  let byResource = shared.get(source);
  if (!byResource) shared.set(source, (byResource = new WeakMap()));
  let bySelection = byResource.get(resource);
  if (!bySelection) byResource.set(resource, (bySelection = new Map()));
  const selection = JSON.stringify([opts.namespace, opts.labelSelector, opts.fieldSelector]);
  let cache = bySelection.get(selection);
  if (!cache) {
    const map = bySelection;
    const made: SharedCache = new SharedCache(client, resource, opts, () => {
      if (map.get(selection) === made) map.delete(selection);
    });
    map.set(selection, (cache = made));
  }
  return cache;
}

export class Informer {
  readonly resource: ResourceDef;
  private readonly client: Client;
  private readonly opts: ListOptions;
  private readonly handlers: Handlers[] = [];
  /** The shared cache this informer reads, from its start to its stop. */
  private cache: SharedCache | undefined;
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
    return this.cache?.items.get(namespace || '')?.get(name);
  }

  list(namespace?: string): Obj[] {
    const items = this.cache?.items;
    if (!items) return [];
    if (namespace === undefined || namespace === '') {
      const all: Obj[] = [];
      for (const bucket of items.values()) for (const o of bucket.values()) all.push(o);
      return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
    }
    const bucket = items.get(namespace);
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
    if (this.stopped || this.cache) return;
    this.cache = sharedCache(this.client, this.resource, this.opts);
    const joined = this.cache.join(this);
    if (this.cache.synced) this.markSynced();
    await joined;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.cache?.leave(this);
  }

  /** @internal The shared cache's change, for this informer's handlers. */
  deliver(type: EventType, old: Obj | undefined, obj: Obj): void {
    if (this.stopped) return;
    for (const h of this.handlers) {
      if (type === 'DELETED') h.delete?.(obj);
      else if (old) h.update?.(old, obj);
      else h.add?.(obj);
    }
  }

  /** @internal */
  markSynced(): void {
    if (this.synced || this.stopped) return;
    this.synced = true;
    for (const w of this.syncWaiters.splice(0)) w();
  }
}
