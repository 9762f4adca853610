// The CEL types a structural schema declares (upstream's SchemaDeclType): what the checker knows
// about `self` and `oldSelf` before any object exists, so that a rule naming a field the schema
// does not have, or comparing a string with an int, is refused when the CRD is written.
import type { JSONSchema } from '../structural.ts';

export type CelT =
  | { k: 'int' | 'uint' | 'double' | 'string' | 'bool' | 'bytes' | 'null_type' | 'dyn' | 'type' | 'timestamp' | 'duration' | 'quantity' }
  | { k: 'list'; elem: CelT }
  | { k: 'map'; key: CelT; value: CelT }
  /** optional_type(T): `oldSelf` of a rule with optionalOldSelf. */
  | { k: 'optional'; elem: CelT }
  | { k: 'object'; name: string; fields: () => Map<string, CelT> }
  /** A type parameter of an overload signature (A in `list(A).size()`). */
  | { k: 'param'; n: string };

const isObj = (v: unknown): v is JSONSchema => !!v && typeof v === 'object' && !Array.isArray(v);

export const T = {
  int: { k: 'int' } as CelT,
  uint: { k: 'uint' } as CelT,
  double: { k: 'double' } as CelT,
  string: { k: 'string' } as CelT,
  bool: { k: 'bool' } as CelT,
  bytes: { k: 'bytes' } as CelT,
  null: { k: 'null_type' } as CelT,
  dyn: { k: 'dyn' } as CelT,
  type: { k: 'type' } as CelT,
  timestamp: { k: 'timestamp' } as CelT,
  duration: { k: 'duration' } as CelT,
  quantity: { k: 'quantity' } as CelT,
  list: (elem: CelT): CelT => ({ k: 'list', elem }),
  map: (key: CelT, value: CelT): CelT => ({ k: 'map', key, value }),
  optional: (elem: CelT): CelT => ({ k: 'optional', elem }),
  param: (n: string): CelT => ({ k: 'param', n }),
};

/** How cel-go prints a type in its messages: int, list(string), map(string, int). */
export function typeName(t: CelT): string {
  switch (t.k) {
    case 'list':
      return `list(${typeName(t.elem)})`;
    case 'map':
      return `map(${typeName(t.key)}, ${typeName(t.value)})`;
    case 'optional':
      return `optional_type(${typeName(t.elem)})`;
    case 'object':
      return t.name;
    case 'param':
      return t.n;
    case 'quantity':
      return 'kubernetes.Quantity';
    case 'timestamp':
      return 'google.protobuf.Timestamp';
    case 'duration':
      return 'google.protobuf.Duration';
  }
  return t.k;
}

// Property names that are CEL keywords, or that hold characters CEL identifiers cannot, are reachable
// only under upstream's escaped names (`__dash__`, `__dot__`, `__slash__`, `__underscores__`, `__in__`).
const RESERVED = new Set(['true', 'false', 'null', 'in', 'as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if', 'import', 'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while']);

/** The CEL name of a property, or undefined when upstream cannot escape it (then it is not reachable by field selection). */
export function escapeName(name: string): string | undefined {
  if (RESERVED.has(name)) return `__${name}__`;
  if (!/^[_a-zA-Z][-._a-zA-Z0-9/]*$/.test(name)) return undefined;
  let out = '';
  for (let i = 0; i < name.length; i++) {
    if (name.startsWith('__', i)) {
      out += '__underscores__';
      i++;
    } else if (name[i] === '.') out += '__dot__';
    else if (name[i] === '-') out += '__dash__';
    else if (name[i] === '/') out += '__slash__';
    else out += name[i];
  }
  return out;
}

/** The property name behind an escaped CEL field name. */
export function unescapeName(name: string): string {
  if (/^__[a-z]+__$/.test(name) && RESERVED.has(name.slice(2, -2))) return name.slice(2, -2);
  return name.replaceAll('__underscores__', '__').replaceAll('__dot__', '.').replaceAll('__dash__', '-').replaceAll('__slash__', '/');
}

/** The declared CEL type of a schema node; `root` adds apiVersion, kind and metadata.name/generateName, as upstream. */
export function schemaType(s: JSONSchema | undefined, root = false, name = 'object'): CelT {
  if (!isObj(s)) return T.dyn;
  if (s['x-kubernetes-int-or-string']) return T.dyn;
  const embedded = s['x-kubernetes-embedded-resource'] === true;
  switch (s.type) {
    case 'integer':
      return T.int;
    case 'number':
      return T.double;
    case 'boolean':
      return T.bool;
    case 'string':
      // As upstream, formatted strings are typed values in rules: `self.expires > timestamp('...')`.
      if (s.format === 'date' || s.format === 'date-time') return T.timestamp;
      if (s.format === 'duration') return T.duration;
      if (s.format === 'byte') return T.bytes;
      return T.string;
    case 'array':
      return T.list(schemaType(s.items, s.items?.['x-kubernetes-embedded-resource'] === true, `${name}.@idx`));
    case 'object':
      if (isObj(s.additionalProperties)) return T.map(T.string, schemaType(s.additionalProperties, s.additionalProperties['x-kubernetes-embedded-resource'] === true, `${name}.@elem`));
      // As upstream, x-kubernetes-preserve-unknown-fields is ignored: fields the schema does not declare are not reachable.
      return objectType(s, root || embedded, name);
  }
  return T.dyn;
}

function objectType(s: JSONSchema, resourceRoot: boolean, name: string): CelT {
  let fields: Map<string, CelT> | undefined;
  return {
    k: 'object',
    name,
    fields: () => {
      if (fields) return fields;
      fields = new Map();
      const props: Record<string, JSONSchema> = isObj(s.properties) ? s.properties : {};
      for (const [k, p] of Object.entries(props)) {
        const esc = escapeName(k);
        if (esc && !(resourceRoot && k === 'metadata')) fields.set(esc, schemaType(p, p?.['x-kubernetes-embedded-resource'] === true, `${name}.${k}`));
      }
      if (resourceRoot) {
        fields.set('apiVersion', T.string);
        fields.set('kind', T.string);
        const metaFields = new Map<string, CelT>([['name', T.string], ['generateName', T.string]]);
        fields.set('metadata', { k: 'object', name: `${name}.metadata`, fields: () => metaFields });
      }
      return fields;
    },
  };
}
