// kube-controller-manager's node lifecycle flags and their defaults (v1.32).
import type { DisruptionOptions } from './zones.ts';

export interface NodeLifecycleOptions extends DisruptionOptions {
  /** --node-monitor-period: how often node health is checked. */
  nodeMonitorPeriodMs: number;
  /** --node-monitor-grace-period: silence after which a node is Unknown (50s since v1.32). */
  nodeMonitorGracePeriodMs: number;
  /** --node-startup-grace-period: the same, for a node that never posted Ready. */
  nodeStartupGracePeriodMs: number;
}

export const DEFAULT_NODE_LIFECYCLE_OPTIONS: NodeLifecycleOptions = {
  nodeMonitorPeriodMs: 5_000,
  nodeMonitorGracePeriodMs: 50_000,
  nodeStartupGracePeriodMs: 60_000,
  evictionRate: 0.1,
  secondaryEvictionRate: 0.01,
  unhealthyZoneThreshold: 0.55,
  largeClusterSizeThreshold: 50,
};
