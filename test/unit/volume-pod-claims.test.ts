// pvc-protection's pods (pod-claims.ts): pods indexed by the claims they name, watched only while
// wanted, listed afresh when wanted again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Obj } from '../../src/api/resource.ts';
import type { Client } from '../../src/client/client.ts';
import { PodsByClaim } from '../../src/controllers/volume/pod-claims.ts';

function pod(name: string, uid: string, claims: string[], ephemeral: string[] = []): Obj {
  const volumes = [...claims.map((c, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName: c } })), ...ephemeral.map((v) => ({ name: v, ephemeral: {} }))];
  return { metadata: { name, namespace: 'ns', uid, resourceVersion: uid }, spec: { volumes } };
}

/** A client whose pod list the test sets and whose watch events the test sends. */
function fakeClient(listed: Obj[]) {
  const state = { listed, lists: 0, watches: 0, stopped: 0, send: (_t: 'ADDED' | 'MODIFIED' | 'DELETED', _o: Obj) => {} };
  const client = {
    resource: () => ({ group: '', plural: 'pods', namespaced: true }),
    list: async () => {
      state.lists++;
      return { items: state.listed, resourceVersion: '1' };
    },
    watch: (_r: unknown, _o: unknown, onEvent: (t: 'ADDED' | 'MODIFIED' | 'DELETED', o: Obj) => void) => {
      state.watches++;
      state.send = onEvent;
      return () => state.stopped++;
    },
  } as unknown as Client;
  return { client, state };
}

const names = (it: Iterable<Obj>) => [...it].map((p) => p.metadata.name).sort();

test('pods are indexed by the claims they name, and each change names the claims it concerns', async () => {
  const { client, state } = fakeClient([pod('a', '1', ['data']), pod('b', '2', ['data', 'logs']), pod('c', '3', [], ['scratch'])]);
  const changed: string[] = [];
  const pods = new PodsByClaim(client, (k) => changed.push(k));
  assert.equal(pods.watching, false);
  assert.equal(state.lists, 0, 'nothing is listed before pods are wanted');
  assert.equal(await pods.want(), true);
  assert.equal(pods.ready, true);
  assert.deepEqual(names(pods.podsOf('ns/data')), ['a', 'b']);
  assert.deepEqual(names(pods.podsOf('ns/logs')), ['b']);
  assert.deepEqual(names(pods.podsOf('ns/c-scratch')), ['c'], "a generic ephemeral volume's claim is <pod>-<volume>");
  assert.deepEqual(names(pods.podsOf('other/data')), []);
  changed.length = 0;
  // Another pod under a's name (a relist after a's replacement): a's claims lose it, the new one's gain it.
  state.send('MODIFIED', pod('a', '4', ['logs']));
  assert.deepEqual(names(pods.podsOf('ns/data')), ['b']);
  assert.deepEqual(names(pods.podsOf('ns/logs')), ['a', 'b']);
  assert.deepEqual(changed.sort(), ['ns/data', 'ns/logs']);
  state.send('DELETED', pod('b', '2', ['data', 'logs']));
  assert.deepEqual(names(pods.podsOf('ns/data')), []);
  assert.deepEqual(names(pods.podsOf('ns/logs')), ['a']);
  pods.stop();
});

test('idle stops the watch after the linger time and drops the index; wanting again lists afresh', async () => {
  const { client, state } = fakeClient([pod('a', '1', ['data'])]);
  const pods = new PodsByClaim(client, () => {}, 20);
  await pods.want();
  pods.idle();
  assert.equal(pods.watching, true, 'still watched while lingering');
  // Wanted again within the linger time: the same watch goes on.
  await pods.want();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(pods.watching, true);
  assert.equal(state.lists, 1);
  pods.idle();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(pods.watching, false);
  assert.equal(pods.ready, false);
  assert.equal(state.stopped, 1);
  assert.deepEqual(names(pods.podsOf('ns/data')), []);
  state.listed = [pod('z', '9', ['data'])];
  assert.equal(await pods.want(), true);
  assert.equal(state.lists, 2);
  assert.deepEqual(names(pods.podsOf('ns/data')), ['z']);
  pods.stop();
});

test('a caller waiting for the list hears false when the watch is stopped first', async () => {
  const { client } = fakeClient([]);
  (client as any).list = () => new Promise(() => {});
  const pods = new PodsByClaim(client, () => {});
  const waiting = pods.want();
  pods.stop();
  assert.equal(await waiting, false);
});
