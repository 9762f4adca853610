// Audit events for API requests (upstream apiserver endpoints/filters/audit.go and
// audit/request.go): each request gets an audit ID (the client's Audit-ID header, or a new UUID,
// echoed back); the policy picks its level from the authenticated user and the request; events
// go out at RequestReceived, ResponseStarted for long-running requests (watches, logs, proxies:
// when their status is sent) and ResponseComplete (when they end), unless the policy omits them,
// with the authorizer's decision as annotations, the impersonated user beside the real one, and
// the request and response bodies at the levels that ask for them. A request that fails
// authentication gets the one event upstream's failed-authentication audit gives it:
// ResponseStarted, with no user, and the credentials it tried as the message.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Obj, RequestUser } from '../../api/resource.ts';
import type { ApiError } from '../errors.ts';
import { requestAttributes } from '../authorization/attributes.ts';
import type { Attributes, AuthorizationResult } from '../authorization/types.ts';
import { requestBodyOf, requestObjectOf } from '../http.ts';
import { evaluatePolicy, type AuditPolicy, type RequestAuditConfig, type Stage } from './policy.ts';
import type { AuditLogWriter } from './log-writer.ts';
import { failedAuthenticationMessage, isLongRunning, presentedCertificate } from './stages.ts';

/** Bodies larger than this are not copied into events (they would dwarf the log). */
const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** RFC 3339 with microseconds, as metav1.MicroTime serializes. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000Z');
}

/** Nobody: a request that failed authentication has no user, and its event an empty one. */
const NOBODY: RequestUser = { user: '', groups: [] };

function userInfo(u: RequestUser): Obj {
  if (u === NOBODY) return {};
  const out: Obj = { username: u.user };
  if ((u as Obj).uid) out.uid = (u as Obj).uid;
  out.groups = u.groups;
  if ((u as Obj).extra && Object.keys((u as Obj).extra).length) out.extra = (u as Obj).extra;
  return out;
}

export class Auditor {
  private readonly policy: AuditPolicy;
  private readonly writer: AuditLogWriter;

  constructor(policy: AuditPolicy, writer: AuditLogWriter) {
    this.policy = policy;
    this.writer = writer;
  }

  /** Starts the record of a request: its audit ID goes into the response headers at once. */
  begin(req: IncomingMessage, res: ServerResponse, url: URL): AuditRecord {
    return new AuditRecord(this, req, res, url);
  }

  /**
   * Starts the record of an upgrade request (exec, attach, port-forward), whose response is
   * written straight to the socket: its status is read from the status line written there, and
   * it is complete when the socket closes.
   */
  beginUpgrade(req: IncomingMessage, socket: Duplex, url: URL): AuditRecord {
    return new AuditRecord(this, req, socket, url);
  }

  /** `user` undefined: a request that failed authentication, which rules naming users or groups never match. */
  levelFor(user: RequestUser | undefined, a: Attributes): RequestAuditConfig {
    return evaluatePolicy(this.policy, user, a);
  }

  emit(event: Obj): void {
    this.writer.write(JSON.stringify(event));
  }

  close(): void {
    this.writer.close();
  }
}

export class AuditRecord {
  private readonly auditor: Auditor;
  private readonly req: IncomingMessage;
  /** The response, or for an upgrade the raw socket it is written to. */
  private readonly res: ServerResponse | Duplex;
  private readonly url: URL;
  private readonly id: string;
  private readonly received = Date.now();
  private user?: RequestUser;
  private acting?: RequestUser;
  private attrs?: Attributes;
  private config?: RequestAuditConfig;
  private readonly annotations: Record<string, string> = {};
  private responseBody?: Buffer;
  private done = false;
  private longRunning = false;
  private started = false;
  /** The error the response carries, once the handler has decided to fail. */
  private failure?: ApiError;
  /** An upgrade's status code and error Status, as read from what was written to its socket. */
  private rawCode = 0;
  private rawStatus?: Obj;

  constructor(auditor: Auditor, req: IncomingMessage, res: ServerResponse | Duplex, url: URL) {
    this.auditor = auditor;
    this.req = req;
    this.res = res;
    this.url = url;
    const given = req.headers['audit-id'];
    this.id = (Array.isArray(given) ? given[0] : given) || randomUUID();
    if (isResponse(res)) res.setHeader('Audit-Id', this.id);
  }

  private get statusCode(): number {
    return isResponse(this.res) ? this.res.statusCode : this.rawCode;
  }

  /** The authenticated user: the policy is evaluated for it, and RequestReceived goes out. */
  authenticated(user: RequestUser): void {
    this.user = user;
    this.attrs = requestAttributes(user, this.req.method ?? 'GET', this.url.pathname, this.url.searchParams);
    this.config = this.auditor.levelFor(user, this.attrs);
    if (this.config.level === 'None') return;
    this.longRunning = isLongRunning(this.attrs);
    const res = this.res;
    if (!isResponse(res)) {
      this.write('RequestReceived');
      this.watchSocket(res);
      return;
    }
    // A stream (watch events, logs, a proxied body) is not a response object.
    if (this.config.level === 'RequestResponse' && !this.longRunning) this.captureResponse(res);
    this.write('RequestReceived');
    if (this.longRunning) this.watchStatus(res);
  }

  /**
   * Authentication failed (the 401): upstream audits it outside the usual stages, as one
   * ResponseStarted event evaluated for no user.
   */
  authenticationFailed(): void {
    this.user = NOBODY;
    this.attrs = requestAttributes(NOBODY, this.req.method ?? 'GET', this.url.pathname, this.url.searchParams);
    this.config = this.auditor.levelFor(undefined, this.attrs);
    this.done = true;
    if (this.config.level === 'None') return;
    const auth = this.req.headers.authorization;
    this.write('ResponseStarted', undefined, { metadata: {}, message: failedAuthenticationMessage(auth, this.url.searchParams, presentedCertificate(this.req)), code: 401 });
  }

  /** The handler failed with this error: the status any later stage reports. */
  failing(err: ApiError): void {
    this.failure = err;
  }

  /** The authorizer's decision on the (possibly impersonated) request. */
  authorized(acting: RequestUser, a: Attributes, r: AuthorizationResult): void {
    if (acting !== this.user) this.acting = acting;
    this.attrs = a;
    this.annotations['authorization.k8s.io/decision'] = r.decision === 'Allow' ? 'allow' : 'forbid';
    this.annotations['authorization.k8s.io/reason'] = r.reason;
  }

  /** ResponseComplete, with the response's status (the error's, when it failed). */
  complete(err?: ApiError): void {
    if (this.done || !this.config || this.config.level === 'None') return;
    this.done = true;
    const finish = () => {
      // Nothing was sent at all: upstream fakes the start it never saw.
      if (this.longRunning && !this.started) this.write('ResponseStarted', undefined, CLOSED_EARLY);
      this.write('ResponseComplete', err ?? this.failure, this.longRunning && !this.started && !err && !this.failure ? CLOSED_EARLY : undefined);
    };
    // A watch or a stream is complete when its response ends, not when its handler returns.
    if ((this.longRunning || !isResponse(this.res)) && !this.res.writableFinished && !this.res.destroyed) this.res.once('close', finish);
    else finish();
  }

  /** Upgrades: the status line (and an error's Status body) as the streaming code writes them to the socket. */
  private watchSocket(socket: Duplex): void {
    const seen = (chunk: unknown) => {
      if (this.started || chunk === undefined || chunk === null || typeof chunk === 'function') return;
      const text = (Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk))).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      if (!m) return;
      this.started = true;
      this.rawCode = Number(m[1]);
      const body = text.slice(text.indexOf('\r\n\r\n') + 4);
      try {
        const st = JSON.parse(Buffer.from(body, 'latin1').toString('utf8'));
        if (st?.kind === 'Status') this.rawStatus = { metadata: {}, status: st.status, message: st.message, reason: st.reason, code: st.code };
      } catch {}
      if (this.longRunning) this.write('ResponseStarted', undefined, this.rawStatus ?? { metadata: {}, code: this.rawCode });
    };
    const write = socket.write.bind(socket) as (...a: unknown[]) => boolean;
    const end = socket.end.bind(socket) as (...a: unknown[]) => Duplex;
    socket.write = ((chunk: unknown, ...rest: unknown[]) => {
      seen(chunk);
      return write(chunk, ...rest);
    }) as typeof socket.write;
    socket.end = ((chunk?: unknown, ...rest: unknown[]) => {
      seen(chunk);
      return end(chunk, ...rest);
    }) as typeof socket.end;
  }

  /** Long-running requests: ResponseStarted as their status goes out (Node sends every header through writeHead). */
  private watchStatus(res: ServerResponse): void {
    const writeHead = res.writeHead.bind(res) as (...a: unknown[]) => ServerResponse;
    res.writeHead = ((code: number, ...rest: unknown[]) => {
      if (!this.started) {
        this.started = true;
        this.write('ResponseStarted', this.failure, this.failure ? undefined : { metadata: {}, code });
      }
      return writeHead(code, ...rest);
    }) as typeof res.writeHead;
  }

  private captureResponse(res: ServerResponse): void {
    const end = res.end.bind(res);
    const chunks: Buffer[] = [];
    let size = 0;
    const write = res.write.bind(res);
    const keep = (chunk: unknown) => {
      if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      size += b.length;
      if (size <= MAX_BODY_BYTES) chunks.push(b);
    };
    res.write = ((chunk: unknown, ...rest: unknown[]) => {
      keep(chunk);
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof res.write;
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      keep(chunk);
      if (size <= MAX_BODY_BYTES) this.responseBody = Buffer.concat(chunks);
      return (end as (...a: unknown[]) => ServerResponse)(chunk, ...rest);
    }) as typeof res.end;
  }

  private write(stage: Stage, err?: ApiError, status?: Obj): void {
    const c = this.config!;
    if (c.omitStages.includes(stage)) return;
    const a = this.attrs!;
    const ev: Obj = { kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: c.level, auditID: this.id, stage, requestURI: this.req.url ?? '/', verb: a.verb, user: userInfo(this.user!) };
    if (this.acting) ev.impersonatedUser = userInfo(this.acting);
    ev.sourceIPs = sourceIPs(this.req);
    const ua = this.req.headers['user-agent'];
    if (ua) ev.userAgent = ua;
    if (a.resourceRequest) {
      const ref: Obj = { resource: a.resource };
      if (a.namespace) ref.namespace = a.namespace;
      if (a.name) ref.name = a.name;
      if (a.apiGroup) ref.apiGroup = a.apiGroup;
      ref.apiVersion = a.apiVersion;
      if (a.subresource) ref.subresource = a.subresource;
      ev.objectRef = ref;
    }
    if (status) ev.responseStatus = status;
    else if (stage === 'ResponseStarted' && err) ev.responseStatus = failureStatus(err);
    if (stage === 'ResponseComplete') {
      if (!status) ev.responseStatus = err ? failureStatus(err) : (this.rawStatus ?? { metadata: {}, code: this.statusCode });
      if (c.level === 'Request' || c.level === 'RequestResponse') {
        const decoded = requestObjectOf(this.req);
        const body = decoded !== undefined ? this.stripped(JSON.parse(JSON.stringify(decoded))) : this.decoded(requestBodyOf(this.req));
        if (body !== undefined && a.resourceRequest) ev.requestObject = body;
      }
      if (c.level === 'RequestResponse') {
        const body = this.decoded(this.responseBody);
        if (body !== undefined && a.resourceRequest) ev.responseObject = body;
      }
    }
    ev.requestReceivedTimestamp = microTime(this.received);
    ev.stageTimestamp = microTime(Date.now());
    if (Object.keys(this.annotations).length) ev.annotations = { ...this.annotations };
    this.auditor.emit(ev);
  }

  /** A JSON body as the object it encodes (managedFields dropped when the policy says so); other encodings are left out. */
  private decoded(body: Buffer | undefined): Obj | undefined {
    if (!body?.length || body.length > MAX_BODY_BYTES) return undefined;
    let obj: Obj;
    try {
      obj = JSON.parse(body.toString('utf8'));
    } catch {
      return undefined;
    }
    return this.stripped(obj);
  }

  private stripped(obj: Obj): Obj {
    if (this.config!.omitManagedFields && obj && typeof obj === 'object') {
      if (obj.metadata?.managedFields) delete obj.metadata.managedFields;
      for (const item of Array.isArray(obj.items) ? obj.items : []) if (item?.metadata?.managedFields) delete item.metadata.managedFields;
    }
    return obj;
  }
}

function isResponse(r: ServerResponse | Duplex): r is ServerResponse {
  return typeof (r as ServerResponse).setHeader === 'function';
}

const CLOSED_EARLY: Obj = { metadata: {}, status: 'Success', message: 'Connection closed early', code: 200 };

function failureStatus(err: ApiError): Obj {
  return { metadata: {}, status: 'Failure', message: err.message, reason: err.reason, code: err.code };
}

/** X-Forwarded-For entries, X-Real-Ip, then the peer, without duplicates (upstream utilnet.SourceIPs). */
function sourceIPs(req: IncomingMessage): string[] {
  const out: string[] = [];
  const add = (ip: string | undefined) => {
    const v = ip?.trim();
    if (v && !out.includes(v)) out.push(v);
  };
  const fwd = req.headers['x-forwarded-for'];
  for (const ip of (Array.isArray(fwd) ? fwd.join(',') : (fwd ?? '')).split(',')) add(ip);
  const real = req.headers['x-real-ip'];
  add(Array.isArray(real) ? real[0] : real);
  add(req.socket.remoteAddress?.replace(/^::ffff:/, ''));
  return out;
}
