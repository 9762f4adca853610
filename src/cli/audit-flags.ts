// kube-apiserver's audit log flags (apiserver server/options/audit.go): events are written only
// with both a policy file and a log path; the rotation limits may not be negative.
import type { AuditOptions } from '../apiserver/audit/index.ts';
import { lazyModule } from '../util/lazy-module.ts';

// The audit modules (and the yaml package the policy is read with) load only when auditing is asked for.
const audit = lazyModule<typeof import('../apiserver/audit/index.ts')>(import.meta.url, '../apiserver/audit/index.ts');

export const AUDIT_FLAGS = {
  'audit-policy-file': { type: 'string' },
  'audit-log-path': { type: 'string' },
  'audit-log-maxage': { type: 'string' },
  'audit-log-maxbackup': { type: 'string' },
  'audit-log-maxsize': { type: 'string' },
} as const;

/** The audit options the flags ask for, undefined when auditing is off; throws on a bad value. */
export function auditOptions(values: Record<string, unknown>): AuditOptions | undefined {
  const int = (flag: string): number => {
    const raw = values[flag];
    if (raw === undefined) return 0;
    const n = Number(raw);
    if (!Number.isInteger(n)) throw new Error(`invalid argument ${JSON.stringify(raw)} for "--${flag}" flag: strconv.ParseInt: parsing ${JSON.stringify(raw)}: invalid syntax`);
    if (n < 0) throw new Error(`--${flag} ${n} can't be a negative number`);
    return n;
  };
  const maxAgeDays = int('audit-log-maxage');
  const maxBackups = int('audit-log-maxbackup');
  const maxSizeMB = int('audit-log-maxsize');
  const policyFile = values['audit-policy-file'] as string | undefined;
  const path = values['audit-log-path'] as string | undefined;
  if (!policyFile || !path) return undefined;
  const opts = { policyFile, path, maxAgeDays, maxBackups, maxSizeMB };
  // A policy that does not load stops the start, with its reason, before anything listens.
  audit().createAuditor(opts).close();
  return opts;
}
