// Validation of CustomResourceDefinitions themselves (upstream's apiextensions validation), with
// upstream's field paths and messages. Pure: the strategy calls it on create and update.
import type { FieldError } from '../api/field-errors.ts';
import { forbidden, invalid, notSupported, required } from '../api/field-errors.ts';
import type { Obj } from '../api/resource.ts';
import { isDNS1035Label, isDNS1123Subdomain, nameIsDNSSubdomain } from '../api/validation/names.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from '../api/validation/objectmeta.ts';
import { invalidRendered, validateImmutableField } from '../api/validation/fields.ts';
import { validateStructural, type JSONSchema } from './structural.ts';
import { validateValue } from './values.ts';
import { parseJsonPath } from './jsonpath.ts';
import { hasRules } from './cel/has-rules.ts';
import { lazyModule } from '../util/lazy-module.ts';

// CEL loads with the first CRD that has rules to compile (see served.ts).
const crdRules = lazyModule<typeof import('./cel/crd-rules.ts')>(import.meta.url, './cel/crd-rules.ts');

type Errs = FieldError[];
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
const asArr = (v: unknown): Obj[] => (Array.isArray(v) ? v : []);

export const COLUMN_TYPES = ['boolean', 'date', 'integer', 'number', 'string'];
export const COLUMN_FORMATS = ['byte', 'date', 'date-time', 'double', 'float', 'int32', 'int64', 'password'];

export function validateCrd(crd: Obj): Errs {
  const spec = isObj(crd.spec) ? crd.spec : {};
  const names = isObj(spec.names) ? spec.names : {};
  const requiredName = `${names.plural ?? ''}.${spec.group ?? ''}`;
  const errs = validateObjectMeta(crd.metadata, {
    namespaced: false,
    nameFn: (name, prefix) => {
      const out = nameIsDNSSubdomain(name, prefix);
      if (name !== requiredName) out.push('must be spec.names.plural+"."+spec.group');
      return out;
    },
  });
  errs.push(...validateSpec(spec), ...validateStatus(crd.status));
  return errs;
}

export function validateCrdUpdate(crd: Obj, old: Obj): Errs {
  const errs = validateObjectMetaUpdate(crd.metadata, old.metadata);
  const spec = isObj(crd.spec) ? crd.spec : {};
  const oldSpec = isObj(old.spec) ? old.spec : {};
  errs.push(...validateSpec(spec));
  if (isEstablished(old)) {
    errs.push(...validateImmutableField(spec.scope, oldSpec.scope, 'spec.scope'));
    errs.push(...validateImmutableField(spec.names?.kind, oldSpec.names?.kind, 'spec.names.kind'));
  }
  errs.push(...validateImmutableField(spec.group, oldSpec.group, 'spec.group'));
  errs.push(...validateImmutableField(spec.names?.plural, oldSpec.names?.plural, 'spec.names.plural'));
  errs.push(...validateStatus(crd.status));
  errs.push(...validateStoredVersions(crd));
  return errs;
}

export function validateCrdStatusUpdate(crd: Obj, old: Obj): Errs {
  return [...validateObjectMetaUpdate(crd.metadata, old.metadata), ...validateStatus(crd.status), ...validateStoredVersions(crd)];
}

export function isEstablished(crd: Obj): boolean {
  return asArr(crd.status?.conditions).some((c) => c.type === 'Established' && c.status === 'True');
}

function validateStoredVersions(crd: Obj): Errs {
  const versions = new Set(asArr(crd.spec?.versions).map((v) => v.name));
  const errs: Errs = [];
  const stored: unknown[] = Array.isArray(crd.status?.storedVersions) ? crd.status.storedVersions : [];
  stored.forEach((v, i) => {
    if (!versions.has(v)) errs.push(invalid(`status.storedVersions[${i}]`, v, 'must appear in spec.versions'));
  });
  return errs;
}

/** Go's %#v of the versions list is unreadable; upstream prints it anyway. A short form keeps the message useful. */
function renderVersions(versions: Obj[]): string {
  return `[]apiextensions.CustomResourceDefinitionVersion{${versions.map((v) => `{Name:${JSON.stringify(v.name ?? '')}, Served:${!!v.served}, Storage:${!!v.storage}}`).join(', ')}}`;
}

function validateSpec(spec: Obj): Errs {
  const errs: Errs = [];
  const group = spec.group;
  if (!group) errs.push(required('spec.group', ''));
  else {
    const e = isDNS1123Subdomain(group);
    if (e.length) errs.push(invalid('spec.group', group, e.join(',')));
    else if (group.split('.').length < 2) errs.push(invalid('spec.group', group, 'should be a domain with at least one dot'));
  }
  if (!spec.scope) errs.push(required('spec.scope', ''));
  else if (spec.scope !== 'Cluster' && spec.scope !== 'Namespaced') errs.push(notSupported('spec.scope', spec.scope, ['Cluster', 'Namespaced']));

  // A null entry decodes upstream as a version with every field zero; it must not crash validation.
  const versions = asArr(spec.versions).map((v) => (isObj(v) ? v : {}));
  const seen = new Set<string>();
  let unique = true;
  let storage = 0;
  versions.forEach((v, i) => {
    if (v.storage) storage++;
    if (seen.has(v.name)) unique = false;
    seen.add(v.name);
    const e = isDNS1035Label(String(v.name ?? ''));
    if (e.length) errs.push(invalid(`spec.versions[${i}].name`, v.name ?? '', e.join(',')));
    errs.push(...validateVersion(v, `spec.versions[${i}]`));
  });
  if (!unique) errs.push(invalidRendered('spec.versions', renderVersions(versions), 'must contain unique version names'));
  if (storage !== 1) errs.push(invalidRendered('spec.versions', renderVersions(versions), 'must have exactly one version marked as storage version'));
  if (versions.length && !versions.some((v) => v.served)) errs.push(invalidRendered('spec.versions', renderVersions(versions), 'must have at least one served version'));

  const names = isObj(spec.names) ? spec.names : {};
  if (!names.plural) errs.push(required('spec.names.plural', ''));
  if (!names.singular) errs.push(required('spec.names.singular', ''));
  if (!names.kind) errs.push(required('spec.names.kind', ''));
  if (!names.listKind) errs.push(required('spec.names.listKind', ''));
  errs.push(...validateNames(names, 'spec.names'));

  const conversion = isObj(spec.conversion) ? spec.conversion : { strategy: 'None' };
  if (conversion.strategy !== 'None' && conversion.strategy !== 'Webhook') errs.push(notSupported('spec.conversion.strategy', conversion.strategy, ['None', 'Webhook']));
  // Honest refusal: objects would be served unconverted, which a webhook author does not expect.
  if (conversion.strategy === 'Webhook') errs.push(forbidden('spec.conversion.strategy', 'Webhook conversion is not supported by this server; use None'));
  if (spec.preserveUnknownFields === true) errs.push(invalid('spec.preserveUnknownFields', true, 'cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead'));
  return errs;
}

function validateNames(names: Obj, path: string): Errs {
  const errs: Errs = [];
  const label = (v: unknown, field: string, lower = false, prefix = '') => {
    if (typeof v !== 'string' || !v) return;
    const e = isDNS1035Label(lower ? v.toLowerCase() : v);
    if (e.length) errs.push(invalid(field, v, prefix + e.join(',')));
  };
  label(names.plural, `${path}.plural`);
  label(names.singular, `${path}.singular`);
  label(names.kind, `${path}.kind`, true, 'may have mixed case, but should otherwise match: ');
  label(names.listKind, `${path}.listKind`, true, 'may have mixed case, but should otherwise match: ');
  asArr(names.shortNames).forEach((s, i) => label(s, `${path}.shortNames[${i}]`));
  if (names.kind && names.kind === names.listKind) errs.push(invalid(`${path}.listKind`, names.listKind, 'kind and listKind may not be the same'));
  asArr(names.categories).forEach((c, i) => label(c, `${path}.categories[${i}]`));
  return errs;
}

function validateStatus(status: unknown): Errs {
  return isObj(status) && isObj(status.acceptedNames) ? validateNames(status.acceptedNames, 'status.acceptedNames') : [];
}

function validateVersion(v: Obj, path: string): Errs {
  const errs: Errs = [];
  const schema = v.schema?.openAPIV3Schema;
  if (!isObj(schema)) errs.push(required(`${path}.schema.openAPIV3Schema`, 'schemas are required'));
  else {
    const sp = `${path}.schema.openAPIV3Schema`;
    const structural = validateStructural(schema, sp);
    errs.push(...structural, ...validateDefaults(schema, sp));
    // As upstream, rules are compiled only against a sound schema (its types are what they are checked with).
    if (!structural.length && hasRules(schema)) errs.push(...crdRules().validateSchemaRules(schema, sp));
  }
  const sub = isObj(v.subresources) ? v.subresources : {};
  if (isObj(sub.scale)) {
    const s = sub.scale;
    const sp = `${path}.subresources.scale`;
    const under = (p: unknown, field: string, roots: string[], what: string, optional = false) => {
      if (p === undefined || p === '') {
        if (!optional) errs.push(required(`${sp}.${field}`, ''));
        return;
      }
      if (typeof p !== 'string' || !roots.some((r) => p.startsWith(r + '.')) || !validPath(p)) errs.push(invalid(`${sp}.${field}`, p, `should be a json path under ${what}`));
    };
    under(s.specReplicasPath, 'specReplicasPath', ['.spec'], '.spec');
    under(s.statusReplicasPath, 'statusReplicasPath', ['.status'], '.status');
    under(s.labelSelectorPath, 'labelSelectorPath', ['.spec', '.status'], 'either .spec or .status', true);
  }
  asArr(v.additionalPrinterColumns).forEach((c, i) => {
    const cp = `${path}.additionalPrinterColumns[${i}]`;
    if (!c.name) errs.push(required(`${cp}.name`, ''));
    if (!c.type) errs.push(required(`${cp}.type`, ''));
    else if (!COLUMN_TYPES.includes(c.type)) errs.push(notSupported(`${cp}.type`, c.type, COLUMN_TYPES));
    if (c.format && !COLUMN_FORMATS.includes(c.format)) errs.push(notSupported(`${cp}.format`, c.format, COLUMN_FORMATS));
    if (!c.jsonPath) errs.push(required(`${cp}.JSONPath`, ''));
    else if (!validPath(c.jsonPath)) errs.push(invalid(`${cp}.JSONPath`, c.jsonPath, 'must be a simple json path'));
  });
  return errs;
}

function validPath(p: string): boolean {
  try {
    parseJsonPath(p);
    return true;
  } catch {
    return false;
  }
}

/** Every default must itself be valid for its schema (upstream checks them at CRD write time). */
function validateDefaults(schema: JSONSchema, path: string): Errs {
  const errs: Errs = [];
  const visit = (s: unknown, p: string, isMetadata: boolean) => {
    if (!isObj(s)) return;
    if (s.default !== undefined) {
      if (isMetadata) errs.push(forbidden(`${p}.default`, 'must not be set for metadata'));
      const { default: _d, ...rest } = s;
      const inner: FieldError[] = [];
      validateValue(s.default, rest, '', inner);
      for (const e of inner) errs.push({ ...e, field: e.field ? `${p}.default.${e.field}` : `${p}.default` });
    }
    if (isObj(s.properties)) for (const [k, v] of Object.entries(s.properties)) visit(v, `${p}.properties[${k}]`, p === path && k === 'metadata');
    if (isObj(s.items)) visit(s.items, `${p}.items`, false);
    if (isObj(s.additionalProperties)) visit(s.additionalProperties, `${p}.additionalProperties`, false);
  };
  visit(schema, path, false);
  return errs;
}
