// kube-controller-manager's and kube-scheduler's leader election flags, with their defaults and
// Go duration syntax. `--leader-elect` is a Go boolean flag: `--leader-elect`, `--leader-elect=true`
// and `--leader-elect=false` all work, which node's parseArgs cannot express, so it is taken out of
// the arguments before they are parsed.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { parseGoDuration } from '../util/duration.ts';
import { DEFAULT_ELECTION_TIMES, validateElectionTimes, type ElectionTimes } from '../client/leaderelection/decision.ts';

export const LEADER_ELECT_FLAGS = {
  'leader-elect-lease-duration': { type: 'string' },
  'leader-elect-renew-deadline': { type: 'string' },
  'leader-elect-retry-period': { type: 'string' },
  'leader-elect-resource-namespace': { type: 'string' },
  'leader-elect-resource-lock': { type: 'string' },
} as const;

export const LEADER_ELECT_USAGE = (dflt: boolean) => `  --leader-elect[=true|false]
                   run the controllers only while this process holds the kube-controller-manager
                   Lease (and the scheduler only while it holds kube-scheduler), so that one of
                   several copies is active (default ${dflt})
  --leader-elect-lease-duration DURATION
                   how long candidates wait after the leader's last renewal before taking over (default 15s)
  --leader-elect-renew-deadline DURATION
                   how long the leader retries a renewal before it stops leading (default 10s)
  --leader-elect-retry-period DURATION
                   how long candidates wait between tries (default 2s)
  --leader-elect-resource-namespace NS
                   the namespace of the Leases (default kube-system)
  --leader-elect-resource-lock leases
                   the lock's kind; only leases (the default) is supported
`;

export interface LeaderElectFlags extends ElectionTimes {
  enabled: boolean;
  namespace: string;
  /** `<hostname>_<uuid>`, as kube-controller-manager and kube-scheduler make it. */
  identity: string;
}

/** Removes --leader-elect[=bool] from argv; returns the rest and its value, if given. */
export function takeLeaderElectFlag(argv: string[]): { rest: string[]; value?: boolean } {
  const rest: string[] = [];
  let value: boolean | undefined;
  for (const a of argv) {
    const m = /^--leader-elect(?:=(.*))?$/.exec(a);
    if (!m) {
      rest.push(a);
      continue;
    }
    const v = m[1];
    if (v === undefined || /^(true|t|1|TRUE|True|T)$/.test(v)) value = true;
    else if (/^(false|f|0|FALSE|False|F)$/.test(v)) value = false;
    else throw new Error(`invalid argument "${v}" for "--leader-elect" flag: strconv.ParseBool: parsing "${v}": invalid syntax`);
  }
  return { rest, value };
}

type Values = Partial<Record<keyof typeof LEADER_ELECT_FLAGS, string>>;

/** Reads the flags; throws an Error naming the flag and the rule when one is not valid. */
export function parseLeaderElectFlags(values: Values, enabled: boolean, identity = `${hostname()}_${randomUUID()}`): LeaderElectFlags {
  const duration = (flag: keyof Values, dflt: number): number => {
    const text = values[flag];
    if (text === undefined) return dflt;
    try {
      return parseGoDuration(text);
    } catch (err) {
      throw new Error(`invalid --${flag}: ${(err as Error).message}`);
    }
  };
  const lock = values['leader-elect-resource-lock'] ?? 'leases';
  if (lock !== 'leases') throw new Error(`invalid --leader-elect-resource-lock ${lock}: only "leases" is supported (as upstream since 1.24)`);
  const flags: LeaderElectFlags = {
    enabled,
    leaseDurationMs: duration('leader-elect-lease-duration', DEFAULT_ELECTION_TIMES.leaseDurationMs),
    renewDeadlineMs: duration('leader-elect-renew-deadline', DEFAULT_ELECTION_TIMES.renewDeadlineMs),
    retryPeriodMs: duration('leader-elect-retry-period', DEFAULT_ELECTION_TIMES.retryPeriodMs),
    namespace: values['leader-elect-resource-namespace'] ?? 'kube-system',
    identity,
  };
  if (enabled) {
    try {
      validateElectionTimes(flags);
    } catch (err) {
      throw new Error(`invalid leader election flags: ${(err as Error).message}`);
    }
  }
  return flags;
}
