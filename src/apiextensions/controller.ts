// The definitions' controllers, inside the API server as upstream's apiextensions-apiserver runs
// them: serving (the served kinds follow the stored definitions at once, in the watch cache's
// event), naming and establishing (status.acceptedNames, NamesAccepted, Established), and the
// finalizer (a deleted definition's objects are deleted before the definition goes).
import type { Obj, ResourceDef } from '../api/resource.ts';
import { resources, setCustomResources } from '../api/registry.ts';
import type { ResourceStore } from '../apiserver/resource-store.ts';
import { bucketFor } from '../apiserver/resource-store.ts';
import { ApiError } from '../apiserver/errors.ts';
import { log } from '../util/log.ts';
import { conditionOf, setCondition } from './conditions.ts';
import { CLEANUP_FINALIZER } from './crd-strategy.ts';
import { decideNames } from './naming.ts';
import { forgetComponents, hasCondition, resourcesForCrd } from './served.ts';
import { deepEqual } from '../api/validation/fields.ts';

export class CrdController {
  private readonly rs: ResourceStore;
  private readonly crds: ResourceDef;
  private readonly unsubscribe: () => void;
  private served = new Map<string, { key: string; defs: ResourceDef[] }>();
  private pending = false;
  private running = false;
  private retry: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(rs: ResourceStore) {
    this.rs = rs;
    this.crds = resources.find((r) => r.group === 'apiextensions.k8s.io' && r.plural === 'customresourcedefinitions')!;
    this.unsubscribe = rs.cache.subscribe(bucketFor(this.crds), () => {
      this.serve();
      this.kick();
    });
  }

  start(): void {
    this.serve();
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe();
    if (this.retry) clearTimeout(this.retry);
  }

  private list(): Obj[] {
    return this.rs.list(this.crds).map((c) => c.obj);
  }

  /** Makes the served kinds match the stored definitions; synchronous, so a request after a write sees it. */
  private serve(): void {
    const next = new Map<string, { key: string; defs: ResourceDef[] }>();
    let changed = false;
    for (const crd of this.list()) {
      const prev = this.served.get(crd.metadata.uid);
      const key = servingKey(crd);
      if (prev && prev.key === key) {
        next.set(crd.metadata.uid, prev);
        continue;
      }
      if (prev) forgetComponents(prev.defs);
      next.set(crd.metadata.uid, { key, defs: resourcesForCrd(crd) });
      changed = true;
    }
    for (const [uid, s] of this.served) {
      if (!next.has(uid)) {
        forgetComponents(s.defs);
        changed = true;
      }
    }
    this.served = next;
    if (changed) setCustomResources([...next.values()].flatMap((s) => s.defs));
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.pending = true;
      return;
    }
    this.running = true;
    void this.reconcile()
      .catch((err) => {
        log('warn', 'crd-controller', 'reconcile failed; retrying', { error: String(err) });
        this.later(1000);
      })
      .finally(() => {
        this.running = false;
        if (this.pending) {
          this.pending = false;
          this.kick();
        }
      });
  }

  private later(ms: number): void {
    if (this.retry || this.stopped) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      this.kick();
    }, ms).unref();
  }

  private async reconcile(): Promise<void> {
    const all = this.list();
    for (const crd of all) {
      if (crd.metadata.deletionTimestamp) await this.finalize(crd);
      else await this.establish(crd, all);
    }
  }

  /** Naming and establishing: accepted names and the conditions that say whether the kind is served. */
  private async establish(crd: Obj, all: Obj[]): Promise<void> {
    const decision = decideNames(crd, all);
    let status: Obj = { ...crd.status, acceptedNames: decision.acceptedNames };
    status = setCondition(status, decision.namesAccepted);
    if (decision.namesAccepted.status === 'True' || conditionOf(crd, 'Established')?.status === 'True') {
      status = setCondition(status, { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' });
    } else {
      status = setCondition(status, { type: 'Established', status: 'False', reason: 'NotAccepted', message: 'not all names are accepted' });
    }
    if (deepEqual(status, crd.status)) return;
    await this.writeStatus(crd, status);
  }

  private async writeStatus(crd: Obj, status: Obj): Promise<void> {
    try {
      await this.rs.update(this.crds, undefined, crd.metadata.name, { ...crd, status }, {}, 'status');
    } catch (err) {
      // A newer version of the definition arrived meanwhile: its event runs the controller again.
      if (err instanceof ApiError && (err.code === 409 || err.code === 404)) return;
      throw err;
    }
  }

  /** Deletes every object of a deleted definition, then lets the definition go. */
  private async finalize(crd: Obj): Promise<void> {
    if (!crd.metadata.finalizers?.includes(CLEANUP_FINALIZER)) return;
    const defs = this.served.get(crd.metadata.uid)?.defs ?? [];
    const r = defs.find((d) => d.version === d.custom?.storageVersion) ?? defs[0];
    const left = r ? this.rs.list(r) : [];
    if (left.length) {
      const status: Obj = setCondition(crd.status ?? {}, { type: 'Terminating', status: 'True', reason: 'InstanceDeletionInProgress', message: 'CustomResource deletion is in progress' });
      if (!deepEqual(status, crd.status)) await this.writeStatus(crd, status);
      for (const c of left) {
        if (c.obj.metadata.deletionTimestamp) continue;
        await this.rs.delete(r, c.obj.metadata.namespace, c.obj.metadata.name, {}).catch((err) => {
          if (!(err instanceof ApiError && err.code === 404)) throw err;
        });
      }
      // Objects held by their own finalizers go later; look again soon.
      if (this.rs.list(r).length) this.later(1000);
      else this.kick();
      return;
    }
    const fresh = this.rs.find(this.crds, undefined, crd.metadata.name);
    if (!fresh) return;
    const status = setCondition(fresh.status ?? {}, { type: 'Terminating', status: 'True', reason: 'InstanceDeletionCompleted', message: `removed all instances` });
    const finalizers = (fresh.metadata.finalizers as string[]).filter((f) => f !== CLEANUP_FINALIZER);
    // One write: the finalizer goes (which completes the deletion once it was the last one).
    try {
      await this.rs.update(this.crds, undefined, crd.metadata.name, { ...fresh, status, metadata: { ...fresh.metadata, finalizers } });
    } catch (err) {
      if (err instanceof ApiError && (err.code === 409 || err.code === 404)) return;
      throw err;
    }
  }
}

/** What the served kinds of a definition depend on: a change of anything else (conditions' times, generation) rebuilds nothing. */
function servingKey(crd: Obj): string {
  const established = hasCondition(crd, 'Established') || hasCondition(crd, 'NamesAccepted');
  return JSON.stringify([crd.spec?.group, crd.spec?.scope, crd.spec?.versions, crd.status?.acceptedNames, established, hasCondition(crd, 'Terminating')]);
}
