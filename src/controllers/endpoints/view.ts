// A controller's view of one kind: the informer's objects overlaid with the results of the
// controller's own writes, which come back before their watch events. Syncs that run in between
// then never act on a version the controller already replaced (a stale view would mean duplicate
// creates or conflict retries). Shared by the volume, endpoints and endpointslice controllers.
import type { Obj } from '../../api/resource.ts';
import { objectKey } from '../../client/informer.ts';

/**
 * A resourceVersion as a comparable number-like string: decimal digits without leading zeros, or
 * undefined when it is anything else (such versions are older than every real one). Comparing
 * these by length, then lexically, orders them as the numbers they spell, without parsing.
 */
function rvDigits(o: Obj | undefined): string | undefined {
  const rv = o?.metadata?.resourceVersion;
  if (typeof rv !== 'string' || rv.length === 0) return undefined;
  let start = 0;
  while (start < rv.length - 1 && rv.charCodeAt(start) === 48) start++;
  for (let i = start; i < rv.length; i++) {
    const c = rv.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  return start === 0 ? rv : rv.slice(start);
}

/** Sign of a − b for versions as rvDigits gives them (undefined below everything). */
export function compareRv(a: string | undefined, b: string | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : 1;
}

/**
 * The informer's view, overlaid with the results of our own writes (which arrive before their watch
 * events), so consecutive syncs never act on a version we already replaced. Deleted keys keep a
 * tombstone so that a late write result cannot resurrect them.
 */
export class NewestView {
  private readonly objs = new Map<string, Obj>();
  private readonly gone = new Map<string, string | undefined>();
  private readonly onChange: (key: string, old: Obj | undefined, obj: Obj | undefined) => void;

  constructor(onChange: (key: string, old: Obj | undefined, obj: Obj | undefined) => void = () => {}) {
    this.onChange = onChange;
  }

  upsert(obj: Obj): void {
    const key = objectKey(obj);
    const old = this.objs.get(key);
    // The same object again (an informer echo of what a write returned) changes nothing.
    if (old === obj) return;
    // The same version as held (the echo of our own write, as another object): a key held is no
    // tombstone and no version is newer than itself, so the checks below would let it through.
    if (old === undefined || old.metadata.resourceVersion !== obj.metadata.resourceVersion) {
      const rv = rvDigits(obj);
      if (this.gone.has(key) && compareRv(this.gone.get(key), rv) >= 0) return;
      if (old && compareRv(rvDigits(old), rv) > 0) return;
    }
    this.objs.set(key, obj);
    this.onChange(key, old, obj);
  }

  remove(obj: Obj): void {
    const key = objectKey(obj);
    const old = this.objs.get(key);
    this.objs.delete(key);
    this.gone.set(key, rvDigits(obj));
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
