// kubeadm's CA pin (--discovery-token-ca-cert-hash): "sha256:" and the hex SHA-256 of the CA
// certificate's DER SubjectPublicKeyInfo. A joining node compares it with the CA the server
// presents before it trusts that CA, so it never sends its token to an impostor.
import { X509Certificate, createHash } from 'node:crypto';
import { derChildren } from '../apiserver/pki.ts';
import { firstPemBlock } from './csr.ts';

export function caCertHash(caCertPem: string): string {
  return `sha256:${createHash('sha256').update(spkiOf(caCertPem)).digest('hex')}`;
}

/** Whether the hash (as kubeadm accepts it: "sha256:" and 64 hex digits, any case) pins this CA. */
export function matchesCaCertHash(caCertPem: string, hash: string): boolean {
  const m = /^sha256:([0-9a-fA-F]{64})$/.exec(hash.trim());
  if (!m) return false;
  return caCertHash(caCertPem) === `sha256:${m[1]!.toLowerCase()}`;
}

/** The certificate's SubjectPublicKeyInfo exactly as encoded in it (Go's RawSubjectPublicKeyInfo). */
function spkiOf(pem: string): Buffer {
  new X509Certificate(pem); // throws on anything that is not a certificate
  const der = firstPemBlock(pem, 'CERTIFICATE')!;
  const tbs = derChildren(derChildren(der)[0]!);
  // tbsCertificate: [0] version (optional), serial, signature, issuer, validity, subject, spki
  return tbs[0]![0] === 0xa0 ? tbs[6]! : tbs[5]!;
}
