// Requests the fuzzer (test/fuzz/) found answered with 500, reduced to the registry call that threw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jobStrategy } from '../../src/api/kinds/workloads/batch.ts';

test('a Job with manualSelector and a template without metadata is invalid, not a crash', () => {
  const job: Record<string, any> = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j', namespace: 'default' }, spec: { manualSelector: true, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x' }] } } } };
  jobStrategy.default(job);
  jobStrategy.prepareForCreate(job);
  const errs = jobStrategy.validate(job);
  assert.ok(errs.some((e) => e.field === 'spec.selector'), JSON.stringify(errs));
});
