// core/v1 Service: defaults, the cluster-IP/family normalisation the registry does around the
// allocator (allocation itself is the API server's), and validation as upstream v1.32.
import type { Obj, Strategy } from '../resource.ts';
import { forbidden, invalid, notSupported, required } from '../field-errors.ts';
import { type Errs, asArray, asObj, goValue, invalidRendered, isObj } from '../validation/fields.ts';
import { isQualifiedName, isValidIP, nameIsDNS1035Label } from '../validation/names.ts';
import { validateLabels, validateObjectMeta, validateObjectMetaUpdate } from '../validation/objectmeta.ts';
import { keepGeneration, keepOldSpec } from './generic.ts';
import { validateDNS1123Label, validateDNS1123Subdomain, validatePortNumOrName } from './podspec.ts';

const serviceTypes = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const protocols = ['SCTP', 'TCP', 'UDP'];
const kubeletPort = 10250;

export function isExternallyAccessible(svc: Obj): boolean {
  const s = asObj(svc.spec);
  return s.type === 'LoadBalancer' || s.type === 'NodePort' || (s.type === 'ClusterIP' && asArray(s.externalIPs).length > 0);
}

export function isHeadless(svc: Obj): boolean {
  const ips = asArray(asObj(svc.spec).clusterIPs);
  return ips.length === 1 && ips[0] === 'None';
}

// ---------------------------------------------------------------- defaults

export function defaultService(svc: Obj): void {
  if (!isObj(svc.spec)) svc.spec = {};
  const s = svc.spec;
  if (!s.sessionAffinity) s.sessionAffinity = 'None';
  if (s.sessionAffinity === 'None') delete s.sessionAffinityConfig;
  if (s.sessionAffinity === 'ClientIP' && typeof asObj(asObj(s.sessionAffinityConfig).clientIP).timeoutSeconds !== 'number') {
    s.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } };
  }
  if (!s.type) s.type = 'ClusterIP';
  for (const p of asArray(s.ports)) {
    if (!isObj(p)) continue;
    if (!p.protocol) p.protocol = 'TCP';
    if (p.targetPort === undefined || p.targetPort === null || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  if (isExternallyAccessible(svc) && !s.externalTrafficPolicy) s.externalTrafficPolicy = 'Cluster';
  if (!s.internalTrafficPolicy && ['NodePort', 'LoadBalancer', 'ClusterIP'].includes(s.type)) s.internalTrafficPolicy = 'Cluster';
  if (s.type === 'LoadBalancer' && s.allocateLoadBalancerNodePorts === undefined) s.allocateLoadBalancerNodePorts = true;
}

// ---------------------------------------------------------------- registry preparation

/** Keep clusterIP (singular, old clients) and clusterIPs (plural) in step, as upstream's NormalizeClusterIPs. */
export function normalizeClusterIPs(svc: Obj, old?: Obj): void {
  const s = asObj(svc.spec);
  const ip: string = s.clusterIP ?? '';
  const ips: string[] = asArray(s.clusterIPs);
  if (!old) {
    if (ip && ips.length === 0) s.clusterIPs = [ip];
    return;
  }
  const o = asObj(old.spec);
  const oldIP: string = o.clusterIP ?? '';
  const oldIPs: string[] = asArray(o.clusterIPs);
  const sameIPs = () => JSON.stringify(asArray(s.clusterIPs)) === JSON.stringify(oldIPs);
  if (oldIPs.length > 0 && ips.length === 0 && oldIP === ip) s.clusterIPs = oldIPs;
  if (oldIP !== ip) {
    if (oldIP && !ip) {
      if (sameIPs()) delete s.clusterIPs;
    } else if (sameIPs()) {
      s.clusterIPs = [ip];
    }
  }
}

/** The single-stack IPv4 cluster's family choices, made by upstream's allocator before validation. */
export function defaultIPFamilies(svc: Obj): void {
  const s = asObj(svc.spec);
  if (s.type === 'ExternalName') return;
  if (!s.ipFamilyPolicy) {
    const selectorless = Object.keys(asObj(s.selector)).length === 0;
    s.ipFamilyPolicy = isHeadless(svc) && selectorless ? 'RequireDualStack' : 'SingleStack';
  }
  if (asArray(s.ipFamilies).length === 0) s.ipFamilies = ['IPv4'];
}

export function prepareServiceForCreate(svc: Obj): void {
  svc.status = { loadBalancer: {} };
  normalizeClusterIPs(svc);
  defaultIPFamilies(svc);
  if (svc.metadata) delete svc.metadata.generation;
}

/** Fields the allocator owns survive an update that omits them (kubectl apply without clusterIP). */
export function prepareServiceForUpdate(svc: Obj, old: Obj): void {
  keepGeneration(svc, old);
  svc.status = old.status;
  const s = asObj(svc.spec);
  const o = asObj(old.spec);
  if (s.type !== 'ExternalName' && o.type !== 'ExternalName') {
    if (!s.clusterIP && o.clusterIP) s.clusterIP = o.clusterIP;
    if (asArray(s.clusterIPs).length === 0 && asArray(o.clusterIPs).length > 0) s.clusterIPs = o.clusterIPs;
    if (!s.ipFamilyPolicy && o.ipFamilyPolicy) s.ipFamilyPolicy = o.ipFamilyPolicy;
    if (asArray(s.ipFamilies).length === 0 && asArray(o.ipFamilies).length > 0) s.ipFamilies = o.ipFamilies;
  }
  // Node ports are kept for the same (protocol, port) when the new spec does not name one.
  if ((s.type === 'NodePort' || s.type === 'LoadBalancer') && (o.type === 'NodePort' || o.type === 'LoadBalancer')) {
    for (const p of asArray(s.ports)) {
      if (!isObj(p) || p.nodePort) continue;
      const prev = asArray(o.ports).find((q) => asObj(q).port === p.port && (asObj(q).protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
      if (prev && asObj(prev).nodePort) p.nodePort = asObj(prev).nodePort;
    }
  }
  if (s.type === 'LoadBalancer' && o.type === 'LoadBalancer' && !s.healthCheckNodePort && o.healthCheckNodePort && s.externalTrafficPolicy === 'Local') {
    s.healthCheckNodePort = o.healthCheckNodePort;
  }
  normalizeClusterIPs(svc, old);
  defaultIPFamilies(svc);
}

// ---------------------------------------------------------------- validation

function renderServicePortKey(protocol: unknown, port: unknown): string {
  return `core.ServicePort{Name:"", Protocol:${JSON.stringify(String(protocol ?? ''))}, AppProtocol:(*string)(nil), Port:${port ?? 0}, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}`;
}

function validateServicePort(p: Obj, requireName: boolean, names: Set<string>, path: string): Errs {
  const errs: Errs = [];
  if (requireName && !p.name) errs.push(required(`${path}.name`));
  else if (p.name) {
    errs.push(...validateDNS1123Label(String(p.name), `${path}.name`));
    if (names.has(p.name)) errs.push({ type: 'FieldValueDuplicate', field: `${path}.name`, badValue: p.name });
    else names.add(p.name);
  }
  const port = typeof p.port === 'number' ? p.port : 0;
  if (!(port >= 1 && port <= 65535)) errs.push(invalid(`${path}.port`, port, 'must be between 1 and 65535, inclusive'));
  if (!p.protocol) errs.push(required(`${path}.protocol`));
  else if (!protocols.includes(p.protocol)) errs.push(notSupported(`${path}.protocol`, p.protocol, protocols));
  errs.push(...validatePortNumOrName(p.targetPort, `${path}.targetPort`));
  if (p.appProtocol !== undefined && p.appProtocol !== null) {
    for (const m of isQualifiedName(String(p.appProtocol))) errs.push(invalid(`${path}.appProtocol`, p.appProtocol, m));
  }
  return errs;
}

function validateClusterIPsRelatedFields(svc: Obj): Errs {
  const s = asObj(svc.spec);
  if (s.type === 'ExternalName') return [];
  const errs: Errs = [];
  const ips: string[] = asArray(s.clusterIPs);
  if (s.clusterIP) {
    if (ips.length === 0) errs.push(required('spec.clusterIPs'));
    else if (ips[0] !== s.clusterIP) errs.push(invalidRendered('spec.clusterIPs', goValue(ips), 'first value must match `clusterIP`'));
  } else if (ips.length > 0) {
    errs.push(invalidRendered('spec.clusterIPs', goValue(ips), 'must be empty when `clusterIP` is not specified'));
  }
  const seen = new Set<string>();
  asArray(s.ipFamilies).forEach((f, i) => {
    if (f !== 'IPv4' && f !== 'IPv6') errs.push(notSupported(`spec.ipFamilies[${i}]`, f, ['IPv4', 'IPv6']));
    if (seen.has(f)) errs.push({ type: 'FieldValueDuplicate', field: `spec.ipFamilies[${i}]`, badValue: f });
    seen.add(f);
  });
  const policies = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
  if (s.ipFamilyPolicy !== undefined && s.ipFamilyPolicy !== null && !policies.includes(s.ipFamilyPolicy)) {
    errs.push(notSupported('spec.ipFamilyPolicy', s.ipFamilyPolicy, policies));
  }
  ips.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (ips.length > 1) errs.push(invalidRendered('spec.clusterIPs', goValue(ips), "'None' must be the first and only value"));
      return;
    }
    for (const m of isValidIP(ip)) errs.push(invalid(`spec.clusterIPs[${i}]`, ip, m));
  });
  if (ips.length > 2) errs.push(invalidRendered('spec.clusterIPs', goValue(ips), 'may only hold up to 2 values'));
  if (s.ipFamilyPolicy === 'SingleStack' && ips.length > 1) {
    errs.push(invalidRendered('spec.clusterIPs', goValue(ips), "must be at most one value when `ipFamilyPolicy` is 'SingleStack'"));
  }
  if (s.ipFamilyPolicy === 'SingleStack' && asArray(s.ipFamilies).length > 1) {
    errs.push(invalidRendered('spec.ipFamilies', goValue(s.ipFamilies), "must be at most one value when `ipFamilyPolicy` is 'SingleStack'"));
  }
  return errs;
}

export function validateService(svc: Obj): Errs {
  const errs = validateObjectMeta(svc.metadata, { namespaced: true, nameFn: nameIsDNS1035Label });
  const s = asObj(svc.spec);
  const ports = asArray(s.ports).map(asObj);
  const headless = isHeadless(svc);
  if (ports.length === 0 && !headless && s.type !== 'ExternalName') errs.push(required('spec.ports'));
  switch (s.type) {
    case 'LoadBalancer':
      ports.forEach((p, i) => {
        if (p.port === kubeletPort) errs.push(invalid(`spec.ports[${i}]`, p.port, `may not expose port ${kubeletPort} externally since it is used by kubelet`));
      });
      if (headless) errs.push(invalid('spec.clusterIPs[0]', 'None', "may not be set to 'None' for LoadBalancer services"));
      break;
    case 'NodePort':
      if (headless) errs.push(invalid('spec.clusterIPs[0]', 'None', "may not be set to 'None' for NodePort services"));
      break;
    case 'ExternalName': {
      if (asArray(s.clusterIPs).length > 0) errs.push(forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
      if (asArray(s.ipFamilies).length > 0) errs.push(forbidden('spec.ipFamilies', 'may not be set for ExternalName services'));
      if (s.ipFamilyPolicy) errs.push(forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'));
      const cname = String(s.externalName ?? '').replace(/\.$/, '');
      if (cname) errs.push(...validateDNS1123Subdomain(cname, 'spec.externalName'));
      else errs.push(required('spec.externalName'));
      break;
    }
  }
  const names = new Set<string>();
  ports.forEach((p, i) => errs.push(...validateServicePort(p, ports.length > 1, names, `spec.ports[${i}]`)));
  if (isObj(s.selector)) errs.push(...validateLabels(s.selector, 'spec.selector'));
  if (!s.sessionAffinity) errs.push(required('spec.sessionAffinity'));
  else if (!['ClientIP', 'None'].includes(s.sessionAffinity)) errs.push(notSupported('spec.sessionAffinity', s.sessionAffinity, ['ClientIP', 'None']));
  if (s.sessionAffinity === 'ClientIP') {
    const t = asObj(asObj(s.sessionAffinityConfig).clientIP).timeoutSeconds;
    if (!(typeof t === 'number' && t > 0 && t <= 86400)) {
      errs.push(invalid('spec.sessionAffinityConfig.clientIP.timeoutSeconds', t ?? 0, 'must be greater than 0 and less than 86400'));
    }
  } else if (s.sessionAffinity === 'None' && s.sessionAffinityConfig !== undefined && s.sessionAffinityConfig !== null) {
    errs.push(forbidden('spec.sessionAffinityConfig', 'must not be set when session affinity is None'));
  }
  errs.push(...validateClusterIPsRelatedFields(svc));
  asArray(s.externalIPs).forEach((ip, i) => {
    for (const m of isValidIP(String(ip))) errs.push(invalid(`spec.externalIPs[${i}]`, ip, m));
  });
  if (!s.type) errs.push(required('spec.type'));
  else if (!serviceTypes.includes(s.type)) errs.push(notSupported('spec.type', s.type, serviceTypes));
  if (s.type === 'ClusterIP') {
    ports.forEach((p, i) => {
      if (p.nodePort) errs.push(forbidden(`spec.ports[${i}].nodePort`, "may not be used when `type` is 'ClusterIP'"));
    });
  }
  const nodePorts = new Set<string>();
  ports.forEach((p, i) => {
    if (!p.nodePort) return;
    const key = `${p.protocol}/${p.nodePort}`;
    if (nodePorts.has(key)) errs.push({ type: 'FieldValueDuplicate', field: `spec.ports[${i}].nodePort`, badValue: p.nodePort });
    nodePorts.add(key);
  });
  const seenPorts = new Set<string>();
  ports.forEach((p, i) => {
    const key = `${p.protocol}/${p.port}`;
    if (seenPorts.has(key)) errs.push({ type: 'FieldValueDuplicate', field: `spec.ports[${i}]`, detail: renderServicePortKey(p.protocol, p.port) });
    seenPorts.add(key);
  });
  if (!isExternallyAccessible(svc)) {
    if (s.externalTrafficPolicy) errs.push(invalid('spec.externalTrafficPolicy', s.externalTrafficPolicy, 'may only be set for externally-accessible services'));
  } else if (!s.externalTrafficPolicy) {
    errs.push(required('spec.externalTrafficPolicy'));
  } else if (!['Cluster', 'Local'].includes(s.externalTrafficPolicy)) {
    errs.push(notSupported('spec.externalTrafficPolicy', s.externalTrafficPolicy, ['Cluster', 'Local']));
  }
  if (!s.internalTrafficPolicy) {
    if (['NodePort', 'LoadBalancer', 'ClusterIP'].includes(s.type)) errs.push(required('spec.internalTrafficPolicy'));
  } else if (!['Cluster', 'Local'].includes(s.internalTrafficPolicy)) {
    errs.push(notSupported('spec.internalTrafficPolicy', s.internalTrafficPolicy, ['Cluster', 'Local']));
  }
  return errs;
}

function validateClusterIPsUpdate(svc: Obj, old: Obj): Errs {
  const s = asObj(svc.spec);
  const o = asObj(old.spec);
  if (s.type === 'ExternalName' || o.type === 'ExternalName') return [];
  if (isHeadless(svc) && isHeadless(old)) return [];
  const ips: string[] = asArray(s.clusterIPs);
  const oldIPs: string[] = asArray(o.clusterIPs);
  const errs: Errs = [];
  const changed = () => invalidRendered('spec.clusterIPs[0]', goValue(ips), 'may not change once set');
  if (ips.length === oldIPs.length) {
    oldIPs.forEach((ip, i) => {
      if (ip !== ips[i]) errs.push(changed());
    });
  } else if (oldIPs.length > ips.length) {
    if (ips.length === 0) errs.push(invalidRendered('spec.clusterIPs[0]', goValue(ips), 'primary clusterIP can not be unset'));
    if (oldIPs.length > 0 && ips.length > 0 && ips[0] !== oldIPs[0]) errs.push(changed());
    if (ips.length === 1 && s.ipFamilyPolicy !== 'SingleStack') {
      errs.push(invalidRendered('spec.clusterIPs[0]', goValue(ips), "`ipFamilyPolicy` must be set to 'SingleStack' when releasing the secondary clusterIP"));
    }
  } else if (oldIPs.length > 0 && ips[0] !== oldIPs[0]) {
    errs.push(changed());
  }
  return errs;
}

function validateIPFamiliesUpdate(svc: Obj, old: Obj): Errs {
  const s = asObj(svc.spec);
  const o = asObj(old.spec);
  if (s.type === 'ExternalName' || o.type === 'ExternalName') return [];
  if (isHeadless(svc) !== isHeadless(old) || isHeadless(svc)) return [];
  const fams: string[] = asArray(s.ipFamilies);
  const oldFams: string[] = asArray(o.ipFamilies);
  const n = Math.min(fams.length, oldFams.length);
  for (let i = 0; i < n; i++) {
    if (fams[i] !== oldFams[i]) return [invalidRendered('spec.ipFamilies[0]', goValue(fams), 'may not change once set')];
  }
  return [];
}

export function validateServiceUpdate(svc: Obj, old: Obj): Errs {
  return [
    ...validateObjectMetaUpdate(svc.metadata, old.metadata),
    ...validateClusterIPsUpdate(svc, old),
    ...validateIPFamiliesUpdate(svc, old),
    ...validateService(svc),
  ];
}

export function validateServiceStatusUpdate(svc: Obj, old: Obj): Errs {
  const errs = validateObjectMetaUpdate(svc.metadata, old.metadata);
  asArray(asObj(asObj(svc.status).loadBalancer).ingress).forEach((ing, i) => {
    const ip = asObj(ing).ip;
    if (ip) for (const m of isValidIP(String(ip))) errs.push(invalid(`status.loadBalancer.ingress[${i}].ip`, ip, m));
  });
  return errs;
}

export const serviceStrategy: Strategy = {
  default: defaultService,
  prepareForCreate: prepareServiceForCreate,
  prepareForUpdate: prepareServiceForUpdate,
  prepareForStatusUpdate: keepOldSpec,
  validate: validateService,
  validateUpdate: validateServiceUpdate,
  validateStatusUpdate: validateServiceStatusUpdate,
  defaultPropagation: 'Background',
};
