// Which requests get which audit stages, and what a failed authentication is recorded with
// (upstream apiserver endpoints/filters audit.go, audit_authn.go and the long-running check
// kube-apiserver installs). Pure.
import type { IncomingMessage } from 'node:http';
import type { Attributes } from '../authorization/types.ts';

// kube-apiserver's BasicLongRunningRequestCheck: these verbs, and these subresources of resources.
const LONG_RUNNING_VERBS = new Set(['watch', 'proxy']);
const LONG_RUNNING_SUBRESOURCES = new Set(['attach', 'exec', 'proxy', 'log', 'portforward']);

/** Long-running requests get a ResponseStarted event when their status is sent, ResponseComplete only when they end. */
export function isLongRunning(a: Attributes): boolean {
  if (LONG_RUNNING_VERBS.has(a.verb)) return true;
  return a.resourceRequest && LONG_RUNNING_SUBRESOURCES.has(a.subresource);
}

/** Whether an Authorization header carries usable basic credentials (Go's Request.BasicAuth). */
function hasBasicAuth(header: string): boolean {
  if (header.length < 6 || header.slice(0, 6).toLowerCase() !== 'basic ') return false;
  const b64 = header.slice(6);
  // Go decodes strict standard base64; anything else is not basic auth.
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) return false;
  return Buffer.from(b64, 'base64').toString('latin1').includes(':');
}

/**
 * The message a failed authentication is audited with: the credentials the request tried, in
 * upstream's order and words (getAuthMethods).
 */
export function failedAuthenticationMessage(authorization: string | undefined, query: URLSearchParams, presentedCertificate: boolean): string {
  const methods: string[] = [];
  const header = authorization ?? '';
  if (hasBasicAuth(header)) methods.push('basic');
  const parts = header.trim().split(' ');
  if (parts.length > 1 && parts[0]!.toLowerCase() === 'bearer') methods.push('bearer');
  if ((query.get('access_token') ?? '').trim()) methods.push('access_token');
  if (presentedCertificate) methods.push('x509');
  return methods.length ? `Authentication failed, attempted: ${methods.join(', ')}` : 'Authentication failed, no credentials provided';
}

/** Whether the client sent a certificate at all, verified or not (Go's len(TLS.PeerCertificates) > 0). */
export function presentedCertificate(req: IncomingMessage): boolean {
  const s = req.socket as { getPeerCertificate?: () => { raw?: Buffer } };
  return typeof s.getPeerCertificate === 'function' && !!s.getPeerCertificate()?.raw;
}
