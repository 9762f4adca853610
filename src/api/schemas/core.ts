// core/v1 kinds other than Pod: namespaces, services and endpoints, storage claims and
// volumes, nodes, config, events and service accounts.
import { defineComponents } from '../schema.ts';
import {
  META, CORE,
  str, strEnum, int32, int64, bool, refTo, arrOf, strings, strMap, quantityMap, obj, time,
  intOrString, kindWithList, gvk, atomic, set, atomicStruct, mapList, conditionsList, MICRO_TIME,
} from './helpers.ts';

const C = (name: string) => CORE + name;
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

defineComponents({
  [C('ObjectReference')]: obj('A reference to another object, with enough detail to find it.', {
    apiVersion: str('API version of the referent.'),
    fieldPath: str('A path to a part of the referent instead of the whole, e.g. spec.containers{name} for one container of a pod.'),
    kind: str('Kind of the referent.'),
    name: str('Name of the referent.'),
    namespace: str('Namespace of the referent.'),
    resourceVersion: str('The referent\'s resourceVersion this reference was made at, if it matters.'),
    uid: str('UID of the referent.'),
  }, atomicStruct),
  [C('SecretReference')]: obj('Refers to a Secret in any namespace.', {
    name: str('Name of the Secret.'),
    namespace: str('Namespace of the Secret.'),
  }, atomicStruct),
  [C('TypedLocalObjectReference')]: obj('Refers to an object of a given type in the same namespace.', {
    apiGroup: str('API group of the referent; empty for the core group.'),
    kind: str('Kind of the referent.'),
    name: str('Name of the referent.'),
  }, { required: ['kind', 'name'], ...atomicStruct }),
  [C('TypedObjectReference')]: obj('Refers to an object of a given type, possibly in another namespace.', {
    apiGroup: str('API group of the referent; empty for the core group.'),
    kind: str('Kind of the referent.'),
    name: str('Name of the referent.'),
    namespace: str('Namespace of the referent; needs a ReferenceGrant when it differs from the claim\'s.'),
  }, { required: ['kind', 'name'] }),

  // Namespace
  ...kindWithList(C('Namespace'), 'A Namespace scopes names: most objects live in exactly one namespace.', gvk('', 'v1', 'Namespace'), {
    spec: refTo(C('NamespaceSpec'), 'The desired state of the namespace.', { default: {} }),
    status: refTo(C('NamespaceStatus'), 'The observed state of the namespace.', { default: {} }),
  }, 'namespaces'),
  [C('NamespaceSpec')]: obj('The desired state of a namespace.', {
    finalizers: strings('Finalizers that must be cleared before the namespace is removed from storage.', atomic),
  }),
  [C('NamespaceStatus')]: obj('The observed state of a namespace.', {
    conditions: arrOf(C('NamespaceCondition'), 'Current conditions of the namespace.', conditionsList),
    phase: strEnum('Active, or Terminating while its content is being deleted.', ['Active', 'Terminating']),
  }),
  [C('NamespaceCondition')]: obj('A condition of a namespace.', {
    lastTransitionTime: time('When the condition last changed status.'),
    message: str('Human-readable details.'),
    reason: str('CamelCase reason.'),
    status: str('True, False or Unknown.'),
    type: str('Type of the condition.'),
  }, { required: ['type', 'status'] }),

  // Service
  ...kindWithList(C('Service'), 'A Service is a named abstraction over a set of pods (chosen by a label selector) and the ports they serve, with a stable virtual IP and DNS name. A headless Service (clusterIP None) gives each ready pod its own DNS record instead.', gvk('', 'v1', 'Service'), {
    spec: refTo(C('ServiceSpec'), 'The desired behaviour of the service.', { default: {} }),
    status: refTo(C('ServiceStatus'), 'The observed state of the service, e.g. its load balancer.', { default: {} }),
  }, 'services'),
  [C('ServiceSpec')]: obj('The desired behaviour of a service.', {
    allocateLoadBalancerNodePorts: bool('Whether node ports are allocated for a LoadBalancer service. Defaults to true.'),
    clusterIP: str('The virtual IP of the service, normally assigned at random. "None" makes the service headless: no virtual IP, and DNS returns the IPs of the ready pods. Cannot be changed once set, except to switch to ExternalName.'),
    clusterIPs: strings('The virtual IPs of the service, one per IP family, the first equal to clusterIP.', atomic),
    externalIPs: strings('Extra IPs on which nodes accept traffic for the service. Not managed by the cluster.', atomic),
    externalName: str('For type ExternalName: the DNS name the service\'s name is a CNAME for.'),
    externalTrafficPolicy: strEnum('How external traffic is routed: Cluster (to any ready endpoint) or Local (only to endpoints on the receiving node, keeping the client IP).', ['Cluster', 'Local']),
    healthCheckNodePort: int32('Node port for load balancer health checks, with type LoadBalancer and externalTrafficPolicy Local.'),
    internalTrafficPolicy: strEnum('How traffic from inside the cluster is routed: Cluster (any endpoint) or Local (endpoints on the same node only).', ['Cluster', 'Local']),
    ipFamilies: strings('IP families (IPv4, IPv6) of the service, in order.', atomic),
    ipFamilyPolicy: strEnum('SingleStack, PreferDualStack or RequireDualStack.', ['PreferDualStack', 'RequireDualStack', 'SingleStack']),
    loadBalancerClass: str('The load balancer implementation to use, for type LoadBalancer.'),
    loadBalancerIP: str('Deprecated: a requested load balancer IP.'),
    loadBalancerSourceRanges: strings('Client CIDRs allowed through the load balancer.', atomic),
    ports: arrOf(C('ServicePort'), 'The ports the service exposes.', mapList(['port', 'protocol'], 'port')),
    publishNotReadyAddresses: bool('Publish endpoints (and DNS records) for pods whether they are ready or not. Useful for headless services of StatefulSets whose pods need to find each other before they are ready.'),
    selector: strMap('Pods with these labels back the service. When empty, endpoints are managed by someone else.', atomicStruct),
    sessionAffinity: strEnum('ClientIP sends each client to the same endpoint; None (the default) does not.', ['ClientIP', 'None']),
    sessionAffinityConfig: refTo(C('SessionAffinityConfig'), 'Settings of the session affinity.'),
    trafficDistribution: str('A preference for how traffic is spread across endpoints, e.g. PreferClose.'),
    type: strEnum('How the service is exposed: ClusterIP (the default; reachable inside the cluster), NodePort, LoadBalancer or ExternalName.', ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort']),
  }),
  [C('ServicePort')]: obj('A port of a service.', {
    appProtocol: str('Application protocol of the port, e.g. http or kubernetes.io/h2c.'),
    name: str('Name of the port; required and unique when the service has several. Used for SRV records.'),
    nodePort: int32('Port on every node for NodePort and LoadBalancer services; allocated when not given.'),
    port: int32('The port the service listens on.'),
    protocol: strEnum('TCP (the default), UDP or SCTP.', PROTOCOLS, { default: 'TCP' }),
    targetPort: intOrString('Number or name of the port on the pods. Defaults to port.'),
  }, { required: ['port'] }),
  [C('SessionAffinityConfig')]: obj('Session affinity settings.', {
    clientIP: refTo(C('ClientIPConfig'), 'Settings of ClientIP affinity.'),
  }),
  [C('ClientIPConfig')]: obj('ClientIP affinity settings.', {
    timeoutSeconds: int32('How long a client sticks to an endpoint. Defaults to 10800 (3 hours).'),
  }),
  [C('ServiceStatus')]: obj('The observed state of a service.', {
    conditions: arrOf(META + 'Condition', 'Current conditions of the service.', conditionsList),
    loadBalancer: refTo(C('LoadBalancerStatus'), 'The load balancer, if any.', { default: {} }),
  }),
  [C('LoadBalancerStatus')]: obj('The state of a load balancer.', {
    ingress: arrOf(C('LoadBalancerIngress'), 'Ingress points of the load balancer.', atomic),
  }),
  [C('LoadBalancerIngress')]: obj('An ingress point of a load balancer.', {
    hostname: str('DNS name of the ingress point.'),
    ip: str('IP of the ingress point.'),
    ipMode: str('How traffic reaches the ingress IP: VIP or Proxy.'),
    ports: arrOf(C('PortStatus'), 'Status of each service port.', atomic),
  }),
  [C('PortStatus')]: obj('Status of a load balancer port.', {
    error: str('Problem with the port, if any.'),
    port: int32('Port number.'),
    protocol: strEnum('TCP, UDP or SCTP.', PROTOCOLS),
  }, { required: ['port', 'protocol'] }),

  // Endpoints
  ...kindWithList(C('Endpoints'), 'The network addresses that back a service, grouped into subsets of addresses sharing the same ports. Maintained by the endpoints controller for services with a selector.', gvk('', 'v1', 'Endpoints'), {
    subsets: arrOf(C('EndpointSubset'), 'Groups of addresses with the same ports. The union of all subsets is the full set of endpoints.', atomic),
  }, 'endpoints'),
  [C('EndpointSubset')]: obj('Addresses that all serve the same ports.', {
    addresses: arrOf(C('EndpointAddress'), 'Addresses that are ready to receive traffic.', atomic),
    notReadyAddresses: arrOf(C('EndpointAddress'), 'Addresses that are not ready (yet), such as pods failing their readiness probe.', atomic),
    ports: arrOf(C('EndpointPort'), 'The ports of these addresses.', atomic),
  }),
  [C('EndpointAddress')]: obj('One endpoint address.', {
    hostname: str('Hostname of the endpoint, used for per-pod DNS records of headless services.'),
    ip: str('IP of the endpoint.'),
    nodeName: str('The node hosting the endpoint.'),
    targetRef: refTo(C('ObjectReference'), 'The object (usually a pod) behind the endpoint.'),
  }, { required: ['ip'], ...atomicStruct }),
  [C('EndpointPort')]: obj('A port of the endpoints.', {
    appProtocol: str('Application protocol of the port.'),
    name: str('Name of the matching service port.'),
    port: int32('Port number.'),
    protocol: strEnum('TCP (the default), UDP or SCTP.', PROTOCOLS),
  }, { required: ['port'], ...atomicStruct }),

  // PersistentVolumeClaim
  ...kindWithList(C('PersistentVolumeClaim'), 'A user\'s request for storage. It is bound to a PersistentVolume that satisfies it, provisioned dynamically from its storage class when none exists.', gvk('', 'v1', 'PersistentVolumeClaim'), {
    spec: refTo(C('PersistentVolumeClaimSpec'), 'What storage is requested.', { default: {} }),
    status: refTo(C('PersistentVolumeClaimStatus'), 'The observed state of the claim.', { default: {} }),
  }, 'persistent volume claims'),
  [C('PersistentVolumeClaimSpec')]: obj('The storage requested by a claim.', {
    accessModes: strings('The access modes the volume must offer: ReadWriteOnce, ReadOnlyMany, ReadWriteMany or ReadWriteOncePod.', atomic),
    dataSource: refTo(C('TypedLocalObjectReference'), 'An existing VolumeSnapshot or PVC to fill the new volume from.'),
    dataSourceRef: refTo(C('TypedObjectReference'), 'An object to fill the new volume from; a more general form of dataSource.'),
    resources: refTo(C('VolumeResourceRequirements'), 'The minimum storage the volume must have (requests.storage).', { default: {} }),
    selector: refTo(META + 'LabelSelector', 'Only volumes with these labels may be bound.'),
    storageClassName: str('The StorageClass the claim wants. Empty string asks for a volume with no class; when unset the default class is used.'),
    volumeAttributesClassName: str('The VolumeAttributesClass to apply to the volume.'),
    volumeMode: strEnum('Filesystem (the default) or Block.', ['Block', 'Filesystem']),
    volumeName: str('Binds the claim to this specific PersistentVolume.'),
  }),
  [C('VolumeResourceRequirements')]: obj('Storage requests and limits.', {
    limits: quantityMap('The most storage allowed.'),
    requests: quantityMap('The minimum storage required, e.g. storage: 1Gi.'),
  }),
  [C('PersistentVolumeClaimStatus')]: obj('The observed state of a claim.', {
    accessModes: strings('Access modes of the bound volume.', atomic),
    allocatedResourceStatuses: strMap('Status of resize operations per resource.', { 'x-kubernetes-map-type': 'granular' }),
    allocatedResources: quantityMap('Resources allocated to the claim, including pending resizes.'),
    capacity: quantityMap('Actual capacity of the bound volume.'),
    conditions: arrOf(C('PersistentVolumeClaimCondition'), 'Current conditions, e.g. Resizing.', conditionsList),
    currentVolumeAttributesClassName: str('The VolumeAttributesClass currently applied.'),
    modifyVolumeStatus: refTo(C('ModifyVolumeStatus'), 'State of a volume modification in progress.'),
    phase: strEnum('Pending, Bound or Lost.', ['Bound', 'Lost', 'Pending']),
  }),
  [C('PersistentVolumeClaimCondition')]: obj('A condition of a claim.', {
    lastProbeTime: time('When the condition was last checked.'),
    lastTransitionTime: time('When the condition last changed status.'),
    message: str('Human-readable details.'),
    reason: str('CamelCase reason.'),
    status: str('True, False or Unknown.'),
    type: str('Type of the condition.'),
  }, { required: ['type', 'status'] }),
  [C('ModifyVolumeStatus')]: obj('State of a volume modification.', {
    status: str('Pending, InProgress or Infeasible.'),
    targetVolumeAttributesClassName: str('The class being applied.'),
  }, { required: ['status'] }),

  // PersistentVolume
  ...kindWithList(C('PersistentVolume'), 'A piece of storage in the cluster, provisioned by an administrator or dynamically from a StorageClass, which a claim can bind to.', gvk('', 'v1', 'PersistentVolume'), {
    spec: refTo(C('PersistentVolumeSpec'), 'The volume\'s properties and where the storage is.', { default: {} }),
    status: refTo(C('PersistentVolumeStatus'), 'The observed state of the volume.', { default: {} }),
  }, 'persistent volumes'),
  [C('PersistentVolumeSpec')]: obj('The properties of a persistent volume. Exactly one storage source must be set.', {
    accessModes: strings('The ways the volume can be mounted.', atomic),
    awsElasticBlockStore: refTo(C('AWSElasticBlockStoreVolumeSource'), 'Deprecated in-tree AWS EBS disk.'),
    azureDisk: refTo(C('AzureDiskVolumeSource'), 'Deprecated in-tree Azure disk.'),
    azureFile: refTo(C('AzureFilePersistentVolumeSource'), 'Deprecated in-tree Azure File share.'),
    capacity: quantityMap('The volume\'s capacity, e.g. storage: 10Gi.'),
    cephfs: refTo(C('CephFSPersistentVolumeSource'), 'A CephFS mount.'),
    cinder: refTo(C('CinderPersistentVolumeSource'), 'Deprecated in-tree Cinder volume.'),
    claimRef: refTo(C('ObjectReference'), 'The claim the volume is bound to, or reserved for.', { 'x-kubernetes-map-type': 'granular' }),
    csi: refTo(C('CSIPersistentVolumeSource'), 'A volume managed by a CSI driver.'),
    fc: refTo(C('FCVolumeSource'), 'A Fibre Channel disk.'),
    flexVolume: refTo(C('FlexPersistentVolumeSource'), 'A FlexVolume plugin volume.'),
    flocker: refTo(C('FlockerVolumeSource'), 'A Flocker dataset.'),
    gcePersistentDisk: refTo(C('GCEPersistentDiskVolumeSource'), 'Deprecated in-tree GCE disk.'),
    glusterfs: refTo(C('GlusterfsPersistentVolumeSource'), 'A GlusterFS mount.'),
    hostPath: refTo(C('HostPathVolumeSource'), 'A directory on a single node; for development and testing only.'),
    iscsi: refTo(C('ISCSIPersistentVolumeSource'), 'An iSCSI disk.'),
    local: refTo(C('LocalVolumeSource'), 'A local disk, partition or directory of a node; needs nodeAffinity.'),
    mountOptions: strings('Mount options used when the volume is mounted.', atomic),
    nfs: refTo(C('NFSVolumeSource'), 'An NFS export.'),
    nodeAffinity: refTo(C('VolumeNodeAffinity'), 'The nodes the volume can be used from.'),
    persistentVolumeReclaimPolicy: strEnum('What happens when the claim is released: Retain (keep for manual reclamation), Delete (delete the storage; the default for dynamic volumes) or Recycle (deprecated).', ['Delete', 'Recycle', 'Retain']),
    photonPersistentDisk: refTo(C('PhotonPersistentDiskVolumeSource'), 'A Photon Controller disk.'),
    portworxVolume: refTo(C('PortworxVolumeSource'), 'Deprecated in-tree Portworx volume.'),
    quobyte: refTo(C('QuobyteVolumeSource'), 'A Quobyte mount.'),
    rbd: refTo(C('RBDPersistentVolumeSource'), 'A Rados block device.'),
    scaleIO: refTo(C('ScaleIOPersistentVolumeSource'), 'A ScaleIO volume.'),
    storageClassName: str('The StorageClass the volume belongs to; empty means no class.'),
    storageos: refTo(C('StorageOSPersistentVolumeSource'), 'A StorageOS volume.'),
    volumeAttributesClassName: str('The VolumeAttributesClass of the volume.'),
    volumeMode: strEnum('Filesystem (the default) or Block.', ['Block', 'Filesystem']),
    vsphereVolume: refTo(C('VsphereVirtualDiskVolumeSource'), 'Deprecated in-tree vSphere disk.'),
  }),
  [C('PersistentVolumeStatus')]: obj('The observed state of a persistent volume.', {
    lastPhaseTransitionTime: time('When the volume last changed phase.'),
    message: str('Human-readable message about the state.'),
    phase: strEnum('Pending, Available, Bound, Released or Failed.', ['Available', 'Bound', 'Failed', 'Pending', 'Released']),
    reason: str('CamelCase reason for a failure.'),
  }),
  [C('LocalVolumeSource')]: obj('A local storage device or directory of a node.', {
    fsType: str('Filesystem type of a block device; auto-detected when empty.'),
    path: str('Full path of the volume on the node.'),
  }, { required: ['path'] }),
  [C('VolumeNodeAffinity')]: obj('Nodes from which a volume is accessible.', {
    required: refTo(C('NodeSelector'), 'Hard node constraints.'),
  }),
  [C('CSIPersistentVolumeSource')]: obj('Storage managed by an external CSI driver.', {
    controllerExpandSecretRef: refTo(C('SecretReference'), 'Secret for ControllerExpandVolume calls.'),
    controllerPublishSecretRef: refTo(C('SecretReference'), 'Secret for ControllerPublishVolume calls.'),
    driver: str('Name of the driver.'),
    fsType: str('Filesystem type.'),
    nodeExpandSecretRef: refTo(C('SecretReference'), 'Secret for NodeExpandVolume calls.'),
    nodePublishSecretRef: refTo(C('SecretReference'), 'Secret for NodePublishVolume calls.'),
    nodeStageSecretRef: refTo(C('SecretReference'), 'Secret for NodeStageVolume calls.'),
    readOnly: bool('Publish read-only. Defaults to false.'),
    volumeAttributes: strMap('Driver-specific attributes of the volume.'),
    volumeHandle: str('The driver\'s unique ID of the volume.'),
  }, { required: ['driver', 'volumeHandle'] }),
  [C('AzureFilePersistentVolumeSource')]: obj('An Azure File share.', {
    readOnly: bool('Mount read-only.'), secretName: str('Secret with the account name and key.'),
    secretNamespace: str('Namespace of the secret; the pod\'s by default.'), shareName: str('Share name.'),
  }, { required: ['secretName', 'shareName'] }),
  [C('CephFSPersistentVolumeSource')]: obj('A CephFS mount.', {
    monitors: strings('Ceph monitors.', atomic), path: str('Path within the filesystem.'), readOnly: bool('Mount read-only.'),
    secretFile: str('Path of the keyring.'), secretRef: refTo(C('SecretReference'), 'Secret with the auth key.'), user: str('Rados user name.'),
  }, { required: ['monitors'] }),
  [C('CinderPersistentVolumeSource')]: obj('An OpenStack Cinder volume.', {
    fsType: str('Filesystem type.'), readOnly: bool('Mount read-only.'),
    secretRef: refTo(C('SecretReference'), 'Secret with OpenStack parameters.'), volumeID: str('Volume ID.'),
  }, { required: ['volumeID'] }),
  [C('FlexPersistentVolumeSource')]: obj('A FlexVolume plugin volume.', {
    driver: str('Name of the driver.'), fsType: str('Filesystem type.'), options: strMap('Driver options.'),
    readOnly: bool('Mount read-only.'), secretRef: refTo(C('SecretReference'), 'Secret passed to the driver.'),
  }, { required: ['driver'] }),
  [C('GlusterfsPersistentVolumeSource')]: obj('A GlusterFS mount.', {
    endpoints: str('Endpoints object naming the cluster.'), endpointsNamespace: str('Namespace of the endpoints.'),
    path: str('Volume path.'), readOnly: bool('Mount read-only.'),
  }, { required: ['endpoints', 'path'] }),
  [C('ISCSIPersistentVolumeSource')]: obj('An iSCSI disk.', {
    chapAuthDiscovery: bool('Use CHAP for discovery.'), chapAuthSession: bool('Use CHAP for the session.'),
    fsType: str('Filesystem type.'), initiatorName: str('Custom initiator name.'), iqn: str('Target IQN.'),
    iscsiInterface: str('iSCSI interface name.'), lun: int32('Target LUN.'), portals: strings('Extra target portals.', atomic),
    readOnly: bool('Mount read-only.'), secretRef: refTo(C('SecretReference'), 'CHAP credentials.'), targetPortal: str('Target portal.'),
  }, { required: ['targetPortal', 'iqn', 'lun'] }),
  [C('RBDPersistentVolumeSource')]: obj('A Rados block device.', {
    fsType: str('Filesystem type.'), image: str('Image name.'), keyring: str('Keyring path.'),
    monitors: strings('Ceph monitors.', atomic), pool: str('Pool name.'), readOnly: bool('Mount read-only.'),
    secretRef: refTo(C('SecretReference'), 'Secret with the auth key.'), user: str('Rados user name.'),
  }, { required: ['monitors', 'image'] }),
  [C('ScaleIOPersistentVolumeSource')]: obj('A ScaleIO volume.', {
    fsType: str('Filesystem type.'), gateway: str('Gateway address.'), protectionDomain: str('Protection domain.'),
    readOnly: bool('Mount read-only.'), secretRef: refTo(C('SecretReference'), 'Secret with the credentials.'),
    sslEnabled: bool('Use SSL to the gateway.'), storageMode: str('ThickProvisioned or ThinProvisioned.'),
    storagePool: str('Storage pool.'), system: str('Storage system name.'), volumeName: str('Volume name.'),
  }, { required: ['gateway', 'system', 'secretRef'] }),
  [C('StorageOSPersistentVolumeSource')]: obj('A StorageOS volume.', {
    fsType: str('Filesystem type.'), readOnly: bool('Mount read-only.'),
    secretRef: refTo(C('ObjectReference'), 'Secret with the API credentials.'),
    volumeName: str('Volume name.'), volumeNamespace: str('StorageOS namespace of the volume.'),
  }),

  // Node
  ...kindWithList(C('Node'), 'A Node is a machine (physical or virtual) that runs pods. Its node agent registers it and reports its status.', gvk('', 'v1', 'Node'), {
    spec: refTo(C('NodeSpec'), 'How the node is configured: taints, pod CIDRs, schedulability.', { default: {} }),
    status: refTo(C('NodeStatus'), 'The most recently observed state of the node. Read-only.', { default: {} }),
  }, 'nodes'),
  [C('NodeSpec')]: obj('How a node is configured.', {
    configSource: refTo(C('NodeConfigSource'), 'Deprecated: dynamic kubelet configuration is no longer supported.'),
    externalID: str('Deprecated; not used.'),
    podCIDR: str('The pod IP range assigned to the node.'),
    podCIDRs: strings('The pod IP ranges assigned to the node, at most one per family; the first equals podCIDR.', { ...set, 'x-kubernetes-patch-strategy': 'merge' }),
    providerID: str('The cloud provider\'s ID for the node.'),
    taints: arrOf(C('Taint'), 'Taints that repel pods that do not tolerate them.', atomic),
    unschedulable: bool('Keep new pods off the node (set by kubectl cordon). Defaults to false.'),
  }),
  [C('Taint')]: obj('A taint repels pods that do not tolerate it.', {
    effect: strEnum('NoSchedule, PreferNoSchedule or NoExecute (also evicts running pods that do not tolerate it).', ['NoExecute', 'NoSchedule', 'PreferNoSchedule']),
    key: str('Taint key.'),
    timeAdded: time('When a NoExecute taint was added.'),
    value: str('Taint value.'),
  }, { required: ['key', 'effect'] }),
  [C('NodeConfigSource')]: obj('Deprecated dynamic kubelet configuration source.', {
    configMap: refTo(C('ConfigMapNodeConfigSource'), 'A ConfigMap holding the configuration.'),
  }),
  [C('ConfigMapNodeConfigSource')]: obj('Deprecated: a ConfigMap holding node configuration.', {
    kubeletConfigKey: str('Key of the configuration.'), name: str('Name of the ConfigMap.'),
    namespace: str('Namespace of the ConfigMap.'), resourceVersion: str('resourceVersion of the ConfigMap.'), uid: str('UID of the ConfigMap.'),
  }, { required: ['namespace', 'name', 'kubeletConfigKey'] }),
  [C('NodeStatus')]: obj('The observed state of a node.', {
    addresses: arrOf(C('NodeAddress'), 'Addresses of the node (InternalIP, Hostname, ...).', mapList(['type'], 'type')),
    allocatable: quantityMap('Resources available to pods (capacity minus system reservations).'),
    capacity: quantityMap('Total resources of the node.'),
    conditions: arrOf(C('NodeCondition'), 'Current conditions: Ready, MemoryPressure, DiskPressure, PIDPressure, NetworkUnavailable.', conditionsList),
    config: refTo(C('NodeConfigStatus'), 'Deprecated dynamic configuration status.'),
    daemonEndpoints: refTo(C('NodeDaemonEndpoints'), 'Ports of the daemons on the node.', { default: {} }),
    features: refTo(C('NodeFeatures'), 'Features the node supports.'),
    images: arrOf(C('ContainerImage'), 'Images present on the node.', atomic),
    nodeInfo: refTo(C('NodeSystemInfo'), 'Identity and versions of the node.', { default: {} }),
    phase: str('Deprecated and no longer set.'),
    runtimeHandlers: arrOf(C('NodeRuntimeHandler'), 'The runtime handlers available.', atomic),
    volumesAttached: arrOf(C('AttachedVolume'), 'Volumes attached to the node.', atomic),
    volumesInUse: strings('Volumes mounted on the node.', atomic),
  }),
  [C('NodeAddress')]: obj('An address of a node.', {
    address: str('The address.'),
    type: str('Hostname, ExternalIP, InternalIP, ExternalDNS or InternalDNS.'),
  }, { required: ['type', 'address'] }),
  [C('NodeCondition')]: obj('A condition of a node.', {
    lastHeartbeatTime: time('When the condition was last reported.'),
    lastTransitionTime: time('When the condition last changed status.'),
    message: str('Human-readable details.'),
    reason: str('CamelCase reason.'),
    status: str('True, False or Unknown.'),
    type: str('Type of the condition, e.g. Ready.'),
  }, { required: ['type', 'status'] }),
  [C('NodeConfigStatus')]: obj('Deprecated dynamic configuration status.', {
    active: refTo(C('NodeConfigSource'), 'Configuration in use.'), assigned: refTo(C('NodeConfigSource'), 'Configuration assigned.'),
    error: str('Problem with the configuration.'), lastKnownGood: refTo(C('NodeConfigSource'), 'Fallback configuration.'),
  }),
  [C('NodeDaemonEndpoints')]: obj('Ports of daemons on a node.', {
    kubeletEndpoint: refTo(C('DaemonEndpoint'), 'The node agent\'s endpoint.', { default: {} }),
  }),
  [C('DaemonEndpoint')]: obj('A daemon port.', {
    Port: int32('Port number.'),
  }, { required: ['Port'] }),
  [C('NodeFeatures')]: obj('Features a node supports.', {
    supplementalGroupsPolicy: bool('Whether the node honours supplementalGroupsPolicy.'),
  }),
  [C('ContainerImage')]: obj('A container image on a node.', {
    names: strings('Names of the image.', atomic),
    sizeBytes: int64('Size of the image in bytes.'),
  }),
  [C('NodeSystemInfo')]: obj('Identity and versions of a node.', {
    architecture: str('CPU architecture.'), bootID: str('Boot ID.'),
    containerRuntimeVersion: str('Container runtime name and version.'), kernelVersion: str('Kernel version.'),
    kubeProxyVersion: str('Deprecated; not reliable.'), kubeletVersion: str('Node agent version.'),
    machineID: str('Machine ID.'), operatingSystem: str('Operating system.'), osImage: str('OS image.'),
    swap: refTo(C('NodeSwapStatus'), 'Swap memory information.'), systemUUID: str('System UUID.'),
  }, { required: ['machineID', 'systemUUID', 'bootID', 'kernelVersion', 'osImage', 'containerRuntimeVersion', 'kubeletVersion', 'kubeProxyVersion', 'operatingSystem', 'architecture'] }),
  [C('NodeSwapStatus')]: obj('Swap memory of a node.', {
    capacity: int64('Total swap in bytes.'),
  }),
  [C('NodeRuntimeHandler')]: obj('A runtime handler of a node.', {
    features: refTo(C('NodeRuntimeHandlerFeatures'), 'Features of the handler.'),
    name: str('Handler name; empty for the default.'),
  }),
  [C('NodeRuntimeHandlerFeatures')]: obj('Features of a runtime handler.', {
    recursiveReadOnlyMounts: bool('Supports recursive read-only mounts.'),
    userNamespaces: bool('Supports user namespaces.'),
  }),
  [C('AttachedVolume')]: obj('A volume attached to a node.', {
    devicePath: str('Where the device is available.'),
    name: str('Name of the volume.'),
  }, { required: ['name', 'devicePath'] }),

  // ConfigMap and Secret
  ...kindWithList(C('ConfigMap'), 'Non-confidential configuration data as key/value pairs, for pods to read as files, environment variables or arguments.', gvk('', 'v1', 'ConfigMap'), {
    binaryData: { type: 'object', description: 'Binary values, base64-encoded in JSON. Keys must not also appear in data.', additionalProperties: { type: 'string', format: 'byte' } },
    data: strMap('UTF-8 values. Keys are made of alphanumerics, "-", "_" and ".".'),
    immutable: bool('If true, data can no longer be changed; only deleting the object is possible.'),
  }, 'config maps'),
  ...kindWithList(C('Secret'), 'Confidential data, such as passwords, tokens or keys, as key/value pairs.', gvk('', 'v1', 'Secret'), {
    data: { type: 'object', description: 'The secret values, base64-encoded in JSON.', additionalProperties: { type: 'string', format: 'byte' } },
    immutable: bool('If true, data can no longer be changed; only deleting the object is possible.'),
    stringData: strMap('Write-only convenience: plain-text values merged into data on write (winning over data). Never returned on read.'),
    type: str('How the data is to be used, e.g. Opaque (the default) or kubernetes.io/tls.'),
  }, 'secrets'),

  // Event
  ...kindWithList(C('Event'), 'A report of something that happened to an object, e.g. a pod being scheduled or a controller creating a pod. Events are kept only for a limited time.', gvk('', 'v1', 'Event'), {
    action: str('What was done, or failed, about the object.'),
    count: int32('How many times this event happened.'),
    eventTime: refTo(MICRO_TIME, 'When the event first happened, with microsecond precision.'),
    firstTimestamp: time('When the event was first recorded.'),
    involvedObject: refTo(C('ObjectReference'), 'The object the event is about.', { default: {} }),
    lastTimestamp: time('When the most recent occurrence was recorded.'),
    message: str('A human-readable description.'),
    reason: str('A short CamelCase reason for the event, e.g. SuccessfulCreate.'),
    related: refTo(C('ObjectReference'), 'A second object involved, if any.'),
    reportingComponent: str('The controller that emitted the event, e.g. statefulset-controller.'),
    reportingInstance: str('The instance of the controller that emitted it.'),
    series: refTo(C('EventSeries'), 'Data about a series of recurring events.'),
    source: refTo(C('EventSource'), 'The component that reported the event.', { default: {} }),
    type: str('Normal or Warning.'),
  }, 'events', { required: ['metadata', 'involvedObject'] }),
  [C('EventSeries')]: obj('A series of recurring events.', {
    count: int32('Occurrences in the series so far.'),
    lastObservedTime: refTo(MICRO_TIME, 'When the last occurrence was seen.'),
  }),
  [C('EventSource')]: obj('Where an event came from.', {
    component: str('The reporting component.'),
    host: str('The node it ran on.'),
  }),

  // ServiceAccount
  ...kindWithList(C('ServiceAccount'), 'An identity for processes running in pods, used to authenticate to the API server.', gvk('', 'v1', 'ServiceAccount'), {
    automountServiceAccountToken: bool('Whether pods using this account get a token mounted automatically; a pod can override it.'),
    imagePullSecrets: arrOf(C('LocalObjectReference'), 'Secrets used to pull images for pods using this account.', atomic),
    secrets: arrOf(C('ObjectReference'), 'Secrets pods using this account may use. Legacy; not used for tokens any more.', mapList(['name'], 'name')),
  }, 'service accounts'),
});
