// autoscaling/v1 HorizontalPodAutoscaler, served beside v2 from the same stored objects (v2 is the
// storage form), with upstream's conversion (pkg/apis/autoscaling/v1/conversion.go): v1's single
// targetCPUUtilizationPercentage is v2's Resource cpu Utilization metric; every other metric, the
// current metrics, the conditions and the behavior ride in annotations on the v1 view, so that a
// client that reads v1 and writes it back loses nothing.
import type { Obj } from '../resource.ts';
import { DEFAULT_CPU_UTILIZATION } from './autoscaling.ts';

export const METRIC_SPECS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/metrics';
export const METRIC_STATUSES_ANNOTATION = 'autoscaling.alpha.kubernetes.io/current-metrics';
export const CONDITIONS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/conditions';
export const BEHAVIOR_ANNOTATION = 'autoscaling.alpha.kubernetes.io/behavior';
const ROUND_TRIP = [METRIC_SPECS_ANNOTATION, BEHAVIOR_ANNOTATION, METRIC_STATUSES_ANNOTATION, CONDITIONS_ANNOTATION];

const V1 = 'autoscaling/v1';
const V2 = 'autoscaling/v2';
const has = (v: unknown) => v !== undefined && v !== null;

/** Copies the keys of `o` whose values are set, in order, leaving out the rest (Go's omitempty on pointers). */
function compact(o: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out;
}

/** Annotations without the round-trip ones; undefined when nothing is left. */
function dropRoundTrip(annotations: Obj | undefined): Obj | undefined {
  if (!annotations) return undefined;
  const out: Obj = {};
  for (const [k, v] of Object.entries(annotations)) if (!ROUND_TRIP.includes(k)) out[k] = v;
  return Object.keys(out).length ? out : undefined;
}

const isCpuUtilization = (m: Obj) => m?.type === 'Resource' && m.resource?.name === 'cpu' && has(m.resource?.target?.averageUtilization);

// v2 metric sources and statuses in v1's shape (v1.MetricSpec / v1.MetricStatus, like v2beta1's).
// Go's non-pointer Quantities are always written, "0" when v2 had none.
function metricSpecToV1(m: Obj): Obj {
  const out: Obj = { type: m.type ?? '' };
  if (m.object) {
    const o = m.object;
    out.object = compact({
      target: compact({ kind: o.describedObject?.kind ?? '', name: o.describedObject?.name ?? '', apiVersion: o.describedObject?.apiVersion }),
      metricName: o.metric?.name ?? '',
      targetValue: o.target?.value ?? '0',
      selector: o.metric?.selector,
      averageValue: o.target?.averageValue,
    });
  }
  if (m.pods) out.pods = compact({ metricName: m.pods.metric?.name ?? '', targetAverageValue: m.pods.target?.averageValue ?? '0', selector: m.pods.metric?.selector });
  if (m.resource) out.resource = compact({ name: m.resource.name ?? '', targetAverageUtilization: m.resource.target?.averageUtilization, targetAverageValue: m.resource.target?.averageValue });
  if (m.containerResource) {
    const c = m.containerResource;
    out.containerResource = compact({ name: c.name ?? '', targetAverageUtilization: c.target?.averageUtilization, targetAverageValue: c.target?.averageValue, container: c.container ?? '' });
  }
  if (m.external) {
    const e = m.external;
    out.external = compact({ metricName: e.metric?.name ?? '', metricSelector: e.metric?.selector, targetValue: e.target?.value, targetAverageValue: e.target?.averageValue });
  }
  return out;
}

function metricSpecFromV1(m: Obj): Obj {
  const out: Obj = { type: m.type ?? '' };
  if (m.object) {
    const o = m.object;
    out.object = {
      describedObject: compact({ kind: o.target?.kind ?? '', name: o.target?.name ?? '', apiVersion: o.target?.apiVersion }),
      metric: compact({ name: o.metricName ?? '', selector: o.selector }),
      target: compact({ type: has(o.averageValue) ? 'AverageValue' : 'Value', value: o.targetValue ?? '0', averageValue: o.averageValue }),
    };
  }
  if (m.pods) out.pods = { metric: compact({ name: m.pods.metricName ?? '', selector: m.pods.selector }), target: { type: 'AverageValue', averageValue: m.pods.targetAverageValue ?? '0' } };
  const resourceTarget = (r: Obj) => compact({ type: has(r.targetAverageUtilization) ? 'Utilization' : 'AverageValue', averageValue: r.targetAverageValue, averageUtilization: r.targetAverageUtilization });
  if (m.resource) out.resource = { name: m.resource.name ?? '', target: resourceTarget(m.resource) };
  if (m.containerResource) out.containerResource = { name: m.containerResource.name ?? '', target: resourceTarget(m.containerResource), container: m.containerResource.container ?? '' };
  if (m.external) {
    const e = m.external;
    out.external = { metric: compact({ name: e.metricName ?? '', selector: e.metricSelector }), target: compact({ type: has(e.targetValue) ? 'Value' : 'AverageValue', value: e.targetValue, averageValue: e.targetAverageValue }) };
  }
  return out;
}

function metricStatusToV1(m: Obj): Obj {
  const out: Obj = { type: m.type ?? '' };
  if (m.object) {
    const o = m.object;
    out.object = compact({
      target: compact({ kind: o.describedObject?.kind ?? '', name: o.describedObject?.name ?? '', apiVersion: o.describedObject?.apiVersion }),
      metricName: o.metric?.name ?? '',
      currentValue: o.current?.value ?? '0',
      selector: o.metric?.selector,
      averageValue: o.current?.averageValue,
    });
  }
  if (m.pods) out.pods = compact({ metricName: m.pods.metric?.name ?? '', currentAverageValue: m.pods.current?.averageValue ?? '0', selector: m.pods.metric?.selector });
  if (m.resource) out.resource = compact({ name: m.resource.name ?? '', currentAverageUtilization: m.resource.current?.averageUtilization, currentAverageValue: m.resource.current?.averageValue ?? '0' });
  if (m.containerResource) {
    const c = m.containerResource;
    out.containerResource = compact({ name: c.name ?? '', currentAverageUtilization: c.current?.averageUtilization, currentAverageValue: c.current?.averageValue ?? '0', container: c.container ?? '' });
  }
  if (m.external) {
    const e = m.external;
    out.external = compact({ metricName: e.metric?.name ?? '', metricSelector: e.metric?.selector, currentValue: e.current?.value ?? '0', currentAverageValue: e.current?.averageValue });
  }
  return out;
}

function metricStatusFromV1(m: Obj): Obj {
  const out: Obj = { type: m.type ?? '' };
  if (m.object) {
    const o = m.object;
    out.object = {
      metric: compact({ name: o.metricName ?? '', selector: o.selector }),
      current: compact({ value: o.currentValue ?? '0', averageValue: o.averageValue }),
      describedObject: compact({ kind: o.target?.kind ?? '', name: o.target?.name ?? '', apiVersion: o.target?.apiVersion }),
    };
  }
  if (m.pods) out.pods = { metric: compact({ name: m.pods.metricName ?? '', selector: m.pods.selector }), current: { averageValue: m.pods.currentAverageValue ?? '0' } };
  const current = (r: Obj) => compact({ averageValue: r.currentAverageValue ?? '0', averageUtilization: r.currentAverageUtilization });
  if (m.resource) out.resource = { name: m.resource.name ?? '', current: current(m.resource) };
  if (m.containerResource) out.containerResource = { name: m.containerResource.name ?? '', current: current(m.containerResource), container: m.containerResource.container ?? '' };
  if (m.external) {
    const e = m.external;
    out.external = { metric: compact({ name: e.metricName ?? '', selector: e.metricSelector }), current: compact({ value: e.currentValue ?? '0', averageValue: e.currentAverageValue }) };
  }
  return out;
}

// Upstream marshals its internal behavior type, which has no JSON tags: Go field names, and null
// for an unset pointer. Reading back, Go matches names case-insensitively; so does rulesFromAnnotation.
function rulesToAnnotation(r: Obj | undefined): Obj | null {
  if (!r) return null;
  return {
    StabilizationWindowSeconds: r.stabilizationWindowSeconds ?? null,
    SelectPolicy: r.selectPolicy ?? null,
    Policies: Array.isArray(r.policies) ? r.policies.map((p: Obj) => ({ Type: p.type ?? '', Value: p.value ?? 0, PeriodSeconds: p.periodSeconds ?? 0 })) : null,
  };
}

function field(o: Obj, name: string): unknown {
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(o)) if (k.toLowerCase() === want) return v;
  return undefined;
}

function rulesFromAnnotation(r: unknown): Obj | undefined {
  if (!r || typeof r !== 'object') return undefined;
  const o = r as Obj;
  const policies = field(o, 'policies');
  return compact({
    stabilizationWindowSeconds: field(o, 'stabilizationWindowSeconds') ?? undefined,
    selectPolicy: field(o, 'selectPolicy') ?? undefined,
    policies: Array.isArray(policies)
      ? policies.map((p: Obj) => ({ type: field(p, 'type') ?? '', value: field(p, 'value') ?? 0, periodSeconds: field(p, 'periodSeconds') ?? 0 }))
      : undefined,
  });
}

/** A stored (autoscaling/v2) HorizontalPodAutoscaler as autoscaling/v1 shows it. */
export function hpaToV1(hpa: Obj): Obj {
  const spec: Obj = hpa.spec ?? {};
  const status: Obj = hpa.status ?? {};
  const metrics: Obj[] = Array.isArray(spec.metrics) ? spec.metrics : [];
  const annotations: Obj = { ...dropRoundTrip(hpa.metadata?.annotations) };
  const others = metrics.filter((m) => !isCpuUtilization(m)).map(metricSpecToV1);
  if (others.length) annotations[METRIC_SPECS_ANNOTATION] = JSON.stringify(others);
  const currentMetrics: Obj[] = Array.isArray(status.currentMetrics) ? status.currentMetrics : [];
  // Kept whole, CPU included: the annotation also has the raw values v1's percentage lacks.
  if (currentMetrics.length) annotations[METRIC_STATUSES_ANNOTATION] = JSON.stringify(currentMetrics.map(metricStatusToV1));
  if (Array.isArray(status.conditions) && status.conditions.length) {
    annotations[CONDITIONS_ANNOTATION] = JSON.stringify(status.conditions.map((c: Obj) => compact({ type: c.type ?? '', status: c.status ?? '', lastTransitionTime: c.lastTransitionTime, reason: c.reason, message: c.message })));
  }
  if (spec.behavior) annotations[BEHAVIOR_ANNOTATION] = JSON.stringify({ ScaleUp: rulesToAnnotation(spec.behavior.scaleUp), ScaleDown: rulesToAnnotation(spec.behavior.scaleDown) });
  // The first cpu Resource metric decides, as upstream's loop breaks on it even without a utilization.
  const cpu = metrics.find((m) => m?.type === 'Resource' && m.resource?.name === 'cpu');
  const currentCpu = currentMetrics.filter((m) => m?.type === 'Resource' && m.resource?.name === 'cpu' && has(m.resource?.current?.averageUtilization)).at(-1);
  const metadata: Obj = { ...hpa.metadata };
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  else delete metadata.annotations;
  const out: Obj = { ...hpa, apiVersion: V1, metadata };
  out.spec = compact({
    scaleTargetRef: spec.scaleTargetRef,
    minReplicas: spec.minReplicas,
    maxReplicas: spec.maxReplicas ?? 0,
    targetCPUUtilizationPercentage: cpu?.resource?.target?.averageUtilization ?? undefined,
  });
  out.status = compact({
    observedGeneration: status.observedGeneration,
    lastScaleTime: status.lastScaleTime,
    currentReplicas: status.currentReplicas ?? 0,
    desiredReplicas: status.desiredReplicas ?? 0,
    currentCPUUtilizationPercentage: currentCpu?.resource?.current?.averageUtilization,
  });
  return out;
}

function parseAnnotation(annotations: Obj, key: string): unknown {
  const text = annotations[key];
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    // Upstream fails the conversion; an unreadable annotation is dropped here instead of refusing the object.
    return undefined;
  }
}

/** An autoscaling/v1 HorizontalPodAutoscaler (a request body) in its stored (autoscaling/v2) form. */
export function hpaFromV1(hpa: Obj): Obj {
  const spec: Obj = hpa.spec ?? {};
  const status: Obj = hpa.status ?? {};
  const annotations: Obj = hpa.metadata?.annotations ?? {};
  let metrics: Obj[] = [];
  if (has(spec.targetCPUUtilizationPercentage)) {
    metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage } } }];
  }
  const others = parseAnnotation(annotations, METRIC_SPECS_ANNOTATION);
  // The other metrics come first and the CPU target last, as upstream puts them back.
  if (Array.isArray(others)) metrics = [...others.map((m) => metricSpecFromV1(m ?? {})), ...metrics];
  // v1 always had a CPU target, implied by the old controller: made explicit, as upstream does.
  if (!metrics.length) metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION } } }];
  const outSpec: Obj = compact({ scaleTargetRef: spec.scaleTargetRef, minReplicas: spec.minReplicas, maxReplicas: spec.maxReplicas, metrics });
  const behavior = parseAnnotation(annotations, BEHAVIOR_ANNOTATION);
  if (behavior && typeof behavior === 'object') outSpec.behavior = compact({ scaleUp: rulesFromAnnotation(field(behavior as Obj, 'scaleUp')), scaleDown: rulesFromAnnotation(field(behavior as Obj, 'scaleDown')) });
  let currentMetrics: Obj[] | undefined;
  if (has(status.currentCPUUtilizationPercentage)) currentMetrics = [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: status.currentCPUUtilizationPercentage } } }];
  const current = parseAnnotation(annotations, METRIC_STATUSES_ANNOTATION);
  if (Array.isArray(current)) currentMetrics = current.map((m) => metricStatusFromV1(m ?? {}));
  const conditions = parseAnnotation(annotations, CONDITIONS_ANNOTATION);
  const outStatus: Obj = compact({
    observedGeneration: status.observedGeneration,
    lastScaleTime: status.lastScaleTime,
    currentReplicas: status.currentReplicas || undefined,
    desiredReplicas: status.desiredReplicas ?? 0,
    currentMetrics,
    conditions: Array.isArray(conditions) ? conditions : undefined,
  });
  const metadata: Obj = { ...hpa.metadata };
  const kept = dropRoundTrip(hpa.metadata?.annotations);
  if (kept) metadata.annotations = kept;
  else delete metadata.annotations;
  const out: Obj = { ...hpa, apiVersion: V2, metadata, spec: outSpec, status: outStatus };
  if (hpa.metadata === undefined) delete out.metadata;
  return out;
}
