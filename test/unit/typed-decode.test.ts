import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/api/registry.ts';
import { scalarTypeError } from '../../src/apiserver/typed-decode.ts';

const CRD = 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition';

test('scalar fields of the wrong JSON kind get encoding/json messages naming the struct and the path', () => {
  assert.equal(scalarTypeError({ spec: { group: 7 } }, CRD), 'json: cannot unmarshal number into Go struct field CustomResourceDefinitionSpec.spec.group of type string');
  assert.equal(scalarTypeError({ metadata: { labels: { a: 1 } } }, 'io.k8s.api.core.v1.ConfigMap'), 'json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string');
  assert.equal(scalarTypeError({ spec: { replicas: 'x' } }, 'io.k8s.api.apps.v1.StatefulSet'), 'json: cannot unmarshal string into Go struct field StatefulSetSpec.spec.replicas of type int32');
  assert.equal(scalarTypeError({ spec: { replicas: 2147483648 } }, 'io.k8s.api.apps.v1.StatefulSet'), 'json: cannot unmarshal number 2147483648 into Go struct field StatefulSetSpec.spec.replicas of type int32');
  assert.equal(scalarTypeError({ spec: { template: { spec: { containers: [{ name: 'a' }, { name: ['x'] }] } } } }, 'io.k8s.api.apps.v1.StatefulSet'), 'json: cannot unmarshal array into Go struct field Container.spec.template.spec.containers.name of type string');
  assert.equal(scalarTypeError({ immutable: 'yes' }, 'io.k8s.api.core.v1.ConfigMap'), 'json: cannot unmarshal string into Go struct field ConfigMap.immutable of type bool');
});

test('values Go decodes with custom code, nulls and right kinds pass', () => {
  const sts = 'io.k8s.api.apps.v1.StatefulSet';
  assert.equal(scalarTypeError({ spec: { replicas: null, updateStrategy: { rollingUpdate: { maxUnavailable: '50%' } } } }, sts), undefined);
  assert.equal(scalarTypeError({ spec: { updateStrategy: { rollingUpdate: { maxUnavailable: 2 } } } }, sts), undefined);
  assert.equal(scalarTypeError({ spec: { template: { spec: { containers: [{ name: 'a', resources: { requests: { cpu: 1, memory: '1Gi' } } }] } } } }, sts), undefined);
  assert.equal(scalarTypeError({ metadata: { name: 'a', labels: { a: 'b' }, creationTimestamp: null } }, 'io.k8s.api.core.v1.ConfigMap'), undefined);
  assert.equal(scalarTypeError({ data: { a: 'YQ==' } }, 'io.k8s.api.core.v1.Secret'), undefined);
});

test('structs, lists and string maps of the wrong JSON kind name their Go types', () => {
  assert.equal(scalarTypeError({ kind: 'DaemonSet', metadata: 'name' }, 'io.k8s.api.apps.v1.DaemonSet'), 'json: cannot unmarshal string into Go struct field DaemonSet.metadata of type v1.ObjectMeta');
  assert.equal(scalarTypeError({ spec: { template: { spec: { containers: {} } } } }, 'io.k8s.api.apps.v1.StatefulSet'), 'json: cannot unmarshal object into Go struct field PodSpec.spec.template.spec.containers of type []v1.Container');
  assert.equal(scalarTypeError({ metadata: { finalizers: 'x' } }, 'io.k8s.api.core.v1.ConfigMap'), 'json: cannot unmarshal string into Go struct field ObjectMeta.metadata.finalizers of type []string');
  assert.equal(scalarTypeError({ data: [] }, 'io.k8s.api.core.v1.ConfigMap'), 'json: cannot unmarshal array into Go struct field ConfigMap.data of type map[string]string');
  assert.equal(scalarTypeError({ metadata: { labels: {} }, data: {} }, 'io.k8s.api.core.v1.ConfigMap'), undefined);
});
