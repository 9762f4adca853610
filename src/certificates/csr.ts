// PKCS#10 certificate signing requests (RFC 2986): made by joining nodes, read by the API server's
// validation and by the CSR approving and signing controllers. node:crypto has no CSR API, so the
// request is encoded and decoded here with the project's DER helpers (src/apiserver/pki.ts).
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { OID, bitString, derChildren, derContent, derElements, derHeader, derInt, extension, ipBytes, oid, seq, signatureAlgorithm, tlv, toPem } from '../apiserver/pki.ts';

const EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const SUBJECT_ALT_NAME = '2.5.29.17';
const COMMON_NAME = '2.5.4.3';
const ORGANIZATION = '2.5.4.10';

export interface CsrSubject {
  commonName: string;
  organizations?: string[];
}

export interface ParsedCsr {
  commonName?: string;
  organizations: string[];
  dnsNames: string[];
  ipAddresses: string[];
  publicKey: KeyObject;
}

/** Everything the signers look at: the subject and every kind of subjectAltName. */
export interface CsrDetails extends ParsedCsr {
  emailAddresses: string[];
  uris: string[];
  /** The encoded Name, copied verbatim into issued certificates. */
  subjectDer: Buffer;
  /** The encoded SubjectPublicKeyInfo, as the request carries it. */
  spkiDer: Buffer;
}

/** A PEM "CERTIFICATE REQUEST" for the key, signed with it (ECDSA or RSA). */
export function createCsrPem(privateKey: KeyObject, subject: CsrSubject, opts: { dnsNames?: string[]; ipAddresses?: string[] } = {}): string {
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  // Go's pkix.Name puts O before CN; the kubelet's requests look the same.
  const rdns: [string, string][] = [...(subject.organizations ?? []).map((o): [string, string] => [ORGANIZATION, o]), [COMMON_NAME, subject.commonName]];
  const name = seq(...rdns.map(([type, value]) => tlv(0x31, seq(oid(type), tlv(0x0c, Buffer.from(value, 'utf8'))))));
  const sans = [
    ...(opts.dnsNames ?? []).map((d) => tlv(0x82, Buffer.from(d, 'ascii'))),
    ...(opts.ipAddresses ?? []).map((ip) => {
      if (!isIP(ip)) throw new Error(`invalid IP address ${JSON.stringify(ip)}`);
      return tlv(0x87, ipBytes(ip));
    }),
  ];
  // [0] IMPLICIT attributes; the extensionRequest attribute only when there is something to ask for.
  const attributes = sans.length ? [seq(oid(EXTENSION_REQUEST), tlv(0x31, seq(extension(SUBJECT_ALT_NAME, false, seq(...sans)))))] : [];
  const info = seq(derInt(Buffer.of(0)), name, spki, tlv(0xa0, Buffer.concat(attributes)));
  const { algorithmId, hash } = signatureAlgorithm(privateKey);
  return toPem('CERTIFICATE REQUEST', seq(info, algorithmId, bitString(sign(hash, info, privateKey))));
}

/** The request's subject, names and key; throws when it is not a CSR or its signature does not verify. */
export function parseCsrPem(pem: string): ParsedCsr {
  const d = parseCsrDetails(pem);
  return { commonName: d.commonName, organizations: d.organizations, dnsNames: d.dnsNames, ipAddresses: d.ipAddresses, publicKey: d.publicKey };
}

/**
 * Like parseCsrPem, with everything a signer checks. Messages follow what kube-apiserver says
 * (its ParseCSR and Go's x509), since validation shows them to users.
 */
export function parseCsrDetails(pem: string): CsrDetails {
  const der = firstPemBlock(pem, 'CERTIFICATE REQUEST');
  if (!der) throw new Error('PEM block type must be CERTIFICATE REQUEST');
  let info: Buffer, algorithm: Buffer, signature: Buffer;
  let subjectDer: Buffer, spkiDer: Buffer, attrs: Buffer | undefined;
  try {
    const top = derChildren(whole(der, 0x30));
    [info, algorithm, signature] = top as [Buffer, Buffer, Buffer];
    if (top.length !== 3 || info[0] !== 0x30 || algorithm[0] !== 0x30 || signature[0] !== 0x03) throw new Error();
    const fields = derChildren(info);
    if (fields[0]?.[0] !== 0x02 || fields[1]?.[0] !== 0x30 || fields[2]?.[0] !== 0x30) throw new Error();
    subjectDer = fields[1];
    spkiDer = fields[2];
    attrs = fields.find((f) => f[0] === 0xa0);
  } catch {
    throw new Error('x509: malformed certificate request');
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: spkiDer, format: 'der', type: 'spki' });
  } catch {
    throw new Error('x509: unsupported public key in certificate request');
  }
  verifySignature(info, algorithm, signature, publicKey);

  const out: CsrDetails = { organizations: [], dnsNames: [], ipAddresses: [], emailAddresses: [], uris: [], publicKey, subjectDer, spkiDer };
  for (const rdn of derChildren(subjectDer)) {
    for (const atv of derChildren(rdn)) {
      const [type, value] = derChildren(atv);
      if (!type || !value) continue;
      const t = decodeOid(type);
      const text = derContent(value).toString(value[0] === 0x1e ? 'utf16le' : 'utf8');
      if (t === COMMON_NAME && out.commonName === undefined) out.commonName = text;
      if (t === ORGANIZATION) out.organizations.push(text);
    }
  }
  for (const attr of attrs ? derElements(derContent(attrs)) : []) {
    const [type, values] = derChildren(attr);
    if (!type || !values || decodeOid(type) !== EXTENSION_REQUEST) continue;
    for (const exts of derChildren(values)) {
      for (const ext of derChildren(exts)) {
        const parts = derChildren(ext);
        if (decodeOid(parts[0]!) !== SUBJECT_ALT_NAME) continue;
        for (const gn of derChildren(derContent(parts[parts.length - 1]!))) {
          const v = derContent(gn);
          if (gn[0] === 0x82) out.dnsNames.push(v.toString('ascii'));
          else if (gn[0] === 0x81) out.emailAddresses.push(v.toString('ascii'));
          else if (gn[0] === 0x86) out.uris.push(v.toString('ascii'));
          else if (gn[0] === 0x87) out.ipAddresses.push(ipText(v));
        }
      }
    }
  }
  return out;
}

const SIGNATURE_HASHES: Record<string, { hash: string | null; family: 'ec' | 'rsa' | 'ed25519' }> = {
  '1.2.840.10045.4.1': { hash: 'sha1', family: 'ec' },
  [OID.ecdsaWithSha256]: { hash: 'sha256', family: 'ec' },
  [OID.ecdsaWithSha384]: { hash: 'sha384', family: 'ec' },
  [OID.ecdsaWithSha512]: { hash: 'sha512', family: 'ec' },
  '1.2.840.113549.1.1.5': { hash: 'sha1', family: 'rsa' },
  [OID.sha256WithRsa]: { hash: 'sha256', family: 'rsa' },
  '1.2.840.113549.1.1.12': { hash: 'sha384', family: 'rsa' },
  '1.2.840.113549.1.1.13': { hash: 'sha512', family: 'rsa' },
  '1.3.101.112': { hash: null, family: 'ed25519' },
};

function verifySignature(info: Buffer, algorithm: Buffer, signature: Buffer, key: KeyObject): void {
  const alg = SIGNATURE_HASHES[decodeOid(derChildren(algorithm)[0]!)];
  // Go rejects SHA-1 signatures outright; so do we.
  if (!alg || alg.hash === 'sha1') throw new Error('x509: cannot verify signature: algorithm unimplemented');
  const family = key.asymmetricKeyType === 'ec' ? 'ec' : key.asymmetricKeyType === 'rsa' ? 'rsa' : key.asymmetricKeyType;
  if (family !== alg.family) throw new Error('x509: signature algorithm specifies an ' + alg.family.toUpperCase() + ' public key, but have public key of type ' + key.asymmetricKeyType);
  const sig = derContent(signature).subarray(1); // past the unused-bits byte
  let ok = false;
  try {
    ok = verify(alg.hash, info, key, sig);
  } catch {
    ok = false;
  }
  if (!ok) throw new Error(alg.family === 'ec' ? 'x509: ECDSA verification failure' : alg.family === 'rsa' ? 'crypto/rsa: verification error' : 'x509: Ed25519 verification failure');
}

/** The DER of the first PEM block with this label (text around it is allowed, as Go's pem.Decode). */
export function firstPemBlock(pem: string, label: string): Buffer | undefined {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(pem);
  if (!m || m[1] !== label || /:/.test(m[2]!)) return undefined;
  return Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64');
}

/** The element must fill the buffer exactly (no trailing data), as Go's parser insists. */
function whole(der: Buffer, tag: number): Buffer {
  if (der.length < 2 || der[0] !== tag) throw new Error('bad tag');
  const { end } = derHeader(der, 0);
  if (end !== der.length) throw new Error('trailing data');
  return der;
}

export function decodeOid(el: Buffer): string {
  const b = derContent(el);
  if (!b.length) return '';
  const arcs = [Math.floor(Math.min(b[0]!, 80) / 40), b[0]! >= 80 ? b[0]! - 80 : b[0]! % 40];
  let v = 0;
  for (let i = 1; i < b.length; i++) {
    v = v * 128 + (b[i]! & 0x7f);
    if (!(b[i]! & 0x80)) {
      arcs.push(v);
      v = 0;
    }
  }
  return arcs.join('.');
}

function ipText(b: Buffer): string {
  if (b.length === 4) return [...b].join('.');
  if (b.length !== 16) return b.toString('hex');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  // Compress the longest run of zero groups, as Go's net.IP.String does.
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}


