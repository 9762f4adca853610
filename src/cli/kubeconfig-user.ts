// `ordinal kubeconfig --user NAME [--group G]... [--expiry 8760h] [--data-dir DIR] [--server URL]`:
// a kubeconfig for a person, with a client certificate the cluster CA signs (CN the user, O each
// group), as `kubeadm kubeconfig user --client-name NAME --org G --validity-period D` makes one.
// What the user may then do is whatever RBAC grants that name and those groups.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { caCertPath, caKeyPath, encodeName, extension, keyIdOf, keyUsageBits, loadIssuer, OID, renderClientKubeconfig, oid, octets, seq, signCertificate, tlv, toPem, type Issuer, type Rdn } from '../apiserver/pki.ts';
import { parseGoDuration } from '../util/duration.ts';

export const KUBECONFIG_USAGE = `Usage: ordinal kubeconfig --user NAME [--group GROUP]... [options]

Prints a kubeconfig that authenticates as NAME (in the given groups) with a client certificate
signed by the cluster CA, as kubeadm kubeconfig user does. Grant it rights with RBAC, e.g.
kubectl create rolebinding NAME-view --clusterrole=view --user=NAME.

Options:
  --user NAME        the user name (the certificate's CN); required
  --group GROUP      a group (the certificate's O); repeat for several
  --expiry DURATION  how long the certificate is valid (default 8760h; Go duration syntax)
  --data-dir DIR     the cluster's data directory, which holds its CA (default ~/.ordinal)
  --server URL       the API server the kubeconfig points at (default: the admin kubeconfig's)
  -h, --help         show this help
`;

const DIGITAL_SIGNATURE = 0;
const KEY_ENCIPHERMENT = 2;
const BACKDATE_MS = 5 * 60 * 1000;

/** A client certificate and its key for the user and groups, valid from now for `validityMs`. */
export function issueUserCertificate(ca: Issuer, user: string, groups: string[], validityMs: number, now = Date.now()): { certPem: string; keyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const extensions = [
    extension(OID.basicConstraints, true, seq()),
    extension(OID.keyUsage, true, keyUsageBits([DIGITAL_SIGNATURE, KEY_ENCIPHERMENT])),
    extension(OID.extKeyUsage, false, seq(oid(OID.clientAuth))),
    extension(OID.subjectKeyIdentifier, false, octets(keyIdOf(spki))),
  ];
  if (ca.keyId) extensions.push(extension(OID.authorityKeyIdentifier, false, seq(tlv(0x80, ca.keyId))));
  const subject: Rdn[] = [...groups.map((g): Rdn => [OID.organization, g]), [OID.commonName, user]];
  const notBefore = new Date(now - BACKDATE_MS);
  const der = signCertificate(ca.key, { issuerDer: ca.subjectDer, subjectDer: encodeName(subject), spki, notBefore, notAfter: new Date(now + validityMs), extensions });
  return { certPem: toPem('CERTIFICATE', der), keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

/** The server of the admin kubeconfig the cluster wrote into its data directory. */
function adminServer(dataDir: string): string | undefined {
  try {
    const m = /^\s*server:\s*"?([^"\s]+)"?\s*$/m.exec(readFileSync(join(dataDir, 'kubeconfig'), 'utf8'));
    return m?.[1];
  } catch {
    return undefined;
  }
}

export async function kubeconfigCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        user: { type: 'string' },
        group: { type: 'string', multiple: true },
        expiry: { type: 'string' },
        'data-dir': { type: 'string' },
        server: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n\n${KUBECONFIG_USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(KUBECONFIG_USAGE);
    return 0;
  }
  const fail = (msg: string) => (process.stderr.write(`error: ${msg}\n`), 1);
  if (!values.user) return fail('--user is required');
  let validityMs: number;
  try {
    validityMs = parseGoDuration(values.expiry ?? '8760h');
  } catch (err) {
    return fail(`invalid --expiry: ${(err as Error).message}`);
  }
  if (validityMs <= 0) return fail('invalid --expiry: must be positive');
  const dataDir = resolve(values['data-dir'] ?? join(homedir(), '.ordinal'));
  let caCertPem: string;
  let ca: Issuer;
  try {
    caCertPem = readFileSync(caCertPath(dataDir), 'utf8');
    ca = loadIssuer(caCertPem, readFileSync(caKeyPath(dataDir), 'utf8'));
  } catch (err) {
    return fail(`cannot read the cluster CA in ${dataDir}: ${(err as Error).message}`);
  }
  const server = values.server ?? adminServer(dataDir);
  if (!server) return fail(`no --server given and no kubeconfig in ${dataDir} to take it from`);
  const { certPem, keyPem } = issueUserCertificate(ca, values.user, values.group ?? [], validityMs);
  process.stdout.write(renderClientKubeconfig({ server, caCertPem, user: values.user, certPem, keyPem }));
  return 0;
}
