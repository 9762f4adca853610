// The audit log (--audit-policy-file, --audit-log-path), read back as an operator would: one JSON
// event a line, for an allowed request, a refused one and an impersonated one.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import https from 'node:https';
import { startCluster, stopCluster, removeCluster, kubectl, kubectlOk, tempDir, api, waitUntil, type Cluster } from './harness.ts';

let c: Cluster;
after(async () => {
  if (c) {
    await stopCluster(c);
    removeCluster(c);
  }
});

const POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  nonResourceURLs: ["/healthz*", "/version", "/openapi*", "/api", "/api/*", "/apis", "/apis/*"]
- level: None
  userGroups: ["system:serviceaccounts:kube-system", "system:nodes"]
- level: RequestResponse
  resources: [{ group: "", resources: ["configmaps"] }]
- level: Metadata
`;

test('audit: allowed, refused and impersonated requests each leave a line', { timeout: 120_000 }, async () => {
  const dir = tempDir('ordinal-audit-');
  const policy = join(dir, 'policy.yaml');
  const log = join(dir, 'audit.log');
  writeFileSync(policy, POLICY);
  c = await startCluster({ args: ['--nodes', '0', '--audit-policy-file', policy, '--audit-log-path', log] });
  await kubectlOk(c, ['create', 'configmap', 'settings', '--from-literal=a=b']);
  await kubectlOk(c, ['get', 'pods']);
  const refused = await kubectl(c, ['get', 'secrets', '--as=jane']);
  assert.match(refused.stderr, /secrets is forbidden: User "jane" cannot list resource "secrets"/);
  // A watch that the server ends after a second, one refused before it starts, and two requests
  // that fail authentication: a wrong bearer token, and no credentials at all.
  const watched = await api(c, 'GET', '/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1');
  assert.equal(watched.status, 200);
  const watchRefused = await api(c, 'GET', '/api/v1/namespaces/default/secrets?watch=true', undefined, { 'Impersonate-User': 'jane' });
  assert.equal(watchRefused.status, 403);
  assert.equal((await anonymous(c, '/api/v1/namespaces/default/pods?watch=true', { Authorization: 'Bearer not-a-token' })).status, 401);
  assert.equal((await anonymous(c, '/api/v1/nodes')).status, 401);
  // exec is an upgrade, answered on the raw socket: refused by authorization (jane may read the pod,
  // not exec into it), and allowed but failing (the pod is not running: there are no nodes).
  await kubectlOk(c, ['run', 'idle', '--image=busybox']);
  await kubectlOk(c, ['create', 'role', 'pod-reader', '--verb=get', '--resource=pods']);
  await kubectlOk(c, ['create', 'rolebinding', 'jane-reads', '--role=pod-reader', '--user=jane']);
  const execRefused = await kubectl(c, ['exec', 'idle', '--as=jane', '--', 'ls']);
  assert.match(execRefused.stderr, /pods "idle" is forbidden: User "jane" cannot create resource "pods\/exec"/);
  const execFailed = await kubectl(c, ['exec', 'idle', '--', 'ls']);
  assert.match(execFailed.stderr, /pod idle does not have a host assigned/);
  // A watch's ResponseComplete is written when it ends, not when it starts; an upgrade's when the
  // server sees its connection close, which may come after kubectl has exited.
  const completed = (match: (l: string) => boolean) => readFileSync(log, 'utf8').split('\n').filter((l) => match(l) && l.includes('ResponseComplete')).length;
  await waitUntil(() => completed((l) => l.includes('"watch"')) >= 2, 10_000, () => 'watch ResponseComplete events');
  await waitUntil(() => completed((l) => l.includes('"subresource":"exec"')) >= 4, 10_000, () => 'exec ResponseComplete events');

  const events = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  for (const e of events) {
    assert.equal(e.kind, 'Event');
    assert.equal(e.apiVersion, 'audit.k8s.io/v1');
    // RequestReceived is omitted by the policy; only long-running requests and failed authentications have ResponseStarted.
    if (e.stage === 'ResponseStarted') assert.ok(e.verb === 'watch' || e.objectRef?.subresource === 'exec' || e.responseStatus.code === 401, JSON.stringify(e));
    else assert.equal(e.stage, 'ResponseComplete');
    assert.match(e.auditID, /^[0-9a-f-]{36}$/);
    assert.match(e.requestReceivedTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  }
  const create = events.find((e) => e.verb === 'create' && e.objectRef?.resource === 'configmaps');
  assert.ok(create, 'the configmap create');
  assert.equal(create.level, 'RequestResponse');
  assert.equal(create.requestObject.data.a, 'b');
  assert.equal(create.responseObject.metadata.name, 'settings');
  assert.deepEqual(create.responseStatus, { metadata: {}, code: 201 });

  const list = events.find((e) => e.verb === 'list' && e.objectRef?.resource === 'pods');
  assert.ok(list, 'the pod list');
  assert.equal(list.level, 'Metadata');
  assert.equal(list.requestURI, '/api/v1/namespaces/default/pods?limit=500');
  assert.equal(list.user.username, 'ordinal-admin');
  assert.ok(list.user.groups.includes('system:masters'));
  assert.deepEqual(list.sourceIPs, ['127.0.0.1']);
  assert.match(list.userAgent, /^kubectl\//);
  assert.deepEqual(list.objectRef, { resource: 'pods', namespace: 'default', apiVersion: 'v1' });
  assert.equal(list.annotations['authorization.k8s.io/decision'], 'allow');
  assert.equal(list.requestObject, undefined);

  const denied = events.find((e) => e.verb === 'list' && e.objectRef?.resource === 'secrets');
  assert.ok(denied, 'the refused secret list');
  assert.equal(denied.user.username, 'ordinal-admin');
  assert.equal(denied.impersonatedUser.username, 'jane');
  assert.deepEqual(denied.impersonatedUser.groups, ['system:authenticated']);
  assert.equal(denied.responseStatus.code, 403);
  assert.equal(denied.responseStatus.reason, 'Forbidden');
  assert.equal(denied.annotations['authorization.k8s.io/decision'], 'forbid');
  assert.equal(denied.annotations['authorization.k8s.io/reason'], '');

  // The watch: ResponseStarted when its 200 went out, ResponseComplete when the server ended it, one audit ID.
  const watchEvents = events.filter((e) => e.verb === 'watch' && e.objectRef?.resource === 'configmaps');
  assert.deepEqual(watchEvents.map((e) => e.stage), ['ResponseStarted', 'ResponseComplete']);
  assert.equal(watchEvents[0].auditID, watchEvents[1].auditID);
  assert.equal(watched.headers['audit-id'], watchEvents[0].auditID);
  assert.deepEqual(watchEvents[0].responseStatus, { metadata: {}, code: 200 });
  assert.deepEqual(watchEvents[1].responseStatus, { metadata: {}, code: 200 });
  assert.ok(Date.parse(watchEvents[1].stageTimestamp) - Date.parse(watchEvents[0].stageTimestamp) >= 900, 'complete about a second after it started');
  assert.equal(watchEvents[1].requestObject, undefined);
  assert.equal(watchEvents[1].responseObject, undefined, 'a watch stream is not a response object');
  // Refused before it started: the Status is in both stages.
  const refusedWatch = events.filter((e) => e.verb === 'watch' && e.objectRef?.resource === 'secrets');
  assert.deepEqual(refusedWatch.map((e) => e.stage), ['ResponseStarted', 'ResponseComplete']);
  for (const e of refusedWatch) {
    assert.equal(e.responseStatus.code, 403);
    assert.equal(e.responseStatus.reason, 'Forbidden');
    assert.equal(e.impersonatedUser.username, 'jane');
  }

  // exec: long-running, so ResponseStarted and ResponseComplete for each attempt (kubectl tries a
  // WebSocket, then SPDY), with the Status the socket was answered with.
  const execEvents = events.filter((e) => e.objectRef?.subresource === 'exec');
  assert.equal(execEvents.length, 8, JSON.stringify(execEvents));
  const byId = new Map<string, any[]>();
  for (const e of execEvents) byId.set(e.auditID, [...(byId.get(e.auditID) ?? []), e]);
  for (const [, evs] of byId) {
    assert.deepEqual(evs.map((e) => e.stage), ['ResponseStarted', 'ResponseComplete']);
    // A WebSocket upgrade is a GET, SPDY's a POST: the request's own verb, as upstream's RequestInfo.
    assert.ok(['get', 'create'].includes(evs[0].verb), evs[0].verb);
    assert.deepEqual(evs[0].responseStatus, evs[1].responseStatus);
  }
  const refusedExec = execEvents.filter((e) => e.impersonatedUser?.username === 'jane');
  assert.equal(refusedExec.length, 4);
  for (const e of refusedExec) {
    assert.equal(e.responseStatus.code, 403);
    assert.equal(e.responseStatus.reason, 'Forbidden');
    assert.match(e.responseStatus.message, /^pods "idle" is forbidden: User "jane" cannot (get|create) resource "pods\/exec"/);
    assert.equal(e.annotations['authorization.k8s.io/decision'], 'forbid');
  }
  const failedExec = execEvents.filter((e) => !e.impersonatedUser);
  assert.equal(failedExec.length, 4);
  for (const e of failedExec) {
    assert.deepEqual(e.responseStatus, { metadata: {}, status: 'Failure', message: 'pod idle does not have a host assigned', reason: 'BadRequest', code: 400 });
    assert.equal(e.annotations['authorization.k8s.io/decision'], 'allow');
  }

  // Failed authentication: one ResponseStarted event, no user, the credentials tried.
  const failed = events.filter((e) => e.responseStatus?.code === 401);
  assert.equal(failed.length, 2, JSON.stringify(failed));
  for (const e of failed) {
    assert.equal(e.stage, 'ResponseStarted');
    assert.deepEqual(e.user, {});
    assert.equal(e.level, 'Metadata');
    assert.equal(e.annotations, undefined);
  }
  const badToken = failed.find((e) => e.objectRef?.resource === 'pods')!;
  assert.equal(badToken.verb, 'watch');
  assert.deepEqual(badToken.responseStatus, { metadata: {}, message: 'Authentication failed, attempted: bearer', code: 401 });
  assert.deepEqual(badToken.objectRef, { resource: 'pods', namespace: 'default', apiVersion: 'v1' });
  const noCredentials = failed.find((e) => e.objectRef?.resource === 'nodes')!;
  assert.equal(noCredentials.verb, 'list');
  assert.equal(noCredentials.responseStatus.message, 'Authentication failed, no credentials provided');
});

/** A request with no client certificate (and whatever headers are given). */
function anonymous(c: Cluster, path: string, headers: Record<string, string> = {}): Promise<{ status: number }> {
  const u = new URL(path, c.url);
  return new Promise((ok, fail) => {
    const req = https.request({ method: 'GET', hostname: u.hostname, port: u.port, path: u.pathname + u.search, rejectUnauthorized: false, headers }, (r) => {
      r.resume();
      r.on('end', () => ok({ status: r.statusCode ?? 0 }));
    });
    req.on('error', fail);
    req.end();
  });
}

test('audit: a policy that does not load stops the start with its reason', async () => {
  const dir = tempDir('ordinal-audit-');
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []\n');
  await assert.rejects(startCluster({ args: ['--nodes', '0', '--audit-policy-file', policy, '--audit-log-path', join(dir, 'a.log')] }), /loaded illegal policy with 0 rules/);
});
