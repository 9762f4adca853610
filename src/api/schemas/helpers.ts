// Small builders that keep the component definitions readable. They produce the same shapes
// upstream's OpenAPI v3 documents use: a $ref that needs a description beside it is wrapped in
// allOf, maps of strings carry `default: ''` items, and list/map/patch metadata sits on the
// property schema (not on the referenced type), which is where kubectl's patch logic reads it.
import { ref } from '../schema.ts';
import type { GroupVersionKind, Schema } from '../schema.ts';

export const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
export const CORE = 'io.k8s.api.core.v1.';
export const APPS = 'io.k8s.api.apps.v1.';
export const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
export const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
export const TIME = META + 'Time';
export const MICRO_TIME = META + 'MicroTime';

type Extra = Partial<Schema>;

export function str(description: string, extra?: Extra): Schema {
  return { type: 'string', description, ...extra };
}

/** A string field whose allowed values upstream publishes as an enum. */
export function strEnum(description: string, values: string[], extra?: Extra): Schema {
  return { type: 'string', description, enum: values, ...extra };
}

export function int32(description: string, extra?: Extra): Schema {
  return { type: 'integer', format: 'int32', description, ...extra };
}

export function int64(description: string, extra?: Extra): Schema {
  return { type: 'integer', format: 'int64', description, ...extra };
}

export function bool(description: string, extra?: Extra): Schema {
  return { type: 'boolean', description, ...extra };
}

export function bytes(description: string, extra?: Extra): Schema {
  return { type: 'string', format: 'byte', description, ...extra };
}

/** A field holding another component; described fields use allOf like upstream v3. */
export function refTo(name: string, description?: string, extra?: Extra): Schema {
  if (!description && !extra) return ref(name);
  return { allOf: [ref(name)], ...(description ? { description } : {}), ...extra };
}

export function time(description: string, extra?: Extra): Schema {
  return refTo(TIME, description, extra);
}

export function quantity(description: string, extra?: Extra): Schema {
  return refTo(QUANTITY, description, extra);
}

export function intOrString(description: string, extra?: Extra): Schema {
  return refTo(INT_OR_STRING, description, extra);
}

export function arr(items: Schema, description: string, extra?: Extra): Schema {
  return { type: 'array', description, items, ...extra };
}

/** Array of components; items carry `default: {}` as upstream does for non-pointer structs. */
export function arrOf(name: string, description: string, extra?: Extra): Schema {
  return arr({ allOf: [ref(name)], default: {} }, description, extra);
}

export function strings(description: string, extra?: Extra): Schema {
  return arr({ type: 'string', default: '' }, description, extra);
}

export function strMap(description: string, extra?: Extra): Schema {
  return { type: 'object', description, additionalProperties: { type: 'string', default: '' }, ...extra };
}

export function quantityMap(description: string, extra?: Extra): Schema {
  return { type: 'object', description, additionalProperties: ref(QUANTITY), ...extra };
}

export function obj(description: string, properties: Record<string, Schema>, extra?: Extra): Schema {
  return { type: 'object', description, properties, ...extra };
}

// List/map/patch metadata, spread into a property schema.
export const atomic: Extra = { 'x-kubernetes-list-type': 'atomic' };
export const set: Extra = { 'x-kubernetes-list-type': 'set' };
export const atomicStruct: Extra = { 'x-kubernetes-map-type': 'atomic' };

/** A list-type map keyed by `keys`; with `mergeKey`, also a strategic-merge list. */
export function mapList(keys: string[], mergeKey?: string, strategy = 'merge'): Extra {
  const e: Extra = { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': keys };
  if (mergeKey) {
    e['x-kubernetes-patch-merge-key'] = mergeKey;
    e['x-kubernetes-patch-strategy'] = strategy;
  }
  return e;
}

/** Conditions lists: merged by `type` both by strategic merge and by server-side apply. */
export const conditionsList: Extra = mapList(['type'], 'type');

export function gvk(group: string, version: string, kind: string): GroupVersionKind {
  return { group, version, kind };
}

const API_VERSION_DESC =
  'The versioned schema this object is written in, as group/version (just the version for the core group). Servers convert recognised older versions and may reject unknown ones.';
const KIND_DESC =
  'The REST kind of this object, in CamelCase. Servers may infer it from the endpoint the request was sent to. Cannot be updated.';

/** The apiVersion and kind fields every top-level object and list carries. */
export function typeMeta(): Record<string, Schema> {
  return { apiVersion: str(API_VERSION_DESC), kind: str(KIND_DESC) };
}

/**
 * A top-level kind: apiVersion, kind and metadata followed by its own fields, tagged with its
 * group/version/kind so that clients can find it among the components.
 */
export function kindSchema(
  description: string,
  g: GroupVersionKind,
  properties: Record<string, Schema>,
  extra?: Extra,
): Schema {
  return {
    type: 'object',
    description,
    properties: {
      ...typeMeta(),
      metadata: refTo(META + 'ObjectMeta', "Standard object metadata: name, namespace, labels, annotations, owners and the fields the system maintains.", { default: {} }),
      ...properties,
    },
    ...extra,
    'x-kubernetes-group-version-kind': [g],
  };
}

/** The `<Kind>List` schema for a kind component. */
export function listSchema(itemComponent: string, g: GroupVersionKind, what: string): Schema {
  return {
    type: 'object',
    description: `A list of ${what}.`,
    required: ['items'],
    properties: {
      ...typeMeta(),
      items: arrOf(itemComponent, `The ${what} in this list.`),
      metadata: refTo(META + 'ListMeta', 'Standard list metadata: the resourceVersion the list was read at and the continue token for paging.', { default: {} }),
    },
    'x-kubernetes-group-version-kind': [{ group: g.group, version: g.version, kind: g.kind + 'List' }],
  };
}

/** The kind component plus its List component, both named after the upstream definition. */
export function kindWithList(
  component: string,
  description: string,
  g: GroupVersionKind,
  properties: Record<string, Schema>,
  what: string,
  extra?: Extra,
): Record<string, Schema> {
  return {
    [component]: kindSchema(description, g, properties, extra),
    [component + 'List']: listSchema(component, g, what),
  };
}
