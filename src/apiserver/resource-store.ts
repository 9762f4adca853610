// The generic registry: create, read, update, patch and delete of any served kind with upstream's
// semantics (uids, timestamps, generation, optimistic concurrency, graceful deletion, finalizers,
// dry-run), on top of the store (writes) and the watch cache (reads). HTTP handlers and in-process
// clients both come through here, so every write takes the same validation and admission path.
import { countStoreWrite } from './write-counts.ts';
import { scalarTypeError } from './typed-decode.ts';
import { randomUUID } from 'node:crypto';
import { randomNameSuffix } from '../util/random-name.ts';
import { nowTimestamp } from '../util/timestamp.ts';
import type { Obj, RequestUser, ResourceDef } from '../api/resource.ts';
import { groupVersion } from '../api/registry.ts';
import { required as requiredErr } from '../api/field-errors.ts';
import type { Store } from '../storage/types.ts';
import { StoreError } from '../storage/types.ts';
import type { WatchCache, CachedObject } from '../storage/cache.ts';
import { cacheCopy, storedValue, storedValueOf } from '../storage/cache.ts';
import { ApiError, alreadyExists, badRequest, conflict, forbidden, invalid, notFound } from './errors.ts';
import { applyPatch } from './patching.ts';
import { futureRevision, tooLargeResourceVersion } from './list/resource-version.ts';
import { dropUnknownFields, unknownFields } from './field-validation.ts';
import { DEFAULT_SERVICE_CIDR, parseServiceCidr, type ServiceNetwork } from './service-network.ts';
import type { Authorizer, WriteAttempt } from './authorization/types.ts';
import { admitCreate, admitUpdate, DEFAULT_ADMISSION_CONFIG, validateUpdateAdmission, type AdmissionConfig } from './admission.ts';
import { cloneJson } from '../util/json.ts';
import { sameStoredJson } from '../storage/json-equal.ts';
import { releaseIps } from './ip-reservations.ts';
import { apply as applyConfig, recordUpdate, type Writer } from './fieldmanager/index.ts';

export interface WriteOptions {
  dryRun?: boolean;
  /** 'Strict' | 'Warn' | 'Ignore' */
  fieldValidation?: string;
  warnings?: string[];
  /** The requester, for kinds that record it (a CSR's spec.username and groups). */
  user?: RequestUser;
  /**
   * Who owns the fields this write sets (managedFields). Every API request names one (its
   * fieldManager, else its user agent). Writes of Ordinal's in-process components name none and are
   * not recorded: a deliberate difference from upstream, whose kube-controller-manager and kubelet
   * entries appear in managedFields. Recording them cost a third of the StatefulSet benchmark's
   * throughput and 40 % more memory (field sets computed on every status write of every pod).
   */
  fieldManager?: string;
  /** Set by apply, which computes managedFields itself. */
  managedFieldsDone?: boolean;
  /**
   * The writer is in-process code handing over objects it built, as a compiled client hands typed
   * structs: there is no request body to decode, so decoding's checks (a scalar of the wrong JSON
   * kind, unknown fields) have nothing to find in a built-in kind. They were a tenth of the CPU of
   * a StatefulSet scale-up. Custom resources are still pruned: that is their schema's semantics.
   */
  typed?: boolean;
}

export interface ApplyOptions extends WriteOptions {
  force?: boolean;
}

/** The manager of in-process components' writes, which carry no user agent to name one. */
export const IN_PROCESS_MANAGER = 'ordinal';

/** A guarded write another write beat to the store (retried, never shown to the client as such). */
class LostRace extends Error {}

function writer(r: ResourceDef, opts: WriteOptions, subresource?: string): Writer {
  return { manager: opts.fieldManager ?? IN_PROCESS_MANAGER, apiVersion: groupVersion(r), subresource };
}

export interface DeleteOptions extends WriteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface DeleteResult {
  /** True when the object is gone; false when deletion is pending (grace period or finalizers). */
  deleted: boolean;
  obj: Obj;
}

/** One string per kind: the cache's bucket maps then hash it once, not a fresh copy on every lookup. */
const buckets = new WeakMap<ResourceDef, string>();

export function bucketFor(r: ResourceDef): string {
  let b = buckets.get(r);
  if (b === undefined) buckets.set(r, (b = `/registry/${r.group || 'core'}/${r.plural}/`));
  return b;
}

const NAMESPACES_BUCKET = '/registry/core/namespaces/';
/** Namespaces' keys, for the check every namespaced create makes (a handful of namespaces, many creates). */
const namespaceKeys = new Map<string, string>();
function namespaceKey(namespace: string): string {
  let k = namespaceKeys.get(namespace);
  if (k === undefined) {
    k = `${NAMESPACES_BUCKET}${namespace}`;
    if (namespaceKeys.size < 10_000) namespaceKeys.set(namespace, k);
  }
  return k;
}

export function keyFor(r: ResourceDef, namespace: string | undefined, name: string): string {
  return r.namespaced ? `${bucketFor(r)}${namespace}/${name}` : `${bucketFor(r)}${name}`;
}

/** How long a read waits for this server's cache to reach a revision seen elsewhere (upstream: 3 s, then etcd). */
const CATCH_UP_TIMEOUT_MS = 10_000;

const qr = (r: ResourceDef) => ({ group: r.group, resource: r.plural });

const clone = <T>(v: T): T => cloneJson(v);

/** RFC 3339 with second precision, as upstream's metav1.Time serializes (src/util/timestamp.ts). */
export { nowTimestamp };

/** ObjectMeta's lists and maps are omitempty upstream: an emptied one is not stored (nor served) at all. */
function dropEmptyMetadata(meta: Obj): void {
  for (const f of ['labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields']) {
    const v = meta[f];
    if (v === null || (Array.isArray(v) && v.length === 0) || (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0)) delete meta[f];
  }
}

/**
 * Whether a write would store what is stored already (a no-op, which upstream does not write).
 * The stored value of an object the cache adopted is still known, so usually this compares two
 * strings the write needs anyway; else the objects are compared field by field.
 */
function unchanged(value: string, existing: Obj, obj: Obj): boolean {
  const stored = storedValueOf(existing);
  if (stored !== undefined) return value === stored;
  const same = sameStoredJson(obj, existing);
  if (same !== undefined) return same;
  // Shallow copies: existing is the watch cache's object, which is shared and must not be written.
  return value === JSON.stringify({ ...existing, metadata: { ...existing.metadata, resourceVersion: undefined } });
}

export class ResourceStore {
  readonly store: Store;
  readonly cache: WatchCache;
  /** Where ClusterIPs are allocated from (kube-apiserver's --service-cluster-ip-range). */
  serviceNetwork: ServiceNetwork = parseServiceCidr(DEFAULT_SERVICE_CIDR);
  /** Flags of the admission plugins (kube-apiserver's), set by the server at start. */
  admission: AdmissionConfig = { ...DEFAULT_ADMISSION_CONFIG };
  /** The authorizer chain (src/apiserver/authorization), for in-process clients and checks made while writing. */
  authorizer?: Authorizer;
  /**
   * Validating checks on writes that need the requester (RBAC escalation prevention,
   * NodeRestriction). They run after defaulting, before validation, and throw the ApiError that
   * refuses the write: main-resource creates and updates, subresource writes (status, approval,
   * and, through runWriteChecks, eviction and token) and deletes.
   */
  writeChecks: ((w: WriteAttempt) => void)[] = [];

  /** Runs every write check on a write this store does not make itself (an eviction, a TokenRequest). */
  runWriteChecks(w: WriteAttempt): void {
    for (const check of this.writeChecks) check(w);
  }

  constructor(store: Store, cache: WatchCache) {
    this.store = store;
    this.cache = cache;
  }

  /**
   * Waits until the cache holds every write the store has taken. A guarded write that lost a race
   * retries from the cache, which learns of the winning write only once it is committed: retrying
   * before that would read the same stale object again.
   */
  catchUp(): Promise<void> {
    return this.cache.waitFor(this.store.currentRevision());
  }

  /**
   * A consistent read when several servers share the store (etcd): waits until the cache holds
   * every write committed, through any server, before this call, as upstream's consistent reads
   * from the watch cache do. A no-op for a store only this process writes.
   */
  async consistentRead(): Promise<void> {
    if (!this.store.consistentRevision) return;
    const rev = await this.store.consistentRevision();
    await this.waitForRevision(rev);
  }

  /** Waits for the cache to reach rev, or fails as upstream's cache does when it cannot catch up in time. */
  async waitForRevision(rev: number, timeoutMs = CATCH_UP_TIMEOUT_MS): Promise<void> {
    if (this.cache.revision() >= rev) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
    const outcome = await Promise.race([this.cache.waitFor(rev), late]);
    clearTimeout(timer);
    if (outcome === 'late') {
      throw tooLargeResourceVersion(rev, this.cache.revision(), 1);
    }
  }

  /**
   * For a read the store serves upstream (exact, or paged): waits for the cache to reach rev when
   * the store has (another server wrote it), else fails with beyondStore's error at once (by
   * default 1.32's answer to an exact read of a future revision).
   */
  async reachRevision(rev: number, beyondStore: (storeRev: number) => ApiError = futureRevision): Promise<void> {
    if (this.cache.revision() >= rev) return;
    const storeRev = this.store.consistentRevision ? await this.store.consistentRevision() : this.store.currentRevision();
    if (rev > storeRev) throw beyondStore(storeRev);
    await this.waitForRevision(rev);
  }

  get(r: ResourceDef, namespace: string | undefined, name: string): Obj {
    const hit = this.cache.get(keyFor(r, namespace, name), bucketFor(r));
    if (!hit) throw notFound(qr(r), name);
    return hit.obj;
  }

  find(r: ResourceDef, namespace: string | undefined, name: string): Obj | undefined {
    return this.cache.get(keyFor(r, namespace, name), bucketFor(r))?.obj;
  }

  list(r: ResourceDef, namespace?: string, afterKey?: string, limit?: number): CachedObject[] {
    const bucket = bucketFor(r);
    return this.cache.list(bucket, namespace !== undefined && r.namespaced ? `${bucket}${namespace}/` : bucket, afterKey, limit);
  }

  /** How many objects list() gives without a limit. */
  countAfter(r: ResourceDef, namespace?: string, afterKey?: string): number {
    const bucket = bucketFor(r);
    return this.cache.countAfter(bucket, namespace !== undefined && r.namespaced ? `${bucket}${namespace}/` : bucket, afterKey);
  }

  async create(r: ResourceDef, namespace: string | undefined, input: Obj, opts: WriteOptions = {}): Promise<Obj> {
    let obj = clone(input);
    this.checkTypeMeta(r, obj);
    this.checkFields(r, obj, opts);
    // An older version of a built-in kind is defaulted, validated and stored in the stored version's form.
    if (r.convertIn) obj = r.convertIn(obj);
    obj.apiVersion = r.storageApiVersion ?? groupVersion(r);
    obj.kind = r.kind;
    const meta = (obj.metadata ??= {});
    if (r.namespaced) {
      if (meta.namespace && namespace && meta.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = namespace ?? meta.namespace;
      if (!meta.namespace) throw badRequest('the server could not find the requested resource');
    } else {
      delete meta.namespace;
    }
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomNameSuffix()}`;
    if (!meta.name) throw invalid(r.kind, r.group, '', [requiredErr('metadata.name', 'name or generateName is required')]);
    for (const f of ['uid', 'resourceVersion', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'selfLink']) delete meta[f];
    meta.uid = randomUUID();
    meta.creationTimestamp = nowTimestamp();
    r.strategy.default(obj);
    r.strategy.prepareForCreate(obj, { user: opts.user });
    for (const check of this.writeChecks) check({ operation: 'create', kind: r.kind, group: r.group, obj, user: opts.user });
    if (!opts.managedFieldsDone && opts.fieldManager !== undefined) recordWrite(r, undefined, obj, writer(r, opts), meta.creationTimestamp);
    dropEmptyMetadata(meta);
    const errs = r.strategy.validate(obj);
    if (errs.length) throw invalid(r.kind, r.group, meta.name, errs);
    opts.warnings?.push(...(r.strategy.warnings?.(obj) ?? []));
    if (r.namespaced) this.checkNamespaceOpen(r, meta.namespace, meta.name);
    const admitting = admitCreate(this, r, obj, opts.dryRun);
    if (admitting) await admitting;
    const key = keyFor(r, meta.namespace, meta.name);
    // A real create learns this from the store itself (below), as upstream's from etcd.
    if (opts.dryRun) {
      if (this.cache.get(key, bucketFor(r))) throw alreadyExists(qr(r), meta.name);
      return obj;
    }
    try {
      const value = storedValue(obj);
      const decoded = cacheCopy(obj);
      if (decoded && opts.typed) decoded.builtInProcess = true;
      const kv = await this.store.create(key, value, decoded);
      countStoreWrite('create', r.plural);
      // The store answers once watchers (the cache first) have the change: usually nothing to wait for.
      if (this.cache.revision() < kv.modRev) await this.cache.waitFor(kv.modRev);
      return this.cache.get(key, bucketFor(r))?.obj ?? { ...obj, metadata: { ...meta, resourceVersion: String(kv.modRev) } };
    } catch (err) {
      if (err instanceof StoreError && err.code === 'exists') throw alreadyExists(qr(r), meta.name);
      throw err;
    }
  }

  /** PUT of the main resource or of a subresource ('status'). */
  async update(r: ResourceDef, namespace: string | undefined, name: string, input: Obj, opts: WriteOptions = {}, subresource?: string): Promise<Obj> {
    const obj = statusOnly(r, opts, subresource) && isObject(input) ? statusWriteCopy(input) : clone(input);
    this.checkTypeMeta(r, obj);
    this.checkFields(r, obj, opts);
    const meta = (obj.metadata ??= {});
    if (meta.name !== undefined && meta.name !== name) {
      throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`);
    }
    if (r.namespaced && meta.namespace && namespace && meta.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    const existing = this.find(r, namespace, name);
    if (!existing) {
      if (allowCreateOnUpdate(r) && !subresource) {
        delete meta.resourceVersion;
        return this.create(r, namespace, obj, opts);
      }
      throw notFound(qr(r), name);
    }
    if (meta.resourceVersion && meta.resourceVersion !== existing.metadata.resourceVersion) throw conflict(qr(r), name);
    if (meta.resourceVersion) return this.storeConflictAsApiError(r, name, () => this.commitUpdate(r, existing, obj, opts, subresource));
    // No resourceVersion: an unconditional update, retried against the latest object as upstream does.
    for (let attempt = 0; ; attempt++) {
      const latest = attempt === 0 ? existing : this.find(r, namespace, name);
      if (!latest) throw notFound(qr(r), name);
      try {
        return await this.commitUpdate(r, latest, attempt === 0 ? obj : clone(obj), opts, subresource);
      } catch (err) {
        if (!(err instanceof StoreError && err.code === 'conflict')) throw err;
        if (attempt >= 8) throw conflict(qr(r), name);
        await this.catchUp();
      }
    }
  }

  private async storeConflictAsApiError(r: ResourceDef, name: string, write: () => Promise<Obj>): Promise<Obj> {
    try {
      return await write();
    } catch (err) {
      if (err instanceof StoreError && err.code === 'conflict') throw conflict(qr(r), name);
      throw err;
    }
  }

  /** Applies a patch to the current object and stores the result, retrying on a concurrent write. */
  async patch(r: ResourceDef, namespace: string | undefined, name: string, patchType: string, patch: unknown, opts: WriteOptions = {}, subresource?: string): Promise<Obj> {
    for (let attempt = 0; ; attempt++) {
      const existing = this.get(r, namespace, name);
      // A patch sent to an older version of a built-in kind applies to that version's view.
      const patched = applyPatch(patchType, clone(r.convertIn && r.convert ? r.convert(existing) : existing), patch, r);
      this.checkFields(r, patched, opts);
      const rv = patched.metadata?.resourceVersion;
      if (rv !== undefined && rv !== existing.metadata.resourceVersion) throw conflict(qr(r), name);
      if (patched.metadata?.name !== undefined && patched.metadata.name !== name) {
        throw badRequest(`the name of the object (${patched.metadata.name}) does not match the name on the URL (${name})`);
      }
      try {
        return await this.commitUpdate(r, existing, patched, { ...opts, fieldValidation: 'Ignore' }, subresource);
      } catch (err) {
        if (!(err instanceof StoreError && err.code === 'conflict')) throw err;
        if (attempt >= 8) throw conflict(qr(r), name);
        await this.catchUp();
      }
    }
  }

  /**
   * Server-side apply (PATCH application/apply-patch+yaml): merges the configuration into the
   * object, or creates the object from it, with field ownership (fieldmanager/). `created` tells a
   * create (201) from an update.
   */
  async apply(r: ResourceDef, namespace: string | undefined, name: string, input: unknown, opts: ApplyOptions = {}, subresource?: string): Promise<{ obj: Obj; created: boolean }> {
    if (input === null || typeof input !== 'object' || Array.isArray(input)) throw badRequest('the body of the request must be an object');
    const config = clone(input as Obj);
    this.checkTypeMeta(r, config);
    if (config.metadata?.name !== undefined && config.metadata.name !== name) {
      throw badRequest(`the name of the object (${config.metadata.name}) does not match the name on the URL (${name})`);
    }
    if (r.namespaced && config.metadata?.namespace && namespace && config.metadata.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    // An applied configuration is typed against the schema: fields it lacks are an error whatever fieldValidation says.
    const unknown = unknownFields(config, r.schema);
    if (unknown.length) {
      const gvk = `${r.group ? `${r.group}/` : '/'}${r.version}, Kind=${r.kind}`;
      const list = unknown.map((f) => `.${f.replace(/\[(\d+)\]/g, '[$1]')}: field not declared in schema`);
      throw badRequest(`failed to create typed patch object (${gvk}): ${list.length === 1 ? list[0] : `errors:\n  ${list.join('\n  ')}`}`);
    }
    const w = writer(r, opts, subresource);
    const inner: WriteOptions = { ...opts, fieldValidation: 'Ignore', managedFieldsDone: true };
    for (let attempt = 0; ; attempt++) {
      const live = this.find(r, namespace, name);
      const now = nowTimestamp();
      if (!live) {
        if (subresource) throw notFound(qr(r), name);
        const obj = applyConfig(r, undefined, config, { writer: w, force: !!opts.force, now });
        obj.metadata.name = name;
        try {
          return { obj: await this.create(r, namespace, obj, inner), created: true };
        } catch (err) {
          // Someone created it meanwhile: apply to theirs.
          if (err instanceof ApiError && err.code === 409 && err.reason === 'AlreadyExists' && attempt < 8) continue;
          throw err;
        }
      }
      const rv = config.metadata?.resourceVersion;
      if (rv !== undefined && rv !== live.metadata.resourceVersion) throw conflict(qr(r), name);
      const obj = applyConfig(r, r.convertIn && r.convert ? r.convert(live) : live, config, { writer: w, force: !!opts.force, now });
      try {
        return { obj: await this.commitUpdate(r, live, obj, inner, subresource), created: false };
      } catch (err) {
        if (!(err instanceof StoreError && err.code === 'conflict')) throw err;
        if (attempt >= 8) throw conflict(qr(r), name);
        await this.catchUp();
      }
    }
  }

  /** The shared tail of update and patch: strategy, validation, no-op detection, guarded write. */
  private async commitUpdate(r: ResourceDef, existing: Obj, obj: Obj, opts: WriteOptions, subresource?: string): Promise<Obj> {
    const name = existing.metadata.name;
    if (r.convertIn) obj = r.convertIn(obj);
    const meta = (obj.metadata ??= {});
    obj.apiVersion = r.storageApiVersion ?? groupVersion(r);
    obj.kind = r.kind;
    if (meta.uid && meta.uid !== existing.metadata.uid) {
      throw conflict(qr(r), name, `Precondition failed: UID in precondition: ${meta.uid}, UID in object meta: ${existing.metadata.uid}`);
    }
    // Fields the system owns are carried over from the stored object whatever the client sent.
    for (const f of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'namespace', 'name']) {
      if (existing.metadata[f] === undefined) delete meta[f];
      else meta[f] = existing.metadata[f];
    }
    meta.resourceVersion = existing.metadata.resourceVersion;
    if (existing.metadata.generation !== undefined) meta.generation = existing.metadata.generation;
    else delete meta.generation;
    const s = r.strategy;
    let errs;
    const sub = subresource ? s.subresources?.[subresource] : undefined;
    const subCheck = () => this.runWriteChecks({ operation: 'update', kind: r.kind, group: r.group, subresource, name, obj, old: existing, user: opts.user });
    if (sub) {
      sub.prepareForUpdate(obj, existing);
      subCheck();
      errs = sub.validateUpdate(obj, existing);
    } else if (subresource === 'status') {
      (s.prepareForStatusUpdate ?? defaultStatusPrepare)(obj, existing);
      subCheck();
      errs = (s.validateStatusUpdate ?? s.validateUpdate)(obj, existing);
    } else {
      s.default(obj);
      admitUpdate(this, r, obj);
      s.prepareForUpdate(obj, existing);
      for (const check of this.writeChecks) check({ operation: 'update', kind: r.kind, group: r.group, obj, old: existing, user: opts.user });
      errs = s.validateUpdate(obj, existing);
    }
    if (errs.length) throw invalid(r.kind, r.group, name, errs);
    if (!subresource) validateUpdateAdmission(this, r, obj, existing);
    if (!opts.managedFieldsDone && opts.fieldManager !== undefined) recordWrite(r, existing, obj, writer(r, opts, subresource), nowTimestamp());
    dropEmptyMetadata(meta);
    opts.warnings?.push(...(s.warnings?.(obj, existing) ?? []));
    if (meta.deletionTimestamp && !pendingFinalization(r, obj) && pendingFinalization(r, existing)) {
      // Removing the last finalizer of an object being deleted completes its deletion.
      if (opts.dryRun) return obj;
      await this.remove(r, existing);
      return obj;
    }
    // A converted write lists its fields in the conversion's order: put them back in the stored
    // order, or an unchanged object would not compare equal to what is stored.
    if (r.convertIn) obj = inOrderOf(obj, existing) as Obj;
    const value = storedValue(obj);
    if (unchanged(value, existing, obj)) return existing;
    if (opts.dryRun) return obj;
    const key = keyFor(r, existing.metadata.namespace, name);
    // Guarded by the version the write was made from (a cached object's resourceVersion is its modRev).
    const modRev = Number(existing.metadata.resourceVersion);
    try {
      const kv = await this.store.update(key, value, modRev, cacheCopy(obj, existing));
      countStoreWrite('update', subresource ? `${r.plural}/${subresource}` : r.plural);
      if (this.cache.revision() < kv.modRev) await this.cache.waitFor(kv.modRev);
      return this.cache.get(key, bucketFor(r))?.obj ?? obj;
    } catch (err) {
      if (err instanceof StoreError && err.code === 'notfound') throw notFound(qr(r), name);
      // A conflict stays a StoreError: callers retry it or turn it into a 409.
      throw err;
    }
  }

  /**
   * A system write that bypasses the kind's update rules, for subresources whose semantics differ
   * from a user update (binding sets spec.nodeName, which pod updates may not change).
   */
  mutate(r: ResourceDef, namespace: string | undefined, name: string, fn: (obj: Obj) => void, subresource?: string): Promise<Obj> {
    return this.replace(r, namespace, name, (cur) => {
      const obj = clone(cur);
      fn(obj);
      return obj;
    }, subresource);
  }

  /**
   * mutate's copy-on-write form. `next` builds the new object from the current (cached, shared)
   * one without changing it: it gives the new object its own top level and metadata, and shares
   * whatever it leaves alone, which the cache's copy then shares too instead of copying it again.
   */
  private async replace(r: ResourceDef, namespace: string | undefined, name: string, next: (cur: Obj) => Obj, subresource?: string): Promise<Obj> {
    const key = keyFor(r, namespace, name);
    for (let attempt = 0; ; attempt++) {
      const hit = this.cache.get(key, bucketFor(r));
      if (!hit) throw notFound(qr(r), name);
      const obj = next(hit.obj);
      const value = storedValue(obj);
      if (unchanged(value, hit.obj, obj)) return hit.obj;
      try {
        const kv = await this.store.update(key, value, hit.modRev, cacheCopy(obj, hit.obj));
        countStoreWrite('update', subresource ? `${r.plural}/${subresource}` : r.plural);
        if (this.cache.revision() < kv.modRev) await this.cache.waitFor(kv.modRev);
        return this.cache.get(key, bucketFor(r))?.obj ?? obj;
      } catch (err) {
        if (err instanceof StoreError && err.code === 'conflict' && attempt < 8) {
          await this.catchUp();
          continue;
        }
        if (err instanceof StoreError && err.code === 'notfound') throw notFound(qr(r), name);
        throw err;
      }
    }
  }

  /**
   * The pods/binding subresource: assigns an unassigned pod to a node, once. `uid` is a
   * precondition; a pod already assigned or being deleted is a 409 Conflict, as upstream.
   */
  async bind(pods: ResourceDef, namespace: string, name: string, nodeName: string, uid?: string, dryRun = false): Promise<void> {
    const gr = { group: '', resource: 'pods/binding' };
    const check = (p: Obj) => {
      if (uid && uid !== p.metadata.uid) throw conflict(gr, name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${p.metadata.uid}`);
      if (p.spec?.nodeName) throw conflict(gr, name, `pod ${name} is already assigned to node "${p.spec.nodeName}"`);
      if (p.metadata.deletionTimestamp) throw conflict(gr, name, `pod ${name} is being deleted, cannot be assigned to a host`);
    };
    check(this.get(pods, namespace, name));
    if (dryRun) return;
    // Only spec.nodeName and the PodScheduled condition change: the rest of the pod (containers,
    // volumes, other conditions) is shared with the cached one rather than copied twice.
    await this.replace(pods, namespace, name, (p) => {
      check(p);
      const status = p.status ?? {};
      const conditions = (status.conditions ?? []).filter((c: Obj) => c.type !== 'PodScheduled');
      return {
        ...p,
        metadata: { ...p.metadata },
        spec: { ...p.spec, nodeName },
        status: { ...status, conditions: [...conditions, { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: nowTimestamp() }] },
      };
    }, 'binding');
  }

  /** The namespace finalize subresource: replace spec.finalizers, and complete a pending deletion. */
  async finalizeNamespace(r: ResourceDef, name: string, finalizers: string[], dryRun = false): Promise<Obj> {
    const existing = this.get(r, undefined, name);
    const next = clone(existing);
    next.spec = { ...next.spec, finalizers };
    if (!finalizers.length) delete next.spec.finalizers;
    if (dryRun) return next;
    if (next.metadata.deletionTimestamp && !pendingFinalization(r, next)) {
      await this.remove(r, existing);
      return next;
    }
    return this.mutate(r, undefined, name, (o) => {
      o.spec = next.spec;
    }, 'finalize');
  }

  /**
   * A delete that marks the object (graceful deletion, finalizers) is a guarded write: when another
   * write lands first (a pod's status, a controller's update), it is decided again on the new
   * object, as upstream's GuaranteedUpdate retries, instead of failing with a 409 the client never
   * asked for. Only the caller's own preconditions fail with a conflict.
   */
  async delete(r: ResourceDef, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<DeleteResult> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.deleteOnce(r, namespace, name, opts);
      } catch (err) {
        if (!(err instanceof LostRace) || attempt >= 8) throw err instanceof LostRace ? conflict(qr(r), name) : err;
        // Let the cache see the write that won before deciding again.
        await new Promise((res) => setTimeout(res, 5 * (attempt + 1)));
      }
    }
  }

  private async deleteOnce(r: ResourceDef, namespace: string | undefined, name: string, opts: DeleteOptions): Promise<DeleteResult> {
    const existing = this.get(r, namespace, name);
    if (opts.user) this.runWriteChecks({ operation: 'delete', kind: r.kind, group: r.group, name, obj: existing, old: existing, user: opts.user });
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== existing.metadata.uid) {
      throw conflict(qr(r), name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${existing.metadata.uid}`);
    }
    if (pre?.resourceVersion && pre.resourceVersion !== existing.metadata.resourceVersion) {
      throw conflict(qr(r), name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${existing.metadata.resourceVersion}`);
    }
    // What a delete changes is metadata (and a Terminating namespace's or CRD's status, which are
    // replaced, not changed in place): the rest is shared with the cached object and only read.
    // A deep copy of each pod was most of the delete's CPU when a set scaled down.
    const meta: Obj = { ...existing.metadata };
    const obj: Obj = { ...existing, metadata: meta };
    const grace = gracePeriodFor(r, obj, opts.gracePeriodSeconds);
    const finalizers = new Set<string>(meta.finalizers ?? []);
    const policy = opts.propagationPolicy ?? r.strategy.defaultPropagation ?? 'Background';
    // Deletion policies are recorded as finalizers for the garbage collector, as upstream does.
    finalizers.delete('orphan');
    finalizers.delete('foregroundDeletion');
    if (policy === 'Orphan') finalizers.add('orphan');
    if (policy === 'Foreground') finalizers.add('foregroundDeletion');
    const alreadyDeleting = !!meta.deletionTimestamp;
    if (!alreadyDeleting) r.strategy.beginDeletion?.(obj, finalizers);
    // A namespace is emptied by the namespace controller before it goes (spec.finalizers: [kubernetes]).
    const namespaceFinalizers = r.kind === 'Namespace' && (obj.spec?.finalizers?.length ?? 0) > 0;
    if (r.kind === 'Namespace' && namespaceFinalizers && obj.status?.phase !== 'Terminating') {
      obj.status = { ...obj.status, phase: 'Terminating' };
    }
    if (finalizers.size === 0 && grace === 0 && !namespaceFinalizers) {
      if (opts.dryRun) return { deleted: true, obj: existing };
      await this.remove(r, existing);
      return { deleted: true, obj: existing };
    }
    let changed = false;
    if (!alreadyDeleting) {
      meta.deletionTimestamp = nowTimestamp(Date.now() + grace * 1000);
      meta.deletionGracePeriodSeconds = grace;
      changed = true;
    } else if (grace < (meta.deletionGracePeriodSeconds ?? 0)) {
      // A shorter grace period (e.g. --force --grace-period=0 after a normal delete) moves the deadline closer.
      meta.deletionTimestamp = nowTimestamp(Date.now() + grace * 1000);
      meta.deletionGracePeriodSeconds = grace;
      changed = true;
    }
    const newFinalizers = [...finalizers];
    // Upstream only adds GC finalizers on the first delete; later deletes keep what is there.
    if (!alreadyDeleting && JSON.stringify(newFinalizers) !== JSON.stringify(meta.finalizers ?? [])) {
      meta.finalizers = newFinalizers;
      changed = true;
    }
    if (meta.finalizers?.length === 0) delete meta.finalizers;
    if (grace === 0 && !pendingFinalization(r, obj)) {
      if (opts.dryRun) return { deleted: true, obj: existing };
      await this.remove(r, existing);
      return { deleted: true, obj: existing };
    }
    if (!changed || opts.dryRun) return { deleted: false, obj: changed ? obj : existing };
    const key = keyFor(r, meta.namespace, name);
    const value = storedValue(obj);
    // The cache's copy shares what obj shares with the cached object (spec, status) instead of copying it.
    const kv = await this.store.update(key, value, this.cache.get(key, bucketFor(r))!.modRev, cacheCopy(obj, existing)).catch((err) => {
      if (err instanceof StoreError && err.code === 'conflict') throw new LostRace();
      throw err;
    });
    // Marking for deletion (grace period, finalizers) is an update in the store, counted as the delete it serves.
    countStoreWrite('delete', r.plural);
    if (this.cache.revision() < kv.modRev) await this.cache.waitFor(kv.modRev);
    return { deleted: false, obj: this.cache.get(key, bucketFor(r))?.obj ?? obj };
  }

  private async remove(r: ResourceDef, existing: Obj): Promise<void> {
    const key = keyFor(r, existing.metadata.namespace, existing.metadata.name);
    try {
      const { rev } = await this.store.delete(key);
      countStoreWrite('delete', r.plural);
      if (this.cache.revision() < rev) await this.cache.waitFor(rev);
      if (r.kind === 'Service') await releaseIps(this.store, existing);
    } catch (err) {
      if (err instanceof StoreError && err.code === 'notfound') throw notFound(qr(r), existing.metadata.name);
      throw err;
    }
  }

  private checkTypeMeta(r: ResourceDef, obj: Obj): void {
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw badRequest('the body of the request must be a JSON object');
    const gv = groupVersion(r);
    if (obj.apiVersion !== undefined && obj.apiVersion !== gv) {
      throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${gv})`);
    }
    if (obj.kind !== undefined && obj.kind !== r.kind) {
      throw badRequest(`${obj.kind} in version "${r.version}" cannot be handled as a ${r.kind}: no kind "${obj.kind}" is registered for version "${gv}" in scheme "pkg/api/legacyscheme/scheme.go:30"`);
    }
  }

  private checkFields(r: ResourceDef, obj: Obj, opts: WriteOptions): void {
    if (opts.typed && !r.custom) return;
    // Custom objects are unstructured upstream: their schema answers wrong types with a 422.
    const typeError = r.custom ? undefined : scalarTypeError(obj, r.schema);
    if (typeError) throw badRequest(`${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: ${typeError}`);
    const mode = opts.fieldValidation ?? 'Warn';
    const unknown = unknownFields(obj, r.schema);
    if (!unknown.length) return;
    if (mode === 'Strict') {
      const list = unknown.map((f) => `unknown field "${f}"`).join(', ');
      throw badRequest(`${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: strict decoding error: ${list}`);
    }
    if (mode !== 'Ignore') opts.warnings?.push(...unknown.map((f) => `unknown field "${f}"`));
    // Warn and Ignore differ only in the warning: upstream never stores fields its types lack.
    dropUnknownFields(obj, r.schema);
  }

  private checkNamespaceOpen(r: ResourceDef, namespace: string, name: string): void {
    const ns = this.cache.get(namespaceKey(namespace), NAMESPACES_BUCKET)?.obj;
    if (!ns) throw notFound({ group: '', resource: 'namespaces' }, namespace);
    if (ns.metadata.deletionTimestamp || ns.status?.phase === 'Terminating') {
      throw forbidden(qr(r), name, `unable to create new content in namespace ${namespace} because it is being terminated`);
    }
  }
}

/** `value` with its objects' keys in the order `like` has them (keys `like` lacks last). */
function inOrderOf(value: unknown, like: unknown): unknown {
  if (Array.isArray(value)) return Array.isArray(like) ? value.map((v, i) => inOrderOf(v, like[i])) : value;
  if (!value || typeof value !== 'object' || !like || typeof like !== 'object' || Array.isArray(like)) return value;
  const v = value as Obj;
  const l = like as Obj;
  const out: Obj = {};
  for (const k of Object.keys(l)) if (k in v) out[k] = inOrderOf(v[k], l[k]);
  for (const k of Object.keys(v)) if (!(k in out)) out[k] = v[k];
  return out;
}

/**
 * recordUpdate in the request's version: an older version of a built-in kind records its fields
 * by that version's paths (as upstream's managedFields entries do, each in its own apiVersion).
 */
function recordWrite(r: ResourceDef, live: Obj | undefined, obj: Obj, w: Writer, now: string): void {
  if (!r.convertIn || !r.convert) return recordUpdate(r, live, obj, w, now);
  const next = r.convert(obj);
  next.metadata = { ...next.metadata };
  recordUpdate(r, live && r.convert(live), next, w, now);
  if (next.metadata.managedFields) obj.metadata.managedFields = next.metadata.managedFields;
  else delete obj.metadata.managedFields;
}

/** Whether something (metadata finalizers, or a namespace's spec.finalizers) still holds a deleted object. */
function pendingFinalization(r: ResourceDef, obj: Obj): boolean {
  return (obj.metadata.finalizers?.length ?? 0) > 0 || (r.kind === 'Namespace' && (obj.spec?.finalizers?.length ?? 0) > 0);
}

function gracePeriodFor(r: ResourceDef, obj: Obj, requested: number | undefined): number {
  if (r.kind !== 'Pod') return 0;
  // Pods that never reached a node, or that already finished, have nothing to stop: they go at once.
  if (!obj.spec?.nodeName) return 0;
  const phase = obj.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return 0;
  const g = requested ?? obj.spec?.terminationGracePeriodSeconds ?? 30;
  // Upstream turns a requested 0 without --force into 1s; kubectl sends 1 for --grace-period=0 without --force anyway.
  return Math.max(0, g);
}

function allowCreateOnUpdate(r: ResourceDef): boolean {
  // Upstream lets PUT create these kinds (their controllers write them unconditionally).
  return ['Endpoints', 'Lease', 'Event', 'EndpointSlice'].includes(r.kind);
}

function isObject(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Whether a write keeps nothing of its object but metadata and status: a status write with the
 * generic status rules, whose preparation puts the stored object's other fields (spec...) in place
 * of the writer's, and from a typed in-process writer, whose object no decoding check walks (and
 * prunes). The writer's other fields are then only read, never changed, and need no copy.
 */
function statusOnly(r: ResourceDef, opts: WriteOptions, subresource: string | undefined): boolean {
  return subresource === 'status' && opts.typed === true && !r.custom && !r.convertIn && !r.strategy.subresources?.status;
}

/**
 * The private copy a status-only write works on: metadata and status copied, the rest (which the
 * write replaces with the stored object's) left shared with the writer's object. A pod's status
 * write sent with its whole spec copied the spec only to drop it.
 */
function statusWriteCopy(input: Obj): Obj {
  const obj: Obj = { ...input };
  if (input.metadata !== undefined) obj.metadata = clone(input.metadata);
  if (input.status !== undefined) obj.status = clone(input.status);
  return obj;
}

function defaultStatusPrepare(obj: Obj, old: Obj): void {
  for (const k of Object.keys(obj)) if (k !== 'status' && k !== 'metadata' && k !== 'apiVersion' && k !== 'kind') delete obj[k];
  for (const k of Object.keys(old)) if (k !== 'status' && k !== 'metadata' && k !== 'apiVersion' && k !== 'kind') obj[k] = clone(old[k]);
  // Status writes cannot change labels, annotations or other metadata either.
  obj.metadata = { ...clone(old.metadata), resourceVersion: obj.metadata.resourceVersion };
}

export { ApiError };
