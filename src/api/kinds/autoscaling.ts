// autoscaling/v2 HorizontalPodAutoscaler: upstream v1.32 defaults (pkg/apis/autoscaling/v2) and
// validation (pkg/apis/autoscaling/validation) with its field paths and messages. No controller
// acts on it here, so its status stays as created.
import type { Obj, Strategy } from '../resource.ts';
import { forbidden, invalid, notSupported, required } from '../field-errors.ts';
import { type Errs, asArray, asObj, isObj, str } from '../validation/fields.ts';
import { isDNS1123Label, nameIsDNSSubdomain, validatePathSegmentName } from '../validation/names.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from '../validation/objectmeta.ts';
import { bumpGenerationOnSpecChange, keepOldSpec, keepOldStatus } from './generic.ts';
import { notEnforcedWarning } from './not-enforced.ts';

const has = (o: Obj, k: string) => o[k] !== undefined && o[k] !== null;

/** Upstream's default CPU target when an autoscaler names no metric. */
export const DEFAULT_CPU_UTILIZATION = 80;
const MAX_STABILIZATION_WINDOW_SECONDS = 3600;
const MAX_PERIOD_SECONDS = 1800;

const scaleUpDefaults = () => ({
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }],
});
const scaleDownDefaults = () => ({
  selectPolicy: 'Max',
  policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
});

/** Fields the user left out of a direction's rules are taken from that direction's defaults. */
function fillRules(given: unknown, defaults: Obj): Obj {
  if (!isObj(given)) return defaults;
  for (const k of ['selectPolicy', 'stabilizationWindowSeconds', 'policies']) if (has(given, k)) defaults[k] = given[k];
  return defaults;
}

export function defaultHorizontalPodAutoscaler(hpa: Obj): void {
  const s = (hpa.spec ??= {});
  if (!has(s, 'minReplicas')) s.minReplicas = 1;
  if (asArray(s.metrics).length === 0) {
    s.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION } } }];
  }
  // Behavior is only completed when given; left out, the controller's built-in rules apply.
  if (isObj(s.behavior)) {
    s.behavior.scaleUp = fillRules(s.behavior.scaleUp, scaleUpDefaults());
    s.behavior.scaleDown = fillRules(s.behavior.scaleDown, scaleDownDefaults());
  }
}

function validateCrossVersionObjectReference(ref: Obj, path: string): Errs {
  const errs: Errs = [];
  if (!ref.kind) errs.push(required(`${path}.kind`));
  else for (const m of validatePathSegmentName(str(ref.kind), false)) errs.push(invalid(`${path}.kind`, ref.kind, m));
  if (!ref.name) errs.push(required(`${path}.name`));
  else for (const m of validatePathSegmentName(str(ref.name), false)) errs.push(invalid(`${path}.name`, ref.name, m));
  return errs;
}

/** Quantities are validated as text here; a positive quantity neither starts with '-' nor is zero. */
function quantityPositive(q: unknown): boolean {
  const t = String(q).trim();
  return !t.startsWith('-') && /[1-9]/.test(t.replace(/[eE][+-]?\d+$/, '').replace(/(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])$/, ''));
}

function validateMetricTarget(t: Obj, path: string): Errs {
  const errs: Errs = [];
  if (!t.type) errs.push(required(`${path}.type`, 'must specify a metric target type'));
  if (!['Utilization', 'Value', 'AverageValue'].includes(t.type)) errs.push(invalid(`${path}.type`, t.type ?? '', 'must be either Utilization, Value, or AverageValue'));
  if (has(t, 'value') && !quantityPositive(t.value)) errs.push(invalid(`${path}.value`, t.value, 'must be positive'));
  if (has(t, 'averageValue') && !quantityPositive(t.averageValue)) errs.push(invalid(`${path}.averageValue`, t.averageValue, 'must be positive'));
  if (has(t, 'averageUtilization') && t.averageUtilization < 1) errs.push(invalid(`${path}.averageUtilization`, t.averageUtilization, 'must be greater than 0'));
  return errs;
}

function validateMetricIdentifier(id: Obj, path: string): Errs {
  if (!id.name) return [required(`${path}.name`, 'must specify a metric name')];
  return validatePathSegmentName(str(id.name), false).map((m) => invalid(`${path}.name`, id.name, m));
}

const sourceChecks: Record<string, (src: Obj, path: string) => Errs> = {
  object(src, path) {
    const target = asObj(src.target);
    const errs = [
      ...validateCrossVersionObjectReference(asObj(src.describedObject), `${path}.describedObject`),
      ...validateMetricIdentifier(asObj(src.metric), `${path}.metric`),
      ...validateMetricTarget(target, `${path}.target`),
    ];
    if (!has(target, 'value') && !has(target, 'averageValue')) errs.push(required(`${path}.target.averageValue`, 'must set either a target value or averageValue'));
    return errs;
  },
  external(src, path) {
    const target = asObj(src.target);
    const errs = [...validateMetricIdentifier(asObj(src.metric), `${path}.metric`), ...validateMetricTarget(target, `${path}.target`)];
    if (!has(target, 'value') && !has(target, 'averageValue')) errs.push(required(`${path}.target.averageValue`, 'must set either a target value for metric or a per-pod target'));
    if (has(target, 'value') && has(target, 'averageValue')) errs.push(forbidden(`${path}.target.value`, 'may not set both a target value for metric and a per-pod target'));
    return errs;
  },
  pods(src, path) {
    const target = asObj(src.target);
    const errs = [...validateMetricIdentifier(asObj(src.metric), `${path}.metric`), ...validateMetricTarget(target, `${path}.target`)];
    if (!has(target, 'averageValue')) errs.push(required(`${path}.target.averageValue`, 'must specify a positive target averageValue'));
    return errs;
  },
  resource(src, path) {
    const target = asObj(src.target);
    const errs: Errs = [];
    if (!src.name) errs.push(required(`${path}.name`, 'must specify a resource name'));
    errs.push(...validateMetricTarget(target, `${path}.target`));
    if (!has(target, 'averageUtilization') && !has(target, 'averageValue')) errs.push(required(`${path}.target.averageUtilization`, 'must set either a target raw value or a target utilization'));
    if (has(target, 'averageUtilization') && has(target, 'averageValue')) errs.push(forbidden(`${path}.target.averageValue`, 'may not set both a target raw value and a target utilization'));
    return errs;
  },
  containerResource(src, path) {
    const errs = sourceChecks.resource(src, path);
    if (!src.container) errs.push(required(`${path}.container`, 'must specify a container'));
    else for (const m of isDNS1123Label(str(src.container))) errs.push(invalid(`${path}.container`, src.container, m));
    return errs;
  },
};

// In upstream's order of checking: only the first source present is validated in depth.
const metricTypes: Record<string, string> = { Object: 'object', External: 'external', Pods: 'pods', Resource: 'resource', ContainerResource: 'containerResource' };
const metricTypeList = Object.keys(metricTypes).sort();

function validateMetricSpec(spec: Obj, path: string): Errs {
  const errs: Errs = [];
  if (!spec.type) errs.push(required(`${path}.type`, 'must specify a metric source type'));
  const present = Object.values(metricTypes).filter((f) => has(spec, f));
  // Only the first source given is validated in depth; any other is reported below as extra.
  if (present.length) errs.push(...sourceChecks[present[0]](asObj(spec[present[0]]), `${path}.${present[0]}`));
  const expected = metricTypes[spec.type];
  if (!expected) errs.push(notSupported(`${path}.type`, spec.type ?? '', metricTypeList));
  else if (!has(spec, expected)) errs.push(required(`${path}.${expected}`, 'must populate information for the given metric source'));
  if (present.length !== 1) {
    for (const f of present) if (f !== expected) errs.push(forbidden(`${path}.${f}`, 'must populate the given metric source only'));
  }
  return errs;
}

function validateScalingRules(rules: unknown, path: string): Errs {
  if (!isObj(rules)) return [];
  const errs: Errs = [];
  const w = rules.stabilizationWindowSeconds;
  if (has(rules, 'stabilizationWindowSeconds') && w < 0) errs.push(invalid(`${path}.stabilizationWindowSeconds`, w, 'must be greater than or equal to zero'));
  if (has(rules, 'stabilizationWindowSeconds') && w > MAX_STABILIZATION_WINDOW_SECONDS) {
    errs.push(invalid(`${path}.stabilizationWindowSeconds`, w, `must be less than or equal to ${MAX_STABILIZATION_WINDOW_SECONDS}`));
  }
  if (has(rules, 'selectPolicy') && !['Disabled', 'Max', 'Min'].includes(rules.selectPolicy)) {
    errs.push(notSupported(`${path}.selectPolicy`, rules.selectPolicy, ['Disabled', 'Max', 'Min']));
  }
  const policies = asArray(rules.policies);
  if (policies.length === 0) errs.push(required(`${path}.policies`, 'must specify at least one Policy'));
  policies.forEach((p, i) => {
    const policy = asObj(p);
    const pp = `${path}.policies[${i}]`;
    if (policy.type !== 'Pods' && policy.type !== 'Percent') errs.push(notSupported(`${pp}.type`, policy.type ?? '', ['Percent', 'Pods']));
    const value = policy.value ?? 0;
    const period = policy.periodSeconds ?? 0;
    if (value <= 0) errs.push(invalid(`${pp}.value`, value, 'must be greater than zero'));
    if (period <= 0) errs.push(invalid(`${pp}.periodSeconds`, period, 'must be greater than zero'));
    if (period > MAX_PERIOD_SECONDS) errs.push(invalid(`${pp}.periodSeconds`, period, `must be less than or equal to ${MAX_PERIOD_SECONDS}`));
  });
  return errs;
}

export function validateHorizontalPodAutoscalerSpec(s: Obj, path = 'spec'): Errs {
  const errs: Errs = [];
  const max = s.maxReplicas ?? 0;
  // Scaling to zero is behind the HPAScaleToZero feature gate, off by default, so 1 is the floor.
  if (has(s, 'minReplicas') && s.minReplicas < 1) errs.push(invalid(`${path}.minReplicas`, s.minReplicas, 'must be greater than or equal to 1'));
  if (max < 1) errs.push(invalid(`${path}.maxReplicas`, max, 'must be greater than 0'));
  if (has(s, 'minReplicas') && max < s.minReplicas) errs.push(invalid(`${path}.maxReplicas`, max, 'must be greater than or equal to `minReplicas`'));
  errs.push(...validateCrossVersionObjectReference(asObj(s.scaleTargetRef), `${path}.scaleTargetRef`));
  asArray(s.metrics).forEach((m, i) => errs.push(...validateMetricSpec(asObj(m), `${path}.metrics[${i}]`)));
  if (isObj(s.behavior)) {
    errs.push(...validateScalingRules(s.behavior.scaleUp, `${path}.behavior.scaleUp`));
    errs.push(...validateScalingRules(s.behavior.scaleDown, `${path}.behavior.scaleDown`));
  }
  return errs;
}

export const horizontalPodAutoscalerStrategy: Strategy = {
  default: defaultHorizontalPodAutoscaler,
  prepareForCreate(hpa) {
    // desiredReplicas is the one status field without omitempty; nothing here ever updates it.
    hpa.status = { desiredReplicas: 0 };
    hpa.metadata.generation = 1;
  },
  prepareForUpdate(hpa, old) {
    keepOldStatus(hpa, old);
    bumpGenerationOnSpecChange(hpa, old);
  },
  prepareForStatusUpdate: keepOldSpec,
  validate: (hpa) => [...validateObjectMeta(hpa.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain }), ...validateHorizontalPodAutoscalerSpec(asObj(hpa.spec))],
  validateUpdate: (hpa, old) => [...validateObjectMetaUpdate(hpa.metadata, old.metadata), ...validateHorizontalPodAutoscalerSpec(asObj(hpa.spec))],
  validateStatusUpdate: (hpa, old) => validateObjectMetaUpdate(hpa.metadata, old.metadata),
  warnings: (_hpa, old) => (old ? [] : [notEnforcedWarning('HorizontalPodAutoscaler')]),
};
