// The pure parts of the node's kubelet API: the wire's paths (both ends must agree), who the
// kubelet server lets in, where the API server finds a node, and the errors in Go's words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, readFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachPath, errorFromResponse, execPath, exitCodeOf, logsPath, parseKubeletPath, portForwardPath } from '../../src/streaming/kubelet-wire.ts';
import { authorize, subresourceFor, verbFor } from '../../src/agent/kubelet-server/authorize.ts';
import { dialErrorText, isDocumentationAddress, joinHostPort, kubeletEndpoint } from '../../src/apiserver/streaming/remote-node.ts';
import { exitCodeStatus, SUCCESS } from '../../src/apiserver/streaming/status.ts';
import { ensurePki } from '../../src/apiserver/pki.ts';

const pod = { namespace: 'ns 1', name: 'web-0', uid: '1234-abcd' };

function parse(path: string) {
  const u = new URL(path, 'https://node');
  return parseKubeletPath(u.pathname, u.searchParams);
}

test('exec and attach paths round-trip, with the kubelet query names', () => {
  const exec = execPath(pod, 'c/1', { command: ['sh', '-c', 'echo a&b'], stdin: true, stdout: true, stderr: false, tty: true });
  assert.match(exec, /^\/exec\/ns%201\/web-0\/1234-abcd\/c%2F1\?command=sh&command=-c&command=echo\+a%26b&input=1&output=1&tty=1$/);
  assert.deepEqual(parse(exec), { kind: 'exec', pod, container: 'c/1', opts: { command: ['sh', '-c', 'echo a&b'], stdin: true, stdout: true, stderr: false, tty: true } });
  assert.deepEqual(parse(attachPath(pod, 'c', { stdin: false, stdout: true, stderr: true, tty: false })), {
    kind: 'attach',
    pod,
    container: 'c',
    opts: { stdin: false, stdout: true, stderr: true, tty: false },
  });
  // The kubelet's short form without a uid; a TTY never carries stderr.
  assert.deepEqual(parse('/exec/default/p/c?command=ls&error=1&tty=true'), {
    kind: 'exec',
    pod: { namespace: 'default', name: 'p', uid: '' },
    container: 'c',
    opts: { command: ['ls'], stdin: false, stdout: false, stderr: false, tty: true },
  });
});

test('port-forward and log paths round-trip; bad numbers are refused', () => {
  assert.deepEqual(parse(portForwardPath(pod, 8080)), { kind: 'portForward', pod, port: 8080 });
  assert.throws(() => parse('/portForward/default/p/u?port=0'), /invalid port: 0/);
  assert.throws(() => parse('/portForward/default/p/u'), /invalid port/);
  const opts = { container: 'c', follow: true, previous: true, timestamps: true, tailLines: 0, sinceSeconds: 5, limitBytes: 10 };
  assert.deepEqual(parse(logsPath(pod, opts)), { kind: 'containerLogs', namespace: 'ns 1', name: 'web-0', uid: '1234-abcd', opts });
  const since = { container: 'c', follow: false, previous: false, timestamps: false, sinceTime: '2026-01-02T03:04:05Z' };
  assert.deepEqual(parse(logsPath({ ...pod, uid: '' }, since)), { kind: 'containerLogs', namespace: 'ns 1', name: 'web-0', uid: undefined, opts: since });
  assert.throws(() => parse('/containerLogs/a/b/c?tailLines=x'), /strconv.ParseInt: parsing "x": invalid syntax/);
  assert.deepEqual(parse('/pods'), { kind: 'pods' });
  assert.deepEqual(parse('/healthz'), { kind: 'healthz' });
  assert.equal(parse('/stats/summary'), undefined);
  assert.equal(parse('/exec/a'), undefined);
});

test('the kubelet server lets in the API server and system:masters only, with the kubelet answers', () => {
  assert.deepEqual(authorize(null, 'GET', '/pods'), { allowed: false, code: 401, message: 'Unauthorized' });
  const apiserver = { user: 'kube-apiserver-kubelet-client', groups: [] };
  assert.equal(authorize(apiserver, 'GET', '/pods').allowed, true);
  assert.equal(authorize({ user: 'someone', groups: ['system:masters'] }, 'POST', '/exec/a/b/c').allowed, true);
  assert.deepEqual(authorize({ user: 'system:node:n1', groups: ['system:nodes'] }, 'POST', '/exec/a/b/c'), {
    allowed: false,
    code: 403,
    message: 'Forbidden (user=system:node:n1, verb=create, resource=nodes, subresource=proxy)',
  });
  assert.equal(verbFor('DELETE'), 'delete');
  assert.equal(verbFor('HEAD'), 'get');
  assert.equal(subresourceFor('/stats/summary'), 'stats');
  assert.equal(subresourceFor('/logs/syslog'), 'log');
  assert.equal(subresourceFor('/containerLogs/a/b/c'), 'proxy');
});

test('where a node is reached: InternalIP first, the status port or 10250', () => {
  const node = (addresses: object[], port?: number) => ({ metadata: { name: 'n' }, status: { addresses, ...(port === undefined ? {} : { daemonEndpoints: { kubeletEndpoint: { Port: port } } }) } });
  assert.deepEqual(kubeletEndpoint(node([{ type: 'Hostname', address: 'n' }, { type: 'ExternalIP', address: '198.18.0.9' }, { type: 'InternalIP', address: '10.1.2.3' }], 12345)), { host: '10.1.2.3', port: 12345 });
  assert.deepEqual(kubeletEndpoint(node([{ type: 'ExternalIP', address: '198.18.0.9' }], 0)), { host: '198.18.0.9', port: 10250 });
  assert.deepEqual(kubeletEndpoint(node([{ type: 'InternalIP', address: 'fd00::1' }])), { host: 'fd00::1', port: 10250 });
  assert.throws(() => kubeletEndpoint(node([{ type: 'Hostname', address: 'n' }])), /^Error: no preferred addresses found; known addresses: \[\{Hostname n\}\]$/);
  assert.equal(joinHostPort('fd00::1', 10250), '[fd00::1]:10250');
  assert.equal(joinHostPort('10.0.0.1', 10250), '10.0.0.1:10250');
});

test('dial failures in Go words; documentation addresses are never dialled', () => {
  const e = (code: string) => Object.assign(new Error(`x ${code}`), { code });
  assert.equal(dialErrorText('10.0.0.1:10250', e('ECONNREFUSED')), 'dial tcp 10.0.0.1:10250: connect: connection refused');
  assert.equal(dialErrorText('10.0.0.1:10250', e('EHOSTUNREACH')), 'dial tcp 10.0.0.1:10250: connect: no route to host');
  assert.equal(dialErrorText('10.0.0.1:10250', e('ETIMEDOUT')), 'dial tcp 10.0.0.1:10250: i/o timeout');
  assert.equal(dialErrorText('10.0.0.1:10250', new Error('Opening handshake has timed out')), 'dial tcp 10.0.0.1:10250: i/o timeout');
  assert.equal(isDocumentationAddress('192.0.2.7'), true);
  assert.equal(isDocumentationAddress('203.0.113.1'), true);
  assert.equal(isDocumentationAddress('127.0.0.1'), false);
  assert.equal(isDocumentationAddress('10.244.1.1'), false);
});

test('session statuses and refusals decode as the node meant them', () => {
  assert.equal(exitCodeOf(SUCCESS), 0);
  assert.equal(exitCodeOf(exitCodeStatus(['sh'], 42)), 42);
  assert.equal(exitCodeOf({ status: 'Failure', message: 'boom', reason: 'InternalError' }), undefined);
  const fromStatus = errorFromResponse(500, JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'container not found ("c")', reason: 'InternalError', code: 500 }));
  assert.deepEqual([fromStatus.code, fromStatus.reason, fromStatus.message], [500, 'InternalError', 'container not found ("c")']);
  const text = errorFromResponse(403, 'Forbidden (user=x, verb=get, resource=nodes, subresource=proxy)\n');
  assert.deepEqual([text.code, text.reason, text.message], [403, 'Forbidden', 'Forbidden (user=x, verb=get, resource=nodes, subresource=proxy)']);
});

test("ensurePki issues the API server's kubelet client certificate once, and again when it is lost", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ordinal-pki-kubelet-'));
  try {
    const first = await ensurePki(dir, { hosts: [] });
    const cert = new X509Certificate(first.kubeletClientCertPem);
    assert.match(cert.subject, /CN=kube-apiserver-kubelet-client/);
    assert.match(cert.subject, /O=system:masters/);
    assert.ok(cert.checkIssued(new X509Certificate(first.caCertPem)));
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.2']);
    assert.equal(readFileSync(join(dir, 'pki', 'apiserver-kubelet-client.crt'), 'utf8'), first.kubeletClientCertPem);
    const again = await ensurePki(dir, { hosts: [] });
    assert.equal(again.kubeletClientCertPem, first.kubeletClientCertPem);
    unlinkSync(join(dir, 'pki', 'apiserver-kubelet-client.key'));
    const renewed = await ensurePki(dir, { hosts: [] });
    assert.notEqual(renewed.kubeletClientCertPem, first.kubeletClientCertPem);
    assert.equal(renewed.adminCertPem, first.adminCertPem);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
