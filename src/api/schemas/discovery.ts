// discovery.k8s.io/v1: EndpointSlice, the scalable successor of Endpoints.
import { defineComponents } from '../schema.ts';
import { CORE, str, strEnum, int32, bool, refTo, arrOf, strings, strMap, obj, kindWithList, gvk, atomic, set, atomicStruct } from './helpers.ts';

const D = 'io.k8s.api.discovery.v1.';

defineComponents({
  ...kindWithList(D + 'EndpointSlice', 'A subset of the endpoints of a service. A service\'s endpoints are spread over slices, found through the kubernetes.io/service-name label.',
    gvk('discovery.k8s.io', 'v1', 'EndpointSlice'), {
      addressType: strEnum('The type of the addresses in this slice: IPv4, IPv6 or FQDN. Cannot be changed.', ['FQDN', 'IPv4', 'IPv6']),
      endpoints: arrOf(D + 'Endpoint', 'The endpoints of this slice (at most 1000).', atomic),
      ports: arrOf(D + 'EndpointPort', 'The ports every endpoint of this slice serves. Empty means no ports are defined.', atomic),
    }, 'EndpointSlices', { required: ['addressType', 'endpoints'] }),
  [D + 'Endpoint']: obj('One endpoint of a service.', {
    addresses: strings('Addresses of the endpoint, interpreted per the slice\'s addressType. Consumers use the first.', set),
    conditions: refTo(D + 'EndpointConditions', 'Readiness of the endpoint.', { default: {} }),
    deprecatedTopology: strMap('Deprecated topology labels; use zone and nodeName.'),
    hints: refTo(D + 'EndpointHints', 'Hints for topology-aware routing.'),
    hostname: str('Hostname of the endpoint, used for per-pod DNS records.'),
    nodeName: str('The node hosting the endpoint.'),
    targetRef: refTo(CORE + 'ObjectReference', 'The object (usually a pod) behind the endpoint.'),
    zone: str('The zone the endpoint is in.'),
  }, { required: ['addresses'] }),
  [D + 'EndpointConditions']: obj('Conditions of an endpoint.', {
    ready: bool('Whether the endpoint may receive traffic: serving and not terminating (or the service publishes not-ready addresses).'),
    serving: bool('Whether the endpoint passes its readiness checks, whether or not it is terminating.'),
    terminating: bool('Whether the endpoint is terminating.'),
  }),
  [D + 'EndpointHints']: obj('Topology hints of an endpoint.', {
    forZones: arrOf(D + 'ForZone', 'Zones that should consume this endpoint.', atomic),
  }),
  [D + 'ForZone']: obj('A zone that should consume an endpoint.', {
    name: str('Name of the zone.'),
  }, { required: ['name'] }),
  [D + 'EndpointPort']: obj('A port of the endpoints of a slice.', {
    appProtocol: str('Application protocol of the port.'),
    name: str('Name of the matching service port; empty when there is only one.'),
    port: int32('Port number; all ports when unset.'),
    protocol: strEnum('TCP (the default), UDP or SCTP.', ['SCTP', 'TCP', 'UDP']),
  }, atomicStruct),
});
