// The audit policy's rule matching and validation, and the log's rotation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluatePolicy, parsePolicy } from '../../src/apiserver/audit/policy.ts';
import { AuditLogWriter } from '../../src/apiserver/audit/log-writer.ts';
import { failedAuthenticationMessage, isLongRunning } from '../../src/apiserver/audit/stages.ts';
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

test('stages: long-running requests as kube-apiserver counts them', () => {
  const lr = (method: string, url: string) => {
    const u = new URL(url, 'https://x');
    return isLongRunning(requestAttributes(bob, method, u.pathname, u.searchParams));
  };
  assert.equal(lr('GET', '/api/v1/namespaces/d/pods?watch=true'), true);
  assert.equal(lr('GET', '/api/v1/watch/namespaces/d/pods'), true);
  assert.equal(lr('GET', '/api/v1/namespaces/d/pods/p/log'), true, 'logs, followed or not');
  assert.equal(lr('POST', '/api/v1/namespaces/d/pods/p/exec'), true);
  assert.equal(lr('GET', '/api/v1/namespaces/d/pods/p/attach'), true);
  assert.equal(lr('POST', '/api/v1/namespaces/d/pods/p/portforward'), true);
  assert.equal(lr('GET', '/api/v1/nodes/n/proxy/pods'), true);
  assert.equal(lr('GET', '/api/v1/namespaces/d/pods?watch=false'), false);
  assert.equal(lr('GET', '/api/v1/namespaces/d/pods/p'), false);
  assert.equal(lr('PUT', '/api/v1/namespaces/d/pods/p/status'), false);
  assert.equal(lr('GET', '/healthz'), false);
});

test('stages: the message of a failed authentication names what was tried, in upstream order', () => {
  const q = (s = '') => new URLSearchParams(s);
  assert.equal(failedAuthenticationMessage(undefined, q(), false), 'Authentication failed, no credentials provided');
  assert.equal(failedAuthenticationMessage('Bearer abc', q(), false), 'Authentication failed, attempted: bearer');
  assert.equal(failedAuthenticationMessage('  bearer abc ', q(), false), 'Authentication failed, attempted: bearer');
  assert.equal(failedAuthenticationMessage('Bearer', q(), false), 'Authentication failed, no credentials provided', 'a scheme without a token is nothing');
  assert.equal(failedAuthenticationMessage(`Basic ${Buffer.from('u:p').toString('base64')}`, q(), true), 'Authentication failed, attempted: basic, x509');
  assert.equal(failedAuthenticationMessage('Basic not*base64', q(), false), 'Authentication failed, no credentials provided');
  assert.equal(failedAuthenticationMessage(`Basic ${Buffer.from('nocolon').toString('base64')}`, q(), false), 'Authentication failed, no credentials provided');
  assert.equal(failedAuthenticationMessage('Bearer t', q('access_token=x'), true), 'Authentication failed, attempted: bearer, access_token, x509');
  assert.equal(failedAuthenticationMessage(undefined, q('access_token=%20'), false), 'Authentication failed, no credentials provided');
});

test('policy: a request without a user matches no rule limited to users or groups', () => {
  const p = parsePolicy(`
apiVersion: audit.k8s.io/v1
kind: Policy
rules:
- level: RequestResponse
  userGroups: ["system:unauthenticated"]
- level: Request
  users: [""]
- level: Metadata
  resources: [{ group: "", resources: ["pods"] }]
`);
  const a = requestAttributes({ user: '', groups: [] }, 'GET', '/api/v1/pods', new URLSearchParams());
  assert.equal(evaluatePolicy(p, undefined, a).level, 'Metadata');
  assert.equal(evaluatePolicy(p, undefined, requestAttributes({ user: '', groups: [] }, 'GET', '/api/v1/nodes', new URLSearchParams())).level, 'None');
});
