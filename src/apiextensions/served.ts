// What serving a CustomResourceDefinition means for the rest of the server: one ResourceDef per
// served version (names from status.acceptedNames, the version's subresources, a strategy that
// defaults and validates by the version's schema, a table from its printer columns), and the
// component schemas that OpenAPI, `kubectl explain`, field validation and pruning read.
import type { Obj, ResourceDef, Strategy, SubresourceName, TableColumn, TableDef } from '../api/resource.ts';
import type { FieldError } from '../api/field-errors.ts';
import { components, defineComponents, type Schema } from '../api/schema.ts';
import { META } from '../api/schemas/helpers.ts';
import { nameIsDNSSubdomain } from '../api/validation/names.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from '../api/validation/objectmeta.ts';
import { deepEqual } from '../api/validation/fields.ts';
import { ApiError } from '../apiserver/errors.ts';
import { applyDefaults, validateValue } from './values.ts';
import type { JSONSchema } from './structural.ts';
import { jsonPathValues } from './jsonpath.ts';
import { humanDuration } from '../api/tables/age.ts';
import type { CelVerdict } from './cel/evaluate.ts';
import { hasRules } from './cel/has-rules.ts';
import { lazyModule } from '../util/lazy-module.ts';

// CEL (its parser, checker, planner, protobuf runtime and RE2) loads with the first CRD that has rules.
const celCompile = lazyModule<typeof import('./cel/compile.ts')>(import.meta.url, './cel/compile.ts');
const celEvaluate = lazyModule<typeof import('./cel/evaluate.ts')>(import.meta.url, './cel/evaluate.ts');

const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
const asArr = (v: unknown): Obj[] => (Array.isArray(v) ? v : []);

/** What the generic server needs to know beyond a built-in kind's ResourceDef. */
export interface CustomResourceInfo {
  crdName: string;
  /** The version objects are stored in; objects read through another version are relabelled (None conversion). */
  storageVersion: string;
  scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string };
  /** Creates are refused while the definition is being deleted. */
  terminating: boolean;
  /** The version's schema (structural), for validation and defaulting. */
  schema: JSONSchema;
}

/** '<reversed group>.<version>.<Kind>', the component name upstream publishes custom kinds under. */
export function componentName(group: string, version: string, kind: string): string {
  return `${group.split('.').reverse().join('.')}.${version}.${kind}`;
}

export function storageVersionOf(crd: Obj): string | undefined {
  return asArr(crd.spec?.versions).find((v) => v.storage)?.name;
}

export function hasCondition(crd: Obj, type: string): boolean {
  return asArr(crd.status?.conditions).some((c) => c.type === type && c.status === 'True');
}

/** The ResourceDefs of a definition's served versions (none until its names are accepted). */
export function resourcesForCrd(crd: Obj): ResourceDef[] {
  if (!hasCondition(crd, 'Established') && !hasCondition(crd, 'NamesAccepted')) return [];
  const spec = crd.spec;
  const names = crd.status?.acceptedNames ?? {};
  if (!names.plural || !names.kind) return [];
  const storageVersion = storageVersionOf(crd)!;
  const terminating = hasCondition(crd, 'Terminating');
  const out: ResourceDef[] = [];
  for (const v of asArr(spec.versions)) {
    if (!v.served) continue;
    const schema: JSONSchema = v.schema?.openAPIV3Schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
    const sub = isObj(v.subresources) ? v.subresources : {};
    const subresources: SubresourceName[] = [];
    if (isObj(sub.status)) subresources.push('status');
    if (isObj(sub.scale)) subresources.push('scale');
    const info: CustomResourceInfo = {
      crdName: crd.metadata.name,
      storageVersion,
      terminating,
      schema,
      scale: isObj(sub.scale) ? { specReplicasPath: sub.scale.specReplicasPath, statusReplicasPath: sub.scale.statusReplicasPath, labelSelectorPath: sub.scale.labelSelectorPath } : undefined,
    };
    const component = componentName(spec.group, v.name, names.kind);
    defineComponents(componentSchemas(component, spec.group, v.name, names.kind, names.listKind ?? `${names.kind}List`, schema));
    const gv = `${spec.group}/${v.name}`;
    out.push({
      group: spec.group,
      version: v.name,
      kind: names.kind,
      plural: names.plural,
      singular: names.singular ?? names.kind.toLowerCase(),
      namespaced: spec.scope === 'Namespaced',
      shortNames: names.shortNames ?? [],
      categories: names.categories ?? [],
      schema: component,
      subresources,
      strategy: customResourceStrategy(info, subresources.includes('status'), spec.scope === 'Namespaced'),
      table: tableForColumns(asArr(v.additionalPrinterColumns)),
      custom: info,
      listKind: names.listKind ?? `${names.kind}List`,
      // None conversion: the stored object is the same in every version but for its apiVersion.
      convert: v.name === storageVersion ? undefined : (obj: Obj) => (obj.apiVersion === gv ? obj : { ...obj, apiVersion: gv }),
      storageApiVersion: `${spec.group}/${storageVersion}`,
    });
  }
  return out;
}

/** Drops the component schemas a definition's resources published. */
export function forgetComponents(defs: ResourceDef[]): void {
  for (const r of defs) {
    delete components[r.schema];
    delete components[r.schema + 'List'];
  }
}

function componentSchemas(name: string, group: string, version: string, kind: string, listKind: string, schema: JSONSchema): Record<string, Schema> {
  const { properties = {}, ...rest } = schema;
  const { apiVersion: _a, kind: _k, metadata: _m, ...own } = properties as Record<string, JSONSchema>;
  const gvk = { group, version, kind };
  const root = {
    ...rest,
    type: 'object',
    properties: {
      apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
      kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
      metadata: { allOf: [{ $ref: `#/components/schemas/${META}ObjectMeta` }], description: 'Standard object\'s metadata.' },
      ...embeddedMeta(own),
    },
    'x-kubernetes-group-version-kind': [gvk],
  } as Schema;
  const list: Schema = {
    type: 'object',
    description: `${listKind} is a list of ${kind}`,
    required: ['items'],
    properties: {
      apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
      items: { type: 'array', description: `List of ${kind.toLowerCase()}s.`, items: { $ref: `#/components/schemas/${name}` } },
      kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
      metadata: { allOf: [{ $ref: `#/components/schemas/${META}ListMeta` }], description: 'Standard list metadata.' },
    },
    'x-kubernetes-group-version-kind': [{ ...gvk, kind: listKind }],
  };
  return { [name]: root, [name + 'List']: list };
}

/** Embedded objects always keep apiVersion, kind and metadata, as upstream's pruning does. */
function embeddedMeta(props: Record<string, JSONSchema>): Record<string, Schema> {
  const walk = (s: JSONSchema): JSONSchema => {
    if (!isObj(s)) return s;
    const out: JSONSchema = { ...s };
    if (isObj(s.properties)) {
      out.properties = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, walk(v as JSONSchema)]));
      if (s['x-kubernetes-embedded-resource']) {
        out.properties = { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }, ...out.properties };
      }
    }
    if (isObj(s.items)) out.items = walk(s.items);
    if (isObj(s.additionalProperties)) out.additionalProperties = walk(s.additionalProperties);
    return out;
  };
  return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, walk(v) as Schema]));
}

const BLOCKING = new Set(['FieldValueNotSupported', 'FieldValueRequired', 'FieldValueTooLong', 'FieldValueTooMany', 'FieldValueTypeInvalid']);
const RULES_NOT_CHECKED: FieldError = { type: 'FieldValueInvalid', field: '<nil>', badValue: 'null', detail: 'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation' };

/** Upstream's custom resource strategy: schema defaulting and validation, status and generation rules. */
function customResourceStrategy(info: CustomResourceInfo, hasStatus: boolean, namespaced: boolean): Strategy {
  const schemaErrors = (obj: Obj): FieldError[] => {
    const errs: FieldError[] = [];
    // metadata is ObjectMeta (validated below); the schema only restricts the other fields.
    const { metadata: _m, ...rest } = obj;
    const { properties = {}, ...root } = info.schema;
    const { metadata: _pm, ...props } = properties as Record<string, JSONSchema>;
    validateValue(rest, { ...root, properties: props }, '', errs);
    return errs;
  };
  // The verdict is kept for warnings(), which the server asks for right after validation (ratcheted failures).
  const verdicts = new WeakMap<Obj, CelVerdict>();
  const ruled = hasRules(info.schema);
  const validator = () => (ruled ? celCompile().validatorFor(info.schema) : undefined);
  const ruleErrors = (obj: Obj, old?: Obj): FieldError[] => {
    const v = validator();
    if (!v) return [];
    const verdict = celEvaluate().validateWithRules(v, obj, old);
    verdicts.set(obj, verdict);
    return verdict.errors;
  };
  // As upstream: a type, enum, required or size violation means the object lacks the shape the rules were
  // checked against, so they are not run, and a cause without a field says so.
  const withRules = (errs: FieldError[], obj: Obj, old?: Obj): FieldError[] => {
    if (!errs.some((e) => BLOCKING.has(e.type))) return [...errs, ...ruleErrors(obj, old)];
    return validator() ? [...errs, RULES_NOT_CHECKED] : errs;
  };
  const meta = (obj: Obj) => validateObjectMeta(obj.metadata, { namespaced, nameFn: nameIsDNSSubdomain });
  return {
    default(obj) {
      applyDefaults(obj, info.schema);
    },
    prepareForCreate(obj) {
      if (info.terminating) throw new ApiError(405, 'MethodNotAllowed', 'create not allowed while custom resource definition is terminating');
      if (hasStatus) delete obj.status;
      obj.metadata.generation = 1;
    },
    prepareForUpdate(obj, old) {
      if (hasStatus) {
        if (old.status === undefined) delete obj.status;
        else obj.status = old.status;
      }
      // Any change but metadata (and status, when it has its own subresource) is a new generation.
      const gen = old.metadata?.generation ?? 0;
      const strip = (o: Obj) => {
        const { metadata: _m, status: _s, ...rest } = o;
        return hasStatus ? rest : { ...rest, status: o.status };
      };
      obj.metadata.generation = deepEqual(strip(obj), strip(old)) ? gen : gen + 1;
    },
    validate(obj) {
      return withRules([...meta(obj), ...schemaErrors(obj)], obj);
    },
    validateUpdate(obj, old) {
      return withRules([...validateObjectMetaUpdate(obj.metadata, old.metadata), ...schemaErrors(obj)], obj, old);
    },
    validateStatusUpdate(obj, old) {
      return withRules([...validateObjectMetaUpdate(obj.metadata, old.metadata), ...schemaErrors(obj)], obj, old);
    },
    warnings(obj) {
      return verdicts.get(obj)?.warnings ?? [];
    },
  };
}

const NAME_COLUMN: TableColumn = { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names', priority: 0 };
const AGE_COLUMN: Obj = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata' };

/** The server-side table of a version: Name, then its printer columns (or Age when it has none). */
export function tableForColumns(printerColumns: Obj[]): TableDef {
  const cols: Obj[] = printerColumns.length ? printerColumns : [AGE_COLUMN];
  const columns: TableColumn[] = [NAME_COLUMN, ...cols.map((c) => ({
    name: c.name,
    type: c.type,
    ...(c.format ? { format: c.format } : {}),
    description: c.description ?? '',
    priority: c.priority ?? 0,
  }))];
  return {
    columns,
    cells: (obj, now) => [obj.metadata?.name ?? '', ...cols.map((c) => cell(c.type, jsonPathValues(c.jsonPath, obj), now))],
  };
}

function cell(type: string, values: unknown[], now: number): string | number | boolean | null {
  if (!values.length || values[0] === undefined || values[0] === null) return null;
  const v = values[0];
  switch (type) {
    case 'string':
      return typeof v === 'string' ? v : goPrint(v);
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v) ? v : null;
    case 'number':
      return typeof v === 'number' ? v : null;
    case 'boolean':
      return typeof v === 'boolean' ? v : null;
    case 'date':
      // Upstream's convertor shows dates as the time since, like AGE.
      if (typeof v !== 'string') return null;
      return Number.isNaN(Date.parse(v)) ? '<invalid>' : humanDuration(now - Date.parse(v));
  }
  return null;
}

/** How Go's fmt prints decoded JSON, which is what upstream's string cells show for non-strings. */
function goPrint(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(goPrint).join(' ')}]`;
  if (isObj(v)) return `map[${Object.keys(v).sort().map((k) => `${k}:${goPrint(v[k])}`).join(' ')}]`;
  if (v === null || v === undefined) return '<nil>';
  return String(v);
}
