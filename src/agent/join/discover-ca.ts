// Finding the cluster's CA before trusting anything, as `kubeadm join --discovery-token-ca-cert-hash`
// does: the joining node must not send its bootstrap token to a server it has not verified. The API
// server sends its CA after its serving certificate in the TLS handshake; the node takes the CA
// whose public-key hash matches the pin, checks that the serving certificate was issued by it and
// names the host it dialled, and only then talks to the API.
import tls from 'node:tls';
import { isIP } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { caCertHash } from '../../certificates/ca-hash.ts';

export interface DiscoveredServer {
  caCertPem: string;
  /** This machine's address on the route to the server: the default for the node's InternalIP. */
  localAddress: string;
}

export class CaPinError extends Error {}

/**
 * Connects to `serverUrl` without trusting it yet, and returns the CA that matches `pin`
 * ("sha256:<hex>"). Without a pin the CA the server presents is taken as it is (trust on first use),
 * which the caller must report as unsafe.
 */
export async function discoverServerCa(serverUrl: string, pin: string | undefined, timeoutMs = 10_000): Promise<DiscoveredServer> {
  const url = new URL(serverUrl);
  if (url.protocol !== 'https:') throw new Error(`--server ${serverUrl}: must be an https:// URL`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 443);
  const { chain, localAddress } = await new Promise<{ chain: X509Certificate[]; localAddress: string }>((resolve, reject) => {
    const socket = tls.connect({ host, port, servername: isIP(host) ? undefined : host, rejectUnauthorized: false, timeout: timeoutMs }, () => {
      const certs: X509Certificate[] = [];
      let peer = socket.getPeerCertificate(true);
      const seen = new Set<string>();
      while (peer && peer.raw && !seen.has(peer.fingerprint256)) {
        seen.add(peer.fingerprint256);
        certs.push(new X509Certificate(peer.raw));
        peer = peer.issuerCertificate;
      }
      const local = socket.localAddress ?? '';
      socket.end();
      resolve({ chain: certs, localAddress: local });
    });
    socket.on('timeout', () => socket.destroy(new Error(`connecting to ${serverUrl}: timed out`)));
    socket.on('error', (err) => reject(new Error(`connecting to ${serverUrl}: ${err.message}`)));
  });
  const leaf = chain[0];
  if (!leaf) throw new CaPinError(`${serverUrl} presented no certificate`);
  const cas = chain.slice(1).filter((c) => c.ca);
  const ca = pin ? cas.find((c) => caCertHash(c.toString()) === pin.toLowerCase()) : cas[0];
  if (!ca) {
    const seenHashes = cas.map((c) => caCertHash(c.toString())).join(', ') || 'none';
    throw new CaPinError(
      pin
        ? `the server's CA does not match --ca-cert-hash ${pin} (the server presented: ${seenHashes}); refusing to join`
        : `${serverUrl} did not present its CA certificate; pass --ca-cert-hash to pin it`,
    );
  }
  if (!leaf.checkIssued(ca) || !leaf.verify(ca.publicKey)) throw new CaPinError(`the server's certificate was not issued by the pinned CA; refusing to join`);
  const now = Date.now();
  if (leaf.validToDate.getTime() < now || leaf.validFromDate.getTime() > now + 60_000) throw new CaPinError(`the server's certificate is not valid now (valid ${leaf.validFrom} to ${leaf.validTo})`);
  const named = isIP(host) ? leaf.checkIP(host) : leaf.checkHost(host, { subject: 'never' });
  if (!named) throw new CaPinError(`the server's certificate is not valid for ${host}: start the server with --host (or --tls-san) naming the address agents use`);
  return { caCertPem: ca.toString(), localAddress };
}
