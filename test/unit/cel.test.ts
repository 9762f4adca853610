// CEL validation rules of CRDs (x-kubernetes-validations): compilation against the schema's types
// with cel-go's messages, evaluation with upstream's field errors, transition rules, the Kubernetes
// library functions, the cost budget and the CRD-time checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFieldError } from '../../src/api/field-errors.ts';
import { compileRule, validatorFor, normalizeFieldPath } from '../../src/apiextensions/cel/compile.ts';
import { validateWithRules } from '../../src/apiextensions/cel/evaluate.ts';
import { validateSchemaRules } from '../../src/apiextensions/cel/crd-rules.ts';
import { schemaType, escapeName } from '../../src/apiextensions/cel/types.ts';
import { validateCrd } from '../../src/apiextensions/crd-validation.ts';

const spec = (properties: object, rules: object[] = [], extra: object = {}) => ({
  type: 'object',
  properties: { spec: { type: 'object', properties, 'x-kubernetes-validations': rules, ...extra } },
});

const SCHEMA = spec(
  {
    replicas: { type: 'integer', 'x-kubernetes-validations': [{ rule: 'self >= oldSelf', message: 'replicas may not decrease' }] },
    minReplicas: { type: 'integer' },
    maxReplicas: { type: 'integer' },
    ratio: { type: 'number' },
    name: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self.startsWith("db-") && self.lowerAscii() == self' }] },
    'max-size': { type: 'string' },
    ports: {
      type: 'array',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      items: {
        type: 'object',
        properties: { name: { type: 'string' }, port: { type: 'integer' } },
        'x-kubernetes-validations': [
          { rule: 'self.port > 1024', reason: 'FieldValueForbidden', fieldPath: '.port', message: 'privileged ports are not allowed' },
          { rule: 'self.port == oldSelf.port', message: 'port is immutable' },
        ],
      },
    },
    tags: { type: 'array', items: { type: 'string' } },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
  },
  [
    { rule: 'self.minReplicas <= self.maxReplicas', message: 'minReplicas must not exceed maxReplicas' },
    { rule: 'self.replicas <= self.maxReplicas', messageExpression: "'replicas ' + string(self.replicas) + ' is above maxReplicas ' + string(self.maxReplicas)" },
    { rule: '!has(self.tags) || self.tags.all(t, t.matches("^[a-z]+$"))' },
  ],
);

const run = (obj: object, old?: object, schema: object = SCHEMA) => {
  const v = validatorFor(schema)!;
  const r = validateWithRules(v, obj, old);
  return { errors: r.errors.map(formatFieldError), warnings: r.warnings };
};

const good = { spec: { replicas: 3, minReplicas: 1, maxReplicas: 5, name: 'db-one', ports: [{ name: 'http', port: 8080 }], tags: ['a', 'b'] } };

test('a valid object passes every rule', () => {
  assert.deepEqual(run(good), { errors: [], warnings: [] });
});

test('failures read as upstream prints them: type word, message, messageExpression, failed rule, reason, fieldPath', () => {
  const r = run({ spec: { replicas: 7, minReplicas: 6, maxReplicas: 5, name: 'DB-one', ports: [{ name: 'http', port: 80 }], tags: ['A'] } });
  assert.deepEqual(r.errors, [
    'spec: Invalid value: "object": minReplicas must not exceed maxReplicas',
    'spec: Invalid value: "object": replicas 7 is above maxReplicas 5',
    'spec: Invalid value: "object": failed rule: !has(self.tags) || self.tags.all(t, t.matches("^[a-z]+$"))',
    'spec.name: Invalid value: "string": failed rule: self.startsWith("db-") && self.lowerAscii() == self',
    'spec.ports[0].port: Forbidden: privileged ports are not allowed',
  ]);
});

test('transition rules run only on update, against the correlated old value', () => {
  // Create: no oldSelf, so `self >= oldSelf` and `port == oldSelf.port` are not evaluated.
  assert.deepEqual(run({ spec: { ...good.spec, replicas: 1 } }).errors, []);
  const down = run({ spec: { ...good.spec, replicas: 2 } }, good);
  assert.deepEqual(down.errors, ['spec.replicas: Invalid value: "integer": replicas may not decrease']);
  // Map-list items correlate by key: the same name with another port fails; a new name has no old item.
  const changed = run({ spec: { ...good.spec, ports: [{ name: 'http', port: 9090 }, { name: 'admin', port: 9091 }] } }, good);
  assert.deepEqual(changed.errors, ['spec.ports[0]: Invalid value: "object": port is immutable']);
});

test('optionalOldSelf evaluates the rule on create too, with oldSelf an optional', () => {
  const schema = spec({ mode: { type: 'string', 'x-kubernetes-validations': [{ rule: '!oldSelf.hasValue() || oldSelf.value() == self', optionalOldSelf: true, message: 'mode is immutable once set' }, { rule: "oldSelf.orValue('') != 'x' || self == 'x'", optionalOldSelf: true }] } });
  assert.deepEqual(run({ spec: { mode: 'a' } }, undefined, schema).errors, []);
  assert.deepEqual(run({ spec: { mode: 'b' } }, { spec: { mode: 'a' } }, schema).errors, ['spec.mode: Invalid value: "string": mode is immutable once set']);
  assert.deepEqual(run({ spec: { mode: 'a' } }, { spec: { mode: 'a' } }, schema).errors, []);
});

test('a failure on a value the update left unchanged is a warning (ratcheting), unless the rule reads oldSelf', () => {
  const old = { spec: { ...good.spec, name: 'Legacy' } };
  const r = run({ spec: { ...old.spec, replicas: 4 } }, old);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.warnings, ['spec.name: Invalid value: "string": failed rule: self.startsWith("db-") && self.lowerAscii() == self']);
});

test('runtime errors name the rule', () => {
  const schema = spec({ a: { type: 'integer' }, b: { type: 'integer' }, m: { type: 'object', additionalProperties: { type: 'string' } } }, [
    { rule: 'self.a / self.b > 0' },
    { rule: "self.m['missing'] == 'x'", message: 'm needs missing' },
  ]);
  assert.deepEqual(run({ spec: { a: 1, b: 0, m: {} } }, undefined, schema).errors, [
    'spec: Invalid value: "object": int divide by zero evaluating rule: self.a / self.b > 0',
    'spec: Invalid value: "object": no such key: missing evaluating rule: m needs missing',
  ]);
});

test('integers are CEL ints and numbers doubles, as upstream decodes them', () => {
  const schema = spec({ n: { type: 'integer' }, d: { type: 'number' }, x: { 'x-kubernetes-int-or-string': true } }, [
    { rule: 'self.n + 1 == 3 && self.d * 2.0 == 3.0 && type(self.n) == int && type(self.d) == double' },
    { rule: 'type(self.x) == int || type(self.x) == string' },
  ]);
  assert.deepEqual(run({ spec: { n: 2, d: 1.5, x: 4 } }, undefined, schema).errors, []);
  // A whole number in a `number` field is still a double.
  assert.deepEqual(run({ spec: { n: 2, d: 1.5, x: 'four' } }, undefined, schema).errors, []);
});

test('escaped property names and the resource root (apiVersion, kind, metadata.name)', () => {
  assert.equal(escapeName('max-size'), 'max__dash__size');
  assert.equal(escapeName('a.b/c'), 'a__dot__b__slash__c');
  assert.equal(escapeName('namespace'), '__namespace__');
  assert.equal(escapeName('x__y'), 'x__underscores__y');
  const schema = { type: 'object', 'x-kubernetes-validations': [{ rule: "self.metadata.name.startsWith('db') && self.kind == 'DB' && self.spec.max__dash__size == '1Gi'" }], properties: { spec: { type: 'object', properties: { 'max-size': { type: 'string' } } } } };
  assert.deepEqual(run({ apiVersion: 'x/v1', kind: 'DB', metadata: { name: 'db1' }, spec: { 'max-size': '1Gi' } }, undefined, schema).errors, []);
  // A rule at the root reports at upstream's nil path.
  assert.deepEqual(run({ apiVersion: 'x/v1', kind: 'DB', metadata: { name: 'zz' }, spec: { 'max-size': '1Gi' } }, undefined, schema).errors, [
    `<nil>: Invalid value: "object": failed rule: self.metadata.name.startsWith('db') && self.kind == 'DB' && self.spec.max__dash__size == '1Gi'`,
  ]);
});

test('the Kubernetes library: lists, quantities, strings, conversions', () => {
  const cases: [string, object, boolean][] = [
    ['self.l.isSorted() && self.l.sum() == 6 && self.l.min() == 1 && self.l.max() == 3', { l: [1, 2, 3] }, true],
    ['self.l.isSorted()', { l: [3, 1] }, false],
    ['self.l.indexOf(2) == 1 && self.l.lastIndexOf(9) == -1', { l: [1, 2, 2] }, true],
    ['self.l.exists_one(x, x == 2) && self.l.map(x, x * 10).sum() == 60 && self.l.filter(x, x > 1).size() == 2', { l: [1, 2, 3] }, true],
    ["quantity(self.q).isGreaterThan(quantity('1Gi')) && quantity('1') == quantity('1000m') && quantity(self.q).add(quantity('1Gi')).compareTo(quantity('3Gi')) == 0", { q: '2Gi' }, true],
    ["isQuantity(self.q) == false", { q: '2 Gi' }, true],
    ["quantity('1.5').isInteger() == false && quantity('2k').asInteger() == 2000 && quantity('-1').sign() == -1", {}, true],
    ["self.s.contains('b') && self.s.endsWith('c') && self.s.upperAscii() == 'ABC' && self.s.indexOf('c') == 2 && self.s.split('b').size() == 2", { s: 'abc' }, true],
    ["self.s.replace('a', 'x') == 'xbc' && self.s.substring(1) == 'bc' && self.s.charAt(0) == 'a' && ['a', 'b'].join('-') == 'a-b'", { s: 'abc' }, true],
    ["int('42') == 42 && uint(3) == 3u && double(1) == 1.0 && string(7) == '7' && size(self.s) == 3 && 'b' in ['a', 'b'] && self.s.matches('^a')", { s: 'abc' }, true],
  ];
  for (const [rule, value, ok] of cases) {
    const schema = spec({ l: { type: 'array', items: { type: 'integer' } }, q: { type: 'string' }, s: { type: 'string' } }, [{ rule }]);
    const c = compileRule({ rule }, schemaType(schema.properties.spec), schema.properties.spec);
    assert.equal(c.error, undefined, `${rule}: ${c.error}`);
    assert.equal(run({ spec: value }, undefined, schema).errors.length === 0, ok, rule);
  }
});

test('compilation errors read as cel-go prints them', () => {
  const s = SCHEMA.properties.spec;
  const err = (rule: string) => compileRule({ rule }, schemaType(s), s).error;
  assert.equal(err('self.replica > 1'), "compilation failed: ERROR: <input>:1:5: undefined field 'replica'\n | self.replica > 1\n | ....^");
  assert.equal(err('self.name + 1 == "x"'), "compilation failed: ERROR: <input>:1:11: found no matching overload for '_+_' applied to '(string, int)'\n | self.name + 1 == \"x\"\n | ..........^");
  assert.equal(err('self.name.startsWith(1)'), "compilation failed: ERROR: <input>:1:21: found no matching overload for 'startsWith' applied to 'string.(int)'\n | self.name.startsWith(1)\n | ....................^");
  assert.equal(err('self.ports.all(p, p.prot > 1)'), "compilation failed: ERROR: <input>:1:20: undefined field 'prot'\n | self.ports.all(p, p.prot > 1)\n | ...................^");
  assert.equal(err('foo == 1'), "compilation failed: ERROR: <input>:1:1: undeclared reference to 'foo' (in container '')\n | foo == 1\n | ^");
  assert.equal(err('self.ratio == 1'), "compilation failed: ERROR: <input>:1:12: found no matching overload for '_==_' applied to '(double, int)'\n | self.ratio == 1\n | ...........^");
  assert.equal(err('self.replicas.foo'), "compilation failed: ERROR: <input>:1:14: type 'int' does not support field selection\n | self.replicas.foo\n | .............^");
  assert.match(err('self.replicas >')!, /^compilation failed: ERROR: <input>:1:\d+: Syntax error: /);
  assert.equal(err('self.replicas'), 'cel expression must evaluate to a bool');
  assert.equal(err("self.name.matches('(')"), 'program instantiation failed: error parsing regexp: missing closing ): `(`');
  // Deep nesting is refused instead of exhausting the stack.
  assert.match(err('('.repeat(2000) + 'true' + ')'.repeat(2000))!, /^compilation failed: ERROR: <input>:1:1: expression recursion limit exceeded: 250/);
  assert.match(err(Array(5000).fill('1').join(' + ') + ' > 0')!, /expression recursion limit exceeded: 250/);
  assert.equal(err('self.tags.sum() == 1'), "compilation failed: ERROR: <input>:1:14: found no matching overload for 'sum' applied to 'list(string).()'\n | self.tags.sum() == 1\n | .............^");
  assert.equal(err("self.labels['a'] == 'b' && self.labels.all(k, k.size() > 0)"), undefined);
  // oldSelf makes a rule a transition rule.
  assert.equal(compileRule({ rule: 'self.replicas >= oldSelf.replicas' }, schemaType(s), s).usesOldSelf, true);
  assert.equal(compileRule({ rule: 'self.ports.all(oldSelf, oldSelf.port > 0)' }, schemaType(s), s).usesOldSelf, false);
});

test('fieldPath is checked against the schema and normalized', () => {
  const s = { type: 'object', properties: { a: { type: 'object', properties: { b: { type: 'string' } } }, m: { type: 'object', additionalProperties: { type: 'string' } } } };
  assert.equal(normalizeFieldPath('.a.b', s), 'a.b');
  assert.equal(normalizeFieldPath(".a['b']", s), 'a.b');
  assert.equal(normalizeFieldPath(".m['x.y']", s), 'm[x.y]');
  assert.deepEqual(normalizeFieldPath('.zz', s), { error: 'does not refer to a valid field' });
});

test('the cost budget stops a hostile rule and says so', () => {
  const schema = spec({ l: { type: 'array', items: { type: 'integer' } } }, [{ rule: 'self.l.all(a, self.l.all(b, self.l.all(c, a + b + c >= 0)))' }, { rule: 'self.l.size() > 1000' }]);
  const t0 = performance.now();
  const r = run({ spec: { l: Array.from({ length: 200 }, (_, i) => i) } }, undefined, schema);
  const ms = performance.now() - t0;
  assert.deepEqual(r.errors, ["spec: Invalid value: \"object\": 'operation cancelled: actual cost limit exceeded': no further validation rules will be run due to call cost exceeds limit for rule: self.l.all(a, self.l.all(b, self.l.all(c, a + b + c >= 0)))"]);
  assert.ok(ms < 5000, `budget took ${ms} ms`);
  // The same rule within budget is evaluated normally.
  assert.deepEqual(run({ spec: { l: [1, 2, 3] } }, undefined, schema).errors, ['spec: Invalid value: "object": failed rule: self.l.size() > 1000']);
});

test('linear-time operations are charged by size: a cheap-looking loop over large values is stopped', () => {
  const l = Array.from({ length: 100_000 }, (_, i) => i);
  const big = 'a'.repeat(1_000_000);
  for (const rule of ['self.l.all(x, self.l == self.l)', 'self.l.all(x, !self.s.matches("a+b"))', 'self.l.all(x, !self.s.contains("b"))', 'self.l.all(x, x in self.l)', 'self.l.map(x, self.l).size() > 0']) {
    const schema = spec({ l: { type: 'array', items: { type: 'integer' } }, s: { type: 'string' } }, [{ rule }]);
    const t0 = performance.now();
    const r = run({ spec: { l, s: big } }, undefined, schema);
    const ms = performance.now() - t0;
    assert.equal(r.errors.length, 1, rule);
    assert.match(r.errors[0], /actual cost limit exceeded/, rule);
    assert.ok(ms < 5000, `${rule}: ${ms} ms`);
  }
});

test('a schema is compiled once, and not at all without rules', () => {
  assert.equal(validatorFor(SCHEMA), validatorFor(SCHEMA));
  assert.equal(validatorFor({ type: 'object', properties: { spec: { type: 'object' } } }), undefined);
});

test('CRD writes are refused for bad rules, with upstream paths and messages', () => {
  const P = 'spec.versions[0].schema.openAPIV3Schema';
  const schema = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: { a: { type: 'integer' }, l: { type: 'array', items: { type: 'integer', 'x-kubernetes-validations': [{ rule: 'self > oldSelf' }] } } },
        'x-kubernetes-validations': [
          { rule: 'self.b > 1' },
          { rule: 'self.a > 1', messageExpression: 'self.a' },
          { rule: 'self.a > 1', optionalOldSelf: true },
        ],
      },
    },
  };
  const errs = validateSchemaRules(schema, P).map(formatFieldError);
  assert.deepEqual(errs, [
    `${P}.properties[spec].x-kubernetes-validations[0].rule: Invalid value: apiextensions.ValidationRule{Rule:"self.b > 1", Message:"", MessageExpression:"", Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:"", OptionalOldSelf:(*bool)(nil)}: compilation failed: ERROR: <input>:1:5: undefined field 'b'\n | self.b > 1\n | ....^`,
    `${P}.properties[spec].x-kubernetes-validations[1].messageExpression: Invalid value: apiextensions.ValidationRule{Rule:"self.a > 1", Message:"", MessageExpression:"self.a", Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:"", OptionalOldSelf:(*bool)(nil)}: messageExpression must evaluate to a string`,
    `${P}.properties[spec].x-kubernetes-validations[2].optionalOldSelf: Invalid value: true: may not be set if oldSelf is not used in rule`,
    `${P}.properties[spec].properties[l].items.x-kubernetes-validations[0].rule: Invalid value: "self > oldSelf": oldSelf cannot be used on the uncorrelatable portion of the schema within openAPIV3Schema.properties[spec].properties[l]`,
  ]);
  const shape = validateSchemaRules(spec({ a: { type: 'integer' } }, [
    { rule: '' },
    { rule: 'self.a > 1', message: 'two\nlines' },
    { rule: 'self.a >\n 1' },
    { rule: 'self.a > 1', reason: 'FieldValueBogus' },
    { rule: 'self.a > 1', fieldPath: '.nope' },
  ]), P).map(formatFieldError);
  assert.deepEqual(shape, [
    `${P}.properties[spec].x-kubernetes-validations[0].rule: Required value: rule is not specified`,
    `${P}.properties[spec].x-kubernetes-validations[1].message: Invalid value: "two\\nlines": message must not contain line breaks`,
    `${P}.properties[spec].x-kubernetes-validations[2].message: Required value: message must be specified if rule contains line breaks`,
    `${P}.properties[spec].x-kubernetes-validations[3].reason: Unsupported value: "FieldValueBogus": supported values: "FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"`,
    `${P}.properties[spec].x-kubernetes-validations[4].fieldPath: Invalid value: ".nope": fieldPath must be a valid path`,
  ]);
  // Through validateCrd, as the CRD strategy calls it.
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'dbs.example.com' },
    spec: { group: 'example.com', scope: 'Namespaced', names: { plural: 'dbs', singular: 'db', kind: 'DB', listKind: 'DBList' }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: schema } }] },
  };
  assert.ok(validateCrd(crd).map(formatFieldError).some((e) => e.startsWith(`${P}.properties[spec].x-kubernetes-validations[0].rule: Invalid value:`)));
});

test('date-time, date and duration strings are timestamps and durations in rules, as upstream types them', () => {
  const schema = spec({ expires: { type: 'string', format: 'date-time' }, day: { type: 'string', format: 'date' }, timeout: { type: 'string', format: 'duration' } }, [
    { rule: "self.expires > timestamp('2024-01-01T00:00:00Z') && self.expires.getFullYear() == 2025 && self.day < self.expires" },
    { rule: "self.timeout < duration('1h') && self.timeout > duration('90s')", message: 'timeout must be between 90s and 1h' },
  ]);
  assert.deepEqual(run({ spec: { expires: '2025-06-01T12:00:00Z', day: '2025-01-31', timeout: '10m30s' } }, undefined, schema).errors, []);
  assert.deepEqual(run({ spec: { expires: '2025-06-01T12:00:00Z', day: '2025-01-31', timeout: '2h' } }, undefined, schema).errors, ['spec: Invalid value: "object": timeout must be between 90s and 1h']);
  const s = schema.properties.spec;
  assert.equal(compileRule({ rule: "self.expires > '2024'" }, schemaType(s), s).error, "compilation failed: ERROR: <input>:1:14: found no matching overload for '_>_' applied to '(google.protobuf.Timestamp, string)'\n | self.expires > '2024'\n | .............^");
});

test('rules under allOf validate the node they sit beside, at CRD write and on objects', () => {
  const schema = spec({ a: { type: 'integer' } }, [], { allOf: [{ 'x-kubernetes-validations': [{ rule: 'self.a > 0', message: 'a must be positive' }] }, { 'x-kubernetes-validations': [{ rule: 'self.b > 0' }] }] });
  assert.deepEqual(validateSchemaRules(schema, 'P').map(formatFieldError).map((e) => e.split('\n')[0]), [
    'P.properties[spec].allOf[1].x-kubernetes-validations[0].rule: Invalid value: apiextensions.ValidationRule{Rule:"self.b > 0", Message:"", MessageExpression:"", Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:"", OptionalOldSelf:(*bool)(nil)}: compilation failed: ERROR: <input>:1:5: undefined field \'b\'',
  ]);
  const ok = spec({ a: { type: 'integer' } }, [], { allOf: [{ 'x-kubernetes-validations': [{ rule: 'self.a > 0', message: 'a must be positive' }] }] });
  assert.deepEqual(run({ spec: { a: 0 } }, undefined, ok).errors, ['spec: Invalid value: "object": a must be positive']);
  assert.deepEqual(run({ spec: { a: 1 } }, undefined, ok).errors, []);
});
