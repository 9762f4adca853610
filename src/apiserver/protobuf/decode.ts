// Decodes request bodies sent as application/vnd.kubernetes.protobuf (what client-go's typed
// clients, and so most kubectl subcommands, send) into the JSON form the rest of the server
// works with.
//
// Upstream's framing: the 4 bytes 'k8s\0', then a runtime.Unknown whose typeMeta names the
// apiVersion/kind and whose raw bytes are the object's own message. Field numbers and types come
// from descriptors.ts.
//
// Zeros: gogo-protobuf writes every non-pointer Go field, even at its zero value, so a zero on
// the wire for such a field says nothing more than absence would — and Kubernetes' JSON omits
// those (omitempty) and defaults them server-side. We therefore drop zero values of value fields
// and keep everything present for pointer fields ('?' in the table), where zero is meaningful
// (replicas: 0, runAsUser: 0, gracePeriodSeconds: 0, automountServiceAccountToken: false).
import { MESSAGES } from './descriptors.ts';
import { ProtobufDecodeError, readFields, Reader, type WireValue } from './wire.ts';

export { ProtobufDecodeError } from './wire.ts';

/** The body's kind has no protobuf description here; the server answers 415, as for any unknown format. */
export class UnsupportedProtobufKindError extends ProtobufDecodeError {}

export const PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // 'k8s\0'

interface FieldDesc {
  name: string;
  /** Scalar code (see descriptors.ts), or '' for a message. */
  scalar: string;
  /** Message type key, for message fields and message-valued maps. */
  ref: string;
  map: boolean;
  repeated: boolean;
  pointer: boolean;
  inline: boolean;
}

interface MessageDesc {
  key: string;
  fields: Map<number, FieldDesc>;
}

const FIELD_RE = /^(\w+)=(\d+)(?:([a-zA-Z])|:([\w/.]+)|\{([\w/.]+)\})([*?^]*)$/;
const SCALAR_CODES = new Set('sbiIuUzZdfy');

const cache = new Map<string, MessageDesc>();

// Key prefixes that never contain '/' (apimachinery packages); refs starting with them are full keys.
const PKG_ROOTS: Record<string, true> = { runtime: true, schema: true, intstr: true, resource: true };

/** A reference from message `from`'s table entry as a full key (bare names are same-package). */
function qualify(from: string, ref: string): string {
  const isFullKey = ref.includes('/') || (ref.includes('.') && ref.slice(0, ref.indexOf('.')) in PKG_ROOTS);
  return isFullKey ? ref : `${from.slice(0, from.indexOf('.'))}.${ref}`;
}

function describe(key: string): MessageDesc {
  const hit = cache.get(key);
  if (hit) return hit;
  const spec = hasMessage(key) ? MESSAGES[key] : undefined;
  if (spec === undefined) throw new ProtobufDecodeError(`no protobuf description for ${key}`);
  const fields = new Map<number, FieldDesc>();
  for (const token of spec.split(' ')) {
    if (!token) continue;
    const m = FIELD_RE.exec(token);
    if (!m) throw new Error(`bad descriptor token ${token} in ${key}`);
    const [, name, num, scalar, msgRef, mapValue, flags] = m;
    const mapScalar = mapValue !== undefined && mapValue.length === 1 && SCALAR_CODES.has(mapValue);
    fields.set(Number(num), {
      name,
      scalar: scalar ?? (mapScalar ? mapValue : ''),
      ref: msgRef !== undefined ? qualify(key, msgRef) : mapValue !== undefined && !mapScalar ? qualify(key, mapValue) : '',
      map: mapValue !== undefined,
      repeated: flags.includes('*'),
      pointer: flags.includes('?'),
      inline: flags.includes('^'),
    });
  }
  const desc = { key, fields };
  cache.set(key, desc);
  return desc;
}

/** Whether the table knows the message (used to decide 415 for unknown kinds). */
export function hasMessage(key: string): boolean {
  return Object.hasOwn(MESSAGES, key);
}

// ---- scalars ----

function wireInt(v: WireValue, where: string): bigint {
  if (v.wire === 0) return v.value;
  if (v.wire === 1) return v.bytes.readBigUInt64LE(0);
  if (v.wire === 5) return BigInt(v.bytes.readUInt32LE(0));
  throw new ProtobufDecodeError(`${where}: expected a number, got a length-delimited field`);
}

function scalarValue(code: string, v: WireValue, where: string): string | number | boolean {
  switch (code) {
    case 's':
    case 'y':
      if (v.wire !== 2) throw new ProtobufDecodeError(`${where}: expected a length-delimited field`);
      return code === 's' ? v.bytes.toString('utf8') : v.bytes.toString('base64');
    case 'b':
      return wireInt(v, where) !== 0n;
    case 'i':
      return Number(BigInt.asIntN(32, wireInt(v, where)));
    case 'I':
      return Number(BigInt.asIntN(64, wireInt(v, where)));
    case 'u':
      return Number(BigInt.asUintN(32, wireInt(v, where)));
    case 'U':
      return Number(BigInt.asUintN(64, wireInt(v, where)));
    case 'z':
    case 'Z': {
      const n = BigInt.asUintN(64, wireInt(v, where));
      return Number((n >> 1n) ^ -(n & 1n));
    }
    case 'd':
      if (v.wire !== 1) throw new ProtobufDecodeError(`${where}: expected a 64-bit field`);
      return v.bytes.readDoubleLE(0);
    case 'f':
      if (v.wire !== 5) throw new ProtobufDecodeError(`${where}: expected a 32-bit field`);
      return v.bytes.readFloatLE(0);
  }
  throw new Error(`unknown scalar code ${code}`);
}

/** Elements of a packed repeated scalar field. */
function unpack(code: string, bytes: Buffer, where: string): (string | number | boolean)[] {
  const r = new Reader(bytes);
  const out: (string | number | boolean)[] = [];
  while (!r.done) {
    if (code === 'd') out.push(scalarValue(code, { wire: 1, bytes: r.take(8) }, where));
    else if (code === 'f') out.push(scalarValue(code, { wire: 5, bytes: r.take(4) }, where));
    else out.push(scalarValue(code, { wire: 0, value: r.varint() }, where));
  }
  return out;
}

const isZeroScalar = (x: unknown) => x === '' || x === 0 || x === false;
const zeroScalar = (code: string) => (code === 's' || code === 'y' ? '' : code === 'b' ? false : 0);

// ---- well-known apimachinery types with their own JSON form ----

/** Returns the JSON value for a message; undefined means "leave the field out". */
type Special = (buf: Buffer, pointer: boolean) => unknown;

function timeParts(buf: Buffer): { seconds: number; nanos: number } {
  const t = decodeObject('meta/v1.Time', buf);
  return { seconds: (t.seconds as number | undefined) ?? 0, nanos: (t.nanos as number | undefined) ?? 0 };
}

function rfc3339(seconds: number, fraction: string): string {
  const iso = new Date(seconds * 1000).toISOString(); // 'YYYY-MM-DDTHH:MM:SS.mmmZ'
  return `${iso.slice(0, 19)}${fraction}Z`;
}

/** The last occurrence of a length-delimited field, without copying or re-encoding it. */
function bytesField(buf: Buffer, num: number): Buffer | undefined {
  let found: Buffer | undefined;
  for (const { field, v } of readFields(buf)) {
    if (field !== num) continue;
    if (v.wire !== 2) throw new ProtobufDecodeError(`field ${num}: expected a length-delimited field`);
    found = v.bytes;
  }
  return found;
}

/** Bytes that hold a nested object: JSON, or (rarely) a nested Kubernetes protobuf body. */
function rawJson(bytes: Buffer | undefined, where: string): unknown {
  if (!bytes || bytes.length === 0) return undefined;
  if (bytes.subarray(0, 4).equals(PROTOBUF_MAGIC)) return decodeProtobufBody(bytes);
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new ProtobufDecodeError(`${where}: embedded bytes are neither JSON nor Kubernetes protobuf`);
  }
}

const SPECIAL: Record<string, Special> = {
  // Zero time is JSON null upstream; leaving it out means the same to us.
  'meta/v1.Time': (buf) => {
    const { seconds, nanos } = timeParts(buf);
    return seconds === 0 && nanos === 0 ? undefined : rfc3339(seconds, '');
  },
  'meta/v1.MicroTime': (buf) => {
    const { seconds, nanos } = timeParts(buf);
    if (seconds === 0 && nanos === 0) return undefined;
    return rfc3339(seconds, '.' + String(Math.floor(nanos / 1000)).padStart(6, '0'));
  },
  'meta/v1.FieldsV1': (buf) => rawJson(bytesField(buf, 1), 'fieldsV1'),
  'runtime.RawExtension': (buf) => rawJson(bytesField(buf, 1), 'RawExtension'),
  'intstr.IntOrString': (buf, pointer) => {
    const o = decodeObject('intstr.IntOrString', buf);
    if (o.type === 1) return o.strVal ?? '';
    const n = (o.intVal as number | undefined) ?? 0;
    return n === 0 && !pointer ? undefined : n;
  },
  'resource.Quantity': (buf) => {
    const s = decodeObject('resource.Quantity', buf).string;
    return s === undefined || s === '' ? undefined : s;
  },
};
// Wrappers go-to-protobuf generates for nested slices; in JSON they are plain arrays.
for (const key of Object.keys(MESSAGES)) {
  if (key.endsWith('.ExtraValue')) SPECIAL[key] = (buf) => (decodeObject(key, buf).items as string[] | undefined) ?? [];
}

// ---- messages ----

function messageValue(key: string, buf: Buffer, pointer: boolean): unknown {
  const special = SPECIAL[key];
  return special ? special(buf, pointer) : decodeObject(key, buf);
}

/** Decodes one message into its JSON object; fields the table does not know are skipped. */
export function decodeObject(key: string, buf: Buffer): Record<string, unknown> {
  const desc = describe(key);
  const out: Record<string, unknown> = {};
  const inlined: Record<string, unknown>[] = [];
  for (const { field, v } of readFields(buf)) {
    const f = desc.fields.get(field);
    if (!f) continue;
    const where = `${key}.${f.name}`;
    if (f.map) {
      if (v.wire !== 2) throw new ProtobufDecodeError(`${where}: expected a map entry`);
      let k = '';
      let value: unknown = f.scalar ? zeroScalar(f.scalar) : undefined;
      let sawValue = false;
      for (const e of readFields(v.bytes)) {
        if (e.field === 1) k = scalarValue('s', e.v, where) as string;
        else if (e.field === 2) {
          sawValue = true;
          if (f.scalar) value = scalarValue(f.scalar, e.v, where);
          else if (e.v.wire === 2) value = messageValue(f.ref, e.v.bytes, true);
          else throw new ProtobufDecodeError(`${where}: expected a message value`);
        }
      }
      if (!sawValue && !f.scalar) value = messageValue(f.ref, Buffer.alloc(0), true);
      const m = (out[f.name] ??= {}) as Record<string, unknown>;
      if (value !== undefined) m[k] = value;
      continue;
    }
    let value: unknown;
    if (f.scalar) {
      if (f.repeated && v.wire === 2 && f.scalar !== 's' && f.scalar !== 'y') {
        ((out[f.name] ??= []) as unknown[]).push(...unpack(f.scalar, v.bytes, where));
        continue;
      }
      value = scalarValue(f.scalar, v, where);
    } else {
      if (v.wire !== 2) throw new ProtobufDecodeError(`${where}: expected an embedded message`);
      value = messageValue(f.ref, v.bytes, f.pointer || f.repeated);
    }
    if (f.repeated) {
      if (value !== undefined) ((out[f.name] ??= []) as unknown[]).push(value);
    } else if (f.inline) {
      if (value && typeof value === 'object') inlined.push(value as Record<string, unknown>);
    } else if (value === undefined || (!f.pointer && f.scalar && isZeroScalar(value))) {
      delete out[f.name];
    } else {
      out[f.name] = value;
    }
  }
  for (const o of inlined) Object.assign(out, o);
  return out;
}

// ---- the envelope ----

/** API group → the package prefix of its messages in descriptors.ts. */
const GROUP_PACKAGES: Record<string, string> = {
  '': 'core',
  apps: 'apps',
  policy: 'policy',
  'coordination.k8s.io': 'coordination',
  'storage.k8s.io': 'storage',
  'discovery.k8s.io': 'discovery',
  autoscaling: 'autoscaling',
  batch: 'batch',
  'rbac.authorization.k8s.io': 'rbac',
  'networking.k8s.io': 'networking',
  'scheduling.k8s.io': 'scheduling',
  'events.k8s.io': 'events',
  'node.k8s.io': 'node',
  'certificates.k8s.io': 'certificates',
  'authentication.k8s.io': 'authentication',
  'authorization.k8s.io': 'authorization',
};

/** Kinds from meta/v1 that clients send under any group's version (typed clients' Delete). */
const META_KINDS = new Set(['DeleteOptions']);

/** The table key of the message for apiVersion/kind, or undefined when we cannot decode it. */
export function messageKeyFor(apiVersion: string, kind: string): string | undefined {
  if (META_KINDS.has(kind)) return `meta/v1.${kind}`;
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = apiVersion.slice(slash + 1);
  const pkg = GROUP_PACKAGES[group];
  if (pkg === undefined || !/^[A-Z]\w*$/.test(kind)) return undefined;
  const key = `${pkg}/${version}.${kind}`;
  // Only whole objects (they carry ObjectMeta) are request bodies; parts like Container are not.
  if (!hasMessage(key) || !/(^| )metadata=1:meta\/v1\.ObjectMeta/.test(MESSAGES[key])) return undefined;
  return key;
}

/**
 * Decodes a Kubernetes protobuf request body ('k8s\0' + runtime.Unknown) into the object's JSON
 * form, with apiVersion and kind from the envelope. Throws UnsupportedProtobufKindError for kinds
 * we have no description of and ProtobufDecodeError for malformed bodies.
 */
export function decodeProtobufBody(buf: Buffer): Record<string, any> {
  if (buf.length < 4 || !buf.subarray(0, 4).equals(PROTOBUF_MAGIC)) {
    throw new ProtobufDecodeError('the body does not start with the Kubernetes protobuf prefix "k8s\\x00"');
  }
  // runtime.Unknown: 1 typeMeta {1 apiVersion, 2 kind}, 2 raw, 3 contentEncoding, 4 contentType.
  const body = buf.subarray(4);
  const typeMetaBytes = bytesField(body, 1);
  const typeMeta = typeMetaBytes ? decodeObject('runtime.TypeMeta', typeMetaBytes) : {};
  const apiVersion = (typeMeta.apiVersion as string | undefined) ?? '';
  const kind = (typeMeta.kind as string | undefined) ?? '';
  if (!kind) throw new ProtobufDecodeError('the protobuf envelope does not name a kind');
  const encoding = bytesField(body, 3)?.toString('utf8');
  if (encoding) throw new UnsupportedProtobufKindError(`protobuf bodies with content encoding "${encoding}" are not supported`);
  const contentType = bytesField(body, 4)?.toString('utf8');
  if (contentType && contentType !== 'application/vnd.kubernetes.protobuf') {
    throw new UnsupportedProtobufKindError(`protobuf envelope with inner content type "${contentType}" is not supported`);
  }
  const key = messageKeyFor(apiVersion, kind);
  if (!key) {
    throw new UnsupportedProtobufKindError(`${kind} in ${apiVersion || 'an unnamed apiVersion'} cannot be sent as application/vnd.kubernetes.protobuf to this server; send it as application/json`);
  }
  const raw = bytesField(body, 2) ?? Buffer.alloc(0);
  return { apiVersion, kind, ...decodeObject(key, raw) };
}
