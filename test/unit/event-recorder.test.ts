// The event recorder writes after the caller's turn, as upstream's recorder hands events to a
// broadcaster: the caller's own writes go first. Repeats of one event still reach the API in order
// (the create, then its count patches).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Obj } from '../../src/api/resource.ts';
import type { Client } from '../../src/client/client.ts';
import { EventRecorder } from '../../src/client/events.ts';

test('events are written once the caller’s turn is over, in the order asked, repeats after their create', async () => {
  const calls: string[] = [];
  const client = {
    resource: (_g: string, plural: string) => ({ plural }),
    create: async (_r: unknown, _ns: string, body: Obj) => {
      calls.push(`create ${body.reason} ${body.count}`);
      await new Promise((r) => setTimeout(r, 5));
      return body;
    },
    patch: async (_r: unknown, _ns: string, _name: string, _type: string, body: Obj) => {
      calls.push(`patch ${body.count}`);
      return body;
    },
  } as unknown as Client;
  const recorder = new EventRecorder(client, 'statefulset-controller');
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-0', namespace: 'default', uid: 'u-0', resourceVersion: '5' } };
  recorder.event(pod, 'Normal', 'SuccessfulCreate', 'create Pod web-0 in StatefulSet web successful');
  recorder.event(pod, 'Warning', 'FailedCreate', 'create Pod web-0 in StatefulSet web failed');
  recorder.event(pod, 'Normal', 'SuccessfulCreate', 'create Pod web-0 in StatefulSet web successful');
  calls.push('caller goes on');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(calls.slice(0, 3), ['caller goes on', 'create SuccessfulCreate 1', 'create FailedCreate 1']);
  await new Promise((r) => setTimeout(r, 30));
  assert.deepEqual(calls, ['caller goes on', 'create SuccessfulCreate 1', 'create FailedCreate 1', 'patch 2'], 'the repeat patches the count only after its create answered');
});
