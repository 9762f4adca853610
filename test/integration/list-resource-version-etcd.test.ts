// The same tests as list-resource-version.test.ts, on `--store etcd` (a private one-member etcd):
// the bodies are not repeated, the harness picks the store from ORDINAL_TEST_STORE.
import { test } from 'node:test';
import { etcdMissing } from '../support/etcd.ts';

const skip = etcdMissing();
if (skip) test('LIST resourceVersion semantics on --store etcd', { skip }, () => {});
else {
  process.env.ORDINAL_TEST_STORE = 'etcd';
  await import('./list-resource-version.test.ts');
}
