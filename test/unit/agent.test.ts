import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Obj } from '../../src/api/resource.ts';
import { summarizePod } from '../../src/api/tables/pod.ts';
import { computePodStatus, type ContainerInput, type PodStatusInput } from '../../src/agent/pod-status.ts';
import { goDuration, restartDecision } from '../../src/agent/backoff.ts';
import { Ipam } from '../../src/agent/ipam.ts';
import { microTime, nodeObject, nodeStatus } from '../../src/agent/node-status.ts';
import { imageRef } from '../../src/agent/runtime/sim.ts';
import type { RuntimeContainerStatus } from '../../src/agent/runtime/types.ts';

const T0 = '2025-01-01T00:00:00Z';
const T1 = '2025-01-01T00:00:05Z';
const NOW = '2025-01-01T00:01:00Z';

function pod(spec: Obj = {}, status: Obj = {}): Obj {
  return {
    metadata: { name: 'web-0', namespace: 'default', uid: 'u1' },
    spec: { restartPolicy: 'Always', containers: [{ name: 'nginx', image: 'nginx:1.27' }], ...spec },
    status: { phase: 'Pending', qosClass: 'BestEffort', conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: T0 }], ...status },
  };
}

const runningC = (id = 'c1', startedAt = T1): RuntimeContainerStatus => ({ id, state: 'running', createdAt: startedAt, startedAt });
const exitedC = (code: number, id = 'c1'): RuntimeContainerStatus => ({ id, state: 'exited', exitCode: code, createdAt: T0, startedAt: T0, finishedAt: T1 });

function input(containers: Partial<ContainerInput>[], extra: Partial<PodStatusInput> = {}): PodStatusInput {
  return {
    runtimeName: 'sim',
    hostIP: '192.0.2.1',
    podIP: '10.244.0.2',
    startTime: T0,
    sandboxReady: true,
    containers: containers.map((c) => ({ name: 'nginx', image: 'nginx:1.27', restartCount: 0, ready: false, started: false, ...c })),
    ...extra,
  };
}

/** What `kubectl get pods` would show for a computed status. */
function row(p: Obj, inp: PodStatusInput, deleting = false): string {
  const status = computePodStatus(p, inp, NOW);
  const obj = { ...p, metadata: { ...p.metadata, ...(deleting ? { deletionTimestamp: NOW } : {}) }, status };
  const s = summarizePod(obj, Date.parse(NOW));
  return `${s.ready} ${s.status} ${s.restarts.replace(/ \(.*\)/, '')} ${status.phase}`;
}

test('pod status: READY/STATUS/RESTARTS as kubectl shows them', () => {
  const cases: [string, Obj, PodStatusInput, string, boolean?][] = [
    ['accepted, sandbox being made', pod(), input([{}], { sandboxReady: false, podIP: undefined }), '0/1 ContainerCreating 0 Pending'],
    ['running and ready', pod(), input([{ current: runningC(), ready: true, started: true }]), '1/1 Running 0 Running'],
    ['running, readiness failing', pod(), input([{ current: runningC(), started: true }]), '0/1 Running 0 Running'],
    ['exited with an error, about to restart', pod(), input([{ current: exitedC(1) }]), '0/1 Error 0 Running'],
    ['crash loop', pod(), input([{ previous: exitedC(1), restartCount: 1, waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s' } }]), '0/1 CrashLoopBackOff 1 Running'],
    ['restarted after a crash', pod(), input([{ current: runningC('c2'), previous: exitedC(1), restartCount: 2, ready: true, started: true }]), '1/1 Running 2 Running'],
    ['restartPolicy Never, exit 0', pod({ restartPolicy: 'Never' }), input([{ current: exitedC(0) }]), '0/1 Completed 0 Succeeded'],
    ['restartPolicy Never, exit 1', pod({ restartPolicy: 'Never' }), input([{ current: exitedC(1) }]), '0/1 Error 0 Failed'],
    ['OnFailure, exit 0', pod({ restartPolicy: 'OnFailure' }), input([{ current: exitedC(0) }]), '0/1 Completed 0 Succeeded'],
    ['OnFailure, exit 1 restarts', pod({ restartPolicy: 'OnFailure' }), input([{ current: exitedC(1) }]), '0/1 Error 0 Running'],
    ['deleted, stopped cleanly', pod(), input([{ current: exitedC(0) }], { podIsTerminal: true }), '0/1 Completed 0 Succeeded', true],
    ['deleted, still running', pod(), input([{ current: runningC(), ready: true, started: true }]), '1/1 Terminating 0 Running', true],
    ['deleted while creating', pod(), input([{}], { podIsTerminal: true, sandboxReady: false }), '0/1 ContainerStatusUnknown 0 Failed', true],
    [
      'init container running',
      pod({ initContainers: [{ name: 'init', image: 'busybox' }] }),
      input([{ name: 'init', image: 'busybox', init: true, current: runningC('i1') }, { waiting: { reason: 'PodInitializing' } }]),
      '0/1 Init:0/1 0 Pending',
    ],
    [
      'init done, container running',
      pod({ initContainers: [{ name: 'init', image: 'busybox' }] }),
      input([{ name: 'init', image: 'busybox', init: true, current: exitedC(0, 'i1') }, { current: runningC(), ready: true, started: true }]),
      '1/1 Running 0 Running',
    ],
    [
      'two containers, one not created yet',
      pod({ containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'y' }] }),
      input([{ name: 'a', current: runningC(), ready: true, started: true }, { name: 'b', waiting: { reason: 'ContainerCreating' } }]),
      '1/2 ContainerCreating 0 Pending',
    ],
  ];
  for (const [name, p, inp, want, deleting] of cases) assert.equal(row(p, inp, deleting ?? false), want, name);
});

test('pod status: conditions, IPs and container status fields', () => {
  const s = computePodStatus(pod(), input([{ current: runningC('abc'), ready: true, started: true, imageRef: 'docker.io/library/nginx@sha256:1' }]), NOW);
  assert.deepEqual(
    s.conditions.map((c: Obj) => [c.type, c.status]),
    [
      ['PodReadyToStartContainers', 'True'],
      ['Initialized', 'True'],
      ['Ready', 'True'],
      ['ContainersReady', 'True'],
      ['PodScheduled', 'True'],
    ],
  );
  assert.equal(s.conditions[4].lastTransitionTime, T0, 'PodScheduled is kept as the scheduler wrote it');
  assert.equal(s.conditions[2].lastTransitionTime, NOW);
  assert.equal(s.podIP, '10.244.0.2');
  assert.deepEqual(s.podIPs, [{ ip: '10.244.0.2' }]);
  assert.equal(s.hostIP, '192.0.2.1');
  assert.deepEqual(s.hostIPs, [{ ip: '192.0.2.1' }]);
  assert.equal(s.startTime, T0);
  assert.equal(s.qosClass, 'BestEffort');
  assert.deepEqual(s.containerStatuses, [
    {
      name: 'nginx',
      state: { running: { startedAt: T1 } },
      lastState: {},
      ready: true,
      restartCount: 0,
      image: 'nginx:1.27',
      imageID: 'docker.io/library/nginx@sha256:1',
      containerID: 'sim://abc',
      started: true,
    },
  ]);
  // Not ready: the reasons and messages upstream gives.
  const nr = computePodStatus(pod({}, { conditions: s.conditions }), input([{ current: runningC('abc'), started: true }]), '2025-01-01T00:02:00Z');
  const ready = nr.conditions.find((c: Obj) => c.type === 'Ready');
  assert.deepEqual({ ...ready }, { type: 'Ready', status: 'False', lastProbeTime: null, lastTransitionTime: '2025-01-01T00:02:00Z', reason: 'ContainersNotReady', message: 'containers with unready status: [nginx]' });
  // Unchanged conditions keep their transition time.
  assert.equal(nr.conditions.find((c: Obj) => c.type === 'Initialized').lastTransitionTime, NOW);
});

test('pod status: terminal phases stick; readiness gates; crash loop lastState', () => {
  const done = computePodStatus(pod({}, { phase: 'Succeeded' }), input([{ current: runningC() }]), NOW);
  assert.equal(done.phase, 'Succeeded');
  const gated = computePodStatus(pod({ readinessGates: [{ conditionType: 'example.com/lb' }] }), input([{ current: runningC(), ready: true, started: true }]), NOW);
  assert.equal(gated.conditions.find((c: Obj) => c.type === 'Ready').status, 'False');
  assert.equal(gated.conditions.find((c: Obj) => c.type === 'Ready').reason, 'ReadinessGatesNotReady');
  const loop = computePodStatus(pod(), input([{ previous: exitedC(1, 'old'), restartCount: 3, waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=nginx pod=web-0_default(u1)' } }]), NOW);
  assert.deepEqual(loop.containerStatuses[0].state, { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=nginx pod=web-0_default(u1)' } });
  assert.deepEqual(loop.containerStatuses[0].lastState, { terminated: { exitCode: 1, reason: 'Error', startedAt: T0, finishedAt: T1, containerID: 'sim://old' } });
});

test('crash-loop back-off: immediate first restart, then 10s doubling to the cap, reset after a long run', () => {
  const base = 10_000;
  const max = 300_000;
  let entry = undefined;
  const waits: number[] = [];
  let t = 0;
  for (let i = 0; i < 8; i++) {
    const d = restartDecision(entry, t, base, max);
    waits.push(d.restartAtMs - t);
    entry = d.next;
    t = d.restartAtMs + 1000;
  }
  assert.deepEqual(waits, [0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
  assert.equal(restartDecision(entry, t + 2 * max + 1, base, max).restartAtMs, t + 2 * max + 1);
  assert.deepEqual([10_000, 80_000, 300_000, 1500, 0].map(goDuration), ['10s', '1m20s', '5m0s', '1.5s', '0s']);
});

test('pod IPs: unique while in use, skipping network, gateway and broadcast', () => {
  const ipam = new Ipam('10.244.1.0/30');
  assert.throws(() => new Ipam('10.0.0.0/31'));
  const small = new Ipam('10.244.1.0/29');
  const got = [1, 2, 3, 4, 5].map(() => small.allocate());
  assert.deepEqual(got, ['10.244.1.2', '10.244.1.3', '10.244.1.4', '10.244.1.5', '10.244.1.6']);
  assert.throws(() => small.allocate(), /no pod IP/);
  small.release('10.244.1.4');
  assert.equal(small.allocate(), '10.244.1.4');
  assert.equal(ipam.allocate(), '10.244.1.2');
  const r = new Ipam('10.244.2.0/24');
  assert.equal(r.reserve('10.244.2.2'), true);
  assert.equal(r.reserve('10.244.2.2'), false);
  assert.equal(r.reserve('10.244.3.2'), false);
  assert.equal(r.allocate(), '10.244.2.3');
});

test('node object and status', () => {
  const d = {
    name: 'sim-1',
    internalIP: '192.0.2.2',
    podCIDR: '10.244.1.0/24',
    labels: { 'kubernetes.io/hostname': 'sim-1', 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' },
    capacity: { cpu: '4', memory: '16Gi', pods: '110', 'ephemeral-storage': '100Gi' },
    allocatable: { cpu: '4', memory: '16Gi', pods: '110', 'ephemeral-storage': '100Gi' },
    containerRuntimeVersion: 'sim://1.0',
    osImage: 'Ordinal simulated node',
    kernelVersion: '6.1.0',
    architecture: 'amd64',
    kubeletPort: 10250,
  };
  const n = nodeObject(d, T0, 'boot');
  assert.deepEqual(n.spec, { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24'] });
  assert.deepEqual(n.status.conditions.map((c: Obj) => `${c.type}=${c.status}`), ['MemoryPressure=False', 'DiskPressure=False', 'PIDPressure=False', 'Ready=True']);
  assert.deepEqual(n.status.addresses, [{ type: 'InternalIP', address: '192.0.2.2' }, { type: 'Hostname', address: 'sim-1' }]);
  assert.equal(n.status.nodeInfo.kubeletVersion, 'v1.32.0');
  assert.equal(n.status.nodeInfo.containerRuntimeVersion, 'sim://1.0');
  const later = nodeStatus(d, NOW, n.status, 'boot');
  const ready = later.conditions.find((c: Obj) => c.type === 'Ready');
  assert.equal(ready.lastHeartbeatTime, NOW);
  assert.equal(ready.lastTransitionTime, T0);
  assert.equal(nodeObject(d, T0, 'b').status.nodeInfo.machineID, n.status.nodeInfo.machineID, 'stable machine identity');
  assert.match(microTime(Date.parse('2025-01-01T00:00:00.123Z')), /^2025-01-01T00:00:00\.123000Z$/);
});

test('sim image references look like containerd image IDs', () => {
  assert.match(imageRef('nginx'), /^docker\.io\/library\/nginx@sha256:[0-9a-f]{64}$/);
  assert.match(imageRef('registry.k8s.io/nginx-slim:0.21'), /^registry\.k8s\.io\/nginx-slim@sha256:/);
  assert.match(imageRef('localhost:5000/app:1'), /^localhost:5000\/app@sha256:/);
});
