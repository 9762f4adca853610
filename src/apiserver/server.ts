// The API server: HTTPS with client-certificate or token authentication, discovery, OpenAPI,
// health, metrics and the resource handlers, over the watch cache and the store.
import type { AuditOptions } from './audit/index.ts';
import type { AuditRecord } from './audit/auditor.ts';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Store } from '../storage/types.ts';
import { WatchCache } from '../storage/cache.ts';
import { ApiError, internalError } from './errors.ts';
import { sendError, sendJson, sendRaw } from './http.ts';
import { parseResourcePath } from './request.ts';
import { handleResource } from './handlers.ts';
import { ResourceStore } from './resource-store.ts';
import { aggregatedDiscovery, apiGroupDoc, apiGroupList, apiResourceList, apiVersions, wantsAggregated } from './discovery.ts';
import { createAuthenticator, staticTokenUser, withAuthenticatedGroup } from './authn.ts';
import { handleAuthenticationApi, isAuthenticationApiPath } from './authentication-api.ts';
import type { Pki } from './pki.ts';
import { observeRequest, registerMetricsSource, renderMetrics } from './metrics.ts';
import { renderStoreWrites } from './write-counts.ts';
import { log } from '../util/log.ts';
import { bootstrap } from './bootstrap.ts';
import { advertiseAddressFor, ensureClusterServices } from './cluster-services.ts';
import type { ServiceNetwork } from './service-network.ts';
import type { NodeStreamingRegistry } from '../streaming/types.ts';
import { streamingSubresource } from './streaming/target.ts';
import { lazyRemoteNodeResolver, lazyStreamingEndpoints } from './streaming/lazy.ts';
import { nodeProxyTarget, serveNodeProxy } from './node-proxy.ts';
import { DEFAULT_ADMISSION_CONFIG, type AdmissionConfig } from './admission.ts';
import { onResourcesChanged } from '../api/registry.ts';
import { CrdController } from '../apiextensions/controller.ts';
import { authorizeRequest, setupAuthorization } from './authorization/index.ts';
import { reconcileBootstrapPolicy } from './authorization/bootstrap-roles.ts';
import { handleReview, reviewPath } from './authorization/review-api.ts';
import type { RequestUser } from '../api/resource.ts';
import { isUiPath, serveUi } from '../ui/serve.ts';

/**
 * Requests without credentials are anonymous only on these paths (as kube-apiserver's
 * AuthenticationConfiguration `anonymous.conditions`), and then still authorized: the default
 * policy grants them through system:public-info-viewer. Elsewhere they get 401.
 */
const ANONYMOUS_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version', '/version/']);
const ANONYMOUS: RequestUser = { user: 'system:anonymous', groups: ['system:unauthenticated'] };
/** Request line plus headers, as upstream's http.Server MaxHeaderBytes; past it Node answers 431. */
const MAX_REQUEST_HEADER_BYTES = 1 << 20;
import type { MasterLeaseStore } from '../storage/etcd/master-leases.ts';
import { MasterLeaseReconciler } from './master-leases.ts';

export const VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0',
  gitCommit: 'ordinal',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

export interface ApiServerOptions {
  store: Store;
  /** A promise lets the server load its cache and write the default objects while the PKI is still being made. */
  pki: Pki | Promise<Pki>;
  port: number;
  host?: string;
  /** Nodes' exec/attach/port-forward/log services, for the pods streaming subresources. */
  nodeStreaming?: NodeStreamingRegistry;
  /** kube-apiserver's --service-cluster-ip-range (default 10.96.0.0/12). */
  serviceNetwork?: ServiceNetwork;
  /** kube-apiserver's --advertise-address: the kubernetes Service's endpoint (see cluster-services.ts). */
  advertiseAddress?: string;
  /** Admission plugins' flags (--default-not-ready-toleration-seconds, ...). */
  admission?: Partial<AdmissionConfig>;
  /**
   * kube-apiserver's --endpoint-reconciler-type lease: with several servers on one store, the
   * kubernetes Endpoints list every server holding a master lease here.
   */
  masterLeases?: MasterLeaseStore;
  /** --endpoint-reconciler-type none: the kubernetes Endpoints are left to whoever manages them. */
  endpointReconcilerNone?: boolean;
  /** Audit logging (--audit-policy-file, --audit-log-path and rotation); none without. */
  audit?: AuditOptions;
  /** Told as each start-up step ends (the cache loaded, namespaces, RBAC policy, serving): `ordinal up` logs where its start-up time went. */
  startupMark?: (phase: string) => void;
}

export interface ApiServer {
  url: string;
  port: number;
  resources: ResourceStore;
  close(): Promise<void>;
}

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  // ORDINAL_WATCH_CACHE_HISTORY shrinks the events kept for resuming watches (tests of 410 Expired).
  const cache = new WatchCache(opts.store, Number(process.env.ORDINAL_WATCH_CACHE_HISTORY) || undefined);
  // The counters are the process's (every server in it writes through the same module): registered once, kept.
  registerMetricsSource(renderStoreWrites);
  cache.addIndex('/registry/core/pods/', 'spec.nodeName', (o) => o.spec?.nodeName || undefined);
  const mark = opts.startupMark ?? (() => {});
  await cache.start();
  mark('cache');
  const rs = new ResourceStore(opts.store, cache);
  if (opts.serviceNetwork) rs.serviceNetwork = opts.serviceNetwork;
  rs.admission = { ...DEFAULT_ADMISSION_CONFIG, ...opts.admission };
  await bootstrap(rs);
  mark('namespaces');
  // Custom kinds are served from the definitions in the store, from the first request on.
  const crdController = new CrdController(rs);
  crdController.start();
  const authz = setupAuthorization(rs);
  await reconcileBootstrapPolicy(rs);
  mark('rbac');
  const pki = await opts.pki;
  mark('pkiWait');
  const authenticate = createAuthenticator(pki, rs);
  /** Who the request acts as, once authenticated, impersonated and authorized; throws the 401/403. */
  const identify = (req: IncomingMessage, url: URL, audit?: AuditRecord): RequestUser => {
    const user = authenticate(req);
    if (!user) {
      if (req.headers.authorization || !ANONYMOUS_PATHS.has(url.pathname)) {
        audit?.authenticationFailed();
        throw new ApiError(401, 'Unauthorized', 'Unauthorized');
      }
      audit?.authenticated(ANONYMOUS);
      return authorizeRequest(authz.authorizer, req, url, ANONYMOUS, audit && ((acting, a, r) => audit.authorized(acting, a, r)));
    }
    const authenticated = withAuthenticatedGroup(user);
    audit?.authenticated(authenticated);
    return authorizeRequest(authz.authorizer, req, url, authenticated, audit && ((acting, a, r) => audit.authorized(acting, a, r)));
  };
  // The audit modules load only when auditing is on.
  const auditor = opts.audit ? (await import('./audit/index.ts')).createAuditor(opts.audit) : undefined;
  const adminTokenUser = staticTokenUser(pki);
  const host = opts.host ?? '127.0.0.1';
  let address = `${host}:${opts.port}`;

  // Nodes whose agents run elsewhere are reached at their kubelet servers, as the API server's kubelet client.
  const remote = lazyRemoteNodeResolver(rs, { certPem: pki.kubeletClientCertPem, keyPem: pki.kubeletClientKeyPem });
  // Upgrade requests (exec, attach, port-forward) are audited too; their record travels with the request.
  const upgradeAudits = new WeakMap<IncomingMessage, AuditRecord>();
  const streaming = lazyStreamingEndpoints({ resources: rs, registry: opts.nodeStreaming, remote, authenticate: (req) => identify(req, new URL(req.url ?? '/', 'https://localhost'), upgradeAudits.get(req)) });
  const server = https.createServer(
    {
      key: pki.serverKeyPem,
      // The CA follows the serving certificate, so a joining node can pin it by hash (kubeadm's
      // --discovery-token-ca-cert-hash) before it trusts it or sends any token.
      cert: pki.serverCertPem + pki.caCertPem,
      ca: pki.caCertPem,
      requestCert: true,
      rejectUnauthorized: false,
      // Only exec/attach/portforward take over the connection; other upgrade requests are served as plain requests.
      shouldUpgradeCallback: (req) => streaming.wantsUpgrade(req),
      // Upstream's secure server takes up to 1 MiB of request line and headers (MaxHeaderBytes 1 << 20);
      // Node's default of 16 KiB refused long label selectors and field selectors that upstream serves.
      maxHeaderSize: MAX_REQUEST_HEADER_BYTES,
    },
    (req, res) => void handle(req, res),
  );
  server.on('upgrade', (req, socket, head) => {
    const audit = auditor?.beginUpgrade(req, socket, new URL(req.url ?? '/', 'https://localhost'));
    if (audit) upgradeAudits.set(req, audit);
    streaming.handleUpgrade(req, socket, head);
    audit?.complete();
  });
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 130_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'https://localhost');
    let resourceLabel = '';
    const audit = auditor?.begin(req, res, url);
    let failure: ApiError | undefined;
    try {
      const path = url.pathname.replace(/\/+$/, '') || '/';
      const user = identify(req, url, audit);
      if (path === '/healthz' || path === '/livez' || path === '/readyz') return sendRaw(res, 200, 'ok', 'text/plain; charset=utf-8');
      if (path === '/version') return sendJson(res, 200, VERSION);
      if (isAuthenticationApiPath(path)) return await handleAuthenticationApi(req, res, path, user, rs, adminTokenUser);
      const review = reviewPath(path);
      if (review) return await handleReview(req, res, review, user, authz.authorizer);
      const proxied = nodeProxyTarget(url.pathname);
      if (proxied) {
        resourceLabel = 'nodes/proxy';
        return await serveNodeProxy(req, res, proxied, url, { resources: rs, registry: opts.nodeStreaming, remote });
      }
      if (isUiPath(url.pathname)) return serveUi(req, res, url.pathname);
      const rr = parseResourcePath(path);
      if (rr) {
        resourceLabel = rr.resource.plural + (rr.subresource ? `/${rr.subresource}` : '');
        if (streamingSubresource(rr)) return await streaming.handleRequest(req, res, rr, url);
        return await handleResource(req, res, rr, url, rs, user);
      }
      if (rr === null) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
      return await serveNonResource(req, res, path);
    } catch (err) {
      const apiErr = err instanceof ApiError ? err : internalError(err);
      if (!(err instanceof ApiError)) log('error', 'apiserver', 'request failed', { method: req.method, path: url.pathname, error: String((err as Error)?.stack ?? err) });
      failure = apiErr;
      audit?.failing(apiErr);
      sendError(res, apiErr);
    } finally {
      audit?.complete(failure);
      observeRequest(req.method ?? 'GET', resourceLabel, res.statusCode, (performance.now() - started) / 1000);
    }
  }

  // OpenAPI documents are built on first request only: most clients never ask, and start-up stays fast.
  async function serveOpenApi(res: ServerResponse, path: string): Promise<void> {
    const { openApiV3Served, openApiV3Index } = await import('../api/openapi.ts');
    if (path === '/openapi/v3') return sendJson(res, 200, openApiV3Index());
    const served = openApiV3Served(path.slice('/openapi/v3/'.length));
    if (!served) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
    return sendRaw(res, 200, served.json, 'application/json', { 'Cache-Control': 'public, immutable', ETag: `"${served.hash}"` });
  }

  // /openapi/v2: JSON by default, gnostic protobuf when asked (kubectl's v2 validation and
  // `explain --output=plaintext-openapiv2`). Built on first request, then kept.
  let openApiV2: Promise<import('../api/openapi-v2-proto.ts').OpenApiV2Variant[]> | undefined;
  const forgetOpenApiV2 = onResourcesChanged(() => (openApiV2 = undefined));
  async function serveOpenApiV2(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!openApiV2) {
      openApiV2 = Promise.all([import('../api/openapi.ts'), import('../api/openapi-v2-proto.ts')]).then(([o, p]) => {
        const v = p.openApiV2Variants(o.openApiV2Document());
        return [v.json, v.protobuf];
      });
      openApiV2.catch(() => (openApiV2 = undefined)); // a failed build is retried, not kept
    }
    const { wantsOpenApiV2Protobuf } = await import('../api/openapi-v2-proto.ts');
    const [json, protobuf] = await openApiV2;
    const v = wantsOpenApiV2Protobuf(req.headers.accept) ? protobuf : json;
    const headers = { 'Content-Type': v.contentType, 'Cache-Control': 'no-cache, private', ETag: v.etag, Vary: 'Accept' };
    if (req.headers['if-none-match'] === v.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    res.writeHead(200, headers);
    res.end(v.body);
  }

  function serveNonResource(req: IncomingMessage, res: ServerResponse, path: string): void | Promise<void> {
    const agg = wantsAggregated(req.headers.accept);
    const aggType = (v: string) => ({ 'Content-Type': `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList` });
    if (path === '/version') return sendJson(res, 200, VERSION);
    if (path === '/metrics') return sendRaw(res, 200, renderMetrics({ ordinal_store_revision: cache.revision() }), 'text/plain; version=0.0.4');
    if (path === '/api') {
      if (agg) return sendRaw(res, 200, JSON.stringify(aggregatedDiscovery(true, agg)), aggType(agg)['Content-Type']);
      return sendJson(res, 200, apiVersions(address));
    }
    if (path === '/apis') {
      if (agg) return sendRaw(res, 200, JSON.stringify(aggregatedDiscovery(false, agg)), aggType(agg)['Content-Type']);
      return sendJson(res, 200, apiGroupList());
    }
    if (path === '/openapi/v3' || path.startsWith('/openapi/v3/')) return serveOpenApi(res, path);
    if (path === '/openapi/v2') return serveOpenApiV2(req, res);
    const parts = path.split('/').filter(Boolean);
    if (parts[0] === 'api' && parts.length === 2) {
      const list = apiResourceList(parts[1]);
      if (list) return sendJson(res, 200, list);
    }
    if (parts[0] === 'apis' && parts.length === 2) {
      const g = apiGroupDoc(parts[1]);
      if (g) return sendJson(res, 200, g);
    }
    if (parts[0] === 'apis' && parts.length === 3) {
      const list = apiResourceList(`${parts[1]}/${parts[2]}`);
      if (list) return sendJson(res, 200, list);
    }
    throw new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  address = `${host}:${port}`;
  const advertiseAddress = advertiseAddressFor(host, opts.advertiseAddress);
  const leaseReconciler = opts.masterLeases && advertiseAddress ? new MasterLeaseReconciler(rs, opts.masterLeases, { ip: advertiseAddress, port }) : undefined;
  await ensureClusterServices(rs, { securePort: port, advertiseAddress, leaseReconciled: leaseReconciler !== undefined || opts.endpointReconcilerNone });
  await leaseReconciler?.start();
  mark('serve');
  return {
    url: `https://${address}`,
    port,
    resources: rs,
    async close() {
      // First, so that clients stop being sent here while the others still serve.
      await leaseReconciler?.stop();
      crdController.stop();
      forgetOpenApiV2();
      streaming.close();
      authz.close();
      auditor?.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      cache.close();
    },
  };
}
