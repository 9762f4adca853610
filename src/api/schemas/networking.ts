// networking.k8s.io/v1 NetworkPolicy, Ingress and IngressClass. This cluster stores and validates
// them but enforces none of them (no policy engine, no ingress controller); the descriptions say
// what a cluster that does enforce them would do, since that is what manifests are written for.
import { defineComponents } from '../schema.ts';
import {
  META, CORE,
  str, int32, refTo, arrOf, obj, intOrString, kindWithList, gvk, atomic, strings,
} from './helpers.ts';

const N = 'io.k8s.api.networking.v1.';

defineComponents({
  // ---------------------------------------------------------------- NetworkPolicy
  ...kindWithList(N + 'NetworkPolicy',
    'Which network traffic is allowed to and from a set of pods. Stored and validated here, but not enforced by this cluster.',
    gvk('networking.k8s.io', 'v1', 'NetworkPolicy'), {
      spec: refTo(N + 'NetworkPolicySpec', 'The desired behaviour of the policy.', { default: {} }),
    }, 'NetworkPolicies'),
  [N + 'NetworkPolicySpec']: obj('What a NetworkPolicy selects and allows.', {
    podSelector: refTo(META + 'LabelSelector', 'The pods of this namespace the policy applies to. An empty selector selects every pod of the namespace.', { default: {} }),
    ingress: arrOf(N + 'NetworkPolicyIngressRule', 'Incoming traffic allowed to the selected pods: traffic matching any rule is allowed. Ignored unless policyTypes includes Ingress.', atomic),
    egress: arrOf(N + 'NetworkPolicyEgressRule', 'Outgoing traffic allowed from the selected pods: traffic matching any rule is allowed. Ignored unless policyTypes includes Egress.', atomic),
    policyTypes: strings('Which directions the policy governs: Ingress, Egress or both. Defaults to Ingress, plus Egress when egress rules are given.', atomic),
  }),
  [N + 'NetworkPolicyIngressRule']: obj('Incoming traffic allowed when it matches both ports and from.', {
    ports: arrOf(N + 'NetworkPolicyPort', 'Destination ports allowed; empty or missing means every port.', atomic),
    from: arrOf(N + 'NetworkPolicyPeer', 'Sources allowed; empty or missing means every source.', atomic),
  }),
  [N + 'NetworkPolicyEgressRule']: obj('Outgoing traffic allowed when it matches both ports and to.', {
    ports: arrOf(N + 'NetworkPolicyPort', 'Destination ports allowed; empty or missing means every port.', atomic),
    to: arrOf(N + 'NetworkPolicyPeer', 'Destinations allowed; empty or missing means every destination.', atomic),
  }),
  [N + 'NetworkPolicyPort']: obj('A port (or range of ports) and protocol.', {
    protocol: str('TCP, UDP or SCTP. Defaults to TCP.'),
    port: intOrString('A port number or a named container port. Missing means every port.'),
    endPort: int32('With a numeric port, the last port of the range port..endPort.'),
  }),
  [N + 'NetworkPolicyPeer']: obj('A source or destination: pods, namespaces, or an IP block.', {
    podSelector: refTo(META + 'LabelSelector', 'Pods selected by labels (in the policy\'s namespace unless namespaceSelector is also set).'),
    namespaceSelector: refTo(META + 'LabelSelector', 'Namespaces selected by labels; an empty selector selects every namespace.'),
    ipBlock: refTo(N + 'IPBlock', 'A CIDR range, less some exceptions. May not be combined with the selectors.'),
  }),
  [N + 'IPBlock']: obj('A CIDR, less the CIDRs listed in except.', {
    cidr: str('The range, e.g. "192.168.1.0/24" or "2001:db8::/64".', { default: '' }),
    except: strings('Sub-ranges of cidr that are left out.', atomic),
  }, { required: ['cidr'] }),

  // ---------------------------------------------------------------- Ingress
  ...kindWithList(N + 'Ingress',
    'Rules that route outside HTTP(S) traffic to Services by host and path. Stored and validated here; this cluster runs no ingress controller, so nothing serves them.',
    gvk('networking.k8s.io', 'v1', 'Ingress'), {
      spec: refTo(N + 'IngressSpec', 'The desired routing.', { default: {} }),
      status: refTo(N + 'IngressStatus', 'The observed state, written by an ingress controller. Read-only.', { default: {} }),
    }, 'Ingresses'),
  [N + 'IngressSpec']: obj('The routing an Ingress asks for.', {
    ingressClassName: str('The IngressClass that names the controller meant to implement this Ingress.'),
    defaultBackend: refTo(N + 'IngressBackend', 'Where requests that match no rule go.'),
    tls: arrOf(N + 'IngressTLS', 'TLS settings: which hosts are served with which certificate Secret.', atomic),
    rules: arrOf(N + 'IngressRule', 'Host rules, each with its paths. Requests matching none go to defaultBackend.', atomic),
  }),
  [N + 'IngressBackend']: obj('A Service port or another resource that requests are sent to.', {
    service: refTo(N + 'IngressServiceBackend', 'A Service of the Ingress\'s namespace. Exclusive with resource.'),
    resource: refTo(CORE + 'TypedLocalObjectReference', 'Another object of the Ingress\'s namespace, e.g. a storage bucket. Exclusive with service.'),
  }),
  [N + 'IngressServiceBackend']: obj('A Service and one of its ports.', {
    name: str('The name of the Service.', { default: '' }),
    port: refTo(N + 'ServiceBackendPort', 'The Service port, by name or number.', { default: {} }),
  }, { required: ['name'] }),
  [N + 'ServiceBackendPort']: obj('A Service port, by name or by number (exactly one).', {
    name: str('The name of the port.'),
    number: int32('The number of the port.'),
  }, { 'x-kubernetes-map-type': 'atomic' }),
  [N + 'IngressTLS']: obj('Hosts served over TLS with one certificate.', {
    hosts: strings('Hosts the certificate covers; they should match rule hosts.', atomic),
    secretName: str('The Secret holding the certificate and key.'),
  }),
  [N + 'IngressRule']: obj('Routes for one host (or every host when host is empty).', {
    host: str('A fully qualified domain name, possibly with a leading "*." wildcard label; not an IP address.'),
    http: refTo(N + 'HTTPIngressRuleValue', 'The paths of this host.'),
  }),
  [N + 'HTTPIngressRuleValue']: obj('Paths and the backends they go to.', {
    paths: arrOf(N + 'HTTPIngressPath', 'The paths, each with its backend.', atomic),
  }, { required: ['paths'] }),
  [N + 'HTTPIngressPath']: obj('A path and its backend.', {
    path: str('The path matched against the request\'s path; must start with "/" unless pathType is ImplementationSpecific.'),
    pathType: str('How path is matched: Exact, Prefix (by "/"-separated elements) or ImplementationSpecific (up to the controller).'),
    backend: refTo(N + 'IngressBackend', 'Where matching requests go.', { default: {} }),
  }, { required: ['pathType', 'backend'] }),
  [N + 'IngressStatus']: obj('The observed state of an Ingress.', {
    loadBalancer: refTo(N + 'IngressLoadBalancerStatus', 'The addresses the Ingress is reachable at.', { default: {} }),
  }),
  [N + 'IngressLoadBalancerStatus']: obj('The addresses of an Ingress\'s load balancer.', {
    ingress: arrOf(N + 'IngressLoadBalancerIngress', 'The addresses, each an IP or a hostname.', atomic),
  }),
  [N + 'IngressLoadBalancerIngress']: obj('One address of an Ingress\'s load balancer.', {
    ip: str('An IP address.'),
    hostname: str('A DNS name.'),
    ports: arrOf(N + 'IngressPortStatus', 'Status of each port of this address.', atomic),
  }),
  [N + 'IngressPortStatus']: obj('Status of one load balancer port.', {
    port: int32('The port number.', { default: 0 }),
    protocol: str('TCP, UDP or SCTP.', { default: '' }),
    error: str('Why the port is not working, if it is not (CamelCase, optionally domain-prefixed).'),
  }, { required: ['port', 'protocol'] }),

  // ---------------------------------------------------------------- IngressClass
  ...kindWithList(N + 'IngressClass',
    'Names the controller meant to implement Ingresses of this class. The annotation ingressclass.kubernetes.io/is-default-class: "true" makes it the default.',
    gvk('networking.k8s.io', 'v1', 'IngressClass'), {
      spec: refTo(N + 'IngressClassSpec', 'The controller and its parameters.', { default: {} }),
    }, 'IngressClasses'),
  [N + 'IngressClassSpec']: obj('The controller of a class and its parameters.', {
    controller: str('The controller, as a domain-prefixed path such as "example.com/ingress-controller". Cannot be changed.'),
    parameters: refTo(N + 'IngressClassParametersReference', 'An object holding further settings for the controller.'),
  }),
  [N + 'IngressClassParametersReference']: obj('Refers to the object holding an IngressClass\'s settings.', {
    apiGroup: str('The API group of the object; the core group when missing.'),
    kind: str('The kind of the object.', { default: '' }),
    name: str('The name of the object.', { default: '' }),
    scope: str('Cluster (the default) or Namespace.'),
    namespace: str('The namespace of the object; required when scope is Namespace, forbidden otherwise.'),
  }, { required: ['kind', 'name'] }),
});
