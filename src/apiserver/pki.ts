// The cluster's certificate authority, the API server's serving certificate, the admin client
// credentials and the admin kubeconfig.
//
// Everything lives under <dataDir>/pki/ and is generated once, on the first start; later starts
// only read and check the files. Keys are ECDSA P-256 made by node:crypto, and certificates are
// DER-encoded here: an X.509 certificate of the fixed shape we issue is a few nested
// sequences, and encoding it directly keeps a first start at a few milliseconds, where loading
// a general X.509 library costs a quarter of a second (and wants a global Reflect polyfill).
// Everything written is checked by OpenSSL (Node's TLS) and Go (kubectl) in the tests.

import {
  X509Certificate,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  generateKeyPairSync,
  randomBytes,
  sign,
  type KeyObject,
} from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, join } from 'node:path';

export interface Pki {
  caCertPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  adminCertPem: string;
  adminKeyPem: string;
  adminToken: string;
  /** RSA key that signs service account tokens (PKCS#8 PEM), and its public half (SPKI PEM). */
  serviceAccountKeyPem: string;
  serviceAccountPublicKeyPem: string;
  /** The API server's client identity towards node agents' kubelet servers (kubeadm's apiserver-kubelet-client). */
  kubeletClientCertPem: string;
  kubeletClientKeyPem: string;
}

export interface EnsurePkiOptions {
  /** Extra names the API server is reached by (DNS names or IP addresses). */
  hosts: string[];
}

// Names every server certificate carries: loopback plus the in-cluster names of the
// `kubernetes` Service, as upstream's apiserver certificate does.
const DEFAULT_DNS = [
  'localhost',
  'kubernetes',
  'kubernetes.default',
  'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local',
];
const DEFAULT_IPS = ['127.0.0.1', '::1'];

// Upstream's built-in superuser identity: kube-apiserver's authorizer lets this group do anything.
export const ADMIN_USER = 'ordinal-admin';
export const ADMIN_GROUPS: readonly string[] = ['system:masters'];
// kubeadm's identity for the API server when it calls kubelets (exec, logs, node proxy).
export const KUBELET_CLIENT_USER = 'kube-apiserver-kubelet-client';
const CA_NAME = 'ordinal-ca';
const SERVER_NAME = 'ordinal-apiserver';

const DAY_MS = 24 * 60 * 60 * 1000;
const CA_DAYS = 3650;
const LEAF_DAYS = 365;
// Leaf certificates are renewed on start when this close to expiry, so a long-lived data dir
// never starts serving a certificate that dies within the month.
const RENEW_BEFORE_MS = 30 * DAY_MS;

const FILES = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  serverCert: 'server.crt',
  serverKey: 'server.key',
  adminCert: 'admin.crt',
  adminKey: 'admin.key',
  adminToken: 'admin.token',
  // kubeadm's names for the service account signing pair.
  serviceAccountKey: 'sa.key',
  serviceAccountPub: 'sa.pub',
  kubeletClientCert: 'apiserver-kubelet-client.crt',
  kubeletClientKey: 'apiserver-kubelet-client.key',
} as const;

/** Where the cluster CA's private key lives in a data dir (the CSR signing controller signs with it). */
export function caKeyPath(dataDir: string): string {
  return join(dataDir, 'pki', FILES.caKey);
}

/** Where the cluster CA certificate lives in a data dir (controllers publish it to namespaces). */
export function caCertPath(dataDir: string): string {
  return join(dataDir, 'pki', FILES.caCert);
}

export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

/**
 * Loads the cluster PKI from `<dataDir>/pki/`, creating whatever is missing, unusable or
 * (for the server certificate) lacking one of the requested host names.
 */
export async function ensurePki(dataDir: string, opts: EnsurePkiOptions): Promise<Pki> {
  const dir = join(dataDir, 'pki');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { dns, ips } = splitHosts(opts.hosts);
  const now = Date.now();
  // RSA key generation takes tens of milliseconds: it runs on the thread pool while the rest is
  // checked or issued, and only on a first start.
  const serviceAccountKey = loadServiceAccountKey(dir) ?? createServiceAccountKey(dir);

  const ca = loadPair(dir, FILES.caCert, FILES.caKey);
  const caUsable = ca !== null && ca.cert.ca && isCurrent(ca.cert, now, 0);

  // A new CA invalidates every certificate it did not sign, so leaves are kept only when they
  // chain to the CA we keep.
  let server: KeyPairPem | null = null;
  let admin: KeyPairPem | null = null;
  let kubeletClient: KeyPairPem | null = null;
  if (caUsable) {
    const s = loadPair(dir, FILES.serverCert, FILES.serverKey);
    if (s && isLeafOf(s.cert, ca.cert, now) && coversHosts(s.cert, dns, ips)) server = s;
    const a = loadPair(dir, FILES.adminCert, FILES.adminKey);
    if (a && isLeafOf(a.cert, ca.cert, now)) admin = a;
    const k = loadPair(dir, FILES.kubeletClientCert, FILES.kubeletClientKey);
    if (k && isLeafOf(k.cert, ca.cert, now)) kubeletClient = k;
  }

  let issuer: Issuer | null = caUsable ? issuerFromPair(ca) : null;
  if (!issuer) {
    issuer = createCa(now);
    persistPair(dir, FILES.caCert, FILES.caKey, issuer);
  }
  if (!server) {
    server = issueLeaf(issuer, now, {
      subject: [[OID.commonName, SERVER_NAME]],
      extKeyUsage: OID.serverAuth,
      dns,
      ips,
    });
    persistPair(dir, FILES.serverCert, FILES.serverKey, server);
  }
  if (!admin) {
    admin = issueLeaf(issuer, now, {
      // Upstream takes the user name from CN and the groups from O.
      subject: [...ADMIN_GROUPS.map((g): Rdn => [OID.organization, g]), [OID.commonName, ADMIN_USER]],
      extKeyUsage: OID.clientAuth,
    });
    persistPair(dir, FILES.adminCert, FILES.adminKey, admin);
  }
  if (!kubeletClient) {
    kubeletClient = issueLeaf(issuer, now, {
      subject: [...ADMIN_GROUPS.map((g): Rdn => [OID.organization, g]), [OID.commonName, KUBELET_CLIENT_USER]],
      extKeyUsage: OID.clientAuth,
    });
    persistPair(dir, FILES.kubeletClientCert, FILES.kubeletClientKey, kubeletClient);
  }

  let token = readOptional(join(dir, FILES.adminToken))?.trim() || null;
  if (!token) {
    token = randomBytes(32).toString('hex');
    writeAtomic(join(dir, FILES.adminToken), token + '\n', 0o600);
  }

  const sa = await serviceAccountKey;
  return {
    caCertPem: issuer.certPem,
    serverCertPem: server.certPem,
    serverKeyPem: server.keyPem,
    adminCertPem: admin.certPem,
    adminKeyPem: admin.keyPem,
    adminToken: token,
    serviceAccountKeyPem: sa.keyPem,
    serviceAccountPublicKeyPem: sa.publicPem,
    kubeletClientCertPem: kubeletClient.certPem,
    kubeletClientKeyPem: kubeletClient.keyPem,
  };
}

/**
 * A serving pair for a kubelet server that was given none: as the kubelet does by default, a
 * throwaway CA named `<name>-ca@<unix seconds>` signs `<name>@<unix seconds>` for the given hosts.
 * Only the holder of the returned pair trusts it; the API server does not verify kubelets' serving
 * certificates unless told which CA to trust (upstream's --kubelet-certificate-authority).
 */
export function selfSignedServingPair(name: string, hosts: string[]): { certPem: string; keyPem: string; caCertPem: string } {
  const now = Date.now();
  const stamp = Math.floor(now / 1000);
  const ca = createCa(now, `${name}-ca@${stamp}`);
  const { dns, ips } = splitHosts([name, ...hosts]);
  const leaf = issueLeaf(ca, now, { subject: [[OID.commonName, `${name}@${stamp}`]], extKeyUsage: OID.serverAuth, dns, ips });
  return { certPem: leaf.certPem, keyPem: leaf.keyPem, caCertPem: ca.certPem };
}

interface ServiceAccountKeyPem {
  keyPem: string;
  publicPem: string;
}

/** The signing key on disk, if it is a usable RSA key (tokens are RS256, as upstream's default). */
function loadServiceAccountKey(dir: string): ServiceAccountKeyPem | null {
  const keyPem = readOptional(join(dir, FILES.serviceAccountKey));
  if (keyPem === null) return null;
  try {
    const key = createPrivateKey(keyPem);
    if (key.asymmetricKeyType !== 'rsa') return null;
    return { keyPem, publicPem: createPublicKey(key).export({ type: 'spki', format: 'pem' }) as string };
  } catch {
    return null;
  }
}

async function createServiceAccountKey(dir: string): Promise<ServiceAccountKeyPem> {
  const { privateKey, publicKey } = await new Promise<{ privateKey: KeyObject; publicKey: KeyObject }>((resolve, reject) =>
    generateKeyPair('rsa', { modulusLength: 2048 }, (err, publicKey, privateKey) => (err ? reject(err) : resolve({ privateKey, publicKey }))),
  );
  const pair = {
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
  };
  writeAtomic(join(dir, FILES.serviceAccountKey), pair.keyPem, 0o600);
  writeAtomic(join(dir, FILES.serviceAccountPub), pair.publicPem, 0o644);
  return pair;
}

export interface KubeconfigOptions {
  /** API server URL, e.g. https://127.0.0.1:6443 */
  server: string;
  pki: Pki;
  clusterName?: string;
  user?: string;
}

/** Writes a v1 kubeconfig (mode 0600) that logs in as the admin with its client certificate. */
export function writeKubeconfig(path: string, opts: KubeconfigOptions): void {
  writeAtomic(path, renderKubeconfig(opts), 0o600);
}

/** The kubeconfig text written by writeKubeconfig; its context is named 'ordinal'. */
export function renderKubeconfig(opts: KubeconfigOptions): string {
  return renderClientKubeconfig({ server: opts.server, caCertPem: opts.pki.caCertPem, user: opts.user ?? ADMIN_USER, certPem: opts.pki.adminCertPem, keyPem: opts.pki.adminKeyPem, clusterName: opts.clusterName, context: 'ordinal' });
}

export interface ClientKubeconfig {
  server: string;
  caCertPem: string;
  user: string;
  certPem: string;
  keyPem: string;
  /** Default 'ordinal'. */
  clusterName?: string;
  /** Default `<user>@<cluster>`, as kubeadm names a user's context. */
  context?: string;
}

/** A v1 kubeconfig of one cluster, one user logging in with a client certificate, one context. */
export function renderClientKubeconfig(o: ClientKubeconfig): string {
  const cluster = o.clusterName ?? 'ordinal';
  const context = o.context ?? `${o.user}@${cluster}`;
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  // JSON strings are valid YAML double-quoted scalars, so JSON.stringify quotes any URL or
  // name safely without loading a YAML library at start-up.
  const q = JSON.stringify;
  return [
    'apiVersion: v1',
    'kind: Config',
    'preferences: {}',
    'clusters:',
    `- name: ${q(cluster)}`,
    '  cluster:',
    `    server: ${q(o.server)}`,
    `    certificate-authority-data: ${b64(o.caCertPem)}`,
    'users:',
    `- name: ${q(o.user)}`,
    '  user:',
    `    client-certificate-data: ${b64(o.certPem)}`,
    `    client-key-data: ${b64(o.keyPem)}`,
    'contexts:',
    `- name: ${q(context)}`,
    '  context:',
    `    cluster: ${q(cluster)}`,
    `    user: ${q(o.user)}`,
    `current-context: ${q(context)}`,
    '',
  ].join('\n');
}

/** Splits host names into DNS names and IP addresses, adding the defaults, without duplicates. */
export function splitHosts(hosts: readonly string[]): { dns: string[]; ips: string[] } {
  const dns = new Set(DEFAULT_DNS);
  const ips = new Set(DEFAULT_IPS);
  for (const raw of hosts) {
    let h = raw.trim();
    if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1); // bracketed IPv6
    if (!h) continue;
    if (isIP(h)) ips.add(h);
    else dns.add(h.toLowerCase().replace(/\.$/, ''));
  }
  return { dns: [...dns], ips: [...ips] };
}

// ---------------------------------------------------------------------------------------------
// Reading and checking what is on disk.

interface LoadedPair {
  certPem: string;
  keyPem: string;
  cert: X509Certificate;
  key: KeyObject;
}

function readOptional(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** A certificate and its key, or null when either is missing, unparsable or they don't match. */
function loadPair(dir: string, certFile: string, keyFile: string): LoadedPair | null {
  const certPem = readOptional(join(dir, certFile));
  const keyPem = readOptional(join(dir, keyFile));
  if (certPem === null || keyPem === null) return null;
  try {
    const cert = new X509Certificate(certPem);
    const key = createPrivateKey(keyPem);
    if (!cert.checkPrivateKey(key)) return null;
    return { certPem, keyPem, cert, key };
  } catch {
    return null;
  }
}

function isCurrent(cert: X509Certificate, now: number, marginMs: number): boolean {
  return cert.validToDate.getTime() - marginMs > now && cert.validFromDate.getTime() <= now + DAY_MS;
}

function isLeafOf(cert: X509Certificate, ca: X509Certificate, now: number): boolean {
  return cert.checkIssued(ca) && cert.verify(ca.publicKey) && isCurrent(cert, now, RENEW_BEFORE_MS);
}

function coversHosts(cert: X509Certificate, dns: string[], ips: string[]): boolean {
  // checkHost/checkIP match SAN entries with the usual normalisation (case, IPv6 spelling);
  // `subject: 'never'` leaves the CN out, as Go's verifier does.
  return (
    dns.every((d) => cert.checkHost(d, { subject: 'never', wildcards: false }) !== undefined) &&
    ips.every((ip) => cert.checkIP(ip) !== undefined)
  );
}

// ---------------------------------------------------------------------------------------------
// Writing.

function persistPair(dir: string, certFile: string, keyFile: string, pair: KeyPairPem): void {
  // Key first: a crash in between leaves a certificate that doesn't match its key, which
  // loadPair rejects, rather than a good-looking pair with a stale half.
  writeAtomic(join(dir, keyFile), pair.keyPem, 0o600);
  writeAtomic(join(dir, certFile), pair.certPem, 0o644);
}

/** Replaces a file in one step so a crash never leaves a half-written credential behind. */
function writeAtomic(path: string, data: string, mode: number): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, data, { mode });
  chmodSync(tmp, mode); // the umask may have narrowed it
  renameSync(tmp, path);
}

// ---------------------------------------------------------------------------------------------
// Issuing certificates.

export const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
  sha256WithRsa: '1.2.840.113549.1.1.11',
} as const;

// KeyUsage bit positions (RFC 5280 4.2.1.3).
const KU_DIGITAL_SIGNATURE = 0;
const KU_KEY_CERT_SIGN = 5;
const KU_CRL_SIGN = 6;

/** One relative distinguished name: attribute type OID and its value. */
export type Rdn = [oid: string, value: string];

/** What signing a certificate needs from the CA. */
export interface Issuer extends KeyPairPem {
  key: KeyObject;
  subjectDer: Buffer; // copied verbatim into leaves: chain building compares names bytewise
  keyId: Buffer | null;
}

function newKey(): { privateKey: KeyObject; spki: Buffer; keyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKey,
    spki: publicKey.export({ type: 'spki', format: 'der' }),
    // PKCS#8 ("BEGIN PRIVATE KEY") is read by both OpenSSL and Go's tls.X509KeyPair.
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}

function createCa(now: number, name = CA_NAME): Issuer {
  const k = newKey();
  const subjectDer = encodeName([[OID.commonName, name]]);
  const keyId = keyIdOf(k.spki);
  const certDer = signCertificate(k.privateKey, {
    issuerDer: subjectDer,
    subjectDer,
    spki: k.spki,
    ...validity(now, CA_DAYS),
    extensions: [
      extension(OID.basicConstraints, true, seq(derBool(true))),
      extension(OID.keyUsage, true, keyUsageBits([KU_DIGITAL_SIGNATURE, KU_KEY_CERT_SIGN, KU_CRL_SIGN])),
      extension(OID.subjectKeyIdentifier, false, octets(keyId)),
    ],
  });
  return { certPem: toPem('CERTIFICATE', certDer), keyPem: k.keyPem, key: k.privateKey, subjectDer, keyId };
}

/** The cluster CA as the certificate signers of the certificates API use it: read from its PEM files. */
export function loadIssuer(caCertPem: string, caKeyPem: string): Issuer {
  const cert = new X509Certificate(caCertPem);
  return issuerFromPair({ certPem: caCertPem, keyPem: caKeyPem, cert, key: createPrivateKey(caKeyPem) });
}

/** The issuer for a CA read from disk (possibly one an operator put there). */
function issuerFromPair(ca: LoadedPair): Issuer {
  const tbs = derChildren(derChildren(ca.cert.raw)[0]!);
  // tbsCertificate: [0] version, serial, signature, issuer, validity, subject, ...
  const subject = tbs[0]![0] === 0xa0 ? tbs[5] : tbs[4];
  return { certPem: ca.certPem, keyPem: ca.keyPem, key: ca.key, subjectDer: subject!, keyId: findSubjectKeyId(tbs) };
}

interface LeafSpec {
  subject: Rdn[];
  extKeyUsage: string;
  dns?: string[];
  ips?: string[];
}

function issueLeaf(ca: Issuer, now: number, spec: LeafSpec): KeyPairPem {
  const k = newKey();
  const extensions = [
    extension(OID.basicConstraints, true, seq()),
    extension(OID.keyUsage, true, keyUsageBits([KU_DIGITAL_SIGNATURE])),
    extension(OID.extKeyUsage, false, seq(oid(spec.extKeyUsage))),
  ];
  const names = [
    ...(spec.dns ?? []).map((d) => tlv(0x82, Buffer.from(d, 'ascii'))), // [2] dNSName
    ...(spec.ips ?? []).map((ip) => tlv(0x87, ipBytes(ip))), // [7] iPAddress
  ];
  if (names.length) extensions.push(extension(OID.subjectAltName, false, seq(...names)));
  extensions.push(extension(OID.subjectKeyIdentifier, false, octets(keyIdOf(k.spki))));
  // [0] keyIdentifier inside AuthorityKeyIdentifier; OpenSSL insists it equals the CA's SKI.
  if (ca.keyId) extensions.push(extension(OID.authorityKeyIdentifier, false, seq(tlv(0x80, ca.keyId))));
  const certDer = signCertificate(ca.key, {
    issuerDer: ca.subjectDer,
    subjectDer: encodeName(spec.subject),
    spki: k.spki,
    ...validity(now, LEAF_DAYS),
    extensions,
  });
  return { certPem: toPem('CERTIFICATE', certDer), keyPem: k.keyPem };
}

function validity(now: number, days: number): { notBefore: Date; notAfter: Date } {
  // Backdated a little so a client whose clock lags still accepts a fresh certificate.
  const notBefore = new Date(now - 5 * 60 * 1000);
  return { notBefore, notAfter: new Date(notBefore.getTime() + days * DAY_MS) };
}

export interface TbsFields {
  issuerDer: Buffer;
  subjectDer: Buffer;
  spki: Buffer;
  notBefore: Date;
  notAfter: Date;
  extensions: Buffer[];
}

export function signCertificate(signingKey: KeyObject, f: TbsFields): Buffer {
  const { algorithmId, hash } = signatureAlgorithm(signingKey);
  // Positive, non-zero leading byte, 127 bits of randomness (RFC 5280: at most 20 octets).
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  const tbs = seq(
    tlv(0xa0, derInt(Buffer.of(2))), // [0] EXPLICIT version v3
    derInt(serial),
    algorithmId,
    f.issuerDer,
    seq(derTime(f.notBefore), derTime(f.notAfter)),
    f.subjectDer,
    f.spki,
    tlv(0xa3, seq(...f.extensions)), // [3] EXPLICIT extensions
  );
  // node:crypto produces ECDSA signatures DER-encoded, the form X.509 carries.
  const signature = sign(hash, tbs, signingKey);
  return seq(tbs, algorithmId, bitString(signature));
}

export function signatureAlgorithm(key: KeyObject): { algorithmId: Buffer; hash: string } {
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'secp384r1') return { algorithmId: seq(oid(OID.ecdsaWithSha384)), hash: 'sha384' };
    if (curve === 'secp521r1') return { algorithmId: seq(oid(OID.ecdsaWithSha512)), hash: 'sha512' };
    return { algorithmId: seq(oid(OID.ecdsaWithSha256)), hash: 'sha256' };
  }
  if (key.asymmetricKeyType === 'rsa') {
    return { algorithmId: seq(oid(OID.sha256WithRsa), DER_NULL), hash: 'sha256' };
  }
  throw new Error(`pki: cannot sign with a ${key.asymmetricKeyType} CA key`);
}

/** Key identifier: the leftmost 160 bits of the SHA-256 of the public key (RFC 7093 method 1). */
export function keyIdOf(spkiDer: Buffer): Buffer {
  const bits = derChildren(spkiDer)[1]!; // subjectPublicKey BIT STRING
  const { start, end } = derHeader(bits, 0);
  return createHash('sha256').update(bits.subarray(start + 1, end)).digest().subarray(0, 20);
}

export function keyUsageBits(bits: number[]): Buffer {
  // DER BIT STRING of named bits: bit 0 is the most significant, trailing zero bits dropped.
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc((highest >> 3) + 1);
  for (const b of bits) bytes[b >> 3]! |= 0x80 >> (b & 7);
  return tlv(0x03, Buffer.concat([Buffer.of(7 - (highest & 7)), bytes]));
}

export function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(oid(id), derBool(true), octets(value)) : seq(oid(id), octets(value));
}

export function encodeName(rdns: Rdn[]): Buffer {
  return seq(...rdns.map(([type, value]) => tlv(0x31, seq(oid(type), tlv(0x0c, Buffer.from(value, 'utf8'))))));
}

/** The keyIdentifier of a certificate's SubjectKeyIdentifier extension, if it has one. */
export function findSubjectKeyId(tbs: Buffer[]): Buffer | null {
  const wrapped = tbs.find((el) => el[0] === 0xa3);
  if (!wrapped) return null;
  for (const ext of derChildren(derChildren(wrapped)[0]!)) {
    const parts = derChildren(ext);
    if (!parts[0]!.equals(oid(OID.subjectKeyIdentifier))) continue;
    const value = derContent(parts[parts.length - 1]!); // extnValue OCTET STRING
    return Buffer.from(derContent(value)); // which holds the keyIdentifier OCTET STRING
  }
  return null;
}

export function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  // IPv6: expand '::' and a trailing dotted IPv4 part into eight 16-bit groups.
  let text = ip.split('%')[0]!;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = v4[1]!.split('.').map(Number);
    text = text.slice(0, -v4[1]!.length) + `${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const front = parse(head);
  const back = parse(tail);
  const groups = tail === undefined ? front : [...front, ...Array(8 - front.length - back.length).fill(0), ...back];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Minimal DER: just the types a certificate of ours uses.

export function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.of(n);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v >>>= 8) bytes.unshift(v & 0xff);
    len = Buffer.of(0x80 | bytes.length, ...bytes);
  }
  return Buffer.concat([Buffer.of(tag), len, content]);
}

export const seq = (...parts: Buffer[]) => tlv(0x30, Buffer.concat(parts));
export const octets = (b: Buffer) => tlv(0x04, b);
export const bitString = (b: Buffer) => tlv(0x03, Buffer.concat([Buffer.of(0), b]));
export const derBool = (v: boolean) => tlv(0x01, Buffer.of(v ? 0xff : 0));
export const DER_NULL = Buffer.of(0x05, 0x00);

/** An unsigned big-endian integer, made minimal and kept positive. */
export function derInt(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const body = bytes.subarray(i);
  return tlv(0x02, body[0]! & 0x80 ? Buffer.concat([Buffer.of(0), body]) : body);
}

export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const out = [40 * arcs[0]! + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const chunk = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

function derTime(d: Date): Buffer {
  // RFC 5280: UTCTime through 2049, GeneralizedTime from 2050; whole seconds, always Zulu.
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '') + 'Z';
  const year = d.getUTCFullYear();
  return year < 2050 ? tlv(0x17, Buffer.from(digits.slice(2), 'ascii')) : tlv(0x18, Buffer.from(digits, 'ascii'));
}

/** Where an element's content starts and ends. */
export function derHeader(buf: Buffer, pos: number): { start: number; end: number } {
  let len = buf[pos + 1]!;
  let start = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i]!;
    start += n;
  }
  return { start, end: start + len };
}

export function derContent(el: Buffer): Buffer {
  const { start, end } = derHeader(el, 0);
  return el.subarray(start, end);
}

/** The complete encodings of a constructed element's children. */
export function derChildren(el: Buffer): Buffer[] {
  return derElements(derContent(el));
}

/** The complete encodings of the elements laid end to end in a content buffer. */
export function derElements(content: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let pos = 0; pos < content.length; ) {
    const { end } = derHeader(content, pos);
    out.push(content.subarray(pos, end));
    pos = end;
  }
  return out;
}

export function toPem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
