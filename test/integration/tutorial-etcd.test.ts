// The same tests as tutorial.test.ts, on `--store etcd` (a private one-member etcd per cluster): the
// bodies are not repeated, the harness picks the store from ORDINAL_TEST_STORE.
import { test } from 'node:test';
import { etcdMissing } from '../support/etcd.ts';

const skip = etcdMissing();
if (skip) test('tutorial on --store etcd', { skip }, () => {});
else {
  process.env.ORDINAL_TEST_STORE = 'etcd';
  await import('./tutorial.test.ts');
}
