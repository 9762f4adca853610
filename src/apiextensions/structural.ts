// The structural-schema rules a CRD's openAPIV3Schema must follow (upstream's
// apiextensions-apiserver pkg/apiserver/schema ValidateStructural), with upstream's messages:
// every field has a type, metadata may only restrict name and generateName, value validations
// under anyOf/allOf/oneOf/not may not introduce types, defaults or extensions.
import type { FieldError } from '../api/field-errors.ts';
import { forbidden, invalid, required } from '../api/field-errors.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JSONSchema = Record<string, any>;

type Level = 'root' | 'item' | 'field';

const isObj = (v: unknown): v is JSONSchema => !!v && typeof v === 'object' && !Array.isArray(v);
const key = (path: string, k: string) => `${path}[${k}]`;

/** Errors of a version's schema at `path` (e.g. spec.versions[0].schema.openAPIV3Schema), sorted as upstream sorts them. */
export function validateStructural(schema: JSONSchema, path: string): FieldError[] {
  const errs: FieldError[] = [];
  invariants(schema, 'root', path, errs);
  errs.push(...forbiddenKeywords(schema, path));
  return errs.sort((a, b) => (errText(a) < errText(b) ? -1 : errText(a) > errText(b) ? 1 : 0));
}

function errText(e: FieldError): string {
  return `${e.field}: ${e.type} ${e.detail ?? ''}`;
}

function invariants(s: JSONSchema, lvl: Level, path: string, errs: FieldError[]): void {
  if (s.type === 'array' && !isObj(s.items)) errs.push(required(`${path}.items`, 'must be specified'));
  if (isObj(s.items)) invariants(s.items, 'item', `${path}.items`, errs);
  for (const [k, v] of Object.entries(isObj(s.properties) ? s.properties : {})) {
    if (isObj(v)) invariants(v, 'field', key(`${path}.properties`, k), errs);
  }
  if (isObj(s.additionalProperties)) {
    if (lvl === 'root') errs.push(forbidden(`${path}.additionalProperties`, 'must not be used at the root'));
    invariants(s.additionalProperties, 'field', `${path}.additionalProperties`, errs);
  } else if (s.additionalProperties !== undefined && lvl === 'root') {
    errs.push(forbidden(`${path}.additionalProperties`, 'must not be used at the root'));
  }
  const intOrString = s['x-kubernetes-int-or-string'] === true;
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  const embedded = s['x-kubernetes-embedded-resource'] === true;
  if (intOrString && preserve) errs.push(invalid(`${path}.x-kubernetes-preserve-unknown-fields`, true, 'must be false if x-kubernetes-int-or-string is true'));
  if (intOrString && embedded) errs.push(invalid(`${path}.x-kubernetes-embedded-resource`, true, 'must be false if x-kubernetes-int-or-string is true'));

  const skipAnyOf = intOrString && isIntOrStringAnyOf(s.anyOf);
  const skipFirstAllOfAnyOf = intOrString && Array.isArray(s.allOf) && isObj(s.allOf[0]) && isIntOrStringAnyOf(s.allOf[0].anyOf);
  valueValidation(s, skipAnyOf, skipFirstAllOfAnyOf, path, errs);

  if (embedded && s.type !== 'object') {
    if (!s.type) errs.push(required(`${path}.type`, 'must be object if x-kubernetes-embedded-resource is true'));
    else errs.push(invalid(`${path}.type`, s.type, 'must be object if x-kubernetes-embedded-resource is true'));
  } else if (!s.type && !intOrString && !preserve) {
    const detail = lvl === 'root' ? 'must not be empty at the root' : lvl === 'item' ? 'must not be empty for specified array items' : 'must not be empty for specified object fields';
    errs.push(required(`${path}.type`, detail));
  }
  if (embedded && s.additionalProperties !== undefined) errs.push(forbidden(`${path}.additionalProperties`, 'must not be used if x-kubernetes-embedded-resource is set'));
  if (lvl === 'root' && s.type && s.type !== 'object') errs.push(invalid(`${path}.type`, s.type, 'must be object at the root'));

  const checkMetadata = lvl === 'root' || embedded;
  const p = isObj(s.properties) ? s.properties : {};
  if (checkMetadata && isObj(p.kind) && p.kind.type !== 'string') errs.push(invalid(`${key(`${path}.properties`, 'kind')}.type`, p.kind.type ?? '', 'must be string'));
  if (checkMetadata && isObj(p.apiVersion) && p.apiVersion.type !== 'string') errs.push(invalid(`${key(`${path}.properties`, 'apiVersion')}.type`, p.apiVersion.type ?? '', 'must be string'));
  if (checkMetadata && isObj(p.metadata) && p.metadata.type !== 'object') errs.push(invalid(`${key(`${path}.properties`, 'metadata')}.type`, p.metadata.type ?? '', 'must be object'));
  if (lvl === 'root' && isObj(p.metadata) && !metadataOnlyNames(p.metadata)) {
    errs.push(forbidden(key(`${path}.properties`, 'metadata'), 'must not specify anything other than name and generateName, but metadata is implicitly specified'));
  }
  if (embedded && !preserve && Object.keys(p).length === 0) {
    errs.push(required(`${path}.properties`, 'must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields'));
  }
}

/** Root metadata may say it is an object, describe itself and restrict name and generateName: nothing else. */
function metadataOnlyNames(m: JSONSchema): boolean {
  for (const k of Object.keys(m)) {
    if (k === 'type' || k === 'description') continue;
    if (k === 'properties' && isObj(m.properties) && Object.keys(m.properties).every((n) => n === 'name' || n === 'generateName')) continue;
    return false;
  }
  return true;
}

function isIntOrStringAnyOf(anyOf: unknown): boolean {
  return Array.isArray(anyOf) && anyOf.length === 2 && isObj(anyOf[0]) && isObj(anyOf[1]) &&
    Object.keys(anyOf[0]).length === 1 && anyOf[0].type === 'integer' && Object.keys(anyOf[1]).length === 1 && anyOf[1].type === 'string';
}

function valueValidation(s: JSONSchema, skipAnyOf: boolean, skipFirstAllOfAnyOf: boolean, path: string, errs: FieldError[]): void {
  if (!skipAnyOf && Array.isArray(s.anyOf)) s.anyOf.forEach((v: unknown, i: number) => nested(v, false, `${path}.anyOf[${i}]`, errs));
  if (Array.isArray(s.allOf)) s.allOf.forEach((v: unknown, i: number) => nested(v, skipFirstAllOfAnyOf && i === 0, `${path}.allOf[${i}]`, errs));
  if (Array.isArray(s.oneOf)) s.oneOf.forEach((v: unknown, i: number) => nested(v, false, `${path}.oneOf[${i}]`, errs));
  if (s.not !== undefined) nested(s.not, false, `${path}.not`, errs);
  if (typeof s.pattern === 'string') {
    try {
      new RegExp(s.pattern, 'u');
    } catch (e) {
      errs.push(invalid(`${path}.pattern`, s.pattern, `must be a valid regular expression, but isn't: ${(e as Error).message}`));
    }
  }
}

/** A schema under a logic junctor: it may only constrain values, never declare structure. */
function nested(v: unknown, skipAnyOf: boolean, path: string, errs: FieldError[]): void {
  if (!isObj(v)) return;
  valueValidation(v, skipAnyOf, false, path, errs);
  if (v.items !== undefined) nested(v.items, false, `${path}.items`, errs);
  for (const [k, p] of Object.entries(isObj(v.properties) ? v.properties : {})) nested(p, false, key(`${path}.properties`, k), errs);
  if (v.type) errs.push(forbidden(`${path}.type`, 'must be empty to be structural'));
  if (v.additionalProperties !== undefined) errs.push(forbidden(`${path}.additionalProperties`, 'must be undefined to be structural'));
  if (v.default !== undefined) errs.push(forbidden(`${path}.default`, 'must be undefined to be structural'));
  if (v.title) errs.push(forbidden(`${path}.title`, 'must be empty to be structural'));
  if (v.description) errs.push(forbidden(`${path}.description`, 'must be empty to be structural'));
  if (v.nullable) errs.push(forbidden(`${path}.nullable`, 'must be false to be structural'));
  if (v['x-kubernetes-preserve-unknown-fields']) errs.push(forbidden(`${path}.x-kubernetes-preserve-unknown-fields`, 'must be false to be structural'));
  if (v['x-kubernetes-embedded-resource']) errs.push(forbidden(`${path}.x-kubernetes-embedded-resource`, 'must be false to be structural'));
  if (v['x-kubernetes-int-or-string']) errs.push(forbidden(`${path}.x-kubernetes-int-or-string`, 'must be false to be structural'));
  if (Array.isArray(v['x-kubernetes-list-map-keys']) && v['x-kubernetes-list-map-keys'].length) errs.push(forbidden(`${path}.x-kubernetes-list-map-keys`, 'must be empty to be structural'));
  if (v['x-kubernetes-list-type'] !== undefined) errs.push(forbidden(`${path}.x-kubernetes-list-type`, 'must be undefined to be structural'));
  if (isObj(v.properties) && 'metadata' in v.properties) errs.push(forbidden(key(`${path}.properties`, 'metadata'), 'must not be specified in a nested context'));
}

/** Keywords a CRD schema may not use anywhere (upstream's API validation of JSONSchemaProps). */
function forbiddenKeywords(s: JSONSchema, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const visit = (n: unknown, p: string): void => {
    if (!isObj(n)) return;
    if (n.uniqueItems === true) errs.push(forbidden(`${p}.uniqueItems`, 'uniqueItems cannot be set to true since the runtime complexity becomes quadratic'));
    if (n.$ref !== undefined) errs.push(forbidden(`${p}.$ref`, '$ref is not supported'));
    if (n.patternProperties !== undefined) errs.push(forbidden(`${p}.patternProperties`, 'patternProperties is not supported'));
    if (n.definitions !== undefined) errs.push(forbidden(`${p}.definitions`, 'definitions is not supported'));
    if (n.dependencies !== undefined) errs.push(forbidden(`${p}.dependencies`, 'dependencies is not supported'));
    if (n.additionalItems !== undefined) errs.push(forbidden(`${p}.additionalItems`, 'additionalItems is not supported'));
    if (n.additionalProperties !== undefined && isObj(n.properties) && Object.keys(n.properties).length &&
      (n.additionalProperties === false || isObj(n.additionalProperties))) {
      errs.push(forbidden(`${p}.additionalProperties`, 'additionalProperties and properties are mutual exclusive'));
    }
    const lt = n['x-kubernetes-list-type'];
    if (lt !== undefined && !['atomic', 'set', 'map'].includes(lt)) errs.push({ type: 'FieldValueNotSupported', field: `${p}.x-kubernetes-list-type`, badValue: lt, supported: ['atomic', 'set', 'map'] });
    if (lt !== undefined && n.type !== 'array') errs.push(invalid(`${p}.type`, n.type ?? '', 'must be array if x-kubernetes-list-type is specified'));
    if (lt === 'map' && !(Array.isArray(n['x-kubernetes-list-map-keys']) && n['x-kubernetes-list-map-keys'].length)) {
      errs.push(required(`${p}.x-kubernetes-list-map-keys`, 'must not be empty if x-kubernetes-list-type is map'));
    }
    if (n['x-kubernetes-list-map-keys'] !== undefined && lt !== 'map') errs.push(forbidden(`${p}.x-kubernetes-list-type`, 'must be map if x-kubernetes-list-map-keys is non-empty'));
    if (isObj(n.items)) visit(n.items, `${p}.items`);
    if (isObj(n.additionalProperties)) visit(n.additionalProperties, `${p}.additionalProperties`);
    for (const [k, v] of Object.entries(isObj(n.properties) ? n.properties : {})) visit(v, key(`${p}.properties`, k));
    for (const j of ['allOf', 'anyOf', 'oneOf'] as const) if (Array.isArray(n[j])) n[j].forEach((v: unknown, i: number) => visit(v, `${p}.${j}[${i}]`));
    if (n.not !== undefined) visit(n.not, `${p}.not`);
  };
  visit(s, path);
  return errs;
}
