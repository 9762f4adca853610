// apps/v1 StatefulSet: defaults, registry preparation and validation (upstream v1.32 semantics,
// except that rollingUpdate.maxUnavailable is honoured as with the MaxUnavailableStatefulSet gate on).
import type { Obj, Strategy } from '../resource.ts';
import { forbidden, invalid, notSupported, required } from '../field-errors.ts';
import {
  type Errs,
  asArray,
  asObj,
  deepEqual,
  goStringMap,
  invalidRendered,
  intOrStringText,
  isObj,
  validateNonnegativeField,
} from '../validation/fields.ts';
import { isValidPercent, nameIsDNSLabel } from '../validation/names.ts';
import { validateAnnotations, validateLabels, validateObjectMeta, validateObjectMetaUpdate } from '../validation/objectmeta.ts';
import { labelSelectorGoValue, selectorConvertible, selectorMatches, validateLabelSelector } from '../validation/selector.ts';
import { defaultPodTemplate } from './podspec.ts';
import { defaultPersistentVolumeClaim } from './storage.ts';
import { podTemplateWarnings } from './warnings.ts';
import { checkClaimTemplateUpdate, validateVolumeClaimUpdatePolicy } from './statefulset-claims.ts';

// ---------------------------------------------------------------- defaults

export function defaultStatefulSet(sts: Obj): void {
  if (!isObj(sts.spec)) sts.spec = {};
  const spec = sts.spec;
  if (!spec.podManagementPolicy) spec.podManagementPolicy = 'OrderedReady';
  if (!isObj(spec.updateStrategy)) spec.updateStrategy = {};
  const us = spec.updateStrategy;
  if (!us.type) {
    us.type = 'RollingUpdate';
    // Only an omitted type brings a rollingUpdate object with it; an explicit RollingUpdate does not.
    if (!isObj(us.rollingUpdate)) us.rollingUpdate = {};
  }
  if (us.type === 'RollingUpdate' && isObj(us.rollingUpdate)) {
    if (us.rollingUpdate.partition === undefined || us.rollingUpdate.partition === null) us.rollingUpdate.partition = 0;
    if (us.rollingUpdate.maxUnavailable === undefined || us.rollingUpdate.maxUnavailable === null) us.rollingUpdate.maxUnavailable = 1;
  }
  if (!isObj(spec.persistentVolumeClaimRetentionPolicy)) spec.persistentVolumeClaimRetentionPolicy = {};
  const rp = spec.persistentVolumeClaimRetentionPolicy;
  if (!rp.whenDeleted) rp.whenDeleted = 'Retain';
  if (!rp.whenScaled) rp.whenScaled = 'Retain';
  if (spec.replicas === undefined || spec.replicas === null) spec.replicas = 1;
  if (spec.revisionHistoryLimit === undefined || spec.revisionHistoryLimit === null) spec.revisionHistoryLimit = 10;
  if (!isObj(spec.template)) spec.template = {};
  defaultPodTemplate(spec.template);
  for (const t of asArray(spec.volumeClaimTemplates)) {
    if (!isObj(t)) continue;
    // Embedded objects are served with their type meta, as real servers print them.
    if (!t.apiVersion) t.apiVersion = 'v1';
    if (!t.kind) t.kind = 'PersistentVolumeClaim';
    defaultPersistentVolumeClaim(t);
  }
}

// ---------------------------------------------------------------- registry preparation

export function prepareStatefulSetForCreate(sts: Obj): void {
  // replicas and availableReplicas are not omitempty upstream, so an empty status still shows them.
  sts.status = { replicas: 0, availableReplicas: 0 };
  sts.metadata.generation = 1;
}

export function prepareStatefulSetForUpdate(sts: Obj, old: Obj): void {
  sts.status = old.status;
  if (sts.status === undefined) delete sts.status;
  const gen = old.metadata?.generation ?? 0;
  sts.metadata.generation = deepEqual(sts.spec, old.spec) ? gen : gen + 1;
}

export function prepareStatefulSetForStatusUpdate(sts: Obj, old: Obj): void {
  sts.spec = old.spec;
  sts.metadata.generation = old.metadata?.generation;
}

// ---------------------------------------------------------------- validation

function validateRollingUpdate(ru: Obj, path: string): Errs {
  const errs = validateNonnegativeField(ru.partition, `${path}.partition`);
  const mu = ru.maxUnavailable;
  if (mu !== undefined && mu !== null) {
    const p = `${path}.maxUnavailable`;
    const text = intOrStringText(mu);
    let value = 0;
    if (typeof mu === 'string') {
      const msgs = isValidPercent(mu);
      for (const m of msgs) errs.push(invalidRendered(p, text, m));
      value = msgs.length ? 0 : parseInt(mu.slice(0, -1), 10);
    } else if (typeof mu === 'number') {
      errs.push(...validateNonnegativeField(mu, p));
      value = mu;
    } else {
      errs.push(invalidRendered(p, text, "must be an integer or percentage (e.g '5%')"));
    }
    if (value === 0) errs.push(invalidRendered(p, text, 'cannot be 0'));
    if (typeof mu === 'string' && isValidPercent(mu).length === 0 && value > 100) {
      errs.push(invalidRendered(p, text, 'must not be greater than 100%'));
    }
  }
  return errs;
}

// The internal Go types have no String(), so upstream prints them with %#v; pointers print as
// (nil) or an address, which we cannot reproduce and render as a fixed placeholder.
function renderRollingUpdate(ru: Obj): string {
  const mu = ru.maxUnavailable === undefined || ru.maxUnavailable === null ? '(*intstr.IntOrString)(nil)' : '(*intstr.IntOrString)(0xc000000000)';
  return `apps.RollingUpdateStatefulSetStrategy{Partition:${typeof ru.partition === 'number' ? ru.partition : 0}, MaxUnavailable:${mu}}`;
}

function renderStrategy(us: Obj): string {
  const ru = isObj(us.rollingUpdate) ? '(*apps.RollingUpdateStatefulSetStrategy)(0xc000000000)' : '(*apps.RollingUpdateStatefulSetStrategy)(nil)';
  return `apps.StatefulSetUpdateStrategy{Type:${JSON.stringify(String(us.type ?? ''))}, RollingUpdate:${ru}}`;
}

/** Upstream ValidateStatefulSetSpec. The template's pod spec is deliberately not validated (upstream TODO). */
export function validateStatefulSetSpec(spec: unknown, path = 'spec'): Errs {
  const s = asObj(spec);
  const errs: Errs = [];
  switch (s.podManagementPolicy) {
    case undefined:
    case '':
      errs.push(required(`${path}.podManagementPolicy`));
      break;
    case 'OrderedReady':
    case 'Parallel':
      break;
    default:
      errs.push(invalid(`${path}.podManagementPolicy`, s.podManagementPolicy, "must be 'OrderedReady' or 'Parallel'"));
  }

  const us = asObj(s.updateStrategy);
  switch (us.type) {
    case undefined:
    case '':
      errs.push(required(`${path}.updateStrategy`));
      break;
    case 'OnDelete':
      if (isObj(us.rollingUpdate)) {
        errs.push(invalidRendered(`${path}.updateStrategy.rollingUpdate`, renderRollingUpdate(us.rollingUpdate), "only allowed for updateStrategy 'RollingUpdate'"));
      }
      break;
    case 'RollingUpdate':
      if (isObj(us.rollingUpdate)) errs.push(...validateRollingUpdate(us.rollingUpdate, `${path}.updateStrategy.rollingUpdate`));
      break;
    default:
      errs.push(invalidRendered(`${path}.updateStrategy`, renderStrategy(us), "must be 'RollingUpdate' or 'OnDelete'"));
  }

  if (isObj(s.persistentVolumeClaimRetentionPolicy)) {
    for (const k of ['whenDeleted', 'whenScaled']) {
      const v = s.persistentVolumeClaimRetentionPolicy[k];
      if (v !== 'Retain' && v !== 'Delete') errs.push(notSupported(`${path}.persistentVolumeClaimRetentionPolicy.${k}`, v ?? '', ['Retain', 'Delete']));
    }
  }

  errs.push(...validateVolumeClaimUpdatePolicy(s.volumeClaimUpdatePolicy, `${path}.volumeClaimUpdatePolicy`));
  errs.push(...validateNonnegativeField(s.replicas, `${path}.replicas`));
  errs.push(...validateNonnegativeField(s.minReadySeconds, `${path}.minReadySeconds`));
  if (isObj(s.ordinals)) errs.push(...validateNonnegativeField(s.ordinals.start, `${path}.ordinals.start`));

  const sel = s.selector;
  if (sel === undefined || sel === null) {
    errs.push(required(`${path}.selector`));
  } else {
    errs.push(...validateLabelSelector(sel, `${path}.selector`));
    const sc = asObj(sel);
    if (Object.keys(asObj(sc.matchLabels)).length + asArray(sc.matchExpressions).length === 0) {
      errs.push(invalidRendered(`${path}.selector`, labelSelectorGoValue(sel), 'empty selector is invalid for statefulset'));
    }
  }

  const template = asObj(s.template);
  const tmeta = asObj(template.metadata);
  const tpath = `${path}.template`;
  if (!selectorConvertible(sel)) {
    errs.push(invalidRendered(`${path}.selector`, labelSelectorGoValue(sel), ''));
  } else {
    // A missing selector matches nothing; an empty one matches everything and is not checked here.
    const empty = isObj(sel) && Object.keys(asObj(sel.matchLabels)).length + asArray(sel.matchExpressions).length === 0;
    if (!empty && !selectorMatches(sel, tmeta.labels)) {
      errs.push(invalidRendered(`${tpath}.metadata.labels`, goStringMap(tmeta.labels), '`selector` does not match template `labels`'));
    }
    errs.push(...validateLabels(tmeta.labels, `${tpath}.labels`));
    errs.push(...validateAnnotations(tmeta.annotations, `${tpath}.annotations`));
  }

  const tspec = asObj(template.spec);
  if (tspec.restartPolicy !== 'Always') errs.push(notSupported(`${tpath}.spec.restartPolicy`, tspec.restartPolicy ?? '', ['Always']));
  if (tspec.activeDeadlineSeconds !== undefined && tspec.activeDeadlineSeconds !== null) {
    errs.push(forbidden(`${tpath}.spec.activeDeadlineSeconds`, 'activeDeadlineSeconds in StatefulSet is not Supported'));
  }
  return errs;
}

export function validateStatefulSet(sts: Obj): Errs {
  return [...validateObjectMeta(sts.metadata, { namespaced: true, nameFn: nameIsDNSLabel }), ...validateStatefulSetSpec(sts.spec)];
}

const mutableSpecFields = ['replicas', 'template', 'updateStrategy', 'minReadySeconds', 'ordinals', 'persistentVolumeClaimRetentionPolicy', 'volumeClaimUpdatePolicy'];

export function validateStatefulSetUpdate(sts: Obj, old: Obj): Errs {
  // The name is not re-validated: sets created when subdomain names were allowed must stay deletable.
  const errs = [...validateObjectMetaUpdate(sts.metadata, old.metadata), ...validateStatefulSetSpec(sts.spec)];
  const a = { ...asObj(sts.spec) };
  const b = { ...asObj(old.spec) };
  for (const f of mutableSpecFields) {
    delete a[f];
    delete b[f];
  }
  // Claim templates may grow their storage request (KEP-4650); any other change stays forbidden below.
  const claims = checkClaimTemplateUpdate(a.volumeClaimTemplates, b.volumeClaimTemplates);
  if (claims.onlyStorageChanged) {
    errs.push(...claims.errs);
    delete a.volumeClaimTemplates;
    delete b.volumeClaimTemplates;
  }
  if (!deepEqual(a, b)) {
    errs.push(
      forbidden(
        'spec',
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
      ),
    );
  }
  return errs;
}

export function validateStatefulSetStatus(status: unknown, path = 'status'): Errs {
  const s = asObj(status);
  const n = (k: string): number => (typeof s[k] === 'number' ? s[k] : 0);
  const errs: Errs = [];
  for (const k of ['replicas', 'readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas']) {
    errs.push(...validateNonnegativeField(s[k], `${path}.${k}`));
  }
  if (s.observedGeneration !== undefined && s.observedGeneration !== null) errs.push(...validateNonnegativeField(s.observedGeneration, `${path}.observedGeneration`));
  if (s.collisionCount !== undefined && s.collisionCount !== null) errs.push(...validateNonnegativeField(s.collisionCount, `${path}.collisionCount`));
  const msg = 'cannot be greater than status.replicas';
  for (const k of ['readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas']) {
    if (n(k) > n('replicas')) errs.push(invalid(`${path}.${k}`, n(k), msg));
  }
  if (n('availableReplicas') > n('readyReplicas')) {
    errs.push(invalid(`${path}.availableReplicas`, n('availableReplicas'), 'cannot be greater than status.readyReplicas'));
  }
  return errs;
}

export function validateStatefulSetStatusUpdate(sts: Obj, old: Obj): Errs {
  const errs = [...validateStatefulSetStatus(sts.status), ...validateObjectMetaUpdate(sts.metadata, old.metadata)];
  const cur = asObj(sts.status).collisionCount;
  const prev = asObj(old.status).collisionCount;
  // Decrementing includes dropping a previously set count.
  if (typeof prev === 'number' && (typeof cur !== 'number' || cur < prev)) {
    errs.push(invalid('status.collisionCount', typeof cur === 'number' ? cur : 0, 'cannot be decremented'));
  }
  return errs;
}

export function statefulSetWarnings(sts: Obj, old?: Obj): string[] {
  const warnings: string[] = [];
  const spec = asObj(sts.spec);
  if (!old || sts.metadata?.generation !== old.metadata?.generation) {
    warnings.push(...podTemplateWarnings(spec.template, 'spec.template'));
  }
  if (typeof spec.revisionHistoryLimit === 'number' && spec.revisionHistoryLimit < 0) {
    warnings.push('spec.revisionHistoryLimit: a negative value retains all historical revisions; a value >= 0 is recommended');
  }
  return warnings;
}

export const statefulSetStrategy: Strategy = {
  default: defaultStatefulSet,
  prepareForCreate: prepareStatefulSetForCreate,
  prepareForUpdate: prepareStatefulSetForUpdate,
  prepareForStatusUpdate: prepareStatefulSetForStatusUpdate,
  validate: validateStatefulSet,
  validateUpdate: validateStatefulSetUpdate,
  validateStatusUpdate: validateStatefulSetStatusUpdate,
  warnings: statefulSetWarnings,
  defaultPropagation: 'Background',
};
