// networking.k8s.io/v1 NetworkPolicy, Ingress and IngressClass: upstream v1.32 defaults and
// validation (pkg/apis/networking/validation), with its field paths and messages. None of these
// kinds is acted on by this cluster, so creating one answers with a warning that says so.
import type { Obj, Strategy } from '../resource.ts';
import { forbidden, invalid, notSupported, required, tooLong } from '../field-errors.ts';
import { type Errs, asArray, asObj, invalidRendered, isObj, str, validateImmutableField } from '../validation/fields.ts';
import {
  isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isIPv4, isIPv6, isValidPortName, isValidPortNum,
  nameIsDNSSubdomain, regexError, validatePathSegmentName, DNS1123SubdomainMaxLength, maxLenError,
} from '../validation/names.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from '../validation/objectmeta.ts';
import { validateLabelSelector } from '../validation/selector.ts';
import { bumpGenerationOnSpecChange, keepGeneration, keepOldSpec, keepOldStatus } from './generic.ts';
import { notEnforcedWarning } from './not-enforced.ts';

const has = (o: Obj, k: string) => o[k] !== undefined && o[k] !== null;

// ---------------------------------------------------------------- shared checks

const wildcardMsg = "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character";
const label = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const wildcardFmt = `\\*\\.${label}(\\.${label})*`;
const wildcardRe = new RegExp(`^${wildcardFmt}$`);

export function isWildcardDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (value.length > DNS1123SubdomainMaxLength) errs.push(maxLenError(DNS1123SubdomainMaxLength));
  if (!wildcardRe.test(value)) errs.push(regexError(wildcardMsg, wildcardFmt, '*.example.com'));
  return errs;
}

/** An IP network as upstream's ParseCIDRSloppy reads it: the address bits and the prefix length. */
export function parseCidr(text: string): { v6: boolean; bits: bigint; prefix: number } | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const ip = text.slice(0, slash);
  const p = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(p)) return undefined;
  const prefix = Number(p);
  if (isIPv4(ip.replace(/(^|\.)0+(\d)/g, '$1$2'))) {
    if (prefix > 32) return undefined;
    const bits = ip.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
    return { v6: false, bits, prefix };
  }
  if (isIPv6(ip) && prefix <= 128) {
    const url = new URL(`http://[${ip}]/`).hostname.slice(1, -1); // expands nothing but validates and canonicalises
    const [head, tail] = url.includes('::') ? url.split('::') : [url, undefined];
    const h = head ? head.split(':') : [];
    const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
    const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    const bits = groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
    return { v6: true, bits, prefix };
  }
  return undefined;
}

function cidrContains(outer: { v6: boolean; bits: bigint; prefix: number }, inner: { v6: boolean; bits: bigint }): boolean {
  if (outer.v6 !== inner.v6) return false;
  const width = outer.v6 ? 128n : 32n;
  const shift = width - BigInt(outer.prefix);
  return outer.bits >> shift === inner.bits >> shift;
}

/** A reference to another object of the namespace (an Ingress backend resource, an IngressClass's parameters). */
function validateTypedLocalObjectReference(ref: Obj, path: string): Errs {
  const errs: Errs = [];
  if (has(ref, 'apiGroup')) for (const m of isDNS1123Subdomain(str(ref.apiGroup))) errs.push(invalid(`${path}.apiGroup`, ref.apiGroup, m));
  if (!ref.kind) errs.push(required(`${path}.kind`, 'kind is required'));
  else for (const m of validatePathSegmentName(str(ref.kind), false)) errs.push(invalid(`${path}.kind`, ref.kind, m));
  if (!ref.name) errs.push(required(`${path}.name`, 'name is required'));
  else for (const m of validatePathSegmentName(str(ref.name), false)) errs.push(invalid(`${path}.name`, ref.name, m));
  return errs;
}

// ---------------------------------------------------------------- NetworkPolicy

export function defaultNetworkPolicy(np: Obj): void {
  const s = (np.spec ??= {});
  for (const rule of [...asArray(s.ingress), ...asArray(s.egress)]) {
    for (const p of asArray(asObj(rule).ports)) if (isObj(p) && !p.protocol) p.protocol = 'TCP';
  }
  // A policy that names no direction governs incoming traffic, and outgoing too once it has egress rules.
  if (asArray(s.policyTypes).length === 0) s.policyTypes = asArray(s.egress).length ? ['Ingress', 'Egress'] : ['Ingress'];
}

function validateNetworkPolicyPort(port: Obj, path: string): Errs {
  const errs: Errs = [];
  const protocols = ['TCP', 'UDP', 'SCTP'];
  if (has(port, 'protocol') && !protocols.includes(port.protocol)) errs.push(notSupported(`${path}.protocol`, port.protocol, protocols));
  if (has(port, 'port')) {
    if (typeof port.port === 'number') {
      for (const m of isValidPortNum(port.port)) errs.push(invalid(`${path}.port`, port.port, m));
      if (has(port, 'endPort')) {
        if (port.endPort < port.port) errs.push(invalid(`${path}.endPort`, port.port, 'must be greater than or equal to `port`'));
        for (const m of isValidPortNum(port.endPort)) errs.push(invalid(`${path}.endPort`, port.endPort, m));
      }
    } else {
      if (has(port, 'endPort')) errs.push(invalid(`${path}.endPort`, port.endPort, 'may not be specified when `port` is non-numeric'));
      for (const m of isValidPortName(str(port.port))) errs.push(invalid(`${path}.port`, port.port, m));
    }
  } else if (has(port, 'endPort')) {
    errs.push(invalid(`${path}.endPort`, port.endPort, 'may not be specified when `port` is not specified'));
  }
  return errs;
}

function validateIPBlock(ipb: Obj, path: string): Errs {
  const cidr = str(ipb.cidr);
  if (!cidr) return [required(`${path}.cidr`)];
  const outer = parseCidr(cidr);
  if (!outer) return [invalid(`${path}.cidr`, cidr, 'not a valid CIDR')];
  const errs: Errs = [];
  for (const [i, text] of asArray(ipb.except).entries()) {
    const p = `${path}.except[${i}]`;
    const inner = parseCidr(str(text));
    if (!inner) return [...errs, invalid(p, text, 'not a valid CIDR')];
    if (!cidrContains(outer, inner) || outer.prefix >= inner.prefix) errs.push(invalid(p, text, 'must be a strict subset of `cidr`'));
  }
  return errs;
}

function validateNetworkPolicyPeer(peer: Obj, path: string): Errs {
  const errs: Errs = [];
  let peers = 0;
  if (has(peer, 'podSelector')) { peers++; errs.push(...validateLabelSelector(peer.podSelector, `${path}.podSelector`)); }
  if (has(peer, 'namespaceSelector')) { peers++; errs.push(...validateLabelSelector(peer.namespaceSelector, `${path}.namespaceSelector`)); }
  if (has(peer, 'ipBlock')) { peers++; errs.push(...validateIPBlock(asObj(peer.ipBlock), `${path}.ipBlock`)); }
  if (peers === 0) errs.push(required(path, 'must specify a peer'));
  else if (peers > 1 && has(peer, 'ipBlock')) errs.push(forbidden(path, 'may not specify both ipBlock and another peer'));
  return errs;
}

export function validateNetworkPolicySpec(spec: Obj, path = 'spec'): Errs {
  const errs: Errs = [...validateLabelSelector(spec.podSelector, `${path}.podSelector`)];
  const rules = (dir: 'ingress' | 'egress', peersField: 'from' | 'to') => asArray(spec[dir]).forEach((r, i) => {
    const rp = `${path}.${dir}[${i}]`;
    asArray(asObj(r).ports).forEach((p, j) => errs.push(...validateNetworkPolicyPort(asObj(p), `${rp}.ports[${j}]`)));
    asArray(asObj(r)[peersField]).forEach((p, j) => errs.push(...validateNetworkPolicyPeer(asObj(p), `${rp}.${peersField}[${j}]`)));
  });
  rules('ingress', 'from');
  rules('egress', 'to');
  const types = asArray(spec.policyTypes);
  if (types.length > 2) {
    const rendered = `[]networking.PolicyType{${types.map((t) => JSON.stringify(String(t))).join(', ')}}`;
    return [...errs, invalidRendered(`${path}.policyTypes`, rendered, 'may not specify more than two policyTypes')];
  }
  types.forEach((t, i) => {
    if (t !== 'Ingress' && t !== 'Egress') errs.push(notSupported(`${path}.policyTypes[${i}]`, t, ['Ingress', 'Egress']));
  });
  return errs;
}

export function validateNetworkPolicy(np: Obj): Errs {
  return [...validateObjectMeta(np.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain }), ...validateNetworkPolicySpec(asObj(np.spec))];
}

export const networkPolicyStrategy: Strategy = {
  default: defaultNetworkPolicy,
  prepareForCreate(np) {
    np.metadata.generation = 1;
  },
  prepareForUpdate(np, old) {
    keepGeneration(np, old);
    bumpGenerationOnSpecChange(np, old);
  },
  validate: validateNetworkPolicy,
  validateUpdate: (np, old) => [...validateObjectMetaUpdate(np.metadata, old.metadata), ...validateNetworkPolicySpec(asObj(np.spec))],
  warnings: (_np, old) => (old ? [] : [notEnforcedWarning('NetworkPolicy')]),
};

// ---------------------------------------------------------------- Ingress

const ingressClassAnnotation = 'kubernetes.io/ingress.class';
const pathTypes = ['Exact', 'ImplementationSpecific', 'Prefix'];
const invalidPathSequences = ['//', '/./', '/../', '%2f', '%2F'];
const invalidPathSuffixes = ['/..', '/.'];

function validateIngressBackend(backend: Obj, path: string): Errs {
  const errs: Errs = [];
  const hasResource = has(backend, 'resource');
  const hasService = has(backend, 'service');
  if (hasResource && hasService) return [invalid(path, '', 'cannot set both resource and service backends')];
  if (hasResource) return validateTypedLocalObjectReference(asObj(backend.resource), `${path}.resource`);
  if (!hasService) return [invalid(path, '', 'resource or service backend is required')];
  const svc = asObj(backend.service);
  if (!svc.name) errs.push(required(`${path}.service.name`));
  else for (const m of isDNS1035Label(str(svc.name))) errs.push(invalid(`${path}.service.name`, svc.name, m));
  const port = asObj(svc.port);
  const byName = str(port.name).length > 0;
  const byNumber = typeof port.number === 'number' && port.number !== 0;
  if (byName && byNumber) errs.push(invalid(path, '', 'cannot set both port name & port number'));
  else if (byName) for (const m of isValidPortName(port.name)) errs.push(invalid(`${path}.service.port.name`, port.name, m));
  else if (byNumber) for (const m of isValidPortNum(port.number)) errs.push(invalid(`${path}.service.port.number`, port.number, m));
  else errs.push(required(path, 'port name or number is required'));
  return errs;
}

function validateHTTPIngressPath(p: Obj, path: string): Errs {
  if (!has(p, 'pathType')) return [required(`${path}.pathType`, 'pathType must be specified')];
  const errs: Errs = [];
  const value = str(p.path);
  switch (p.pathType) {
    case 'Exact':
    case 'Prefix':
      if (!value.startsWith('/')) errs.push(invalid(`${path}.path`, value, 'must be an absolute path'));
      if (value.length > 0) {
        for (const seq of invalidPathSequences) if (value.includes(seq)) errs.push(invalid(`${path}.path`, value, `must not contain '${seq}'`));
        for (const suf of invalidPathSuffixes) if (value.endsWith(suf)) errs.push(invalid(`${path}.path`, value, `cannot end with '${suf}'`));
      }
      break;
    case 'ImplementationSpecific':
      if (value.length > 0 && !value.startsWith('/')) errs.push(invalid(`${path}.path`, value, 'must be an absolute path'));
      break;
    default:
      errs.push(notSupported(`${path}.pathType`, p.pathType, pathTypes));
  }
  errs.push(...validateIngressBackend(asObj(p.backend), `${path}.backend`));
  return errs;
}

function validateHost(host: string, path: string): Errs {
  const msgs = host.includes('*') ? isWildcardDNS1123Subdomain(host) : isDNS1123Subdomain(host);
  return msgs.map((m) => invalid(path, host, m));
}

function validateIngressRules(rules: unknown[], path: string): Errs {
  const errs: Errs = [];
  rules.forEach((r, i) => {
    const rule = asObj(r);
    const rp = `${path}[${i}]`;
    const host = str(rule.host);
    if (host) {
      if (isIPv4(host) || isIPv6(host)) errs.push(invalid(`${rp}.host`, host, 'must be a DNS name, not an IP address'));
      errs.push(...validateHost(host, `${rp}.host`));
    }
    if (has(rule, 'http')) {
      const paths = asArray(asObj(rule.http).paths);
      if (paths.length === 0) errs.push(required(`${rp}.http.paths`));
      paths.forEach((p, j) => errs.push(...validateHTTPIngressPath(asObj(p), `${rp}.http.paths[${j}]`)));
    }
  });
  return errs;
}

export function validateIngressSpec(spec: Obj, path = 'spec'): Errs {
  const errs: Errs = [];
  const rules = asArray(spec.rules);
  if (rules.length === 0 && !has(spec, 'defaultBackend')) {
    // Go renders the bad value as the typed slice: nil when the field was left out.
    const rendered = Array.isArray(spec.rules) ? '[]networking.IngressRule{}' : '[]networking.IngressRule(nil)';
    errs.push(invalidRendered(path, rendered, 'either `defaultBackend` or `rules` must be specified'));
  }
  if (has(spec, 'defaultBackend')) errs.push(...validateIngressBackend(asObj(spec.defaultBackend), `${path}.defaultBackend`));
  if (rules.length) errs.push(...validateIngressRules(rules, `${path}.rules`));
  asArray(spec.tls).forEach((t, i) => {
    const tls = asObj(t);
    asArray(tls.hosts).forEach((h, j) => errs.push(...validateHost(str(h), `${path}.tls[${i}].hosts[${j}]`)));
    if (tls.secretName) for (const m of isDNS1123Subdomain(str(tls.secretName))) errs.push(invalid(`${path}.tls[${i}].secretName`, tls.secretName, m));
  });
  if (has(spec, 'ingressClassName')) for (const m of isDNS1123Subdomain(str(spec.ingressClassName))) errs.push(invalid(`${path}.ingressClassName`, spec.ingressClassName, m));
  return errs;
}

export function validateIngress(ing: Obj): Errs {
  const errs = [...validateObjectMeta(ing.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain }), ...validateIngressSpec(asObj(ing.spec))];
  // The legacy annotation and the field must agree when both are given; checked on create only, as upstream does.
  const annotation = ing.metadata?.annotations?.[ingressClassAnnotation];
  if (annotation !== undefined && has(asObj(ing.spec), 'ingressClassName') && annotation !== ing.spec.ingressClassName) {
    errs.push(invalid(`annotations.${ingressClassAnnotation}`, annotation, 'must match `ingressClassName` when both are specified'));
  }
  return errs;
}

export const ingressStrategy: Strategy = {
  default() {},
  prepareForCreate(ing) {
    ing.status = {};
    ing.metadata.generation = 1;
  },
  prepareForUpdate(ing, old) {
    keepOldStatus(ing, old);
    bumpGenerationOnSpecChange(ing, old);
  },
  prepareForStatusUpdate: keepOldSpec,
  validate: validateIngress,
  validateUpdate: (ing, old) => [...validateObjectMetaUpdate(ing.metadata, old.metadata), ...validateIngressSpec(asObj(ing.spec))],
  validateStatusUpdate: (ing, old) => validateObjectMetaUpdate(ing.metadata, old.metadata),
  warnings(ing, old) {
    const out: string[] = [];
    if (!old) out.push(notEnforcedWarning('Ingress'));
    if (ing.metadata?.annotations?.[ingressClassAnnotation] !== undefined) {
      out.push(`annotation "${ingressClassAnnotation}" is deprecated, please use 'spec.ingressClassName' instead`);
    }
    return out;
  },
};

// ---------------------------------------------------------------- IngressClass

const httpPathFmt = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";
const httpPathRe = new RegExp(`^${httpPathFmt}$`);

/** A value like "example.com/ingress-controller" (upstream IsDomainPrefixedPath). */
function validateDomainPrefixedPath(value: string, path: string): Errs {
  if (!value) return [required(path)];
  const slash = value.indexOf('/');
  const host = slash < 0 ? '' : value.slice(0, slash);
  const rest = slash < 0 ? '' : value.slice(slash + 1);
  if (!host || !rest) return [invalid(path, value, 'must be a domain-prefixed path (such as "acme.io/foo")')];
  const errs = isDNS1123Subdomain(host).map((m) => invalid(path, host, m));
  if (!httpPathRe.test(rest)) errs.push(invalid(path, rest, regexError('Invalid path', httpPathFmt)));
  return errs;
}

export function defaultIngressClass(ic: Obj): void {
  const params = ic.spec?.parameters;
  if (isObj(params) && !params.scope) params.scope = 'Cluster';
}

export function validateIngressClassSpec(spec: Obj, path = 'spec'): Errs {
  const errs: Errs = [];
  const controller = str(spec.controller);
  if (controller.length > 250) errs.push(tooLong(`${path}.controller`, controller, 250));
  errs.push(...validateDomainPrefixedPath(controller, `${path}.controller`));
  if (isObj(spec.parameters)) {
    const params = spec.parameters;
    const pp = `${path}.parameters`;
    errs.push(...validateTypedLocalObjectReference(params, pp));
    const scope = str(params.scope);
    if (scope !== 'Cluster' && scope !== 'Namespace') errs.push(notSupported(`${pp}.scope`, scope, ['Cluster', 'Namespace']));
    else if (scope === 'Namespace') {
      if (!has(params, 'namespace')) errs.push(required(`${pp}.namespace`, "`parameters.scope` is set to 'Namespace'"));
      else for (const m of isDNS1123Label(str(params.namespace))) errs.push(invalid(`${pp}.namespace`, params.namespace, m));
    }
    if (scope === 'Cluster' && has(params, 'namespace')) errs.push(forbidden(`${pp}.namespace`, "`parameters.scope` is set to 'Cluster'"));
  }
  return errs;
}

export const ingressClassStrategy: Strategy = {
  default: defaultIngressClass,
  prepareForCreate(ic) {
    ic.metadata.generation = 1;
  },
  prepareForUpdate(ic, old) {
    keepGeneration(ic, old);
    bumpGenerationOnSpecChange(ic, old);
  },
  validate: (ic) => [...validateObjectMeta(ic.metadata, { namespaced: false, nameFn: nameIsDNSSubdomain }), ...validateIngressClassSpec(asObj(ic.spec))],
  validateUpdate: (ic, old) => [
    ...validateObjectMetaUpdate(ic.metadata, old.metadata),
    ...validateIngressClassSpec(asObj(ic.spec)),
    ...validateImmutableField(ic.spec?.controller, old.spec?.controller, 'spec.controller'),
  ],
};
