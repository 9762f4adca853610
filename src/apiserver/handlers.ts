// HTTP verbs on resource paths, mapped onto the generic registry.
import { jsonKindName } from './patch/errors.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { lazyModule } from '../util/lazy-module.ts';
import { warningHeaderValue } from './warning-header.ts';
import { MAX_NESTING_DEPTH, nestedDeeperThan } from './body-limits.ts';
import type { Obj, RequestUser, ResourceDef } from '../api/resource.ts';
import { groupVersion } from '../api/registry.ts';
import { encode } from '../storage/cache.ts';
import { ApiError, badRequest, methodNotSupported, unsupportedMediaType } from './errors.ts';
import { readBody, recordRequestObject, sendJson } from './http.ts';
import type { ResourceRequest } from './request.ts';
import { bucketFor, type DeleteOptions, type ResourceStore, type WriteOptions } from './resource-store.ts';
import { negotiate } from './negotiate.ts';
import { partialMetadata, toTable, type IncludeObject } from './table.ts';
import { encodedFor, encodeObject, listEncodings } from './list/encodings.ts';
import { metadataListBody, objectListBody, tableBody, type EncodedOf } from './list/bodies.ts';
import { sendJsonPieces } from './list/send.ts';
import { decideListRead, listTooOld, tooLargeResourceVersion } from './list/resource-version.ts';
import { stateAt } from './list/snapshot.ts';
import { decodeContinue, encodeContinue, expiredContinue } from './list/continue.ts';
import type { CachedObject } from '../storage/cache.ts';
import { serveWatch, watchResourceVersion } from './watch.ts';
import { makeFilter, indexedLookup, watchTrigger } from './filter.ts';
import { PATCH_TYPES } from './patching.ts';
import { handleSubresource } from './subresources.ts';
import { PROTOBUF_MEDIA_TYPE } from './protobuf/media-type.ts';
import { checkFieldManager, managerFromUserAgent, validateApplyOptions } from './fieldmanager/index.ts';
import { invalid } from './errors.ts';

// Only YAML bodies need the YAML decoder (and js-yaml): it loads with the first one.
const yamlBody = lazyModule<typeof import('./yaml-body.ts')>(import.meta.url, './yaml-body.ts');
// The protobuf decoder and its descriptors load with the first protobuf body.
const protobuf = lazyModule<typeof import('./protobuf/index.ts')>(import.meta.url, './protobuf/index.ts');

/** What upstream's handler of custom resources accepts as PATCH bodies. */
export const CUSTOM_PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'];

export async function handleResource(req: IncomingMessage, res: ServerResponse, rr: ResourceRequest, url: URL, rs: ResourceStore, user?: RequestUser): Promise<void> {
  const q = url.searchParams;
  const r = rr.resource;
  const method = req.method ?? 'GET';
  const ns = rr.namespace;
  // Another server may have written what this request reads or builds on (see needsConsistentRead).
  if (needsConsistentRead(method, q, rr)) await rs.consistentRead();
  if (rr.subresource) return handleSubresource(req, res, rr, url, rs, user);
  const warnings: string[] = [];
  const writeOpts = (): WriteOptions => ({ dryRun: q.get('dryRun') === 'All', fieldValidation: q.get('fieldValidation') ?? undefined, warnings, user, fieldManager: fieldManagerOf(req, q) });
  // A custom kind's other versions show the stored object under their own apiVersion (None conversion).
  const reply = (code: number, body: Obj) => sendJson(res, code, encodeBody(r.convert && body.kind === r.kind ? r.convert(body) : body), warningHeaders(warnings));
  // Namespaced objects are only addressed within a namespace.
  if (r.namespaced && rr.name !== undefined && ns === undefined) throw notFoundPath();

  if (method === 'GET' && (q.get('watch') === 'true' || q.get('watch') === '1' || rr.watchPath)) {
    // A version another server handed out may be ahead of this server's cache: wait for it, or the
    // stream would repeat changes the client has seen.
    const requested = watchResourceVersion(q.get('resourceVersion')) ?? 0;
    if (requested > rs.cache.revision()) await rs.waitForRevision(requested);
    return watch(res, rr, q, rs, req.headers.accept);
  }
  if (rr.name === undefined) {
    switch (method) {
      case 'GET':
        return list(res, rr, q, rs, req.headers.accept);
      case 'POST': {
        const body = await readObject(req);
        const created = await rs.create(r, ns, body, writeOpts());
        // A dry-run create answers 201 like a real one: only the storing is skipped.
        return reply(201, created);
      }
      case 'DELETE': {
        const opts: DeleteOptions = { ...(await deleteOptions(req, q)), user };
        const filter = makeFilter(r, q.get('labelSelector'), q.get('fieldSelector'));
        const deleted: Obj[] = [];
        for (const { obj } of rs.list(r, ns)) {
          if (!filter(obj)) continue;
          const result = await rs.delete(r, obj.metadata.namespace, obj.metadata.name, opts).catch((e) => {
            if (e instanceof ApiError && e.code === 404) return undefined;
            throw e;
          });
          if (result) deleted.push(result.obj);
        }
        return reply(200, { kind: r.listKind ?? `${r.kind}List`, apiVersion: groupVersion(r), metadata: { resourceVersion: String(rs.cache.revision()) }, items: r.convert ? deleted.map(r.convert) : deleted });
      }
      default:
        throw methodNotSupported({ group: r.group, resource: r.plural }, method);
    }
  }
  const name = rr.name;
  switch (method) {
    case 'GET': {
      const obj = rs.get(r, ns, name);
      const neg = negotiate(req.headers.accept);
      if (neg.table) return reply(200, toTable(r, [obj], { include: includeObject(q), version: neg.table, resourceVersion: obj.metadata.resourceVersion }));
      if (neg.partialMetadata) return reply(200, partialMetadata(obj, neg.partialMetadata));
      return reply(200, obj);
    }
    case 'PUT': {
      const body = await readObject(req);
      const existed = !!rs.find(r, ns, name);
      const updated = await rs.update(r, ns, name, body, writeOpts());
      return reply(existed ? 200 : 201, updated);
    }
    case 'PATCH': {
      const type = mediaType(req.headers['content-type']);
      // Custom kinds have no merge keys to patch by: upstream accepts only JSON and merge patches for them.
      if (r.custom && type === 'application/strategic-merge-patch+json') throw unsupportedMediaType(CUSTOM_PATCH_TYPES);
      if (type === 'application/apply-patch+yaml') {
        validateApplyOptions(q.get('fieldManager'));
        const config = parseBody(await readBody(req), type);
        const { obj, created } = await rs.apply(r, ns, name, config, { ...writeOpts(), force: q.get('force') === 'true' });
        return reply(created ? 201 : 200, obj);
      }
      if (!PATCH_TYPES.includes(type)) throw unsupportedMediaType([...PATCH_TYPES, 'application/apply-patch+yaml']);
      forbidForce(q);
      const patch = parseBody(await readBody(req), 'application/json');
      const patched = await rs.patch(r, ns, name, type, patch, writeOpts());
      return reply(200, patched);
    }
    case 'DELETE': {
      const opts: DeleteOptions = { ...(await deleteOptions(req, q)), user };
      const result = await rs.delete(r, ns, name, opts);
      if (result.deleted && r.kind !== 'Pod') {
        return reply(200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group: r.group || undefined, kind: r.plural, uid: result.obj.metadata.uid } });
      }
      return reply(200, result.obj);
    }
    default:
      throw methodNotSupported({ group: r.group, resource: r.plural }, method);
  }
}

/**
 * Upstream serves reads without a resourceVersion, and every write, from the state as of the
 * request: with a store several servers share that means catching up with the store first. Reads
 * at "any" version (resourceVersion=0), at a given one, or continuing a list, need not; neither
 * do watches (they wait for their own version) nor a store that only this server writes.
 */
function needsConsistentRead(method: string, q: URLSearchParams, rr: ResourceRequest): boolean {
  if (method !== 'GET') return true;
  if (q.get('watch') === 'true' || q.get('watch') === '1' || rr.watchPath) return false;
  return !q.get('resourceVersion') && !q.get('continue');
}

/** The request's fieldManager, or upstream's fallback: the user agent's product name. */
export function fieldManagerOf(req: IncomingMessage, q: URLSearchParams): string {
  const named = q.get('fieldManager');
  checkFieldManager(named);
  return named || managerFromUserAgent(req.headers['user-agent']);
}

/** Upstream's PatchOptions check: force belongs to apply alone. */
export function forbidForce(q: URLSearchParams): void {
  if (q.get('force') !== null) throw invalid('PatchOptions', 'meta.k8s.io', '', [{ type: 'FieldValueForbidden', field: 'force', detail: 'may not be specified for non-apply patch' }]);
}

function notFoundPath(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
}

async function list(res: ServerResponse, rr: ResourceRequest, q: URLSearchParams, rs: ResourceStore, accept: string | undefined): Promise<void> {
  const r = rr.resource;
  const filter = makeFilter(r, q.get('labelSelector'), q.get('fieldSelector'));
  const asked = Number(q.get('limit') ?? 0) || 0;
  const token = q.get('continue');
  const read = decideListRead({ resourceVersion: q.get('resourceVersion'), resourceVersionMatch: q.get('resourceVersionMatch'), continue: token, limit: asked });
  // As upstream's watch cache, which serves these whole: a read at any version is not paged.
  const limit = read.kind === 'any' ? 0 : asked;
  let afterKey: string | undefined;
  // The revision read at: a past one is rebuilt (snapshot), the latest is the cache itself.
  let at: number | undefined;
  if (read.kind === 'continue') {
    const c = decodeContinue(token!, listPrefix(r, rr.namespace));
    if (read.versioned) throw badRequest('specifying resource version is not allowed when using continue');
    afterKey = c.afterKey;
    // rv -1: the remainder at the latest revision (offered with an expired token's 410).
    if (c.rv !== -1) {
      if (c.rv < rs.cache.oldestResumable()) throw expiredContinue(c.afterKey, listPrefix(r, rr.namespace));
      at = c.rv;
    }
    // A token another server handed out may be ahead of this server's cache.
    if (at !== undefined && at > rs.cache.revision()) await rs.waitForRevision(at, LIST_WAIT_MS);
  } else if (read.kind === 'notOlderThan') {
    if (read.paged) await rs.reachRevision(read.rv, (storeRev) => tooLargeResourceVersion(read.rv, storeRev));
    else if (read.rv > rs.cache.revision()) await rs.waitForRevision(read.rv, LIST_WAIT_MS);
  } else if (read.kind === 'exact') {
    await rs.reachRevision(read.rv);
    if (read.rv < rs.cache.oldestResumable()) throw listTooOld();
    at = read.rv;
  }
  const rv = String(at ?? rs.cache.revision());
  const selecting = !!(q.get('labelSelector') || q.get('fieldSelector'));
  let candidates: CachedObject[];
  let snapshot = false;
  if (at !== undefined && at < rs.cache.revision()) {
    const prefix = listPrefix(r, rr.namespace);
    const past = stateAt(rs.list(r, rr.namespace), rs.cache.eventsSince(at, prefix), at, prefix);
    if (!past) throw read.kind === 'continue' ? expiredContinue(afterKey!, prefix) : listTooOld();
    candidates = afterKey === undefined ? past : past.filter((c) => c.key > afterKey!);
    snapshot = true;
  } else {
    // Unfiltered, a page needs no more candidates than itself and one to tell that more follow.
    candidates = indexedLookup(rs, r, rr.namespace, q.get('fieldSelector')) ?? rs.list(r, rr.namespace, afterKey, limit > 0 && !selecting ? limit + 1 : undefined);
  }
  let items: Obj[] = [];
  let next: string | undefined;
  let remaining: number | undefined;
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i];
    if (afterKey !== undefined && c.key <= afterKey) continue;
    if (!filter(c.obj)) continue;
    if (limit > 0 && items.length === limit) {
      next = encodeContinue(Number(rv), lastKey(r, items), listPrefix(r, rr.namespace));
      // As upstream: a count is only given when no selector filters the list (it would be a guess).
      if (!selecting) remaining = (snapshot ? candidates.length : rs.countAfter(r, rr.namespace, afterKey)) - i;
      break;
    }
    items.push(c.obj);
  }
  const neg = negotiate(accept);
  const meta: Obj = { resourceVersion: rv };
  if (next) meta.continue = next;
  if (remaining !== undefined) meta.remainingItemCount = remaining;
  // Items go out as the encodings kept with them, unless converted for this request (a copy each time).
  let encodedOf: EncodedOf;
  if (r.convert) {
    items = items.map(r.convert);
    encodedOf = encodeObject;
  } else {
    const kept = listEncodings(bucketFor(r));
    encodedOf = (o) => encodedFor(kept, o);
  }
  if (neg.table) {
    return sendJsonPieces(res, 200, tableBody(r, items, { include: includeObject(q), version: neg.table, resourceVersion: rv, continue: next, remaining }, encodedOf));
  }
  if (neg.partialMetadata) {
    return sendJsonPieces(res, 200, metadataListBody({ kind: 'PartialObjectMetadataList', apiVersion: `meta.k8s.io/${neg.partialMetadata}`, metadata: meta }, items, neg.partialMetadata, encodedOf));
  }
  return sendJsonPieces(res, 200, objectListBody({ kind: r.listKind ?? `${r.kind}List`, apiVersion: groupVersion(r), metadata: meta }, items, encodedOf));
}

/** How long a LIST waits for the cache to reach the version it asks for (upstream's watch cache: 3 s). */
const LIST_WAIT_MS = 3_000;

function listPrefix(r: ResourceDef, namespace: string | undefined): string {
  const bucket = bucketFor(r);
  return namespace !== undefined && r.namespaced ? `${bucket}${namespace}/` : bucket;
}

/** The continuation starts after the last key returned, not the last key examined. */
function lastKey(r: ResourceDef, items: Obj[]): string {
  const last = items[items.length - 1];
  return r.namespaced ? `${bucketFor(r)}${last.metadata.namespace}/${last.metadata.name}` : `${bucketFor(r)}${last.metadata.name}`;
}

function watch(res: ServerResponse, rr: ResourceRequest, q: URLSearchParams, rs: ResourceStore, accept: string | undefined): void {
  const r = rr.resource;
  let fieldSelector = q.get('fieldSelector');
  if (rr.name !== undefined) fieldSelector = [fieldSelector, `metadata.name=${rr.name}`].filter(Boolean).join(',');
  const filter = makeFilter(r, q.get('labelSelector'), fieldSelector);
  const neg = negotiate(accept);
  serveWatch(res, rs.cache, {
    resource: r,
    namespace: rr.namespace,
    filter,
    trigger: watchTrigger(rs, r, fieldSelector),
    resourceVersion: q.get('resourceVersion') ?? undefined,
    sendInitialEvents: q.get('sendInitialEvents') === 'true',
    allowBookmarks: q.get('allowWatchBookmarks') === 'true',
    timeoutSeconds: q.get('timeoutSeconds') ? Number(q.get('timeoutSeconds')) : undefined,
    table: neg.table ? { version: neg.table, include: includeObject(q) } : undefined,
    initial: () => (indexedLookup(rs, r, rr.namespace, fieldSelector) ?? rs.list(r, rr.namespace)).map((c) => c.obj).filter(filter),
  });
}

function includeObject(q: URLSearchParams): IncludeObject {
  const v = q.get('includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

export function mediaType(header: string | undefined): string {
  return (header ?? 'application/json').split(';')[0].trim().toLowerCase();
}

/** Media types of object bodies (POST, PUT). */
const BODY_TYPES = ['application/json', 'application/yaml', PROTOBUF_MEDIA_TYPE];

export async function readObject(req: IncomingMessage): Promise<Obj> {
  const type = mediaType(req.headers['content-type']);
  if (!BODY_TYPES.includes(type)) throw unsupportedMediaType(BODY_TYPES);
  const body = parseBody(await readBody(req), type);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the body of the request must be an object');
  recordRequestObject(req, body);
  return body as Obj;
}

export function parseBody(buf: Buffer, type: string): unknown {
  const text = buf.toString('utf8');
  if (type === 'application/yaml' || type === 'application/apply-patch+yaml') {
    let value: unknown;
    try {
      value = yamlBody().yamlToJson(text);
    } catch (err) {
      throw badRequest(`error converting YAML to JSON: ${(err as Error).message}`);
    }
    if (nestedDeeperThan(value)) throw badRequest(`error converting YAML to JSON: yaml: exceeded max depth of ${MAX_NESTING_DEPTH}`);
    return value;
  }
  if (type === PROTOBUF_MEDIA_TYPE) return protobuf().parseProtobufRequestBody(buf);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
  }
  if (nestedDeeperThan(value)) throw badRequest("couldn't get version/kind; json parse error: exceeded max depth");
  return value;
}

export async function deleteOptions(req: IncomingMessage, q: URLSearchParams): Promise<DeleteOptions> {
  const buf = await readBody(req);
  const parsed = buf.length ? parseBody(buf, mediaType(req.headers['content-type'])) : null;
  // null decodes to empty options, as in Go; other non-objects cannot be DeleteOptions.
  if (parsed !== null && (typeof parsed !== 'object' || Array.isArray(parsed))) throw badRequest(`json: cannot unmarshal ${jsonKindName(parsed)} into Go value of type v1.DeleteOptions`);
  const body = (parsed ?? {}) as Obj;
  const opts: DeleteOptions = {};
  const grace = body.gracePeriodSeconds ?? (q.get('gracePeriodSeconds') !== null ? Number(q.get('gracePeriodSeconds')) : undefined);
  if (grace !== undefined) opts.gracePeriodSeconds = Math.max(0, grace);
  const policy = body.propagationPolicy ?? q.get('propagationPolicy') ?? undefined;
  if (policy !== undefined) {
    if (!['Orphan', 'Background', 'Foreground'].includes(policy)) throw badRequest(`propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`);
    opts.propagationPolicy = policy;
  }
  const orphan = body.orphanDependents ?? (q.get('orphanDependents') !== null ? q.get('orphanDependents') === 'true' : undefined);
  if (opts.propagationPolicy === undefined && orphan !== undefined) opts.propagationPolicy = orphan ? 'Orphan' : 'Background';
  if (body.preconditions) opts.preconditions = body.preconditions;
  const dry = body.dryRun ?? q.getAll('dryRun');
  opts.dryRun = Array.isArray(dry) && dry.includes('All');
  return opts;
}

function encodeBody(body: Obj): string {
  return encode(body);
}

function warningHeaders(warnings: string[]): Record<string, string> {
  if (!warnings.length) return {};
  return { Warning: warningHeaderValue(warnings) };
}
