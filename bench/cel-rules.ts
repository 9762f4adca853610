// The cost of CRD validation rules (x-kubernetes-validations) per object: the custom resource
// strategy's validation (schema, then rules) of N objects on create and on update, once with a
// version schema that has no rules and once with the same schema plus eight rules of the kinds
// users write (a cross-field check, a messageExpression, a transition rule, rules on each item of a
// list, string functions, a quantity comparison). Also the one-time compile cost per CRD version.
// In process, no HTTP: it isolates what the rules add. Prints medians and totals.
//   node bench/cel-rules.ts [--objects 1000] [--rounds 5]
import os from 'node:os';
import { parseArgs } from 'node:util';
import { resourcesForCrd } from '../src/apiextensions/served.ts';
import { validatorFor } from '../src/apiextensions/cel/compile.ts';
import type { Obj } from '../src/api/resource.ts';

const { values } = parseArgs({ options: { objects: { type: 'string' }, rounds: { type: 'string' } } });
const N = Number(values.objects ?? 1000);
const ROUNDS = Number(values.rounds ?? 5);

function schema(withRules: boolean): Obj {
  const r = (rules: Obj[]) => (withRules ? { 'x-kubernetes-validations': rules } : {});
  return {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        ...r([
          { rule: 'self.minReplicas <= self.replicas && self.replicas <= self.maxReplicas', message: 'replicas must be within minReplicas..maxReplicas' },
          { rule: "self.engine != 'redis' || self.replicas % 2 == 1", messageExpression: "'redis needs an odd replica count, not ' + string(self.replicas)" },
          { rule: "quantity(self.memory).isLessThan(quantity('64Gi'))" },
          { rule: 'self.ports.all(p, p.port != self.metricsPort)', message: 'metricsPort must differ from every port' },
        ]),
        properties: {
          replicas: { type: 'integer', ...r([{ rule: 'self >= oldSelf', message: 'replicas may not decrease' }]) },
          minReplicas: { type: 'integer' },
          maxReplicas: { type: 'integer' },
          metricsPort: { type: 'integer' },
          engine: { type: 'string', enum: ['redis', 'memcached'] },
          memory: { type: 'string' },
          name: { type: 'string', maxLength: 63, ...r([{ rule: "self.startsWith('cache-') && self.lowerAscii() == self" }]) },
          ports: {
            type: 'array',
            maxItems: 16,
            'x-kubernetes-list-type': 'map',
            'x-kubernetes-list-map-keys': ['name'],
            items: {
              type: 'object',
              required: ['name', 'port'],
              properties: { name: { type: 'string' }, port: { type: 'integer' } },
              ...r([{ rule: 'self.port > 1024 && self.port < 65536', reason: 'FieldValueForbidden', fieldPath: '.port' }, { rule: "self.name.matches('^[a-z][a-z0-9-]*$')" }]),
            },
          },
        },
      },
    },
  };
}

function crd(withRules: boolean): Obj {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'caches.bench.example.com' },
    spec: {
      group: 'bench.example.com',
      scope: 'Namespaced',
      names: { plural: 'caches', singular: 'cache', kind: 'Cache', listKind: 'CacheList' },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: schema(withRules) } }],
    },
    status: { acceptedNames: { plural: 'caches', singular: 'cache', kind: 'Cache', listKind: 'CacheList' }, conditions: [{ type: 'Established', status: 'True' }, { type: 'NamesAccepted', status: 'True' }] },
  };
}

function object(i: number, replicas: number): Obj {
  return {
    apiVersion: 'bench.example.com/v1',
    kind: 'Cache',
    metadata: { name: `cache-${i}`, namespace: 'default', uid: `u-${i}`, resourceVersion: '1', creationTimestamp: '2026-01-01T00:00:00Z', generation: 1 },
    spec: { replicas, minReplicas: 1, maxReplicas: 9, metricsPort: 9100, engine: 'redis', memory: '2Gi', name: `cache-${i}`, ports: [{ name: 'main', port: 6379 }, { name: 'sentinel', port: 26379 }, { name: 'admin', port: 7000 }] },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function measure(withRules: boolean): { create: number; update: number; errors: number } {
  const strategy = resourcesForCrd(crd(withRules))[0].strategy;
  const olds = Array.from({ length: N }, (_, i) => object(i, 3));
  const news = Array.from({ length: N }, (_, i) => object(i, 5));
  let errors = 0;
  const creates: number[] = [];
  const updates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let t = performance.now();
    for (const o of olds) errors += strategy.validate(o).length;
    creates.push(performance.now() - t);
    t = performance.now();
    for (let i = 0; i < N; i++) errors += strategy.validateUpdate(news[i], olds[i]).length;
    updates.push(performance.now() - t);
  }
  return { create: median(creates), update: median(updates), errors };
}

console.log(`# CRD validation rules: per-object validation cost (${new Date().toISOString()})`);
console.log(`machine: ${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), node ${process.version}, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(`objects: ${N} custom objects (3 list items each), median of ${ROUNDS} rounds; rules: 8 (4 on spec, 1 transition on spec.replicas, 1 on spec.name, 2 on each ports item = 12 evaluations per object)`);

const t0 = performance.now();
const compiled = validatorFor(schema(true));
const compileMs = performance.now() - t0;
console.log(`compile (parse, check, plan) of the version's 8 rules, once per CRD version: ${compileMs.toFixed(1)} ms${compiled ? '' : ' (no validator?)'}`);

// Warm both paths once so that the JIT state is comparable.
measure(false);
measure(true);
const without = measure(false);
const withRules = measure(true);
if (without.errors || withRules.errors) console.log(`unexpected validation errors: ${without.errors} without rules, ${withRules.errors} with`);
const per = (ms: number) => `${((ms * 1000) / N).toFixed(1)} µs/object`;
console.log(`| | create: ${N} objects | per object | update: ${N} objects | per object |`);
console.log('|---|---|---|---|---|');
console.log(`| schema only | ${without.create.toFixed(1)} ms | ${per(without.create)} | ${without.update.toFixed(1)} ms | ${per(without.update)} |`);
console.log(`| schema + rules | ${withRules.create.toFixed(1)} ms | ${per(withRules.create)} | ${withRules.update.toFixed(1)} ms | ${per(withRules.update)} |`);
console.log(`rules add ${per(withRules.create - without.create)} on create, ${per(withRules.update - without.update)} on update`);
