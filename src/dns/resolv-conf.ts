// The /etc/resolv.conf a pod with dnsPolicy ClusterFirst gets, as the kubelet writes it: cluster
// DNS as the only nameserver, the namespace's search path so that `web-0.nginx` and `nginx`
// resolve from inside the namespace, and ndots:5 so that names with up to four dots try the
// search path first. Short names are the resolver's job; the DNS server only answers full names.
import { DNS_SERVICE_IP } from '../apiserver/admission.ts';

export interface ResolvConfOptions {
  nameserver?: string;
  domain?: string;
  ndots?: number;
  /** Pod spec dnsConfig: extra nameservers, searches and options, appended as the kubelet does. */
  dnsConfig?: { nameservers?: string[]; searches?: string[]; options?: { name: string; value?: string }[] };
}

/** Search domains for a pod in `namespace`: most specific first. */
export function searchDomains(namespace: string, domain = 'cluster.local'): string[] {
  return [`${namespace}.svc.${domain}`, `svc.${domain}`, domain];
}

export function resolvConfFor(namespace: string, opts: ResolvConfOptions = {}): string {
  const domain = opts.domain ?? 'cluster.local';
  const extra = opts.dnsConfig ?? {};
  // The kubelet keeps at most 3 nameservers and 32 search domains (glibc's limits).
  const nameservers = [opts.nameserver ?? DNS_SERVICE_IP, ...(extra.nameservers ?? [])].filter((s, i, a) => a.indexOf(s) === i).slice(0, 3);
  const search = [...searchDomains(namespace, domain), ...(extra.searches ?? [])].filter((s, i, a) => a.indexOf(s) === i).slice(0, 32);
  // Options from dnsConfig override defaults of the same name.
  const options = new Map<string, string | undefined>([['ndots', String(opts.ndots ?? 5)]]);
  for (const o of extra.options ?? []) options.set(o.name, o.value);
  const lines = [
    ...nameservers.map((n) => `nameserver ${n}`),
    `search ${search.join(' ')}`,
    `options ${[...options].map(([k, v]) => (v === undefined ? k : `${k}:${v}`)).join(' ')}`,
  ];
  return lines.join('\n') + '\n';
}
