// Swagger 2.0 JSON -> the protobuf form kubectl downloads from /openapi/v2.
//
// client-go asks for `application/com.github.proto-openapi.spec.v2@v1.0+protobuf` and decodes
// the body as gnostic's `openapi.v2.Document` (github.com/google/gnostic-models,
// openapiv2/OpenAPIv2.proto). kubectl then reads:
// - paths -> PathItem.patch -> vendor extension `x-kubernetes-group-version-kind` (YAML text) and
//   the names of the query parameters, to decide whether the server validates fields itself;
// - definitions, for `kubectl explain --output=plaintext-openapiv2` and client-side validation
//   (kube-openapi's proto models), including vendor extensions such as the GVK list and the
//   patch merge key/strategy.
//
// The mapping follows what gnostic's own compiler does with a JSON document: every `x-` key
// becomes a NamedAny whose Any carries the value as YAML text; JSON-schema unions become the
// wrapper messages (TypeItem, ItemsItem, AdditionalPropertiesItem, ParametersItem, ...);
// proto3 scalars equal to their zero value are left out. Keys the message has no field for are
// dropped, as a protobuf reader would ignore them anyway.
import { createHash } from 'node:crypto';
import YAML from 'yaml';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;

function varint(n: number | bigint): Buffer {
  // Negative int64 values are written as their 64-bit two's complement, as protobuf requires.
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}

function smallVarint(n: number): Buffer {
  if (n < 0x80) return Buffer.of(n);
  return varint(n);
}

/** One message being written; nested messages are finished into bytes and length-prefixed. */
class Msg {
  private readonly parts: Buffer[] = [];
  private size = 0;

  private push(b: Buffer): void {
    this.parts.push(b);
    this.size += b.length;
  }

  private key(field: number, wire: number): void {
    this.push(smallVarint(field * 8 + wire));
  }

  private bytes(field: number, b: Buffer): void {
    this.key(field, WIRE_BYTES);
    this.push(smallVarint(b.length));
    this.push(b);
  }

  /** A singular string: omitted when empty or not a string. */
  string(field: number, v: unknown): this {
    if (typeof v === 'string' && v !== '') this.bytes(field, Buffer.from(v, 'utf8'));
    return this;
  }

  /** A repeated string: every element is written, empty ones included. */
  strings(field: number, v: unknown): this {
    if (Array.isArray(v)) for (const s of v) if (typeof s === 'string') this.bytes(field, Buffer.from(s, 'utf8'));
    return this;
  }

  bool(field: number, v: unknown): this {
    if (v === true) {
      this.key(field, WIRE_VARINT);
      this.push(Buffer.of(1));
    }
    return this;
  }

  /** A bool inside a oneof: present even when false, since choosing the branch is the point. */
  oneofBool(field: number, v: boolean): this {
    this.key(field, WIRE_VARINT);
    this.push(Buffer.of(v ? 1 : 0));
    return this;
  }

  int64(field: number, v: unknown): this {
    if (typeof v === 'number' && Number.isInteger(v) && v !== 0) {
      this.key(field, WIRE_VARINT);
      this.push(varint(v));
    }
    return this;
  }

  double(field: number, v: unknown): this {
    if (typeof v === 'number' && v !== 0) {
      this.key(field, WIRE_FIXED64);
      const b = Buffer.alloc(8);
      b.writeDoubleLE(v);
      this.push(b);
    }
    return this;
  }

  /** A sub-message; written even when empty, since its presence can matter (e.g. `properties: {}`). */
  message(field: number, m: Msg | undefined): this {
    if (m) this.bytes(field, m.finish());
    return this;
  }

  messages(field: number, ms: Iterable<Msg>): this {
    for (const m of ms) this.message(field, m);
    return this;
  }

  finish(): Buffer {
    return this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.size);
  }
}

const isObj = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

// ---------------------------------------------------------------------------------------------
// Any and vendor extensions

/**
 * Any{yaml}. kubectl parses these with go-yaml v2 (YAML 1.1), so strings YAML 1.1 would read as
 * something else ('yes', 'on', '010') must come out quoted.
 */
function any(v: unknown): Msg {
  return new Msg().string(2, YAML.stringify(v, { version: '1.1', lineWidth: 0 }));
}

function namedAny(name: string, v: unknown): Msg {
  return new Msg().string(1, name).message(2, any(v));
}

function vendorExtensions(o: Json): Msg[] {
  const out: Msg[] = [];
  for (const [k, v] of Object.entries(o)) if (k.startsWith('x-') && v !== undefined) out.push(namedAny(k, v));
  return out;
}

function anyList(v: unknown): Msg[] {
  return Array.isArray(v) ? v.map(any) : [];
}

const optAny = (v: unknown): Msg | undefined => (v === undefined ? undefined : any(v));

// ---------------------------------------------------------------------------------------------
// Schemas

function schema(s: Json): Msg {
  const m = new Msg()
    .string(1, s.$ref)
    .string(2, s.format)
    .string(3, s.title)
    .string(4, s.description)
    .message(5, optAny(s.default))
    .double(6, s.multipleOf)
    .double(7, s.maximum)
    .bool(8, s.exclusiveMaximum)
    .double(9, s.minimum)
    .bool(10, s.exclusiveMinimum)
    .int64(11, s.maxLength)
    .int64(12, s.minLength)
    .string(13, s.pattern)
    .int64(14, s.maxItems)
    .int64(15, s.minItems)
    .bool(16, s.uniqueItems)
    .int64(17, s.maxProperties)
    .int64(18, s.minProperties)
    .strings(19, s.required)
    .messages(20, anyList(s.enum));
  if (typeof s.additionalProperties === 'boolean') m.message(21, new Msg().oneofBool(2, s.additionalProperties));
  else if (isObj(s.additionalProperties)) m.message(21, new Msg().message(1, schema(s.additionalProperties)));
  if (s.type !== undefined) m.message(22, new Msg().strings(1, Array.isArray(s.type) ? s.type : [s.type]));
  if (s.items !== undefined) {
    const items = (Array.isArray(s.items) ? s.items : [s.items]).filter(isObj);
    m.message(23, new Msg().messages(1, items.map(schema)));
  }
  if (Array.isArray(s.allOf)) m.messages(24, s.allOf.filter(isObj).map(schema));
  if (isObj(s.properties)) m.message(25, namedSchemas(s.properties));
  return m
    .string(26, s.discriminator)
    .bool(27, s.readOnly)
    .message(28, isObj(s.xml) ? xml(s.xml) : undefined)
    .message(29, isObj(s.externalDocs) ? externalDocs(s.externalDocs) : undefined)
    .message(30, optAny(s.example))
    .messages(31, vendorExtensions(s));
}

/** Properties and Definitions share one shape: repeated NamedSchema at field 1. */
function namedSchemas(o: Json): Msg {
  const m = new Msg();
  for (const [name, s] of Object.entries(o)) if (isObj(s)) m.message(1, new Msg().string(1, name).message(2, schema(s)));
  return m;
}

function fileSchema(s: Json): Msg {
  return new Msg()
    .string(1, s.format)
    .string(2, s.title)
    .string(3, s.description)
    .message(4, optAny(s.default))
    .strings(5, s.required)
    .string(6, s.type)
    .bool(7, s.readOnly)
    .message(8, isObj(s.externalDocs) ? externalDocs(s.externalDocs) : undefined)
    .message(9, optAny(s.example))
    .messages(10, vendorExtensions(s));
}

function xml(x: Json): Msg {
  return new Msg().string(1, x.name).string(2, x.namespace).string(3, x.prefix).bool(4, x.attribute).bool(5, x.wrapped).messages(6, vendorExtensions(x));
}

function externalDocs(d: Json): Msg {
  return new Msg().string(1, d.description).string(2, d.url).messages(3, vendorExtensions(d));
}

// ---------------------------------------------------------------------------------------------
// Parameters

/**
 * The validation keywords of non-body parameters, response headers and PrimitivesItems come in
 * the same order in every one of those messages; only the first field number differs.
 */
function primitiveKeywords(m: Msg, p: Json, first: number): Msg {
  let f = first;
  return m
    .string(f++, p.type)
    .string(f++, p.format)
    .message(f++, isObj(p.items) ? primitivesItems(p.items) : undefined)
    .string(f++, p.collectionFormat)
    .message(f++, optAny(p.default))
    .double(f++, p.maximum)
    .bool(f++, p.exclusiveMaximum)
    .double(f++, p.minimum)
    .bool(f++, p.exclusiveMinimum)
    .int64(f++, p.maxLength)
    .int64(f++, p.minLength)
    .string(f++, p.pattern)
    .int64(f++, p.maxItems)
    .int64(f++, p.minItems)
    .bool(f++, p.uniqueItems)
    .messages(f++, anyList(p.enum))
    .double(f++, p.multipleOf);
}

function primitivesItems(p: Json): Msg {
  return primitiveKeywords(new Msg(), p, 1).messages(18, vendorExtensions(p));
}

/** Query and formData parameters: required, in, description, name, allowEmptyValue, then keywords from 6. */
function queryLikeParameter(p: Json): Msg {
  const m = new Msg().bool(1, p.required).string(2, p.in).string(3, p.description).string(4, p.name).bool(5, p.allowEmptyValue);
  return primitiveKeywords(m, p, 6).messages(23, vendorExtensions(p));
}

/** Header and path parameters: required, in, description, name, then keywords from 5. */
function pathLikeParameter(p: Json): Msg {
  const m = new Msg().bool(1, p.required).string(2, p.in).string(3, p.description).string(4, p.name);
  return primitiveKeywords(m, p, 5).messages(22, vendorExtensions(p));
}

const NON_BODY_BRANCH: Record<string, [number, (p: Json) => Msg]> = {
  header: [1, pathLikeParameter],
  formData: [2, queryLikeParameter],
  query: [3, queryLikeParameter],
  path: [4, pathLikeParameter],
};

/** Parameter{body_parameter = 1 | non_body_parameter = 2}. */
function parameter(p: Json): Msg {
  if (p.in === 'body') {
    const body = new Msg()
      .string(1, p.description)
      .string(2, p.name)
      .string(3, p.in)
      .bool(4, p.required)
      .message(5, isObj(p.schema) ? schema(p.schema) : undefined)
      .messages(6, vendorExtensions(p));
    return new Msg().message(1, body);
  }
  const branch = NON_BODY_BRANCH[p.in as string] ?? NON_BODY_BRANCH.query;
  return new Msg().message(2, new Msg().message(branch[0], branch[1](p)));
}

function jsonReference(o: Json): Msg {
  return new Msg().string(1, o.$ref).string(2, o.description);
}

/** ParametersItem{parameter = 1 | json_reference = 2}. */
function parametersItem(p: Json): Msg {
  return typeof p.$ref === 'string' ? new Msg().message(2, jsonReference(p)) : new Msg().message(1, parameter(p));
}

function parametersItems(v: unknown): Msg[] {
  return Array.isArray(v) ? v.filter(isObj).map(parametersItem) : [];
}

// ---------------------------------------------------------------------------------------------
// Responses

function header(h: Json): Msg {
  return primitiveKeywords(new Msg(), h, 1).string(18, h.description).messages(19, vendorExtensions(h));
}

function response(r: Json): Msg {
  const m = new Msg().string(1, r.description);
  if (isObj(r.schema)) {
    // SchemaItem{schema = 1 | file_schema = 2}
    m.message(2, r.schema.type === 'file' ? new Msg().message(2, fileSchema(r.schema)) : new Msg().message(1, schema(r.schema)));
  }
  if (isObj(r.headers)) {
    const hs = new Msg();
    for (const [name, h] of Object.entries(r.headers)) if (isObj(h)) hs.message(1, new Msg().string(1, name).message(2, header(h)));
    m.message(3, hs);
  }
  if (isObj(r.examples)) {
    const ex = new Msg();
    for (const [name, v] of Object.entries(r.examples)) ex.message(1, namedAny(name, v));
    m.message(4, ex);
  }
  return m.messages(5, vendorExtensions(r));
}

/** Responses{response_code = 1 (NamedResponseValue), vendor_extension = 2}. */
function responses(o: Json): Msg {
  const m = new Msg();
  for (const [code, r] of Object.entries(o)) {
    if (code.startsWith('x-') || !isObj(r)) continue;
    // ResponseValue{response = 1 | json_reference = 2}
    const value = typeof r.$ref === 'string' ? new Msg().message(2, jsonReference(r)) : new Msg().message(1, response(r));
    m.message(1, new Msg().string(1, code).message(2, value));
  }
  return m.messages(2, vendorExtensions(o));
}

// ---------------------------------------------------------------------------------------------
// Operations and paths

function securityRequirements(v: unknown): Msg[] {
  if (!Array.isArray(v)) return [];
  return v.filter(isObj).map((req) => {
    const m = new Msg();
    for (const [name, scopes] of Object.entries(req)) m.message(1, new Msg().string(1, name).message(2, new Msg().strings(1, scopes)));
    return m;
  });
}

function operation(o: Json): Msg {
  return new Msg()
    .strings(1, o.tags)
    .string(2, o.summary)
    .string(3, o.description)
    .message(4, isObj(o.externalDocs) ? externalDocs(o.externalDocs) : undefined)
    .string(5, o.operationId)
    .strings(6, o.produces)
    .strings(7, o.consumes)
    .messages(8, parametersItems(o.parameters))
    .message(9, isObj(o.responses) ? responses(o.responses) : undefined)
    .strings(10, o.schemes)
    .bool(11, o.deprecated)
    .messages(12, securityRequirements(o.security))
    .messages(13, vendorExtensions(o));
}

const METHOD_FIELDS: Record<string, number> = { get: 2, put: 3, post: 4, delete: 5, options: 6, head: 7, patch: 8 };

function pathItem(p: Json): Msg {
  const m = new Msg().string(1, p.$ref);
  for (const [method, field] of Object.entries(METHOD_FIELDS)) if (isObj(p[method])) m.message(field, operation(p[method]));
  return m.messages(9, parametersItems(p.parameters)).messages(10, vendorExtensions(p));
}

/** Paths{vendor_extension = 1, path = 2 (NamedPathItem)}. */
function paths(o: Json): Msg {
  const m = new Msg().messages(1, vendorExtensions(o));
  for (const [path, item] of Object.entries(o)) if (!path.startsWith('x-') && isObj(item)) m.message(2, new Msg().string(1, path).message(2, pathItem(item)));
  return m;
}

// ---------------------------------------------------------------------------------------------
// Document-level parts

function info(i: Json): Msg {
  const contact = isObj(i.contact) ? new Msg().string(1, i.contact.name).string(2, i.contact.url).string(3, i.contact.email).messages(4, vendorExtensions(i.contact)) : undefined;
  const license = isObj(i.license) ? new Msg().string(1, i.license.name).string(2, i.license.url).messages(3, vendorExtensions(i.license)) : undefined;
  return new Msg()
    .string(1, i.title)
    .string(2, i.version)
    .string(3, i.description)
    .string(4, i.termsOfService)
    .message(5, contact)
    .message(6, license)
    .messages(7, vendorExtensions(i));
}

function oauth2Scopes(v: unknown): Msg | undefined {
  if (!isObj(v)) return undefined;
  const m = new Msg();
  for (const [name, d] of Object.entries(v)) m.message(1, new Msg().string(1, name).string(2, d));
  return m;
}

/** SecurityDefinitionsItem: a oneof chosen by `type` (and, for oauth2, by `flow`). */
function securityDefinitionsItem(d: Json): Msg | undefined {
  const ve = vendorExtensions(d);
  if (d.type === 'basic') return new Msg().message(1, new Msg().string(1, d.type).string(2, d.description).messages(3, ve));
  if (d.type === 'apiKey') return new Msg().message(2, new Msg().string(1, d.type).string(2, d.name).string(3, d.in).string(4, d.description).messages(5, ve));
  if (d.type !== 'oauth2') return undefined;
  const m = new Msg().string(1, d.type).string(2, d.flow).message(3, oauth2Scopes(d.scopes));
  switch (d.flow) {
    case 'implicit':
      return new Msg().message(3, m.string(4, d.authorizationUrl).string(5, d.description).messages(6, ve));
    case 'password':
      return new Msg().message(4, m.string(4, d.tokenUrl).string(5, d.description).messages(6, ve));
    case 'application':
      return new Msg().message(5, m.string(4, d.tokenUrl).string(5, d.description).messages(6, ve));
    case 'accessCode':
      return new Msg().message(6, m.string(4, d.authorizationUrl).string(5, d.tokenUrl).string(6, d.description).messages(7, ve));
    default:
      return undefined;
  }
}

function securityDefinitions(o: Json): Msg {
  const m = new Msg();
  for (const [name, d] of Object.entries(o)) {
    const item = isObj(d) ? securityDefinitionsItem(d) : undefined;
    if (item) m.message(1, new Msg().string(1, name).message(2, item));
  }
  return m;
}

function tag(t: Json): Msg {
  return new Msg().string(1, t.name).string(2, t.description).message(3, isObj(t.externalDocs) ? externalDocs(t.externalDocs) : undefined).messages(4, vendorExtensions(t));
}

/** Encodes a swagger 2.0 document as gnostic's openapi.v2.Document. */
export function encodeOpenApiV2Protobuf(doc: object): Buffer {
  const d = doc as Json;
  const m = new Msg()
    .string(1, d.swagger)
    .message(2, isObj(d.info) ? info(d.info) : undefined)
    .string(3, d.host)
    .string(4, d.basePath)
    .strings(5, d.schemes)
    .strings(6, d.consumes)
    .strings(7, d.produces)
    .message(8, isObj(d.paths) ? paths(d.paths) : undefined)
    .message(9, isObj(d.definitions) ? namedSchemas(d.definitions) : undefined);
  if (isObj(d.parameters)) {
    const ps = new Msg();
    for (const [name, p] of Object.entries(d.parameters)) if (isObj(p)) ps.message(1, new Msg().string(1, name).message(2, parameter(p)));
    m.message(10, ps);
  }
  if (isObj(d.responses)) {
    const rs = new Msg();
    for (const [name, r] of Object.entries(d.responses)) if (isObj(r)) rs.message(1, new Msg().string(1, name).message(2, response(r)));
    m.message(11, rs);
  }
  return m
    .messages(12, securityRequirements(d.security))
    .message(13, isObj(d.securityDefinitions) ? securityDefinitions(d.securityDefinitions) : undefined)
    .messages(14, Array.isArray(d.tags) ? d.tags.filter(isObj).map(tag) : [])
    .message(15, isObj(d.externalDocs) ? externalDocs(d.externalDocs) : undefined)
    .messages(16, vendorExtensions(d))
    .finish();
}

// ---------------------------------------------------------------------------------------------
// Serving

/** What client-go sends in Accept. */
export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
/**
 * What upstream answers in Content-Type (and also accepts in Accept): '@' is not a token
 * character, so Go's mime.ParseMediaType in client-go rejects the spelling it asks with.
 */
export const OPENAPI_V2_PROTOBUF_CONTENT_TYPE = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

export interface OpenApiV2Variant {
  body: Buffer;
  contentType: string;
  /** Quoted, ready for the ETag header. */
  etag: string;
}

/** Both representations of the document, each with its own ETag; build once and keep. */
export function openApiV2Variants(doc: object): { json: OpenApiV2Variant; protobuf: OpenApiV2Variant } {
  const etag = (b: Buffer) => `"${createHash('sha512').update(b).digest('hex').toUpperCase()}"`;
  const json = Buffer.from(JSON.stringify(doc), 'utf8');
  const protobuf = encodeOpenApiV2Protobuf(doc);
  return {
    json: { body: json, contentType: 'application/json', etag: etag(json) },
    protobuf: { body: protobuf, contentType: OPENAPI_V2_PROTOBUF_CONTENT_TYPE, etag: etag(protobuf) },
  };
}

/**
 * True when the first media range of the Accept header we can serve is the protobuf one.
 * JSON is the answer to anything else, including no Accept header and wildcards.
 */
export function wantsOpenApiV2Protobuf(accept: string | undefined): boolean {
  for (const range of (accept ?? '').split(',')) {
    const type = range.split(';')[0].trim().toLowerCase();
    if (type === OPENAPI_V2_PROTOBUF || type === OPENAPI_V2_PROTOBUF_CONTENT_TYPE) return true;
    if (type === 'application/json' || type === '*/*' || type === 'application/*') return false;
  }
  return false;
}
