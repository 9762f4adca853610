// kube-controller-manager with --use-service-account-credentials: each controller writes (and
// reads single objects) with its own service account's token, while the shared informers that
// feed every controller list and watch with the controller manager's own credentials
// (system:kube-controller-manager, which may list and watch everything). This client routes the
// calls the same way, so each controller needs only its own upstream role.
import type { Obj, ResourceDef } from '../api/resource.ts';
import type { DeleteOptions } from '../apiserver/resource-store.ts';
import type { ApiError } from '../apiserver/errors.ts';
import type { Client, EventType, ListOptions, PatchType, WatchOptions } from './client.ts';

export class SharedInformerCredentials implements Client {
  private readonly informers: Client;
  private readonly acting: Client;

  /** `informers` lists and watches; `acting` does everything else. */
  constructor(informers: Client, acting: Client) {
    this.informers = informers;
    this.acting = acting;
  }

  informerSource(): Client {
    return this.informers;
  }

  resource(group: string, plural: string): ResourceDef {
    return this.acting.resource(group, plural);
  }

  list(r: ResourceDef, opts?: ListOptions): Promise<{ items: Obj[]; resourceVersion: string }> {
    return this.informers.list(r, opts);
  }

  watch(r: ResourceDef, opts: WatchOptions, onEvent: (type: EventType, obj: Obj) => void, onClose: (err?: ApiError) => void): () => void {
    return this.informers.watch(r, opts, onEvent, onClose);
  }

  get(r: ResourceDef, namespace: string | undefined, name: string): Promise<Obj> {
    return this.acting.get(r, namespace, name);
  }

  create(r: ResourceDef, namespace: string | undefined, obj: Obj): Promise<Obj> {
    return this.acting.create(r, namespace, obj);
  }

  update(r: ResourceDef, obj: Obj, subresource?: 'status' | 'finalize' | 'approval'): Promise<Obj> {
    return this.acting.update(r, obj, subresource);
  }

  patch(r: ResourceDef, namespace: string | undefined, name: string, patchType: PatchType, patch: unknown, subresource?: 'status'): Promise<Obj> {
    return this.acting.patch(r, namespace, name, patchType, patch, subresource);
  }

  delete(r: ResourceDef, namespace: string | undefined, name: string, opts?: DeleteOptions): Promise<void> {
    return this.acting.delete(r, namespace, name, opts);
  }

  bind(namespace: string, name: string, nodeName: string, uid?: string): Promise<void> {
    return this.acting.bind(namespace, name, nodeName, uid);
  }

  createToken(namespace: string, name: string, request: Obj): Promise<Obj> {
    return this.acting.createToken(namespace, name, request);
  }

  subjectAccessReview(spec: Obj): Promise<Obj> {
    return this.acting.subjectAccessReview(spec);
  }
}
