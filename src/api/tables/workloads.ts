// `kubectl get` columns of the workload kinds, as upstream's printers (pkg/printers/internalversion).
import type { Obj, TableDef } from '../resource.ts';
import { printLabelSelector } from '../selectors/labels.ts';
import { humanDuration } from './age.ts';
import { ageColumn, ageOf, col, containerCells, containersColumn, formatLabels, imagesColumn, nameColumn, nameOf } from './helpers.ts';

const selectorColumn = () => col('Selector', 'The label selector of the pods this object manages.', { priority: 1 });
const wide = (template: Obj | undefined, selector: Obj | undefined) => [...containerCells(template?.spec?.containers), printLabelSelector(selector)];

export const deploymentTable: TableDef = {
  columns: [
    nameColumn(),
    col('Ready', 'Number of the pod with ready state'),
    col('Up-to-date', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.', { type: 'integer' }),
    col('Available', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.', { type: 'integer' }),
    ageColumn(),
    containersColumn(),
    imagesColumn(),
    selectorColumn(),
  ],
  cells: (d, now) => [
    nameOf(d),
    `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`,
    d.status?.updatedReplicas ?? 0,
    d.status?.availableReplicas ?? 0,
    ageOf(d, now),
    ...wide(d.spec?.template, d.spec?.selector),
  ],
};

export const replicaSetTable: TableDef = {
  columns: [
    nameColumn(),
    col('Desired', 'Number of desired pods. This is a pointer to distinguish between explicit zero and not specified.', { type: 'integer' }),
    col('Current', 'Replicas is the most recently observed number of replicas.', { type: 'integer' }),
    col('Ready', 'The number of ready replicas for this replica set.', { type: 'integer' }),
    ageColumn(),
    containersColumn(),
    imagesColumn(),
    selectorColumn(),
  ],
  cells: (rs, now) => [
    nameOf(rs),
    rs.spec?.replicas ?? 0,
    rs.status?.replicas ?? 0,
    rs.status?.readyReplicas ?? 0,
    ageOf(rs, now),
    ...wide(rs.spec?.template, rs.spec?.selector),
  ],
};

export const daemonSetTable: TableDef = {
  columns: [
    nameColumn(),
    col('Desired', 'The total number of nodes that should be running the daemon pod.', { type: 'integer' }),
    col('Current', 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.', { type: 'integer' }),
    col('Ready', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.', { type: 'integer' }),
    col('Up-to-date', 'The total number of nodes that are running updated daemon pod', { type: 'integer' }),
    col('Available', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)', { type: 'integer' }),
    col('Node Selector', 'NodeSelector is a selector which must be true for the pod to fit on a node.'),
    ageColumn(),
    containersColumn(),
    imagesColumn(),
    selectorColumn(),
  ],
  cells: (ds, now) => [
    nameOf(ds),
    ds.status?.desiredNumberScheduled ?? 0,
    ds.status?.currentNumberScheduled ?? 0,
    ds.status?.numberReady ?? 0,
    ds.status?.updatedNumberScheduled ?? 0,
    ds.status?.numberAvailable ?? 0,
    formatLabels(ds.spec?.template?.spec?.nodeSelector),
    ageOf(ds, now),
    ...wide(ds.spec?.template, ds.spec?.selector),
  ],
};

const hasCondition = (job: Obj, type: string) => (job.status?.conditions ?? []).some((c: Obj) => c.type === type && c.status === 'True');

/** The STATUS cell: the first of upstream's precedence that holds. */
export function jobStatusText(job: Obj): string {
  if (hasCondition(job, 'Complete')) return 'Complete';
  if (hasCondition(job, 'Failed')) return 'Failed';
  if (job.metadata?.deletionTimestamp) return 'Terminating';
  if (hasCondition(job, 'Suspended')) return 'Suspended';
  if (hasCondition(job, 'FailureTarget')) return 'FailureTarget';
  if (hasCondition(job, 'SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  return 'Running';
}

export function jobCompletionsText(job: Obj): string {
  const succeeded = job.status?.succeeded ?? 0;
  const completions = job.spec?.completions;
  if (completions !== undefined && completions !== null) return `${succeeded}/${completions}`;
  const parallelism = job.spec?.parallelism ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

export function jobDurationText(job: Obj, now: number): string {
  const start = job.status?.startTime;
  if (!start) return '';
  const end = job.status?.completionTime ? Date.parse(job.status.completionTime) : now;
  return humanDuration(end - Date.parse(start));
}

export const jobTable: TableDef = {
  columns: [
    nameColumn(),
    col('Status', 'Status of the job.'),
    col('Completions', 'The completion status of the job as succeeded/desired completions.'),
    col('Duration', 'Time required to complete the job.'),
    ageColumn(),
    containersColumn(),
    imagesColumn(),
    selectorColumn(),
  ],
  cells: (job, now) => [
    nameOf(job),
    jobStatusText(job),
    jobCompletionsText(job),
    jobDurationText(job, now),
    ageOf(job, now),
    ...wide(job.spec?.template, job.spec?.selector),
  ],
};

export const cronJobTable: TableDef = {
  columns: [
    nameColumn(),
    col('Schedule', 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.'),
    col('Timezone', 'The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.'),
    col('Suspend', 'This flag tells the controller to suspend subsequent executions.', { type: 'boolean' }),
    col('Active', 'A list of pointers to currently running jobs.', { type: 'integer' }),
    col('Last Schedule', 'Information when was the last time the job was successfully scheduled.'),
    ageColumn(),
    containersColumn(),
    imagesColumn(),
    selectorColumn(),
  ],
  cells: (cj, now) => [
    nameOf(cj),
    cj.spec?.schedule ?? '',
    cj.spec?.timeZone ?? '<none>',
    // Upstream's printBoolPtr: a string, capitalised as Go's %v of a bool is not.
    cj.spec?.suspend === undefined || cj.spec?.suspend === null ? '<unset>' : cj.spec.suspend ? 'True' : 'False',
    (cj.status?.active ?? []).length,
    cj.status?.lastScheduleTime ? humanDuration(now - Date.parse(cj.status.lastScheduleTime)) : '<none>',
    ageOf(cj, now),
    ...wide(cj.spec?.jobTemplate?.spec?.template, cj.spec?.jobTemplate?.spec?.selector),
  ],
};
