// The Node authorizer's graph (upstream plugin/pkg/auth/authorizer/node/graph.go), kept as
// reference counts rather than a general graph: which nodes each secret, config map, claim and
// service account is reachable from through a pod bound to the node, and which claim each
// persistent volume is bound to. Every question the authorizer asks is then one or two map
// lookups, and each pod change costs only its own references.
import type { Obj } from '../../../api/resource.ts';
import { isMirrorPod, podRefs } from './pod-refs.ts';

export type VertexType = 'pod' | 'secret' | 'configmap' | 'pvc' | 'pv' | 'serviceaccount';

interface PodEntry {
  node: string;
  uid: string;
  /** Ephemeral containers are the only part of a bound pod's spec that can gain references. */
  ephemeral: number;
  /** `<type>/<namespace>/<name>` of every object the pod makes reachable. */
  refs: string[];
}

const refKey = (type: VertexType, namespace: string, name: string) => `${type}/${namespace}/${name}`;

export class NodeGraph {
  private readonly pods = new Map<string, PodEntry>();
  /** ref key → node → how many of the node's pods refer to it. */
  private readonly reach = new Map<string, Map<string, number>>();
  /** persistent volume name → `<namespace>/<name>` of the claim it is bound to. */
  private readonly pvClaims = new Map<string, string>();

  /** A pod added, changed (same key) or, with `deleted`, gone. Pods not bound to a node make nothing reachable. */
  setPod(pod: Obj, deleted = false): void {
    const ns = String(pod?.metadata?.namespace ?? '');
    const name = String(pod?.metadata?.name ?? '');
    const key = `${ns}/${name}`;
    const old = this.pods.get(key);
    const node = typeof pod?.spec?.nodeName === 'string' ? pod.spec.nodeName : '';
    const uid = String(pod?.metadata?.uid ?? '');
    const ephemeral = Array.isArray(pod?.spec?.ephemeralContainers) ? pod.spec.ephemeralContainers.length : 0;
    // Most pod changes are status writes: the same pod on the same node, whose references cannot
    // have changed (a bound pod's volumes, env and service account are immutable), as upstream's
    // graph populator skips them.
    if (!deleted && old && old.node === node && old.uid === uid && old.ephemeral === ephemeral) return;
    if (old) this.release(old);
    this.pods.delete(key);
    if (deleted || !node) return;
    const entry: PodEntry = { node, uid, ephemeral, refs: [] };
    // A mirror pod reaches only its node: a node may not create pods referring to anything else.
    if (!isMirrorPod(pod)) {
      const r = podRefs(pod);
      for (const s of r.secrets) entry.refs.push(refKey('secret', ns, s));
      for (const c of r.configMaps) entry.refs.push(refKey('configmap', ns, c));
      for (const c of r.claims) entry.refs.push(refKey('pvc', ns, c));
      if (r.serviceAccount) entry.refs.push(refKey('serviceaccount', ns, r.serviceAccount));
    }
    for (const k of entry.refs) {
      let m = this.reach.get(k);
      if (!m) this.reach.set(k, (m = new Map()));
      m.set(node, (m.get(node) ?? 0) + 1);
    }
    this.pods.set(key, entry);
  }

  private release(e: PodEntry): void {
    for (const k of e.refs) {
      const m = this.reach.get(k);
      if (!m) continue;
      const n = (m.get(e.node) ?? 0) - 1;
      if (n > 0) m.set(e.node, n);
      else m.delete(e.node);
      if (!m.size) this.reach.delete(k);
    }
  }

  /** A persistent volume added, changed or gone: its claimRef links it to a claim. */
  setPersistentVolume(pv: Obj, deleted = false): void {
    const name = String(pv?.metadata?.name ?? '');
    const ref = pv?.spec?.claimRef;
    if (deleted || !ref?.name || !ref?.namespace) this.pvClaims.delete(name);
    else this.pvClaims.set(name, `${ref.namespace}/${ref.name}`);
  }

  /** Whether a path leads from the object to the node (upstream hasPathFrom). */
  hasPath(node: string, type: VertexType, namespace: string, name: string): boolean {
    if (type === 'pod') return this.pods.get(`${namespace}/${name}`)?.node === node;
    if (type === 'pv') {
      const claim = this.pvClaims.get(name);
      return !!claim && this.reaches(node, `pvc/${claim}`);
    }
    return this.reaches(node, refKey(type, namespace, name));
  }

  private reaches(node: string, key: string): boolean {
    return (this.reach.get(key)?.get(node) ?? 0) > 0;
  }
}
