// A joined node renews its certificate before it expires (a new CSR sent with its current
// certificate, auto-approved as the node renewing its own), and an `ordinal` process whose parent
// goes away (npx stopped by SIGTERM: npm and its shell end, the signal is not passed on) stops too.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawn, execFileSync } from 'node:child_process';
import { startCluster, stopCluster, removeCluster, kubectlOk, waitUntil, tempDir, type Cluster } from './harness.ts';
import { startAgent, createJoinToken, type AgentProcess } from '../support/agents.ts';

const root = resolve(import.meta.dirname, '../..');
let cluster: Cluster | undefined;
const agents: AgentProcess[] = [];

after(async () => {
  await Promise.all(agents.map((a) => a.stop('SIGKILL')));
  if (cluster) {
    await stopCluster(cluster);
    removeCluster(cluster);
  }
});

test('a joined node renews its client certificate before it expires', { timeout: 120_000 }, async () => {
  // 40 s certificates: renewal falls between 28 s and 36 s after issue.
  cluster = await startCluster({ args: ['--nodes', '0', '--cluster-signing-duration', '40s'] });
  const join1 = await createJoinToken(cluster.dataDir);
  const dir = tempDir('ordinal-agent-');
  const agent = startAgent(['--server', join1.server, '--token', join1.token, '--ca-cert-hash', join1.hash, '--node-name', 'rot', '--runtime', 'sim', '--kubelet-port', '0', '--data-dir', dir]);
  agents.push(agent);
  await agent.joined;
  const first = new X509Certificate(readFileSync(join(dir, 'pki', 'node.crt')));
  const life = first.validToDate.getTime() - first.validFromDate.getTime();
  assert.ok(life <= 41_000, `issued for ${life} ms`);
  await waitUntil(() => new X509Certificate(readFileSync(join(dir, 'pki', 'node.crt'))).serialNumber !== first.serialNumber, 45_000, () => `certificate not renewed:\n${agent.logs().slice(-3000)}`);
  const second = new X509Certificate(readFileSync(join(dir, 'pki', 'node.crt')));
  assert.match(second.subject, /CN=system:node:rot/);
  // The renewal was asked for by the node itself, and approved as a node renewing its own.
  const csrs = JSON.parse(await kubectlOk(cluster, ['get', 'csr', '-o', 'json'])).items;
  assert.ok(csrs.some((c: any) => c.spec.username === 'system:node:rot' && c.status.conditions?.some((x: any) => x.type === 'Approved') && c.status.certificate), 'a CSR from system:node:rot, approved and issued');
  // The node keeps talking to the API after its first certificate expired.
  await waitUntil(() => Date.now() > first.validToDate.getTime() + 2_000, 60_000);
  const leaseAfter = JSON.parse(await kubectlOk(cluster, ['-n', 'kube-node-lease', 'get', 'lease', 'rot', '-o', 'json']));
  const renewed = Date.parse(leaseAfter.spec.renewTime);
  await waitUntil(async () => Date.parse(JSON.parse(await kubectlOk(cluster!, ['-n', 'kube-node-lease', 'get', 'lease', 'rot', '-o', 'json'])).spec.renewTime) > renewed, 25_000, () => 'lease renewed with the new certificate');
  assert.equal(agent.proc.exitCode, null);
});

test('ordinal stops when the process that started it goes away (npx under a supervisor)', { timeout: 60_000 }, async () => {
  const dataDir = tempDir();
  // As npx runs it: a shell that does not exec, with ordinal as its child.
  const sh = spawn('sh', ['-c', `"${process.execPath}" "${join(root, 'src/cli/main.ts')}" server --data-dir "${dataDir}" --port 0; echo finished`], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  sh.stdout!.on('data', (d) => (out += d));
  await waitUntil(() => /ready at https/.test(out), 20_000, () => out);
  const child = Number(execFileSync('ps', ['-o', 'pid=', '--ppid', String(sh.pid)], { encoding: 'utf8' }).trim().split(/\s+/)[0]);
  assert.ok(child > 0);
  // The shell dies without passing anything on, as when npm is stopped.
  process.kill(sh.pid!, 'SIGKILL');
  const alive = () => {
    try {
      process.kill(child, 0);
      return true;
    } catch {
      return false;
    }
  };
  await waitUntil(() => !alive(), 10_000, () => `ordinal (pid ${child}) still runs after its parent died`);
  removeCluster({ dataDir } as Cluster);
});
