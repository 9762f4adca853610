// The identity checker's core on synthetic listings: overlaps proven by listings, none, overlaps that
// follow a force deletion, sampling gaps, two copies on one runtime, claims, and what counts as a
// deletion the node confirmed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdentityLedger, deletionKind, identityClaims, formatVerdict, type RuntimePod } from '../../src/tools/identity-checker/ledger.ts';

const web1 = (uid: string): RuntimePod => ({ namespace: 'default', name: 'web-1', uid });

/** A pod object as the API shows it; `state` gives its one container's state. */
function apiPod(uid: string, rv: number, node: string, state: 'running' | 'terminated' = 'running', extra: any = {}) {
  return {
    metadata: { name: 'web-1', namespace: 'default', uid, resourceVersion: String(rv), creationTimestamp: '1970-01-01T00:00:00Z', ownerReferences: [{ kind: 'StatefulSet', name: 'web', controller: true }], ...extra.metadata },
    spec: { nodeName: node, volumes: extra.volumes ?? [] },
    status: { containerStatuses: [{ name: 'nginx', state: state === 'running' ? { running: {} } : { terminated: { exitCode: 0 } } }] },
  };
}

/** Listings of `node` every `step` ms over [from, to), each taking 5 ms; `pods(t)` says what runs, undefined = unreachable. */
function listings(l: IdentityLedger, node: string, from: number, to: number, step: number, pods: (t: number) => RuntimePod[] | undefined) {
  for (let t = from; t < to; t += step) {
    const p = pods(t);
    l.addSample({ node, sentAt: t, receivedAt: t + 5, ...(p ? { pods: p } : { error: 'unreachable' }) });
  }
}

test('no overlap: a copy stopped and confirmed before its replacement starts elsewhere', () => {
  const l = new IdentityLedger();
  l.observePod(apiPod('A', 10, 'n1'));
  listings(l, 'n1', 0, 5000, 200, (t) => (t < 2000 ? [web1('A')] : []));
  l.observeDeleted(apiPod('A', 20, 'n1', 'terminated'), 2100);
  l.observePod(apiPod('B', 21, 'n2'));
  listings(l, 'n2', 50, 5000, 200, (t) => (t > 2300 ? [web1('B')] : []));
  const v = l.verdict();
  assert.equal(v.ok, true, formatVerdict(v));
  assert.equal(v.lifetimes.length, 2);
  assert.equal(v.forced.length, 0);
});

test('a hand-over inside one round of listings is not an overlap when the old copy was confirmed stopped', () => {
  // n1 lists A just before it stops and n2 lists B just after it starts, in the same round.
  const build = (confirmed: boolean) => {
    const l = new IdentityLedger();
    l.observePod(apiPod('A', 10, 'n1'));
    l.addSample({ node: 'n1', sentAt: 1000, receivedAt: 1040, pods: [web1('A')] });
    l.addSample({ node: 'n2', sentAt: 1000, receivedAt: 1040, pods: [] });
    l.addSample({ node: 'n1', sentAt: 1200, receivedAt: 1240, pods: [web1('A')] });
    if (confirmed) l.observeDeleted(apiPod('A', 20, 'n1', 'terminated'), 1220);
    else l.observeVanished('A', 1220);
    l.observePod(apiPod('B', 21, 'n2'));
    l.addSample({ node: 'n2', sentAt: 1200, receivedAt: 1240, pods: [web1('B')] });
    l.addSample({ node: 'n1', sentAt: 1400, receivedAt: 1440, pods: [] });
    l.addSample({ node: 'n2', sentAt: 1400, receivedAt: 1440, pods: [web1('B')] });
    return l.verdict();
  };
  const confirmed = build(true);
  assert.equal(confirmed.ok, true, formatVerdict(confirmed));
  // The same listings without knowing how A went: the checker cannot exclude an overlap.
  const unknown = build(false);
  assert.equal(unknown.ok, false);
  assert.equal(unknown.violations.length, 1);
  assert.equal(unknown.violations[0]!.kind, 'possible');
});

test('an overlap both runtimes list is a violation', () => {
  const l = new IdentityLedger();
  listings(l, 'n1', 0, 3000, 200, () => [web1('A')]);
  listings(l, 'n2', 0, 4000, 200, (t) => (t >= 1000 ? [web1('B')] : []));
  const v = l.verdict();
  assert.equal(v.ok, false);
  assert.equal(v.violations.length, 1);
  const o = v.violations[0]!;
  assert.equal(o.kind, 'proven');
  assert.equal(o.identity, 'pod default/web-1');
  assert.ok(o.from >= 1000 && o.to <= 2800, `${o.from}..${o.to}`);
  assert.match(formatVerdict(v), /VIOLATION \(proven\) pod default\/web-1/);
});

test('two copies on one runtime at once is a violation; one after the other is not', () => {
  const l = new IdentityLedger();
  listings(l, 'n1', 0, 1000, 100, (t) => (t < 400 ? [web1('A')] : t < 600 ? [web1('A'), web1('B')] : [web1('B')]));
  const v = l.verdict();
  assert.equal(v.violations.length, 1);
  assert.equal(v.violations[0]!.kind, 'proven');
  const l2 = new IdentityLedger();
  listings(l2, 'n1', 0, 1000, 100, (t) => (t < 400 ? [web1('A')] : t < 500 ? [] : [web1('B')]));
  // Even with nothing known from the API: one runtime's listings are ordered snapshots.
  assert.equal(l2.verdict().ok, true);
  // The same uid going and coming back on one runtime (an agent restart) is one identity, not two.
  const l3 = new IdentityLedger();
  listings(l3, 'n1', 0, 1000, 100, (t) => (t < 400 || t >= 600 ? [web1('A')] : []));
  const v3 = l3.verdict();
  assert.equal(v3.ok, true);
  assert.equal(v3.lifetimes.length, 2);
});

test('after a force delete, the overlap with the old copy on a silent node is reported apart, not as a violation', () => {
  const l = new IdentityLedger();
  l.observePod(apiPod('A', 10, 'n1'));
  // n1 lists A, then is frozen from 1000 to 10000, then lists nothing (it killed A when it came back).
  listings(l, 'n1', 0, 12000, 200, (t) => (t < 1000 ? [web1('A')] : t < 10000 ? undefined : []));
  l.observeDeleted(apiPod('A', 20, 'n1', 'running', { metadata: { deletionGracePeriodSeconds: 0, deletionTimestamp: 'x' } }), 5000);
  l.observePod(apiPod('B', 21, 'n2'));
  listings(l, 'n2', 100, 12000, 200, (t) => (t > 5500 ? [web1('B')] : []));
  const v = l.verdict();
  assert.equal(v.ok, true, formatVerdict(v));
  assert.equal(v.forced.length, 1);
  const f = v.forced[0]!;
  assert.equal(f.kind, 'possible');
  assert.equal(f.forced!.uid, 'A');
  assert.ok(f.from >= 5500 && f.to <= 10010, `${f.from}..${f.to}`);
  assert.equal(v.stats.forceDeletions, 1);
  assert.ok(v.stats.failedSamples > 40);
  assert.match(formatVerdict(v), /forced overlap \(possible\) pod default\/web-1/);

  // Proven as well when the old node is reachable and keeps listing its copy (a partition between
  // the node and the API only): still the forced kind.
  const p = new IdentityLedger();
  p.observePod(apiPod('A', 10, 'n1'));
  listings(p, 'n1', 0, 12000, 200, (t) => (t < 9000 ? [web1('A')] : []));
  p.observeDeleted(apiPod('A', 20, 'n1', 'running', { metadata: { deletionGracePeriodSeconds: 0 } }), 5000);
  p.observePod(apiPod('B', 21, 'n2'));
  listings(p, 'n2', 100, 12000, 200, (t) => (t > 5500 ? [web1('B')] : []));
  const pv = p.verdict();
  assert.equal(pv.ok, true);
  assert.deepEqual(pv.forced.map((o) => o.kind), ['proven']);
});

test('a sampling gap without a force delete or a confirmation fails the check', () => {
  const l = new IdentityLedger();
  l.observePod(apiPod('A', 10, 'n1'));
  listings(l, 'n1', 0, 12000, 200, (t) => (t < 1000 ? [web1('A')] : t < 10000 ? undefined : []));
  l.observeVanished('A', 5000);
  l.observePod(apiPod('B', 21, 'n2'));
  listings(l, 'n2', 100, 12000, 200, (t) => (t > 5500 ? [web1('B')] : []));
  const v = l.verdict();
  assert.equal(v.ok, false);
  assert.equal(v.violations[0]!.kind, 'possible');
  assert.equal(v.violations[0]!.a.mayTo, 10005);
});

test('a gap that ends before the replacement is created is no overlap, whatever the API says', () => {
  const l = new IdentityLedger();
  listings(l, 'n1', 0, 12000, 200, (t) => (t < 1000 ? [web1('A')] : t < 3000 ? undefined : []));
  listings(l, 'n2', 100, 12000, 200, (t) => (t > 5500 ? [web1('B')] : []));
  assert.equal(l.verdict().ok, true);
});

test('a copy listed after its node confirmed its deletion is a violation', () => {
  const l = new IdentityLedger();
  l.observePod(apiPod('A', 10, 'n1'));
  listings(l, 'n1', 0, 4000, 200, () => [web1('A')]);
  l.observeDeleted(apiPod('A', 20, 'n1', 'terminated'), 2000);
  const v = l.verdict();
  assert.equal(v.ok, false);
  assert.equal(v.resurrections.length, 1);
  assert.match(formatVerdict(v), /listed after its node confirmed its deletion/);
});

test('claims of claim templates are part of the identity: two names on one claim overlap', () => {
  const withClaim = (name: string, uid: string, claim: string) => ({
    metadata: { name, namespace: 'default', uid, resourceVersion: '5', ownerReferences: [{ kind: 'StatefulSet', name: 'web', controller: true }] },
    spec: { nodeName: 'n1', volumes: [{ name: 'www', persistentVolumeClaim: { claimName: claim } }, { name: 'shared', persistentVolumeClaim: { claimName: 'shared' } }] },
  });
  assert.deepEqual(identityClaims(withClaim('web-1', 'A', 'www-web-1')), ['www-web-1']);
  assert.deepEqual(identityClaims({ ...withClaim('x', 'A', 'www-x'), metadata: { name: 'x', uid: 'A' } }), [], 'not a StatefulSet pod');
  const l = new IdentityLedger();
  l.observePod(withClaim('web-1', 'A', 'www-web-1'));
  // A misbehaving controller gives another pod the same template claim.
  l.observePod(withClaim('web-x', 'B', 'www-web-1'));
  listings(l, 'n1', 0, 1000, 100, () => [web1('A')]);
  listings(l, 'n2', 0, 1000, 100, () => [{ namespace: 'default', name: 'web-x', uid: 'B' }]);
  const v = l.verdict();
  assert.equal(v.violations.length, 1);
  assert.equal(v.violations[0]!.identity, 'claim default/www-web-1');
});

test('deletions: what the node confirmed, and what it did not', () => {
  assert.equal(deletionKind(apiPod('A', 1, 'n1', 'terminated')).kind, 'confirmed');
  assert.equal(deletionKind(apiPod('A', 1, 'n1', 'running', { metadata: { deletionGracePeriodSeconds: 0 } })).kind, 'forced');
  assert.match(deletionKind(apiPod('A', 1, 'n1', 'running', { metadata: { deletionGracePeriodSeconds: 0 } })).reason, /grace 0\) before node n1 confirmed/);
  // Pod GC marks it Failed, but its containers were never seen stopping.
  assert.equal(deletionKind({ ...apiPod('A', 1, 'n1'), status: { phase: 'Failed', containerStatuses: [{ state: { running: {} } }] } }).kind, 'forced');
  assert.equal(deletionKind({ metadata: { uid: 'A' }, spec: {}, status: {} }).kind, 'confirmed', 'never bound: nothing ran');
  assert.equal(deletionKind({ metadata: { uid: 'A' }, spec: { nodeName: 'n1' }, status: {} }).kind, 'forced', 'bound, never reported: it may run');
});
