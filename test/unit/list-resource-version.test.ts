import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideListRead, parseResourceVersion, tooLargeResourceVersion, type ListParams } from '../../src/apiserver/list/resource-version.ts';
import { stateAt } from '../../src/apiserver/list/snapshot.ts';
import { decodeContinue, encodeContinue, expiredContinue } from '../../src/apiserver/list/continue.ts';
import { ApiError } from '../../src/apiserver/errors.ts';
import type { CacheEvent, CachedObject } from '../../src/storage/cache.ts';

function failure(p: ListParams): { code: number; reason: string; message: string } {
  try {
    decideListRead(p);
  } catch (err) {
    assert.ok(err instanceof ApiError);
    return { code: err.code, reason: err.reason, message: err.message };
  }
  assert.fail(`expected ${JSON.stringify(p)} to fail`);
}

test('ListOptions validation: upstream codes and messages, failures aggregated', () => {
  assert.deepEqual(failure({ resourceVersionMatch: 'Exact' }), {
    code: 422,
    reason: 'Invalid',
    message: 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided',
  });
  assert.equal(failure({ resourceVersion: '0', resourceVersionMatch: 'Exact' }).message, 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"');
  assert.equal(failure({ resourceVersion: '5', resourceVersionMatch: 'exact' }).message, 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Unsupported value: "exact": supported values: "Exact", "NotOlderThan", ""');
  assert.equal(failure({ resourceVersion: '5', resourceVersionMatch: 'NotOlderThan', continue: 'abc' }).message, 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided');
  assert.equal(
    failure({ resourceVersionMatch: 'Bogus', continue: 'x' }).message,
    'ListOptions.meta.k8s.io "" is invalid: [resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided, resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided, resourceVersionMatch: Unsupported value: "Bogus": supported values: "Exact", "NotOlderThan", ""]',
  );
});

test('a continue token: a version with it is refused (after the token decodes), unless "0"', () => {
  assert.deepEqual(decideListRead({ resourceVersion: '7', continue: 'tok' }), { kind: 'continue', versioned: true });
  assert.deepEqual(decideListRead({ resourceVersion: '0', continue: 'tok', limit: 5 }), { kind: 'continue', versioned: false });
  assert.deepEqual(decideListRead({ continue: 'tok' }), { kind: 'continue', versioned: false });
});

test('continue tokens: upstream layout, relative keys, upstream errors', () => {
  const prefix = '/registry/core/configmaps/ns/';
  const token = encodeContinue(42, `${prefix}b`, prefix);
  assert.deepEqual(JSON.parse(Buffer.from(token, 'base64url').toString()), { v: 'meta.k8s.io/v1', rv: 42, start: 'b\u0000' });
  assert.doesNotMatch(token, /=/);
  assert.deepEqual(decodeContinue(token, prefix), { rv: 42, afterKey: `${prefix}b` });
  // A token only reaches into the list it is used with.
  assert.deepEqual(decodeContinue(token, '/registry/core/configmaps/other/'), { rv: 42, afterKey: '/registry/core/configmaps/other/b' });
  const err = (t: string) => {
    try {
      decodeContinue(t, prefix);
    } catch (e) {
      assert.ok(e instanceof ApiError);
      assert.equal(e.code, 400);
      return e.message;
    }
    assert.fail('expected a 400');
  };
  // The replacement an expired token's 410 carries: same place, latest revision.
  const expired = expiredContinue(`${prefix}b`, prefix);
  assert.equal(expired.code, 410);
  assert.equal(expired.reason, 'Expired');
  assert.deepEqual(decodeContinue((expired.toStatus().metadata as any).continue, prefix), { rv: -1, afterKey: `${prefix}b` });
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const pre = 'invalid continue token: continue key is not valid';
  assert.equal(err('abc$'), `${pre}: illegal base64 data at input byte 3`);
  assert.equal(err('abcde'), `${pre}: illegal base64 data at input byte 4`);
  assert.equal(err('not-a-token'), `${pre}: invalid character '\\u009e' looking for beginning of value`);
  assert.equal(err(enc({ v: 'meta.k8s.io/v2', rv: 1, start: 'a' })), `${pre}: server does not recognize this encoded version meta.k8s.io/v2`);
  assert.equal(err(enc({ v: 'meta.k8s.io/v1', start: 'a' })), `${pre}: incorrect encoded start resourceVersion (version meta.k8s.io/v1)`);
  assert.equal(err(enc({ v: 'meta.k8s.io/v1', rv: 3 })), `${pre}: encoded start key empty (version meta.k8s.io/v1)`);
  assert.equal(err(enc({ v: 'meta.k8s.io/v1', rv: 3, start: '../secrets/x' })), `${pre}: ../secrets/x`);
});

test('unparsable versions: 500 from the watch cache path, 400 from the etcd path', () => {
  const why = 'resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax';
  assert.deepEqual(failure({ resourceVersion: 'abc' }), { code: 500, reason: '', message: why });
  assert.deepEqual(failure({ resourceVersion: 'abc', resourceVersionMatch: 'NotOlderThan' }), { code: 500, reason: '', message: why });
  assert.deepEqual(failure({ resourceVersion: 'abc', resourceVersionMatch: 'Exact' }), { code: 400, reason: 'BadRequest', message: `invalid resource version: ${why}` });
  assert.deepEqual(failure({ resourceVersion: 'abc', limit: 10 }), { code: 400, reason: 'BadRequest', message: `invalid resource version: ${why}` });
  assert.equal(parseResourceVersion('-1'), 'resourceVersion: Invalid value: "-1": strconv.ParseUint: parsing "-1": invalid syntax');
  assert.equal(parseResourceVersion('18446744073709551616'), 'resourceVersion: Invalid value: "18446744073709551616": strconv.ParseUint: parsing "18446744073709551616": value out of range');
  assert.equal(parseResourceVersion('18446744073709551615'), 18446744073709551615);
  assert.equal(parseResourceVersion('0042'), 42);
});

test('the decision table', () => {
  const cases: [ListParams, unknown][] = [
    [{}, { kind: 'consistent' }],
    [{ limit: 5 }, { kind: 'consistent' }],
    [{ resourceVersion: '0' }, { kind: 'any' }],
    [{ resourceVersion: '0', limit: 5 }, { kind: 'any' }],
    [{ resourceVersion: '0', resourceVersionMatch: 'NotOlderThan' }, { kind: 'any' }],
    // "00" is 0 to the parser but not "0" to validation and routing: etcd reads the latest, paged.
    [{ resourceVersion: '00' }, { kind: 'any' }],
    [{ resourceVersion: '00', limit: 5 }, { kind: 'notOlderThan', rv: 0, paged: true }],
    [{ resourceVersion: '00', resourceVersionMatch: 'Exact' }, { kind: 'notOlderThan', rv: 0, paged: true }],
    [{ resourceVersion: '12' }, { kind: 'notOlderThan', rv: 12, paged: false }],
    [{ resourceVersion: '12', resourceVersionMatch: 'NotOlderThan' }, { kind: 'notOlderThan', rv: 12, paged: false }],
    [{ resourceVersion: '12', resourceVersionMatch: 'NotOlderThan', limit: 5 }, { kind: 'notOlderThan', rv: 12, paged: true }],
    [{ resourceVersion: '12', resourceVersionMatch: 'Exact' }, { kind: 'exact', rv: 12 }],
    [{ resourceVersion: '12', resourceVersionMatch: 'Exact', limit: 5 }, { kind: 'exact', rv: 12 }],
    // Legacy: a paged list at a version is exact.
    [{ resourceVersion: '12', limit: 5 }, { kind: 'exact', rv: 12 }],
  ];
  for (const [p, want] of cases) assert.deepEqual(decideListRead(p), want, JSON.stringify(p));
});

const obj = (name: string, rv: number, v = '') => ({ metadata: { name, resourceVersion: String(rv) }, v });
const cached = (key: string, o: any): CachedObject => ({ key, obj: o, modRev: Number(o.metadata.resourceVersion) });

test('stateAt undoes later changes: additions, modifications, deletions and re-creations', () => {
  const a1 = obj('a', 1);
  const b2 = obj('b', 2);
  const a3 = obj('a', 3, 'changed');
  const c4 = obj('c', 4);
  const b6 = obj('b', 6, 'again');
  const events: CacheEvent[] = [
    { type: 'MODIFIED', rev: 3, key: '/p/a', obj: a3, prevObj: a1 },
    { type: 'ADDED', rev: 4, key: '/p/c', obj: c4 },
    { type: 'DELETED', rev: 5, key: '/p/b', obj: obj('b', 5), prevObj: b2 },
    { type: 'ADDED', rev: 6, key: '/p/b', obj: b6 },
    { type: 'ADDED', rev: 7, key: '/q/x', obj: obj('x', 7) },
  ];
  const current = [cached('/p/a', a3), cached('/p/b', b6), cached('/p/c', c4)];
  const names = (s: CachedObject[] | undefined) => s?.map((c) => `${c.obj.metadata.name}@${c.obj.metadata.resourceVersion}`);
  assert.deepEqual(names(stateAt(current, events, 2, '/p/')), ['a@1', 'b@2']);
  assert.deepEqual(names(stateAt(current, events.slice(1), 3, '/p/')), ['a@3', 'b@2']);
  assert.deepEqual(names(stateAt(current, events.slice(2), 4, '/p/')), ['a@3', 'b@2', 'c@4']);
  assert.deepEqual(names(stateAt(current, events.slice(3), 5, '/p/')), ['a@3', 'c@4']);
  assert.deepEqual(names(stateAt(current, events.slice(4), 6, '/p/')), ['a@3', 'b@6', 'c@4']);
  assert.equal(stateAt(current, undefined, 2, '/p/'), undefined, 'history gone');
  // A change that does not carry what it replaced cannot be undone.
  assert.equal(stateAt(current, [{ type: 'MODIFIED', rev: 3, key: '/p/a', obj: a3 }], 2, '/p/'), undefined);
});

test('too large resource version: upstream\'s Timeout status, with a retry hint only when given', () => {
  assert.deepEqual(tooLargeResourceVersion(90, 12, 1).toStatus(), {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'Timeout: Too large resource version: 90, current: 12',
    reason: 'Timeout',
    details: { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 },
    code: 504,
  });
  assert.equal((tooLargeResourceVersion(90, 12).toStatus().details as any).retryAfterSeconds, undefined);
});
