// The audit policy's rule matching and validation, and the log's rotation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluatePolicy, parsePolicy } from '../../src/apiserver/audit/policy.ts';
import { AuditLogWriter } from '../../src/apiserver/audit/log-writer.ts';
import { requestAttributes } from '../../src/apiserver/authorization/attributes.ts';

const bob = { user: 'bob', groups: ['dev', 'system:authenticated'] };
const attrs = (method: string, path: string) => requestAttributes(bob, method, path, new URLSearchParams());

test('policy: the first matching rule gives the level; stages are unioned', () => {
  const p = parsePolicy(`
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  users: [alice]
- level: RequestResponse
  userGroups: [dev]
  resources: [{ group: "", resources: ["pods/log", "secrets"], resourceNames: ["s1"] }]
  omitStages: [ResponseStarted]
- level: Request
  verbs: [delete]
  namespaces: [prod]
- level: None
  nonResourceURLs: ["/healthz*"]
- level: Metadata
  resources: [{ group: apps, resources: ["*/scale"] }]
`);
  const level = (method: string, path: string) => evaluatePolicy(p, bob, attrs(method, path)).level;
  assert.equal(level('GET', '/api/v1/namespaces/a/secrets/s1'), 'RequestResponse');
  assert.equal(level('GET', '/api/v1/namespaces/a/secrets/s2'), 'None');
  assert.equal(level('DELETE', '/api/v1/namespaces/prod/pods/p'), 'Request');
  assert.equal(level('DELETE', '/api/v1/namespaces/dev/pods/p'), 'None');
  assert.equal(level('GET', '/healthz/etcd'), 'None');
  assert.equal(level('PUT', '/apis/apps/v1/namespaces/a/statefulsets/web/scale'), 'Metadata');
  assert.equal(level('PUT', '/apis/apps/v1/namespaces/a/statefulsets/web'), 'None');
  assert.deepEqual(evaluatePolicy(p, bob, attrs('GET', '/api/v1/namespaces/a/secrets/s1')).omitStages.sort(), ['RequestReceived', 'ResponseStarted']);
  assert.equal(evaluatePolicy(p, { user: 'alice', groups: ['dev'] }, attrs('GET', '/api/v1/namespaces/a/secrets/s1')).level, 'None');
});

test('policy: upstream validation messages', () => {
  assert.throws(() => parsePolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\n'), /loaded illegal policy with 0 rules/);
  assert.throws(() => parsePolicy('rules: [{ level: Metadata, nonResourceURLs: ["/a"], namespaces: [x] }]'), /rules cannot apply to both regular resources and non-resource URLs/);
  assert.throws(() => parsePolicy('rules: [{ level: Metadata, nonResourceURLs: ["a"] }]'), /non-resource URL rules must begin with a '\/' character/);
  assert.throws(() => parsePolicy('rules: [{ level: Metadata, nonResourceURLs: ["/a*/b"] }]'), /non-resource URL wildcards '\*' must be the final character of the rule/);
  assert.throws(() => parsePolicy('rules: [{ level: Metadata, resources: [{ resourceNames: [x] }] }]'), /using resourceNames requires at least one resource/);
  assert.throws(() => parsePolicy('rules: [{ level: Loud }]'), /rules\[0\]\.level: Unsupported value: "Loud"/);
});

test('log: rotates past maxsize and keeps maxbackup copies', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ordinal-audit-log-'));
  const path = join(dir, 'audit.log');
  const w = new AuditLogWriter({ path, maxSizeMB: 1, maxBackups: 2 });
  const line = 'x'.repeat(100 * 1024);
  for (let i = 0; i < 45; i++) w.write(`${i} ${line}`);
  w.close();
  const files = readdirSync(dir).sort();
  assert.equal(files.length, 3, files.join(' '));
  for (const f of files.filter((f) => f !== 'audit.log')) assert.match(f, /^audit-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}\.log$/);
  const current = readFileSync(path, 'utf8').trim().split('\n');
  assert.ok(current.length <= 10);
  assert.match(current.at(-1)!, /^44 /);
});
