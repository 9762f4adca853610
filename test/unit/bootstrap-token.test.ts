import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkToken, expiration, generateToken, groupsOf, parseToken, tokenSecret } from '../../src/bootstraptoken/token.ts';
import { shortHumanDuration, tokenTable } from '../../src/cli/token.ts';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const b64 = (s: string) => Buffer.from(s).toString('base64');
function secret(data: Record<string, string>, extra: Record<string, unknown> = {}) {
  return { metadata: { name: `bootstrap-token-${data['token-id'] ?? 'x'}`, namespace: 'kube-system' }, type: 'bootstrap.kubernetes.io/token', data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])), ...extra };
}
const good = { 'token-id': 'abcdef', 'token-secret': '0123456789abcdef', 'usage-bootstrap-authentication': 'true' };
const tok = { id: 'abcdef', secret: '0123456789abcdef' };

test('parseToken accepts only [a-z0-9]{6}.[a-z0-9]{16}', () => {
  assert.deepEqual(parseToken('abcdef.0123456789abcdef'), tok);
  for (const bad of ['ABCDEF.0123456789abcdef', 'abcde.0123456789abcdef', 'abcdef.0123456789abcde', 'abcdef0123456789abcdef', 'eyJhbGciOi.x.y']) assert.equal(parseToken(bad), undefined, bad);
  const g = generateToken();
  assert.deepEqual(parseToken(`${g.id}.${g.secret}`), g);
});

test('checkToken: a valid token is system:bootstrap:<id> in system:bootstrappers and its extra groups', () => {
  const d = checkToken(tok, secret({ ...good, 'auth-extra-groups': 'system:bootstrappers:a, system:bootstrappers:b,system:bootstrappers:a', expiration: '2026-01-02T00:00:00Z' }), NOW);
  assert.deepEqual(d, { ok: true, user: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:bootstrappers:a', 'system:bootstrappers:b'] });
});

test('checkToken refuses, with upstream reasons', () => {
  const cases: [string, object | undefined][] = [
    ['No secret of name kube-system/bootstrap-token-abcdef', undefined],
    ['is deleted and awaiting removal', secret(good, { metadata: { name: 'bootstrap-token-abcdef', deletionTimestamp: '2025-01-01T00:00:00Z' } })],
    ['has invalid type', secret(good, { type: 'Opaque' })],
    ['has invalid value for key token-secret.', secret({ ...good, 'token-secret': 'ffffffffffffffff' })],
    ['has invalid value for key token-id.', secret({ ...good, 'token-id': 'zzzzzz' })],
    ['has expired.', secret({ ...good, expiration: '2025-12-31T23:59:59Z' })],
    ['has expired.', secret({ ...good, expiration: 'tomorrow' })],
    ['not marked usage-bootstrap-authentication=true.', secret({ ...good, 'usage-bootstrap-authentication': 'false' })],
    ['has invalid value for key auth-extra-groups', secret({ ...good, 'auth-extra-groups': 'system:masters' })],
  ];
  for (const [reason, s] of cases) {
    const d = checkToken(tok, s as never, NOW);
    assert.equal(d.ok, false);
    assert.ok(!d.ok && d.reason.includes(reason), `${reason}: ${!d.ok && d.reason}`);
  }
});

test('expiration and groups', () => {
  assert.deepEqual(expiration(secret(good), NOW), { expired: false });
  assert.deepEqual(expiration(secret({ ...good, expiration: '2026-01-01T01:00:00+01:00' }), NOW), { expired: true });
  assert.deepEqual(expiration(secret({ ...good, expiration: '2026-01-01T00:00:10Z' }), NOW), { ttlMs: 10_000, expired: false });
  assert.match(groupsOf(secret({ ...good, 'auth-extra-groups': 'system:bootstrappers:' })).error!, /is invalid \(must match/);
});

test('tokenSecret is the Secret kubeadm writes; token list renders kubeadm columns', () => {
  const s = tokenSecret({ token: tok, ttlMs: 24 * 3600_000, description: 'd', groups: ['system:bootstrappers:x'], nowMs: NOW + 400 });
  assert.equal(s.metadata.name, 'bootstrap-token-abcdef');
  assert.equal(s.type, 'bootstrap.kubernetes.io/token');
  const dec = Object.fromEntries(Object.entries(s.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
  assert.deepEqual(dec, { 'token-id': 'abcdef', 'token-secret': '0123456789abcdef', description: 'd', expiration: '2026-01-02T00:00:00Z', 'usage-bootstrap-signing': 'true', 'usage-bootstrap-authentication': 'true', 'auth-extra-groups': 'system:bootstrappers:x' });
  assert.deepEqual(checkToken(tok, s, NOW + 1000), { ok: true, user: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:bootstrappers:x'] });
  const table = tokenTable([s, tokenSecret({ token: { id: 'zzzzzz', secret: 'yyyyyyyyyyyyyyyy' }, ttlMs: 0, groups: [], usages: [], nowMs: NOW })], NOW + 3600_000);
  assert.deepEqual(table.split('\n').map((l) => l.split(/ {3,}/)), [
    ['TOKEN', 'TTL', 'EXPIRES', 'USAGES', 'DESCRIPTION', 'EXTRA GROUPS'],
    ['abcdef.0123456789abcdef', '23h', '2026-01-02T00:00:00Z', 'authentication,signing', 'd', 'system:bootstrappers:x'],
    ['zzzzzz.yyyyyyyyyyyyyyyy', '<forever>', '<never>', '<none>', '<none>', '<none>'],
    [''],
  ]);
  assert.deepEqual([59_999, 60_000, 3600_000 * 23.5, 3600_000 * 48, 3600_000 * 24 * 400].map(shortHumanDuration), ['59s', '1m', '23h', '2d', '1y']);
});
