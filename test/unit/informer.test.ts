// The informer's cache: lookups by namespace and name (namespaced and cluster-scoped), listing a
// namespace or everything, handler calls, and the differences a re-list reports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Obj, ResourceDef } from '../../src/api/resource.ts';
import type { Client, EventType } from '../../src/client/client.ts';
import { Informer, objectKey } from '../../src/client/informer.ts';

const RES = { plural: 'things' } as ResourceDef;
const obj = (name: string, namespace?: string, rv = '1'): Obj => ({ metadata: { name, ...(namespace !== undefined ? { namespace } : {}), resourceVersion: rv } });

/** A client whose list answers `items` and whose watch can be driven (and broken) by the test. */
function fakeClient(items: Obj[]) {
  const state = {
    items,
    emit: (_t: EventType, _o: Obj) => {},
    close: () => {},
  };
  const client = {
    list: async () => ({ items: state.items, resourceVersion: '10' }),
    watch: (_r: ResourceDef, _o: unknown, onEvent: (t: EventType, o: Obj) => void, onClose: () => void) => {
      state.emit = onEvent;
      state.close = onClose;
      return () => {};
    },
  } as unknown as Client;
  return { client, state };
}

const flush = () => new Promise((r) => setTimeout(r, 5));

test('get and list by namespace, and cluster-scoped objects', async () => {
  const { client, state } = fakeClient([obj('a', 'ns1'), obj('b', 'ns2'), obj('c', 'ns1'), obj('node-1')]);
  const inf = new Informer(client, RES);
  const seen: string[] = [];
  inf.on({ add: (o) => seen.push(`add ${objectKey(o)}`), update: (o, n) => seen.push(`update ${objectKey(n)} ${o.metadata.resourceVersion}->${n.metadata.resourceVersion}`), delete: (o) => seen.push(`delete ${objectKey(o)}`) });
  await inf.start();
  await inf.waitForSync();
  assert.equal(inf.get('ns1', 'a')?.metadata.name, 'a');
  assert.equal(inf.get('ns2', 'a'), undefined);
  assert.equal(inf.get(undefined, 'node-1')?.metadata.name, 'node-1');
  assert.equal(inf.get('', 'node-1')?.metadata.name, 'node-1');
  assert.equal(inf.get(undefined, 'a'), undefined);
  assert.deepEqual(inf.list('ns1').map((o) => o.metadata.name), ['a', 'c']);
  assert.deepEqual(inf.list('nope'), []);
  assert.deepEqual(inf.list().map(objectKey).sort(), ['node-1', 'ns1/a', 'ns1/c', 'ns2/b']);

  state.emit('MODIFIED', obj('a', 'ns1', '2'));
  state.emit('MODIFIED', obj('a', 'ns1', '2')); // same version: not news
  state.emit('DELETED', obj('b', 'ns2', '3'));
  state.emit('DELETED', obj('b', 'ns2', '3')); // already gone
  state.emit('ADDED', obj('d', 'ns3'));
  assert.equal(inf.get('ns1', 'a')?.metadata.resourceVersion, '2');
  assert.deepEqual(inf.list('ns2'), []);
  assert.deepEqual(inf.list('ns3').map((o) => o.metadata.name), ['d']);
  assert.deepEqual(seen.slice(4), ['update ns1/a 1->2', 'delete ns2/b', 'add ns3/d']);

  // The watch breaks; the re-list no longer has ns1/c and has a new version of node-1.
  seen.length = 0;
  state.items = [obj('a', 'ns1', '2'), obj('node-1', undefined, '5'), obj('d', 'ns3')];
  state.close();
  await flush();
  assert.deepEqual(seen.sort(), ['delete ns1/c', 'update node-1 1->5']);
  assert.deepEqual(inf.list().map(objectKey).sort(), ['node-1', 'ns1/a', 'ns3/d']);
  inf.stop();
});

test('informers of one resource on one client share one list and watch; each keeps its handlers, start and stop', async () => {
  let lists = 0;
  let watches = 0;
  let open = 0;
  const state = { emit: (_t: EventType, _o: Obj) => {} };
  const client = {
    list: async () => (lists++, { items: [obj('a', 'ns1')], resourceVersion: '10' }),
    watch: (_r: ResourceDef, _o: unknown, onEvent: (t: EventType, o: Obj) => void) => {
      watches++;
      open++;
      // The test drives the first watch: the shared one.
      if (watches === 1) state.emit = onEvent;
      return () => void open--;
    },
  } as unknown as Client;
  const first = new Informer(client, RES);
  const firstSeen: string[] = [];
  first.on({ add: (o) => firstSeen.push(`add ${objectKey(o)}`), update: (_o, n) => firstSeen.push(`update ${objectKey(n)}`) });
  // Not started: it holds nothing yet, whatever others sharing its cache hold.
  assert.deepEqual(first.list(), []);
  await first.start();
  assert.equal(first.hasSynced(), true);
  state.emit('ADDED', obj('b', 'ns1'));

  // A second informer started later hears what is already held as added, then the changes.
  const second = new Informer(client, RES);
  const secondSeen: string[] = [];
  second.on({ add: (o) => secondSeen.push(`add ${objectKey(o)}`), update: (_o, n) => secondSeen.push(`update ${objectKey(n)}`), delete: (o) => secondSeen.push(`delete ${objectKey(o)}`) });
  await second.start();
  await second.waitForSync();
  assert.deepEqual(secondSeen.sort(), ['add ns1/a', 'add ns1/b']);
  assert.deepEqual([lists, watches], [1, 1]);

  state.emit('MODIFIED', obj('a', 'ns1', '2'));
  assert.deepEqual(firstSeen, ['add ns1/a', 'add ns1/b', 'update ns1/a']);
  assert.deepEqual(secondSeen.slice(2), ['update ns1/a']);

  // Another selection, or another client, is another cache.
  const selected = new Informer(client, RES, { labelSelector: 'app=x' });
  await selected.start();
  assert.deepEqual([lists, watches], [2, 2]);
  selected.stop();
  assert.equal(open, 2 - 1);

  // One stops: it hears nothing more; the other goes on. The last to stop ends the watch.
  first.stop();
  state.emit('DELETED', obj('b', 'ns1', '3'));
  assert.deepEqual(firstSeen, ['add ns1/a', 'add ns1/b', 'update ns1/a']);
  assert.deepEqual(secondSeen.slice(3), ['delete ns1/b']);
  assert.deepEqual(second.list().map(objectKey), ['ns1/a']);
  assert.equal(open, 1);
  second.stop();
  assert.equal(open, 0);

  // A new informer after all stopped lists and watches afresh.
  const third = new Informer(client, RES);
  await third.start();
  assert.deepEqual([lists, watches], [3, 3]);
  third.stop();
});

test('a client that lists and watches through another shares that one\'s informers', async () => {
  const { client } = fakeClient([obj('a', 'ns1')]);
  let lists = 0;
  const counting = { ...client, list: async (...args: unknown[]) => (lists++, (client.list as (...a: unknown[]) => unknown)(...args)) } as unknown as Client;
  const routed = { informerSource: () => counting } as unknown as Client;
  const a = new Informer(counting, RES);
  const b = new Informer(routed, RES);
  await a.start();
  await b.start();
  assert.equal(lists, 1);
  assert.deepEqual(b.list().map(objectKey), ['ns1/a']);
  a.stop();
  b.stop();
});
