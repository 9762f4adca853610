// Event, Lease, PodDisruptionBudget, ControllerRevision, Endpoints and EndpointSlice: defaults and
// the main validation rules of upstream v1.32, kept compact.
import type { Obj, Strategy } from '../resource.ts';
import { invalid, notSupported, required } from '../field-errors.ts';
import {
  type Errs,
  asArray,
  asObj,
  deepEqual,
  intOrStringText,
  invalidRendered,
  isObj,
  validateImmutableField,
  validateNonnegativeField,
} from '../validation/fields.ts';
import {
  byteLength,
  isDNS1123Subdomain,
  isIPv4,
  isIPv6,
  isQualifiedName,
  isValidIP,
  isValidPercent,
  isValidPortNum,
  nameIsDNSSubdomain,
} from '../validation/names.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from '../validation/objectmeta.ts';
import { validateLabelSelector } from '../validation/selector.ts';
import { bumpGenerationOnSpecChange, keepGeneration, keepOldSpec, keepOldStatus } from './generic.ts';
import { validateDNS1123Label, validateDNS1123Subdomain } from './podspec.ts';

const protocols = ['SCTP', 'TCP', 'UDP'];

const noGeneration = (obj: Obj) => {
  if (obj.metadata) delete obj.metadata.generation;
};

// ---------------------------------------------------------------- Event (core/v1)

export function validateEvent(ev: Obj): Errs {
  const errs = validateObjectMeta(ev.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain });
  const ns = String(ev.metadata?.namespace ?? '');
  const involvedNs = String(asObj(ev.involvedObject).namespace ?? '');
  const mismatch = () => invalid('involvedObject.namespace', involvedNs, 'does not match event.namespace');
  if (!ev.eventTime) {
    if (!involvedNs) {
      if (ns !== '' && ns !== 'default') errs.push(mismatch());
    } else if (ns !== involvedNs) errs.push(mismatch());
  } else {
    if (!involvedNs && ns !== 'default' && ns !== 'kube-system') errs.push(mismatch());
    const rc = String(ev.reportingComponent ?? '');
    if (!rc) errs.push(required('reportingComponent'));
    for (const m of isQualifiedName(rc)) errs.push(invalid('reportingComponent', rc, m));
    const limits: [string, number][] = [['reportingInstance', 128], ['action', 128], ['reason', 128]];
    for (const [f, max] of limits) {
      const v = String(ev[f] ?? '');
      if (!v) errs.push(required(f));
      if (byteLength(v) > max) errs.push(invalid(f, '', `can have at most ${max} characters`));
    }
    if (byteLength(String(ev.message ?? '')) > 1024) errs.push(invalid('message', '', 'can have at most 1024 characters'));
  }
  for (const m of isDNS1123Subdomain(ns)) errs.push(invalid('namespace', ns, m));
  return errs;
}

export const eventStrategy: Strategy = {
  default() {},
  prepareForCreate: noGeneration,
  prepareForUpdate: keepGeneration,
  validate: validateEvent,
  validateUpdate: (ev, old) => [...validateObjectMetaUpdate(ev.metadata, old.metadata), ...validateEvent(ev)],
};

// ---------------------------------------------------------------- Lease (coordination.k8s.io/v1)

export function validateLease(lease: Obj): Errs {
  const errs = validateObjectMeta(lease.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain });
  const s = asObj(lease.spec);
  if (s.leaseDurationSeconds !== undefined && s.leaseDurationSeconds !== null && s.leaseDurationSeconds <= 0) {
    errs.push(invalid('spec.leaseDurationSeconds', s.leaseDurationSeconds, 'must be greater than 0'));
  }
  if (s.leaseTransitions !== undefined && s.leaseTransitions !== null && s.leaseTransitions < 0) {
    errs.push(invalid('spec.leaseTransitions', s.leaseTransitions, 'must be greater than or equal to 0'));
  }
  return errs;
}

export const leaseStrategy: Strategy = {
  default() {},
  prepareForCreate: noGeneration,
  prepareForUpdate: keepGeneration,
  validate: validateLease,
  validateUpdate: (l, old) => [...validateObjectMetaUpdate(l.metadata, old.metadata), ...validateLease(l)],
};

// ---------------------------------------------------------------- PodDisruptionBudget (policy/v1)

function validateIntOrPercent(v: unknown, path: string): Errs {
  const text = intOrStringText(v);
  if (typeof v === 'string') {
    const msgs = isValidPercent(v);
    if (msgs.length) return msgs.map((m) => invalidRendered(path, text, m));
    if (parseInt(v, 10) > 100) return [invalidRendered(path, text, 'must not be greater than 100%')];
    return [];
  }
  if (typeof v === 'number') return validateNonnegativeField(v, path);
  return [invalidRendered(path, text, "must be an integer or percentage (e.g '5%')")];
}

export function validatePodDisruptionBudget(pdb: Obj): Errs {
  const errs = validateObjectMeta(pdb.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain });
  const s = asObj(pdb.spec);
  const has = (k: string) => s[k] !== undefined && s[k] !== null;
  if (has('minAvailable') && has('maxUnavailable')) {
    errs.push(invalidRendered('spec', 'policy.PodDisruptionBudgetSpec{...}', 'minAvailable and maxUnavailable cannot be both set'));
  }
  if (has('minAvailable')) errs.push(...validateIntOrPercent(s.minAvailable, 'spec.minAvailable'));
  if (has('maxUnavailable')) errs.push(...validateIntOrPercent(s.maxUnavailable, 'spec.maxUnavailable'));
  if (isObj(s.selector)) errs.push(...validateLabelSelector(s.selector, 'spec.selector'));
  const policies = ['AlwaysAllow', 'IfHealthyBudget'];
  if (s.unhealthyPodEvictionPolicy && !policies.includes(s.unhealthyPodEvictionPolicy)) {
    errs.push(notSupported('spec.unhealthyPodEvictionPolicy', s.unhealthyPodEvictionPolicy, policies));
  }
  return errs;
}

export function validatePodDisruptionBudgetStatus(status: unknown): Errs {
  const s = asObj(status);
  const errs: Errs = [];
  for (const k of ['disruptionsAllowed', 'currentHealthy', 'desiredHealthy', 'expectedPods']) errs.push(...validateNonnegativeField(s[k], `status.${k}`));
  return errs;
}

export const podDisruptionBudgetStrategy: Strategy = {
  default() {},
  prepareForCreate(pdb) {
    // These four counts are not omitempty upstream.
    pdb.status = { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
    pdb.metadata.generation = 1;
  },
  prepareForUpdate(pdb, old) {
    keepOldStatus(pdb, old);
    bumpGenerationOnSpecChange(pdb, old);
  },
  prepareForStatusUpdate: keepOldSpec,
  validate: validatePodDisruptionBudget,
  validateUpdate: (p, old) => [...validateObjectMetaUpdate(p.metadata, old.metadata), ...validatePodDisruptionBudget(p)],
  validateStatusUpdate: (p, old) => [...validateObjectMetaUpdate(p.metadata, old.metadata), ...validatePodDisruptionBudgetStatus(p.status)],
};

// ---------------------------------------------------------------- ControllerRevision (apps/v1)

export function validateControllerRevision(cr: Obj): Errs {
  const errs = validateObjectMeta(cr.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain });
  if (cr.data === undefined || cr.data === null) errs.push(required('data', 'data is mandatory'));
  errs.push(...validateNonnegativeField(cr.revision, 'revision'));
  return errs;
}

export function validateControllerRevisionUpdate(cr: Obj, old: Obj): Errs {
  return [
    ...validateObjectMetaUpdate(cr.metadata, old.metadata),
    ...validateControllerRevision(cr),
    ...(deepEqual(cr.data, old.data) ? [] : validateImmutableField(cr.data, old.data, 'data')),
  ];
}

export const controllerRevisionStrategy: Strategy = {
  default() {},
  prepareForCreate: noGeneration,
  prepareForUpdate: keepGeneration,
  validate: validateControllerRevision,
  validateUpdate: validateControllerRevisionUpdate,
  defaultPropagation: 'Background',
};

// ---------------------------------------------------------------- Endpoints (core/v1)

/** Addresses that can never be a pod or service endpoint (upstream ValidateNonSpecialIP). */
export function nonSpecialIPErrors(ip: string): string[] {
  if (ip === '0.0.0.0' || ip === '::') return [`may not be unspecified (${ip === '::' ? '::' : '0.0.0.0'})`];
  if (/^127\./.test(ip) || ip === '::1') return ['may not be in the loopback range (127.0.0.0/8, ::1/128)'];
  if (/^169\.254\./.test(ip) || /^fe[89ab][0-9a-f]:/i.test(ip)) return ['may not be in the link-local range (169.254.0.0/16, fe80::/10)'];
  if (/^224\.0\.0\./.test(ip) || /^ff02:/i.test(ip)) return ['may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'];
  return [];
}

function validateEndpointAddress(a: Obj, path: string): Errs {
  const ip = String(a.ip ?? '');
  const bad = isValidIP(ip);
  const errs: Errs = bad.map((m) => invalid(`${path}.ip`, ip, m));
  if (a.hostname) errs.push(...validateDNS1123Label(String(a.hostname), `${path}.hostname`));
  if (a.nodeName !== undefined && a.nodeName !== null) errs.push(...validateDNS1123Subdomain(String(a.nodeName), `${path}.nodeName`));
  if (!bad.length) for (const m of nonSpecialIPErrors(ip)) errs.push(invalid(`${path}.ip`, ip, m));
  return errs;
}

function validateEndpointPort(p: Obj, requireName: boolean, path: string): Errs {
  const errs: Errs = [];
  if (requireName && !p.name) errs.push(required(`${path}.name`));
  else if (p.name) errs.push(...validateDNS1123Label(String(p.name), `${path}.name`));
  for (const m of isValidPortNum(p.port)) errs.push(invalid(`${path}.port`, p.port ?? 0, m));
  if (!p.protocol) errs.push(required(`${path}.protocol`));
  else if (!protocols.includes(p.protocol)) errs.push(notSupported(`${path}.protocol`, p.protocol, protocols));
  if (p.appProtocol !== undefined && p.appProtocol !== null) {
    for (const m of isQualifiedName(String(p.appProtocol))) errs.push(invalid(`${path}.appProtocol`, p.appProtocol, m));
  }
  return errs;
}

export function defaultEndpoints(ep: Obj): void {
  for (const ss of asArray(ep.subsets)) for (const p of asArray(asObj(ss).ports)) if (isObj(p) && !p.protocol) p.protocol = 'TCP';
}

export function validateEndpoints(ep: Obj): Errs {
  const errs = validateObjectMeta(ep.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain });
  asArray(ep.subsets).forEach((raw, i) => {
    const ss = asObj(raw);
    const p = `subsets[${i}]`;
    const addrs = asArray(ss.addresses);
    const notReady = asArray(ss.notReadyAddresses);
    if (addrs.length === 0 && notReady.length === 0) errs.push(required(p, 'must specify `addresses` or `notReadyAddresses`'));
    addrs.forEach((a, j) => errs.push(...validateEndpointAddress(asObj(a), `${p}.addresses[${j}]`)));
    notReady.forEach((a, j) => errs.push(...validateEndpointAddress(asObj(a), `${p}.notReadyAddresses[${j}]`)));
    const ports = asArray(ss.ports);
    ports.forEach((port, j) => errs.push(...validateEndpointPort(asObj(port), ports.length > 1, `${p}.ports[${j}]`)));
  });
  return errs;
}

export const endpointsStrategy: Strategy = {
  default: defaultEndpoints,
  prepareForCreate: noGeneration,
  prepareForUpdate: keepGeneration,
  validate: validateEndpoints,
  validateUpdate: (ep, old) => [...validateObjectMetaUpdate(ep.metadata, old.metadata), ...validateEndpoints(ep)],
};

// ---------------------------------------------------------------- EndpointSlice (discovery.k8s.io/v1)

const addressTypes = ['FQDN', 'IPv4', 'IPv6'];

export function defaultEndpointSlice(slice: Obj): void {
  for (const p of asArray(slice.ports)) {
    if (!isObj(p)) continue;
    if (p.name === undefined || p.name === null) p.name = '';
    if (!p.protocol) p.protocol = 'TCP';
  }
}

export function validateEndpointSlice(slice: Obj): Errs {
  const errs = validateObjectMeta(slice.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain });
  const type = slice.addressType;
  if (!type) errs.push(required('addressType'));
  else if (!addressTypes.includes(type)) errs.push(notSupported('addressType', type, addressTypes));
  asArray(slice.endpoints).forEach((raw, i) => {
    const ep = asObj(raw);
    const p = `endpoints[${i}]`;
    const addrs = asArray(ep.addresses);
    if (addrs.length === 0) errs.push(required(`${p}.addresses`, 'must contain at least 1 address'));
    else if (addrs.length > 100) errs.push({ type: 'FieldValueTooMany', field: `${p}.addresses`, badValue: addrs.length, detail: 'must have at most 100 items' });
    addrs.forEach((a, j) => {
      const ap = `${p}.addresses[${j}]`;
      const s = String(a);
      if (type === 'IPv4' && !isIPv4(s)) errs.push(invalid(ap, s, 'must be a valid IPv4 address'));
      if (type === 'IPv6' && !isIPv6(s)) errs.push(invalid(ap, s, 'must be a valid IPv6 address'));
      if (type === 'FQDN') errs.push(...validateDNS1123Subdomain(s, ap));
    });
    if (ep.hostname) errs.push(...validateDNS1123Label(String(ep.hostname), `${p}.hostname`));
    if (ep.nodeName) errs.push(...validateDNS1123Subdomain(String(ep.nodeName), `${p}.nodeName`));
  });
  const names = new Set<string>();
  asArray(slice.ports).forEach((raw, i) => {
    const port = asObj(raw);
    const p = `ports[${i}]`;
    const name = String(port.name ?? '');
    if (name) errs.push(...validateDNS1123Label(name, `${p}.name`));
    if (names.has(name)) errs.push({ type: 'FieldValueDuplicate', field: `${p}.name`, badValue: name });
    names.add(name);
    if (port.protocol === undefined || port.protocol === null) errs.push(required(`${p}.protocol`));
    else if (!protocols.includes(port.protocol)) errs.push(notSupported(`${p}.protocol`, port.protocol, protocols));
    if (port.port !== undefined && port.port !== null) for (const m of isValidPortNum(port.port)) errs.push(invalid(`${p}.port`, port.port, m));
  });
  return errs;
}

export const endpointSliceStrategy: Strategy = {
  default: defaultEndpointSlice,
  prepareForCreate: noGeneration,
  prepareForUpdate: keepGeneration,
  validate: validateEndpointSlice,
  validateUpdate: (s, old) => [
    ...validateObjectMetaUpdate(s.metadata, old.metadata),
    ...validateEndpointSlice(s),
    ...validateImmutableField(s.addressType ?? '', old.addressType ?? '', 'addressType'),
  ],
};
