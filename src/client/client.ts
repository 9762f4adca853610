// The API client components use. Components only talk through this interface, so each could run
// in its own process against any Kubernetes API server; inside `ordinal up` the in-process
// implementation calls the API server's registry directly (same defaulting, validation,
// admission and storage path as HTTP), skipping only the encoding and the network.
import type { Obj, RequestUser, ResourceDef } from '../api/resource.ts';
import { requireResource } from '../apiserver/request.ts';
import type { ResourceStore, DeleteOptions } from '../apiserver/resource-store.ts';
import { indexedLookup, makeFilter, watchTrigger } from '../apiserver/filter.ts';
import { bucketFor } from '../apiserver/resource-store.ts';
import { ApiError } from '../apiserver/errors.ts';
import { eventForSelection } from '../apiserver/watch.ts';
import type { CacheEvent } from '../storage/cache.ts';
import { createTokenRequest } from '../apiserver/serviceaccount-token.ts';
import { authorizeOrThrow, IN_PROCESS_USER, type Attributes } from '../apiserver/authorization/index.ts';
import { reviewStatus } from '../apiserver/authorization/review-api.ts';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface WatchOptions extends ListOptions {
  /** Changes after this revision are delivered. */
  resourceVersion: string;
}

export interface Client {
  resource(group: string, plural: string): ResourceDef;
  get(r: ResourceDef, namespace: string | undefined, name: string): Promise<Obj>;
  list(r: ResourceDef, opts?: ListOptions): Promise<{ items: Obj[]; resourceVersion: string }>;
  /** onClose receives an error with code 410 when the revision is too old: relist then. */
  watch(r: ResourceDef, opts: WatchOptions, onEvent: (type: EventType, obj: Obj) => void, onClose: (err?: ApiError) => void): () => void;
  create(r: ResourceDef, namespace: string | undefined, obj: Obj): Promise<Obj>;
  update(r: ResourceDef, obj: Obj, subresource?: 'status' | 'finalize' | 'approval'): Promise<Obj>;
  patch(r: ResourceDef, namespace: string | undefined, name: string, patchType: PatchType, patch: unknown, subresource?: 'status'): Promise<Obj>;
  delete(r: ResourceDef, namespace: string | undefined, name: string, opts?: DeleteOptions): Promise<void>;
  /** POST pods/<name>/binding: assigns an unassigned pod to a node; `uid` is a precondition. */
  bind(namespace: string, name: string, nodeName: string, uid?: string): Promise<void>;
  /** POST serviceaccounts/<name>/token: a TokenRequest answered with status.token. */
  createToken(namespace: string, name: string, request: Obj): Promise<Obj>;
  /** POST a SubjectAccessReview with this spec; answers its status ({ allowed, reason, ... }). */
  subjectAccessReview(spec: Obj): Promise<Obj>;
  /** The client this one lists and watches through, when it only routes those calls to another (informers on both then share one cache). */
  informerSource?(): Client;
}

export type PatchType = 'application/json-patch+json' | 'application/merge-patch+json' | 'application/strategic-merge-patch+json';

export class InProcessClient implements Client {
  private readonly rs: ResourceStore;
  private readonly user?: RequestUser;
  /** Who this client acts as: every call is authorized for it, as the same request over HTTP would be. */
  readonly identity: RequestUser;

  /**
   * `user` is who this client acts as (and whose writes a kind records, such as a CSR's requester);
   * without one, the in-process components' identity in system:masters (IN_PROCESS_USER).
   */
  constructor(rs: ResourceStore, opts: { user?: RequestUser } = {}) {
    this.rs = rs;
    this.user = opts.user;
    this.identity = opts.user ?? IN_PROCESS_USER;
  }

  /** The same attributes the HTTP path derives for this call (authorization/attributes.ts). */
  private authorize(verb: string, r: ResourceDef, namespace: string | undefined, name = '', subresource = '', selectors?: ListOptions): void {
    const authz = this.rs.authorizer;
    // system:masters is allowed everything: skip building attributes on the hot path.
    if (!authz || this.identity.groups.includes('system:masters')) return;
    const a: Attributes = { user: this.identity, verb, resourceRequest: true, path: '', namespace: namespace ?? '', apiGroup: r.group, apiVersion: r.version, resource: r.plural, subresource, name };
    if (selectors?.fieldSelector) a.fieldSelector = selectors.fieldSelector;
    if (selectors?.labelSelector) a.labelSelector = selectors.labelSelector;
    authorizeOrThrow(authz, a);
  }

  resource(group: string, plural: string): ResourceDef {
    return requireResource(group, plural);
  }

  async get(r: ResourceDef, namespace: string | undefined, name: string): Promise<Obj> {
    this.authorize('get', r, namespace, name);
    return this.rs.get(r, namespace, name);
  }

  async list(r: ResourceDef, opts: ListOptions = {}): Promise<{ items: Obj[]; resourceVersion: string }> {
    this.authorize('list', r, opts.namespace, nameFromSelector(opts.fieldSelector), '', opts);
    const filter = makeFilter(r, opts.labelSelector, opts.fieldSelector);
    // A node's agent lists its own pods (spec.nodeName=<node>): the index has them, where a scan
    // would judge every pod in the cluster, once per node (10,000 pods, 100 nodes: 1,000,000 at a restart).
    const candidates = indexedLookup(this.rs, r, opts.namespace, opts.fieldSelector) ?? this.rs.list(r, opts.namespace);
    const items = candidates.map((c) => c.obj).filter(filter);
    return { items, resourceVersion: String(this.rs.cache.revision()) };
  }

  watch(r: ResourceDef, opts: WatchOptions, onEvent: (type: EventType, obj: Obj) => void, onClose: (err?: ApiError) => void): () => void {
    try {
      this.authorize('watch', r, opts.namespace, nameFromSelector(opts.fieldSelector), '', opts);
    } catch (err) {
      queueMicrotask(() => onClose(err as ApiError));
      return () => {};
    }
    const cache = this.rs.cache;
    const filter = makeFilter(r, opts.labelSelector, opts.fieldSelector);
    const prefix = opts.namespace !== undefined && r.namespaced ? `${bucketFor(r)}${opts.namespace}/` : bucketFor(r);
    const from = Number(opts.resourceVersion);
    const history = cache.eventsSince(from, prefix);
    if (!history) {
      queueMicrotask(() => onClose(new ApiError(410, 'Expired', `too old resource version: ${from}`)));
      return () => {};
    }
    let stopped = false;
    const deliver = (e: CacheEvent) => {
      if (stopped || !e.key.startsWith(prefix)) return;
      const type = eventForSelection(e, filter);
      if (type) onEvent(type, e.obj);
    };
    // Deliver asynchronously, as a network watch would: handlers never run inside the writer's call stack.
    // The queue holds the events themselves: a closure per event and watcher was garbage by the thousand.
    let pending: CacheEvent[] = [];
    let scheduled = false;
    const flush = () => {
      scheduled = false;
      const batch = pending;
      pending = [];
      for (const e of batch) deliver(e);
    };
    const enqueue = (e: CacheEvent) => {
      pending.push(e);
      if (!scheduled) {
        scheduled = true;
        queueMicrotask(flush);
      }
    };
    for (const e of history) enqueue(e);
    const unsubscribe = cache.subscribe(bucketFor(r), enqueue, watchTrigger(this.rs, r, opts.fieldSelector));
    return () => {
      stopped = true;
      unsubscribe();
    };
  }

  async create(r: ResourceDef, namespace: string | undefined, obj: Obj): Promise<Obj> {
    this.authorize('create', r, r.namespaced ? (namespace ?? obj.metadata?.namespace) : undefined);
    return this.rs.create(r, namespace, obj, { fieldValidation: 'Ignore', typed: true, user: this.user });
  }

  async update(r: ResourceDef, obj: Obj, subresource?: 'status' | 'finalize' | 'approval'): Promise<Obj> {
    this.authorize('update', r, obj.metadata?.namespace, obj.metadata?.name, subresource);
    if (subresource === 'finalize') return this.rs.finalizeNamespace(r, obj.metadata.name, obj.spec?.finalizers ?? []);
    return this.rs.update(r, obj.metadata.namespace, obj.metadata.name, obj, { fieldValidation: 'Ignore', typed: true, user: this.user }, subresource);
  }

  async patch(r: ResourceDef, namespace: string | undefined, name: string, patchType: PatchType, patch: unknown, subresource?: 'status'): Promise<Obj> {
    this.authorize('patch', r, namespace, name, subresource);
    return this.rs.patch(r, namespace, name, patchType, patch, { fieldValidation: 'Ignore', typed: true, user: this.user }, subresource);
  }

  async delete(r: ResourceDef, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<void> {
    this.authorize('delete', r, namespace, name);
    await this.rs.delete(r, namespace, name, this.user ? { ...opts, user: this.user } : opts);
  }

  // The same checks and effect as the HTTP pods/binding handler.
  async bind(namespace: string, name: string, nodeName: string, uid?: string): Promise<void> {
    const pods = this.resource('', 'pods');
    this.authorize('create', pods, namespace, name, 'binding');
    await this.rs.bind(pods, namespace, name, nodeName, uid);
  }

  async createToken(namespace: string, name: string, request: Obj): Promise<Obj> {
    const sas = this.resource('', 'serviceaccounts');
    this.authorize('create', sas, namespace, name, 'token');
    if (this.user) this.rs.runWriteChecks({ operation: 'create', kind: sas.kind, group: '', subresource: 'token', name, namespace, obj: request, user: this.user });
    // Reads the request without changing it, so the caller's object needs no copy.
    return createTokenRequest(this.rs, namespace, name, request);
  }

  async subjectAccessReview(spec: Obj): Promise<Obj> {
    const authz = this.rs.authorizer;
    if (!authz) return { allowed: true, reason: 'no authorizer' };
    if (!this.identity.groups.includes('system:masters')) {
      authorizeOrThrow(authz, { user: this.identity, verb: 'create', resourceRequest: true, path: '', namespace: '', apiGroup: 'authorization.k8s.io', apiVersion: 'v1', resource: 'subjectaccessreviews', subresource: '', name: '' });
    }
    return reviewStatus(authz, spec);
  }
}

/** A list or watch pinned to one name by `metadata.name=<x>` is authorized as on that name, as upstream does. */
function nameFromSelector(sel: string | undefined): string {
  const m = sel ? /(?:^|,)\s*metadata\.name\s*==?\s*([^,]*)/.exec(sel) : null;
  return m ? m[1]!.trim() : '';
}
