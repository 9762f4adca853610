// Claims that grow with their template (KEP-4650 InPlace): which ordinal's claims grow next.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Obj } from '../../src/api/resource.ts';
import { claimExpanded, claimSizeChanged, grownClaim, planClaimUpdate } from '../../src/controllers/statefulset/claim-update.ts';

function set(mut?: (s: Obj) => void): Obj {
  const s: Obj = {
    metadata: { name: 'web', namespace: 'default', uid: 'set-1' },
    spec: {
      replicas: 3,
      volumeClaimUpdatePolicy: 'InPlace',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { resources: { requests: { storage: '2Mi' } } } }],
    },
  };
  mut?.(s);
  return s;
}

const claim = (name: string, request: string, capacity: string | undefined = request, phase = 'Bound'): Obj => ({
  metadata: { name, namespace: 'default' },
  spec: { resources: { requests: { storage: request } } },
  status: { phase, ...(capacity ? { capacity: { storage: capacity } } : {}) },
});

const pod = (name: string, deleting = false): Obj => ({ metadata: { name, namespace: 'default', ...(deleting ? { deletionTimestamp: 'x' } : {}) } });
const pods = ['web-0', 'web-1', 'web-2'].map((n) => pod(n));

function lookup(...claims: Obj[]): (name: string) => Obj | undefined {
  const m = new Map(claims.map((c) => [c.metadata.name, c]));
  return (n) => m.get(n);
}

const stepOf = (s: Obj, claims: Obj[], p = pods) => {
  const step = planClaimUpdate(s, lookup(...claims), p);
  if (step.kind === 'grow') return `grow ${step.ordinal}: ${step.claims.map((c) => `${c.claim.metadata.name}→${c.storage}`).join(',')}`;
  if (step.kind === 'wait') return `wait ${step.ordinal}: ${step.claims.join(',')}`;
  return 'none';
};

test('InPlace grows from the highest ordinal down, one ordinal at a time, waiting for each', () => {
  const s = set();
  const old = ['www-web-0', 'www-web-1', 'www-web-2'].map((n) => claim(n, '1Mi'));
  assert.equal(stepOf(s, old), 'grow 2: www-web-2→2Mi');
  // Asked, not expanded yet: the set waits at ordinal 2.
  const asked2 = claim('www-web-2', '2Mi', '1Mi');
  assert.equal(stepOf(s, [old[0], old[1], asked2]), 'wait 2: www-web-2');
  // Expanded: ordinal 1 is next.
  const done2 = claim('www-web-2', '2Mi', '2Mi');
  assert.equal(stepOf(s, [old[0], old[1], done2]), 'grow 1: www-web-1→2Mi');
  assert.equal(stepOf(s, [old[0], claim('www-web-1', '2Mi', '2Mi'), done2]), 'grow 0: www-web-0→2Mi');
  assert.equal(stepOf(s, ['www-web-0', 'www-web-1', 'www-web-2'].map((n) => claim(n, '2Mi'))), 'none');
});

test('no policy, OnClaimDelete, or a set being deleted: existing claims are left alone', () => {
  const old = ['www-web-0', 'www-web-1', 'www-web-2'].map((n) => claim(n, '1Mi'));
  assert.equal(stepOf(set((s) => delete s.spec.volumeClaimUpdatePolicy), old), 'none');
  assert.equal(stepOf(set((s) => (s.spec.volumeClaimUpdatePolicy = 'OnClaimDelete')), old), 'none');
  assert.equal(stepOf(set((s) => (s.metadata.deletionTimestamp = 'x')), old), 'none');
});

test('claims are never shrunk, and missing, unbound or deleting claims are skipped', () => {
  const s = set();
  assert.equal(stepOf(s, ['www-web-0', 'www-web-1', 'www-web-2'].map((n) => claim(n, '5Mi'))), 'none', 'bigger than the template');
  const deleting = claim('www-web-2', '1Mi');
  deleting.metadata.deletionTimestamp = 'x';
  assert.equal(stepOf(s, [claim('www-web-0', '2Mi'), claim('www-web-1', '1Mi', '', 'Pending'), deleting]), 'none');
  assert.equal(stepOf(s, [claim('www-web-0', '1Mi')]), 'grow 0: www-web-0→2Mi', 'ordinals 1 and 2 have no claim yet');
});

test('a claim grown by hand beyond the template is ready once it reaches the template', () => {
  const t = { spec: { resources: { requests: { storage: '2Mi' } } } };
  assert.equal(claimExpanded(claim('c', '5Mi', '2Mi'), t), true);
  assert.equal(claimExpanded(claim('c', '5Mi', '1Mi'), t), false);
  assert.equal(claimExpanded(claim('c', '2Mi', ''), t), false);
});

test('RollingUpdate honours the partition; ordinals.start shifts the range', () => {
  const s = set((x) => (x.spec.updateStrategy.rollingUpdate.partition = 2));
  const old = ['www-web-0', 'www-web-1', 'www-web-2'].map((n) => claim(n, '1Mi'));
  assert.equal(stepOf(s, [old[0], old[1], claim('www-web-2', '2Mi')]), 'none', 'ordinals 0 and 1 are below the partition');
  const shifted = set((x) => {
    x.spec.ordinals = { start: 5 };
    x.spec.updateStrategy.rollingUpdate.partition = 1;
  });
  const c = ['www-web-5', 'www-web-6', 'www-web-7'].map((n) => claim(n, '1Mi'));
  assert.equal(stepOf(shifted, [c[0], c[1], claim('www-web-7', '2Mi')], []), 'grow 6: www-web-6→2Mi');
  assert.equal(stepOf(shifted, [c[0], claim('www-web-6', '2Mi'), claim('www-web-7', '2Mi')], []), 'none', 'ordinal 5 is index 0, below the partition');
});

test('OnDelete grows a claim only when its pod is gone or going', () => {
  const s = set((x) => (x.spec.updateStrategy = { type: 'OnDelete' }));
  const old = ['www-web-0', 'www-web-1', 'www-web-2'].map((n) => claim(n, '1Mi'));
  assert.equal(stepOf(s, old), 'none');
  assert.equal(stepOf(s, old, [pod('web-0'), pod('web-1', true), pod('web-2')]), 'grow 1: www-web-1→2Mi');
  assert.equal(stepOf(s, old, [pod('web-1'), pod('web-2')]), 'grow 0: www-web-0→2Mi');
});

test('every template of an ordinal grows in the same step', () => {
  const s = set((x) => x.spec.volumeClaimTemplates.push({ metadata: { name: 'logs' }, spec: { resources: { requests: { storage: '4Mi' } } } }));
  const claims = [claim('www-web-2', '1Mi'), claim('logs-web-2', '1Mi'), claim('www-web-1', '2Mi'), claim('logs-web-1', '4Mi'), claim('www-web-0', '2Mi'), claim('logs-web-0', '4Mi')];
  assert.equal(stepOf(s, claims), 'grow 2: www-web-2→2Mi,logs-web-2→4Mi');
});

test('grownClaim copies, claimSizeChanged ignores binding', () => {
  const c = claim('www-web-0', '1Mi');
  const g = grownClaim(c, '2Mi');
  assert.equal(g.spec.resources.requests.storage, '2Mi');
  assert.equal(c.spec.resources.requests.storage, '1Mi');
  assert.equal(claimSizeChanged(claim('x', '1Mi', '', 'Pending'), claim('x', '1Mi')), false, 'becoming bound');
  assert.equal(claimSizeChanged(claim('x', '1Mi'), claim('x', '1Mi', '2Mi')), true);
  assert.equal(claimSizeChanged(claim('x', '1Mi'), claim('x', '2Mi', '1Mi')), true);
  assert.equal(claimSizeChanged(claim('x', '1Mi'), claim('x', '1Mi')), false);
});
