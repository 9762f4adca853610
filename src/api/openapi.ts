// The OpenAPI documents the API server publishes, built from the component schemas and the
// registry of served kinds.
//
// kubectl depends on them in three places, all of which this module has to satisfy:
// - `kubectl explain` (v3 by default) reads /openapi/v3, fetches the group-version document,
//   takes the group/version/kind from an operation on the resource's collection or item path,
//   then finds the component schema carrying that GVK and follows $ref/allOf from there.
// - Field validation: kubectl sends `fieldValidation` only if the PATCH operation for the kind's
//   GVK in the group-version document lists a query parameter of that name. It stops at the
//   first PATCH operation it meets for the GVK (in map order), so every such operation,
//   including /status, must list it.
// - Client-side apply uses strategic merge only if that PATCH operation accepts
//   application/strategic-merge-patch+json, and reads merge keys from the component schemas.
import { createHash } from 'node:crypto';
import { components } from './schema.ts';
import type { GroupVersionKind, Schema } from './schema.ts';
import './schemas/index.ts';
import { resources, onResourcesChanged } from './registry.ts';
import type { ResourceDef } from './resource.ts';

const KUBERNETES_VERSION = 'v1.32.0';
const SCHEMA_PREFIX = '#/components/schemas/';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

/** 'api/v1' for the core group, 'apis/<group>/<version>' otherwise. */
export function gvPathOf(r: { group: string; version: string }): string {
  return r.group ? `apis/${r.group}/${r.version}` : `api/${r.version}`;
}

// ---------------------------------------------------------------------------------------------
// Parameters

function queryParam(name: string, description: string, type: 'string' | 'boolean' | 'integer' = 'string'): Json {
  return { name, in: 'query', description, schema: { type, uniqueItems: true } };
}

const P = {
  pretty: queryParam('pretty', "If 'true', the output is pretty printed. Defaults to 'false' unless the user agent looks like a browser or a command-line HTTP tool."),
  dryRun: queryParam('dryRun', "When present, the request is processed fully but nothing is persisted. The only valid value is 'All'."),
  fieldManager: queryParam('fieldManager', 'A name for the actor making the change, recorded in managedFields. At most 128 printable characters.'),
  fieldValidation: queryParam('fieldValidation', "How the server treats unknown or duplicate fields in the request body: 'Ignore' drops them silently, 'Warn' drops them and returns a warning for each (the default), 'Strict' fails the request."),
  force: queryParam('force', "Apply requests only: take ownership of fields that other managers own instead of failing with a conflict. Must be unset for other patch types.", 'boolean'),
  allowWatchBookmarks: queryParam('allowWatchBookmarks', 'Ask for BOOKMARK events in a watch. Servers may ignore it.', 'boolean'),
  continue: queryParam('continue', 'The continue token from a previous page of the same list, to fetch the next page.'),
  fieldSelector: queryParam('fieldSelector', 'Restrict the objects returned by their fields, e.g. metadata.name=web-0. Defaults to everything.'),
  labelSelector: queryParam('labelSelector', 'Restrict the objects returned by their labels, e.g. app=web. Defaults to everything.'),
  limit: queryParam('limit', 'The most items to return; when more exist, metadata.continue is set for the next page.', 'integer'),
  resourceVersion: queryParam('resourceVersion', 'Which version of the data may be served: unset for the latest, "0" for any, or a version the result must be at least as new as (see resourceVersionMatch). For watches, where to start from.'),
  resourceVersionMatch: queryParam('resourceVersionMatch', 'How resourceVersion is matched for lists: NotOlderThan or Exact.'),
  sendInitialEvents: queryParam('sendInitialEvents', 'With watch=true, start the watch with synthetic ADDED events for the current objects, followed by a bookmark.', 'boolean'),
  timeoutSeconds: queryParam('timeoutSeconds', 'Time limit of the list or watch call, regardless of activity.', 'integer'),
  watch: queryParam('watch', 'Watch for changes to the described objects and stream them as add, update and remove notifications.', 'boolean'),
  gracePeriodSeconds: queryParam('gracePeriodSeconds', 'Seconds before the object is deleted; zero means immediately. Defaults to the kind\'s own default.', 'integer'),
  ignoreStoreReadError: queryParam('ignoreStoreReadErrorWithClusterBreakingPotential', 'Delete an object whose stored data cannot be read. Dangerous; needs special permission.', 'boolean'),
  orphanDependents: queryParam('orphanDependents', 'Deprecated, use propagationPolicy. Whether dependents are orphaned.', 'boolean'),
  propagationPolicy: queryParam('propagationPolicy', "Whether and how garbage collection is done: 'Orphan' orphans the dependents, 'Background' deletes them in the background, 'Foreground' deletes them before the owner."),
};

const LIST_PARAMS = [P.allowWatchBookmarks, P.continue, P.fieldSelector, P.labelSelector, P.limit, P.resourceVersion, P.resourceVersionMatch, P.sendInitialEvents, P.timeoutSeconds, P.watch];
const WRITE_PARAMS = [P.dryRun, P.fieldManager, P.fieldValidation];
const DELETE_PARAMS = [P.dryRun, P.gracePeriodSeconds, P.ignoreStoreReadError, P.orphanDependents, P.propagationPolicy];
const DELETECOLLECTION_PARAMS = [...DELETE_PARAMS, P.continue, P.fieldSelector, P.labelSelector, P.limit, P.resourceVersion, P.resourceVersionMatch, P.sendInitialEvents, P.timeoutSeconds];

function pathParam(name: string, description: string): Json {
  return { name, in: 'path', description, required: true, schema: { type: 'string', uniqueItems: true } };
}
const NAMESPACE_PARAM = pathParam('namespace', 'object name and auth scope, such as for teams and projects');

// ---------------------------------------------------------------------------------------------
// Bodies and responses

const schemaRef = (component: string): Json => ({ $ref: SCHEMA_PREFIX + component });

function content(component: string, types: string[]): Json {
  const c: Json = {};
  for (const t of types) c[t] = { schema: schemaRef(component) };
  return c;
}

const OBJECT_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];
const LIST_TYPES = [...OBJECT_TYPES, 'application/json;stream=watch', 'application/vnd.kubernetes.protobuf;stream=watch'];
const PATCH_TYPES = ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'];

function responses(codes: Record<string, string>, types = OBJECT_TYPES): Json {
  const out: Json = {};
  const text: Record<string, string> = { '200': 'OK', '201': 'Created', '202': 'Accepted' };
  for (const code of Object.keys(codes)) out[code] = { description: text[code], content: content(codes[code], types) };
  out['401'] = { description: 'Unauthorized' };
  return out;
}

const bodyOf = (component: string): Json => ({ content: { '*/*': { schema: schemaRef(component) } }, required: true });

// ---------------------------------------------------------------------------------------------
// Operations

/** 'apps' -> 'Apps', 'storage.k8s.io' -> 'Storage', '' -> 'Core', as upstream operation ids do. */
function groupWord(group: string): string {
  const g = group ? group.split('.')[0] : 'core';
  return g.charAt(0).toUpperCase() + g.slice(1);
}

interface OpContext {
  r: ResourceDef;
  tag: string;
  idPrefix: string; // e.g. 'AppsV1'
  gvk: GroupVersionKind;
}

function gvkExt(g: GroupVersionKind): Json {
  // Operations carry a single object (schemas carry a list); key order matches upstream.
  return { group: g.group, kind: g.kind, version: g.version };
}

function op(ctx: OpContext, action: string, operationId: string, description: string, extra: Json, g: GroupVersionKind = ctx.gvk): Json {
  return {
    tags: [ctx.tag],
    description,
    operationId,
    ...extra,
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvkExt(g),
  };
}

/** Kinds whose DELETE returns the object (graceful deletion or finalizers) rather than a Status. */
const DELETE_RETURNS_OBJECT = new Set(['Pod', 'Namespace', 'PersistentVolume', 'PersistentVolumeClaim']);

function resourcePaths(r: ResourceDef): Record<string, Json> {
  const gv = gvPathOf(r);
  const base = '/' + gv;
  const kind = r.kind;
  const listComponent = r.schema + 'List';
  const idPrefix = groupWord(r.group) + r.version.charAt(0).toUpperCase() + r.version.slice(1);
  const ctx: OpContext = { r, tag: `${r.group ? r.group.split('.')[0] : 'core'}_${r.version}`, idPrefix, gvk: { group: r.group, version: r.version, kind } };
  const ns = r.namespaced ? 'Namespaced' : '';
  const scope = r.namespaced ? `${base}/namespaces/{namespace}/${r.plural}` : `${base}/${r.plural}`;
  const nameParam = pathParam('name', `name of the ${kind}`);
  const scopeParams = r.namespaced ? [NAMESPACE_PARAM] : [];
  const deleteResponse = DELETE_RETURNS_OBJECT.has(kind) ? r.schema : META + 'Status';
  const paths: Record<string, Json> = {};

  paths[scope] = {
    get: op(ctx, 'list', `list${idPrefix}${ns}${kind}`, `list or watch objects of kind ${kind}`, {
      parameters: LIST_PARAMS, responses: responses({ '200': listComponent }, LIST_TYPES),
    }),
    post: op(ctx, 'post', `create${idPrefix}${ns}${kind}`, `create a ${kind}`, {
      parameters: WRITE_PARAMS, requestBody: bodyOf(r.schema),
      responses: responses({ '200': r.schema, '201': r.schema, '202': r.schema }),
    }),
    delete: op(ctx, 'deletecollection', `delete${idPrefix}Collection${ns}${kind}`, `delete collection of ${kind}`, {
      parameters: DELETECOLLECTION_PARAMS, requestBody: bodyOf(META + 'DeleteOptions'),
      responses: responses({ '200': META + 'Status' }),
    }),
    parameters: [...scopeParams, P.pretty],
  };

  paths[`${scope}/{name}`] = {
    get: op(ctx, 'get', `read${idPrefix}${ns}${kind}`, `read the specified ${kind}`, {
      responses: responses({ '200': r.schema }),
    }),
    put: op(ctx, 'put', `replace${idPrefix}${ns}${kind}`, `replace the specified ${kind}`, {
      parameters: WRITE_PARAMS, requestBody: bodyOf(r.schema),
      responses: responses({ '200': r.schema, '201': r.schema }),
    }),
    delete: op(ctx, 'delete', `delete${idPrefix}${ns}${kind}`, `delete a ${kind}`, {
      parameters: DELETE_PARAMS, requestBody: bodyOf(META + 'DeleteOptions'),
      responses: responses({ '200': deleteResponse, '202': deleteResponse }),
    }),
    patch: op(ctx, 'patch', `patch${idPrefix}${ns}${kind}`, `partially update the specified ${kind}`, {
      parameters: [...WRITE_PARAMS, P.force], requestBody: patchBody(r),
      responses: responses({ '200': r.schema, '201': r.schema }),
    }),
    parameters: [nameParam, ...scopeParams, P.pretty],
  };

  for (const sub of r.subresources) {
    const path = `${scope}/{name}/${sub}`;
    const Sub = sub.charAt(0).toUpperCase() + sub.slice(1);
    if (sub === 'status' || sub === 'scale') {
      const component = sub === 'scale' ? 'io.k8s.api.autoscaling.v1.Scale' : r.schema;
      const g = sub === 'scale' ? { group: 'autoscaling', version: 'v1', kind: 'Scale' } : ctx.gvk;
      paths[path] = {
        get: op(ctx, 'get', `read${idPrefix}${ns}${kind}${Sub}`, `read ${sub} of the specified ${kind}`, {
          responses: responses({ '200': component }),
        }, g),
        put: op(ctx, 'put', `replace${idPrefix}${ns}${kind}${Sub}`, `replace ${sub} of the specified ${kind}`, {
          parameters: WRITE_PARAMS, requestBody: bodyOf(component),
          responses: responses({ '200': component, '201': component }),
        }, g),
        patch: op(ctx, 'patch', `patch${idPrefix}${ns}${kind}${Sub}`, `partially update ${sub} of the specified ${kind}`, {
          parameters: [...WRITE_PARAMS, P.force], requestBody: patchBody(r),
          responses: responses({ '200': component, '201': component }),
        }, g),
        parameters: [nameParam, ...scopeParams, P.pretty],
      };
    } else if (sub === 'finalize') {
      paths[path] = {
        put: op(ctx, 'put', `replace${idPrefix}${ns}${kind}${Sub}`, `replace finalize of the specified ${kind}`, {
          parameters: WRITE_PARAMS, requestBody: bodyOf(r.schema),
          responses: responses({ '200': r.schema, '201': r.schema }),
        }),
        parameters: [nameParam, ...scopeParams, P.pretty],
      };
    } else {
      const component = sub === 'binding' ? 'io.k8s.api.core.v1.Binding' : sub === 'token' ? 'io.k8s.api.authentication.v1.TokenRequest' : 'io.k8s.api.policy.v1.Eviction';
      const g = sub === 'binding' ? { group: '', version: 'v1', kind: 'Binding' } : sub === 'token' ? { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' } : { group: 'policy', version: 'v1', kind: 'Eviction' };
      paths[path] = {
        post: op(ctx, 'post', `create${idPrefix}${ns}${kind}${Sub}`, `create ${sub} of a ${kind}`, {
          parameters: WRITE_PARAMS, requestBody: bodyOf(component),
          responses: responses({ '200': component, '201': component, '202': component }),
        }, g),
        parameters: [nameParam, ...scopeParams, P.pretty],
      };
    }
  }

  // Listing across namespaces, and the legacy watch paths.
  const watchParams = [...LIST_PARAMS, P.pretty];
  const watchResponse = responses({ '200': META + 'WatchEvent' }, LIST_TYPES);
  if (r.namespaced) {
    paths[`${base}/${r.plural}`] = {
      get: op(ctx, 'list', `list${idPrefix}${kind}ForAllNamespaces`, `list or watch objects of kind ${kind}`, {
        responses: responses({ '200': listComponent }, LIST_TYPES),
      }),
      parameters: watchParams,
    };
    paths[`${base}/watch/${r.plural}`] = {
      get: op(ctx, 'watchlist', `watch${idPrefix}${kind}ListForAllNamespaces`, `watch individual changes to a list of ${kind}. deprecated: use the 'watch' parameter with a list operation instead.`, { responses: watchResponse }),
      parameters: watchParams,
    };
  }
  const watchScope = r.namespaced ? `${base}/watch/namespaces/{namespace}/${r.plural}` : `${base}/watch/${r.plural}`;
  paths[watchScope] = {
    get: op(ctx, 'watchlist', `watch${idPrefix}${ns}${kind}List`, `watch individual changes to a list of ${kind}. deprecated: use the 'watch' parameter with a list operation instead.`, { responses: watchResponse }),
    parameters: [...scopeParams, ...watchParams],
  };
  paths[`${watchScope}/{name}`] = {
    get: op(ctx, 'watch', `watch${idPrefix}${ns}${kind}`, `watch changes to an object of kind ${kind}. deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter.`, { responses: watchResponse }),
    parameters: [nameParam, ...scopeParams, ...watchParams],
  };
  return paths;
}

/** Custom kinds have no strategic-merge metadata: upstream does not offer that patch type for them. */
const CUSTOM_PATCH_TYPES = PATCH_TYPES.filter((t) => t !== 'application/strategic-merge-patch+json');

function patchBody(r: ResourceDef): Json {
  return { content: content(META + 'Patch', r.custom ? CUSTOM_PATCH_TYPES : PATCH_TYPES), required: true };
}

// ---------------------------------------------------------------------------------------------
// Components reachable from a document

function collectRefs(value: unknown, out: Set<string>): void {
  if (Array.isArray(value)) {
    for (const v of value) collectRefs(v, out);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith(SCHEMA_PREFIX)) out.add(v.slice(SCHEMA_PREFIX.length));
      else collectRefs(v, out);
    }
  }
}

/** Every component name reachable from `roots`, following $refs through the component schemas. */
export function reachableComponents(roots: Iterable<string>): Set<string> {
  const seen = new Set<string>();
  const queue = [...roots];
  while (queue.length) {
    const name = queue.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const schema = components[name];
    if (!schema) continue;
    const refs = new Set<string>();
    collectRefs(schema, refs);
    for (const r of refs) if (!seen.has(r)) queue.push(r);
  }
  return seen;
}

function sortedSchemas(names: Set<string>): Record<string, Schema> {
  const out: Record<string, Schema> = {};
  for (const n of [...names].sort()) if (components[n]) out[n] = components[n];
  return out;
}

// ---------------------------------------------------------------------------------------------
// Documents, built once per process

interface Built {
  doc: Json;
  json: string;
  hash: string;
}

let v3Cache: Map<string, Built> | undefined;
// Documents are rebuilt on the next request after a custom kind comes, changes or goes.
onResourcesChanged(() => {
  v3Cache = undefined;
  v2Cache = undefined;
});

function buildV3(): Map<string, Built> {
  const byGv = new Map<string, ResourceDef[]>();
  for (const r of resources) {
    const gv = gvPathOf(r);
    if (!byGv.has(gv)) byGv.set(gv, []);
    byGv.get(gv)!.push(r);
  }
  const out = new Map<string, Built>();
  for (const [gv, rs] of byGv) {
    const paths: Record<string, Json> = {};
    for (const r of rs) Object.assign(paths, resourcePaths(r));
    const refs = new Set<string>();
    collectRefs(paths, refs);
    const doc: Json = {
      openapi: '3.0.0',
      info: { title: 'Kubernetes', version: KUBERNETES_VERSION },
      paths,
      components: {
        schemas: sortedSchemas(reachableComponents(refs)),
        securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } },
      },
      security: [{ BearerToken: [] }],
    };
    const json = JSON.stringify(doc);
    out.set(gv, { doc, json, hash: createHash('sha512').update(json).digest('hex').toUpperCase() });
  }
  return out;
}

function v3(): Map<string, Built> {
  v3Cache ??= buildV3();
  return v3Cache;
}

/** The group-version paths served under /openapi/v3, e.g. ['api/v1', 'apis/apps/v1', ...]. */
export function openApiV3Paths(): string[] {
  return [...v3().keys()];
}

/** The /openapi/v3 discovery document. */
export function openApiV3Index(): object {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const [gv, b] of v3()) paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${b.hash}` };
  return { paths };
}

/** The OpenAPI v3 document of one group version ('api/v1', 'apis/apps/v1', ...). */
export function openApiV3Document(gvPath: string): object | undefined {
  return v3().get(stripSlashes(gvPath))?.doc;
}

/** The serialised document and its hash (used as ETag and in serverRelativeURL). */
export function openApiV3Served(gvPath: string): { json: string; hash: string } | undefined {
  const b = v3().get(stripSlashes(gvPath));
  return b && { json: b.json, hash: b.hash };
}

function stripSlashes(p: string): string {
  return p.replace(/^\/+|\/+$/g, '');
}

// ---------------------------------------------------------------------------------------------
// Swagger 2.0 (kubectl only asks for v2 as protobuf; this JSON form is for other clients)

let v2Cache: Json | undefined;

/** v3 schema -> v2 definition: refs point at #/definitions, described allOf wrappers become plain $refs. */
function toV2Schema(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toV2Schema);
  if (!value || typeof value !== 'object') return value;
  const s = value as Json;
  if (Array.isArray(s.allOf) && s.allOf.length === 1 && s.allOf[0].$ref && !s.properties) {
    const { allOf, ...rest } = s;
    return { ...toV2Schema(rest) as Json, $ref: toV2Ref(allOf[0].$ref) };
  }
  const out: Json = {};
  for (const [k, v] of Object.entries(s)) out[k] = k === '$ref' && typeof v === 'string' ? toV2Ref(v) : toV2Schema(v);
  return out;
}

function toV2Ref(ref: string): string {
  return ref.startsWith(SCHEMA_PREFIX) ? '#/definitions/' + ref.slice(SCHEMA_PREFIX.length) : ref;
}

function toV2Operation(o: Json): Json {
  const { requestBody, responses: rs, parameters, ...rest } = o;
  const params: Json[] = (parameters ?? []).map(toV2Param);
  if (requestBody) {
    const first = Object.values(requestBody.content as Json)[0] as Json;
    params.unshift({ name: 'body', in: 'body', required: true, schema: toV2Schema(first.schema) });
  }
  const outResponses: Json = {};
  for (const [code, resp] of Object.entries(rs as Json)) {
    const c = (resp as Json).content as Json | undefined;
    outResponses[code] = c
      ? { description: (resp as Json).description, schema: toV2Schema((Object.values(c)[0] as Json).schema) }
      : { description: (resp as Json).description };
  }
  const consumes = requestBody ? Object.keys(requestBody.content).filter((t) => t !== '*/*') : [];
  const produces = Object.keys(((Object.values(rs as Json)[0] as Json).content as Json | undefined) ?? {});
  return {
    ...rest,
    ...(consumes.length ? { consumes } : { consumes: ['*/*'] }),
    produces,
    schemes: ['https'],
    parameters: params,
    responses: outResponses,
  };
}

function toV2Param(p: Json): Json {
  const { schema, ...rest } = p;
  return { ...rest, ...schema };
}

/** A swagger 2.0 document covering every served group version. */
export function openApiV2Document(): object {
  if (v2Cache) return v2Cache;
  const paths: Json = {};
  const names = new Set<string>();
  for (const b of v3().values()) {
    for (const [path, item] of Object.entries(b.doc.paths as Json)) {
      const out: Json = {};
      for (const [method, o] of Object.entries(item as Json)) {
        out[method] = method === 'parameters' ? (o as Json[]).map(toV2Param) : toV2Operation(o as Json);
      }
      paths[path] = out;
    }
    for (const n of Object.keys(b.doc.components.schemas)) names.add(n);
  }
  const definitions: Json = {};
  for (const n of [...names].sort()) definitions[n] = toV2Schema(components[n]);
  v2Cache = {
    swagger: '2.0',
    info: { title: 'Kubernetes', version: KUBERNETES_VERSION },
    paths,
    definitions,
    securityDefinitions: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } },
    security: [{ BearerToken: [] }],
  };
  return v2Cache;
}
