// Audit logging as kube-apiserver's --audit-policy-file and --audit-log-* flags configure it.
import { readFileSync } from 'node:fs';
import { Auditor } from './auditor.ts';
import { AuditLogWriter, type AuditLogOptions } from './log-writer.ts';
import { parsePolicy } from './policy.ts';

export { Auditor, AuditRecord } from './auditor.ts';
export { parsePolicy, evaluatePolicy } from './policy.ts';
export { AuditLogWriter } from './log-writer.ts';

export interface AuditOptions extends AuditLogOptions {
  policyFile: string;
}

/** Reads and validates the policy (throws with upstream's wording) and opens the log. */
export function createAuditor(opts: AuditOptions): Auditor {
  let text: string;
  try {
    text = readFileSync(opts.policyFile, 'utf8');
  } catch (err) {
    throw new Error(`failed to read file path "${opts.policyFile}": ${(err as Error).message}`);
  }
  let policy;
  try {
    policy = parsePolicy(text);
  } catch (err) {
    throw new Error(`loading audit policy file: ${(err as Error).message}`);
  }
  return new Auditor(policy, new AuditLogWriter(opts));
}
