import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tableFor, humanDuration, age, summarizePod, canonicalQuantity } from '../../src/api/tables/index.ts';
import type { Obj } from '../../src/api/resource.ts';

const now = Date.parse('2025-01-01T12:00:00Z');
const ago = (seconds: number) => new Date(now - seconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
const meta = (name: string, extra: Obj = {}) => ({ name, namespace: 'default', creationTimestamp: ago(300), ...extra });

/** Cells keyed by column name, so expectations read like kubectl output. */
function row(kind: string, obj: Obj): Record<string, unknown> {
  const t = tableFor(kind);
  const cells = t.cells(obj, now);
  assert.equal(cells.length, t.columns.length, `${kind}: one cell per column`);
  return Object.fromEntries(t.columns.map((c, i) => [c.name, cells[i]]));
}

const running = (name: string, extra: Obj = {}) => ({
  name,
  ready: true,
  started: true,
  restartCount: 0,
  image: 'nginx',
  imageID: 'sha256:1',
  containerID: 'containerd://1',
  state: { running: { startedAt: ago(200) } },
  ...extra,
});

test('humanDuration follows upstream boundaries', () => {
  const cases: [number, string][] = [
    [-500, '0s'],
    [-2000, '<invalid>'],
    [0, '0s'],
    [119_000, '119s'],
    [120_000, '2m'],
    [125_000, '2m5s'],
    [600_000, '10m'],
    [3 * 3600_000 - 1000, '179m'],
    [3 * 3600_000, '3h'],
    [3 * 3600_000 + 5 * 60_000, '3h5m'],
    [8 * 3600_000, '8h'],
    [47 * 3600_000, '47h'],
    [48 * 3600_000, '2d'],
    [50 * 3600_000, '2d2h'],
    [8 * 86400_000, '8d'],
    [730 * 86400_000, '2y'],
    [(730 + 5) * 86400_000, '2y5d'],
    [8 * 365 * 86400_000, '8y'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, String(ms));
  assert.equal(age(undefined, now), '<unknown>');
  assert.equal(age(ago(300), now), '5m');
});

test('every served kind has its upstream column names, in order, with name/age conventions', () => {
  const expected: Record<string, string[]> = {
    Pod: ['Name', 'Ready', 'Status', 'Restarts', 'Age', 'IP', 'Node', 'Nominated Node', 'Readiness Gates'],
    StatefulSet: ['Name', 'Ready', 'Age', 'Containers', 'Images'],
    ControllerRevision: ['Name', 'Controller', 'Revision', 'Age'],
    Service: ['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age', 'Selector'],
    Endpoints: ['Name', 'Endpoints', 'Age'],
    PersistentVolumeClaim: ['Name', 'Status', 'Volume', 'Capacity', 'Access Modes', 'StorageClass', 'VolumeAttributesClass', 'Age', 'VolumeMode'],
    PersistentVolume: ['Name', 'Capacity', 'Access Modes', 'Reclaim Policy', 'Status', 'Claim', 'StorageClass', 'VolumeAttributesClass', 'Reason', 'Age', 'VolumeMode'],
    Node: ['Name', 'Status', 'Roles', 'Age', 'Version', 'Internal-IP', 'External-IP', 'OS-Image', 'Kernel-Version', 'Container-Runtime'],
    Namespace: ['Name', 'Status', 'Age'],
    ConfigMap: ['Name', 'Data', 'Age'],
    Secret: ['Name', 'Type', 'Data', 'Age'],
    Event: ['Last Seen', 'Type', 'Reason', 'Object', 'Subobject', 'Source', 'Message', 'First Seen', 'Count', 'Name'],
    ServiceAccount: ['Name', 'Secrets', 'Age'],
    StorageClass: ['Name', 'Provisioner', 'ReclaimPolicy', 'VolumeBindingMode', 'AllowVolumeExpansion', 'Age'],
    Lease: ['Name', 'Holder', 'Age'],
    PodDisruptionBudget: ['Name', 'Min Available', 'Max Unavailable', 'Allowed Disruptions', 'Age'],
    EndpointSlice: ['Name', 'AddressType', 'Ports', 'Endpoints', 'Age'],
  };
  const wide: Record<string, string[]> = {
    Pod: ['IP', 'Node', 'Nominated Node', 'Readiness Gates'],
    StatefulSet: ['Containers', 'Images'],
    Service: ['Selector'],
    PersistentVolumeClaim: ['VolumeMode'],
    PersistentVolume: ['VolumeMode'],
    Node: ['Internal-IP', 'External-IP', 'OS-Image', 'Kernel-Version', 'Container-Runtime'],
    Event: ['Subobject', 'Source', 'First Seen', 'Count', 'Name'],
  };
  for (const [kind, names] of Object.entries(expected)) {
    const cols = tableFor(kind).columns;
    assert.deepEqual(cols.map((c) => c.name), names, kind);
    assert.deepEqual(cols.filter((c) => c.priority === 1).map((c) => c.name), wide[kind] ?? [], `${kind} wide columns`);
    for (const c of cols) {
      assert.ok(c.description.length > 0, `${kind}.${c.name} has a description`);
      if (c.name === 'Name') assert.equal(c.format, 'name');
      else assert.equal(c.format, undefined, `${kind}.${c.name} has no format`);
    }
    // Every cell row starts with the name except events, whose name is the last (wide) column.
    const obj = { metadata: meta('x') };
    const cells = tableFor(kind).cells(obj, now);
    assert.equal(cells.length, cols.length);
    if (kind !== 'Event') assert.equal(cells[0], 'x');
    const ageIndex = cols.findIndex((c) => c.name === 'Age');
    if (ageIndex >= 0) assert.equal(cells[ageIndex], '5m', `${kind} age`);
  }
  assert.equal(tableFor('Pod').columns.find((c) => c.name === 'Restarts')!.type, 'string');
  assert.equal(tableFor('PodDisruptionBudget').columns.find((c) => c.name === 'Allowed Disruptions')!.type, 'integer');
  assert.deepEqual(tableFor('Widget').columns.map((c) => [c.name, c.type]), [['Name', 'string'], ['Created At', 'date']]);
});

test('pod READY / STATUS / RESTARTS derivation', () => {
  const base = (spec: Obj, status: Obj, metadata: Obj = {}): Obj => ({
    metadata: meta('web-0', metadata),
    spec: { containers: [{ name: 'nginx', image: 'nginx' }], ...spec },
    status,
  });
  const cases: { name: string; pod: Obj; ready: string; status: string; restarts: string }[] = [
    { name: 'freshly created', pod: base({}, { phase: 'Pending' }), ready: '0/1', status: 'Pending', restarts: '0' },
    {
      name: 'running and ready',
      pod: base({}, { phase: 'Running', containerStatuses: [running('nginx')], conditions: [{ type: 'Ready', status: 'True' }] }),
      ready: '1/1',
      status: 'Running',
      restarts: '0',
    },
    {
      name: 'running but not ready',
      pod: base({}, { phase: 'Running', containerStatuses: [running('nginx', { ready: false })] }),
      ready: '0/1',
      status: 'Running',
      restarts: '0',
    },
    {
      name: 'crash loop with last restart time',
      pod: base({}, {
        phase: 'Running',
        containerStatuses: [
          {
            name: 'nginx',
            ready: false,
            restartCount: 4,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(65) } },
          },
        ],
      }),
      ready: '0/1',
      status: 'CrashLoopBackOff',
      restarts: '4 (65s ago)',
    },
    {
      name: 'image pull backoff',
      pod: base({}, { phase: 'Pending', containerStatuses: [{ name: 'nginx', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff' } } }] }),
      ready: '0/1',
      status: 'ImagePullBackOff',
      restarts: '0',
    },
    {
      name: 'terminated by signal without reason',
      pod: base({}, { phase: 'Running', containerStatuses: [{ name: 'nginx', restartCount: 0, state: { terminated: { exitCode: 137, signal: 9 } } }] }),
      ready: '0/1',
      status: 'Signal:9',
      restarts: '0',
    },
    {
      name: 'terminated with exit code and no reason',
      pod: base({}, { phase: 'Failed', containerStatuses: [{ name: 'nginx', restartCount: 0, state: { terminated: { exitCode: 2 } } }] }),
      ready: '0/1',
      status: 'ExitCode:2',
      restarts: '0',
    },
    {
      name: 'completed pod',
      pod: base({}, { phase: 'Succeeded', containerStatuses: [{ name: 'nginx', restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }] }),
      ready: '0/1',
      status: 'Completed',
      restarts: '0',
    },
    {
      name: 'one container completed while another runs, pod ready',
      pod: base(
        { containers: [{ name: 'a' }, { name: 'b' }] },
        {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: 'True' }],
          containerStatuses: [running('a'), { name: 'b', restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }],
        },
      ),
      ready: '1/2',
      status: 'Running',
      restarts: '0',
    },
    {
      name: 'one container completed while another runs, pod not ready',
      pod: base(
        { containers: [{ name: 'a' }, { name: 'b' }] },
        { phase: 'Running', containerStatuses: [running('a'), { name: 'b', restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }] },
      ),
      ready: '1/2',
      status: 'NotReady',
      restarts: '0',
    },
    {
      name: 'terminating',
      pod: base({}, { phase: 'Running', containerStatuses: [running('nginx')] }, { deletionTimestamp: ago(1) }),
      ready: '1/1',
      status: 'Terminating',
      restarts: '0',
    },
    {
      name: 'terminal pods being deleted keep their phase',
      pod: base({}, { phase: 'Succeeded' }, { deletionTimestamp: ago(1) }),
      ready: '0/1',
      status: 'Succeeded',
      restarts: '0',
    },
    {
      name: 'node lost',
      pod: base({}, { phase: 'Running', reason: 'NodeLost', containerStatuses: [running('nginx')] }, { deletionTimestamp: ago(1) }),
      ready: '1/1',
      status: 'Unknown',
      restarts: '0',
    },
    {
      name: 'status.reason overrides the phase',
      pod: base({}, { phase: 'Failed', reason: 'Evicted' }),
      ready: '0/1',
      status: 'Evicted',
      restarts: '0',
    },
    {
      name: 'scheduling gated',
      pod: base({}, { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] }),
      ready: '0/1',
      status: 'SchedulingGated',
      restarts: '0',
    },
    {
      name: 'init container still running',
      pod: base(
        { initContainers: [{ name: 'init-a' }, { name: 'init-b' }] },
        {
          phase: 'Pending',
          initContainerStatuses: [
            { name: 'init-a', restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
            { name: 'init-b', restartCount: 0, state: { running: { startedAt: ago(5) } } },
          ],
          containerStatuses: [{ name: 'nginx', restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } }],
        },
      ),
      ready: '0/1',
      status: 'Init:1/2',
      restarts: '0',
    },
    {
      name: 'init container crash looping (init restarts count until initialized)',
      pod: base(
        { initContainers: [{ name: 'init' }] },
        {
          phase: 'Pending',
          initContainerStatuses: [
            { name: 'init', restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, finishedAt: ago(30) } } },
          ],
        },
      ),
      ready: '0/1',
      status: 'Init:CrashLoopBackOff',
      restarts: '3 (30s ago)',
    },
    {
      name: 'init container failed with exit code',
      pod: base({ initContainers: [{ name: 'init' }] }, { phase: 'Pending', initContainerStatuses: [{ name: 'init', restartCount: 0, state: { terminated: { exitCode: 3 } } }] }),
      ready: '0/1',
      status: 'Init:ExitCode:3',
      restarts: '0',
    },
    {
      name: 'init container failed with signal',
      pod: base({ initContainers: [{ name: 'init' }] }, { phase: 'Pending', initContainerStatuses: [{ name: 'init', restartCount: 0, state: { terminated: { exitCode: 137, signal: 9 } } }] }),
      ready: '0/1',
      status: 'Init:Signal:9',
      restarts: '0',
    },
    {
      name: 'init container failed with reason',
      pod: base({ initContainers: [{ name: 'init' }] }, { phase: 'Pending', initContainerStatuses: [{ name: 'init', restartCount: 0, state: { terminated: { exitCode: 1, reason: 'Error' } } }] }),
      ready: '0/1',
      status: 'Init:Error',
      restarts: '0',
    },
    {
      name: 'sidecar counts toward READY and its restarts survive initialization',
      pod: base(
        { initContainers: [{ name: 'proxy', restartPolicy: 'Always' }] },
        {
          phase: 'Running',
          conditions: [{ type: 'Initialized', status: 'True' }, { type: 'Ready', status: 'True' }],
          initContainerStatuses: [running('proxy', { restartCount: 2, lastState: { terminated: { exitCode: 1, finishedAt: ago(600) } } })],
          containerStatuses: [running('nginx', { restartCount: 1, lastState: { terminated: { exitCode: 1, finishedAt: ago(120) } } })],
        },
      ),
      ready: '2/2',
      status: 'Running',
      restarts: '3 (2m ago)',
    },
  ];
  for (const c of cases) {
    const s = summarizePod(c.pod, now);
    assert.deepEqual([s.ready, s.status, s.restarts], [c.ready, c.status, c.restarts], c.name);
  }
});

test('pod wide columns', () => {
  const plain = row('Pod', { metadata: meta('web-0'), spec: { containers: [{ name: 'c' }] }, status: { phase: 'Pending' } });
  assert.deepEqual([plain.IP, plain.Node, plain['Nominated Node'], plain['Readiness Gates']], ['<none>', '<none>', '<none>', '<none>']);
  const r = row('Pod', {
    metadata: meta('web-0'),
    spec: { nodeName: 'node-1', containers: [{ name: 'c' }], readinessGates: [{ conditionType: 'example.com/a' }, { conditionType: 'example.com/b' }] },
    status: {
      phase: 'Running',
      podIP: '10.0.0.9',
      podIPs: [{ ip: '10.0.0.9' }, { ip: 'fd00::9' }],
      nominatedNodeName: 'node-2',
      conditions: [{ type: 'example.com/a', status: 'True' }, { type: 'example.com/b', status: 'False' }],
    },
  });
  assert.deepEqual([r.Name, r.Age, r.IP, r.Node, r['Nominated Node'], r['Readiness Gates']], ['web-0', '5m', '10.0.0.9', 'node-1', 'node-2', '1/2']);
  assert.equal(row('Pod', { metadata: meta('p'), spec: {}, status: { podIP: '10.0.0.3' } }).IP, '10.0.0.3');
  assert.equal(row('Service', { metadata: meta('s'), spec: { type: 'ClusterIP', clusterIP: '10.96.0.9' } })['Cluster-IP'], '10.96.0.9');
});

test('statefulset and controllerrevision rows', () => {
  const sts = row('StatefulSet', {
    metadata: meta('web'),
    spec: { replicas: 3, template: { spec: { containers: [{ name: 'nginx', image: 'registry.k8s.io/nginx-slim:0.24' }, { name: 'side', image: 'busybox' }] } } },
    status: { replicas: 3, readyReplicas: 2 },
  });
  assert.deepEqual(sts, { Name: 'web', Ready: '2/3', Age: '5m', Containers: 'nginx,side', Images: 'registry.k8s.io/nginx-slim:0.24,busybox' });
  assert.equal(row('StatefulSet', { metadata: meta('web'), spec: { replicas: 0 }, status: {} }).Ready, '0/0');

  const cr = row('ControllerRevision', {
    metadata: meta('web-6c5f4b6b7d', { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'u', controller: true }] }),
    revision: 2,
  });
  assert.deepEqual(cr, { Name: 'web-6c5f4b6b7d', Controller: 'statefulset.apps/web', Revision: 2, Age: '5m' });
  assert.equal(row('ControllerRevision', { metadata: meta('x'), revision: 1 }).Controller, '<none>');
  const coreOwner = row('ControllerRevision', { metadata: meta('x', { ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'p', controller: true }] }), revision: 1 });
  assert.equal(coreOwner.Controller, 'pod/p');
});

test('service rows', () => {
  const cases: { svc: Obj; want: Obj }[] = [
    {
      svc: { metadata: meta('nginx'), spec: { type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'], ports: [{ name: 'web', port: 80, protocol: 'TCP' }], selector: { app: 'nginx' } } },
      want: { Type: 'ClusterIP', 'Cluster-IP': 'None', 'External-IP': '<none>', 'Port(s)': '80/TCP', Selector: 'app=nginx' },
    },
    {
      svc: { metadata: meta('np'), spec: { type: 'NodePort', clusterIPs: ['10.96.0.5'], ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }], selector: { tier: 'b', app: 'a' } } },
      want: { Type: 'NodePort', 'Cluster-IP': '10.96.0.5', 'External-IP': '<none>', 'Port(s)': '80:30080/TCP,53/UDP', Selector: 'app=a,tier=b' },
    },
    {
      svc: { metadata: meta('lb'), spec: { type: 'LoadBalancer', clusterIPs: ['10.96.0.6'], ports: [{ port: 443, nodePort: 31443, protocol: 'TCP' }] }, status: {} },
      want: { 'External-IP': '<pending>', 'Port(s)': '443:31443/TCP', Selector: '<none>' },
    },
    {
      svc: {
        metadata: meta('lb2'),
        spec: { type: 'LoadBalancer', clusterIPs: ['10.96.0.7'], externalIPs: ['1.2.3.4'], ports: [] },
        status: { loadBalancer: { ingress: [{ ip: '5.6.7.8' }, { hostname: 'lb.example.com' }] } },
      },
      want: { 'External-IP': '5.6.7.8,lb.example.com,1.2.3.4', 'Port(s)': '<none>' },
    },
    { svc: { metadata: meta('ext'), spec: { type: 'ExternalName', externalName: 'db.example.com' } }, want: { 'Cluster-IP': '<none>', 'External-IP': 'db.example.com' } },
    { svc: { metadata: meta('eip'), spec: { type: 'ClusterIP', clusterIPs: ['10.0.0.1'], externalIPs: ['1.1.1.1', '2.2.2.2'] } }, want: { 'External-IP': '1.1.1.1,2.2.2.2' } },
  ];
  for (const c of cases) {
    const r = row('Service', c.svc);
    for (const [k, v] of Object.entries(c.want)) assert.equal(r[k], v, `${c.svc.metadata.name} ${k}`);
  }
});

test('endpoints ENDPOINTS column', () => {
  const addrs = (...ips: string[]) => ips.map((ip) => ({ ip }));
  const cases: [string, Obj[] | undefined, string][] = [
    ['no subsets', undefined, '<none>'],
    ['empty subsets', [], '<none>'],
    ['one address one port', [{ addresses: addrs('10.0.0.1'), ports: [{ port: 80 }] }], '10.0.0.1:80'],
    [
      'five addresses',
      [{ addresses: addrs('10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5'), ports: [{ port: 80 }] }],
      '10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 2 more...',
    ],
    ['exactly three', [{ addresses: addrs('10.0.0.1', '10.0.0.2', '10.0.0.3'), ports: [{ port: 80 }] }], '10.0.0.1:80,10.0.0.2:80,10.0.0.3:80'],
    [
      'two ports multiply entries',
      [{ addresses: addrs('10.0.0.1', '10.0.0.2'), ports: [{ port: 80 }, { port: 443 }] }],
      '10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more...',
    ],
    ['headless without ports', [{ addresses: addrs('10.0.0.1', '10.0.0.2') }], '10.0.0.1,10.0.0.2'],
    ['only not-ready addresses', [{ notReadyAddresses: addrs('10.0.0.1'), ports: [{ port: 80 }] }], ''],
    ['ipv6 is bracketed', [{ addresses: addrs('fd00::1'), ports: [{ port: 80 }] }], '[fd00::1]:80'],
    [
      'counts across subsets',
      [
        { addresses: addrs('10.0.0.1', '10.0.0.2'), ports: [{ port: 80 }] },
        { addresses: addrs('10.0.0.3', '10.0.0.4'), ports: [{ port: 8080 }] },
      ],
      '10.0.0.1:80,10.0.0.2:80,10.0.0.3:8080 + 1 more...',
    ],
  ];
  for (const [name, subsets, want] of cases) {
    assert.equal(row('Endpoints', { metadata: meta('nginx'), subsets }).Endpoints, want, name);
  }
});

test('persistentvolumeclaim rows', () => {
  const pending = row('PersistentVolumeClaim', {
    metadata: meta('www-web-0'),
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'standard', volumeMode: 'Filesystem' },
    status: { phase: 'Pending' },
  });
  assert.deepEqual(pending, {
    Name: 'www-web-0',
    Status: 'Pending',
    Volume: '',
    Capacity: '',
    'Access Modes': '',
    StorageClass: 'standard',
    VolumeAttributesClass: '<unset>',
    Age: '5m',
    VolumeMode: 'Filesystem',
  });
  const bound = row('PersistentVolumeClaim', {
    metadata: meta('www-web-0', { deletionTimestamp: ago(1), annotations: { 'volume.beta.kubernetes.io/storage-class': 'legacy' } }),
    spec: { volumeName: 'pvc-123', storageClassName: 'standard', volumeAttributesClassName: 'gold' },
    status: { phase: 'Bound', capacity: { storage: '1024Mi' }, accessModes: ['ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod', 'ReadOnlyMany'] },
  });
  assert.deepEqual([bound.Status, bound.Volume, bound.Capacity, bound['Access Modes'], bound.StorageClass, bound.VolumeAttributesClass, bound.VolumeMode], [
    'Terminating',
    'pvc-123',
    '1Gi',
    'RWO,ROX,RWX,RWOP',
    'legacy',
    'gold',
    '<unset>',
  ]);
});

test('persistentvolume rows', () => {
  const r = row('PersistentVolume', {
    metadata: { name: 'pvc-123', creationTimestamp: ago(3600) },
    spec: {
      capacity: { storage: '10Gi' },
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Delete',
      claimRef: { namespace: 'default', name: 'www-web-0' },
      storageClassName: 'standard',
      volumeMode: 'Filesystem',
    },
    status: { phase: 'Bound' },
  });
  assert.deepEqual(r, {
    Name: 'pvc-123',
    Capacity: '10Gi',
    'Access Modes': 'RWO',
    'Reclaim Policy': 'Delete',
    Status: 'Bound',
    Claim: 'default/www-web-0',
    StorageClass: 'standard',
    VolumeAttributesClass: '<unset>',
    Reason: '',
    Age: '60m',
    VolumeMode: 'Filesystem',
  });
  const bare = row('PersistentVolume', { metadata: { name: 'pv', creationTimestamp: ago(1), deletionTimestamp: ago(0) }, spec: {}, status: { phase: 'Released' } });
  assert.deepEqual([bare.Capacity, bare.Claim, bare.Status, bare.VolumeMode], ['0', '', 'Terminating', '<unset>']);
});

test('node rows', () => {
  const node = (extra: Obj): Obj => ({
    metadata: { name: 'node-1', creationTimestamp: ago(86400 * 3), labels: { 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/role': 'worker', 'node-role.kubernetes.io/': '' } },
    status: {
      conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: 'True' }],
      addresses: [{ type: 'Hostname', address: 'node-1' }, { type: 'InternalIP', address: '192.168.1.10' }],
      nodeInfo: { kubeletVersion: 'v1.32.0', osImage: 'Ubuntu 24.04', kernelVersion: '6.8.0', containerRuntimeVersion: 'containerd://1.7.0' },
    },
    ...extra,
  });
  assert.deepEqual(row('Node', node({})), {
    Name: 'node-1',
    Status: 'Ready',
    Roles: 'control-plane,worker',
    Age: '3d',
    Version: 'v1.32.0',
    'Internal-IP': '192.168.1.10',
    'External-IP': '<none>',
    'OS-Image': 'Ubuntu 24.04',
    'Kernel-Version': '6.8.0',
    'Container-Runtime': 'containerd://1.7.0',
  });
  const cordoned = row('Node', node({ spec: { unschedulable: true }, status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } }));
  assert.deepEqual([cordoned.Status, cordoned['OS-Image'], cordoned['Internal-IP'], cordoned.Version], ['NotReady,SchedulingDisabled', '<unknown>', '<none>', '']);
  const bare = row('Node', { metadata: { name: 'n', creationTimestamp: ago(1) } });
  assert.deepEqual([bare.Status, bare.Roles], ['Unknown', '<none>']);
});

test('namespace, configmap, secret, serviceaccount rows', () => {
  assert.deepEqual(row('Namespace', { metadata: { name: 'default', creationTimestamp: ago(10) }, status: { phase: 'Active' } }), { Name: 'default', Status: 'Active', Age: '10s' });
  assert.deepEqual(row('ConfigMap', { metadata: meta('cfg'), data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } }), { Name: 'cfg', Data: 3, Age: '5m' });
  assert.equal(row('ConfigMap', { metadata: meta('empty') }).Data, 0);
  assert.deepEqual(row('Secret', { metadata: meta('s'), type: 'Opaque', data: { u: 'YQ==', p: 'Yg==' } }), { Name: 's', Type: 'Opaque', Data: 2, Age: '5m' });
  assert.deepEqual(row('ServiceAccount', { metadata: meta('default'), secrets: [{ name: 'tok' }] }), { Name: 'default', Secrets: 1, Age: '5m' });
  assert.equal(row('ServiceAccount', { metadata: meta('default') }).Secrets, 0);
});

test('event rows', () => {
  const ev = row('Event', {
    metadata: meta('web-0.17a'),
    involvedObject: { kind: 'Pod', name: 'web-0', namespace: 'default', fieldPath: 'spec.containers{nginx}' },
    reason: 'Pulled',
    message: ' Container image "nginx" already present on machine \n',
    source: { component: 'kubelet', host: 'node-1' },
    firstTimestamp: ago(600),
    lastTimestamp: ago(30),
    count: 3,
    type: 'Normal',
  });
  assert.deepEqual(ev, {
    'Last Seen': '30s',
    Type: 'Normal',
    Reason: 'Pulled',
    Object: 'pod/web-0',
    Subobject: 'spec.containers{nginx}',
    Source: 'kubelet, node-1',
    Message: 'Container image "nginx" already present on machine',
    'First Seen': '10m',
    Count: 3,
    Name: 'web-0.17a',
  });
  // events.k8s.io style: eventTime, reporting fields, no count.
  const modern = row('Event', {
    metadata: meta('e2'),
    involvedObject: { kind: 'StatefulSet', namespace: 'default' },
    reason: 'SuccessfulCreate',
    eventTime: new Date(now - 90_000).toISOString(),
    reportingComponent: 'statefulset-controller',
    reportingInstance: '',
    type: 'Normal',
  });
  assert.deepEqual([modern['Last Seen'], modern['First Seen'], modern.Object, modern.Source, modern.Count], ['90s', '90s', 'statefulset', 'statefulset-controller', 1]);
  const series = row('Event', { metadata: meta('e3'), involvedObject: { kind: 'Pod', name: 'p' }, eventTime: ago(600), series: { count: 7, lastObservedTime: ago(5) } });
  assert.deepEqual([series['Last Seen'], series.Count, series['First Seen']], ['5s', 7, '10m']);
  assert.equal(row('Event', { metadata: meta('e4') })['Last Seen'], '<unknown>');
});

test('storageclass, lease, pdb, endpointslice rows', () => {
  assert.deepEqual(
    row('StorageClass', { metadata: { name: 'standard', creationTimestamp: ago(5), annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }, provisioner: 'ordinal.dev/hostpath' }),
    { Name: 'standard (default)', Provisioner: 'ordinal.dev/hostpath', ReclaimPolicy: 'Delete', VolumeBindingMode: 'Immediate', AllowVolumeExpansion: false, Age: '5s' },
  );
  const sc = row('StorageClass', {
    metadata: { name: 'fast', creationTimestamp: ago(5), annotations: { 'storageclass.beta.kubernetes.io/is-default-class': 'false' } },
    provisioner: 'p',
    reclaimPolicy: 'Retain',
    volumeBindingMode: 'WaitForFirstConsumer',
    allowVolumeExpansion: true,
  });
  assert.deepEqual([sc.Name, sc.ReclaimPolicy, sc.VolumeBindingMode, sc.AllowVolumeExpansion], ['fast', 'Retain', 'WaitForFirstConsumer', true]);
  assert.equal(row('StorageClass', { metadata: { name: 'b', annotations: { 'storageclass.beta.kubernetes.io/is-default-class': 'true' } } }).Name, 'b (default)');

  assert.deepEqual(row('Lease', { metadata: meta('ordinal-controller-manager'), spec: { holderIdentity: 'host_1234' } }), { Name: 'ordinal-controller-manager', Holder: 'host_1234', Age: '5m' });
  assert.equal(row('Lease', { metadata: meta('l'), spec: {} }).Holder, '');

  assert.deepEqual(row('PodDisruptionBudget', { metadata: meta('pdb'), spec: { minAvailable: 2 }, status: { disruptionsAllowed: 1 } }), {
    Name: 'pdb',
    'Min Available': '2',
    'Max Unavailable': 'N/A',
    'Allowed Disruptions': 1,
    Age: '5m',
  });
  const pct = row('PodDisruptionBudget', { metadata: meta('pdb'), spec: { maxUnavailable: '25%' }, status: {} });
  assert.deepEqual([pct['Min Available'], pct['Max Unavailable'], pct['Allowed Disruptions']], ['N/A', '25%', 0]);

  const es = row('EndpointSlice', {
    metadata: meta('nginx-abc12'),
    addressType: 'IPv4',
    ports: [{ name: 'web', port: 80, protocol: 'TCP' }, { name: 'alt' }, {}, { port: 9000 }],
    endpoints: [{ addresses: ['10.0.0.1'] }, { addresses: ['10.0.0.2', '10.0.0.3'] }, { addresses: ['10.0.0.4'] }],
  });
  assert.deepEqual(es, { Name: 'nginx-abc12', AddressType: 'IPv4', Ports: '80,alt,* + 1 more...', Endpoints: '10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...', Age: '5m' });
  const empty = row('EndpointSlice', { metadata: meta('e'), addressType: 'IPv4' });
  assert.deepEqual([empty.Ports, empty.Endpoints], ['<unset>', '<unset>']);
});

test('canonical quantities as upstream prints them', () => {
  const cases: [string, string][] = [
    ['1Gi', '1Gi'],
    ['1024Mi', '1Gi'],
    ['1536Mi', '1536Mi'],
    ['1.5Gi', '1536Mi'],
    ['512', '512'],
    ['1000', '1k'],
    ['1500', '1500'],
    ['1000M', '1G'],
    ['0.5G', '500M'],
    ['1.5', '1500m'],
    ['100m', '100m'],
    ['0', '0'],
    ['0Gi', '0'],
    ['0.5Ki', '512'],
    ['1e3', '1e3'],
    ['1E6', '1e6'],
    ['10e2', '1e3'],
    ['2048', '2048'],
    ['5Ei', '5Ei'],
    ['-1Gi', '-1Gi'],
    ['garbage', 'garbage'],
  ];
  for (const [input, want] of cases) assert.equal(canonicalQuantity(input), want, input);
});
