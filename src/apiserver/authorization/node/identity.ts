// Which node a user is (upstream pkg/auth/nodeidentifier): a node's credentials name it
// `system:node:<name>` and put it in the group system:nodes; both are needed to be treated as a
// node, so a user merely named like a node is judged by RBAC alone.
import type { RequestUser } from '../../../api/resource.ts';

export const NODE_USER_PREFIX = 'system:node:';
export const NODES_GROUP = 'system:nodes';

/** undefined: not a node. '': a node whose name cannot be told (refused by the Node authorizer and NodeRestriction). */
export function nodeIdentity(user: RequestUser): string | undefined {
  if (!user.user.startsWith(NODE_USER_PREFIX)) return undefined;
  if (!user.groups.includes(NODES_GROUP)) return undefined;
  return user.user.slice(NODE_USER_PREFIX.length);
}

/** The identity a node agent acts as: what its joined certificate says (CN system:node:<name>, O system:nodes). */
export function nodeUser(nodeName: string): RequestUser {
  return { user: `${NODE_USER_PREFIX}${nodeName}`, groups: [NODES_GROUP, 'system:authenticated'] };
}
