// The ownership graph: every object by uid, and for each uid the objects that name it as an owner.
import type { Obj, ResourceDef } from '../../api/resource.ts';

export interface Node {
  resource: ResourceDef;
  obj: Obj;
}

export class OwnerGraph {
  private readonly byUid = new Map<string, Node>();
  private readonly dependents = new Map<string, Set<string>>();

  upsert(resource: ResourceDef, obj: Obj): void {
    const uid = obj.metadata.uid;
    const old = this.byUid.get(uid);
    // A new version with the very owner list of the last (a status write's): the links stand.
    if (old && old.obj.metadata.ownerReferences === obj.metadata.ownerReferences) {
      old.resource = resource;
      old.obj = obj;
      return;
    }
    if (old) this.unlinkOwners(old.obj);
    this.byUid.set(uid, { resource, obj });
    for (const ref of obj.metadata.ownerReferences ?? []) {
      let s = this.dependents.get(ref.uid);
      if (!s) this.dependents.set(ref.uid, (s = new Set()));
      s.add(uid);
    }
  }

  remove(obj: Obj): void {
    const uid = obj.metadata.uid;
    const node = this.byUid.get(uid);
    if (!node) return;
    this.unlinkOwners(node.obj);
    this.byUid.delete(uid);
  }

  /** Every object in the graph. */
  all(): IterableIterator<Node> {
    return this.byUid.values();
  }

  get(uid: string): Node | undefined {
    return this.byUid.get(uid);
  }

  hasDependents(uid: string): boolean {
    return (this.dependents.get(uid)?.size ?? 0) > 0;
  }

  dependentsOf(uid: string): Node[] {
    return [...(this.dependents.get(uid) ?? [])].map((d) => this.byUid.get(d)).filter((n): n is Node => !!n);
  }

  private unlinkOwners(obj: Obj): void {
    for (const ref of obj.metadata.ownerReferences ?? []) {
      const s = this.dependents.get(ref.uid);
      s?.delete(obj.metadata.uid);
      if (s && s.size === 0) this.dependents.delete(ref.uid);
    }
  }
}
