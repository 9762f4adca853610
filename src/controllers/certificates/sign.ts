// The decisions of kube-controller-manager's "csrsigning" controller (signer.go): which approved
// requests to sign, which to fail, for how long, and the certificate itself. The certificate is
// encoded with the project's DER helpers, as upstream's PermissiveSigningPolicy fills Go's
// template: the request's subject, names and key; key usages from spec.usages; not a CA.
import type { Obj } from '../../api/resource.ts';
import type { CsrDetails } from '../../certificates/csr.ts';
import { OID, extension, ipBytes, keyUsageBits, oid, seq, signCertificate, tlv, toPem, type Issuer } from '../../apiserver/pki.ts';
import { SIGNER, apiServerClientUsagesError, kubeletClientError, kubeletServingError } from './checks.ts';

/** kube-controller-manager's --cluster-signing-duration default: a year. */
export const DEFAULT_SIGNING_DURATION_MS = 8760 * 3600 * 1000;
const MIN_DURATION_MS = 10 * 60 * 1000;
const BACKDATE_MS = 5 * 60 * 1000;
/** Certificates shorter than this are not backdated (5 minutes would be too much of their life). */
const SHORT_MS = 8 * 3600 * 1000;

export const SIGNER_NAMES: readonly string[] = [SIGNER.kubeAPIServerClient, SIGNER.kubeletClient, SIGNER.kubeletServing];

const hasTrue = (csr: Obj, type: string) => (csr.status?.conditions ?? []).some((c: Obj) => c.type === type && c.status === 'True');

/** Whether this controller should look at the request at all: approved, not failed, not issued, one of ours. */
export function wantsSigning(csr: Obj): boolean {
  if (csr.status?.certificate) return false;
  if (!hasTrue(csr, 'Approved') || hasTrue(csr, 'Denied') || hasTrue(csr, 'Failed')) return false;
  return SIGNER_NAMES.includes(csr.spec?.signerName);
}

/** Why the signer must refuse the request (it then gets a Failed condition), or undefined. */
export function signerRefusal(signerName: string, request: CsrDetails, usages: string[]): string | undefined {
  if (signerName === SIGNER.kubeletClient) return kubeletClientError(request, usages);
  if (signerName === SIGNER.kubeletServing) return kubeletServingError(request, usages);
  if (signerName === SIGNER.kubeAPIServerClient) return apiServerClientUsagesError(usages);
  return undefined;
}

export function failedCondition(message: string, now: string): Obj {
  return { type: 'Failed', status: 'True', reason: 'SignerValidationFailure', message, lastUpdateTime: now };
}

/** The requested duration within [10m, the signing duration]; the signing duration when none was asked for. */
export function certificateDuration(expirationSeconds: number | undefined, maxMs: number): number {
  if (expirationSeconds === undefined || expirationSeconds === null) return maxMs;
  const ms = expirationSeconds * 1000;
  return ms > maxMs ? maxMs : ms < MIN_DURATION_MS ? MIN_DURATION_MS : ms;
}

/** Validity window: backdated 5 minutes (unless short), never past the CA's own expiry. */
export function validity(nowMs: number, ttlMs: number, caNotAfterMs: number): { notBefore: Date; notAfter: Date } {
  const backdate = ttlMs < SHORT_MS ? 0 : BACKDATE_MS;
  const notBefore = Math.min(nowMs - backdate, caNotAfterMs);
  const notAfter = Math.min(nowMs - backdate + ttlMs, caNotAfterMs);
  return { notBefore: new Date(notBefore), notAfter: new Date(notAfter) };
}

// x509.KeyUsage bits and ExtKeyUsage OIDs for the API's usage names (upstream's two dictionaries).
const KEY_USAGE_BITS: Record<string, number> = {
  signing: 0, 'digital signature': 0, 'content commitment': 1, 'key encipherment': 2, 'key agreement': 4,
  'data encipherment': 3, 'cert sign': 5, 'crl sign': 6, 'encipher only': 7, 'decipher only': 8,
};
const EXT_KEY_USAGES: Record<string, string> = {
  any: '2.5.29.37.0', 'server auth': OID.serverAuth, 'client auth': OID.clientAuth, 'code signing': '1.3.6.1.5.5.7.3.3',
  'email protection': '1.3.6.1.5.5.7.3.4', 's/mime': '1.3.6.1.5.5.7.3.4', 'ipsec end system': '1.3.6.1.5.5.7.3.5',
  'ipsec tunnel': '1.3.6.1.5.5.7.3.6', 'ipsec user': '1.3.6.1.5.5.7.3.7', timestamping: '1.3.6.1.5.5.7.3.8',
  'ocsp signing': '1.3.6.1.5.5.7.3.9', 'microsoft sgc': '1.3.6.1.4.1.311.10.3.3', 'netscape sgc': '2.16.840.1.113730.4.1',
};

/** The signed certificate (PEM) for a request, valid over the given window. */
export function issueCertificate(ca: Issuer, request: CsrDetails, usages: string[], window: { notBefore: Date; notAfter: Date }): string {
  const bits = [...new Set(usages.map((u) => KEY_USAGE_BITS[u]).filter((b): b is number => b !== undefined))];
  const ekus = [...new Set(usages.map((u) => EXT_KEY_USAGES[u]).filter((o): o is string => !!o))];
  const extensions: Buffer[] = [];
  if (bits.length) extensions.push(extension(OID.keyUsage, true, keyUsageBits(bits)));
  if (ekus.length) extensions.push(extension(OID.extKeyUsage, false, seq(...ekus.map(oid))));
  extensions.push(extension(OID.basicConstraints, true, seq()));
  if (ca.keyId) extensions.push(extension(OID.authorityKeyIdentifier, false, seq(tlv(0x80, ca.keyId))));
  const names = [
    ...request.dnsNames.map((d) => tlv(0x82, Buffer.from(d, 'ascii'))),
    ...request.emailAddresses.map((e) => tlv(0x81, Buffer.from(e, 'ascii'))),
    ...request.ipAddresses.map((ip) => tlv(0x87, ipBytes(ip))),
    ...request.uris.map((u) => tlv(0x86, Buffer.from(u, 'ascii'))),
  ];
  if (names.length) extensions.push(extension(OID.subjectAltName, false, seq(...names)));
  const der = signCertificate(ca.key, { issuerDer: ca.subjectDer, subjectDer: request.subjectDer, spki: request.spkiDer, ...window, extensions });
  return toPem('CERTIFICATE', der);
}


