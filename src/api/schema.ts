// API types are described once, as OpenAPI v3 schemas. The same schemas drive the OpenAPI
// documents (kubectl explain, kubectl's field-validation probe), unknown-field detection,
// and the strategic-merge-patch metadata (merge keys and strategies).

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface Schema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  additionalProperties?: Schema | boolean;
  /** '#/components/schemas/<component name>' */
  $ref?: string;
  /** Upstream wraps a $ref in allOf when it adds a description or default beside it. */
  allOf?: Schema[];
  default?: unknown;
  enum?: unknown[];
  'x-kubernetes-patch-merge-key'?: string;
  /** 'merge', 'retainKeys', 'merge,retainKeys' or 'replace' */
  'x-kubernetes-patch-strategy'?: string;
  'x-kubernetes-list-type'?: 'atomic' | 'map' | 'set';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-group-version-kind'?: GroupVersionKind[];
}

/** Component schemas by upstream definition name, e.g. 'io.k8s.api.apps.v1.StatefulSet'. */
export const components: Record<string, Schema> = {};

export function defineComponents(defs: Record<string, Schema>): void {
  Object.assign(components, defs);
}

export function ref(name: string): Schema {
  return { $ref: `#/components/schemas/${name}` };
}

/** Follows $ref and single-element allOf wrappers to the schema that describes the value. */
export function resolveSchema(schema: Schema | undefined): Schema | undefined {
  let s = schema;
  for (let i = 0; s && i < 16; i++) {
    if (s.$ref) s = components[s.$ref.slice('#/components/schemas/'.length)];
    else if (s.allOf && s.allOf.length === 1) s = s.allOf[0];
    else return s;
  }
  return s;
}
