// The client a leader's controllers get for one term of leadership. When the term ends (the lease
// could not be renewed in time, or the process stops) the term is fenced: every write the old
// term's code still attempts is refused here, before it reaches any server, and its watches are
// closed. Stopping the controllers stops their loops, but a sync already running may be in the
// middle of a sequence of writes (a Parallel scale-up creating pods one after another); the fence
// is what guarantees that nothing from a lost term writes once the next leader may be acting.
//
// Why this is safe with re-election in the same process: the elector ends a term no later than
// its renew deadline after the last successful renewal, and another candidate can take the lease
// only after it has seen the same record unchanged for a whole lease duration, which is longer.
// So, clocks running at the same rate, the old term is fenced before a new leader starts; what
// is left is a write already on the wire when the term ended, the same window kube-controller-
// manager has when it exits, and such a write still meets the API's optimistic concurrency
// (resourceVersion preconditions, AlreadyExists on names), as every controller write does. The
// next term starts from fresh controllers and informers: nothing of the old term's memory is kept.
import type { Obj, ResourceDef } from '../../api/resource.ts';
import type { DeleteOptions } from '../../apiserver/resource-store.ts';
import type { ApiError } from '../../apiserver/errors.ts';
import type { Client, EventType, ListOptions, PatchType, WatchOptions } from '../client.ts';

/** What a write of a fenced term is refused with. */
export class TermEndedError extends Error {
  constructor(what: string) {
    super(`leadership term ended: not sending ${what}`);
    this.name = 'TermEndedError';
  }
}

export class TermClient implements Client {
  private readonly inner: Client;
  private ended = false;
  private readonly watches = new Set<() => void>();

  constructor(inner: Client) {
    this.inner = inner;
  }

  get fenced(): boolean {
    return this.ended;
  }

  /** Fences the term: later writes are refused, open watches closed. */
  end(): void {
    this.ended = true;
    for (const cancel of [...this.watches]) cancel();
    this.watches.clear();
  }

  private guard(what: string): void {
    if (this.ended) throw new TermEndedError(what);
  }

  resource(group: string, plural: string): ResourceDef {
    return this.inner.resource(group, plural);
  }

  get(r: ResourceDef, namespace: string | undefined, name: string): Promise<Obj> {
    return this.inner.get(r, namespace, name);
  }

  list(r: ResourceDef, opts?: ListOptions): Promise<{ items: Obj[]; resourceVersion: string }> {
    return this.inner.list(r, opts);
  }

  watch(r: ResourceDef, opts: WatchOptions, onEvent: (type: EventType, obj: Obj) => void, onClose: (err?: ApiError) => void): () => void {
    if (this.ended) {
      // An informer of the old term that tries again gets a watch that never delivers.
      return () => {};
    }
    let cancelInner: (() => void) | undefined;
    const cancel = () => {
      this.watches.delete(cancel);
      cancelInner?.();
    };
    this.watches.add(cancel);
    cancelInner = this.inner.watch(
      r,
      opts,
      (type, obj) => {
        if (!this.ended) onEvent(type, obj);
      },
      (err) => {
        this.watches.delete(cancel);
        if (!this.ended) onClose(err);
      },
    );
    return cancel;
  }

  async create(r: ResourceDef, namespace: string | undefined, obj: Obj): Promise<Obj> {
    this.guard(`create ${r.plural}`);
    return this.inner.create(r, namespace, obj);
  }

  async update(r: ResourceDef, obj: Obj, subresource?: 'status' | 'finalize' | 'approval'): Promise<Obj> {
    this.guard(`update ${r.plural}${subresource ? '/' + subresource : ''}`);
    return this.inner.update(r, obj, subresource);
  }

  async patch(r: ResourceDef, namespace: string | undefined, name: string, patchType: PatchType, patch: unknown, subresource?: 'status'): Promise<Obj> {
    this.guard(`patch ${r.plural}${subresource ? '/' + subresource : ''}`);
    return this.inner.patch(r, namespace, name, patchType, patch, subresource);
  }

  async delete(r: ResourceDef, namespace: string | undefined, name: string, opts?: DeleteOptions): Promise<void> {
    this.guard(`delete ${r.plural}`);
    return this.inner.delete(r, namespace, name, opts);
  }

  async bind(namespace: string, name: string, nodeName: string, uid?: string): Promise<void> {
    this.guard('create pods/binding');
    return this.inner.bind(namespace, name, nodeName, uid);
  }

  async createToken(namespace: string, name: string, request: Obj): Promise<Obj> {
    this.guard('create serviceaccounts/token');
    return this.inner.createToken(namespace, name, request);
  }

  async subjectAccessReview(spec: Obj): Promise<Obj> {
    // A review writes nothing: the old term may still ask.
    return this.inner.subjectAccessReview(spec);
  }
}
