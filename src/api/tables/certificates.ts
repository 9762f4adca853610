// `kubectl get csr`: upstream's printer for certificates.k8s.io CertificateSigningRequests.
import type { Obj, TableDef } from '../resource.ts';
import { humanDuration } from './age.ts';
import { ageColumn, ageOf, col, nameColumn, nameOf } from './helpers.ts';

/** Denied wins over Approved, else Pending; then ",Failed" and ",Issued" as they apply. */
export function csrCondition(csr: Obj): string {
  const types = new Set((csr.status?.conditions ?? []).map((c: Obj) => c.type));
  let s = types.has('Denied') ? 'Denied' : types.has('Approved') ? 'Approved' : 'Pending';
  if (types.has('Failed')) s += ',Failed';
  if (csr.status?.certificate) s += ',Issued';
  return s;
}

export const certificateSigningRequestTable: TableDef = {
  columns: [
    nameColumn(),
    ageColumn(),
    col('SignerName', 'The signer expected to issue the certificate, e.g. kubernetes.io/kube-apiserver-client.'),
    col('Requestor', 'The user that created the request.'),
    col('RequestedDuration', 'The validity the requester asked for (spec.expirationSeconds).'),
    col('Condition', 'Approved, Denied or Pending, with Failed and Issued when they apply.'),
  ],
  cells(csr, now) {
    const secs = csr.spec?.expirationSeconds;
    return [nameOf(csr), ageOf(csr, now), csr.spec?.signerName || '<none>', csr.spec?.username ?? '', typeof secs === 'number' ? humanDuration(secs * 1000) : '<none>', csrCondition(csr)];
  },
};
