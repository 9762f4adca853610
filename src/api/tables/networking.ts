// `kubectl get` columns of NetworkPolicy, Ingress, IngressClass and HorizontalPodAutoscaler, as
// upstream's printers (pkg/printers/internalversion) render them.
import type { Obj, TableDef } from '../resource.ts';
import { printLabelSelector } from '../selectors/labels.ts';
import { canonicalQuantity } from './quantity.ts';
import { ageColumn, ageOf, col, nameColumn, nameOf } from './helpers.ts';

export const networkPolicyTable: TableDef = {
  columns: [
    nameColumn(),
    col('Pod-Selector', 'Selects the pods to which this NetworkPolicy object applies. An empty podSelector selects all pods in the namespace.'),
    ageColumn(),
  ],
  cells: (np, now) => [nameOf(np), printLabelSelector(np.spec?.podSelector), ageOf(np, now)],
};

/** Up to three rule hosts, then "+ N more..." counted over all rules; '*' when no rule names a host. */
export function ingressHosts(rules: Obj[] | undefined): string {
  const list: string[] = [];
  const max = 3;
  let more = false;
  for (const rule of rules ?? []) {
    if (list.length === max) more = true;
    if (!more && rule.host) list.push(rule.host);
  }
  if (list.length === 0) return '*';
  return more ? `${list.join(',')} + ${(rules ?? []).length - max} more...` : list.join(',');
}

function ingressAddress(ing: Obj): string {
  const seen = new Set<string>();
  for (const lb of ing.status?.loadBalancer?.ingress ?? []) {
    if (lb.ip) seen.add(lb.ip);
    else if (lb.hostname) seen.add(lb.hostname);
  }
  return [...seen].sort().join(',');
}

export const ingressTable: TableDef = {
  columns: [
    nameColumn(),
    col('Class', 'The name of the IngressClass resource that should be used for this Ingress'),
    col('Hosts', 'Hosts that incoming requests are matched against before the ingress rule'),
    col('Address', 'Address is a list containing ingress points for the load-balancer'),
    col('Ports', 'Ports of TLS configurations that open'),
    ageColumn(),
  ],
  cells: (ing, now) => [
    nameOf(ing),
    ing.spec?.ingressClassName ?? '<none>',
    ingressHosts(ing.spec?.rules),
    ingressAddress(ing),
    (ing.spec?.tls ?? []).length ? '80, 443' : '80',
    ageOf(ing, now),
  ],
};

export const ingressClassTable: TableDef = {
  columns: [
    nameColumn(),
    col('Controller', 'Controller that is responsible for handling this class'),
    col('Parameters', 'A reference to a resource with additional parameters'),
    ageColumn(),
  ],
  cells: (ic, now) => {
    const p = ic.spec?.parameters;
    const params = p ? `${p.kind ?? ''}${p.apiGroup !== undefined && p.apiGroup !== null ? '.' + p.apiGroup : ''}/${p.name ?? ''}` : '<none>';
    return [nameOf(ic), ic.spec?.controller ?? '', params, ageOf(ic, now)];
  },
};

const q = (v: unknown) => canonicalQuantity(String(v ?? '0'));

/** One "current/target" entry per metric, at most two and then "+ N more..."; currents come from status by index. */
export function hpaTargets(specs: Obj[] | undefined, statuses: Obj[] | undefined): string {
  if (!specs || specs.length === 0) return '<none>';
  const st = statuses ?? [];
  const list = specs.map((spec, i) => {
    const cur = st[i] ?? {};
    switch (spec.type) {
      case 'External':
      case 'Object': {
        const key = spec.type === 'External' ? 'external' : 'object';
        const target = spec[key]?.target ?? {};
        const current = cur[key]?.current;
        if (target.averageValue !== undefined) {
          return `${current?.averageValue !== undefined ? q(current.averageValue) : '<unknown>'}/${q(target.averageValue)} (avg)`;
        }
        return `${current ? q(current.value) : '<unknown>'}/${q(target.value)}`;
      }
      case 'Pods':
        return `${cur.pods ? q(cur.pods.current?.averageValue) : '<unknown>'}/${q(spec.pods?.target?.averageValue)}`;
      case 'Resource':
      case 'ContainerResource': {
        const key = spec.type === 'Resource' ? 'resource' : 'containerResource';
        const src = spec[key] ?? {};
        const current = cur[key]?.current;
        if (src.target?.averageValue !== undefined) {
          return `${src.name}: ${current ? q(current.averageValue) : '<unknown>'}/${q(src.target.averageValue)}`;
        }
        const now = current?.averageUtilization !== undefined ? `${current.averageUtilization}%` : '<unknown>';
        const target = src.target?.averageUtilization !== undefined ? `${src.target.averageUtilization}%` : '<auto>';
        return `${src.name}: ${now}/${target}`;
      }
      default:
        return '<unknown type>';
    }
  });
  const max = 2;
  return list.length > max ? `${list.slice(0, max).join(', ')} + ${list.length - max} more...` : list.join(', ');
}

export const horizontalPodAutoscalerTable: TableDef = {
  columns: [
    nameColumn(),
    col('Reference', 'scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.'),
    col('Targets', 'metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).  The desired replica count is calculated multiplying the ratio between the target value and the current value by the current number of pods.  Ergo, metrics used must decrease as the pod count is increased, and vice-versa.  See the individual metric source types for more information about how each type of metric must respond.'),
    col('MinPods', 'minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.  It defaults to 1 pod.  minReplicas is allowed to be 0 if the alpha feature gate HPAScaleToZero is enabled and at least one Object or External metric is configured.  Scaling is active as long as at least one metric value is available.'),
    col('MaxPods', 'maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up. It cannot be less that minReplicas.'),
    col('Replicas', 'currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.'),
    ageColumn(),
  ],
  cells: (hpa, now) => [
    nameOf(hpa),
    `${hpa.spec?.scaleTargetRef?.kind ?? ''}/${hpa.spec?.scaleTargetRef?.name ?? ''}`,
    hpaTargets(hpa.spec?.metrics, hpa.status?.currentMetrics),
    hpa.spec?.minReplicas !== undefined && hpa.spec?.minReplicas !== null ? String(hpa.spec.minReplicas) : '<unset>',
    hpa.spec?.maxReplicas ?? 0,
    hpa.status?.currentReplicas ?? 0,
    ageOf(hpa, now),
  ],
};
