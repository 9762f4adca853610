// A controller's view of one kind: the informer's objects overlaid with the results of the
// controller's own writes, which come back before their watch events. Syncs that run in between
// then never act on a version the controller already replaced (a stale view would mean duplicate
// creates or conflict retries). Shared by the volume, endpoints and endpointslice controllers.
import type { Obj } from '../../api/resource.ts';
import { objectKey } from '../../client/informer.ts';

function rvNumber(o: Obj): bigint {
  const rv = o.metadata?.resourceVersion;
  return typeof rv === 'string' && /^\d+$/.test(rv) ? BigInt(rv) : -1n;
}

/**
 * The informer's view, overlaid with the results of our own writes (which arrive before their watch
 * events), so consecutive syncs never act on a version we already replaced. Deleted keys keep a
 * tombstone so that a late write result cannot resurrect them.
 */
export class NewestView {
  private readonly objs = new Map<string, Obj>();
  private readonly gone = new Map<string, bigint>();
  private readonly onChange: (key: string, old: Obj | undefined, obj: Obj | undefined) => void;

  constructor(onChange: (key: string, old: Obj | undefined, obj: Obj | undefined) => void = () => {}) {
    this.onChange = onChange;
  }

  upsert(obj: Obj): void {
    const key = objectKey(obj);
    const rv = rvNumber(obj);
    const tomb = this.gone.get(key);
    if (tomb !== undefined && tomb >= rv) return;
    const old = this.objs.get(key);
    if (old && rvNumber(old) > rv) return;
    this.objs.set(key, obj);
    this.onChange(key, old, obj);
  }

  remove(obj: Obj): void {
    const key = objectKey(obj);
    const old = this.objs.get(key);
    this.objs.delete(key);
    this.gone.set(key, rvNumber(obj));
    if (this.gone.size > 10_000) this.gone.delete(this.gone.keys().next().value!);
    if (old) this.onChange(key, old, undefined);
  }

  get(key: string): Obj | undefined {
    return this.objs.get(key);
  }

  values(): IterableIterator<Obj> {
    return this.objs.values();
  }
}
