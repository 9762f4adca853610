// --event-ttl: events go a fixed time after their last write, as kube-apiserver's flag makes them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { startCluster, stopCluster, removeCluster, kubectl, kubectlOk, waitUntil, tempDir } from './harness.ts';

const root = resolve(import.meta.dirname, '../..');

const event = (name: string, message: string) => `
apiVersion: v1
kind: Event
metadata: { name: ${name}, namespace: default }
involvedObject: { kind: Pod, name: somepod, namespace: default }
reason: Testing
message: ${message}
type: Normal
`;

test('events expire --event-ttl after their last write, and a restart keeps counting', async () => {
  const TTL = 4000;
  const c = await startCluster({ args: ['--event-ttl', '4s'] });
  const names = async (cl = c) => await kubectlOk(cl, ['get', 'events', '-o', 'name']);
  try {
    const t0 = Date.now();
    await kubectlOk(c, ['create', '-f', '-'], { input: event('first', 'one') + '---' + event('second', 'two') });
    // Written again 2.5 s in: the event lives 4 s from then, not from its creation.
    await new Promise((r) => setTimeout(r, 2500 - (Date.now() - t0)));
    await kubectlOk(c, ['patch', 'event', 'second', '--type', 'merge', '-p', '{"message":"two, again"}']);
    const touched = Date.now();
    await waitUntil(async () => !(await names()).includes('event/first'), 8000, () => 'first to expire');
    const firstGone = Date.now() - t0;
    assert.ok(firstGone >= TTL && firstGone < TTL + 2500, `first went after ${firstGone} ms`);
    if (Date.now() < touched + TTL) assert.match(await names(), /event\/second/, 'the rewritten event is still there');
    await waitUntil(async () => !(await names()).includes('event/second'), 8000, () => 'second to expire');
    const secondGone = Date.now() - touched;
    assert.ok(secondGone >= TTL - 300 && secondGone < TTL + 2500, `second went ${secondGone} ms after its rewrite`);

    // The node's and scheduler's events about a pod go the same way; the pod itself stays.
    await kubectlOk(c, ['run', 'web', '--image', 'nginx']);
    await waitUntil(async () => (await kubectlOk(c, ['get', 'events', '--field-selector', 'involvedObject.name=web', '-o', 'name'])).trim() !== '', 10_000, () => "the pod's events");
    await waitUntil(async () => (await names()).trim() === '', TTL + 6000, () => 'all events to expire');
    assert.match(await kubectlOk(c, ['get', 'pod', 'web', '-o', 'name']), /pod\/web/);

    // Events written before a restart still expire after it, from their own timestamps.
    await kubectlOk(c, ['create', '-f', '-'], { input: event('before-restart', 'kept on disk') });
    await stopCluster(c);
    const again = await startCluster({ dataDir: c.dataDir, args: ['--event-ttl', '4s'] });
    try {
      assert.match(await names(again), /before-restart/);
      await waitUntil(async () => !(await names(again)).includes('before-restart'), TTL + 6000, () => 'the old event to expire after the restart');
    } finally {
      await stopCluster(again);
    }
  } finally {
    await stopCluster(c);
    removeCluster(c);
  }
});

test('an invalid --event-ttl is refused with the reason', () => {
  const dir = tempDir();
  for (const [value, msg] of [['10', /invalid --event-ttl: invalid duration "10"/], ['0s', /must be longer than 0/]] as const) {
    const r = spawnSync(process.execPath, [join(root, 'src/cli/main.ts'), 'up', '--data-dir', dir, '--port', '0', '--event-ttl', value], { encoding: 'utf8', timeout: 20_000 });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr + r.stdout, msg);
  }
});
