// apps/v1 Deployment, ReplicaSet and DaemonSet: defaults, registry preparation and validation as
// upstream's (pkg/apis/apps/v1 defaults, pkg/apis/apps/validation, pkg/registry/apps/*/strategy.go).
import type { Obj, Strategy } from '../../resource.ts';
import { invalid, notSupported, required } from '../../field-errors.ts';
import { nameIsDNSSubdomain } from '../../validation/names.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from '../../validation/objectmeta.ts';
import { invalidRendered, intOrStringText, type Errs } from '../../validation/fields.ts';
import { defaultPodTemplate } from '../podspec.ts';
import { podTemplateWarnings } from '../warnings.ts';
import {
  asObj, immutable, isObj, isSet, nonneg, nonnegStatus, prepareCreate, prepareStatusUpdate, prepareUpdate,
  validateIntOrPercent, validateSelectorAndTemplate, validateTemplate,
} from './common.ts';

// ---------------------------------------------------------------- Deployment

export function defaultDeployment(d: Obj): void {
  if (!isObj(d.spec)) d.spec = {};
  const spec = d.spec;
  if (!isSet(spec.replicas)) spec.replicas = 1;
  if (!isObj(spec.strategy)) spec.strategy = {};
  if (!spec.strategy.type) spec.strategy.type = 'RollingUpdate';
  if (spec.strategy.type === 'RollingUpdate') {
    if (!isObj(spec.strategy.rollingUpdate)) spec.strategy.rollingUpdate = {};
    const ru = spec.strategy.rollingUpdate;
    if (!isSet(ru.maxUnavailable)) ru.maxUnavailable = '25%';
    if (!isSet(ru.maxSurge)) ru.maxSurge = '25%';
  }
  if (!isSet(spec.revisionHistoryLimit)) spec.revisionHistoryLimit = 10;
  if (!isSet(spec.progressDeadlineSeconds)) spec.progressDeadlineSeconds = 600;
  if (!isObj(spec.template)) spec.template = {};
  defaultPodTemplate(spec.template);
}

function validateRollingUpdateDeployment(ru: Obj, path: string): Errs {
  const mu = validateIntOrPercent(ru.maxUnavailable, `${path}.maxUnavailable`);
  const ms = validateIntOrPercent(ru.maxSurge, `${path}.maxSurge`);
  const errs = [...mu.errs, ...ms.errs];
  if (mu.zero && ms.zero) errs.push(invalidRendered(`${path}.maxUnavailable`, intOrStringText(ru.maxUnavailable), 'may not be 0 when `maxSurge` is 0'));
  return errs;
}

export function validateDeploymentSpec(spec: unknown, path = 'spec'): Errs {
  const s = asObj(spec);
  const errs: Errs = nonneg(s, ['replicas'], path);
  errs.push(...validateSelectorAndTemplate(s, 'deployment', path));
  if (isObj(s.template)) errs.push(...validateTemplate(s.template, `${path}.template`, ['Always'], 'Deployment'));
  const st = asObj(s.strategy);
  const spath = `${path}.strategy`;
  switch (st.type) {
    case 'Recreate':
      if (isSet(st.rollingUpdate)) errs.push({ type: 'FieldValueForbidden', field: `${spath}.rollingUpdate`, detail: "may not be specified when strategy `type` is 'Recreate'" });
      break;
    case 'RollingUpdate':
      if (!isObj(st.rollingUpdate)) errs.push(required(`${spath}.rollingUpdate`, 'this should be defaulted and never be nil'));
      else errs.push(...validateRollingUpdateDeployment(st.rollingUpdate, `${spath}.rollingUpdate`));
      break;
    default:
      errs.push(notSupported(`${spath}.type`, st.type ?? '', ['Recreate', 'RollingUpdate']));
  }
  errs.push(...nonneg(s, ['minReadySeconds', 'revisionHistoryLimit'], path));
  if (isSet(s.progressDeadlineSeconds)) {
    errs.push(...nonneg(s, ['progressDeadlineSeconds'], path));
    if (s.progressDeadlineSeconds <= (s.minReadySeconds ?? 0)) {
      errs.push(invalid(`${path}.progressDeadlineSeconds`, s.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
    }
  }
  return errs;
}

const appsMeta = (o: Obj) => validateObjectMeta(o.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain });

export const deploymentStrategy: Strategy = {
  default: defaultDeployment,
  prepareForCreate: (d) => prepareCreate(d),
  prepareForUpdate: prepareUpdate,
  // The controller writes the revision annotation with the status, as upstream; labels stay.
  prepareForStatusUpdate(d, old) {
    prepareStatusUpdate(d, old);
    if (old.metadata?.labels) d.metadata.labels = old.metadata.labels;
    else delete d.metadata.labels;
  },
  validate: (d) => [...appsMeta(d), ...validateDeploymentSpec(d.spec)],
  validateUpdate: (d, old) => [
    ...validateObjectMetaUpdate(d.metadata, old.metadata),
    ...validateDeploymentSpec(d.spec),
    // apps/v1 made the selector immutable.
    ...immutable(d.spec?.selector, old.spec?.selector, 'spec.selector'),
  ],
  validateStatusUpdate: (d, old) => [
    ...validateObjectMetaUpdate(d.metadata, old.metadata),
    ...nonnegStatus(d.status, ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas', 'observedGeneration', 'collisionCount']),
  ],
  warnings: (d, old) => (!old || d.metadata?.generation !== old.metadata?.generation ? podTemplateWarnings(d.spec?.template, 'spec.template') : []),
  defaultPropagation: 'Background',
};

// ---------------------------------------------------------------- ReplicaSet

export function defaultReplicaSet(rs: Obj): void {
  if (!isObj(rs.spec)) rs.spec = {};
  if (!isSet(rs.spec.replicas)) rs.spec.replicas = 1;
  if (isObj(rs.spec.template)) defaultPodTemplate(rs.spec.template);
}

export function validateReplicaSetSpec(spec: unknown, path = 'spec'): Errs {
  const s = asObj(spec);
  const errs: Errs = nonneg(s, ['replicas', 'minReadySeconds'], path);
  errs.push(...validateSelectorAndTemplate(s, 'deployment', path));
  if (isObj(s.template)) errs.push(...validateTemplate(s.template, `${path}.template`, ['Always'], 'ReplicaSet'));
  return errs;
}

export const replicaSetStrategy: Strategy = {
  default: defaultReplicaSet,
  prepareForCreate: (rs) => prepareCreate(rs, { replicas: 0 }),
  prepareForUpdate: prepareUpdate,
  prepareForStatusUpdate: prepareStatusUpdate,
  validate: (rs) => [...appsMeta(rs), ...validateReplicaSetSpec(rs.spec)],
  validateUpdate: (rs, old) => [
    ...validateObjectMetaUpdate(rs.metadata, old.metadata),
    ...validateReplicaSetSpec(rs.spec),
    ...immutable(rs.spec?.selector, old.spec?.selector, 'spec.selector'),
  ],
  validateStatusUpdate: (rs, old) => {
    const s = asObj(rs.status);
    const errs = [
      ...validateObjectMetaUpdate(rs.metadata, old.metadata),
      ...nonnegStatus(s, ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'observedGeneration']),
    ];
    const n = (k: string) => (typeof s[k] === 'number' ? s[k] : 0);
    for (const k of ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas']) {
      if (n(k) > n('replicas')) errs.push(invalid(`status.${k}`, n(k), 'cannot be greater than status.replicas'));
    }
    if (n('availableReplicas') > n('readyReplicas')) errs.push(invalid('status.availableReplicas', n('availableReplicas'), 'cannot be greater than readyReplicas'));
    return errs;
  },
  warnings: (rs, old) => (!old || rs.metadata?.generation !== old.metadata?.generation ? podTemplateWarnings(rs.spec?.template, 'spec.template') : []),
  defaultPropagation: 'Background',
};

// ---------------------------------------------------------------- DaemonSet

export function defaultDaemonSet(ds: Obj): void {
  if (!isObj(ds.spec)) ds.spec = {};
  const spec = ds.spec;
  if (!isObj(spec.updateStrategy)) spec.updateStrategy = {};
  const us = spec.updateStrategy;
  if (!us.type) us.type = 'RollingUpdate';
  if (us.type === 'RollingUpdate') {
    if (!isObj(us.rollingUpdate)) us.rollingUpdate = {};
    if (!isSet(us.rollingUpdate.maxUnavailable)) us.rollingUpdate.maxUnavailable = 1;
    if (!isSet(us.rollingUpdate.maxSurge)) us.rollingUpdate.maxSurge = 0;
  }
  if (!isSet(spec.revisionHistoryLimit)) spec.revisionHistoryLimit = 10;
  if (!isObj(spec.template)) spec.template = {};
  defaultPodTemplate(spec.template);
}

/** Upstream's getIntOrPercentValue: the number, or a percentage's number; 0 when unset or unreadable. */
function intOrPercentValue(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\d+%$/.test(v)) return parseInt(v, 10);
  return 0;
}

export function validateDaemonSetSpec(spec: unknown, path = 'spec'): Errs {
  const s = asObj(spec);
  const errs: Errs = validateSelectorAndTemplate(s, 'daemonset', path);
  if (isObj(s.template)) errs.push(...validateTemplate(s.template, `${path}.template`, ['Always'], 'DaemonSet'));
  errs.push(...nonneg(s, ['minReadySeconds', 'revisionHistoryLimit'], path));
  const us = asObj(s.updateStrategy);
  const upath = `${path}.updateStrategy`;
  switch (us.type) {
    case 'OnDelete':
      break;
    case 'RollingUpdate': {
      if (!isObj(us.rollingUpdate)) {
        errs.push(required(`${upath}.rollingUpdate`));
        break;
      }
      const rpath = `${upath}.rollingUpdate`;
      const mu = validateIntOrPercent(us.rollingUpdate.maxUnavailable, `${rpath}.maxUnavailable`);
      const ms = validateIntOrPercent(us.rollingUpdate.maxSurge, `${rpath}.maxSurge`);
      errs.push(...mu.errs, ...ms.errs);
      // Upstream: exactly one of the two is non-zero (a surging rollout keeps every node available).
      const hasUnavailable = intOrPercentValue(us.rollingUpdate.maxUnavailable) !== 0;
      const hasSurge = intOrPercentValue(us.rollingUpdate.maxSurge) !== 0;
      if (hasUnavailable && hasSurge) errs.push(invalidRendered(`${rpath}.maxSurge`, intOrStringText(us.rollingUpdate.maxSurge), 'may not be set when maxUnavailable is non-zero'));
      if (!hasUnavailable && !hasSurge) errs.push(required(`${rpath}.maxUnavailable`, 'cannot be 0 when maxSurge is 0'));
      break;
    }
    default:
      errs.push(notSupported(`${upath}.type`, us.type ?? '', ['OnDelete', 'RollingUpdate']));
  }
  return errs;
}

export const daemonSetStrategy: Strategy = {
  default: defaultDaemonSet,
  prepareForCreate: (ds) => prepareCreate(ds, { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 }),
  prepareForUpdate: prepareUpdate,
  prepareForStatusUpdate: prepareStatusUpdate,
  validate: (ds) => [...appsMeta(ds), ...validateDaemonSetSpec(ds.spec)],
  validateUpdate: (ds, old) => [
    ...validateObjectMetaUpdate(ds.metadata, old.metadata),
    ...validateDaemonSetSpec(ds.spec),
    ...immutable(ds.spec?.selector, old.spec?.selector, 'spec.selector'),
  ],
  validateStatusUpdate: (ds, old) => [
    ...validateObjectMetaUpdate(ds.metadata, old.metadata),
    ...nonnegStatus(ds.status, ['currentNumberScheduled', 'numberMisscheduled', 'desiredNumberScheduled', 'numberReady', 'updatedNumberScheduled', 'numberAvailable', 'numberUnavailable', 'observedGeneration']),
  ],
  warnings: (ds, old) => (!old || ds.metadata?.generation !== old.metadata?.generation ? podTemplateWarnings(ds.spec?.template, 'spec.template') : []),
  defaultPropagation: 'Background',
};
