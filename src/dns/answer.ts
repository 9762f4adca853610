// The answer to one DNS question from a view of the cluster, following the Kubernetes DNS
// specification as CoreDNS's kubernetes plugin implements it:
//
//   <svc>.<ns>.svc.<zone>              A: the ClusterIP; headless: the ready endpoint addresses
//   <ep>.<svc>.<ns>.svc.<zone>         A: the endpoint whose hostname (else dashed IP) is <ep>
//   _<port>._<proto>.<svc>.<ns>.svc... SRV: per named port; targets are the service name, or per
//                                      endpoint names for a headless service
//   <svc>.<ns>.svc.<zone>              SRV: every port, as if port and protocol were wildcards
//   <a-b-c-d>.<ns>.pod.<zone>          A: a pod's address (pods mode "verified": only real pods)
//   <d.c.b.a>.in-addr.arpa             PTR: service name, endpoint names, else the pod name
//   ExternalName services              CNAME to the external name
//
// Names that do not exist in the zone get NXDOMAIN, names that exist but hold no record of the
// asked type NODATA; both carry the zone's SOA in the authority section so resolvers cache the
// negative answer for the SOA minimum (the TTL). Names outside our zones are REFUSED: this server
// never forwards anywhere.
import type { Answer, Question, SrvAnswer } from 'dns-packet';
import type { ClusterView, EndpointAddress } from './cluster-index.ts';
import { isHeadless, isIPv4, serviceIPs } from './cluster-index.ts';

export type PodsMode = 'verified' | 'insecure' | 'disabled';

export interface AnswerConfig {
  /** The cluster domain, lower case, without dots at the ends: 'cluster.local'. */
  domain: string;
  /** TTL of every record (and the SOA minimum, so negative answers are cached as long). */
  ttl: number;
  pods: PodsMode;
  /** Name endpoints without a hostname by their pod name instead of their dashed IP (CoreDNS endpoint_pod_names). */
  endpointPodNames: boolean;
  /** Address of the DNS service itself: the zone's NS record points here. */
  nameserverIP: string;
}

export const DEFAULT_ANSWER_CONFIG: AnswerConfig = {
  domain: 'cluster.local',
  ttl: 5,
  pods: 'verified',
  endpointPodNames: false,
  nameserverIP: '10.96.0.10',
};

/** The version of the Kubernetes DNS schema served, answered at dns-version.<zone> TXT. */
export const SCHEMA_VERSION = '1.1.0';

export type Rcode = 'NOERROR' | 'FORMERR' | 'SERVFAIL' | 'NXDOMAIN' | 'NOTIMP' | 'REFUSED';

export interface Reply {
  rcode: Rcode;
  /** Whether we speak for the name's zone (the AA flag). */
  authoritative: boolean;
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
}

const REVERSE_ZONES = ['in-addr.arpa', 'ip6.arpa'];

/** Lower case, no trailing dot: the form every comparison uses. */
export const canonical = (name: string): string => name.replace(/\.$/, '').toLowerCase();

const inZone = (name: string, zone: string) => name === zone || name.endsWith(`.${zone}`);

/** Labels of `name` left of `zone` (name and zone canonical, name inside zone). */
const labelsUnder = (name: string, zone: string): string[] => (name === zone ? [] : name.slice(0, -(zone.length + 1)).split('.'));

/** The dashed form of an address used in endpoint and pod names: 10.244.1.5 → 10-244-1-5. */
export const dashed = (ip: string): string => ip.replaceAll('.', '-');

/** The address written in a pod name, if it is one: 10-244-1-5 → 10.244.1.5. */
export function undashed(label: string): string | undefined {
  const ip = label.replaceAll('-', '.');
  return isIPv4(ip) && label.split('-').length === 4 ? ip : undefined;
}

/** The IPv4 address a reverse name stands for: 5.1.244.10.in-addr.arpa → 10.244.1.5. */
export function reverseToIP(name: string): string | undefined {
  const n = canonical(name);
  if (!n.endsWith('.in-addr.arpa')) return undefined;
  const parts = n.slice(0, -'.in-addr.arpa'.length).split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p))) return undefined;
  const ip = parts.reverse().join('.');
  return isIPv4(ip) ? ip : undefined;
}

export const reverseName = (ip: string): string => `${ip.split('.').reverse().join('.')}.in-addr.arpa`;

/** The name an endpoint address has under its service: its hostname, else pod name or dashed IP. */
export function endpointName(a: EndpointAddress, podNames: boolean): string {
  if (a.hostname) return a.hostname;
  if (podNames && a.targetName) return a.targetName;
  return dashed(a.ip);
}

/** One thing a forward name stands for: an address (with a port for SRV) or an alias. */
interface Target {
  /** The name an SRV record points at for this target (and the owner of its address record). */
  name: string;
  ip?: string;
  cname?: string;
  /** -1: no port (headless services without ports still have addresses). */
  port: number;
}

type Lookup = { kind: 'nxdomain' } | { kind: 'nodata' } | { kind: 'targets'; targets: Target[] };
const NX: Lookup = { kind: 'nxdomain' };
const NODATA: Lookup = { kind: 'nodata' };

const portMatches = (want: string | undefined, have: string) => want === undefined || want === have.toLowerCase();

/** What a name inside the cluster zone stands for (labels are those left of the zone). */
function lookupForward(view: ClusterView, labels: string[], cfg: AnswerConfig): Lookup {
  const zone = cfg.domain;
  if (labels.length === 0) return NODATA;
  const kind = labels[labels.length - 1];
  // Names the server itself has: its NS target and the schema version record.
  if (kind === 'dns') {
    if (labels.length === 1) return NODATA;
    if (labels.length === 2 && labels[0] === 'ns') return { kind: 'targets', targets: [{ name: `ns.dns.${zone}`, ip: cfg.nameserverIP, port: -1 }] };
    return NX;
  }
  if (kind !== 'svc' && kind !== 'pod') return NX;
  if (labels.length === 1) return NODATA;
  const ns = labels[labels.length - 2];
  if (!view.hasNamespace(ns)) return NX;
  if (labels.length === 2) return NODATA;
  const name = labels[labels.length - 3];
  const rest = labels.slice(0, -3);
  if (kind === 'pod') return rest.length ? NX : lookupPod(view, ns, name, cfg);

  // svc: <svc>, <endpoint>.<svc>, or _<port>._<proto>.<svc>
  let endpoint: string | undefined;
  let port: string | undefined;
  let proto: string | undefined;
  if (rest.length === 1) endpoint = rest[0];
  else if (rest.length === 2) [port, proto] = rest.map((l) => l.replace(/^_/, ''));
  else if (rest.length > 2) return NX;

  const svc = view.service(ns, name);
  if (!svc) return NX;
  const svcName = `${name}.${ns}.svc.${zone}`;
  const targets: Target[] = [];

  if (svc.spec?.type === 'ExternalName') {
    if (endpoint !== undefined || !svc.spec.externalName) return NX;
    const cname = canonical(String(svc.spec.externalName));
    if (port === undefined) return { kind: 'targets', targets: [{ name: svcName, cname, port: -1 }] };
    for (const p of svc.spec.ports ?? []) {
      if (portMatches(port, p.name ?? '') && portMatches(proto, p.protocol ?? 'TCP')) targets.push({ name: cname, cname, port: p.port });
    }
    return targets.length ? { kind: 'targets', targets } : NX;
  }

  if (isHeadless(svc) || endpoint !== undefined) {
    for (const g of view.endpointGroups(ns, name)) {
      for (const a of g.addresses) {
        const epName = endpointName(a, cfg.endpointPodNames);
        if (endpoint !== undefined && endpoint !== epName) continue;
        for (const p of g.ports) {
          if (!portMatches(port, p.name) || !portMatches(proto, p.protocol)) continue;
          targets.push({ name: `${epName}.${svcName}`, ip: a.ip, port: p.port });
        }
      }
    }
  } else {
    for (const p of svc.spec?.ports ?? []) {
      if (!portMatches(port, p.name ?? '') || !portMatches(proto, p.protocol ?? 'TCP')) continue;
      for (const ip of serviceIPs(svc)) targets.push({ name: svcName, ip, port: p.port });
    }
  }
  // A service with nothing to show (a headless one with no ready endpoints, or a port it does not
  // have) is absent, as in CoreDNS: resolvers then move on along their search path.
  return targets.length ? { kind: 'targets', targets } : NX;
}

function lookupPod(view: ClusterView, ns: string, label: string, cfg: AnswerConfig): Lookup {
  if (cfg.pods === 'disabled') return NX;
  const ip = undashed(label);
  if (!ip) return NX;
  if (cfg.pods === 'verified' && !view.podsByIP(ip).some((p) => p.namespace === ns)) return NX;
  return { kind: 'targets', targets: [{ name: `${label}.${ns}.pod.${cfg.domain}`, ip, port: -1 }] };
}

/** PTR targets for an address: the service it is the ClusterIP of, else its endpoint names, else its pod. */
function lookupReverse(view: ClusterView, ip: string, cfg: AnswerConfig): string[] {
  const zone = cfg.domain;
  const svc = view.servicesByIP(ip)[0];
  if (svc) return [`${svc.metadata.name}.${svc.metadata.namespace}.svc.${zone}`];
  const names = new Set<string>();
  for (const g of view.endpointGroupsByIP(ip)) {
    for (const a of g.addresses) if (a.ip === ip) names.add(`${endpointName(a, cfg.endpointPodNames)}.${g.service}.${g.namespace}.svc.${zone}`);
  }
  if (names.size) return [...names];
  if (cfg.pods !== 'disabled') for (const p of view.podsByIP(ip)) names.add(`${dashed(ip)}.${p.namespace}.pod.${zone}`);
  return [...names];
}

/** The SOA of one of our zones (the reverse zones name our nameserver too). */
export function soaRecord(zone: string, view: ClusterView, cfg: AnswerConfig): Answer {
  return {
    type: 'SOA',
    name: zone,
    ttl: Math.min(300, cfg.ttl),
    data: {
      mname: `ns.dns.${cfg.domain}`,
      rname: `hostmaster.${cfg.domain}`,
      serial: view.serial >>> 0,
      refresh: 7200,
      retry: 1800,
      expire: 86400,
      minimum: cfg.ttl,
    },
  };
}

function negative(rcode: 'NXDOMAIN' | 'NOERROR', zone: string, view: ClusterView, cfg: AnswerConfig): Reply {
  // Until the informers have listed once a missing name may well exist: say so with SERVFAIL
  // rather than a cacheable NXDOMAIN.
  if (rcode === 'NXDOMAIN' && !view.synced) return { rcode: 'SERVFAIL', authoritative: false, answers: [], authorities: [], additionals: [] };
  return { rcode, authoritative: true, answers: [], authorities: [soaRecord(zone, view, cfg)], additionals: [] };
}

const ok = (answers: Answer[], additionals: Answer[] = []): Reply => ({ rcode: 'NOERROR', authoritative: true, answers, authorities: [], additionals });

/** The reply to one question. `q.name` keeps the asker's spelling (answers echo it); matching ignores case. */
export function answerQuestion(view: ClusterView, q: Question, cfg: AnswerConfig = DEFAULT_ANSWER_CONFIG): Reply {
  const name = canonical(q.name);
  const type = q.type;
  const owner = q.name.replace(/\.$/, '');
  const ttl = cfg.ttl;
  if ((q.class ?? 'IN') !== 'IN') return { rcode: 'REFUSED', authoritative: false, answers: [], authorities: [], additionals: [] };

  const zone = inZone(name, cfg.domain) ? cfg.domain : REVERSE_ZONES.find((z) => inZone(name, z));
  if (!zone) return { rcode: 'REFUSED', authoritative: false, answers: [], authorities: [], additionals: [] };
  // No zone transfers: the cluster's names are not for listing.
  if (type === 'AXFR' || type === 'IXFR') return { rcode: 'REFUSED', authoritative: false, answers: [], authorities: [], additionals: [] };

  if (name === zone) {
    if (type === 'SOA') return ok([{ ...soaRecord(zone, view, cfg), name: owner }]);
    if (type === 'NS') {
      const ns = `ns.dns.${cfg.domain}`;
      return ok([{ type: 'NS', name: owner, ttl, data: ns }], [{ type: 'A', name: ns, ttl, data: cfg.nameserverIP }]);
    }
    return negative('NOERROR', zone, view, cfg);
  }

  if (zone !== cfg.domain) {
    const ip = zone === 'in-addr.arpa' ? reverseToIP(name) : undefined;
    const ptrs = ip ? lookupReverse(view, ip, cfg) : [];
    if (!ptrs.length) return negative('NXDOMAIN', zone, view, cfg);
    if (type !== 'PTR') return negative('NOERROR', zone, view, cfg);
    return ok(ptrs.map((data) => ({ type: 'PTR', name: owner, ttl, data })));
  }

  const labels = labelsUnder(name, zone);
  if (labels.length === 1 && labels[0] === 'dns-version') {
    return type === 'TXT' ? ok([{ type: 'TXT', name: owner, ttl, data: [SCHEMA_VERSION] }]) : negative('NOERROR', zone, view, cfg);
  }
  const found = lookupForward(view, labels, cfg);
  if (found.kind === 'nxdomain') return negative('NXDOMAIN', zone, view, cfg);
  if (found.kind === 'nodata') return negative('NOERROR', zone, view, cfg);
  const targets = found.targets;

  // An alias answers every type with its CNAME (a resolver follows it); one that points back into
  // the zone is followed here, since no one else would answer for it.
  const alias = targets.find((t) => t.cname && t.port === -1);
  if (alias) {
    const answers: Answer[] = [{ type: 'CNAME', name: owner, ttl, data: alias.cname! }];
    if (type !== 'CNAME' && inZone(alias.cname!, cfg.domain) && canonical(alias.cname!) !== name) {
      const chased = answerQuestion(view, { name: alias.cname!, type, class: 'IN' }, cfg);
      // One level only: an alias of an alias is left to the resolver.
      if (chased.rcode === 'NOERROR') answers.push(...chased.answers.filter((a) => a.type !== 'CNAME'));
    }
    return ok(answers);
  }

  if (type === 'A') {
    const seen = new Set<string>();
    const answers: Answer[] = [];
    for (const t of targets) {
      if (!t.ip || seen.has(t.ip)) continue;
      seen.add(t.ip);
      answers.push({ type: 'A', name: owner, ttl, data: t.ip });
    }
    return answers.length ? ok(answers) : negative('NOERROR', zone, view, cfg);
  }

  if (type === 'SRV') {
    // Equal priority, weights sharing 100 evenly, as CoreDNS does; the address of each target
    // goes in the additional section so a client needs no second query.
    const weight = Math.floor(100 / targets.length);
    const answers: SrvAnswer[] = [];
    const additionals: Answer[] = [];
    const seenSrv = new Set<string>();
    const seenAddr = new Set<string>();
    for (const t of targets) {
      if (t.port === -1) continue;
      const target = t.cname ?? t.name;
      const k = `${target} ${t.port}`;
      if (!seenSrv.has(k)) {
        seenSrv.add(k);
        answers.push({ type: 'SRV', name: owner, ttl, data: { priority: 0, weight, port: t.port, target } });
      }
      if (t.ip && !seenAddr.has(`${target} ${t.ip}`)) {
        seenAddr.add(`${target} ${t.ip}`);
        additionals.push({ type: 'A', name: target, ttl, data: t.ip });
      }
    }
    return answers.length ? ok(answers, additionals) : negative('NOERROR', zone, view, cfg);
  }

  // AAAA (the cluster is IPv4 only), TXT, MX and the rest: the name exists, with no such records.
  return negative('NOERROR', zone, view, cfg);
}
