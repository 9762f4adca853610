// The 3-member etcd cluster the tests (and the README) run: Ordinal's store keeps writing while
// any one member, the leader included, is killed, and the member rejoins with everything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { etcdMissing, startEtcdCluster } from '../support/etcd.ts';
import { EtcdStore } from '../../src/storage/etcd/store.ts';
import { KeyLayout } from '../../src/storage/etcd/keys.ts';
import { storedResources } from '../../src/apiserver/stored-resources.ts';

const skip = etcdMissing();

test('writes go on through a kill -9 of the leader member, and the member catches up when restarted', { skip, timeout: 120_000 }, async () => {
  const cluster = await startEtcdCluster(3);
  const store = new EtcdStore({ servers: cluster.servers.split(','), layout: new KeyLayout(storedResources()) });
  try {
    assert.equal(cluster.members.length, 3);
    assert.equal(new Set(cluster.members.flatMap((m) => [m.url, m.peerUrl])).size, 6);
    const list = await cluster.ctl(['member', 'list']);
    assert.equal(list.trim().split('\n').length, 3);
    await store.open();
    for (let i = 0; i < 20; i++) await store.create(`/registry/core/configmaps/default/a${i}`, `{"i":${i}}`);
    const status = JSON.parse(await cluster.ctl(['endpoint', 'status', '-w', 'json'])) as { Endpoint: string; Status: { header: { member_id: number }; leader: number } }[];
    const leaderUrl = status.find((s) => s.Status.header.member_id === s.Status.leader)!.Endpoint;
    const leader = cluster.members.find((m) => m.url === leaderUrl)!;
    await leader.stop('SIGKILL');
    // The client moves to the members that are left; each write is acknowledged by their quorum.
    for (let i = 0; i < 20; i++) {
      for (let attempt = 0; ; attempt++) {
        try {
          await store.create(`/registry/core/configmaps/default/b${i}`, `{"i":${i}}`);
          break;
        } catch (err) {
          if ((err as { code?: string }).code === 'exists') break; // an earlier attempt landed
          if (attempt > 50) throw err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    }
    leader.start();
    await cluster.healthy();
    // Serializable reads of the restarted member alone (pflag takes the last --endpoints): it catches up through raft.
    const ownKeys = async () => (await cluster.ctl(['--endpoints', leader.url, 'get', '--prefix', '/registry/configmaps/default/', '--keys-only', '--consistency', 's'])).split('\n').filter(Boolean);
    const deadline = Date.now() + 20_000;
    let keys = await ownKeys();
    while (keys.length < 40 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 300));
      keys = await ownKeys();
    }
    assert.equal(keys.length, 40);
  } finally {
    await store.close();
    await cluster.remove();
  }
});
