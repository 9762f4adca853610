// batch/v1 Job and CronJob: defaults, registry preparation (the generated selector and pod labels
// of a Job) and validation as upstream's (pkg/apis/batch/v1 defaults, pkg/apis/batch/validation,
// pkg/registry/batch/*/strategy.go).
import type { Obj, Strategy } from '../../resource.ts';
import { forbidden, invalid, notSupported, required, tooLong } from '../../field-errors.ts';
import { nameIsDNSSubdomain } from '../../validation/names.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from '../../validation/objectmeta.ts';
import type { Errs } from '../../validation/fields.ts';
import { CronError, isTimeZone, parseSchedule } from '../../../util/cron.ts';
import { defaultPodTemplate } from '../podspec.ts';
import { podTemplateWarnings } from '../warnings.ts';
import {
  asArray, asObj, immutable, isObj, isSet, nonneg, nonnegStatus, prepareCreate, prepareStatusUpdate, prepareUpdate,
  validateSelectorAndTemplate, validateTemplate,
} from './common.ts';

export const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
const LEGACY_CONTROLLER_UID_LABEL = 'controller-uid';
const LEGACY_JOB_NAME_LABEL = 'job-name';
/** Upstream caps Indexed Jobs at this many completions (and parallelism). */
const MAX_INDEXED_COMPLETIONS = 100_000;
const MAX_POD_FAILURE_POLICY_RULES = 20;
/** Upstream's caps for per-index retries (pkg/apis/batch/validation). */
const MAX_FAILED_INDEXES = 100_000;
const COMPLETIONS_SOFT_LIMIT = 100_000;
const PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS = 10_000;
const MAX_FAILED_INDEXES_FOR_HIGH_COMPLETIONS = 10_000;
const MAX_SUCCESS_POLICY_RULES = 20;
const MAX_SUCCEEDED_INDEXES_LENGTH = 64 * 1024;

/**
 * Upstream's validateIndexesFormat: "1,3-5" in increasing order, every index below completions.
 * Returns how many indexes it names, or the parse error.
 */
export function checkIndexesFormat(text: string, completions: number): { total: number; error?: string } {
  if (!text) return { total: 0 };
  let last: number | undefined;
  let total = 0;
  for (const interval of text.split(',')) {
    const limits = interval.split('-');
    if (limits.length > 2) return { total: 0, error: `the fragment "${interval}" violates the requirement that an index interval can have at most two parts separated by '-'` };
    const nums: number[] = [];
    for (const l of limits) {
      // Go's strconv.Atoi: an optional sign and decimal digits.
      if (!/^[+-]?\d+$/.test(l)) return { total: 0, error: `cannot convert string to integer for index: "${l}"` };
      const n = parseInt(l, 10);
      if (n >= completions) return { total: 0, error: `too large index: "${l}"` };
      nums.push(n);
    }
    const [x, y = x] = nums;
    if (nums.length === 2 && x >= y) return { total: 0, error: `non-increasing order, previous: ${x}, current: ${y}` };
    if (last !== undefined && last >= x) return { total: 0, error: `non-increasing order, previous: ${last}, current: ${x}` };
    total += y - x + 1;
    last = y;
  }
  return { total };
}

function validateSuccessPolicy(s: Obj, path: string): Errs {
  const errs: Errs = [];
  const rules = asArray(s.successPolicy.rules);
  const rpath = `${path}.rules`;
  if (!rules.length) errs.push(required(rpath, 'at least one rules must be specified when the successPolicy is specified'));
  if (rules.length > MAX_SUCCESS_POLICY_RULES) errs.push({ type: 'FieldValueTooMany', field: rpath, detail: `must have at most ${MAX_SUCCESS_POLICY_RULES} items` });
  const completions = typeof s.completions === 'number' ? s.completions : 0;
  rules.forEach((raw, i) => {
    const rule = asObj(raw);
    const p = `${rpath}[${i}]`;
    if (!isSet(rule.succeededCount) && !isSet(rule.succeededIndexes)) errs.push(required(p, 'at least one of succeededCount or succeededIndexes must be specified'));
    let total = 0;
    if (isSet(rule.succeededIndexes)) {
      const text = String(rule.succeededIndexes);
      if (text.length > MAX_SUCCEEDED_INDEXES_LENGTH) errs.push(tooLong(`${p}.succeededIndexes`, text, MAX_SUCCEEDED_INDEXES_LENGTH));
      const parsed = checkIndexesFormat(text, completions);
      if (parsed.error) errs.push(invalid(`${p}.succeededIndexes`, text, `error parsing succeededIndexes: ${parsed.error}`));
      total = parsed.total;
    }
    if (isSet(rule.succeededCount)) {
      const count = rule.succeededCount;
      errs.push(...nonneg(rule, ['succeededCount'], p));
      if (count > completions) errs.push(invalid(`${p}.succeededCount`, count, `must be less than or equal to ${completions} (the number of specified completions)`));
      if (isSet(rule.succeededIndexes) && count > total) errs.push(invalid(`${p}.succeededCount`, count, `must be less than or equal to ${total} (the number of indexes in the specified succeededIndexes field)`));
    }
  });
  return errs;
}

// ---------------------------------------------------------------- Job

export function defaultJobSpec(spec: Obj): void {
  if (!isSet(spec.completions) && !isSet(spec.parallelism)) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  if (!isSet(spec.parallelism)) spec.parallelism = 1;
  if (!isSet(spec.backoffLimit)) spec.backoffLimit = isSet(spec.backoffLimitPerIndex) ? 2147483647 : 6;
  if (!spec.completionMode) spec.completionMode = 'NonIndexed';
  if (!isSet(spec.suspend)) spec.suspend = false;
  if (isObj(spec.podFailurePolicy)) {
    for (const rule of asArray(spec.podFailurePolicy.rules)) {
      for (const c of asArray(rule?.onPodConditions)) if (isObj(c) && !c.status) c.status = 'True';
    }
  }
  if (!spec.podReplacementPolicy) spec.podReplacementPolicy = isObj(spec.podFailurePolicy) ? 'Failed' : 'TerminatingOrFailed';
  if (!isObj(spec.template)) spec.template = {};
  defaultPodTemplate(spec.template);
}

export function defaultJob(job: Obj): void {
  if (!isObj(job.spec)) job.spec = {};
  defaultJobSpec(job.spec);
  // A Job without labels of its own wears its pods' labels.
  if (!job.metadata) job.metadata = {};
  if (!Object.keys(asObj(job.metadata.labels)).length && Object.keys(asObj(job.spec.template?.metadata?.labels)).length) {
    job.metadata.labels = { ...job.spec.template.metadata.labels };
  }
}

/** The selector and pod labels upstream generates from the Job's uid unless manualSelector is true. */
export function generateJobSelector(job: Obj): void {
  const spec = job.spec;
  if (spec.manualSelector === true) return;
  const uid = job.metadata.uid;
  if (!isObj(spec.template)) spec.template = {};
  if (!isObj(spec.template.metadata)) spec.template.metadata = {};
  const labels = { ...asObj(spec.template.metadata.labels) };
  labels[LEGACY_CONTROLLER_UID_LABEL] ??= uid;
  labels[CONTROLLER_UID_LABEL] ??= uid;
  labels[LEGACY_JOB_NAME_LABEL] ??= job.metadata.name;
  labels[JOB_NAME_LABEL] ??= job.metadata.name;
  spec.template.metadata.labels = labels;
  if (!isSet(spec.selector)) spec.selector = { matchLabels: { [CONTROLLER_UID_LABEL]: uid } };
}

function prepareJobForCreate(job: Obj): void {
  prepareCreate(job);
  generateJobSelector(job);
  // With manualSelector the template may have no metadata at all: validation, not a crash, answers that.
  if (!Object.keys(asObj(job.metadata.labels)).length) job.metadata.labels = { ...asObj(job.spec.template?.metadata?.labels) };
}

function validatePodFailurePolicy(pfp: Obj, path: string, indexed: boolean, restartPolicy: unknown): Errs {
  const errs: Errs = [];
  const rules = asArray(pfp.rules);
  if (restartPolicy !== 'Never') errs.push(invalid('spec.template.spec.restartPolicy', restartPolicy ?? '', 'only "Never" is supported when podFailurePolicy is specified'));
  if (rules.length > MAX_POD_FAILURE_POLICY_RULES) errs.push({ type: 'FieldValueTooMany', field: `${path}.rules`, detail: `must have at most ${MAX_POD_FAILURE_POLICY_RULES} items` });
  rules.forEach((raw, i) => {
    const r = asObj(raw);
    const p = `${path}.rules[${i}]`;
    const actions = ['Count', 'FailIndex', 'FailJob', 'Ignore'];
    if (!r.action) errs.push(required(`${p}.action`));
    else if (!actions.includes(r.action)) errs.push(notSupported(`${p}.action`, r.action, actions));
    else if (r.action === 'FailIndex' && !indexed) errs.push(forbidden(`${p}.action`, 'The action FailIndex is only allowed when backoffLimitPerIndex is specified'));
    const byCodes = isObj(r.onExitCodes);
    const byConds = asArray(r.onPodConditions).length > 0;
    if (byCodes && byConds) errs.push(invalid(p, '', 'specifying both OnExitCodes and OnPodConditions is not supported'));
    if (!byCodes && !byConds) errs.push(invalid(p, '', 'specifying one of OnExitCodes and OnPodConditions is required'));
    if (byCodes) {
      const c = r.onExitCodes;
      const op = c.operator;
      if (op !== 'In' && op !== 'NotIn') errs.push(notSupported(`${p}.onExitCodes.operator`, op ?? '', ['In', 'NotIn']));
      const values = asArray(c.values);
      if (!values.length) errs.push(invalid(`${p}.onExitCodes.values`, values, 'at least one value is required'));
      values.forEach((v, j) => {
        if (op === 'In' && v === 0) errs.push(invalid(`${p}.onExitCodes.values[${j}]`, v, 'must not be 0 for the In operator'));
        if (j > 0 && v <= values[j - 1]) errs.push(invalid(`${p}.onExitCodes.values[${j}]`, v, 'must be ordered'));
      });
    }
    asArray(r.onPodConditions).forEach((c, j) => {
      const cp = `${p}.onPodConditions[${j}]`;
      if (!c?.type) errs.push(required(`${cp}.type`));
      if (!['True', 'False', 'Unknown'].includes(c?.status)) errs.push(notSupported(`${cp}.status`, c?.status ?? '', ['True', 'False', 'Unknown']));
    });
  });
  return errs;
}

/** ValidateJobSpec; `generatedSelector` is false for a CronJob's template (its Jobs get one when created). */
export function validateJobSpec(spec: unknown, path: string, generatedSelector: boolean): Errs {
  const s = asObj(spec);
  const errs: Errs = nonneg(s, ['parallelism', 'completions', 'backoffLimit', 'ttlSecondsAfterFinished'], path);
  if (isSet(s.activeDeadlineSeconds) && s.activeDeadlineSeconds <= 0) {
    errs.push(invalid(`${path}.activeDeadlineSeconds`, s.activeDeadlineSeconds, 'must be greater than or equal to 1'));
  }
  if (generatedSelector) errs.push(...validateSelectorAndTemplate(s, 'job', path).filter((e) => !e.detail?.includes('empty selector')));
  else if (isSet(s.selector)) errs.push(...validateSelectorAndTemplate(s, 'job', path));
  if (isObj(s.template)) errs.push(...validateTemplate(s.template, `${path}.template`, ['OnFailure', 'Never']));
  else errs.push(required(`${path}.template`));
  const tspec = asObj(asObj(s.template).spec);
  if (tspec.restartPolicy === 'Always' || !tspec.restartPolicy) {
    if (!errs.some((e) => e.field === `${path}.template.spec.restartPolicy`)) errs.push(notSupported(`${path}.template.spec.restartPolicy`, tspec.restartPolicy ?? '', ['OnFailure', 'Never']));
  }
  const mode = s.completionMode;
  if (isSet(mode) && mode !== 'NonIndexed' && mode !== 'Indexed') errs.push(notSupported(`${path}.completionMode`, mode, ['NonIndexed', 'Indexed']));
  if (mode === 'Indexed') {
    if (!isSet(s.completions)) errs.push(required(`${path}.completions`, 'when completion mode is Indexed'));
    else if (s.completions > MAX_INDEXED_COMPLETIONS) errs.push(invalid(`${path}.completions`, s.completions, `must be less than or equal to ${MAX_INDEXED_COMPLETIONS} when completion mode is Indexed`));
    if (isSet(s.parallelism) && s.parallelism > MAX_INDEXED_COMPLETIONS) errs.push(invalid(`${path}.parallelism`, s.parallelism, `must be less than or equal to ${MAX_INDEXED_COMPLETIONS} when completion mode is Indexed`));
  }
  errs.push(...nonneg(s, ['backoffLimitPerIndex', 'maxFailedIndexes'], path));
  if (isSet(s.maxFailedIndexes) && !isSet(s.backoffLimitPerIndex)) errs.push(required(`${path}.backoffLimitPerIndex`, 'when maxFailedIndexes is specified'));
  if (mode === 'Indexed') {
    const completions = s.completions;
    if (isSet(completions) && isSet(s.maxFailedIndexes) && s.maxFailedIndexes > completions) errs.push(invalid(`${path}.maxFailedIndexes`, s.maxFailedIndexes, 'must be less than or equal to completions'));
    if (isSet(s.maxFailedIndexes) && s.maxFailedIndexes > MAX_FAILED_INDEXES) errs.push(invalid(`${path}.maxFailedIndexes`, s.maxFailedIndexes, `must be less than or equal to ${MAX_FAILED_INDEXES}`));
    if (isSet(completions) && completions > COMPLETIONS_SOFT_LIMIT && isSet(s.backoffLimitPerIndex)) {
      const above = `when completions are above ${COMPLETIONS_SOFT_LIMIT} and used with backoff limit per index`;
      if (!isSet(s.maxFailedIndexes)) errs.push(required(`${path}.maxFailedIndexes`, `must be specified when completions is above ${COMPLETIONS_SOFT_LIMIT}`));
      if (isSet(s.parallelism) && s.parallelism > PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS) errs.push(invalid(`${path}.parallelism`, s.parallelism, `must be less than or equal to ${PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS} ${above}`));
      if (isSet(s.maxFailedIndexes) && s.maxFailedIndexes > MAX_FAILED_INDEXES_FOR_HIGH_COMPLETIONS) errs.push(invalid(`${path}.maxFailedIndexes`, s.maxFailedIndexes, `must be less than or equal to ${MAX_FAILED_INDEXES_FOR_HIGH_COMPLETIONS} ${above}`));
    }
  } else {
    if (isSet(s.backoffLimitPerIndex)) errs.push(invalid(`${path}.backoffLimitPerIndex`, s.backoffLimitPerIndex, 'requires indexed completion mode'));
    if (isSet(s.maxFailedIndexes)) errs.push(invalid(`${path}.maxFailedIndexes`, s.maxFailedIndexes, 'requires indexed completion mode'));
  }
  if (isObj(s.successPolicy)) {
    if (mode !== 'Indexed') errs.push(invalid(`${path}.successPolicy`, '', 'requires indexed completion mode'));
    else errs.push(...validateSuccessPolicy(s, `${path}.successPolicy`));
  }
  if (isObj(s.podFailurePolicy)) errs.push(...validatePodFailurePolicy(s.podFailurePolicy, `${path}.podFailurePolicy`, isSet(s.backoffLimitPerIndex), tspec.restartPolicy));
  if (isSet(s.podReplacementPolicy) && !['Failed', 'TerminatingOrFailed'].includes(s.podReplacementPolicy)) {
    errs.push(notSupported(`${path}.podReplacementPolicy`, s.podReplacementPolicy, ['Failed', 'TerminatingOrFailed']));
  } else if (s.podReplacementPolicy === 'TerminatingOrFailed' && isObj(s.podFailurePolicy)) {
    errs.push(notSupported(`${path}.podReplacementPolicy`, s.podReplacementPolicy, ['Failed']));
  }
  if (isSet(s.managedBy) && s.managedBy !== 'kubernetes.io/job-controller') {
    // Only the built-in controller exists here; another manager would leave the Job untouched forever.
    errs.push(notSupported(`${path}.managedBy`, s.managedBy, ['kubernetes.io/job-controller']));
  }
  return errs;
}

function validateJobUpdate(job: Obj, old: Obj): Errs {
  const s = asObj(job.spec);
  const o = asObj(old.spec);
  const errs = [...validateObjectMetaUpdate(job.metadata, old.metadata), ...validateJobSpec(s, 'spec', true)];
  errs.push(...immutable(s.selector, o.selector, 'spec.selector'));
  errs.push(...immutable(s.completionMode, o.completionMode, 'spec.completionMode'));
  errs.push(...immutable(s.podFailurePolicy, o.podFailurePolicy, 'spec.podFailurePolicy'));
  errs.push(...immutable(s.backoffLimitPerIndex, o.backoffLimitPerIndex, 'spec.backoffLimitPerIndex'));
  errs.push(...immutable(s.managedBy, o.managedBy, 'spec.managedBy'));
  errs.push(...immutable(s.successPolicy, o.successPolicy, 'spec.successPolicy'));
  // Completions may change only together with parallelism in an Indexed Job (elastic Indexed Jobs).
  if (!(s.completionMode === 'Indexed' && s.completions === s.parallelism && o.completions === o.parallelism)) {
    errs.push(...immutable(s.completions, o.completions, 'spec.completions'));
  }
  // The template may change only while the Job is suspended and has never started.
  const neverStarted = !isSet(old.status?.startTime);
  if (!(o.suspend === true && neverStarted)) errs.push(...immutable(s.template, o.template, 'spec.template'));
  return errs;
}

export const jobStrategy: Strategy = {
  default: defaultJob,
  prepareForCreate: prepareJobForCreate,
  prepareForUpdate: prepareUpdate,
  prepareForStatusUpdate: prepareStatusUpdate,
  validate: (job) => [...validateObjectMeta(job.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain }), ...validateJobSpec(job.spec, 'spec', true)],
  validateUpdate: validateJobUpdate,
  validateStatusUpdate: (job, old) => [
    ...validateObjectMetaUpdate(job.metadata, old.metadata),
    ...nonnegStatus(job.status, ['active', 'succeeded', 'failed', 'ready', 'terminating']),
  ],
  warnings: (job, old) => (!old ? podTemplateWarnings(job.spec?.template, 'spec.template') : []),
  defaultPropagation: 'Orphan',
};

// ---------------------------------------------------------------- CronJob

/** CronJob names leave room for the 11-character suffix of their Jobs' names. */
const CRONJOB_NAME_MAX = 52;

export function defaultCronJob(cj: Obj): void {
  if (!isObj(cj.spec)) cj.spec = {};
  const spec = cj.spec;
  if (!spec.concurrencyPolicy) spec.concurrencyPolicy = 'Allow';
  if (!isSet(spec.suspend)) spec.suspend = false;
  if (!isSet(spec.successfulJobsHistoryLimit)) spec.successfulJobsHistoryLimit = 3;
  if (!isSet(spec.failedJobsHistoryLimit)) spec.failedJobsHistoryLimit = 1;
  if (!isObj(spec.jobTemplate)) spec.jobTemplate = {};
  if (!isObj(spec.jobTemplate.spec)) spec.jobTemplate.spec = {};
  defaultJobSpec(spec.jobTemplate.spec);
}

function validateTimeZone(tz: unknown, path: string): Errs {
  if (!isSet(tz)) return [];
  if (tz === '') return [invalid(path, tz, 'timeZone must be nil or non-empty string')];
  if (String(tz).toLowerCase() === 'local') return [invalid(path, tz, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones')];
  if (!isTimeZone(String(tz))) return [invalid(path, tz, `unknown time zone ${tz}`)];
  return [];
}

export function validateCronJobSpec(spec: unknown, path = 'spec', isNew = true): Errs {
  const s = asObj(spec);
  const errs: Errs = [];
  if (!s.schedule) errs.push(required(`${path}.schedule`));
  else {
    try {
      parseSchedule(String(s.schedule), isTimeZone(String(s.timeZone ?? 'UTC')) ? (s.timeZone ?? undefined) : undefined);
    } catch (err) {
      if (!(err instanceof CronError)) throw err;
      errs.push(invalid(`${path}.schedule`, s.schedule, err.message));
    }
    if (isNew && String(s.schedule).includes('TZ')) errs.push(invalid(`${path}.schedule`, s.schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
  }
  errs.push(...validateTimeZone(s.timeZone, `${path}.timeZone`));
  if (isSet(s.timeZone) && String(s.schedule ?? '').includes('TZ')) errs.push(invalid(`${path}.timeZone`, s.timeZone, 'cannot use both timeZone field and TZ or CRON_TZ in schedule'));
  errs.push(...nonneg(s, ['startingDeadlineSeconds', 'successfulJobsHistoryLimit', 'failedJobsHistoryLimit'], path));
  const cp = s.concurrencyPolicy;
  if (!cp) errs.push(required(`${path}.concurrencyPolicy`));
  else if (!['Allow', 'Forbid', 'Replace'].includes(cp)) errs.push(notSupported(`${path}.concurrencyPolicy`, cp, ['Allow', 'Forbid', 'Replace']));
  const jt = asObj(s.jobTemplate);
  errs.push(...validateJobSpec(jt.spec, `${path}.jobTemplate.spec`, false));
  return errs;
}

export const cronJobStrategy: Strategy = {
  default: defaultCronJob,
  prepareForCreate: (cj) => prepareCreate(cj),
  prepareForUpdate: prepareUpdate,
  prepareForStatusUpdate: prepareStatusUpdate,
  validate(cj) {
    const errs = [...validateObjectMeta(cj.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain }), ...validateCronJobSpec(cj.spec)];
    const name = String(cj.metadata?.name ?? '');
    if (name.length > CRONJOB_NAME_MAX) errs.push(invalid('metadata.name', name, `must be no more than ${CRONJOB_NAME_MAX} characters`));
    return errs;
  },
  validateUpdate: (cj, old) => [
    ...validateObjectMetaUpdate(cj.metadata, old.metadata),
    ...validateCronJobSpec(cj.spec, 'spec', String(old.spec?.schedule) !== String(cj.spec?.schedule)),
  ],
  validateStatusUpdate: (cj, old) => validateObjectMetaUpdate(cj.metadata, old.metadata),
  warnings: (cj, old) => (!old ? podTemplateWarnings(cj.spec?.jobTemplate?.spec?.template, 'spec.jobTemplate.spec.template') : []),
  defaultPropagation: 'Background',
};
