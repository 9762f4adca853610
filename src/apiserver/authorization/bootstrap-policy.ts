// The default RBAC policy the API server keeps reconciled at every start, restated from upstream
// v1.32 (plugin/pkg/auth/authorizer/rbac/bootstrappolicy: policy.go, controller_policy.go,
// namespace_policy.go) plus the bindings kubeadm adds for node bootstrap. Pure data.
import type { Obj } from '../../api/resource.ts';
import type { PolicyRule } from './rules.ts';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';
export const AUTOUPDATE_ANNOTATION = 'rbac.authorization.kubernetes.io/autoupdate';
const BOOTSTRAP_LABELS = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const READ_WRITE = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
const EVENTS_GROUPS = ['', 'events.k8s.io'];

/** A resource rule: verbs on resources of groups, optionally limited to names. */
export function rule(verbs: string[], apiGroups: string[], resources: string[], resourceNames?: string[]): PolicyRule {
  const r: PolicyRule = { verbs, apiGroups, resources };
  if (resourceNames?.length) r.resourceNames = resourceNames;
  return r;
}

export function urlRule(verbs: string[], nonResourceURLs: string[]): PolicyRule {
  return { verbs, nonResourceURLs };
}

const eventsRule = (): PolicyRule => rule(['create', 'update', 'patch'], EVENTS_GROUPS, ['events']);

function clusterRole(name: string, rules: PolicyRule[], extra: { labels?: Record<string, string>; aggregate?: string[] } = {}): Obj {
  const role: Obj = {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: 'ClusterRole',
    metadata: { name, labels: { ...BOOTSTRAP_LABELS, ...extra.labels }, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } },
    rules,
  };
  if (extra.aggregate) role.aggregationRule = { clusterRoleSelectors: extra.aggregate.map((l) => ({ matchLabels: { [l]: 'true' } })) };
  return role;
}

export type SubjectSpec = { kind: 'User' | 'Group'; name: string } | { kind: 'ServiceAccount'; name: string; namespace: string };

export function subject(s: SubjectSpec): Obj {
  return s.kind === 'ServiceAccount' ? { kind: s.kind, name: s.name, namespace: s.namespace } : { kind: s.kind, apiGroup: RBAC_GROUP, name: s.name };
}

const user = (name: string): SubjectSpec => ({ kind: 'User', name });
const group = (name: string): SubjectSpec => ({ kind: 'Group', name });
const sa = (namespace: string, name: string): SubjectSpec => ({ kind: 'ServiceAccount', name, namespace });

function clusterRoleBinding(name: string, roleName: string, subjects: SubjectSpec[]): Obj {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: { name, labels: { ...BOOTSTRAP_LABELS }, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } },
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: roleName },
    subjects: subjects.map(subject),
  };
}

function role(namespace: string, name: string, rules: PolicyRule[]): Obj {
  return { apiVersion: `${RBAC_GROUP}/v1`, kind: 'Role', metadata: { name, namespace, labels: { ...BOOTSTRAP_LABELS }, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } }, rules };
}

function roleBinding(namespace: string, name: string, roleName: string, subjects: SubjectSpec[]): Obj {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: 'RoleBinding',
    metadata: { name, namespace, labels: { ...BOOTSTRAP_LABELS }, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } },
    roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name: roleName },
    subjects: subjects.map(subject),
  };
}

/** The rules of the system:node role (upstream NodeRules), which nodes hold until the Node authorizer narrows them. */
export function nodeRules(): PolicyRule[] {
  return [
    rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
    rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews', 'subjectaccessreviews']),
    rule(READ, [''], ['services']),
    rule(['create', 'get', 'list', 'watch'], [''], ['nodes']),
    rule(['update', 'patch'], [''], ['nodes/status']),
    rule(['update', 'patch'], [''], ['nodes']),
    rule(['create', 'update', 'patch'], [''], ['events']),
    rule(READ, [''], ['pods']),
    rule(['create', 'delete'], [''], ['pods']),
    rule(['update', 'patch'], [''], ['pods/status']),
    rule(['create'], [''], ['pods/eviction']),
    rule(READ, [''], ['secrets', 'configmaps']),
    rule(['get'], [''], ['persistentvolumeclaims', 'persistentvolumes']),
    rule(['get'], [''], ['endpoints']),
    rule(['create', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests']),
    rule(['get', 'create', 'update', 'patch', 'delete'], ['coordination.k8s.io'], ['leases']),
    rule(['get'], ['storage.k8s.io'], ['volumeattachments']),
    rule(['get', 'update', 'patch'], [''], ['persistentvolumeclaims/status']),
    rule(['create'], [''], ['serviceaccounts/token']),
    rule(READ, ['storage.k8s.io'], ['csidrivers']),
    rule(['get', 'create', 'update', 'patch', 'delete'], ['storage.k8s.io'], ['csinodes']),
    rule(READ, ['node.k8s.io'], ['runtimeclasses']),
  ];
}

function clusterRoles(): Obj[] {
  return [
    clusterRole('cluster-admin', [rule(['*'], ['*'], ['*']), urlRule(['*'], ['*'])]),
    clusterRole('system:discovery', [urlRule(['get'], ['/livez', '/readyz', '/healthz', '/version', '/version/', '/openapi', '/openapi/*', '/api', '/api/*', '/apis', '/apis/*'])]),
    clusterRole('system:monitoring', [urlRule(['get'], ['/metrics', '/metrics/slis', '/livez', '/readyz', '/healthz', '/livez/*', '/readyz/*', '/healthz/*'])]),
    clusterRole('system:basic-user', [
      rule(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
      rule(['create'], ['authentication.k8s.io'], ['selfsubjectreviews']),
    ]),
    clusterRole('system:public-info-viewer', [urlRule(['get'], ['/livez', '/readyz', '/healthz', '/version', '/version/'])]),
    // Ordinal's own: the live view's static page (src/ui). See ordinal:ui below.
    clusterRole('ordinal:ui', [urlRule(['get'], ['/ui', '/ui/*'])]),
    clusterRole('admin', [], { aggregate: ['rbac.authorization.k8s.io/aggregate-to-admin'] }),
    clusterRole('edit', [], { labels: { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' }, aggregate: ['rbac.authorization.k8s.io/aggregate-to-edit'] }),
    clusterRole('view', [], { labels: { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' }, aggregate: ['rbac.authorization.k8s.io/aggregate-to-view'] }),
    clusterRole('system:aggregate-to-admin', [
      rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']),
      rule(READ_WRITE, [RBAC_GROUP], ['rolebindings', 'roles']),
    ], { labels: { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' } }),
    clusterRole('system:aggregate-to-edit', [
      rule(READ, [''], ['pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward', 'secrets', 'services/proxy']),
      rule(['impersonate'], [''], ['serviceaccounts']),
      rule(WRITE, [''], ['pods', 'pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward']),
      rule(['create'], [''], ['pods/eviction']),
      rule(WRITE, [''], ['replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/proxy', 'persistentvolumeclaims', 'configmaps', 'secrets', 'events']),
      rule(['create'], [''], ['serviceaccounts/token']),
      rule(WRITE, ['apps'], ['statefulsets', 'statefulsets/scale', 'daemonsets', 'deployments', 'deployments/scale', 'deployments/rollback', 'replicasets', 'replicasets/scale']),
      rule(WRITE, ['autoscaling'], ['horizontalpodautoscalers']),
      rule(WRITE, ['batch'], ['jobs', 'cronjobs']),
      rule(WRITE, ['extensions'], ['daemonsets', 'deployments', 'deployments/scale', 'deployments/rollback', 'ingresses', 'replicasets', 'replicasets/scale', 'replicationcontrollers/scale', 'networkpolicies']),
      rule(WRITE, ['policy'], ['poddisruptionbudgets']),
      rule(WRITE, ['networking.k8s.io'], ['networkpolicies', 'ingresses']),
      rule(WRITE, ['coordination.k8s.io'], ['leases']),
    ], { labels: { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' } }),
    clusterRole('system:aggregate-to-view', [
      rule(READ, [''], ['pods', 'replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'configmaps']),
      rule(READ, [''], ['limitranges', 'resourcequotas', 'bindings', 'events', 'pods/status', 'resourcequotas/status', 'namespaces/status', 'replicationcontrollers/status', 'pods/log']),
      rule(READ, [''], ['namespaces']),
      rule(READ, ['discovery.k8s.io'], ['endpointslices']),
      rule(READ, ['apps'], ['controllerrevisions', 'statefulsets', 'statefulsets/status', 'statefulsets/scale', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/status', 'deployments/scale', 'replicasets', 'replicasets/status', 'replicasets/scale']),
      rule(READ, ['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
      rule(READ, ['batch'], ['jobs', 'cronjobs', 'cronjobs/status', 'jobs/status']),
      rule(READ, ['extensions'], ['daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'ingresses', 'ingresses/status', 'replicasets', 'replicasets/scale', 'replicasets/status', 'replicationcontrollers/scale', 'networkpolicies']),
      rule(READ, ['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
      rule(READ, ['networking.k8s.io'], ['networkpolicies', 'ingresses', 'ingresses/status']),
    ], { labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } }),
    clusterRole('system:heapster', [rule(READ, [''], ['events', 'pods', 'nodes', 'namespaces']), rule(READ, ['extensions'], ['deployments'])]),
    clusterRole('system:node', nodeRules()),
    clusterRole('system:node-problem-detector', [rule(['get'], [''], ['nodes']), rule(['patch'], [''], ['nodes/status']), eventsRule()]),
    clusterRole('system:kubelet-api-admin', [
      rule(['get', 'list', 'watch'], [''], ['nodes']),
      rule(['proxy'], [''], ['nodes']),
      rule(['*'], [''], ['nodes/proxy', 'nodes/metrics', 'nodes/stats', 'nodes/log']),
    ]),
    clusterRole('system:node-bootstrapper', [rule(['create', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests'])]),
    clusterRole('system:auth-delegator', [
      rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
    ]),
    clusterRole('system:kube-aggregator', [rule(READ, [''], ['services', 'endpoints'])]),
    clusterRole('system:kube-controller-manager', [
      eventsRule(),
      rule(['create'], ['coordination.k8s.io'], ['leases']),
      rule(['get', 'update'], ['coordination.k8s.io'], ['leases'], ['kube-controller-manager']),
      rule(['create'], [''], ['secrets', 'serviceaccounts']),
      rule(['delete'], [''], ['secrets']),
      rule(['get'], [''], ['namespaces', 'secrets', 'serviceaccounts', 'configmaps']),
      rule(['update'], [''], ['secrets', 'serviceaccounts']),
      rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
      rule(['list', 'watch'], ['*'], ['*']),
      rule(['create'], [''], ['serviceaccounts/token']),
    ]),
    clusterRole('system:kube-dns', [rule(['list', 'watch'], [''], ['endpoints', 'services'])]),
    clusterRole('system:persistent-volume-provisioner', [
      rule(['get', 'list', 'watch', 'create', 'delete'], [''], ['persistentvolumes']),
      rule(['get', 'list', 'watch', 'update'], [''], ['persistentvolumeclaims']),
      rule(READ, ['storage.k8s.io'], ['storageclasses']),
      rule(['watch'], EVENTS_GROUPS, ['events']),
      eventsRule(),
    ]),
    clusterRole('system:certificates.k8s.io:certificatesigningrequests:nodeclient', [rule(['create'], ['certificates.k8s.io'], ['certificatesigningrequests/nodeclient'])]),
    clusterRole('system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', [rule(['create'], ['certificates.k8s.io'], ['certificatesigningrequests/selfnodeclient'])]),
    ...['legacy-unknown', 'kubelet-serving', 'kube-apiserver-client', 'kube-apiserver-client-kubelet'].map((s) =>
      clusterRole(`system:certificates.k8s.io:${s}-approver`, [rule(['approve'], ['certificates.k8s.io'], ['signers'], [`kubernetes.io/${s}`])]),
    ),
    clusterRole('system:service-account-issuer-discovery', [urlRule(['get'], ['/.well-known/openid-configuration', '/.well-known/openid-configuration/', '/openid/v1/jwks', '/openid/v1/jwks/'])]),
    clusterRole('system:node-proxier', [
      rule(['list', 'watch'], [''], ['services', 'endpoints']),
      rule(['get', 'list', 'watch'], [''], ['nodes']),
      eventsRule(),
      rule(['list', 'watch'], ['discovery.k8s.io'], ['endpointslices']),
    ]),
    clusterRole('system:kube-scheduler', [
      eventsRule(),
      rule(['create'], ['coordination.k8s.io'], ['leases']),
      rule(['get', 'update'], ['coordination.k8s.io'], ['leases'], ['kube-scheduler']),
      rule(['create'], ['coordination.k8s.io'], ['leasecandidates']),
      rule(['delete', 'get', 'list', 'update', 'watch'], ['coordination.k8s.io'], ['leasecandidates']),
      rule(READ, [''], ['nodes']),
      rule(READ, [''], ['namespaces']),
      rule(['get', 'list', 'watch', 'delete'], [''], ['pods']),
      rule(['create'], [''], ['bindings', 'pods/binding']),
      rule(['patch', 'update'], [''], ['pods/status']),
      rule(READ, [''], ['replicationcontrollers', 'services']),
      rule(READ, ['apps', 'extensions'], ['replicasets']),
      rule(READ, ['apps'], ['statefulsets']),
      rule(READ, ['policy'], ['poddisruptionbudgets']),
      rule(READ, [''], ['persistentvolumeclaims', 'persistentvolumes']),
      rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
      rule(READ, ['storage.k8s.io'], ['csinodes']),
      rule(READ, [''], ['configmaps']),
      rule(READ, ['storage.k8s.io'], ['csidrivers', 'csistoragecapacities']),
    ]),
    // Created by kubeadm with CoreDNS (not by the API server); the cluster DNS reads these.
    clusterRole('system:coredns', [
      rule(['list', 'watch'], [''], ['endpoints', 'services', 'pods', 'namespaces']),
      rule(['list', 'watch'], ['discovery.k8s.io'], ['endpointslices']),
    ]),
    clusterRole('system:volume-scheduler', [
      rule(['get', 'list', 'patch', 'update', 'watch'], [''], ['persistentvolumes']),
      rule(READ, ['storage.k8s.io'], ['storageclasses']),
      rule(['get', 'list', 'patch', 'update', 'watch'], [''], ['persistentvolumeclaims']),
    ]),
    ...controllerRoles().map(([name, rules]) => clusterRole(`system:controller:${name}`, rules)),
  ];
}

/** system:controller:<name> roles of the controllers upstream ships (controller_policy.go), each with events. */
export function controllerRoles(): [string, PolicyRule[]][] {
  const roles: [string, PolicyRule[]][] = [
    ['attachdetach-controller', [
      rule(['list', 'watch'], [''], ['persistentvolumes', 'persistentvolumeclaims']),
      rule(['get', 'list', 'watch'], [''], ['nodes']),
      rule(['patch', 'update'], [''], ['nodes/status']),
      rule(['list', 'watch'], [''], ['pods']),
      rule(['create', 'delete', 'get', 'list', 'watch'], ['storage.k8s.io'], ['volumeattachments']),
      rule(['get', 'watch', 'list'], ['storage.k8s.io'], ['csidrivers']),
      rule(['get', 'watch', 'list'], ['storage.k8s.io'], ['csinodes']),
    ]],
    ['clusterrole-aggregation-controller', [rule(['escalate', 'get', 'list', 'watch', 'update', 'patch'], [RBAC_GROUP], ['clusterroles'])]],
    ['cronjob-controller', [
      rule(['get', 'list', 'watch', 'update'], ['batch'], ['cronjobs']),
      rule(['get', 'list', 'watch', 'create', 'update', 'delete', 'patch'], ['batch'], ['jobs']),
      rule(['update'], ['batch'], ['cronjobs/status']),
      rule(['update'], ['batch'], ['cronjobs/finalizers']),
      rule(['list', 'delete'], [''], ['pods']),
    ]],
    ['daemon-set-controller', [
      rule(['get', 'list', 'watch'], ['apps', 'extensions'], ['daemonsets']),
      rule(['update'], ['apps', 'extensions'], ['daemonsets/status']),
      rule(['update'], ['apps', 'extensions'], ['daemonsets/finalizers']),
      rule(['list', 'watch'], [''], ['nodes']),
      rule(['list', 'watch', 'create', 'delete', 'patch'], [''], ['pods']),
      rule(['create'], [''], ['pods/binding']),
      rule(['get', 'list', 'watch', 'create', 'delete', 'update', 'patch'], ['apps'], ['controllerrevisions']),
    ]],
    ['deployment-controller', [
      rule(['get', 'list', 'watch', 'update'], ['apps', 'extensions'], ['deployments']),
      rule(['update'], ['apps', 'extensions'], ['deployments/status']),
      rule(['update'], ['apps', 'extensions'], ['deployments/finalizers']),
      rule(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'], ['apps', 'extensions'], ['replicasets']),
      rule(['get', 'list', 'watch', 'update'], [''], ['pods']),
    ]],
    ['disruption-controller', [
      rule(['get', 'list', 'watch'], ['apps', 'extensions'], ['deployments']),
      rule(['get', 'list', 'watch'], ['apps', 'extensions'], ['replicasets']),
      rule(['get', 'list', 'watch'], [''], ['replicationcontrollers']),
      rule(['get', 'list', 'watch'], ['policy'], ['poddisruptionbudgets']),
      rule(['get', 'list', 'watch'], ['apps'], ['statefulsets']),
      rule(['update'], ['policy'], ['poddisruptionbudgets/status']),
      rule(['get'], ['*'], ['*/scale']),
      rule(['patch', 'update'], [''], ['pods/status']),
    ]],
    ['endpoint-controller', [
      rule(['get', 'list', 'watch'], [''], ['services', 'pods']),
      rule(['get', 'list', 'create', 'update', 'delete'], [''], ['endpoints']),
      rule(['create'], [''], ['endpoints/restricted']),
    ]],
    ['endpointslice-controller', [
      rule(['get', 'list', 'watch'], [''], ['services', 'pods', 'nodes']),
      rule(['update'], [''], ['services/finalizers']),
      rule(['create', 'update', 'delete'], ['discovery.k8s.io'], ['endpointslices']),
      rule(['get', 'list', 'watch'], ['discovery.k8s.io'], ['endpointslices']),
    ]],
    ['endpointslicemirroring-controller', [
      rule(['get', 'list', 'watch'], [''], ['services', 'endpoints']),
      rule(['update'], [''], ['services/finalizers']),
      rule(['update'], [''], ['endpoints/finalizers']),
      rule(['create', 'update', 'delete'], ['discovery.k8s.io'], ['endpointslices']),
      rule(['get', 'list', 'watch'], ['discovery.k8s.io'], ['endpointslices']),
    ]],
    ['ephemeral-volume-controller', [
      rule(['get', 'list', 'watch'], [''], ['pods']),
      rule(['update'], [''], ['pods/finalizers']),
      rule(['get', 'list', 'watch', 'create'], [''], ['persistentvolumeclaims']),
    ]],
    ['expand-controller', [
      rule(['get', 'list', 'watch', 'update', 'patch'], [''], ['persistentvolumes']),
      rule(['update', 'patch'], [''], ['persistentvolumeclaims/status']),
      rule(['get', 'list', 'watch'], [''], ['persistentvolumeclaims']),
      rule(['get', 'list', 'watch'], ['storage.k8s.io'], ['storageclasses']),
      rule(['get'], [''], ['endpoints', 'services']),
      rule(['get'], [''], ['secrets']),
    ]],
    ['generic-garbage-collector', [rule(['get', 'list', 'watch', 'patch', 'update', 'delete'], ['*'], ['*'])]],
    ['horizontal-pod-autoscaler', [
      rule(['get', 'list', 'watch'], ['autoscaling'], ['horizontalpodautoscalers']),
      rule(['update'], ['autoscaling'], ['horizontalpodautoscalers/status']),
      rule(['get', 'update'], ['*'], ['*/scale']),
      rule(['list'], [''], ['pods']),
      rule(['list'], ['metrics.k8s.io'], ['pods']),
      rule(['get', 'list'], ['custom.metrics.k8s.io'], ['*']),
      rule(['get', 'list'], ['external.metrics.k8s.io'], ['*']),
    ]],
    ['job-controller', [
      rule(['get', 'list', 'watch', 'update', 'patch'], ['batch'], ['jobs']),
      rule(['update'], ['batch'], ['jobs/status']),
      rule(['update'], ['batch'], ['jobs/finalizers']),
      rule(['list', 'watch', 'create', 'delete', 'patch'], [''], ['pods']),
    ]],
    ['legacy-service-account-token-cleaner', [
      rule(['get'], [''], ['configmaps'], ['kube-apiserver-legacy-service-account-token-tracking']),
      rule(['patch', 'delete'], [''], ['secrets']),
    ]],
    ['namespace-controller', [
      rule(['get', 'list', 'watch', 'delete'], [''], ['namespaces']),
      rule(['update'], [''], ['namespaces/finalize', 'namespaces/status']),
      rule(['get', 'list', 'delete', 'deletecollection'], ['*'], ['*']),
    ]],
    ['node-controller', [
      rule(['get', 'list', 'update', 'delete', 'patch'], [''], ['nodes']),
      rule(['patch', 'update'], [''], ['nodes/status']),
      rule(['patch', 'update'], [''], ['pods/status']),
      rule(['list', 'delete'], [''], ['pods']),
      rule(['get'], [''], ['pods']),
    ]],
    ['persistent-volume-binder', [
      rule(['get', 'list', 'watch', 'update', 'create', 'delete'], [''], ['persistentvolumes']),
      rule(['update'], [''], ['persistentvolumes/status']),
      rule(['get', 'list', 'watch', 'update'], [''], ['persistentvolumeclaims']),
      rule(['update'], [''], ['persistentvolumeclaims/status']),
      rule(['list', 'watch', 'get', 'create', 'delete'], [''], ['pods']),
      rule(['get', 'list', 'watch'], ['storage.k8s.io'], ['storageclasses']),
      rule(['list', 'watch'], [''], ['nodes']),
      rule(['watch'], EVENTS_GROUPS, ['events']),
      rule(['get'], [''], ['services']),
    ]],
    ['pod-garbage-collector', [
      rule(['list', 'watch', 'delete'], [''], ['pods']),
      rule(['get', 'list'], [''], ['nodes']),
      rule(['patch'], [''], ['pods/status']),
    ]],
    ['pv-protection-controller', [rule(['get', 'list', 'watch', 'update'], [''], ['persistentvolumes'])]],
    ['pvc-protection-controller', [
      rule(['get', 'list', 'watch', 'update'], [''], ['persistentvolumeclaims']),
      rule(['list', 'watch', 'get'], [''], ['pods']),
    ]],
    ['replicaset-controller', [
      rule(['get', 'list', 'watch', 'update'], ['apps', 'extensions'], ['replicasets']),
      rule(['update'], ['apps', 'extensions'], ['replicasets/status']),
      rule(['update'], ['apps', 'extensions'], ['replicasets/finalizers']),
      rule(['list', 'watch', 'patch', 'create', 'delete'], [''], ['pods']),
    ]],
    ['replication-controller', [
      rule(['get', 'list', 'watch', 'update'], [''], ['replicationcontrollers']),
      rule(['update'], [''], ['replicationcontrollers/status']),
      rule(['update'], [''], ['replicationcontrollers/finalizers']),
      rule(['list', 'watch', 'patch', 'create', 'delete'], [''], ['pods']),
    ]],
    ['resourcequota-controller', [
      rule(['list', 'watch'], ['*'], ['*']),
      rule(['update'], [''], ['resourcequotas/status']),
    ]],
    ['route-controller', [rule(['list', 'watch'], [''], ['nodes']), rule(['patch'], [''], ['nodes/status'])]],
    ['service-account-controller', [rule(['create'], [''], ['serviceaccounts'])]],
    ['service-controller', [
      rule(['get', 'list', 'watch'], [''], ['services']),
      rule(['patch', 'update'], [''], ['services/status']),
      rule(['list', 'watch'], [''], ['nodes']),
    ]],
    ['statefulset-controller', [
      rule(['list', 'watch'], [''], ['pods']),
      rule(['get', 'list', 'watch'], ['apps'], ['statefulsets']),
      rule(['update'], ['apps'], ['statefulsets/status']),
      rule(['update'], ['apps'], ['statefulsets/finalizers']),
      rule(['get', 'create', 'delete', 'update', 'patch'], [''], ['pods']),
      rule(['get', 'create', 'delete', 'update', 'patch', 'list', 'watch'], ['apps'], ['controllerrevisions']),
      rule(['get', 'create'], [''], ['persistentvolumeclaims']),
      rule(['update', 'delete'], [''], ['persistentvolumeclaims']),
      rule(['update'], [''], ['pods/finalizers']),
    ]],
    ['ttl-controller', [rule(['update', 'patch', 'list', 'watch'], [''], ['nodes'])]],
    ['certificate-controller', [
      rule(['get', 'list', 'watch', 'delete'], ['certificates.k8s.io'], ['certificatesigningrequests']),
      rule(['update'], ['certificates.k8s.io'], ['certificatesigningrequests/status', 'certificatesigningrequests/approval']),
      rule(['approve'], ['certificates.k8s.io'], ['signers'], ['kubernetes.io/kube-apiserver-client-kubelet']),
      rule(['sign'], ['certificates.k8s.io'], ['signers'], ['kubernetes.io/kube-apiserver-client', 'kubernetes.io/kube-apiserver-client-kubelet', 'kubernetes.io/kubelet-serving', 'kubernetes.io/legacy-unknown']),
      rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
    ]],
    ['ttl-after-finished-controller', [rule(['get', 'list', 'watch', 'delete'], ['batch'], ['jobs'])]],
    ['root-ca-cert-publisher', [rule(['create', 'update'], [''], ['configmaps'])]],
    ['validatingadmissionpolicy-status-controller', [
      rule(['get', 'list', 'watch'], ['admissionregistration.k8s.io'], ['validatingadmissionpolicies']),
      rule(['get', 'patch', 'update'], ['admissionregistration.k8s.io'], ['validatingadmissionpolicies/status']),
    ]],
  ];
  // Listed once each, every one with the events rule.
  const seen = new Set<string>();
  return roles.filter(([n]) => !seen.has(n) && seen.add(n)).map(([n, rules]) => [n, [...rules, eventsRule()]]);
}

function clusterRoleBindings(): Obj[] {
  return [
    clusterRoleBinding('cluster-admin', 'cluster-admin', [group('system:masters')]),
    clusterRoleBinding('system:monitoring', 'system:monitoring', [group('system:monitoring')]),
    clusterRoleBinding('system:discovery', 'system:discovery', [group('system:authenticated')]),
    clusterRoleBinding('system:basic-user', 'system:basic-user', [group('system:authenticated')]),
    clusterRoleBinding('system:public-info-viewer', 'system:public-info-viewer', [group('system:authenticated'), group('system:unauthenticated')]),
    // Every authenticated user may load the live view's page (as system:discovery lets them read
    // what the API serves): it holds no data, and each request it makes for data is authorized as
    // its caller. Not in view/edit/admin: those are granted per namespace too, and non-resource
    // URLs are only granted through cluster bindings. Not to the unauthenticated: the page is of
    // no use without credentials for the data.
    clusterRoleBinding('ordinal:ui', 'ordinal:ui', [group('system:authenticated')]),
    clusterRoleBinding('system:node-proxier', 'system:node-proxier', [user('system:kube-proxy')]),
    clusterRoleBinding('system:kube-controller-manager', 'system:kube-controller-manager', [user('system:kube-controller-manager')]),
    clusterRoleBinding('system:kube-dns', 'system:kube-dns', [sa('kube-system', 'kube-dns')]),
    clusterRoleBinding('system:kube-scheduler', 'system:kube-scheduler', [user('system:kube-scheduler')]),
    clusterRoleBinding('system:volume-scheduler', 'system:volume-scheduler', [user('system:kube-scheduler')]),
    // Upstream keeps this binding without subjects since the Node authorizer took over (1.8).
    clusterRoleBinding('system:node', 'system:node', []),
    clusterRoleBinding('system:service-account-issuer-discovery', 'system:service-account-issuer-discovery', [group('system:serviceaccounts')]),
    ...controllerRoles().map(([n]) => clusterRoleBinding(`system:controller:${n}`, `system:controller:${n}`, [sa('kube-system', n)])),
  ];
}

/** The group every bootstrap token is in; kubeadm binds its default token group the same way. */
export const BOOTSTRAPPERS_GROUP = 'system:bootstrappers';
export const NODES_GROUP = 'system:nodes';

/**
 * Bindings for joining nodes, as kubeadm creates them (kubeadm:kubelet-bootstrap,
 * kubeadm:node-autoapprove-bootstrap, kubeadm:node-autoapprove-certificate-rotation). What a node
 * may do as a kubelet is the Node authorizer's (system:node is bound to no one, as upstream since
 * 1.8); beyond a kubelet, Ordinal's node agents run the service proxy and the cluster DNS, so
 * nodes hold kube-proxy's system:node-proxier role (list/watch services, endpoints,
 * endpointslices; read nodes, for the proxy and the host-gateway routes) and kubeadm's
 * system:coredns role (list/watch endpoints, services, endpointslices, pods, namespaces).
 */
function nodeJoinBindings(): Obj[] {
  return [
    clusterRoleBinding('kubeadm:kubelet-bootstrap', 'system:node-bootstrapper', [group(BOOTSTRAPPERS_GROUP)]),
    clusterRoleBinding('kubeadm:node-autoapprove-bootstrap', 'system:certificates.k8s.io:certificatesigningrequests:nodeclient', [group(BOOTSTRAPPERS_GROUP)]),
    clusterRoleBinding('kubeadm:node-autoapprove-certificate-rotation', 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', [group(NODES_GROUP)]),
    clusterRoleBinding('ordinal:node-proxier', 'system:node-proxier', [group(NODES_GROUP)]),
    // kubeadm's CoreDNS role and binding; Ordinal's node agents answer cluster DNS themselves.
    clusterRoleBinding('system:coredns', 'system:coredns', [sa('kube-system', 'coredns')]),
    clusterRoleBinding('ordinal:node-dns', 'system:coredns', [group(NODES_GROUP)]),
  ];
}

/**
 * Default bindings earlier versions of Ordinal created and that must not outlive an upgrade:
 * ordinal:nodes gave every node the whole system:node role before the Node authorizer existed.
 * Removed at start unless an administrator turned their auto-update off.
 */
export const RETIRED_CLUSTER_ROLE_BINDINGS = ['ordinal:nodes'];

function namespacedPolicy(): Obj[] {
  const ks = 'kube-system';
  return [
    role(ks, 'extension-apiserver-authentication-reader', [rule(['get', 'list', 'watch'], [''], ['configmaps'], ['extension-apiserver-authentication'])]),
    role(ks, 'system::leader-locking-kube-controller-manager', [
      rule(['watch'], [''], ['configmaps']),
      rule(['get', 'update'], [''], ['configmaps'], ['kube-controller-manager']),
    ]),
    role(ks, 'system::leader-locking-kube-scheduler', [
      rule(['watch'], [''], ['configmaps']),
      rule(['get', 'update'], [''], ['configmaps'], ['kube-scheduler']),
    ]),
    role(ks, 'system:controller:bootstrap-signer', [rule(['get', 'list', 'watch'], [''], ['secrets'])]),
    role(ks, 'system:controller:cloud-provider', [rule(['create', 'get', 'list', 'watch'], [''], ['configmaps'])]),
    role(ks, 'system:controller:token-cleaner', [rule(['delete', 'get', 'list', 'watch'], [''], ['secrets']), eventsRule()]),
    role('kube-public', 'system:controller:bootstrap-signer', [rule(['get', 'list', 'watch'], [''], ['configmaps']), rule(['update'], [''], ['configmaps'], ['cluster-info']), eventsRule()]),
    roleBinding(ks, 'system::extension-apiserver-authentication-reader', 'extension-apiserver-authentication-reader', [user('system:kube-controller-manager'), user('system:kube-scheduler')]),
    roleBinding(ks, 'system::leader-locking-kube-controller-manager', 'system::leader-locking-kube-controller-manager', [user('system:kube-controller-manager'), sa(ks, 'kube-controller-manager'), sa(ks, 'leader-election-controller')]),
    roleBinding(ks, 'system::leader-locking-kube-scheduler', 'system::leader-locking-kube-scheduler', [user('system:kube-scheduler'), sa(ks, 'kube-scheduler')]),
    roleBinding(ks, 'system:controller:bootstrap-signer', 'system:controller:bootstrap-signer', [sa(ks, 'bootstrap-signer')]),
    roleBinding(ks, 'system:controller:cloud-provider', 'system:controller:cloud-provider', [sa(ks, 'cloud-provider')]),
    roleBinding(ks, 'system:controller:token-cleaner', 'system:controller:token-cleaner', [sa(ks, 'token-cleaner')]),
    roleBinding('kube-public', 'system:controller:bootstrap-signer', 'system:controller:bootstrap-signer', [sa(ks, 'bootstrap-signer')]),
  ];
}

/** Every object of the default policy, cluster roles first so that bindings never dangle. */
export function bootstrapPolicy(): { clusterRoles: Obj[]; clusterRoleBindings: Obj[]; roles: Obj[]; roleBindings: Obj[] } {
  const ns = namespacedPolicy();
  return {
    clusterRoles: clusterRoles(),
    clusterRoleBindings: [...clusterRoleBindings(), ...nodeJoinBindings()],
    roles: ns.filter((o) => o.kind === 'Role'),
    roleBindings: ns.filter((o) => o.kind === 'RoleBinding'),
  };
}
