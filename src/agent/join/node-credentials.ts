// A joining node's client certificate, as the kubelet's TLS bootstrap obtains and renews it: a new
// key, a CertificateSigningRequest for `system:node:<name>` in `system:nodes` with the
// kube-apiserver-client-kubelet signer (sent with the bootstrap token the first time and with the
// node's own certificate afterwards), and the signed certificate kept beside the key in the data dir.
import { X509Certificate, generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createCsrPem } from '../../certificates/csr.ts';
import { ApiError } from '../../apiserver/errors.ts';
import type { HttpClient } from '../../client/http-client.ts';
import { log } from '../../util/log.ts';

export const KUBELET_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client-kubelet';
export const NODES_GROUP = 'system:nodes';

export interface NodeCredentials {
  certPem: string;
  keyPem: string;
  notBefore: number;
  notAfter: number;
}

export const nodeUser = (nodeName: string) => `system:node:${nodeName}`;

const files = (dataDir: string) => ({ ca: join(dataDir, 'pki', 'ca.crt'), cert: join(dataDir, 'pki', 'node.crt'), key: join(dataDir, 'pki', 'node.key'), kubeconfig: join(dataDir, 'kubelet.conf') });

export function loadSavedCa(dataDir: string): string | undefined {
  try {
    const pem = readFileSync(files(dataDir).ca, 'utf8');
    return new X509Certificate(pem).ca ? pem : undefined;
  } catch {
    return undefined;
  }
}

export function saveCa(dataDir: string, caCertPem: string): void {
  writeAtomic(files(dataDir).ca, caCertPem, 0o644);
}

/** The saved credentials when they are this node's, issued by `caCertPem` and still valid for a while. */
export function loadNodeCredentials(dataDir: string, caCertPem: string, nodeName: string, now = Date.now()): NodeCredentials | undefined {
  try {
    const f = files(dataDir);
    const certPem = readFileSync(f.cert, 'utf8');
    const keyPem = readFileSync(f.key, 'utf8');
    const cert = new X509Certificate(certPem);
    const ca = new X509Certificate(caCertPem);
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return undefined;
    if (!cert.subject.split('\n').includes(`CN=${nodeUser(nodeName)}`)) return undefined;
    const notAfter = cert.validToDate.getTime();
    // A certificate about to expire cannot carry a renewal: bootstrap again instead.
    if (notAfter - now < 60_000) return undefined;
    return { certPem, keyPem, notBefore: cert.validFromDate.getTime(), notAfter };
  } catch {
    return undefined;
  }
}

export function saveNodeCredentials(dataDir: string, creds: NodeCredentials, serverUrls: string[], caCertPem: string, nodeName: string): void {
  const f = files(dataDir);
  writeAtomic(f.key, creds.keyPem, 0o600);
  writeAtomic(f.cert, creds.certPem, 0o644);
  // A kubeconfig with the node's identity, as the kubelet's: `kubectl --kubeconfig <data-dir>/kubelet.conf`
  // shows what this node may see.
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const q = JSON.stringify;
  writeAtomic(
    f.kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: ordinal',
      '  cluster:',
      `    server: ${q(serverUrls[0])}`,
      `    certificate-authority-data: ${b64(caCertPem)}`,
      'users:',
      `- name: ${q(nodeUser(nodeName))}`,
      '  user:',
      `    client-certificate: ${q(f.cert)}`,
      `    client-key: ${q(f.key)}`,
      'contexts:',
      '- name: ordinal',
      '  context:',
      '    cluster: ordinal',
      `    user: ${q(nodeUser(nodeName))}`,
      'current-context: ordinal',
      '',
    ].join('\n'),
    0o600,
  );
}

/**
 * Asks the cluster for a node client certificate through `client` (bootstrap token or the current
 * node certificate) and waits until it is issued. Refused (Denied or Failed) requests throw.
 */
export async function requestNodeCertificate(client: HttpClient, nodeName: string, opts: { timeoutMs?: number } = {}): Promise<NodeCredentials> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const keyPem = privateKey.export({ type: 'sec1', format: 'pem' }) as string;
  const csrPem = createCsrPem(privateKey, { commonName: nodeUser(nodeName), organizations: [NODES_GROUP] });
  const path = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
  const created = (await client.request('POST', path, {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { generateName: 'csr-' },
    spec: { request: Buffer.from(csrPem).toString('base64'), signerName: KUBELET_CLIENT_SIGNER, usages: ['digital signature', 'client auth'] },
  })) as { metadata: { name: string } };
  const name = created.metadata.name;
  log('info', 'agent', 'certificate signing request sent, waiting for approval', { node: nodeName, csr: name });
  const deadline = Date.now() + (opts.timeoutMs ?? 15 * 60_000);
  let lastNote = Date.now();
  for (;;) {
    let csr: any;
    try {
      csr = await client.request('GET', `${path}/${name}`);
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) throw new Error(`certificate signing request ${name} was deleted before it was issued`);
      throw err;
    }
    const refused = (csr.status?.conditions ?? []).find((c: any) => (c.type === 'Denied' || c.type === 'Failed') && c.status !== 'False');
    if (refused) throw new Error(`certificate signing request ${name} was ${refused.type.toLowerCase()}: ${refused.reason ?? ''} ${refused.message ?? ''}`.trim());
    if (csr.status?.certificate) {
      const certPem = Buffer.from(csr.status.certificate, 'base64').toString('utf8');
      const cert = new X509Certificate(certPem.slice(0, certPem.indexOf('-----END CERTIFICATE-----') + 25));
      if (!cert.checkPrivateKey(privateKey)) throw new Error(`certificate signing request ${name}: the issued certificate is not for our key`);
      return { certPem, keyPem, notBefore: cert.validFromDate.getTime(), notAfter: cert.validToDate.getTime() };
    }
    if (Date.now() > deadline) throw new Error(`certificate signing request ${name} was not approved in time; approve it with: kubectl certificate approve ${name}`);
    if (Date.now() - lastNote > 30_000) {
      lastNote = Date.now();
      log('warn', 'agent', `still waiting for certificate signing request ${name}: approve it with kubectl certificate approve ${name}`, { node: nodeName });
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * When to renew: at a random point between 70 % and 90 % of the certificate's lifetime, as
 * client-go's certificate manager, so many nodes do not renew at the same moment.
 */
export function renewalTime(creds: Pick<NodeCredentials, 'notBefore' | 'notAfter'>, random = Math.random()): number {
  const life = creds.notAfter - creds.notBefore;
  return creds.notBefore + life * (0.7 + 0.2 * random);
}

function writeAtomic(path: string, data: string, mode: number): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, data, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}
