// rbac.authorization.k8s.io/v1: Role, ClusterRole, RoleBinding, ClusterRoleBinding.
import { defineComponents } from '../schema.ts';
import { str, refTo, obj, strings, arrOf, kindWithList, gvk, atomic, atomicStruct, META } from './helpers.ts';

const R = 'io.k8s.api.rbac.v1.';
const G = 'rbac.authorization.k8s.io';

const rules = arrOf(R + 'PolicyRule', 'The PolicyRules of this role.', atomic);

defineComponents({
  [R + 'PolicyRule']: obj('What a role allows: verbs on resources of API groups (optionally only some names), or verbs on non-resource URLs.', {
    apiGroups: strings('The API groups of the resources; "" is the core group, "*" every group.', atomic),
    nonResourceURLs: strings('Partial URLs a user may reach, such as /healthz; a trailing * matches any suffix. Only in ClusterRoles bound by ClusterRoleBindings.', atomic),
    resourceNames: strings('An optional list of object names the rule is limited to; empty means all.', atomic),
    resources: strings('The resources the rule applies to; "*" means all, "*/sub" a subresource of every resource.', atomic),
    verbs: strings('The verbs the rule allows; "*" means all.', atomic),
  }, { required: ['verbs'] }),
  ...kindWithList(R + 'Role', 'A namespaced set of PolicyRules, bound to subjects by RoleBindings.', gvk(G, 'v1', 'Role'), { rules }, 'Roles'),
  ...kindWithList(R + 'ClusterRole', 'A cluster-level set of PolicyRules, bound by RoleBindings (in one namespace) or ClusterRoleBindings (everywhere).', gvk(G, 'v1', 'ClusterRole'), {
    aggregationRule: refTo(R + 'AggregationRule', 'When set, the controller manages the rules: they are the union of the rules of the ClusterRoles its selectors match.'),
    rules,
  }, 'ClusterRoles'),
  [R + 'AggregationRule']: obj('How a ClusterRole is combined from others.', {
    clusterRoleSelectors: arrOf(META + 'LabelSelector', 'Selectors of the ClusterRoles whose rules are combined; a role matching any is included.', atomic),
  }),
  [R + 'RoleRef']: obj('The role a binding grants.', {
    apiGroup: str('The group of the role: rbac.authorization.k8s.io.', { default: '' }),
    kind: str('Role or ClusterRole.', { default: '' }),
    name: str('The name of the role.', { default: '' }),
  }, { required: ['apiGroup', 'kind', 'name'], ...atomicStruct }),
  [R + 'Subject']: obj('Who a binding grants the role to: a user, a group or a service account.', {
    apiGroup: str('"" for ServiceAccount subjects, rbac.authorization.k8s.io for User and Group subjects.'),
    kind: str('User, Group or ServiceAccount.', { default: '' }),
    name: str('The name of the subject.', { default: '' }),
    namespace: str('The namespace of a ServiceAccount subject.'),
  }, { required: ['kind', 'name'], ...atomicStruct }),
  ...kindWithList(R + 'RoleBinding', 'Grants the rules of a Role, or of a ClusterRole, to subjects within one namespace.', gvk(G, 'v1', 'RoleBinding'), {
    roleRef: refTo(R + 'RoleRef', 'The Role or ClusterRole granted. Cannot be changed.', { default: {} }),
    subjects: arrOf(R + 'Subject', 'Who the role is granted to.', atomic),
  }, 'RoleBindings', { required: ['roleRef'] }),
  ...kindWithList(R + 'ClusterRoleBinding', 'Grants the rules of a ClusterRole to subjects across the cluster.', gvk(G, 'v1', 'ClusterRoleBinding'), {
    roleRef: refTo(R + 'RoleRef', 'The ClusterRole granted. Cannot be changed.', { default: {} }),
    subjects: arrOf(R + 'Subject', 'Who the role is granted to.', atomic),
  }, 'ClusterRoleBindings', { required: ['roleRef'] }),
});
