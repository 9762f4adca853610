// core/v1 Pod and everything a pod template is made of: containers, probes, volumes,
// scheduling constraints, security settings and status.
import { defineComponents } from '../schema.ts';
import {
  META, CORE,
  str, strEnum, int32, int64, bool, refTo, arr, arrOf, strings, strMap, quantityMap, obj, time,
  intOrString, quantity, kindWithList, kindSchema, gvk,
  atomic, atomicStruct, mapList, conditionsList,
} from './helpers.ts';

const C = (name: string) => CORE + name;
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

// Fields shared by Container and EphemeralContainer (upstream declares them twice, identically
// except for the descriptions that forbid some of them on ephemeral containers).
function containerFields(ephemeral: boolean): Record<string, ReturnType<typeof str>> {
  const notEphemeral = ephemeral ? ' Not allowed for ephemeral containers.' : '';
  return {
    args: strings('Arguments passed to the entrypoint. The image\'s CMD is used if omitted. $(VAR) references to container environment variables are expanded; $$ escapes a literal $. Cannot be updated.', atomic),
    command: strings('The entrypoint, run without a shell. The image\'s ENTRYPOINT is used if omitted. $(VAR) references are expanded as for args. Cannot be updated.', atomic),
    env: arrOf(C('EnvVar'), 'Environment variables to set in the container. Cannot be updated.', mapList(['name'], 'name')),
    envFrom: arrOf(C('EnvFromSource'), 'Sources (ConfigMaps or Secrets) whose keys all become environment variables. Keys that are not valid variable names are skipped; variables from env win over these. Cannot be updated.', atomic),
    image: str('The container image to run, e.g. "nginx:1.27". Workload controllers may leave it empty in templates they fill in later.'),
    imagePullPolicy: strEnum('When to pull the image: Always, Never or IfNotPresent. Defaults to Always for the :latest tag (or no tag) and to IfNotPresent otherwise. Cannot be updated.', ['Always', 'IfNotPresent', 'Never']),
    lifecycle: refTo(C('Lifecycle'), 'Actions the kubelet runs right after the container starts and right before it is stopped.' + notEphemeral),
    livenessProbe: refTo(C('Probe'), 'Periodic check that the container is still alive; the container is restarted when it fails. Cannot be updated.' + notEphemeral),
    name: str(ephemeral
      ? 'Name of the ephemeral container, a DNS label unique among all containers of the pod.'
      : 'Name of the container, a DNS label unique within the pod. Cannot be updated.'),
    ports: arrOf(C('ContainerPort'), ephemeral
      ? 'Ports are not allowed for ephemeral containers.'
      : 'Ports the container exposes. Informational: any port the process listens on is reachable whether listed or not, but listing it lets others refer to it by name. Cannot be updated.',
      { ...mapList(['containerPort', 'protocol'], 'containerPort') }),
    readinessProbe: refTo(C('Probe'), 'Periodic check of whether the container is ready to serve; an unready pod is removed from service endpoints. Cannot be updated.' + notEphemeral),
    resizePolicy: arrOf(C('ContainerResizePolicy'), 'How each resource of the container may be resized in place.', atomic),
    resources: refTo(C('ResourceRequirements'), ephemeral
      ? 'Resources are not allowed for ephemeral containers; they use the pod\'s already allocated resources.'
      : 'Compute resources (CPU, memory, ...) the container requests and is limited to.', { default: {} }),
    restartPolicy: str(ephemeral
      ? 'Restart policy of the container; not settable for ephemeral containers.'
      : 'Only for init containers: "Always" turns the init container into a sidecar that starts before the app containers and keeps running alongside them.'),
    securityContext: refTo(C('SecurityContext'), 'Security options for this container, overriding the pod-level ones where both are set.'),
    startupProbe: refTo(C('Probe'), 'Check that must succeed before the other probes start; if it fails the container is restarted. Lets slow-starting containers avoid liveness failures. Cannot be updated.' + notEphemeral),
    stdin: bool('Allocate a stdin buffer for the container at runtime. Defaults to false.'),
    stdinOnce: bool('Close stdin after the first attached client disconnects. Defaults to false.'),
    ...(ephemeral ? {
      targetContainerName: str('Name of the pod container whose namespaces (IPC, PID, ...) this ephemeral container joins. Defaults to the pod\'s shared namespaces.'),
    } : {}),
    terminationMessagePath: str('File in the container whose contents are reported as the termination message. Defaults to /dev/termination-log. Cannot be updated.'),
    terminationMessagePolicy: strEnum('How the termination message is filled: File uses only the file; FallbackToLogsOnError uses the tail of the log when the file is empty and the container failed. Defaults to File. Cannot be updated.', ['FallbackToLogsOnError', 'File']),
    tty: bool('Allocate a TTY for the container; also needs stdin. Defaults to false.'),
    volumeDevices: arrOf(C('VolumeDevice'), 'Raw block volumes to expose inside the container.', mapList(['devicePath'], 'devicePath')),
    volumeMounts: arrOf(C('VolumeMount'), 'Pod volumes to mount into the container\'s filesystem. Cannot be updated.', mapList(['mountPath'], 'mountPath')),
    workingDir: str('Working directory of the entrypoint; defaults to the image\'s. Cannot be updated.'),
  };
}

const SELECTOR_OPS = ['DoesNotExist', 'Exists', 'Gt', 'In', 'Lt', 'NotIn'];

defineComponents({
  ...kindWithList(C('Pod'), 'A Pod is a group of containers that share network and storage and are scheduled together onto one node.', gvk('', 'v1', 'Pod'), {
    spec: refTo(C('PodSpec'), 'The desired behaviour of the pod: its containers, volumes and scheduling constraints.', { default: {} }),
    status: refTo(C('PodStatus'), 'The most recently observed state of the pod, reported by the node agent. May lag behind. Read-only.', { default: {} }),
  }, 'pods'),
  [C('Binding')]: kindSchema('Binds an object to another, for example a pod to the node the scheduler chose. Deprecated in favour of the pods/binding subresource.', gvk('', 'v1', 'Binding'), {
    target: refTo(C('ObjectReference'), 'The object to bind to, e.g. a Node.', { default: {} }),
  }, { required: ['target'] }),
  [C('PodTemplateSpec')]: obj('The template that controllers such as StatefulSet stamp out pods from.', {
    metadata: refTo(META + 'ObjectMeta', 'Metadata (labels, annotations) given to every pod made from this template.', { default: {} }),
    spec: refTo(C('PodSpec'), 'The pod specification given to every pod made from this template.', { default: {} }),
  }),

  [C('PodSpec')]: obj('The desired state of a pod.', {
    activeDeadlineSeconds: int64('How long the pod may be active (counted from its start time) before the system actively fails it. Must be a positive integer.'),
    affinity: refTo(C('Affinity'), 'Node and inter-pod affinity and anti-affinity constraints for scheduling.'),
    automountServiceAccountToken: bool('Whether a service account token is mounted automatically.'),
    containers: arrOf(C('Container'), 'The containers of the pod. At least one is required. Cannot be added or removed after creation.', mapList(['name'], 'name')),
    dnsConfig: refTo(C('PodDNSConfig'), 'Extra DNS settings merged into the configuration chosen by dnsPolicy.'),
    dnsPolicy: strEnum('How the pod\'s DNS is configured: ClusterFirst (the default: cluster DNS first, then the node\'s upstream), ClusterFirstWithHostNet (needed to get cluster DNS with hostNetwork), Default (the node\'s resolver) or None (only dnsConfig).', ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None']),
    enableServiceLinks: bool('Whether information about services is injected as Docker-link style environment variables. Defaults to true.'),
    ephemeralContainers: arrOf(C('EphemeralContainer'), 'Temporary containers added to a running pod for debugging. Added only through the ephemeralcontainers subresource.', mapList(['name'], 'name')),
    hostAliases: arrOf(C('HostAlias'), 'Extra entries for the pod\'s /etc/hosts file.', mapList(['ip'], 'ip')),
    hostIPC: bool('Use the host\'s IPC namespace. Defaults to false.'),
    hostNetwork: bool('Use the host\'s network namespace; ports are then opened directly on the node. Defaults to false.'),
    hostPID: bool('Use the host\'s PID namespace. Defaults to false.'),
    hostUsers: bool('Use the host\'s user namespace (true, the default) or a new one for the pod (false).'),
    hostname: str('The pod\'s hostname. Defaults to the pod name. StatefulSets set it to the pod name so that it is stable.'),
    imagePullSecrets: arrOf(C('LocalObjectReference'), 'Secrets in the same namespace used to pull the pod\'s images.', mapList(['name'], 'name')),
    initContainers: arrOf(C('Container'), 'Containers run one after another, each to completion, before the app containers start. If one fails, the pod is handled per its restartPolicy. Init containers with restartPolicy Always are sidecars that keep running.', mapList(['name'], 'name')),
    nodeName: str('The node the pod is bound to. Set by the scheduler; when set on create, the scheduler is bypassed.'),
    nodeSelector: strMap('Labels a node must carry for the pod to be scheduled onto it.', atomicStruct),
    os: refTo(C('PodOS'), 'The operating system the pod\'s containers need: linux or windows. Restricts which fields are allowed.'),
    overhead: quantityMap('Resources used by the pod sandbox itself on top of its containers, set from the RuntimeClass.'),
    preemptionPolicy: strEnum('Whether this pod may preempt lower-priority pods: PreemptLowerPriority (the default) or Never.', ['Never', 'PreemptLowerPriority']),
    priority: int32('The pod\'s priority, filled from priorityClassName by admission. Higher means more important.'),
    priorityClassName: str('Name of the PriorityClass that gives the pod its priority.'),
    readinessGates: arrOf(C('PodReadinessGate'), 'Extra pod conditions that must be True, in addition to all containers being ready, for the pod to be Ready.', atomic),
    resourceClaims: arrOf(C('PodResourceClaim'), 'Dynamically allocated resources (ResourceClaims) the pod uses. Cannot be updated.', mapList(['name'], 'name', 'merge,retainKeys')),
    resources: refTo(C('ResourceRequirements'), 'Resources for the pod as a whole, shared by its containers (only cpu and memory; needs the PodLevelResources feature).'),
    restartPolicy: strEnum('Restart policy for the pod\'s containers: Always (the default), OnFailure or Never.', ['Always', 'Never', 'OnFailure']),
    runtimeClassName: str('The RuntimeClass to run the pod with. Defaults to the node\'s default runtime handler.'),
    schedulerName: str('The scheduler that places the pod. Defaults to the default scheduler.'),
    schedulingGates: arrOf(C('PodSchedulingGate'), 'While any gate remains, the pod is not considered for scheduling. Gates can only be removed after creation.', mapList(['name'], 'name')),
    securityContext: refTo(C('PodSecurityContext'), 'Pod-wide security attributes and defaults for the containers\' security contexts.'),
    serviceAccount: str('Deprecated alias of serviceAccountName.'),
    serviceAccountName: str('Name of the ServiceAccount the pod runs as. Defaults to "default".'),
    setHostnameAsFQDN: bool('Use the pod\'s fully qualified domain name as its hostname (inside the container, the hostname command prints the FQDN). Defaults to false.'),
    shareProcessNamespace: bool('Share one process namespace among all the pod\'s containers. Defaults to false.'),
    subdomain: str('If set, the pod\'s fully qualified name is "<hostname>.<subdomain>.<namespace>.svc.<cluster domain>". StatefulSets set it to their serviceName.'),
    terminationGracePeriodSeconds: int64('Seconds the pod is given to stop gracefully after the termination signal before it is killed. Zero means stop immediately. Defaults to 30.'),
    tolerations: arrOf(C('Toleration'), 'Taints the pod tolerates.', atomic),
    topologySpreadConstraints: arrOf(C('TopologySpreadConstraint'), 'How the pods of a group should be spread across topology domains such as zones or nodes.', mapList(['topologyKey', 'whenUnsatisfiable'], 'topologyKey')),
    volumes: arrOf(C('Volume'), 'Volumes the pod\'s containers can mount.', mapList(['name'], 'name', 'merge,retainKeys')),
  }, { required: ['containers'] }),

  [C('Container')]: obj('A single application container in a pod.', containerFields(false), { required: ['name'] }),
  [C('EphemeralContainer')]: obj('A temporary container added to a running pod, for example to debug it. It is never restarted and has no resource guarantees.', containerFields(true), { required: ['name'] }),

  [C('ContainerPort')]: obj('A network port of a container.', {
    containerPort: int32('Port number on the pod\'s IP address, 0 < x < 65536.'),
    hostIP: str('Host IP to bind the host port to.'),
    hostPort: int32('Port number on the node to expose this port on, 0 < x < 65536. Most containers do not need it; with hostNetwork it must equal containerPort.'),
    name: str('An IANA_SVC_NAME unique within the pod, by which services can refer to the port.'),
    protocol: strEnum('Protocol of the port: TCP (the default), UDP or SCTP.', PROTOCOLS, { default: 'TCP' }),
  }, { required: ['containerPort'] }),
  [C('EnvVar')]: obj('An environment variable of a container.', {
    name: str('Name of the variable.'),
    value: str('The value. $(VAR) references to variables defined earlier are expanded; $$ escapes. Defaults to "".'),
    valueFrom: refTo(C('EnvVarSource'), 'Where to read the value from. Cannot be combined with a non-empty value.'),
  }, { required: ['name'] }),
  [C('EnvVarSource')]: obj('A source for an environment variable\'s value.', {
    configMapKeyRef: refTo(C('ConfigMapKeySelector'), 'A key of a ConfigMap in the pod\'s namespace.'),
    fieldRef: refTo(C('ObjectFieldSelector'), 'A field of the pod: metadata.name, metadata.namespace, metadata.uid, metadata.labels[\'<key>\'], metadata.annotations[\'<key>\'], spec.nodeName, spec.serviceAccountName, status.hostIP, status.hostIPs, status.podIP or status.podIPs.'),
    resourceFieldRef: refTo(C('ResourceFieldSelector'), 'A resource limit or request of a container, e.g. limits.cpu or requests.memory.'),
    secretKeyRef: refTo(C('SecretKeySelector'), 'A key of a Secret in the pod\'s namespace.'),
  }),
  [C('ConfigMapKeySelector')]: obj('Selects one key of a ConfigMap.', {
    key: str('The key to read.'),
    name: str('Name of the ConfigMap.', { default: '' }),
    optional: bool('Whether the ConfigMap or the key may be missing.'),
  }, { required: ['key'], ...atomicStruct }),
  [C('SecretKeySelector')]: obj('Selects one key of a Secret.', {
    key: str('The key to read.'),
    name: str('Name of the Secret.', { default: '' }),
    optional: bool('Whether the Secret or the key may be missing.'),
  }, { required: ['key'], ...atomicStruct }),
  [C('ObjectFieldSelector')]: obj('Selects a field of the pod.', {
    apiVersion: str('Version of the schema the path is written in. Defaults to "v1".'),
    fieldPath: str('Path of the field to select.'),
  }, { required: ['fieldPath'], ...atomicStruct }),
  [C('ResourceFieldSelector')]: obj('Selects a container resource (limit or request).', {
    containerName: str('The container; required for volumes, optional for environment variables.'),
    divisor: quantity('Unit the value is expressed in. Defaults to "1".'),
    resource: str('The resource to select, e.g. limits.memory.'),
  }, { required: ['resource'], ...atomicStruct }),
  [C('EnvFromSource')]: obj('A source of a set of environment variables.', {
    configMapRef: refTo(C('ConfigMapEnvSource'), 'The ConfigMap to take variables from.'),
    prefix: str('A prefix added to each variable name taken from the source.'),
    secretRef: refTo(C('SecretEnvSource'), 'The Secret to take variables from.'),
  }),
  [C('ConfigMapEnvSource')]: obj('A ConfigMap whose keys become environment variables.', {
    name: str('Name of the ConfigMap.', { default: '' }),
    optional: bool('Whether the ConfigMap may be missing.'),
  }),
  [C('SecretEnvSource')]: obj('A Secret whose keys become environment variables.', {
    name: str('Name of the Secret.', { default: '' }),
    optional: bool('Whether the Secret may be missing.'),
  }),
  [C('VolumeMount')]: obj('Mounts a pod volume into a container.', {
    mountPath: str('Path inside the container where the volume appears. Must not contain ":".'),
    mountPropagation: strEnum('How mounts propagate between host and container: None (the default), HostToContainer or Bidirectional.', ['Bidirectional', 'HostToContainer', 'None']),
    name: str('Name of the pod volume to mount.'),
    readOnly: bool('Mount read-only. Defaults to false.'),
    recursiveReadOnly: str('Whether a read-only mount is also read-only for its submounts: Disabled (the default), IfPossible or Enabled.'),
    subPath: str('Path within the volume to mount instead of its root. Defaults to "".'),
    subPathExpr: str('Like subPath, but $(VAR) references to container environment variables are expanded. Exclusive with subPath.'),
  }, { required: ['name', 'mountPath'] }),
  [C('VolumeDevice')]: obj('Maps a raw block volume into a container.', {
    devicePath: str('Path inside the container of the device.'),
    name: str('Name of a persistentVolumeClaim volume of the pod.'),
  }, { required: ['name', 'devicePath'] }),
  [C('ResourceRequirements')]: obj('Compute resource requests and limits.', {
    claims: arrOf(C('ResourceClaim'), 'Names of entries of the pod\'s resourceClaims this container uses.', mapList(['name'])),
    limits: quantityMap('The most of each resource the container may use.'),
    requests: quantityMap('The amount of each resource the container needs; the scheduler reserves it. Defaults to the limits where only those are given.'),
  }),
  [C('ResourceClaim')]: obj('Refers to one of the pod\'s resource claims.', {
    name: str('Name of an entry of pod.spec.resourceClaims.'),
    request: str('A request of the claim to use; all requests when empty.'),
  }, { required: ['name'] }),
  [C('ContainerResizePolicy')]: obj('How a resource of a container is resized.', {
    resourceName: str('The resource (cpu or memory).'),
    restartPolicy: str('What happens when it is resized: NotRequired (the default) or RestartContainer.'),
  }, { required: ['resourceName', 'restartPolicy'] }),

  [C('Probe')]: obj('A health check run by the kubelet against a container.', {
    exec: refTo(C('ExecAction'), 'Run a command in the container; exit code 0 means healthy.'),
    failureThreshold: int32('Consecutive failures after success before the probe counts as failed. Defaults to 3; minimum 1.'),
    grpc: refTo(C('GRPCAction'), 'Call the standard gRPC health-checking service.'),
    httpGet: refTo(C('HTTPGetAction'), 'Send an HTTP GET; a status from 200 to 399 means healthy.'),
    initialDelaySeconds: int32('Seconds to wait after the container starts before the first probe.'),
    periodSeconds: int32('Seconds between probes. Defaults to 10; minimum 1.'),
    successThreshold: int32('Consecutive successes after failure before the probe counts as passing. Defaults to 1; must be 1 for liveness and startup probes.'),
    tcpSocket: refTo(C('TCPSocketAction'), 'Open a TCP connection; success means healthy.'),
    terminationGracePeriodSeconds: int64('Grace period used instead of the pod\'s when this probe fails and the container is killed.'),
    timeoutSeconds: int32('Seconds after which a probe attempt times out. Defaults to 1; minimum 1.'),
  }),
  [C('ExecAction')]: obj('Runs a command inside the container.', {
    command: strings('The command line, run directly (not in a shell) with the container\'s working directory as cwd. Exit status 0 is success.', atomic),
  }),
  [C('HTTPGetAction')]: obj('An HTTP GET request.', {
    host: str('Host name to connect to; defaults to the pod IP. Set the "Host" header with httpHeaders instead.'),
    httpHeaders: arrOf(C('HTTPHeader'), 'Extra request headers.', atomic),
    path: str('Path of the request.'),
    port: intOrString('Number or name of the container port to connect to.'),
    scheme: strEnum('HTTP (the default) or HTTPS.', ['HTTP', 'HTTPS']),
  }, { required: ['port'] }),
  [C('HTTPHeader')]: obj('A header of an HTTP probe request.', {
    name: str('Header name.'),
    value: str('Header value.'),
  }, { required: ['name', 'value'] }),
  [C('TCPSocketAction')]: obj('Opens a TCP connection.', {
    host: str('Host to connect to; defaults to the pod IP.'),
    port: intOrString('Number or name of the container port to connect to.'),
  }, { required: ['port'] }),
  [C('GRPCAction')]: obj('Calls the gRPC health-checking protocol.', {
    port: int32('Port number of the gRPC service, 1-65535.'),
    service: str('Service name sent in the health check request; the default behaviour of the server applies when empty.', { default: '' }),
  }, { required: ['port'] }),
  [C('Lifecycle')]: obj('Hooks the kubelet runs at container lifecycle events. The container blocks until its hook completes.', {
    postStart: refTo(C('LifecycleHandler'), 'Runs right after the container is created. If it fails the container is terminated and restarted per the restart policy.'),
    preStop: refTo(C('LifecycleHandler'), 'Runs right before the container is terminated (not on plain exits). The grace period countdown starts before the hook runs.'),
  }),
  [C('LifecycleHandler')]: obj('An action run by a lifecycle hook. Exactly one kind of action must be given.', {
    exec: refTo(C('ExecAction'), 'Run a command in the container.'),
    httpGet: refTo(C('HTTPGetAction'), 'Send an HTTP GET.'),
    sleep: refTo(C('SleepAction'), 'Sleep for a while.'),
    tcpSocket: refTo(C('TCPSocketAction'), 'Deprecated; kept for compatibility and not run.'),
  }),
  [C('SleepAction')]: obj('Sleeps for a fixed duration.', {
    seconds: int64('Seconds to sleep.'),
  }, { required: ['seconds'] }),

  [C('SecurityContext')]: obj('Security settings of one container. Where both are set, these override the pod\'s.', {
    allowPrivilegeEscalation: bool('Whether a process may gain more privileges than its parent (the no_new_privs flag). Always true when privileged or with CAP_SYS_ADMIN.'),
    appArmorProfile: refTo(C('AppArmorProfile'), 'The AppArmor profile for the container.'),
    capabilities: refTo(C('Capabilities'), 'Linux capabilities to add to or drop from the runtime\'s default set.'),
    privileged: bool('Run the container privileged, equivalent to root on the host. Defaults to false.'),
    procMount: strEnum('Which proc mount to use: Default or Unmasked.', ['Default', 'Unmasked']),
    readOnlyRootFilesystem: bool('Mount the container\'s root filesystem read-only. Defaults to false.'),
    runAsGroup: int64('GID for the container process; defaults to the runtime\'s.'),
    runAsNonRoot: bool('Refuse to start the container if it would run as UID 0.'),
    runAsUser: int64('UID for the container process; defaults to the image\'s user.'),
    seLinuxOptions: refTo(C('SELinuxOptions'), 'The SELinux context for the container.'),
    seccompProfile: refTo(C('SeccompProfile'), 'The seccomp profile for the container.'),
    windowsOptions: refTo(C('WindowsSecurityContextOptions'), 'Windows-specific settings.'),
  }),
  [C('PodSecurityContext')]: obj('Security settings for the whole pod; some also act as defaults for its containers.', {
    appArmorProfile: refTo(C('AppArmorProfile'), 'Default AppArmor profile for the pod\'s containers.'),
    fsGroup: int64('A supplemental group for all containers; volumes that support ownership management are made owned and writable by it.'),
    fsGroupChangePolicy: strEnum('When ownership and permissions of volumes are changed to fsGroup: Always (the default) or OnRootMismatch.', ['Always', 'OnRootMismatch']),
    runAsGroup: int64('Default GID for container processes.'),
    runAsNonRoot: bool('Refuse to start any container that would run as UID 0.'),
    runAsUser: int64('Default UID for container processes.'),
    seLinuxChangePolicy: str('How SELinux labels are applied to volumes: Recursive or MountOption.'),
    seLinuxOptions: refTo(C('SELinuxOptions'), 'Default SELinux context for all containers.'),
    seccompProfile: refTo(C('SeccompProfile'), 'Default seccomp profile for all containers.'),
    supplementalGroups: arr({ type: 'integer', format: 'int64', default: 0 }, 'Extra groups for the first process of every container, besides its primary GID and fsGroup.', atomic),
    supplementalGroupsPolicy: strEnum('How supplemental groups of the first process are computed: Merge (the default, includes the image\'s /etc/group) or Strict.', ['Merge', 'Strict']),
    sysctls: arrOf(C('Sysctl'), 'Namespaced kernel parameters set for the pod.', atomic),
    windowsOptions: refTo(C('WindowsSecurityContextOptions'), 'Windows-specific settings.'),
  }),
  [C('Capabilities')]: obj('Linux capabilities to add and drop.', {
    add: strings('Capabilities to add.', atomic),
    drop: strings('Capabilities to remove.', atomic),
  }),
  [C('SELinuxOptions')]: obj('An SELinux context.', {
    level: str('The SELinux level label.'),
    role: str('The SELinux role label.'),
    type: str('The SELinux type label.'),
    user: str('The SELinux user label.'),
  }),
  [C('SeccompProfile')]: obj('A seccomp profile; exactly one source must be chosen.', {
    localhostProfile: str('Path of a profile file on the node, relative to the kubelet\'s seccomp directory. Only with type Localhost.'),
    type: strEnum('Localhost, RuntimeDefault or Unconfined.', ['Localhost', 'RuntimeDefault', 'Unconfined']),
  }, { required: ['type'] }),
  [C('AppArmorProfile')]: obj('An AppArmor profile.', {
    localhostProfile: str('Name of a profile loaded on the node. Only with type Localhost.'),
    type: strEnum('Localhost, RuntimeDefault or Unconfined.', ['Localhost', 'RuntimeDefault', 'Unconfined']),
  }, { required: ['type'] }),
  [C('WindowsSecurityContextOptions')]: obj('Windows-specific security settings.', {
    gmsaCredentialSpec: str('Contents of the GMSA credential spec to use.'),
    gmsaCredentialSpecName: str('Name of the GMSA credential spec to use.'),
    hostProcess: bool('Run the container as a Windows HostProcess container.'),
    runAsUserName: str('User name to run the entrypoint as.'),
  }),
  [C('Sysctl')]: obj('A kernel parameter to set.', {
    name: str('Name of the parameter.'),
    value: str('Value to set.'),
  }, { required: ['name', 'value'] }),

  [C('Affinity')]: obj('Scheduling affinity rules.', {
    nodeAffinity: refTo(C('NodeAffinity'), 'Rules about which nodes the pod may or prefers to run on.'),
    podAffinity: refTo(C('PodAffinity'), 'Rules to place the pod near other pods (same node, zone, ...).'),
    podAntiAffinity: refTo(C('PodAntiAffinity'), 'Rules to keep the pod away from other pods.'),
  }),
  [C('NodeAffinity')]: obj('Node affinity rules.', {
    preferredDuringSchedulingIgnoredDuringExecution: arrOf(C('PreferredSchedulingTerm'), 'Weighted preferences; nodes matching more weight are favoured. Ignored once the pod runs.', atomic),
    requiredDuringSchedulingIgnoredDuringExecution: refTo(C('NodeSelector'), 'Rules a node must meet for the pod to be scheduled there. Not re-checked once the pod runs.'),
  }),
  [C('NodeSelector')]: obj('Node selector terms, ORed together.', {
    nodeSelectorTerms: arrOf(C('NodeSelectorTerm'), 'The terms; a node matching any one of them is selected.', atomic),
  }, { required: ['nodeSelectorTerms'], ...atomicStruct }),
  [C('NodeSelectorTerm')]: obj('Requirements ANDed together. An empty term matches nothing.', {
    matchExpressions: arrOf(C('NodeSelectorRequirement'), 'Requirements on node labels.', atomic),
    matchFields: arrOf(C('NodeSelectorRequirement'), 'Requirements on node fields (only metadata.name).', atomic),
  }, atomicStruct),
  [C('NodeSelectorRequirement')]: obj('A condition on one key of a node.', {
    key: str('The label or field key.'),
    operator: strEnum('In, NotIn, Exists, DoesNotExist, Gt or Lt.', SELECTOR_OPS),
    values: strings('Values for In and NotIn; a single integer for Gt and Lt; empty for Exists and DoesNotExist.', atomic),
  }, { required: ['key', 'operator'] }),
  [C('PreferredSchedulingTerm')]: obj('A node selector term with a weight.', {
    preference: refTo(C('NodeSelectorTerm'), 'The term.', { default: {} }),
    weight: int32('Weight 1-100 added to a node\'s score when it matches.'),
  }, { required: ['weight', 'preference'] }),
  [C('PodAffinity')]: obj('Inter-pod affinity rules.', {
    preferredDuringSchedulingIgnoredDuringExecution: arrOf(C('WeightedPodAffinityTerm'), 'Weighted preferences for nodes near matching pods.', atomic),
    requiredDuringSchedulingIgnoredDuringExecution: arrOf(C('PodAffinityTerm'), 'Terms that must all be met at scheduling time.', atomic),
  }),
  [C('PodAntiAffinity')]: obj('Inter-pod anti-affinity rules.', {
    preferredDuringSchedulingIgnoredDuringExecution: arrOf(C('WeightedPodAffinityTerm'), 'Weighted preferences for nodes away from matching pods.', atomic),
    requiredDuringSchedulingIgnoredDuringExecution: arrOf(C('PodAffinityTerm'), 'Terms that must all be met at scheduling time.', atomic),
  }),
  [C('PodAffinityTerm')]: obj('Selects a set of pods and a topology domain: the pod should (or should not) share a domain with them.', {
    labelSelector: refTo(META + 'LabelSelector', 'Which pods the term is about.'),
    matchLabelKeys: strings('Label keys whose values are taken from the incoming pod and added to labelSelector as In requirements.', atomic),
    mismatchLabelKeys: strings('Label keys whose values are taken from the incoming pod and added to labelSelector as NotIn requirements.', atomic),
    namespaceSelector: refTo(META + 'LabelSelector', 'Which namespaces to look in, in addition to namespaces. Empty selects all.'),
    namespaces: strings('Namespaces to look in; the pod\'s own namespace when both this and namespaceSelector are empty.', atomic),
    topologyKey: str('The node label defining the domain, e.g. kubernetes.io/hostname or topology.kubernetes.io/zone.'),
  }, { required: ['topologyKey'] }),
  [C('WeightedPodAffinityTerm')]: obj('A pod affinity term with a weight.', {
    podAffinityTerm: refTo(C('PodAffinityTerm'), 'The term.', { default: {} }),
    weight: int32('Weight 1-100.'),
  }, { required: ['weight', 'podAffinityTerm'] }),
  [C('Toleration')]: obj('Lets the pod be scheduled onto (or stay on) nodes with a matching taint.', {
    effect: strEnum('Taint effect to match: NoSchedule, PreferNoSchedule or NoExecute; all effects when empty.', ['NoExecute', 'NoSchedule', 'PreferNoSchedule']),
    key: str('Taint key to match; with operator Exists an empty key matches every taint.'),
    operator: strEnum('Equal (the default) or Exists.', ['Equal', 'Exists']),
    tolerationSeconds: int64('For NoExecute: how long the pod stays bound after the taint appears. Unset means forever.'),
    value: str('Taint value to match with Equal; empty with Exists.'),
  }),
  [C('TopologySpreadConstraint')]: obj('Spreads matching pods evenly across a topology.', {
    labelSelector: refTo(META + 'LabelSelector', 'Which pods are counted in each domain.'),
    matchLabelKeys: strings('Label keys whose values are taken from the incoming pod to narrow the selection.', atomic),
    maxSkew: int32('The largest allowed difference in matching pods between any two domains. Must be at least 1.'),
    minDomains: int32('Minimum number of eligible domains; below it, the global minimum is taken as 0.'),
    nodeAffinityPolicy: strEnum('Whether node affinity and nodeSelector restrict the domains counted: Honor (the default) or Ignore.', ['Honor', 'Ignore']),
    nodeTaintsPolicy: strEnum('Whether node taints restrict the domains counted: Honor or Ignore (the default).', ['Honor', 'Ignore']),
    topologyKey: str('The node label defining a domain.'),
    whenUnsatisfiable: strEnum('What to do when the constraint cannot be met: DoNotSchedule (the default) or ScheduleAnyway.', ['DoNotSchedule', 'ScheduleAnyway']),
  }, { required: ['maxSkew', 'topologyKey', 'whenUnsatisfiable'] }),
  [C('PodDNSConfig')]: obj('DNS settings for a pod beyond those of its dnsPolicy.', {
    nameservers: strings('Extra DNS server IPs.', atomic),
    options: arrOf(C('PodDNSConfigOption'), 'Resolver options; they override same-named ones from the policy.', atomic),
    searches: strings('Extra search domains.', atomic),
  }),
  [C('PodDNSConfigOption')]: obj('A resolver option.', {
    name: str('Option name, e.g. ndots.'),
    value: str('Option value.'),
  }),
  [C('HostAlias')]: obj('An /etc/hosts entry.', {
    hostnames: strings('Host names for the IP.', atomic),
    ip: str('The IP address.'),
  }, { required: ['ip'] }),
  [C('LocalObjectReference')]: obj('Refers to an object by name in the same namespace.', {
    name: str('Name of the referent.', { default: '' }),
  }, atomicStruct),
  [C('PodOS')]: obj('The operating system of a pod.', {
    name: str('linux or windows.'),
  }, { required: ['name'] }),
  [C('PodReadinessGate')]: obj('A condition the pod needs to be Ready.', {
    conditionType: str('The type of a condition in the pod\'s status.conditions.'),
  }, { required: ['conditionType'] }),
  [C('PodSchedulingGate')]: obj('A gate that blocks scheduling.', {
    name: str('Name of the gate, unique among the pod\'s gates.'),
  }, { required: ['name'] }),
  [C('PodResourceClaim')]: obj('A ResourceClaim the pod uses, by direct name or through a template.', {
    name: str('Name for the claim within the pod.'),
    resourceClaimName: str('Name of an existing ResourceClaim in the pod\'s namespace.'),
    resourceClaimTemplateName: str('Name of a ResourceClaimTemplate from which a claim is made for this pod.'),
  }, { required: ['name'] }),

  [C('Volume')]: obj('A named volume that the pod\'s containers can mount. Exactly one source must be set.', {
    awsElasticBlockStore: refTo(C('AWSElasticBlockStoreVolumeSource'), 'Deprecated in-tree AWS EBS disk.'),
    azureDisk: refTo(C('AzureDiskVolumeSource'), 'Deprecated in-tree Azure data disk.'),
    azureFile: refTo(C('AzureFileVolumeSource'), 'Deprecated in-tree Azure File share.'),
    cephfs: refTo(C('CephFSVolumeSource'), 'A CephFS mount. Deprecated.'),
    cinder: refTo(C('CinderVolumeSource'), 'Deprecated in-tree OpenStack Cinder volume.'),
    configMap: refTo(C('ConfigMapVolumeSource'), 'Files made from the keys of a ConfigMap.'),
    csi: refTo(C('CSIVolumeSource'), 'An ephemeral volume provided by a CSI driver.'),
    downwardAPI: refTo(C('DownwardAPIVolumeSource'), 'Files made from fields of the pod.'),
    emptyDir: refTo(C('EmptyDirVolumeSource'), 'A scratch directory that lives as long as the pod.'),
    ephemeral: refTo(C('EphemeralVolumeSource'), 'A volume backed by a PVC created for this pod and deleted with it.'),
    fc: refTo(C('FCVolumeSource'), 'A Fibre Channel disk.'),
    flexVolume: refTo(C('FlexVolumeSource'), 'A FlexVolume driver volume. Deprecated.'),
    flocker: refTo(C('FlockerVolumeSource'), 'A Flocker dataset. Deprecated.'),
    gcePersistentDisk: refTo(C('GCEPersistentDiskVolumeSource'), 'Deprecated in-tree GCE persistent disk.'),
    gitRepo: refTo(C('GitRepoVolumeSource'), 'Deprecated: a directory cloned from a git repository.'),
    glusterfs: refTo(C('GlusterfsVolumeSource'), 'A GlusterFS mount. Deprecated.'),
    hostPath: refTo(C('HostPathVolumeSource'), 'A file or directory of the node\'s filesystem. Mostly for system agents; use with care.'),
    image: refTo(C('ImageVolumeSource'), 'The contents of an OCI image or artifact, mounted read-only.'),
    iscsi: refTo(C('ISCSIVolumeSource'), 'An iSCSI disk.'),
    name: str('Name of the volume, a DNS label unique within the pod. Containers refer to it in volumeMounts.'),
    nfs: refTo(C('NFSVolumeSource'), 'An NFS export.'),
    persistentVolumeClaim: refTo(C('PersistentVolumeClaimVolumeSource'), 'The volume bound to a PersistentVolumeClaim in the pod\'s namespace.'),
    photonPersistentDisk: refTo(C('PhotonPersistentDiskVolumeSource'), 'A Photon Controller disk. Deprecated.'),
    portworxVolume: refTo(C('PortworxVolumeSource'), 'Deprecated in-tree Portworx volume.'),
    projected: refTo(C('ProjectedVolumeSource'), 'Several sources (secrets, config maps, downward API, service account tokens) combined in one directory.'),
    quobyte: refTo(C('QuobyteVolumeSource'), 'A Quobyte mount. Deprecated.'),
    rbd: refTo(C('RBDVolumeSource'), 'A Rados block device. Deprecated.'),
    scaleIO: refTo(C('ScaleIOVolumeSource'), 'A ScaleIO volume. Deprecated.'),
    secret: refTo(C('SecretVolumeSource'), 'Files made from the keys of a Secret.'),
    storageos: refTo(C('StorageOSVolumeSource'), 'A StorageOS volume. Deprecated.'),
    vsphereVolume: refTo(C('VsphereVirtualDiskVolumeSource'), 'Deprecated in-tree vSphere disk.'),
  }, { required: ['name'] }),
  [C('PersistentVolumeClaimVolumeSource')]: obj('Uses the volume bound to a claim in the pod\'s namespace.', {
    claimName: str('Name of the PersistentVolumeClaim.'),
    readOnly: bool('Mount the volume read-only. Defaults to false.'),
  }, { required: ['claimName'] }),
  [C('EmptyDirVolumeSource')]: obj('A temporary directory created empty when the pod starts on a node and removed with the pod.', {
    medium: str('Storage medium: "" (the node\'s default storage) or "Memory" (tmpfs).'),
    sizeLimit: quantity('The most local storage the directory may use; the pod is evicted beyond it.'),
  }),
  [C('ConfigMapVolumeSource')]: obj('Projects the keys of a ConfigMap as files.', {
    defaultMode: int32('Permission bits of the files, 0000-0777 (octal in YAML). Defaults to 0644.'),
    items: arrOf(C('KeyToPath'), 'Which keys to project and where; all keys, each to a file named after it, when empty.', atomic),
    name: str('Name of the ConfigMap.', { default: '' }),
    optional: bool('Whether the ConfigMap or listed keys may be missing.'),
  }),
  [C('SecretVolumeSource')]: obj('Projects the keys of a Secret as files.', {
    defaultMode: int32('Permission bits of the files, 0000-0777. Defaults to 0644.'),
    items: arrOf(C('KeyToPath'), 'Which keys to project and where; all keys when empty.', atomic),
    optional: bool('Whether the Secret or listed keys may be missing.'),
    secretName: str('Name of the Secret in the pod\'s namespace.'),
  }),
  [C('KeyToPath')]: obj('Maps a key to a file path in a volume.', {
    key: str('The key to project.'),
    mode: int32('Permission bits of this file, 0000-0777; defaultMode when unset.'),
    path: str('Relative path of the file. Must not contain "..".'),
  }, { required: ['key', 'path'] }),
  [C('HostPathVolumeSource')]: obj('A path on the node mapped into the pod.', {
    path: str('Path on the host; a symlink is followed to its target.'),
    type: strEnum('What must exist at the path: "" (no check), DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice or BlockDevice.', ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket']),
  }, { required: ['path'] }),
  [C('DownwardAPIVolumeSource')]: obj('Files holding information about the pod.', {
    defaultMode: int32('Permission bits of the files, 0000-0777. Defaults to 0644.'),
    items: arrOf(C('DownwardAPIVolumeFile'), 'The files to create.', atomic),
  }),
  [C('DownwardAPIVolumeFile')]: obj('A file holding one pod field or container resource.', {
    fieldRef: refTo(C('ObjectFieldSelector'), 'A pod field: metadata.name, metadata.namespace, metadata.uid, metadata.labels or metadata.annotations.'),
    mode: int32('Permission bits of this file, 0000-0777.'),
    path: str('Relative path of the file. Must not contain "..".'),
    resourceFieldRef: refTo(C('ResourceFieldSelector'), 'A container resource limit or request (limits.cpu, requests.memory, ...).'),
  }, { required: ['path'] }),
  [C('ProjectedVolumeSource')]: obj('Several volume sources projected into one directory.', {
    defaultMode: int32('Permission bits of the files, 0000-0777.'),
    sources: arrOf(C('VolumeProjection'), 'The sources to project.', atomic),
  }),
  [C('VolumeProjection')]: obj('One source of a projected volume; exactly one field may be set.', {
    clusterTrustBundle: refTo(C('ClusterTrustBundleProjection'), 'Certificates from ClusterTrustBundle objects.'),
    configMap: refTo(C('ConfigMapProjection'), 'Keys of a ConfigMap.'),
    downwardAPI: refTo(C('DownwardAPIProjection'), 'Pod fields.'),
    secret: refTo(C('SecretProjection'), 'Keys of a Secret.'),
    serviceAccountToken: refTo(C('ServiceAccountTokenProjection'), 'A service account token for the pod.'),
  }),
  [C('ConfigMapProjection')]: obj('A ConfigMap in a projected volume.', {
    items: arrOf(C('KeyToPath'), 'Which keys to project and where; all keys when empty.', atomic),
    name: str('Name of the ConfigMap.', { default: '' }),
    optional: bool('Whether the ConfigMap or listed keys may be missing.'),
  }),
  [C('SecretProjection')]: obj('A Secret in a projected volume.', {
    items: arrOf(C('KeyToPath'), 'Which keys to project and where; all keys when empty.', atomic),
    name: str('Name of the Secret.', { default: '' }),
    optional: bool('Whether the Secret or listed keys may be missing.'),
  }),
  [C('DownwardAPIProjection')]: obj('Pod fields in a projected volume.', {
    items: arrOf(C('DownwardAPIVolumeFile'), 'The files to create.', atomic),
  }),
  [C('ServiceAccountTokenProjection')]: obj('A token of the pod\'s service account, refreshed by the kubelet.', {
    audience: str('Intended audience of the token; defaults to the API server.'),
    expirationSeconds: int64('Requested lifetime; the kubelet refreshes the token as it ages. Defaults to 1 hour, minimum 10 minutes.'),
    path: str('Relative path of the token file.'),
  }, { required: ['path'] }),
  [C('ClusterTrustBundleProjection')]: obj('Certificates from ClusterTrustBundles written to a file.', {
    labelSelector: refTo(META + 'LabelSelector', 'Select bundles of signerName by label.'),
    name: str('Select a single bundle by name.'),
    optional: bool('Whether a missing bundle is an error.'),
    path: str('Relative path of the file.'),
    signerName: str('Select bundles of this signer.'),
  }, { required: ['path'] }),
  [C('CSIVolumeSource')]: obj('An ephemeral volume provided by a CSI driver.', {
    driver: str('Name of the CSI driver.'),
    fsType: str('Filesystem type to mount, e.g. ext4.'),
    nodePublishSecretRef: refTo(C('LocalObjectReference'), 'Secret passed to the driver\'s publish calls.'),
    readOnly: bool('Mount read-only. Defaults to false.'),
    volumeAttributes: strMap('Driver-specific properties.'),
  }, { required: ['driver'] }),
  [C('EphemeralVolumeSource')]: obj('A generic ephemeral volume: a PVC created from a template for the pod and deleted with it.', {
    volumeClaimTemplate: refTo(C('PersistentVolumeClaimTemplate'), 'The template of the PVC; it is named <pod>-<volume>.'),
  }),
  [C('PersistentVolumeClaimTemplate')]: obj('A template for a PVC made as part of an ephemeral volume.', {
    metadata: refTo(META + 'ObjectMeta', 'Labels and annotations copied to the PVC.', { default: {} }),
    spec: refTo(C('PersistentVolumeClaimSpec'), 'The PVC\'s specification, copied unchanged.', { default: {} }),
  }, { required: ['spec'] }),
  [C('ImageVolumeSource')]: obj('An OCI image or artifact mounted read-only.', {
    pullPolicy: strEnum('Always, Never or IfNotPresent.', ['Always', 'IfNotPresent', 'Never']),
    reference: str('Image or artifact reference, as for a container image.'),
  }),
  [C('NFSVolumeSource')]: obj('An NFS mount.', {
    path: str('Path exported by the server.'),
    readOnly: bool('Mount read-only. Defaults to false.'),
    server: str('Host name or IP of the NFS server.'),
  }, { required: ['server', 'path'] }),
  [C('ISCSIVolumeSource')]: obj('An iSCSI disk.', {
    chapAuthDiscovery: bool('Use CHAP authentication for discovery.'),
    chapAuthSession: bool('Use CHAP authentication for the session.'),
    fsType: str('Filesystem type.'),
    initiatorName: str('Custom iSCSI initiator name.'),
    iqn: str('Target iSCSI qualified name.'),
    iscsiInterface: str('iSCSI interface name. Defaults to "default".'),
    lun: int32('Target LUN number.'),
    portals: strings('Extra target portals (IP or IP:port).', atomic),
    readOnly: bool('Mount read-only.'),
    secretRef: refTo(C('LocalObjectReference'), 'Secret holding the CHAP credentials.'),
    targetPortal: str('Target portal, IP or IP:port (port 3260 by default).'),
  }, { required: ['targetPortal', 'iqn', 'lun'] }),
  [C('FCVolumeSource')]: obj('A Fibre Channel disk.', {
    fsType: str('Filesystem type.'),
    lun: int32('Target LUN number.'),
    readOnly: bool('Mount read-only.'),
    targetWWNs: strings('Target world wide names.', atomic),
    wwids: strings('World wide identifiers; exclusive with targetWWNs and lun.', atomic),
  }),
  [C('AWSElasticBlockStoreVolumeSource')]: obj('An AWS EBS disk.', {
    fsType: str('Filesystem type.'), partition: int32('Partition number; 0 for the whole disk.'),
    readOnly: bool('Mount read-only.'), volumeID: str('EBS volume ID.'),
  }, { required: ['volumeID'] }),
  [C('GCEPersistentDiskVolumeSource')]: obj('A GCE persistent disk.', {
    fsType: str('Filesystem type.'), partition: int32('Partition number; 0 for the whole disk.'),
    pdName: str('Name of the disk.'), readOnly: bool('Mount read-only.'),
  }, { required: ['pdName'] }),
  [C('AzureDiskVolumeSource')]: obj('An Azure data disk.', {
    cachingMode: str('Host caching mode: None, Read Only or Read Write.'), diskName: str('Name of the disk.'),
    diskURI: str('URI of the disk.'), fsType: str('Filesystem type.'),
    kind: str('Shared, Dedicated or Managed.'), readOnly: bool('Mount read-only.'),
  }, { required: ['diskName', 'diskURI'] }),
  [C('AzureFileVolumeSource')]: obj('An Azure File share.', {
    readOnly: bool('Mount read-only.'), secretName: str('Secret with the account name and key.'), shareName: str('Share name.'),
  }, { required: ['secretName', 'shareName'] }),
  [C('CephFSVolumeSource')]: obj('A CephFS mount.', {
    monitors: strings('Ceph monitors.', atomic), path: str('Path within the filesystem; defaults to /.'),
    readOnly: bool('Mount read-only.'), secretFile: str('Path of the keyring.'),
    secretRef: refTo(C('LocalObjectReference'), 'Secret with the auth key.'), user: str('Rados user name.'),
  }, { required: ['monitors'] }),
  [C('CinderVolumeSource')]: obj('An OpenStack Cinder volume.', {
    fsType: str('Filesystem type.'), readOnly: bool('Mount read-only.'),
    secretRef: refTo(C('LocalObjectReference'), 'Secret with OpenStack parameters.'), volumeID: str('Volume ID.'),
  }, { required: ['volumeID'] }),
  [C('FlexVolumeSource')]: obj('A volume provided by an exec-based FlexVolume plugin.', {
    driver: str('Name of the driver.'), fsType: str('Filesystem type.'),
    options: strMap('Driver options.'), readOnly: bool('Mount read-only.'),
    secretRef: refTo(C('LocalObjectReference'), 'Secret passed to the driver.'),
  }, { required: ['driver'] }),
  [C('FlockerVolumeSource')]: obj('A Flocker dataset.', {
    datasetName: str('Name of the dataset.'), datasetUUID: str('UUID of the dataset.'),
  }),
  [C('GitRepoVolumeSource')]: obj('A directory cloned from git. Deprecated; use an init container instead.', {
    directory: str('Target directory name.'), repository: str('Repository URL.'), revision: str('Commit hash.'),
  }, { required: ['repository'] }),
  [C('GlusterfsVolumeSource')]: obj('A GlusterFS mount.', {
    endpoints: str('Endpoints object naming the cluster.'), path: str('Volume path.'), readOnly: bool('Mount read-only.'),
  }, { required: ['endpoints', 'path'] }),
  [C('PhotonPersistentDiskVolumeSource')]: obj('A Photon Controller disk.', {
    fsType: str('Filesystem type.'), pdID: str('Disk ID.'),
  }, { required: ['pdID'] }),
  [C('PortworxVolumeSource')]: obj('A Portworx volume.', {
    fsType: str('Filesystem type.'), readOnly: bool('Mount read-only.'), volumeID: str('Volume ID.'),
  }, { required: ['volumeID'] }),
  [C('QuobyteVolumeSource')]: obj('A Quobyte mount.', {
    group: str('Group to map access to.'), readOnly: bool('Mount read-only.'), registry: str('Registry services as host:port.'),
    tenant: str('Tenant owning the volume.'), user: str('User to map access to.'), volume: str('Volume name.'),
  }, { required: ['registry', 'volume'] }),
  [C('RBDVolumeSource')]: obj('A Rados block device.', {
    fsType: str('Filesystem type.'), image: str('Image name.'), keyring: str('Keyring path.'),
    monitors: strings('Ceph monitors.', atomic), pool: str('Pool name; defaults to rbd.'), readOnly: bool('Mount read-only.'),
    secretRef: refTo(C('LocalObjectReference'), 'Secret with the auth key.'), user: str('Rados user name.'),
  }, { required: ['monitors', 'image'] }),
  [C('ScaleIOVolumeSource')]: obj('A ScaleIO volume.', {
    fsType: str('Filesystem type.'), gateway: str('Gateway address.'), protectionDomain: str('Protection domain.'),
    readOnly: bool('Mount read-only.'), secretRef: refTo(C('LocalObjectReference'), 'Secret with the credentials.'),
    sslEnabled: bool('Use SSL to the gateway.'), storageMode: str('ThickProvisioned or ThinProvisioned.'),
    storagePool: str('Storage pool.'), system: str('Storage system name.'), volumeName: str('Volume name.'),
  }, { required: ['gateway', 'system', 'secretRef'] }),
  [C('StorageOSVolumeSource')]: obj('A StorageOS volume.', {
    fsType: str('Filesystem type.'), readOnly: bool('Mount read-only.'),
    secretRef: refTo(C('LocalObjectReference'), 'Secret with the API credentials.'),
    volumeName: str('Volume name.'), volumeNamespace: str('StorageOS namespace of the volume.'),
  }),
  [C('VsphereVirtualDiskVolumeSource')]: obj('A vSphere disk.', {
    fsType: str('Filesystem type.'), storagePolicyID: str('Storage policy ID.'),
    storagePolicyName: str('Storage policy name.'), volumePath: str('Path of the disk.'),
  }, { required: ['volumePath'] }),

  [C('PodStatus')]: obj('The observed state of a pod. Reported by the node agent and the scheduler; may trail the truth.', {
    conditions: arrOf(C('PodCondition'), 'Current conditions of the pod: PodScheduled, Initialized, ContainersReady, Ready, ...', conditionsList),
    containerStatuses: arrOf(C('ContainerStatus'), 'One status per app container.', atomic),
    ephemeralContainerStatuses: arrOf(C('ContainerStatus'), 'One status per ephemeral container.', atomic),
    hostIP: str('IP address of the node the pod is on; empty until assigned.'),
    hostIPs: arrOf(C('HostIP'), 'IP addresses of the node; the first equals hostIP.', { ...atomic, 'x-kubernetes-patch-merge-key': 'ip', 'x-kubernetes-patch-strategy': 'merge' }),
    initContainerStatuses: arrOf(C('ContainerStatus'), 'One status per init container.', atomic),
    message: str('A human-readable message about why the pod is in this state.'),
    nominatedNodeName: str('Node the pod is expected to run on after preemption frees room there.'),
    phase: strEnum('A simple summary of where the pod is in its lifecycle: Pending, Running, Succeeded, Failed or Unknown.', ['Failed', 'Pending', 'Running', 'Succeeded', 'Unknown']),
    podIP: str('IP address allocated to the pod; empty until allocated.'),
    podIPs: arrOf(C('PodIP'), 'IP addresses of the pod, at most one per family; the first equals podIP.', mapList(['ip'], 'ip')),
    qosClass: strEnum('Quality of service class from the containers\' requests and limits: Guaranteed, Burstable or BestEffort.', ['BestEffort', 'Burstable', 'Guaranteed']),
    reason: str('A brief CamelCase reason for the pod\'s state, e.g. Evicted.'),
    resize: str('Status of an in-place resize of the pod\'s resources.'),
    resourceClaimStatuses: arrOf(C('PodResourceClaimStatus'), 'Names of the ResourceClaims generated for the pod\'s claims.', mapList(['name'], 'name', 'merge,retainKeys')),
    startTime: time('When the node agent accepted the pod, before pulling images.'),
  }),
  [C('PodCondition')]: obj('A condition of a pod.', {
    lastProbeTime: time('When the condition was last checked.'),
    lastTransitionTime: time('When the condition last changed status.'),
    message: str('Human-readable details about the last transition.'),
    reason: str('CamelCase reason for the last transition.'),
    status: str('True, False or Unknown.'),
    type: str('Type of the condition, e.g. Ready.'),
  }, { required: ['type', 'status'] }),
  [C('PodIP')]: obj('An IP address of a pod.', { ip: str('The IP address.') }, { required: ['ip'] }),
  [C('HostIP')]: obj('An IP address of the pod\'s node.', { ip: str('The IP address.') }, { required: ['ip'] }),
  [C('PodResourceClaimStatus')]: obj('The ResourceClaim generated for one of the pod\'s claims.', {
    name: str('Name of the entry in spec.resourceClaims.'),
    resourceClaimName: str('Name of the generated ResourceClaim, if any.'),
  }, { required: ['name'] }),
  [C('ContainerStatus')]: obj('The observed state of one container.', {
    allocatedResources: quantityMap('Resources the node allocated to the container.'),
    allocatedResourcesStatus: arrOf(C('ResourceStatus'), 'Health of the devices allocated to the container.', mapList(['name'], 'name')),
    containerID: str('Container ID as "<runtime>://<id>".'),
    image: str('The image the container runs.'),
    imageID: str('Image ID (digest) of the image the container runs.'),
    lastState: refTo(C('ContainerState'), 'State of the previous run of the container, e.g. why it last terminated.', { default: {} }),
    name: str('Name of the container, as in the pod spec.'),
    ready: bool('Whether the container passes its readiness probe (and startup probe).'),
    resources: refTo(C('ResourceRequirements'), 'Resources actually configured for the running container.'),
    restartCount: int32('How many times the container has been restarted.'),
    started: bool('Whether the container has started and passed its startup probe.'),
    state: refTo(C('ContainerState'), 'Current state of the container.', { default: {} }),
    user: refTo(C('ContainerUser'), 'Identity the first process of the container runs as.'),
    volumeMounts: arrOf(C('VolumeMountStatus'), 'Status of the container\'s volume mounts.', mapList(['mountPath'], 'mountPath')),
  }, { required: ['name', 'ready', 'restartCount', 'image', 'imageID'] }),
  [C('ContainerState')]: obj('The state of a container; at most one member is set. Waiting when none is.', {
    running: refTo(C('ContainerStateRunning'), 'The container is running.'),
    terminated: refTo(C('ContainerStateTerminated'), 'The container has exited.'),
    waiting: refTo(C('ContainerStateWaiting'), 'The container is waiting to start.'),
  }),
  [C('ContainerStateRunning')]: obj('A running container.', {
    startedAt: time('When the container last started.'),
  }),
  [C('ContainerStateTerminated')]: obj('An exited container.', {
    containerID: str('Container ID as "<runtime>://<id>".'),
    exitCode: int32('Exit status of the last process.'),
    finishedAt: time('When the container last exited.'),
    message: str('Message about the termination.'),
    reason: str('Brief reason, e.g. Completed, Error or OOMKilled.'),
    signal: int32('Signal that ended the container, if any.'),
    startedAt: time('When the run that ended started.'),
  }, { required: ['exitCode'] }),
  [C('ContainerStateWaiting')]: obj('A container that has not started.', {
    message: str('Message about why it is waiting.'),
    reason: str('Brief reason, e.g. ContainerCreating, ImagePullBackOff or CrashLoopBackOff.'),
  }),
  [C('ContainerUser')]: obj('The identity of a container\'s process.', {
    linux: refTo(C('LinuxContainerUser'), 'Linux user and groups.'),
  }),
  [C('LinuxContainerUser')]: obj('Linux identity of a process.', {
    gid: int64('Primary GID.'),
    supplementalGroups: arr({ type: 'integer', format: 'int64', default: 0 }, 'Supplemental GIDs.', atomic),
    uid: int64('UID.'),
  }, { required: ['uid', 'gid'] }),
  [C('VolumeMountStatus')]: obj('Status of a volume mount.', {
    mountPath: str('Path of the mount.'),
    name: str('Name of the volume.'),
    readOnly: bool('Whether the mount is read-only.'),
    recursiveReadOnly: str('Effective recursive read-only mode: Disabled or Enabled.'),
  }, { required: ['name', 'mountPath'] }),
  [C('ResourceStatus')]: obj('Health of the devices behind one resource.', {
    name: str('Resource name.'),
    resources: arrOf(C('ResourceHealth'), 'Health of each device.', mapList(['resourceID'])),
  }, { required: ['name'] }),
  [C('ResourceHealth')]: obj('Health of one device.', {
    health: str('Healthy, Unhealthy or Unknown.'),
    resourceID: str('Unique ID of the device.'),
  }, { required: ['resourceID'] }),
});
