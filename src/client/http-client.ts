// The API client over HTTPS, for components that run in another process or on another machine
// (`ordinal agent`): the same Client interface the in-process components use, so a node agent or a
// controller runs unchanged against any Kubernetes API server.
//
// Watches resume by themselves from the last revision they delivered when a connection ends (the
// server ends every watch after a few minutes, and networks drop); only an expired revision (410)
// or a server that stays unreachable reaches the caller's onClose, whose informer then re-lists.
// Several server URLs may be given: a request that cannot connect to one tries the next.
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Obj, ResourceDef } from '../api/resource.ts';
import { requireResource } from '../apiserver/request.ts';
import { ApiError } from '../apiserver/errors.ts';
import type { DeleteOptions } from '../apiserver/resource-store.ts';
import type { Client, EventType, ListOptions, PatchType, WatchOptions } from './client.ts';
import { log } from '../util/log.ts';

export type Credentials = { certPem: string; keyPem: string } | { token: string };

export interface HttpClientOptions {
  /** One or more API server URLs (https://host:port); the first reachable one serves a request. */
  servers: string[];
  /** The cluster CA the servers' certificates must chain to. */
  caCertPem: string;
  credentials: Credentials;
  /** Identifies the component in the server's logs and audit, as client-go's user agent. */
  userAgent?: string;
  /** How long a request may take before it fails (not watches). Default 30 s. */
  timeoutMs?: number;
}

/** Connection-level failures: worth trying the next server, and for watches worth retrying. */
const NETWORK_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ERR_SOCKET_CONNECTION_TIMEOUT']);

/** Longer than the server's bookmark interval (about a minute), with room for a slow link. */
const WATCH_IDLE_TIMEOUT_MS = 90_000;

export class HttpClient implements Client {
  private readonly opts: HttpClientOptions;
  private agent: https.Agent;
  /**
   * Watches hold their connection for minutes: they get sockets of their own (no limit), so that a
   * process with many informers (the controllers) never starves its ordinary requests of sockets.
   */
  private watchAgent: https.Agent;
  /** Index of the server that answered last: requests stick to it until it fails. */
  private current = 0;
  private closed = false;

  constructor(opts: HttpClientOptions) {
    if (opts.servers.length === 0) throw new Error('HttpClient: no server URL');
    this.opts = { ...opts };
    this.agent = this.makeAgent(opts.credentials);
    this.watchAgent = this.makeAgent(opts.credentials, Infinity);
  }

  /** Swaps the credentials (a rotated node certificate); requests from now on use the new ones. */
  setCredentials(credentials: Credentials): void {
    const old = [this.agent, this.watchAgent];
    this.opts.credentials = credentials;
    this.agent = this.makeAgent(credentials);
    this.watchAgent = this.makeAgent(credentials, Infinity);
    // Requests in flight keep their connection a while; then the old identity's sockets go (watches
    // resume on the new one).
    setTimeout(() => old.forEach((a) => a.destroy()), 60_000).unref();
  }

  close(): void {
    this.closed = true;
    this.agent.destroy();
    this.watchAgent.destroy();
  }

  private makeAgent(c: Credentials, maxSockets = 64): https.Agent {
    return new https.Agent({
      keepAlive: true,
      maxSockets,
      ca: this.opts.caCertPem,
      ...('certPem' in c ? { cert: c.certPem, key: c.keyPem } : {}),
    });
  }

  resource(group: string, plural: string): ResourceDef {
    return requireResource(group, plural);
  }

  async get(r: ResourceDef, namespace: string | undefined, name: string): Promise<Obj> {
    return withKind(r, (await this.request('GET', objectPath(r, namespace, name))) as Obj);
  }

  async list(r: ResourceDef, opts: ListOptions = {}): Promise<{ items: Obj[]; resourceVersion: string }> {
    const q = new URLSearchParams();
    if (opts.labelSelector) q.set('labelSelector', opts.labelSelector);
    if (opts.fieldSelector) q.set('fieldSelector', opts.fieldSelector);
    const items: Obj[] = [];
    let resourceVersion = '';
    // Pages keep a single response (and its parse) bounded for large collections.
    q.set('limit', '5000');
    for (;;) {
      const page = (await this.request('GET', `${collectionPath(r, opts.namespace)}?${q}`)) as Obj;
      for (const item of page.items ?? []) items.push(withKind(r, item));
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      const next = page.metadata?.continue;
      if (!next) break;
      q.set('continue', next);
    }
    return { items, resourceVersion };
  }

  watch(r: ResourceDef, opts: WatchOptions, onEvent: (type: EventType, obj: Obj) => void, onClose: (err?: ApiError) => void): () => void {
    let stopped = false;
    let rv = opts.resourceVersion;
    let req: ReturnType<typeof https.request> | undefined;
    let failures = 0;
    const finish = (err?: ApiError) => {
      if (stopped) return;
      stopped = true;
      onClose(err);
    };
    // Each connection attempt settles once: an error, an end and a timeout of one attempt must not
    // start two watches.
    let attempt = 0;
    const once = (n: number, fn: (arg?: unknown) => void) => (arg?: unknown) => {
      if (n !== attempt) return;
      attempt++;
      fn(arg);
    };
    const connect = () => {
      if (stopped || this.closed) return;
      const n = ++attempt;
      const q = new URLSearchParams({ watch: '1', resourceVersion: rv, allowWatchBookmarks: 'true' });
      if (opts.labelSelector) q.set('labelSelector', opts.labelSelector);
      if (opts.fieldSelector) q.set('fieldSelector', opts.fieldSelector);
      const url = this.url(`${collectionPath(r, opts.namespace)}?${q}`);
      req = https.request(url, { method: 'GET', agent: this.watchAgent, headers: this.headers({ Accept: 'application/json' }) }, (res) => {
        if (res.statusCode !== 200) {
          const settle = once(n, (err) => ((err as ApiError).code === 410 ? finish(err as ApiError) : retry(err)));
          void readBody(res).then((body) => settle(errorFrom(res.statusCode ?? 500, body)), settle);
          return;
        }
        failures = 0;
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buf += chunk;
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            if (line.trim()) handleLine(line);
            if (stopped) return;
          }
        });
        // The server ends watches after its timeout: carry on from the last revision seen.
        res.on('end', once(n, () => setTimeout(connect, 0)));
        res.on('error', once(n, retry));
      });
      req.on('error', once(n, retry));
      // A server that vanished without closing the connection (its machine gone, the network cut)
      // sends nothing more: bookmarks arrive about once a minute, so silence beyond that is a dead
      // watch, resumed elsewhere or later.
      req.setTimeout(WATCH_IDLE_TIMEOUT_MS, () => req?.destroy(Object.assign(new Error('watch idle for too long'), { code: 'ETIMEDOUT' })));
      req.end();
    };
    const handleLine = (line: string) => {
      let ev: { type: string; object: Obj };
      try {
        ev = JSON.parse(line);
      } catch {
        return;
      }
      if (ev.type === 'ERROR') {
        const st = ev.object ?? {};
        const err = new ApiError(st.code ?? 500, st.reason ?? 'InternalError', st.message ?? 'watch error');
        if (err.code === 410) {
          req?.destroy();
          return finish(err);
        }
        return;
      }
      const obj = ev.object;
      if (obj?.metadata?.resourceVersion) rv = obj.metadata.resourceVersion;
      if (ev.type === 'BOOKMARK') return;
      if (ev.type === 'ADDED' || ev.type === 'MODIFIED' || ev.type === 'DELETED') onEvent(ev.type, withKind(r, obj));
    };
    const retry = (err: unknown) => {
      if (stopped || this.closed) return;
      failures++;
      if (isNetworkError(err)) this.current = (this.current + 1) % this.opts.servers.length;
      // Back off while the server is away; after a minute of failures let the informer re-list,
      // which also tells its owner something is wrong.
      if (failures > 30) return finish();
      const delay = Math.min(2000, 100 * 2 ** Math.min(failures, 5));
      log('debug', 'http-client', 'watch interrupted, resuming', { resource: r.plural, error: String(err), delayMs: delay });
      setTimeout(connect, delay);
    };
    connect();
    return () => {
      stopped = true;
      req?.destroy();
    };
  }

  async create(r: ResourceDef, namespace: string | undefined, obj: Obj): Promise<Obj> {
    return withKind(r, (await this.request('POST', collectionPath(r, namespace ?? obj.metadata?.namespace), withKind(r, obj))) as Obj);
  }

  async update(r: ResourceDef, obj: Obj, subresource?: 'status' | 'finalize'): Promise<Obj> {
    const path = objectPath(r, obj.metadata.namespace, obj.metadata.name) + (subresource ? `/${subresource}` : '');
    return withKind(r, (await this.request('PUT', path, withKind(r, obj))) as Obj);
  }

  async patch(r: ResourceDef, namespace: string | undefined, name: string, patchType: PatchType, patch: unknown, subresource?: 'status'): Promise<Obj> {
    const path = objectPath(r, namespace, name) + (subresource ? `/${subresource}` : '');
    return withKind(r, (await this.request('PATCH', path, patch, patchType)) as Obj);
  }

  async delete(r: ResourceDef, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<void> {
    const body: Obj = { kind: 'DeleteOptions', apiVersion: 'v1' };
    if (opts.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = opts.gracePeriodSeconds;
    if (opts.propagationPolicy) body.propagationPolicy = opts.propagationPolicy;
    if (opts.preconditions) body.preconditions = opts.preconditions;
    if (opts.dryRun) body.dryRun = ['All'];
    await this.request('DELETE', objectPath(r, namespace, name), body);
  }

  async bind(namespace: string, name: string, nodeName: string, uid?: string): Promise<void> {
    const body: Obj = { apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace, ...(uid ? { uid } : {}) }, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } };
    await this.request('POST', `/api/v1/namespaces/${namespace}/pods/${name}/binding`, body);
  }

  async createToken(namespace: string, name: string, request: Obj): Promise<Obj> {
    return (await this.request('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', ...request })) as Obj;
  }

  async subjectAccessReview(spec: Obj): Promise<Obj> {
    const review = (await this.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec })) as Obj;
    return review.status ?? {};
  }

  /** A raw request (paths outside the typed resources, e.g. node proxy or discovery). */
  async request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<unknown> {
    const n = this.opts.servers.length;
    let lastErr: unknown;
    for (let i = 0; i < n; i++) {
      try {
        return await this.once(method, path, body, contentType);
      } catch (err) {
        if (!isNetworkError(err)) throw err;
        lastErr = err;
        this.current = (this.current + 1) % n;
      }
    }
    throw lastErr;
  }

  private once(method: string, path: string, body: unknown, contentType: string): Promise<unknown> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers = this.headers({ Accept: 'application/json', ...(payload ? { 'Content-Type': contentType, 'Content-Length': String(payload.length) } : {}) });
    return new Promise((resolve, reject) => {
      const req = https.request(this.url(path), { method, agent: this.agent, headers, timeout: this.opts.timeoutMs ?? 30_000 }, (res) => {
        readBody(res).then((text) => {
          const code = res.statusCode ?? 500;
          if (code >= 200 && code < 300) {
            try {
              resolve(text ? JSON.parse(text) : {});
            } catch (err) {
              reject(err);
            }
          } else reject(errorFrom(code, text));
        }, reject);
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error(`${method} ${path}: timed out`), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      req.end(payload);
    });
  }

  private url(path: string): string {
    return this.opts.servers[this.current]!.replace(/\/+$/, '') + path;
  }

  private headers(extra: Record<string, string>): Record<string, string> {
    const h: Record<string, string> = { 'User-Agent': this.opts.userAgent ?? 'ordinal', ...extra };
    if ('token' in this.opts.credentials) h.Authorization = `Bearer ${this.opts.credentials.token}`;
    return h;
  }
}

function isNetworkError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && NETWORK_ERRORS.has(code);
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

/** A Status body as an ApiError; anything else keeps the HTTP code and the text. */
function errorFrom(code: number, text: string): ApiError {
  try {
    const st = JSON.parse(text);
    if (st?.kind === 'Status') return new ApiError(st.code ?? code, st.reason ?? '', st.message ?? text, st.details);
  } catch {
    // not JSON
  }
  return new ApiError(code, code === 401 ? 'Unauthorized' : code === 403 ? 'Forbidden' : 'InternalError', text.trim() || `HTTP ${code}`);
}

function groupVersion(r: ResourceDef): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

function collectionPath(r: ResourceDef, namespace: string | undefined): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  return r.namespaced && namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}/${r.plural}` : `${base}/${r.plural}`;
}

function objectPath(r: ResourceDef, namespace: string | undefined, name: string): string {
  return `${collectionPath(r, namespace)}/${encodeURIComponent(name)}`;
}

/** Items of a list come without kind and apiVersion, which components read (events, owner references). */
function withKind(r: ResourceDef, obj: Obj): Obj {
  if (obj && typeof obj === 'object' && (obj.kind === undefined || obj.apiVersion === undefined)) return { apiVersion: groupVersion(r), kind: r.kind, ...obj };
  return obj;
}
