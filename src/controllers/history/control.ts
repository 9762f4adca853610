// The writes on ControllerRevisions a controller needs (upstream's realHistory): create with
// collision handling, renumber on rollback, adopt orphans and delete. Reads come from the caller's
// informer cache.
import type { Obj, ResourceDef } from '../../api/resource.ts';
import type { Client } from '../../client/client.ts';
import { ApiError } from '../../apiserver/errors.ts';
import { controllerOf, controllerRefTo, hashRevision, revisionData, revisionName, type ParentKind } from './history.ts';

const isCode = (err: unknown, code: number) => err instanceof ApiError && err.code === code;

export class ControllerHistory {
  private readonly client: Client;
  private readonly resource: ResourceDef;

  constructor(client: Client) {
    this.client = client;
    this.resource = client.resource('apps', 'controllerrevisions');
  }

  /**
   * Stores `revision` under `<parent>-<hash>`. When that name is taken by identical data the
   * existing object is the answer; when it is taken by other data, the collision count goes up
   * (the caller reads it back from `collision.count`) and a new name is tried.
   */
  async create(parent: Obj, revision: Obj, collision: { count: number }): Promise<Obj> {
    const data = revisionData(revision);
    for (;;) {
      // The hash label keeps the value it was built with, as upstream: only the name moves on.
      const name = revisionName(parent.metadata.name, hashRevision(data, collision.count));
      const obj = { ...revision, metadata: { ...revision.metadata, name } };
      try {
        return await this.client.create(this.resource, parent.metadata.namespace, obj);
      } catch (err) {
        if (!isCode(err, 409)) throw err;
        const existing = await this.client.get(this.resource, parent.metadata.namespace, name);
        if (revisionData(existing) === data) return existing;
        collision.count++;
      }
    }
  }

  /** Gives an existing revision a new number (a rollback to it), retrying on conflicts with a fresh read. */
  async renumber(revision: Obj, to: number): Promise<Obj> {
    let current = revision;
    for (let attempt = 0; ; attempt++) {
      if (Number(current.revision) === to) return current;
      try {
        return await this.client.update(this.resource, { ...current, revision: to });
      } catch (err) {
        if (!isCode(err, 409) || attempt >= 5) throw err;
        current = await this.client.get(this.resource, current.metadata.namespace, current.metadata.name);
      }
    }
  }

  /**
   * Makes `parent` the controller of an orphaned revision. Upstream sends a strategic-merge patch;
   * a JSON patch says the same (append our ref, guarded by the revision's uid) without asking the
   * server to merge-walk the opaque `data` field.
   */
  async adopt(parent: Obj, kind: ParentKind, revision: Obj): Promise<Obj> {
    const owner = controllerOf(revision);
    if (owner) throw new Error(`attempt to adopt revision owned by ${owner.kind}/${owner.name}`);
    const ref = controllerRefTo(parent, kind);
    const patch = [
      { op: 'test', path: '/metadata/uid', value: revision.metadata.uid },
      revision.metadata.ownerReferences?.length
        ? { op: 'add', path: '/metadata/ownerReferences/-', value: ref }
        : { op: 'add', path: '/metadata/ownerReferences', value: [ref] },
    ];
    return this.client.patch(this.resource, revision.metadata.namespace, revision.metadata.name, 'application/json-patch+json', patch);
  }

  async delete(revision: Obj): Promise<void> {
    await this.client.delete(this.resource, revision.metadata.namespace, revision.metadata.name).catch((err) => {
      if (!isCode(err, 404)) throw err;
    });
  }
}
