// The node-failure flags of `ordinal up` and `ordinal server`, under kube-controller-manager's and
// kube-apiserver's names, with their defaults and Go duration syntax.
import { parseGoDuration } from '../util/duration.ts';
import { DEFAULT_NODE_LIFECYCLE_OPTIONS, type NodeLifecycleOptions } from '../controllers/nodelifecycle/options.ts';
import { DEFAULT_POD_GC_OPTIONS } from '../controllers/podgc/controller.ts';
import { DEFAULT_ADMISSION_CONFIG, type AdmissionConfig } from '../apiserver/admission.ts';

export const NODE_LIFECYCLE_FLAGS = {
  'node-monitor-period': { type: 'string' },
  'node-monitor-grace-period': { type: 'string' },
  'node-startup-grace-period': { type: 'string' },
  'node-eviction-rate': { type: 'string' },
  'secondary-node-eviction-rate': { type: 'string' },
  'unhealthy-zone-threshold': { type: 'string' },
  'large-cluster-size-threshold': { type: 'string' },
  'terminated-pod-gc-threshold': { type: 'string' },
  'default-not-ready-toleration-seconds': { type: 'string' },
  'default-unreachable-toleration-seconds': { type: 'string' },
} as const;

export const NODE_LIFECYCLE_USAGE = `  --node-monitor-period DURATION
                   how often node health is checked (up only; default 5s)
  --node-monitor-grace-period DURATION
                   how long a node may be silent (no Lease renewal, no Ready heartbeat) before it
                   is marked Unknown and tainted (up only; default 50s)
  --node-startup-grace-period DURATION
                   the same for a node that never posted Ready (up only; default 1m)
  --node-eviction-rate RATE
                   nodes per second per zone that get the NoExecute taint (up only; default 0.1)
  --secondary-node-eviction-rate RATE
                   the same in a large zone that is partly down (up only; default 0.01)
  --unhealthy-zone-threshold FRACTION
                   share of not-ready nodes (at least 3) that makes a zone partly down (up only; default 0.55)
  --large-cluster-size-threshold N
                   zones with more nodes than this are large (up only; default 50)
  --terminated-pod-gc-threshold N
                   terminated pods kept before the oldest are deleted; 0 keeps all (up only; default 12500)
  --default-not-ready-toleration-seconds N
  --default-unreachable-toleration-seconds N
                   how long pods tolerate a not-ready / unreachable node by default before they are
                   evicted (default 300 each)
`;

export interface NodeLifecycleFlags {
  nodeLifecycle: NodeLifecycleOptions;
  terminatedPodGcThreshold: number;
  admission: AdmissionConfig;
}

type Values = Partial<Record<keyof typeof NODE_LIFECYCLE_FLAGS, string>>;

/** Reads the flags; throws an Error naming the flag and the rule when one is not valid. */
export function parseNodeLifecycleFlags(values: Values): NodeLifecycleFlags {
  const duration = (flag: keyof Values, dflt: number, positive: boolean): number => {
    const text = values[flag];
    if (text === undefined) return dflt;
    let ms: number;
    try {
      ms = parseGoDuration(text);
    } catch (err) {
      throw new Error(`invalid --${flag}: ${(err as Error).message}`);
    }
    if (positive ? !(ms > 0) : ms < 0) throw new Error(`invalid --${flag} ${text}: must be ${positive ? 'longer than 0' : '0 or more'}`);
    return ms;
  };
  const number = (flag: keyof Values, dflt: number, integer: boolean, min: number): number => {
    const text = values[flag];
    if (text === undefined) return dflt;
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min) {
      throw new Error(`invalid --${flag} ${text}: ${integer ? 'a whole number' : 'a number'}${min === -Infinity ? '' : `, ${min} or more`}`);
    }
    return n;
  };
  const d = DEFAULT_NODE_LIFECYCLE_OPTIONS;
  return {
    nodeLifecycle: {
      nodeMonitorPeriodMs: duration('node-monitor-period', d.nodeMonitorPeriodMs, true),
      nodeMonitorGracePeriodMs: duration('node-monitor-grace-period', d.nodeMonitorGracePeriodMs, true),
      nodeStartupGracePeriodMs: duration('node-startup-grace-period', d.nodeStartupGracePeriodMs, true),
      evictionRate: number('node-eviction-rate', d.evictionRate, false, 0),
      secondaryEvictionRate: number('secondary-node-eviction-rate', d.secondaryEvictionRate, false, 0),
      unhealthyZoneThreshold: number('unhealthy-zone-threshold', d.unhealthyZoneThreshold, false, 0),
      largeClusterSizeThreshold: number('large-cluster-size-threshold', d.largeClusterSizeThreshold, true, 0),
    },
    terminatedPodGcThreshold: number('terminated-pod-gc-threshold', DEFAULT_POD_GC_OPTIONS.terminatedPodThreshold, true, -Infinity),
    admission: {
      defaultNotReadyTolerationSeconds: number('default-not-ready-toleration-seconds', DEFAULT_ADMISSION_CONFIG.defaultNotReadyTolerationSeconds, true, -Infinity),
      defaultUnreachableTolerationSeconds: number('default-unreachable-toleration-seconds', DEFAULT_ADMISSION_CONFIG.defaultUnreachableTolerationSeconds, true, -Infinity),
    },
  };
}
