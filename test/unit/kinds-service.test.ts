import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFieldError } from '../../src/api/field-errors.ts';
import { strategyFor } from '../../src/api/kinds/index.ts';
import type { Obj } from '../../src/api/resource.ts';

const svcs = strategyFor('Service');

function svc(mut?: (o: Obj) => void): Obj {
  const o: Obj = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'nginx', namespace: 'default' },
    spec: { selector: { app: 'nginx' }, ports: [{ port: 80, name: 'web' }] },
  };
  mut?.(o);
  svcs.default(o);
  svcs.prepareForCreate(o);
  return o;
}

const msgs = (o: Obj) => svcs.validate(o).map(formatFieldError);

test('service defaults', () => {
  const o = svc();
  assert.equal(o.spec.type, 'ClusterIP');
  assert.equal(o.spec.sessionAffinity, 'None');
  assert.equal(o.spec.internalTrafficPolicy, 'Cluster');
  assert.deepEqual(o.spec.ports, [{ port: 80, name: 'web', protocol: 'TCP', targetPort: 80 }]);
  assert.equal(o.spec.ipFamilyPolicy, 'SingleStack');
  assert.deepEqual(o.spec.ipFamilies, ['IPv4']);
  assert.deepEqual(o.status, { loadBalancer: {} });
  assert.equal(o.spec.externalTrafficPolicy, undefined);
  assert.deepEqual(msgs(o), []);
});

test('headless service: clusterIPs normalised, ports optional', () => {
  const o = svc((x) => {
    x.spec.clusterIP = 'None';
    x.spec.ports = [];
  });
  assert.deepEqual(o.spec.clusterIPs, ['None']);
  assert.deepEqual(msgs(o), []);
  const nodePort = svc((x) => {
    x.spec.clusterIP = 'None';
    x.spec.type = 'NodePort';
  });
  assert.equal(nodePort.spec.externalTrafficPolicy, 'Cluster');
  assert.deepEqual(msgs(nodePort), ['spec.clusterIPs[0]: Invalid value: "None": may not be set to \'None\' for NodePort services']);
});

const cases: [string, (o: Obj) => void, string[]][] = [
  [
    'name must be DNS-1035',
    (o) => (o.metadata.name = '1nginx'),
    [
      "metadata.name: Invalid value: \"1nginx\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    ],
  ],
  ['ports required', (o) => (o.spec.ports = []), ['spec.ports: Required value']],
  ['port range', (o) => (o.spec.ports[0].port = 0), ['spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive', 'spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive']],
  ['names required with several ports', (o) => o.spec.ports.push({ port: 443 }), ['spec.ports[1].name: Required value']],
  ['duplicate port names', (o) => o.spec.ports.push({ port: 443, name: 'web' }), ['spec.ports[1].name: Duplicate value: "web"']],
  ['bad clusterIP', (o) => (o.spec.clusterIP = '10.0.0.300'), ['spec.clusterIPs[0]: Invalid value: "10.0.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)']],
  [
    'bad selector value',
    (o) => (o.spec.selector = { app: 'a b' }),
    [
      "spec.selector: Invalid value: \"a b\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    ],
  ],
  ['bad type', (o) => (o.spec.type = 'Headless'), ['spec.type: Unsupported value: "Headless": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"']],
  ['nodePort on ClusterIP', (o) => (o.spec.ports[0].nodePort = 30000), ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]],
];

for (const [name, mut, want] of cases) {
  test(`service validation: ${name}`, () => {
    assert.deepEqual(msgs(svc(mut)), want);
  });
}

test('service update: clusterIP kept when omitted, change rejected', () => {
  const old = svc();
  old.spec.clusterIP = '10.96.0.10';
  old.spec.clusterIPs = ['10.96.0.10'];
  const applied = structuredClone(old);
  delete applied.spec.clusterIP;
  delete applied.spec.clusterIPs;
  applied.spec.ports[0].port = 8080;
  svcs.default(applied);
  svcs.prepareForUpdate(applied, old);
  assert.equal(applied.spec.clusterIP, '10.96.0.10');
  assert.deepEqual(applied.spec.clusterIPs, ['10.96.0.10']);
  assert.deepEqual(svcs.validateUpdate(applied, old), []);

  const changed = structuredClone(old);
  changed.spec.clusterIP = '10.96.0.11';
  svcs.prepareForUpdate(changed, old);
  assert.deepEqual(changed.spec.clusterIPs, ['10.96.0.11']);
  assert.deepEqual(svcs.validateUpdate(changed, old).map(formatFieldError), ['spec.clusterIPs[0]: Invalid value: []string{"10.96.0.11"}: may not change once set']);
});
