// Request generators for the API fuzzer: every served kind's schema (src/api/registry.ts,
// src/api/schema.ts) yields plausible bodies, which are then mutated into hostile ones; paths,
// query strings, methods, headers, media types and identities are drawn the same way. Pure: a
// seed and a count determine every request, so a finding is replayed from the printed seed.
import { stringify as toYaml } from 'yaml';
import { resources, groupVersion } from '../../src/api/registry.ts';
import { components, resolveSchema, type Schema } from '../../src/api/schema.ts';
import type { ResourceDef } from '../../src/api/resource.ts';
import { Rng } from './rng.ts';
import { configMapMessage, envelope, bytesField, varintField } from './protobuf.ts';

export type Identity = 'admin' | 'nobody' | 'anonymous';

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  identity: Identity;
  /** What the generator meant to exercise, for the counts and for reports. */
  category: string;
  /** A watch: read for a moment, then hang up. */
  watch?: boolean;
}

/** Names reused across requests so that updates, patches and deletes meet stored objects. */
export const NAMES = ['fz-a', 'fz-b', 'fz-c', 'fz-d'];
export const NAMESPACES = ['default', 'fuzz'];

const STRINGS = [
  '', 'a', 'fz-a', 'web-0', 'A', '-', '.', '..', 'a.b', 'a/b', '*', ' ', 'x'.repeat(64), 'x'.repeat(254), 'x'.repeat(64 * 1024),
  '日本語', '\u0000', '\u202e', '%2F', '../..', '${x}', "' OR 1=1", '<script>', 'true', '0', '-1', '1Gi', '100m', '1e3', 'Always', 'None',
  'TCP', 'ClusterIP', 'OrderedReady', 'RollingUpdate', 'ReadWriteOnce', 'app=web', 'kubernetes.io/x', '2026-01-01T00:00:00Z', '\ud800', 'a\nb',
];
const NUMBERS = [0, 1, -1, 2, 3, 80, 65535, 65536, 2147483647, 2147483648, -2147483649, 9007199254740993, 1e21, 1.5, -0.0, 1e308];

/** A value for `schema`, mostly of the right shape, sometimes of the wrong one. */
export function valueFor(rng: Rng, schema: Schema | undefined, depth: number): unknown {
  const s = resolveSchema(schema);
  if (rng.chance(0.03)) return wrongType(rng);
  if (!s) return rng.pick(STRINGS);
  if (s.enum && rng.chance(0.7)) return rng.pick(s.enum);
  if (s['x-kubernetes-int-or-string']) return rng.chance(0.5) ? rng.pick(NUMBERS) : rng.pick(STRINGS);
  switch (s.type) {
    case 'object': {
      if (depth > 6) return {};
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(s.properties ?? {})) if (rng.chance(depth < 2 ? 0.6 : 0.3)) out[k] = valueFor(rng, v, depth + 1);
      if (s.additionalProperties && typeof s.additionalProperties === 'object') {
        for (let i = rng.int(3); i > 0; i--) out[rng.pick(STRINGS).slice(0, 80) || 'k'] = valueFor(rng, s.additionalProperties, depth + 1);
      }
      return out;
    }
    case 'array': {
      if (depth > 6) return [];
      const n = rng.int(4);
      return Array.from({ length: n }, () => valueFor(rng, s.items, depth + 1));
    }
    case 'integer':
      return rng.pick(NUMBERS);
    case 'number':
      return rng.pick(NUMBERS);
    case 'boolean':
      return rng.chance(0.5);
    case 'string':
      return s.format === 'byte' && rng.chance(0.7) ? Buffer.from(rng.pick(STRINGS)).toString('base64') : rng.pick(STRINGS);
    default:
      return rng.chance(0.5) ? {} : rng.pick(STRINGS);
  }
}

function wrongType(rng: Rng): unknown {
  return rng.pick<unknown>([null, true, 7, -3.5, 'x', [], {}, [null], { '': '' }, 1e400]);
}

/** A whole object of the kind: schema-shaped, with a name from the pool (mostly) and the right type meta (mostly). */
export function objectFor(rng: Rng, r: ResourceDef, name: string, namespace?: string): Record<string, unknown> {
  const obj = (valueFor(rng, components[r.schema], 0) ?? {}) as Record<string, unknown>;
  const body: Record<string, unknown> = typeof obj === 'object' && obj && !Array.isArray(obj) ? obj : {};
  if (rng.chance(0.9)) body.apiVersion = groupVersion(r);
  if (rng.chance(0.9)) body.kind = r.kind;
  const meta = (typeof body.metadata === 'object' && body.metadata && !Array.isArray(body.metadata) ? body.metadata : {}) as Record<string, unknown>;
  delete meta.resourceVersion;
  delete meta.uid;
  if (rng.chance(0.9)) meta.name = name;
  if (namespace && rng.chance(0.3)) meta.namespace = namespace;
  body.metadata = meta;
  return body;
}

/** Deep nesting, in JSON text (the parser must not recurse to death on it). */
function nested(rng: Rng): string {
  const depth = rng.pick([100, 1000, 10_000, 100_000]);
  if (rng.chance(0.5)) return '{"metadata":{"name":"fz-a"},"data":' + '['.repeat(depth) + ']'.repeat(depth) + '}';
  return '{"metadata":{"name":"fz-a","labels":' + '{"a":'.repeat(depth) + '1' + '}'.repeat(depth) + '}}';
}

/** Mutations of a JSON document's text or bytes. */
export function mutateJson(rng: Rng, text: string): Buffer {
  switch (rng.int(10)) {
    case 0:
      return Buffer.from(text.slice(0, rng.int(text.length + 1))); // truncated
    case 1: {
      // duplicate keys: the same field twice with different values
      return Buffer.from(text.replace(/^\{/, '{"metadata":{"name":"dup"},"kind":"Nope",'));
    }
    case 2:
      return Buffer.from(nested(rng));
    case 3:
      return Buffer.from(text.replace(/\d+/, rng.pick(['1e400', '123456789012345678901234567890', '-0', '1.0e-400', 'NaN', 'Infinity', '0x10'])));
    case 4: {
      const b = Buffer.from(text); // invalid UTF-8
      const at = rng.int(b.length + 1);
      return Buffer.concat([b.subarray(0, at), Buffer.from(rng.pick([[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x00]])), b.subarray(at)]);
    }
    case 5: {
      const b = Buffer.from(text); // byte flips
      for (let i = rng.int(4) + 1; i > 0 && b.length; i--) b[rng.int(b.length)] = rng.int(256);
      return b;
    }
    case 6:
      return Buffer.from(text.replace(/"[^"]*"/, '"' + 'x'.repeat(rng.pick([1 << 16, 1 << 20, 3 << 20])) + '"')); // huge string
    case 7:
      return Buffer.from(rng.pick(['', 'null', '[]', '"x"', '42', 'true', '{}', '{"apiVersion":1}', '{"metadata":null}', '{"metadata":[]}', '{"metadata":{"name":{}}}', '\ufeff{}']));
    case 8:
      return Buffer.from(text + rng.pick(['}', ' {}', '\n---\n{}', 'garbage']));
    default:
      return Buffer.from(text);
  }
}

const YAML_HOSTILE = [
  // alias expansion bomb
  'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nmetadata: {name: fz-a}\n',
  'metadata:\n  name: fz-a\nmetadata:\n  name: fz-b\n',
  '!!binary AAAA',
  '--- !!python/object:os.system\n',
  'metadata: &m {name: fz-a, labels: *m}\n',
  'a: *undefined\n',
  'metadata: {name: fz-a}\n---\nmetadata: {name: fz-b}\n',
  '? [a, b]\n: c\nmetadata: {name: fz-a}\n',
  'metadata:\n\tname: x\n',
  'data: {a: 0x1F, b: 1_000, c: .inf, d: ~, e: 2001-12-14}\nmetadata: {name: fz-a}\n',
];

function bodyFor(rng: Rng, r: ResourceDef, name: string, ns: string | undefined): { body: Buffer; type: string; form: string } {
  const obj = objectFor(rng, r, name, ns);
  const form = rng.int(10);
  if (form < 5) return { body: rng.chance(0.5) ? mutateJson(rng, JSON.stringify(obj)) : Buffer.from(JSON.stringify(obj)), type: 'application/json', form: 'json' };
  if (form < 8) {
    let text: string;
    try {
      text = toYaml(obj);
    } catch {
      text = JSON.stringify(obj);
    }
    if (rng.chance(0.3)) text = rng.pick(YAML_HOSTILE);
    else if (rng.chance(0.3)) return { body: mutateJson(rng, text), type: 'application/yaml', form: 'yaml' };
    return { body: Buffer.from(text), type: 'application/yaml', form: 'yaml' };
  }
  return { body: protobufBody(rng, r, name), type: 'application/vnd.kubernetes.protobuf', form: 'protobuf' };
}

function protobufBody(rng: Rng, r: ResourceDef, name: string): Buffer {
  const gv = rng.chance(0.8) ? groupVersion(r) : rng.pick(['v1', 'apps/v1', '', 'x/y/z']);
  const kind = rng.chance(0.8) ? r.kind : rng.pick(['ConfigMap', 'Status', 'Nope', '']);
  const labels = rng.chance(0.3) ? { [rng.pick(STRINGS).slice(0, 100)]: rng.pick(STRINGS).slice(0, 100) } : {};
  let raw = configMapMessage(name, { k: rng.pick(STRINGS) }, labels);
  switch (rng.int(6)) {
    case 0:
      raw = raw.subarray(0, rng.int(raw.length)); // truncated
      break;
    case 1:
      raw = Buffer.concat([raw, varintField(rng.int(2000) + 1, rng.int(1 << 30))]); // unknown field
      break;
    case 2:
      raw = Buffer.concat([raw, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])]); // length beyond the end
      break;
    case 3: {
      let m = bytesField(1, name); // deep nested messages
      for (let i = 0; i < 200; i++) m = bytesField(1, m);
      raw = m;
      break;
    }
    case 4:
      raw = Buffer.from(Array.from({ length: rng.int(64) }, () => rng.int(256)));
      break;
  }
  const env = envelope(gv, kind, raw);
  if (rng.chance(0.1)) return env.subarray(0, rng.int(env.length));
  if (rng.chance(0.05)) return Buffer.concat([env, bytesField(3, 'gzip')]);
  return env;
}

const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml', 'application/apply-patch+cbor', 'application/json'];

function patchBody(rng: Rng, r: ResourceDef, type: string, name: string): Buffer {
  if (type === 'application/json-patch+json') {
    const ops = Array.from({ length: rng.int(4) + 1 }, () => {
      const op: Record<string, unknown> = { op: rng.pick(['add', 'remove', 'replace', 'move', 'copy', 'test', 'nope', '']) };
      op.path = rng.pick(['/metadata/labels/a', '/metadata/name', '/spec', '/spec/replicas', '/data/x', '/metadata/labels/a~1b', '/metadata/finalizers/-', '/metadata/finalizers/99', '', '/', 'x', '/metadata/~2', '/status']);
      if (rng.chance(0.5)) op.from = rng.pick(['/metadata/labels', '/metadata', '/spec', '']);
      if (rng.chance(0.8)) op.value = rng.chance(0.5) ? valueFor(rng, undefined, 0) : wrongType(rng);
      return op;
    });
    const text = JSON.stringify(rng.chance(0.9) ? ops : ops[0]);
    return rng.chance(0.3) ? mutateJson(rng, text) : Buffer.from(text);
  }
  const obj = rng.chance(0.6) ? objectFor(rng, r, name) : ({ metadata: { labels: { [rng.pick(STRINGS).slice(0, 80)]: rng.pick(STRINGS) } } } as Record<string, unknown>);
  if (type === 'application/strategic-merge-patch+json' && rng.chance(0.4)) {
    obj.$patch = rng.pick(['delete', 'replace', 'merge', 'nope']);
    obj['$setElementOrder/containers'] = rng.chance(0.5) ? [{ name: 'a' }] : 'x';
    obj['$deleteFromPrimitiveList/finalizers'] = rng.chance(0.5) ? ['a'] : {};
    obj.$retainKeys = ['x'];
  }
  if (type === 'application/apply-patch+yaml') {
    if (rng.chance(0.3)) return Buffer.from(rng.pick(YAML_HOSTILE));
    return rng.chance(0.3) ? mutateJson(rng, toYaml(obj)) : Buffer.from(toYaml(obj));
  }
  const text = JSON.stringify(obj);
  return rng.chance(0.4) ? mutateJson(rng, text) : Buffer.from(text);
}

const LABEL_SELECTORS = ['', 'a=b', 'a!=b', 'a in (x,y)', 'a notin (x)', '!a', 'a', 'a=', '=b', 'a in (', 'a==b,c', 'a b', 'x'.repeat(64) + '=y', '(((', 'a in ()', 'a>1', 'a>b', 'app.kubernetes.io/name=x', 'a=' + 'b'.repeat(10000), '%00', 'a=b,'.repeat(1000)];
const FIELD_SELECTORS = ['', 'metadata.name=fz-a', 'metadata.namespace!=default', 'spec.nodeName=n1', 'status.phase=Running', 'spec.unknown=x', 'metadata.name', 'metadata.name in (a)', '=x', 'metadata.name=a,metadata.name=b', 'metadata.name==a', 'spec.schedulerName=x', 'involvedObject.name=x', 'type=kubernetes.io/x', 'a\\,b=c', 'metadata.name=' + 'x'.repeat(5000)];
const QUERY = [
  ['limit', ['1', '0', '-1', 'x', '500', '99999999999999999999']],
  ['continue', ['', 'x', 'eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MSwic3RhcnQiOiJ4In0', '%ff%fe']],
  ['resourceVersion', ['', '0', '1', 'x', '-1', '18446744073709551616']],
  ['resourceVersionMatch', ['NotOlderThan', 'Exact', 'x', '']],
  ['timeoutSeconds', ['0', '1', '-5', 'x']],
  ['allowWatchBookmarks', ['true', 'x']],
  ['sendInitialEvents', ['true', 'false', 'x']],
  ['fieldManager', ['fz', '', 'x'.repeat(200), '\u0001']],
  ['fieldValidation', ['Strict', 'Warn', 'Ignore', 'nope', '']],
  ['dryRun', ['All', 'x', '']],
  ['force', ['true', 'false', 'x']],
  ['pretty', ['true', 'x']],
  ['propagationPolicy', ['Orphan', 'Foreground', 'Background', 'x']],
  ['gracePeriodSeconds', ['0', '-1', 'x', '99999999999999']],
  ['includeObject', ['None', 'Object', 'x']],
  ['watch', ['false', 'x', '0']],
] as const;

function query(rng: Rng, forList: boolean): string {
  const parts: string[] = [];
  if (forList && rng.chance(0.4)) parts.push('labelSelector=' + encodeURIComponent(rng.pick(LABEL_SELECTORS)));
  if (forList && rng.chance(0.4)) parts.push('fieldSelector=' + encodeURIComponent(rng.pick(FIELD_SELECTORS)));
  for (let i = rng.int(3); i > 0; i--) {
    const [k, vs] = rng.pick(QUERY);
    parts.push(`${k}=${encodeURIComponent(rng.pick(vs))}`);
  }
  if (rng.chance(0.05)) parts.push(rng.pick(['%zz', 'a=%', '&&&', '=', 'limit=1&limit=2', 'x'.repeat(8000)]));
  return parts.length ? '?' + parts.join('&') : '';
}

function collectionPath(r: ResourceDef, ns: string | undefined): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  return r.namespaced && ns !== undefined ? `${base}/namespaces/${ns}/${r.plural}` : `${base}/${r.plural}`;
}

const ODD_PATHS = [
  '/', '/api', '/apis', '/api/v1', '/apis/apps', '/apis/apps/v1', '/apis/nope/v1', '/api/v2/pods', '/api/v1/nope', '/api/v1/namespaces/default/pods/fz-a/nope',
  '/api/v1/namespaces//pods', '/api/v1/namespaces/%2e%2e/pods', '/api/v1/namespaces/default/pods/%2Fx', '/api/v1/namespaces/default/pods/fz-a/log', '/api/v1/namespaces/default/pods/fz-a/exec',
  '/api/v1/namespaces/default/pods/fz-a/attach', '/api/v1/namespaces/default/pods/fz-a/portforward', '/api/v1/namespaces/default/pods/fz-a/proxy/', '/api/v1/nodes/x/proxy/pods',
  '/openapi/v2', '/openapi/v3', '/openapi/v3/apis/apps/v1', '/openapi/v3/nope', '/version', '/healthz', '/livez', '/readyz', '/metrics', '/healthz/nope', '/../../etc/passwd',
  '/api/v1/namespaces/default/services/fz-a/proxy/', '/api/v1/watch/pods', '/api/v1/watch/namespaces/default/pods/fz-a', '/apis/apps/v1/namespaces/default/statefulsets/fz-a/scale',
  '/api/v1/namespaces/default/pods/fz-a/eviction', '/api/v1/namespaces/default/pods/fz-a/binding', '/api/v1/namespaces/default/serviceaccounts/fz-a/token', '/api/v1/namespaces/fz-a/finalize',
  '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', '/apis/authorization.k8s.io/v1/subjectaccessreviews', '/apis/authentication.k8s.io/v1/tokenreviews', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews',
  '/apis/authentication.k8s.io/v1/selfsubjectreviews', '/apis/certificates.k8s.io/v1/certificatesigningrequests/fz-a/approval', '/x'.repeat(2000),
];
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND', 'get'];
const CONTENT_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf', 'text/plain', '', 'application/json; charset=latin1', 'application/json;;;', 'multipart/form-data; boundary=x', 'application/cbor', '*/*', 'application/json-patch+json'];
const ACCEPTS = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf', 'application/json;as=Table;v=v1;g=meta.k8s.io', 'application/json;as=Table;v=v1beta1;g=meta.k8s.io', 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io', 'application/json;as=Nope', 'text/html', '*/*', '', 'application/vnd.kubernetes.protobuf;stream=watch', 'application/json;q=x'];

function identity(rng: Rng): Identity {
  const x = rng.next();
  return x < 0.7 ? 'admin' : x < 0.9 ? 'nobody' : 'anonymous';
}

function headers(rng: Rng, contentType?: string): Record<string, string> {
  const h: Record<string, string> = { Accept: rng.chance(0.8) ? 'application/json' : rng.pick(ACCEPTS) };
  if (contentType !== undefined) h['Content-Type'] = contentType;
  if (rng.chance(0.05)) h['Impersonate-User'] = rng.pick(['system:admin', 'nobody', '', 'system:serviceaccount:default:default']);
  if (rng.chance(0.03)) h['Impersonate-Group'] = rng.pick(['system:masters', '']);
  if (rng.chance(0.03)) h['Content-Encoding'] = rng.pick(['gzip', 'br', 'x']);
  if (rng.chance(0.03)) h['Accept-Encoding'] = rng.pick(['gzip', 'x', '*']);
  if (rng.chance(0.03)) h['Authorization'] = rng.pick(['Bearer ', 'Bearer x', 'Basic Zm9vOmJhcg==', 'Bearer ' + 'x'.repeat(4000), 'Nope']);
  if (rng.chance(0.02)) h['X-Remote-User'] = 'system:admin';
  return h;
}

/** The `i`-th request of the run seeded with `seed`: depends on nothing else. */
export function generate(seed: number, i: number): FuzzRequest {
  const rng = new Rng((seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
  const r = rng.pick(resources.filter((x) => !x.custom));
  const ns = r.namespaced ? (rng.chance(0.95) ? rng.pick(NAMESPACES) : rng.pick(['nope', 'UPPER', 'a'.repeat(70), '-x'])) : undefined;
  const name = rng.chance(0.95) ? rng.pick(NAMES) : rng.pick(['UPPER', 'a_b', 'x'.repeat(300), '..', '%20', 'a:b']);
  const coll = collectionPath(r, ns);
  const who = identity(rng);
  const kind = rng.int(100);
  if (kind < 25) {
    const { body, type, form } = bodyFor(rng, r, name, ns);
    const ct = rng.chance(0.95) ? type : rng.pick(CONTENT_TYPES);
    return { method: 'POST', path: coll + query(rng, false), headers: headers(rng, ct), body, identity: who, category: `create/${form}` };
  }
  if (kind < 37) {
    const { body, type, form } = bodyFor(rng, r, name, ns);
    const sub = r.subresources.length && rng.chance(0.3) ? '/' + rng.pick(r.subresources) : '';
    return { method: 'PUT', path: `${coll}/${name}${sub}` + query(rng, false), headers: headers(rng, type), body, identity: who, category: `update/${form}` };
  }
  if (kind < 57) {
    const type = rng.pick(PATCH_TYPES);
    const sub = r.subresources.length && rng.chance(0.2) ? '/' + rng.pick(r.subresources) : '';
    const q = type === 'application/apply-patch+yaml' && rng.chance(0.8) ? '?fieldManager=fz' + (rng.chance(0.3) ? '&force=true' : '') : query(rng, false);
    return { method: 'PATCH', path: `${coll}/${name}${sub}${q}`, headers: headers(rng, type), body: patchBody(rng, r, type, name), identity: who, category: `patch/${type.split('/')[1].split('+')[0]}` };
  }
  if (kind < 72) {
    const all = r.namespaced && rng.chance(0.2) ? collectionPath(r, undefined) : coll;
    return { method: 'GET', path: all + query(rng, true), headers: headers(rng), identity: who, category: 'list' };
  }
  if (kind < 78) {
    const q = query(rng, true);
    return { method: 'GET', path: coll + (q ? q + '&' : '?') + 'watch=true&timeoutSeconds=1', headers: headers(rng), identity: who, category: 'watch', watch: true };
  }
  if (kind < 84) return { method: 'GET', path: `${coll}/${name}` + query(rng, false), headers: headers(rng), identity: who, category: 'get' };
  if (kind < 89) {
    const body = rng.chance(0.5) ? Buffer.from(JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', ...(rng.chance(0.5) ? { gracePeriodSeconds: rng.pick(NUMBERS) } : {}), ...(rng.chance(0.5) ? { preconditions: { uid: 'x' } } : {}), ...(rng.chance(0.3) ? { propagationPolicy: rng.pick(['Orphan', 'x']) } : {}) })) : undefined;
    const target = rng.chance(0.15) ? coll + query(rng, true) : `${coll}/${name}` + query(rng, false);
    return { method: 'DELETE', path: target, headers: headers(rng, body ? 'application/json' : undefined), body: body && rng.chance(0.2) ? mutateJson(rng, body.toString()) : body, identity: who, category: 'delete' };
  }
  const method = rng.pick(METHODS);
  const body = method === 'GET' || method === 'HEAD' || rng.chance(0.3) ? undefined : mutateJson(rng, JSON.stringify(objectFor(rng, r, name, ns)));
  const ct = body ? rng.pick(CONTENT_TYPES) : undefined;
  return { method, path: rng.pick(ODD_PATHS) + query(rng, rng.chance(0.5)), headers: headers(rng, ct), body, identity: who, category: 'odd' };
}
