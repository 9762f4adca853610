// Pure parts of CustomResourceDefinitions: structural-schema rules, value validation and
// defaulting, printer-column JSONPath, name acceptance and CRD validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFieldError } from '../../src/api/field-errors.ts';
import { validateStructural } from '../../src/apiextensions/structural.ts';
import { applyDefaults, validateValue } from '../../src/apiextensions/values.ts';
import { jsonPathValues } from '../../src/apiextensions/jsonpath.ts';
import { decideNames } from '../../src/apiextensions/naming.ts';
import { validateCrd } from '../../src/apiextensions/crd-validation.ts';
import { tableForColumns } from '../../src/apiextensions/served.ts';
import { compareKubeVersions } from '../../src/apiserver/discovery.ts';

const P = 'spec.versions[0].schema.openAPIV3Schema';
const structural = (s: object) => validateStructural(s, P).map(formatFieldError);

test('structural schema rules, with upstream messages', () => {
  const cases: [string, object, string[]][] = [
    ['a typed tree is structural', { type: 'object', properties: { spec: { type: 'object', properties: { n: { type: 'integer' } } } } }, []],
    ['missing type of a field', { type: 'object', properties: { spec: { properties: {} } } }, [`${P}.properties[spec].type: Required value: must not be empty for specified object fields`]],
    ['missing type at the root', { properties: {} }, [`${P}.type: Required value: must not be empty at the root`]],
    ['root not an object', { type: 'string' }, [`${P}.type: Invalid value: "string": must be object at the root`]],
    ['array without items', { type: 'object', properties: { l: { type: 'array' } } }, [`${P}.properties[l].items: Required value: must be specified`]],
    ['item without type', { type: 'object', properties: { l: { type: 'array', items: {} } } }, [`${P}.properties[l].items.type: Required value: must not be empty for specified array items`]],
    ['preserve-unknown needs no type', { type: 'object', properties: { any: { 'x-kubernetes-preserve-unknown-fields': true } } }, []],
    ['int-or-string idiom', { type: 'object', properties: { p: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] } } }, []],
    ['types under anyOf', { type: 'object', properties: { p: { type: 'string', anyOf: [{ type: 'string' }] } } }, [`${P}.properties[p].anyOf[0].type: Forbidden: must be empty to be structural`]],
    ['metadata beyond names', { type: 'object', properties: { metadata: { type: 'object', properties: { labels: { type: 'object' } } } } }, [`${P}.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified`]],
    ['metadata name is fine', { type: 'object', properties: { metadata: { type: 'object', properties: { name: { type: 'string', maxLength: 20 } } } } }, []],
    ['uniqueItems', { type: 'object', properties: { l: { type: 'array', uniqueItems: true, items: { type: 'string' } } } }, [`${P}.properties[l].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic`]],
    ['additionalProperties with properties', { type: 'object', properties: { m: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: { type: 'string' } } } }, [`${P}.properties[m].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive`]],
    ['embedded resource needs object', { type: 'object', properties: { t: { 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true } } }, [`${P}.properties[t].type: Required value: must be object if x-kubernetes-embedded-resource is true`]],
  ];
  for (const [name, schema, want] of cases) assert.deepEqual(structural(schema), want, name);
});

const schema = {
  type: 'object',
  required: ['spec'],
  properties: {
    spec: {
      type: 'object',
      required: ['engine'],
      properties: {
        engine: { type: 'string', enum: ['postgres', 'mysql'] },
        replicas: { type: 'integer', minimum: 1, maximum: 9, default: 1 },
        name: { type: 'string', pattern: '^[a-z]+$', maxLength: 5, minLength: 2 },
        size: { 'x-kubernetes-int-or-string': true, default: '1Gi' },
        tags: { type: 'array', maxItems: 2, items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
        when: { type: 'string', format: 'date-time' },
        note: { type: 'string', nullable: true },
        nested: { type: 'object', default: {}, properties: { deep: { type: 'boolean', default: true } } },
        labels: { type: 'object', additionalProperties: { type: 'integer' } },
      },
    },
  },
};

const errorsOf = (obj: unknown) => {
  const errs: Parameters<typeof validateValue>[3] = [];
  validateValue(obj, schema, '', errs);
  return errs.map(formatFieldError);
};

test('values: types, enums, bounds, patterns, formats, lists, maps', () => {
  assert.deepEqual(errorsOf({ spec: { engine: 'postgres', replicas: 3, name: 'abc', size: 3, tags: ['a'], when: '2024-01-02T03:04:05Z', note: null, labels: { a: 1 } } }), []);
  assert.deepEqual(errorsOf({}), ['spec: Required value']);
  assert.deepEqual(errorsOf({ spec: { engine: 'db2' } }), ['spec.engine: Unsupported value: "db2": supported values: "postgres", "mysql"']);
  assert.deepEqual(errorsOf({ spec: { engine: 'mysql', replicas: 'x' } }), ['spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"']);
  assert.deepEqual(errorsOf({ spec: { engine: 'mysql', replicas: 1.5 } }), ['spec.replicas: Invalid value: "number": spec.replicas in body must be of type integer: "number"']);
  assert.deepEqual(errorsOf({ spec: { engine: 'mysql', replicas: 0 } }), ['spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1']);
  assert.deepEqual(errorsOf({ spec: { engine: 'mysql', name: 'A' } }), [
    "spec.name: Invalid value: \"A\": spec.name in body should be at least 2 chars long",
    "spec.name: Invalid value: \"A\": spec.name in body should match '^[a-z]+$'",
  ]);
  assert.match(errorsOf({ spec: { engine: 'mysql', name: 'abcdefg' } })[0], /^spec\.name: Too long/);
  assert.deepEqual(errorsOf({ spec: { engine: 'mysql', size: true } }), ['spec.size: Invalid value: "boolean": spec.size in body must be of type integer,string: "boolean"']);
  assert.deepEqual(errorsOf({ spec: { engine: 'mysql', tags: ['a', 'a'] } }), ['spec.tags[1]: Duplicate value: "a"']);
  assert.match(errorsOf({ spec: { engine: 'mysql', tags: ['a', 'b', 'c'] } })[0], /^spec\.tags: Too many/);
  assert.deepEqual(errorsOf({ spec: { engine: 'mysql', when: 'yesterday' } }), ['spec.when: Invalid value: "yesterday": spec.when in body must be of type date-time: "yesterday"']);
  assert.deepEqual(errorsOf({ spec: { engine: 'mysql', labels: { a: 'x' } } }), ['spec.labels.a: Invalid value: "string": spec.labels.a in body must be of type integer: "string"']);
});

test('defaulting: absent fields, nested defaults, nulls of non-nullable fields', () => {
  const obj: any = { spec: { engine: 'mysql', replicas: null, note: null } };
  applyDefaults(obj, schema);
  assert.deepEqual(obj.spec, { engine: 'mysql', replicas: 1, note: null, size: '1Gi', nested: { deep: true } });
  const kept: any = { spec: { replicas: 4, nested: { deep: false } } };
  applyDefaults(kept, schema);
  assert.equal(kept.spec.replicas, 4);
  assert.equal(kept.spec.nested.deep, false);
});

test('JSONPath for printer columns', () => {
  const obj = { metadata: { name: 'a' }, spec: { n: 3, 'dotted.key': 'x' }, status: { conditions: [{ type: 'Synced', status: 'True' }, { type: 'Ready', status: 'False' }], list: [1, 2] } };
  assert.deepEqual(jsonPathValues('.spec.n', obj), [3]);
  assert.deepEqual(jsonPathValues(".spec['dotted.key']", obj), ['x']);
  assert.deepEqual(jsonPathValues('.status.conditions[?(@.type=="Ready")].status', obj), ['False']);
  assert.deepEqual(jsonPathValues('.status.conditions[*].type', obj), ['Synced', 'Ready']);
  assert.deepEqual(jsonPathValues('.status.list[1]', obj), [2]);
  assert.deepEqual(jsonPathValues('.status.missing.deeper', obj), []);
  assert.throws(() => jsonPathValues('spec..n(', obj));
});

test('tables: name, printer columns typed as declared, dates as ages', () => {
  const t = tableForColumns([
    { name: 'Replicas', type: 'integer', jsonPath: '.spec.n' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'Map', type: 'string', jsonPath: '.spec.m' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ]);
  assert.deepEqual(t.columns.map((c) => c.name), ['Name', 'Replicas', 'Phase', 'Map', 'Age']);
  const now = Date.parse('2024-01-01T00:01:00Z');
  assert.deepEqual(t.cells({ metadata: { name: 'x', creationTimestamp: '2024-01-01T00:00:00Z' }, spec: { n: 2, m: { b: 1, a: 'z' } } }, now), ['x', 2, null, 'map[a:z b:1]', '60s']);
  assert.deepEqual(tableForColumns([]).columns.map((c) => c.name), ['Name', 'Age']);
});

test('names: accepted unless another definition of the group holds them', () => {
  const crd = (name: string, plural: string, kind: string, extra: object = {}) => ({
    metadata: { name: `${plural}.g.io` }, spec: { group: 'g.io', names: { plural, singular: kind.toLowerCase(), kind, listKind: `${kind}List`, ...extra } },
    status: { acceptedNames: { plural, singular: kind.toLowerCase(), kind, listKind: `${kind}List`, ...extra } }, name,
  });
  const a = crd('a', 'dogs', 'Dog', { shortNames: ['dg'] });
  assert.equal(decideNames(crd('b', 'cats', 'Cat'), [a]).namesAccepted.status, 'True');
  const kind = decideNames(crd('c', 'hounds', 'Dog', { singular: 'hound' }), [a]);
  assert.deepEqual([kind.namesAccepted.status, kind.namesAccepted.reason, kind.namesAccepted.message], ['False', 'KindConflict', '"Dog" is already in use']);
  assert.equal(decideNames(crd('d', 'dg', 'Dg2'), [a]).namesAccepted.reason, 'PluralConflict');
});

test('CRD validation: scale paths, printer columns, storage versions', () => {
  const base = (version: object) => ({
    metadata: { name: 'things.example.com' },
    spec: { group: 'example.com', scope: 'Namespaced', names: { plural: 'things', singular: 'thing', kind: 'Thing', listKind: 'ThingList' }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } }, ...version }] },
  });
  assert.deepEqual(validateCrd(base({})).map(formatFieldError), []);
  assert.deepEqual(validateCrd(base({ subresources: { scale: { specReplicasPath: '.status.r', statusReplicasPath: '.status.r' } } })).map(formatFieldError),
    ['spec.versions[0].subresources.scale.specReplicasPath: Invalid value: ".status.r": should be a json path under .spec']);
  assert.deepEqual(validateCrd(base({ additionalPrinterColumns: [{ name: 'X', type: 'text', jsonPath: '.spec.x' }] })).map(formatFieldError),
    ['spec.versions[0].additionalPrinterColumns[0].type: Unsupported value: "text": supported values: "boolean", "date", "integer", "number", "string"']);
  assert.deepEqual(validateCrd(base({ schema: { openAPIV3Schema: { type: 'object', properties: { n: { type: 'integer', default: 'x' } } } } })).map(formatFieldError),
    ['spec.versions[0].schema.openAPIV3Schema.properties[n].default: Invalid value: "string": in body must be of type integer: "string"']);
});

test('version priority orders a custom group\'s versions', () => {
  assert.deepEqual(['v1alpha1', 'v2beta1', 'v1', 'v1beta2', 'v2', 'foo', 'v1beta1'].sort(compareKubeVersions), ['v2', 'v1', 'v2beta1', 'v1beta2', 'v1beta1', 'v1alpha1', 'foo']);
});
