// Leader election: the pure decisions (a fake clock), the flags, and the elector's effects against a
// fake Lease store shared by several candidates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  acquireDelay,
  decide,
  DEFAULT_ELECTION_TIMES as T,
  leaseSpec,
  microTime,
  NO_OBSERVATION,
  observe,
  recordFromLease,
  releasedRecord,
  renewalExpired,
  validateElectionTimes,
  wrote,
  type Observation,
} from '../../src/client/leaderelection/decision.ts';
import { LeaderElector } from '../../src/client/leaderelection/elector.ts';
import { parseLeaderElectFlags, takeLeaderElectFlag } from '../../src/cli/leader-elect-flags.ts';
import { elections, electedControllers } from '../../src/cli/elected-controllers.ts';
import { ApiError } from '../../src/apiserver/errors.ts';
import { TermClient, TermEndedError } from '../../src/client/leaderelection/term-client.ts';
import type { Client } from '../../src/client/client.ts';
import type { Obj } from '../../src/api/resource.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const lease = (spec: Obj): Obj => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'kube-controller-manager', namespace: 'kube-system', resourceVersion: '5' }, spec });
const held = (holder: string, renewMs: number, transitions = 0, durationS = 15) =>
  lease({ holderIdentity: holder, leaseDurationSeconds: durationS, acquireTime: microTime(T0), renewTime: microTime(renewMs), leaseTransitions: transitions });

/** Reads `l` at `nowMs` after having observed `prev`, and decides. */
function readAndDecide(me: string, l: Obj | undefined, prev: Observation, nowMs: number) {
  const observed = l ? observe(prev, recordFromLease(l), nowMs) : prev;
  return { observed, d: decide(me, l, observed, nowMs, T) };
}

test('decisions: create, wait, take over after the lease duration of the observed record, renew', () => {
  const cases: { name: string; lease?: Obj; prev?: Observation; now: number; want: string; transitions?: number; acquire?: number }[] = [
    { name: 'no lease: create it', now: T0, want: 'create', transitions: 0, acquire: T0 },
    { name: 'held by another, first seen now: wait the full duration', lease: held('b', T0), now: T0 + 1_000, want: 'wait' },
    // The record was first seen at T0 and has not changed since: 15 s later it is expired, whatever renewTime says.
    { name: 'unchanged for 14.9 s: still wait', lease: held('b', T0), prev: wrote(recordFromLease(held('b', T0)), T0), now: T0 + 14_900, want: 'wait' },
    { name: 'unchanged for 15 s: take over, one more transition', lease: held('b', T0, 3), prev: wrote(recordFromLease(held('b', T0, 3)), T0), now: T0 + 15_000, want: 'update', transitions: 4, acquire: T0 + 15_000 },
    // A renewTime far in the past written by a skewed clock does not count: only the local observation does.
    { name: 'old renewTime, but just seen to change: wait', lease: held('b', T0 - 3_600_000), prev: wrote(recordFromLease(held('b', T0 - 3_601_000)), T0 - 10_000), now: T0, want: 'wait' },
    { name: 'the holder runs a shorter lease: its duration counts', lease: held('b', T0, 0, 5), prev: wrote(recordFromLease(held('b', T0, 0, 5)), T0), now: T0 + 5_000, want: 'update', transitions: 1 },
    { name: 'released (no holder): take it at once', lease: lease({ holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 2 }), now: T0, want: 'update', transitions: 3 },
    { name: 'mine: renew, keeping acquireTime and transitions', lease: held('a', T0, 7), now: T0 + 2_000, want: 'update', transitions: 7, acquire: T0 },
  ];
  for (const c of cases) {
    const { d } = readAndDecide('a', c.lease, c.prev ?? NO_OBSERVATION, c.now);
    assert.equal(d.action, c.want, c.name);
    if (d.action === 'wait') {
      assert.equal(d.holder, 'b', c.name);
      continue;
    }
    assert.equal(d.record.holderIdentity, 'a', c.name);
    assert.equal(d.record.leaseDurationSeconds, 15, c.name);
    assert.equal(d.record.renewTime, microTime(c.now), c.name);
    if (c.transitions !== undefined) assert.equal(d.record.leaderTransitions, c.transitions, c.name);
    if (c.acquire !== undefined) assert.equal(d.record.acquireTime, microTime(c.acquire), c.name);
    if (d.action === 'update') assert.equal(d.renewal, c.lease?.spec.holderIdentity === 'a', c.name);
  }
});

test('observation: a renewal restarts the expiry clock, an unchanged record does not', () => {
  let o = observe(NO_OBSERVATION, recordFromLease(held('b', T0)), T0);
  assert.equal(o.atMs, T0);
  o = observe(o, recordFromLease(held('b', T0)), T0 + 10_000);
  assert.equal(o.atMs, T0, 'same record: the clock keeps running');
  assert.equal(decide('a', held('b', T0), o, T0 + 16_000, T).action, 'update');
  o = observe(o, recordFromLease(held('b', T0 + 12_000)), T0 + 12_000);
  assert.equal(o.atMs, T0 + 12_000, 'renewed: the clock restarts');
  assert.equal(decide('a', held('b', T0 + 12_000), o, T0 + 16_000, T).action, 'wait');
});

test('renew deadline, release, jitter and the Lease spec', () => {
  // A round of retries starts retryPeriod after the last renewal and lasts renewDeadline.
  assert.equal(renewalExpired(T0, T0 + 11_999, T), false);
  assert.equal(renewalExpired(T0, T0 + 12_000, T), true);
  const rel = releasedRecord({ holderIdentity: 'a', leaseDurationSeconds: 15, leaderTransitions: 4 }, T0);
  assert.deepEqual(leaseSpec(rel), { holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 4, acquireTime: microTime(T0), renewTime: microTime(T0) });
  assert.equal(acquireDelay(T, 0), 2_000);
  assert.equal(acquireDelay(T, 1), 4_400);
  assert.equal(microTime(T0 + 123), '2026-01-01T00:00:00.123000Z');
  assert.deepEqual(recordFromLease(lease(leaseSpec({ holderIdentity: 'x', leaseDurationSeconds: 15, leaderTransitions: 2, renewTime: microTime(T0) }))), { holderIdentity: 'x', leaseDurationSeconds: 15, leaderTransitions: 2, renewTime: microTime(T0) });
});

test('election times are validated with client-go messages', () => {
  validateElectionTimes(T);
  assert.throws(() => validateElectionTimes({ ...T, renewDeadlineMs: 15_000 }), /leaseDuration must be greater than renewDeadline/);
  assert.throws(() => validateElectionTimes({ ...T, retryPeriodMs: 9_000 }), /renewDeadline must be greater than retryPeriod\*JitterFactor/);
  assert.throws(() => validateElectionTimes({ ...T, retryPeriodMs: 0 }), /retryPeriod must be greater than zero/);
});

test('flags: Go boolean --leader-elect, durations, defaults, identity', () => {
  assert.deepEqual(takeLeaderElectFlag(['--leader-elect', '--x', 'y']), { rest: ['--x', 'y'], value: true });
  assert.deepEqual(takeLeaderElectFlag(['--leader-elect=false']), { rest: [], value: false });
  assert.deepEqual(takeLeaderElectFlag(['--leader-elect-lease-duration', '5s']), { rest: ['--leader-elect-lease-duration', '5s'], value: undefined });
  assert.throws(() => takeLeaderElectFlag(['--leader-elect=maybe']), /invalid argument "maybe" for "--leader-elect"/);
  const d = parseLeaderElectFlags({}, true, 'h_1');
  assert.deepEqual(d, { enabled: true, leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, namespace: 'kube-system', identity: 'h_1' });
  const f = parseLeaderElectFlags({ 'leader-elect-lease-duration': '6s', 'leader-elect-renew-deadline': '4s', 'leader-elect-retry-period': '1s', 'leader-elect-resource-namespace': 'ha' }, true, 'h_1');
  assert.equal(f.leaseDurationMs, 6_000);
  assert.equal(f.namespace, 'ha');
  assert.throws(() => parseLeaderElectFlags({ 'leader-elect-renew-deadline': '20s' }, true), /leaseDuration must be greater than renewDeadline/);
  assert.throws(() => parseLeaderElectFlags({ 'leader-elect-resource-lock': 'endpoints' }, true), /only "leases"/);
  assert.match(parseLeaderElectFlags({}, false).identity, /^[^_]+_[0-9a-f-]{36}$/);
});

test('the scheduler is elected under kube-scheduler, everything else under kube-controller-manager', () => {
  assert.deepEqual(
    elections(['statefulset', 'scheduler', 'podgc']).map((e) => [e.lease, e.eventSource, e.releaseOnCancel, e.names]),
    [
      ['kube-controller-manager', 'kube-controller-manager', false, ['statefulset', 'podgc']],
      ['kube-scheduler', 'default-scheduler', true, ['scheduler']],
    ],
  );
  assert.deepEqual(elections(['scheduler']).map((e) => e.lease), ['kube-scheduler']);
});

/** A Lease store with optimistic concurrency, as the API server keeps it; `down` makes every call fail. */
class FakeLeases {
  lease: Obj | undefined;
  rv = 1;
  down = new Set<string>();
  events: Obj[] = [];
  client(who: string): Client {
    const self = this;
    const check = () => {
      if (self.down.has(who)) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    };
    return {
      resource: (group: string, plural: string) => ({ group, plural }) as any,
      async get() {
        check();
        if (!self.lease) throw new ApiError(404, 'NotFound', 'leases "x" not found');
        return structuredClone(self.lease);
      },
      async create(r: any, ns: string | undefined, obj: Obj) {
        check();
        if (r.plural === 'events') return self.events.push(obj), obj;
        if (self.lease) throw new ApiError(409, 'AlreadyExists', 'exists');
        self.lease = { ...structuredClone(obj), metadata: { ...obj.metadata, uid: 'u1', resourceVersion: String(++self.rv) } };
        return structuredClone(self.lease);
      },
      async update(_r: any, obj: Obj) {
        check();
        if (obj.metadata.resourceVersion !== self.lease?.metadata.resourceVersion) throw new ApiError(409, 'Conflict', 'conflict');
        self.lease = { ...structuredClone(obj), metadata: { ...obj.metadata, resourceVersion: String(++self.rv) } };
        return structuredClone(self.lease);
      },
      async patch() {
        return {};
      },
    } as unknown as Client;
  }
}

const until = async (cond: () => boolean, ms = 5_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

test('elector: one of two candidates leads; a cut-off leader stops within the renew deadline and the other takes over', async (t) => {
  const store = new FakeLeases();
  const times = { leaseDurationMs: 1_500, renewDeadlineMs: 1_000, retryPeriodMs: 250 };
  const log: string[] = [];
  const make = (id: string) =>
    new LeaderElector(store.client(id), {
      ...times,
      namespace: 'kube-system',
      name: 'kube-controller-manager',
      identity: id,
      eventSource: 'kube-controller-manager',
      onStartedLeading: () => void log.push(`${id} started`),
      onStoppedLeading: () => void log.push(`${id} stopped`),
    });
  const a = make('a');
  a.start();
  await until(() => a.isLeader);
  const b = make('b');
  t.after(() => Promise.all([a.stop(), b.stop()]));
  b.start();
  await new Promise((r) => setTimeout(r, 700));
  assert.equal(b.isLeader, false);
  assert.equal(b.leader, 'a');
  assert.equal(store.lease!.spec.holderIdentity, 'a');
  assert.equal(store.lease!.spec.leaseTransitions, 0);
  // a can no longer reach the API: it stops leading within retryPeriod + renewDeadline, and b takes over
  // once the record has not changed for a lease duration.
  const cut = Date.now();
  store.down.add('a');
  await until(() => log.includes('a stopped'));
  const stoppedAfter = Date.now() - cut;
  assert.ok(stoppedAfter <= times.retryPeriodMs + times.renewDeadlineMs + 300, `a stopped after ${stoppedAfter} ms`);
  await until(() => b.isLeader);
  const tookOver = Date.now() - cut;
  // b sees a's last renewal at its next (jittered) try, then waits the lease duration, then up to one more try.
  assert.ok(tookOver <= times.leaseDurationMs + 2 * 2.2 * times.retryPeriodMs + 300, `b took over after ${tookOver} ms`);
  assert.equal(store.lease!.spec.holderIdentity, 'b');
  assert.equal(store.lease!.spec.leaseTransitions, 1);
  assert.deepEqual(log, ['a started', 'a stopped', 'b started']);
  // A stopped candidate never leads again; events say who became leader.
  store.down.delete('a');
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(a.isLeader, false);
  assert.deepEqual(store.events.map((e) => [e.reason, e.message, e.involvedObject.kind, e.involvedObject.name, e.source.component]), [
    ['LeaderElection', 'a became leader', 'Lease', 'kube-controller-manager', 'kube-controller-manager'],
    ['LeaderElection', 'b became leader', 'Lease', 'kube-controller-manager', 'kube-controller-manager'],
  ]);
  await b.stop();
  assert.deepEqual(log, ['a started', 'a stopped', 'b started', 'b stopped']);
});

test('elector: with releaseOnCancel a stopping leader clears the holder and the next candidate leads at once', async (t) => {
  const store = new FakeLeases();
  const times = { leaseDurationMs: 5_000, renewDeadlineMs: 400, retryPeriodMs: 100 };
  const make = (id: string) =>
    new LeaderElector(store.client(id), { ...times, namespace: 'kube-system', name: 'kube-scheduler', identity: id, eventSource: 'default-scheduler', releaseOnCancel: true, onStartedLeading: () => {}, onStoppedLeading: () => {} });
  const a = make('a');
  a.start();
  await until(() => a.isLeader);
  const b = make('b');
  t.after(() => Promise.all([a.stop(), b.stop()]));
  b.start();
  await new Promise((r) => setTimeout(r, 200));
  await a.stop();
  assert.equal(store.lease!.spec.holderIdentity, '');
  assert.equal(store.lease!.spec.leaseDurationSeconds, 1);
  const released = Date.now();
  await until(() => b.isLeader, 2_000);
  assert.ok(Date.now() - released < 1_000, 'well within the 5 s lease duration');
  await b.stop();
});

test('elected controllers (ordinal up --leader-elect): a fresh set starts each term; a lost lease stops them and the process campaigns again', async (t) => {
  const store = new FakeLeases();
  const log: string[] = [];
  let made = 0;
  const make = (name: string) => {
    const n = ++made;
    return { start: async () => void log.push(`start ${name}#${n}`), stop: () => void log.push(`stop ${name}#${n}`) };
  };
  const flags = { enabled: true, leaseDurationMs: 1_500, renewDeadlineMs: 1_000, retryPeriodMs: 250, namespace: 'kube-system', identity: 'up_1' };
  const groups = electedControllers(store.client('up'), ['statefulset', 'podgc'], make, flags, 'campaign');
  t.after(() => groups.forEach((g) => g.stop()));
  assert.equal(groups.length, 1);
  await groups[0]!.start();
  await until(() => log.length === 2);
  assert.deepEqual(log, ['start statefulset#1', 'start podgc#2']);
  store.down.add('up');
  await until(() => log.length === 4);
  assert.deepEqual(log.slice(2), ['stop statefulset#1', 'stop podgc#2']);
  store.down.delete('up');
  // Its own unexpired record: the same identity renews it and leads again with new instances.
  await until(() => log.length === 6);
  assert.deepEqual(log.slice(4), ['start statefulset#3', 'start podgc#4']);
  groups[0]!.stop();
  assert.deepEqual(log.slice(6), ['stop statefulset#3', 'stop podgc#4']);
});

test('elected controllers: each term writes through a fenced client; a lost term can no longer write, the next term can', async (t) => {
  const store = new FakeLeases();
  const clients: Client[] = [];
  const make = (_name: string, fence: (c: Client) => Client) => {
    const c = fence(store.client('up'));
    clients.push(c);
    return { start: async () => {}, stop: () => {} };
  };
  const flags = { enabled: true, leaseDurationMs: 1_500, renewDeadlineMs: 1_000, retryPeriodMs: 250, namespace: 'kube-system', identity: 'up_1' };
  const groups = electedControllers(store.client('up'), ['statefulset'], make, flags, 'campaign');
  t.after(() => groups.forEach((g) => g.stop()));
  await groups[0]!.start();
  await until(() => clients.length === 1);
  const events = (c: Client) => c.create({ group: '', plural: 'events' } as any, 'default', { metadata: { name: 'e' } });
  await events(clients[0]!);
  store.down.add('up');
  // The sync of the old term still running when the lease is lost: its next write is refused here.
  await until(() => (clients[0] as TermClient).fenced);
  store.down.delete('up');
  await assert.rejects(events(clients[0]!), TermEndedError);
  await assert.rejects(clients[0]!.update({ group: '', plural: 'pods' } as any, { metadata: { name: 'p' } }, 'status'), /leadership term ended: not sending update pods\/status/);
  await until(() => clients.length === 2);
  assert.equal((clients[1] as TermClient).fenced, false);
  await events(clients[1]!);
  groups[0]!.stop();
  assert.equal((clients[1] as TermClient).fenced, true, 'stopping the process ends its term too');
});

test('a fenced term client closes its watches and delivers nothing more', () => {
  let deliver: ((type: any, obj: Obj) => void) | undefined;
  let cancelled = 0;
  const inner = {
    watch: (_r: any, _o: any, onEvent: (type: any, obj: Obj) => void) => {
      deliver = onEvent;
      return () => void cancelled++;
    },
  } as unknown as Client;
  const term = new TermClient(inner);
  const seen: string[] = [];
  let closed = 0;
  term.watch({ group: '', plural: 'pods' } as any, { resourceVersion: '1' }, (type) => void seen.push(type), () => void closed++);
  deliver!('ADDED', { metadata: {} });
  term.end();
  deliver!('MODIFIED', { metadata: {} });
  assert.deepEqual(seen, ['ADDED']);
  assert.equal(cancelled, 1);
  assert.equal(closed, 0, 'an informer of the ended term is not told to retry');
  const cancel = term.watch({ group: '', plural: 'pods' } as any, { resourceVersion: '1' }, () => {}, () => {});
  cancel();
  assert.equal(cancelled, 1, 'no new watch is opened once fenced');
});
