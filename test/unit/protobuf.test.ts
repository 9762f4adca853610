import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeObject, decodeProtobufBody, parseProtobufRequestBody, ProtobufDecodeError, UnsupportedProtobufKindError, messageKeyFor } from '../../src/apiserver/protobuf/index.ts';
import { ApiError } from '../../src/apiserver/errors.ts';
import { MESSAGES } from '../../src/apiserver/protobuf/descriptors.ts';

// ---- a tiny protobuf encoder, enough to build request bodies ----

function varint(n: number | bigint): Buffer {
  let v = BigInt.asUintN(64, BigInt(n)); // negatives take ten bytes, as in Go
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
}
const key = (field: number, wire: number) => varint(field * 8 + wire);
/** A varint field (ints, bools). */
const int = (field: number, n: number | bigint | boolean) => Buffer.concat([key(field, 0), varint(typeof n === 'boolean' ? Number(n) : n)]);
/** A length-delimited field from raw bytes. */
const bytes = (field: number, b: Buffer) => Buffer.concat([key(field, 2), varint(b.length), b]);
const str = (field: number, s: string) => bytes(field, Buffer.from(s, 'utf8'));
/** An embedded message made of the given fields. */
const msg = (field: number, ...parts: Buffer[]) => bytes(field, Buffer.concat(parts));
/** One map entry (maps are repeated key=1/value=2 messages). */
const entry = (field: number, k: string, value: Buffer) => msg(field, str(1, k), value);
const strEntry = (field: number, k: string, v: string) => entry(field, k, str(2, v));
const packed = (field: number, ns: number[]) => bytes(field, Buffer.concat(ns.map(varint)));

/** 'k8s\0' + runtime.Unknown{typeMeta, raw, contentEncoding, contentType}, as client-go writes it. */
function envelope(apiVersion: string, kind: string, ...objectFields: Buffer[]): Buffer {
  return Buffer.concat([Buffer.from('k8s\0', 'latin1'), msg(1, str(1, apiVersion), str(2, kind)), bytes(2, Buffer.concat(objectFields)), str(3, ''), str(4, '')]);
}

/** ObjectMeta the way gogo writes it: every value field present, even when empty. */
function meta(field: number, name: string, ...extra: Buffer[]): Buffer {
  return msg(field, str(1, name), str(2, ''), str(3, ''), str(4, ''), str(5, ''), str(6, ''), int(7, 0), msg(8), ...extra);
}

const quantity = (field: number, q: string) => msg(field, str(1, q));
const intOrStringInt = (field: number, n: number) => msg(field, int(1, 0), int(2, n), str(3, ''));
const intOrStringStr = (field: number, s: string) => msg(field, int(1, 1), int(2, 0), str(3, s));

// ---- tests ----

test('Namespace: apiVersion/kind from the envelope, zero value fields dropped', () => {
  const body = envelope('v1', 'Namespace', meta(1, 'foo', strEntry(11, 'team', 'a')), msg(2, str(1, 'kubernetes')), msg(3, str(1, '')));
  assert.deepEqual(decodeProtobufBody(body), {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'foo', labels: { team: 'a' } },
    spec: { finalizers: ['kubernetes'] },
    status: {},
  });
});

test('ConfigMap: string data, binary data as base64, pointer bool kept at false', () => {
  const body = envelope('v1', 'ConfigMap', meta(1, 'cm1'), strEntry(2, 'a', 'b'), strEntry(2, 'c', ''), entry(3, 'bin', bytes(2, Buffer.from([0, 1, 254, 255]))), int(4, false));
  assert.deepEqual(decodeProtobufBody(body), {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'cm1' },
    data: { a: 'b', c: '' },
    binaryData: { bin: 'AAH+/w==' },
    immutable: false,
  });
});

test('Secret: binary data round-trips through base64; stringData and type', () => {
  const secret = Buffer.from([0x00, 0xc3, 0x28, 0xff, 0x10]);
  const body = envelope('v1', 'Secret', meta(1, 's1'), entry(2, 'k', bytes(2, secret)), str(3, 'Opaque'), strEntry(4, 'plain', 'text'));
  const obj = decodeProtobufBody(body);
  assert.equal(obj.type, 'Opaque');
  assert.deepEqual(obj.stringData, { plain: 'text' });
  assert.deepEqual(Buffer.from(obj.data.k, 'base64'), secret);
});

test('Service: named targetPort, numeric port, full spec', () => {
  const port = msg(1, str(1, 'web'), str(2, 'TCP'), int(3, 80), intOrStringStr(4, 'http'), int(5, 0));
  const port2 = msg(1, str(1, 'metrics'), str(2, 'TCP'), int(3, 9090), intOrStringInt(4, 9091), int(5, 0));
  const spec = msg(
    2,
    port,
    port2,
    strEntry(2, 'app', 'web'),
    str(3, 'None'),
    str(4, 'ClusterIP'),
    str(7, 'None'),
    str(10, ''),
    int(12, 0),
    int(13, true),
    str(17, 'SingleStack'),
    str(18, 'None'),
    str(19, 'IPv4'),
    str(22, 'Cluster'),
  );
  const obj = decodeProtobufBody(envelope('v1', 'Service', meta(1, 'my-svc'), spec, msg(3, msg(1))));
  assert.deepEqual(obj.spec, {
    ports: [
      { name: 'web', protocol: 'TCP', port: 80, targetPort: 'http' },
      { name: 'metrics', protocol: 'TCP', port: 9090, targetPort: 9091 },
    ],
    selector: { app: 'web' },
    clusterIP: 'None',
    type: 'ClusterIP',
    sessionAffinity: 'None',
    publishNotReadyAddresses: true,
    ipFamilyPolicy: 'SingleStack',
    clusterIPs: ['None'],
    ipFamilies: ['IPv4'],
    internalTrafficPolicy: 'Cluster',
  });
  assert.deepEqual(obj.status, { loadBalancer: {} });
});

test('Pod: containers, env, probes and volumes with inline members; zero pointers kept', () => {
  const container = msg(
    2,
    str(1, 'app'),
    str(2, 'nginx:1.27'),
    str(3, 'sh'),
    str(3, '-c'),
    msg(6, str(1, 'http'), int(2, 0), int(3, 8080), str(4, 'TCP'), str(5, '')),
    msg(7, str(1, 'PLAIN'), str(2, 'x')),
    msg(7, str(1, 'FROM_SECRET'), str(2, ''), msg(3, msg(4, msg(1, str(1, 'creds')), str(2, 'password')))),
    msg(8, entry(1, 'cpu', quantity(2, '500m')), entry(2, 'memory', quantity(2, '64Mi'))),
    msg(9, str(1, 'data'), int(2, false), str(3, '/data')),
    msg(11, msg(1, msg(2, str(1, '/healthz'), intOrStringStr(2, 'http'), str(3, ''), str(4, 'HTTP'))), int(2, 0), int(3, 1), int(4, 10), int(5, 1), int(6, 3)),
    msg(10, msg(1, msg(3, intOrStringInt(1, 8080)))),
    msg(15, int(4, 0), int(5, false)),
    str(13, '/dev/termination-log'),
    str(14, 'IfNotPresent'),
    int(16, false),
  );
  const spec = msg(
    2,
    msg(1, str(1, 'data'), msg(2, msg(2, str(1, ''), quantity(2, '1Gi')))),
    msg(1, str(1, 'cfg'), msg(2, msg(19, msg(1, str(1, 'settings')), int(3, 0o644)))),
    container,
    msg(20, str(1, 'init'), str(2, 'busybox')),
    int(4, 0),
    strEntry(7, 'disk', 'ssd'),
    int(21, false),
    msg(14, int(2, 0), msg(4), packed(4, [1000, 2000]), int(4, 3000)),
    msg(22, str(1, 'node.kubernetes.io/not-ready'), str(2, 'Exists'), str(3, ''), str(4, 'NoExecute'), int(5, 300)),
    msg(18, msg(1, msg(1, msg(1, msg(1, str(1, 'zone'), str(2, 'In'), str(3, 'a'), str(3, 'b')))))),
    str(16, 'web-0'),
    str(17, 'nginx'),
  );
  const obj = decodeProtobufBody(envelope('v1', 'Pod', meta(1, 'web-0', strEntry(11, 'app', 'web')), spec));
  assert.deepEqual(obj.spec.volumes, [
    { name: 'data', emptyDir: { sizeLimit: '1Gi' } },
    { name: 'cfg', configMap: { name: 'settings', defaultMode: 0o644 } },
  ]);
  const c = obj.spec.containers[0];
  assert.deepEqual(c.command, ['sh', '-c']);
  assert.deepEqual(c.ports, [{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
  assert.deepEqual(c.env, [
    { name: 'PLAIN', value: 'x' },
    { name: 'FROM_SECRET', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
  ]);
  assert.deepEqual(c.resources, { limits: { cpu: '500m' }, requests: { memory: '64Mi' } });
  assert.deepEqual(c.volumeMounts, [{ name: 'data', mountPath: '/data' }]);
  assert.deepEqual(c.readinessProbe, { httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
  assert.deepEqual(c.livenessProbe, { tcpSocket: { port: 8080 } });
  assert.deepEqual(c.securityContext, { runAsUser: 0, runAsNonRoot: false });
  assert.equal(c.stdin, undefined);
  assert.deepEqual(obj.spec.initContainers, [{ name: 'init', image: 'busybox' }]);
  assert.equal(obj.spec.terminationGracePeriodSeconds, 0);
  assert.equal(obj.spec.automountServiceAccountToken, false);
  assert.deepEqual(obj.spec.nodeSelector, { disk: 'ssd' });
  assert.deepEqual(obj.spec.securityContext, { runAsUser: 0, supplementalGroups: [1000, 2000, 3000] }, 'packed and unpacked repeated ints');
  assert.deepEqual(obj.spec.tolerations, [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }]);
  assert.deepEqual(obj.spec.affinity, { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }] } } });
  assert.equal(obj.spec.hostname, 'web-0');
  assert.equal(obj.spec.subdomain, 'nginx');
});

test('StatefulSet: replicas 0, template, claim templates, update strategy, timestamps', () => {
  const created = Date.UTC(2024, 0, 2, 3, 4, 5) / 1000;
  const template = msg(3, msg(1, str(1, ''), strEntry(11, 'app', 'web')), msg(2, msg(2, str(1, 'nginx'), str(2, 'nginx'))));
  const claim = msg(4, msg(1, str(1, 'www')), msg(2, str(1, 'ReadWriteOnce'), msg(2, entry(2, 'storage', quantity(2, '1Gi'))), str(5, 'standard')));
  const spec = msg(
    2,
    int(1, 0),
    msg(2, strEntry(1, 'app', 'web')),
    template,
    claim,
    str(5, 'nginx'),
    str(6, 'Parallel'),
    msg(7, str(1, 'RollingUpdate'), msg(2, int(1, 0), intOrStringStr(2, '50%'))),
    int(8, 0),
    int(9, 0),
    msg(10, str(1, 'Retain'), str(2, 'Delete')),
  );
  const metadata = meta(1, 'web', msg(8, int(1, created), int(2, 0)), msg(13, str(1, 'X'), str(3, 'owner'), str(4, 'u-1'), str(5, 'v1'), int(6, true)));
  const obj = decodeProtobufBody(envelope('apps/v1', 'StatefulSet', metadata, spec, msg(3)));
  assert.equal(obj.metadata.creationTimestamp, '2024-01-02T03:04:05Z');
  assert.deepEqual(obj.metadata.ownerReferences, [{ kind: 'X', name: 'owner', uid: 'u-1', apiVersion: 'v1', controller: true }]);
  assert.deepEqual(obj.spec, {
    replicas: 0,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx' }] } },
    volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'standard' } }],
    serviceName: 'nginx',
    podManagementPolicy: 'Parallel',
    updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: '50%' } },
    revisionHistoryLimit: 0,
    persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Delete' },
  });
  assert.deepEqual(obj.status, {});
});

test('Eviction carries DeleteOptions; DeleteOptions itself decodes under any group version', () => {
  const opts = [int(1, 0), msg(2, str(1, 'uid-1')), str(4, 'Foreground'), str(5, 'All')];
  const ev = decodeProtobufBody(envelope('policy/v1', 'Eviction', meta(1, 'web-0'), msg(2, ...opts)));
  assert.deepEqual(ev, {
    apiVersion: 'policy/v1',
    kind: 'Eviction',
    metadata: { name: 'web-0' },
    deleteOptions: { gracePeriodSeconds: 0, preconditions: { uid: 'uid-1' }, propagationPolicy: 'Foreground', dryRun: ['All'] },
  });
  const del = decodeProtobufBody(envelope('apps/v1', 'DeleteOptions', ...opts));
  assert.equal(del.kind, 'DeleteOptions');
  assert.equal(del.gracePeriodSeconds, 0);
  assert.deepEqual(del.preconditions, { uid: 'uid-1' });
});

test('Binding, Lease, Event: object references, MicroTime, pointer ints', () => {
  const binding = decodeProtobufBody(envelope('v1', 'Binding', meta(1, 'web-0'), msg(2, str(1, 'Node'), str(3, 'node-1'))));
  assert.deepEqual(binding.target, { kind: 'Node', name: 'node-1' });

  const t = Date.UTC(2024, 5, 1, 12, 0, 0) / 1000;
  const lease = decodeProtobufBody(envelope('coordination.k8s.io/v1', 'Lease', meta(1, 'node-1'), msg(2, str(1, 'node-1'), int(2, 40), msg(3, int(1, t), int(2, 123456789)), msg(4, int(1, t)), int(5, 0))));
  assert.deepEqual(lease.spec, { holderIdentity: 'node-1', leaseDurationSeconds: 40, acquireTime: '2024-06-01T12:00:00.123456Z', renewTime: '2024-06-01T12:00:00.000000Z', leaseTransitions: 0 });

  const event = decodeProtobufBody(envelope('v1', 'Event', meta(1, 'e1'), msg(2, str(1, 'Pod'), str(3, 'web-0')), str(3, 'Scheduled'), msg(5, str(1, 'scheduler')), msg(6, int(1, t)), msg(7), int(8, 1), str(9, 'Normal'), msg(10)));
  assert.deepEqual(event, {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'e1' },
    involvedObject: { kind: 'Pod', name: 'web-0' },
    reason: 'Scheduled',
    source: { component: 'scheduler' },
    firstTimestamp: '2024-06-01T12:00:00Z',
    count: 1,
    type: 'Normal',
  });
});

test('ControllerRevision data and managedFields hold raw JSON', () => {
  const data = Buffer.from(JSON.stringify({ spec: { template: { $patch: 'replace' } } }));
  const mf = msg(17, str(1, 'kubectl'), str(2, 'Update'), str(3, 'apps/v1'), str(6, 'FieldsV1'), msg(7, bytes(1, Buffer.from('{"f:spec":{}}'))));
  const obj = decodeProtobufBody(envelope('apps/v1', 'ControllerRevision', meta(1, 'web-abc', mf), msg(2, bytes(1, data)), int(3, 2)));
  assert.deepEqual(obj.data, { spec: { template: { $patch: 'replace' } } });
  assert.equal(obj.revision, 2);
  assert.deepEqual(obj.metadata.managedFields, [{ manager: 'kubectl', operation: 'Update', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': {} } }]);
});

test('unknown fields of every wire type are skipped; negative int32 decodes', () => {
  const fixed64 = Buffer.concat([key(90, 1), Buffer.alloc(8)]);
  const fixed32 = Buffer.concat([key(91, 5), Buffer.alloc(4)]);
  const body = envelope('scheduling.k8s.io/v1', 'PriorityClass', meta(1, 'pc', str(99, 'future')), int(2, -5), fixed64, fixed32, int(92, 7), str(5, 'Never'));
  assert.deepEqual(decodeProtobufBody(body), { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'pc' }, value: -5, preemptionPolicy: 'Never' });
});

test('bodies captured from kubectl v1.32 decode to what its JSON would say', () => {
  // kubectl create deployment d1 --image=nginx --replicas=0 --port=80
  const deployment = Buffer.from(
    '6b3873000a150a07617070732f7631120a4465706c6f796d656e7412b4010a1d0a02643112001a0022002a003200380042005a090a03617070120264311284010800120b0a090a03617070120264311a6b0a1b0a0012001a0022002a003200380042005a090a0361707012026431124c122e0a056e67696e7812056e67696e782a00320a0a001000185022002a0042006a007200800100880100900100a201001a00320042004a0052005800600068008201008a01009a0100c2010022020a00280038001a0c0800100018002000280038001a002200',
    'hex',
  );
  assert.deepEqual(decodeProtobufBody(deployment), {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'd1', labels: { app: 'd1' } },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: 'd1' } },
      template: { metadata: { labels: { app: 'd1' } }, spec: { containers: [{ name: 'nginx', image: 'nginx', ports: [{ containerPort: 80 }], resources: {} }] } },
      strategy: {},
    },
    status: {},
  });
  // kubectl create quota q --hard=cpu=1,pods=2
  const quota = Buffer.from('6b3873000a130a027631120d5265736f7572636551756f746112300a110a017112001a0022002a0032003800420012190a0a0a0363707512030a01310a0b0a04706f647312030a01321a001a002200', 'hex');
  assert.deepEqual(decodeProtobufBody(quota), { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q' }, spec: { hard: { cpu: '1', pods: '2' } }, status: {} });
});

test('unsupported kinds and garbled bodies', () => {
  assert.throws(() => decodeProtobufBody(envelope('example.com/v1', 'Widget', meta(1, 'w'))), UnsupportedProtobufKindError);
  assert.throws(() => decodeProtobufBody(envelope('v1', 'Container', str(1, 'c'))), UnsupportedProtobufKindError, 'parts of objects are not request bodies');
  assert.throws(() => decodeProtobufBody(Buffer.from('{"kind":"Namespace"}')), /k8s/);
  assert.throws(() => decodeProtobufBody(Buffer.concat([envelope('v1', 'Namespace', meta(1, 'x')).subarray(0, 20)])), ProtobufDecodeError);
  assert.throws(() => decodeProtobufBody(envelope('v1', 'Namespace', str(1, 'not a message'), int(2, 5))), ProtobufDecodeError);

  const unsupported = (() => {
    try {
      parseProtobufRequestBody(envelope('example.com/v1', 'Widget'));
    } catch (e) {
      return e;
    }
  })();
  assert.ok(unsupported instanceof ApiError);
  assert.equal(unsupported.code, 415);
  assert.equal(unsupported.reason, 'UnsupportedMediaType');
  assert.match(unsupported.message, /Widget/);
  assert.throws(() => parseProtobufRequestBody(Buffer.from('k8s\0\x0a\xff', 'latin1')), (e: unknown) => e instanceof ApiError && e.code === 400);
});

test('every kind the brief lists has a table entry, and every table reference resolves', () => {
  for (const [apiVersion, kind] of [
    ['v1', 'Namespace'], ['v1', 'ConfigMap'], ['v1', 'Secret'], ['v1', 'ServiceAccount'], ['v1', 'Service'], ['v1', 'Pod'], ['v1', 'Binding'],
    ['v1', 'PersistentVolumeClaim'], ['v1', 'Endpoints'], ['v1', 'Event'], ['v1', 'Node'], ['policy/v1', 'PodDisruptionBudget'], ['policy/v1', 'Eviction'],
    ['coordination.k8s.io/v1', 'Lease'], ['apps/v1', 'StatefulSet'], ['apps/v1', 'ControllerRevision'], ['storage.k8s.io/v1', 'StorageClass'],
    ['discovery.k8s.io/v1', 'EndpointSlice'], ['autoscaling/v1', 'Scale'], ['v1', 'DeleteOptions'],
  ]) {
    assert.ok(messageKeyFor(apiVersion, kind), `${apiVersion} ${kind}`);
  }
  for (const [k, spec] of Object.entries(MESSAGES)) {
    const pkg = k.slice(0, k.indexOf('.'));
    for (const m of spec.matchAll(/(?::|\{)([\w/.]{2,})/g)) {
      const ref = m[1].includes('/') || /^(runtime|schema|intstr|resource)\./.test(m[1]) ? m[1] : `${pkg}.${m[1]}`;
      assert.ok(ref in MESSAGES, `${k} refers to ${ref}`);
    }
    assert.doesNotThrow(() => decodeObject(k, Buffer.alloc(0)), k);
  }
});
