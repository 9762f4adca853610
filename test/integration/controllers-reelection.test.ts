// `ordinal controllers` keeps running after it loses its lease and takes it back later: copy A talks
// only to server X, copy B only to server Y (both on one etcd). A leads; X is killed -9, so A cannot
// renew past its renew deadline: it stops that term's controllers and campaigns again, B takes
// over. X comes back and B is stopped: A, the same process, leads again and its controllers work.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { etcdMissing, freePort, startEtcd, type Etcd } from '../support/etcd.ts';
import { startControllers, type ControllersProcess } from '../support/controllers.ts';
import { kubectlFor, poll, webSet } from '../support/failure-cluster.ts';
import { ServerProcess } from '../support/ha-servers.ts';
import { tempDirs } from './harness.ts';

const skip = etcdMissing();
const temp = tempDirs();
const tempDir = temp.make;
let etcd: Etcd | undefined;
const servers: ServerProcess[] = [];
const ctrls: ControllersProcess[] = [];

after(async () => {
  await Promise.all(ctrls.map((c) => c.stop()));
  await Promise.all(servers.map((s) => s.kill('SIGTERM')));
  await etcd?.remove();
  temp.removeAll();
});

test('a controllers copy that lost its lease stays up, campaigns again and leads once the other copy stops', { skip, timeout: 180_000 }, async () => {
  const t0 = Date.now();
  const log = (msg: string) => console.log(`# ${((Date.now() - t0) / 1000).toFixed(1)}s ${msg}`);
  etcd = await startEtcd();
  const port = await freePort();
  const common = ['--store', 'etcd', '--etcd-servers', etcd.url];
  const dirX = tempDir('ordinal-reelect-x-');
  const x = new ServerProcess(dirX, '127.0.0.2', port, [...common, '--advertise-address', '192.0.2.1']);
  servers.push(x);
  await x.start();
  const dirY = tempDir('ordinal-reelect-y-');
  cpSync(join(dirX, 'pki'), join(dirY, 'pki'), { recursive: true });
  const y = new ServerProcess(dirY, '127.0.0.3', port, [...common, '--advertise-address', '192.0.2.2']);
  servers.push(y);
  await y.start();

  const k = kubectlFor(join(dirX, 'kubeconfig'));
  const through = (s: ServerProcess) => (args: string[], input?: string) => k.ok(['--server', s.url, ...args], input);
  const holder = (lease: string) => through(y)(['get', 'lease', lease, '-n', 'kube-system', '-o', 'jsonpath={.spec.holderIdentity}']).catch(() => '');
  const elect = ['--leader-elect-lease-duration', '4s', '--leader-elect-renew-deadline', '3s', '--leader-elect-retry-period', '1s'];
  const copy = (s: ServerProcess) => {
    const d = tempDir('ordinal-reelect-ctrl-');
    cpSync(join(dirX, 'pki'), join(d, 'pki'), { recursive: true });
    const c = startControllers(['--server', s.url, '--data-dir', d, ...elect]);
    ctrls.push(c);
    return c;
  };

  const a = copy(x);
  const idA = await a.identity;
  await poll('A leading both leases', 30_000, async () => (await holder('kube-controller-manager')) === idA && (await holder('kube-scheduler')) === idA, 250);
  const b = copy(y);
  const idB = await b.identity;
  log(`A (${idA}) leads through X; B (${idB}) waits through Y`);

  // A's only server goes: A cannot renew, and gives up its term at the renew deadline.
  await x.kill('SIGKILL');
  const lostAt = Date.now();
  await poll('B leading', 30_000, async () => (await holder('kube-controller-manager')) === idB && (await holder('kube-scheduler')) === idB, 250);
  log(`X killed; B took both leases after ${Date.now() - lostAt} ms`);
  await poll('A giving up its term', 10_000, async () => /lost kube-controller-manager: controllers stopped, campaigning again/.test(a.logs()), 100);
  assert.equal(a.proc.exitCode, null, `A exited:\n${a.logs().slice(-3000)}`);
  assert.equal(a.proc.signalCode, null);

  // X returns; A, still running, finds B leading and waits.
  await x.start();
  await new Promise((r) => setTimeout(r, 6_000));
  assert.equal(await holder('kube-controller-manager'), idB, 'B keeps the lease while it renews');
  assert.equal(a.proc.exitCode, null);

  // B stops (kube-controller-manager lets its lease expire; kube-scheduler releases its own): A takes both.
  await b.stop();
  const stoppedAt = Date.now();
  await poll('A leading again', 30_000, async () => (await holder('kube-controller-manager')) === idA && (await holder('kube-scheduler')) === idA, 250);
  log(`B stopped; A (the same process) leads again after ${Date.now() - stoppedAt} ms`);

  // A's new term works: its StatefulSet controller creates the set's pods.
  await through(x)(['apply', '-f', '-'], webSet(2));
  await poll('web-0 and web-1 created by A', 30_000, async () => (await through(x)(['get', 'pods', '-l', 'app=web', '-o', 'name'])).split('\n').filter(Boolean).length === 2, 250);
  assert.match(a.logs(), /started leading kube-controller-manager[\s\S]*lost kube-controller-manager[\s\S]*started leading kube-controller-manager/);
  log('A created web-0 and web-1');
});
