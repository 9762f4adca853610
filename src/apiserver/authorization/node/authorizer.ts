// The Node authorizer (upstream plugin/pkg/auth/authorizer/node/node_authorizer.go, 1.32 with
// AuthorizeNodeWithSelectors): a node may read the secrets, config maps, claims and volumes of the
// pods bound to it, request tokens for their service accounts, read its own Node, list only its
// own pods, and reach its own Lease; everything else a kubelet needs is the static system:node
// rules. Writes it allows on nodes and pods are narrowed further by NodeRestriction. It never
// denies: what it does not allow is left to RBAC, with the reason kept for the 403.
import type { Obj } from '../../../api/resource.ts';
import type { WatchCache } from '../../../storage/cache.ts';
import { nodeRules } from '../bootstrap-policy.ts';
import { apiGroupMatches, nonResourceURLMatches, resourceMatches, verbMatches, type PolicyRule } from '../rules.ts';
import { DecisionCache, type CachedAnswer, type Grant } from '../decision-cache.ts';
import { ALLOW, NO_OPINION, type Attributes, type AuthorizationResult, type Authorizer } from '../types.ts';
import { NodeGraph, type VertexType } from './graph.ts';
import { nodeIdentity } from './identity.ts';
import { fieldRequirements } from './selectors.ts';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

const noRelationship = (node: string) => NO_OPINION(`no relationship found between node '${node}' and this object`);

/** The static node rules that cover the request whatever its name, or only some names. */
export function staticAnswer(rules: PolicyRule[], a: Attributes): CachedAnswer {
  const grants: Grant[] = [];
  const allow = ALLOW();
  for (const r of rules) {
    if (!verbMatches(r, a.verb)) continue;
    if (a.resourceRequest ? !apiGroupMatches(r, a.apiGroup) || !resourceMatches(r, a.resource, a.subresource) : !nonResourceURLMatches(r, a.path)) continue;
    if (a.resourceRequest && Array.isArray(r.resourceNames) && r.resourceNames.length) grants.push({ names: new Set(r.resourceNames), result: allow });
    else return { grants: [...grants, { result: allow }], otherwise: NO_OPINION() };
  }
  return { grants, otherwise: NO_OPINION() };
}

export class NodeAuthorizer implements Authorizer {
  readonly graph: NodeGraph;
  private readonly rules: PolicyRule[] = nodeRules();
  private readonly staticAnswers = new DecisionCache();
  private readonly unsubscribe: (() => void)[] = [];

  constructor(graph = new NodeGraph()) {
    this.graph = graph;
  }

  /** Builds the graph from the cache and keeps it current, synchronously with each change (before any watcher hears of it). */
  static fromCache(cache: WatchCache): NodeAuthorizer {
    const a = new NodeAuthorizer();
    const pods = '/registry/core/pods/';
    const pvs = '/registry/core/persistentvolumes/';
    a.unsubscribe.push(cache.subscribe(pods, (e) => a.graph.setPod(e.obj as Obj, e.type === 'DELETED')));
    a.unsubscribe.push(cache.subscribe(pvs, (e) => a.graph.setPersistentVolume(e.obj as Obj, e.type === 'DELETED')));
    for (const c of cache.list(pods, pods)) a.graph.setPod(c.obj);
    for (const c of cache.list(pvs, pvs)) a.graph.setPersistentVolume(c.obj);
    return a;
  }

  close(): void {
    for (const u of this.unsubscribe) u();
  }

  authorize(a: Attributes): AuthorizationResult {
    const node = nodeIdentity(a.user);
    if (node === undefined) return NO_OPINION();
    if (!node) return NO_OPINION(`unknown node for user "${a.user.user}"`);
    if (a.resourceRequest) {
      const gr = `${a.apiGroup}/${a.resource}`;
      switch (gr) {
        case '/secrets':
          return this.readNamespaced(node, 'secret', a);
        case '/configmaps':
          return this.readNamespaced(node, 'configmap', a);
        case '/persistentvolumeclaims':
          if (a.subresource === 'status') return this.statusUpdate(node, 'pvc', a);
          return this.getOnly(node, 'pvc', a);
        case '/persistentvolumes':
          return this.getOnly(node, 'pv', a);
        case '/serviceaccounts':
          return this.createToken(node, a);
        case 'coordination.k8s.io/leases':
          return this.ownNamed(node, a, 'a node lease', true);
        case 'storage.k8s.io/csinodes':
          return this.ownNamed(node, a, 'a CSINode', false);
        case '/nodes':
          return this.nodes(node, a);
        case '/pods':
          return this.pods(node, a);
      }
    }
    // Everything else is not subdivided: the static rules decide, the same for every node, so
    // their answers are cached (per node identity, without the object name) for good.
    return this.staticAnswers.lookup(a, () => staticAnswer(this.rules, a));
  }

  private related(node: string, type: VertexType, a: Attributes): AuthorizationResult {
    if (!a.name) return NO_OPINION('No Object name found');
    return this.graph.hasPath(node, type, a.namespace, a.name) ? ALLOW() : noRelationship(node);
  }

  private readNamespaced(node: string, type: VertexType, a: Attributes): AuthorizationResult {
    if (a.verb !== 'get' && a.verb !== 'list' && a.verb !== 'watch') return NO_OPINION('can only read resources of this type');
    if (a.subresource) return NO_OPINION('cannot read subresource');
    if (!a.namespace) return NO_OPINION('can only read namespaced object of this type');
    return this.related(node, type, a);
  }

  private getOnly(node: string, type: VertexType, a: Attributes): AuthorizationResult {
    if (a.verb !== 'get') return NO_OPINION('can only get individual resources of this type');
    if (a.subresource) return NO_OPINION('cannot get subresource');
    return this.related(node, type, a);
  }

  private statusUpdate(node: string, type: VertexType, a: Attributes): AuthorizationResult {
    if (a.verb !== 'update' && a.verb !== 'patch') return NO_OPINION('can only get/update/patch this type');
    if (a.subresource !== 'status') return NO_OPINION('can only update status subresource');
    return this.related(node, type, a);
  }

  private createToken(node: string, a: Attributes): AuthorizationResult {
    if (a.verb !== 'create' || !a.name) return NO_OPINION('can only create tokens for individual service accounts');
    if (a.subresource !== 'token') return NO_OPINION('can only create token subresource of serviceaccount');
    return this.graph.hasPath(node, 'serviceaccount', a.namespace, a.name) ? ALLOW() : noRelationship(node);
  }

  /** Leases (in kube-node-lease) and CSINodes: only the one named after the node; a create's name is checked by NodeRestriction. */
  private ownNamed(node: string, a: Attributes, what: string, lease: boolean): AuthorizationResult {
    if (!['get', 'create', 'update', 'patch', 'delete'].includes(a.verb)) return NO_OPINION(`can only get, create, update, patch, or delete ${what}`);
    if (lease) {
      if (a.namespace !== NODE_LEASE_NAMESPACE) return NO_OPINION(`can only access leases in the "${NODE_LEASE_NAMESPACE}" system namespace`);
    } else if (a.subresource) {
      return NO_OPINION('cannot authorize CSINode subresources');
    }
    if (a.verb !== 'create' && a.name !== node) {
      return NO_OPINION(lease ? 'can only access node lease with the same name as the requesting node' : 'can only access CSINode with the same name as the requesting node');
    }
    return ALLOW();
  }

  private nodes(node: string, a: Attributes): AuthorizationResult {
    if (!a.subresource) {
      // Which node a write may touch is NodeRestriction's to check.
      if (a.verb === 'create' || a.verb === 'update' || a.verb === 'patch') return ALLOW();
      if (a.verb === 'get' || a.verb === 'list' || a.verb === 'watch') {
        // By name, not through the graph, so that a node may look for its Node before creating it.
        if (a.name === node) return ALLOW();
        if (!a.name) return NO_OPINION(`node '${node}' cannot read all nodes, only its own Node object`);
        return NO_OPINION(`node '${node}' cannot read '${a.name}', only its own Node object`);
      }
    } else if (a.subresource === 'status' && (a.verb === 'update' || a.verb === 'patch')) {
      return ALLOW();
    }
    return NO_OPINION();
  }

  private pods(node: string, a: Attributes): AuthorizationResult {
    switch (a.subresource) {
      case '':
        switch (a.verb) {
          case 'get':
            return this.getOnly(node, 'pod', a);
          case 'list':
          case 'watch':
            for (const r of fieldRequirements(a.fieldSelector)) {
              if (r.field === 'spec.nodeName' && r.op === '=' && r.value === node) return ALLOW();
            }
            if (a.name) return this.related(node, 'pod', a);
            return NO_OPINION('can only list/watch pods with spec.nodeName field selector');
          case 'create':
          case 'delete':
            // Mirror pods bound to itself only: NodeRestriction checks which.
            return ALLOW();
        }
        break;
      case 'status':
        if (a.verb === 'update' || a.verb === 'patch') return ALLOW();
        break;
      case 'eviction':
        if (a.verb === 'create') return ALLOW();
        break;
    }
    return NO_OPINION();
  }
}
