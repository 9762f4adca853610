// The /openapi/v2 protobuf encoder, checked by decoding its output with a tiny schema-free
// reader and walking gnostic's field numbers the way kubectl's Go code does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { readFields, type WireField } from '../../src/apiserver/protobuf/wire.ts';
import { encodeOpenApiV2Protobuf, openApiV2Variants, wantsOpenApiV2Protobuf, OPENAPI_V2_PROTOBUF } from '../../src/api/openapi-v2-proto.ts';
import { openApiV2Document } from '../../src/api/openapi.ts';

// ---------------------------------------------------------------------------------------------
// Test-only decoder: a message is its list of wire fields; accessors pick by field number.

class M {
  readonly fields: WireField[];
  constructor(buf: Buffer) {
    this.fields = readFields(buf);
  }
  private all(n: number): WireField[] {
    return this.fields.filter((f) => f.field === n);
  }
  has(n: number): boolean {
    return this.all(n).length > 0;
  }
  bytesList(n: number): Buffer[] {
    return this.all(n).map((f) => {
      assert.equal(f.v.wire, 2, `field ${n} should be length-delimited`);
      return (f.v as { bytes: Buffer }).bytes;
    });
  }
  str(n: number): string {
    const l = this.bytesList(n);
    assert.ok(l.length <= 1, `field ${n} repeated`);
    return l.length ? l[0].toString('utf8') : '';
  }
  strs(n: number): string[] {
    return this.bytesList(n).map((b) => b.toString('utf8'));
  }
  msgs(n: number): M[] {
    return this.bytesList(n).map((b) => new M(b));
  }
  msg(n: number): M | undefined {
    const l = this.msgs(n);
    assert.ok(l.length <= 1, `field ${n} repeated`);
    return l[0];
  }
  req(n: number): M {
    const m = this.msg(n);
    assert.ok(m, `field ${n} missing`);
    return m;
  }
  varint(n: number): bigint | undefined {
    const f = this.all(n);
    if (!f.length) return undefined;
    assert.equal(f[0].v.wire, 0, `field ${n} should be a varint`);
    return (f[0].v as { value: bigint }).value;
  }
  double(n: number): number | undefined {
    const f = this.all(n);
    if (!f.length) return undefined;
    assert.equal(f[0].v.wire, 1, `field ${n} should be fixed64`);
    return (f[0].v as { bytes: Buffer }).bytes.readDoubleLE();
  }
  /** Named* messages: name = 1, value = 2. */
  named(n: number): Map<string, M> {
    return new Map(this.msgs(n).map((x) => [x.str(1), x.req(2)]));
  }
}

/** repeated NamedAny -> {name: parsed YAML of Any.yaml (field 2)}. */
function extensions(m: M, n: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, any] of m.named(n)) out[name] = parseYaml(any.str(2), { version: '1.1' });
  return out;
}

// Field numbers from gnostic's openapiv2/OpenAPIv2.proto, named for readability.
const DOC = { swagger: 1, info: 2, paths: 8, definitions: 9, security: 12, securityDefinitions: 13, vendorExtension: 16 };
const PATH_ITEM = { get: 2, put: 3, post: 4, delete: 5, patch: 8, parameters: 9 };
const OPERATION = { tags: 1, description: 3, operationId: 5, produces: 6, consumes: 7, parameters: 8, responses: 9, schemes: 10, vendorExtension: 13 };
const SCHEMA = { ref: 1, format: 2, description: 4, default: 5, maximum: 7, minimum: 9, maxLength: 11, required: 19, enum: 20, additionalProperties: 21, type: 22, items: 23, allOf: 24, properties: 25, vendorExtension: 31 };

/** Decodes a ParametersItem the way kubectl does: name of a query parameter, or of a body/path one. */
function parameterOf(item: M): { kind: string; m: M } {
  const p = item.msg(1);
  if (!p) return { kind: 'ref', m: item.req(2) };
  const body = p.msg(1);
  if (body) return { kind: 'body', m: body };
  const nonBody = p.req(2);
  for (const [kind, n] of [['header', 1], ['formData', 2], ['query', 3], ['path', 4]] as const) {
    const sub = nonBody.msg(n);
    if (sub) return { kind, m: sub };
  }
  throw new Error('empty NonBodyParameter');
}

// ---------------------------------------------------------------------------------------------

const small = {
  swagger: '2.0',
  info: { title: 'Kubernetes', version: 'v1.32.0' },
  paths: {
    '/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}': {
      patch: {
        tags: ['apps_v1'],
        description: 'partially update the specified StatefulSet',
        operationId: 'patchAppsV1NamespacedStatefulSet',
        consumes: ['application/json-patch+json', 'application/strategic-merge-patch+json'],
        produces: ['application/json'],
        schemes: ['https'],
        parameters: [
          { name: 'body', in: 'body', required: true, schema: { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch' } },
          { name: 'fieldValidation', in: 'query', description: 'how unknown fields are treated', type: 'string', uniqueItems: true },
          { name: 'force', in: 'query', type: 'boolean', uniqueItems: true },
          { $ref: '#/parameters/pretty' },
        ],
        responses: {
          '200': { description: 'OK', schema: { $ref: '#/definitions/io.k8s.api.apps.v1.StatefulSet' } },
          '401': { description: 'Unauthorized' },
        },
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': { group: 'apps', kind: 'StatefulSet', version: 'v1' },
      },
      parameters: [{ name: 'name', in: 'path', description: 'name of the StatefulSet', required: true, type: 'string', uniqueItems: true }],
    },
  },
  definitions: {
    'io.k8s.api.apps.v1.StatefulSetSpec': {
      type: 'object',
      description: 'The desired state.',
      required: ['selector', 'template'],
      properties: {
        replicas: { type: 'integer', format: 'int32', description: 'How many pods.', default: 1, minimum: -3.5, maximum: 1e6, maxLength: -2 },
        podManagementPolicy: { type: 'string', enum: ['OrderedReady', 'Parallel', 'yes'] },
        volumeClaimTemplates: {
          type: 'array',
          items: { default: {}, $ref: '#/definitions/io.k8s.api.core.v1.PersistentVolumeClaim' },
          'x-kubernetes-list-type': 'atomic',
        },
        containers: {
          type: 'array',
          items: { $ref: '#/definitions/io.k8s.api.core.v1.Container' },
          'x-kubernetes-patch-merge-key': 'name',
          'x-kubernetes-patch-strategy': 'merge',
        },
        labels: { type: 'object', additionalProperties: { type: 'string', default: '' } },
        closed: { type: 'object', additionalProperties: false, properties: {} },
        wrapped: { allOf: [{ $ref: '#/definitions/a' }, { description: 'b' }] },
        off: { type: 'boolean', default: false, description: '' },
      },
      'x-kubernetes-group-version-kind': [{ group: 'apps', kind: 'StatefulSet', version: 'v1' }],
    },
  },
  securityDefinitions: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } },
  security: [{ BearerToken: [] }],
  'x-top': 'on',
};

test('document, info, paths and the PATCH operation kubectl inspects', () => {
  const doc = new M(encodeOpenApiV2Protobuf(small));
  assert.equal(doc.str(DOC.swagger), '2.0');
  assert.equal(doc.req(DOC.info).str(1), 'Kubernetes');
  assert.equal(doc.req(DOC.info).str(2), 'v1.32.0');
  assert.deepEqual(extensions(doc, DOC.vendorExtension), { 'x-top': 'on' });

  const paths = doc.req(DOC.paths).named(2); // Paths.path = 2 (NamedPathItem)
  const item = paths.get('/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}');
  assert.ok(item);
  assert.equal(item.msg(PATH_ITEM.get), undefined);
  const patch = item.req(PATH_ITEM.patch);
  assert.deepEqual(patch.strs(OPERATION.tags), ['apps_v1']);
  assert.equal(patch.str(OPERATION.operationId), 'patchAppsV1NamespacedStatefulSet');
  assert.equal(patch.str(OPERATION.description), 'partially update the specified StatefulSet');
  assert.deepEqual(patch.strs(OPERATION.consumes), ['application/json-patch+json', 'application/strategic-merge-patch+json']);
  assert.deepEqual(patch.strs(OPERATION.produces), ['application/json']);
  assert.deepEqual(patch.strs(OPERATION.schemes), ['https']);

  // kubectl's hasGVKExtension: the YAML of the NamedAny parses into a string map.
  const ext = extensions(patch, OPERATION.vendorExtension);
  assert.deepEqual(ext['x-kubernetes-group-version-kind'], { group: 'apps', kind: 'StatefulSet', version: 'v1' });
  assert.equal(ext['x-kubernetes-action'], 'patch');
  const gvkYaml = patch.named(OPERATION.vendorExtension).get('x-kubernetes-group-version-kind')!.str(2);
  assert.equal(gvkYaml, 'group: apps\nkind: StatefulSet\nversion: v1\n');

  const params = patch.msgs(OPERATION.parameters).map(parameterOf);
  assert.deepEqual(params.map((p) => p.kind), ['body', 'query', 'query', 'ref']);
  // BodyParameter: description 1, name 2, in 3, required 4, schema 5
  assert.equal(params[0].m.str(2), 'body');
  assert.equal(params[0].m.str(3), 'body');
  assert.equal(params[0].m.varint(4), 1n);
  assert.equal(params[0].m.req(5).str(SCHEMA.ref), '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch');
  // QueryParameterSubSchema: required 1, in 2, description 3, name 4, type 6, unique_items 20
  const fv = params[1].m;
  assert.equal(fv.str(4), 'fieldValidation');
  assert.equal(fv.str(2), 'query');
  assert.equal(fv.str(3), 'how unknown fields are treated');
  assert.equal(fv.str(6), 'string');
  assert.equal(fv.varint(20), 1n);
  assert.equal(fv.varint(1), undefined, 'false is the proto3 default and is left out');
  assert.equal(params[2].m.str(4), 'force');
  assert.equal(params[2].m.str(6), 'boolean');
  assert.equal(params[3].m.str(1), '#/parameters/pretty'); // JsonReference._ref

  // Path-level parameters; PathParameterSubSchema: required 1, in 2, description 3, name 4, type 5, unique_items 19
  const [nameParam] = item.msgs(PATH_ITEM.parameters).map(parameterOf);
  assert.equal(nameParam.kind, 'path');
  assert.equal(nameParam.m.str(4), 'name');
  assert.equal(nameParam.m.varint(1), 1n);
  assert.equal(nameParam.m.str(5), 'string');
  assert.equal(nameParam.m.varint(19), 1n);

  // Responses.response_code = 1 (NamedResponseValue) -> ResponseValue.response = 1 -> Response
  const responses = patch.req(OPERATION.responses).named(1);
  assert.deepEqual([...responses.keys()], ['200', '401']);
  const ok = responses.get('200')!.req(1);
  assert.equal(ok.str(1), 'OK');
  assert.equal(ok.req(2).req(1).str(SCHEMA.ref), '#/definitions/io.k8s.api.apps.v1.StatefulSet'); // SchemaItem.schema = 1
  assert.equal(responses.get('401')!.req(1).msg(2), undefined);
});

test('definitions: types, properties, items, additionalProperties, allOf, defaults, enums and extensions', () => {
  const doc = new M(encodeOpenApiV2Protobuf(small));
  const defs = doc.req(DOC.definitions).named(1); // Definitions.additional_properties = 1
  const spec = defs.get('io.k8s.api.apps.v1.StatefulSetSpec')!;
  assert.deepEqual(spec.req(SCHEMA.type).strs(1), ['object']); // TypeItem.value = 1
  assert.equal(spec.str(SCHEMA.description), 'The desired state.');
  assert.deepEqual(spec.strs(SCHEMA.required), ['selector', 'template']);
  assert.deepEqual(extensions(spec, SCHEMA.vendorExtension), {
    'x-kubernetes-group-version-kind': [{ group: 'apps', kind: 'StatefulSet', version: 'v1' }],
  });

  const props = spec.req(SCHEMA.properties).named(1); // Properties.additional_properties = 1
  assert.deepEqual([...props.keys()], ['replicas', 'podManagementPolicy', 'volumeClaimTemplates', 'containers', 'labels', 'closed', 'wrapped', 'off']);

  const replicas = props.get('replicas')!;
  assert.deepEqual(replicas.req(SCHEMA.type).strs(1), ['integer']);
  assert.equal(replicas.str(SCHEMA.format), 'int32');
  assert.equal(parseYaml(replicas.req(SCHEMA.default).str(2)), 1); // Any.yaml = 2
  assert.equal(replicas.double(SCHEMA.minimum), -3.5);
  assert.equal(replicas.double(SCHEMA.maximum), 1e6);
  assert.equal(replicas.varint(SCHEMA.maxLength), 2n ** 64n - 2n, 'negative int64 is two\'s complement');

  const policy = props.get('podManagementPolicy')!;
  const enumYaml = policy.msgs(SCHEMA.enum).map((a) => a.str(2));
  assert.deepEqual(enumYaml, ['OrderedReady\n', 'Parallel\n', '"yes"\n'], 'YAML 1.1 booleans stay strings');

  const claims = props.get('volumeClaimTemplates')!;
  assert.deepEqual(claims.req(SCHEMA.type).strs(1), ['array']);
  const claimItems = claims.req(SCHEMA.items).msgs(1); // ItemsItem.schema = 1
  assert.equal(claimItems.length, 1);
  assert.equal(claimItems[0].str(SCHEMA.ref), '#/definitions/io.k8s.api.core.v1.PersistentVolumeClaim');
  assert.deepEqual(parseYaml(claimItems[0].req(SCHEMA.default).str(2)), {});
  assert.deepEqual(extensions(claims, SCHEMA.vendorExtension), { 'x-kubernetes-list-type': 'atomic' });

  const containers = props.get('containers')!;
  assert.deepEqual(extensions(containers, SCHEMA.vendorExtension), { 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-patch-strategy': 'merge' });

  // AdditionalPropertiesItem: schema = 1 | boolean = 2 (false still written: it picks the branch)
  const labels = props.get('labels')!;
  assert.deepEqual(labels.req(SCHEMA.additionalProperties).req(1).req(SCHEMA.type).strs(1), ['string']);
  const closed = props.get('closed')!;
  assert.equal(closed.req(SCHEMA.additionalProperties).varint(2), 0n);
  assert.ok(closed.has(SCHEMA.properties), 'an empty properties object is still present');

  const wrapped = props.get('wrapped')!;
  const allOf = wrapped.msgs(SCHEMA.allOf);
  assert.equal(allOf.length, 2);
  assert.equal(allOf[0].str(SCHEMA.ref), '#/definitions/a');
  assert.equal(allOf[1].str(SCHEMA.description), 'b');

  const off = props.get('off')!;
  assert.equal(parseYaml(off.req(SCHEMA.default).str(2)), false, 'a false default is a value, not an absence');
  assert.equal(off.has(SCHEMA.description), false, 'empty strings are left out');
});

test('security definitions and requirements', () => {
  const doc = new M(encodeOpenApiV2Protobuf(small));
  const bearer = doc.req(DOC.securityDefinitions).named(1).get('BearerToken')!;
  const apiKey = bearer.req(2); // SecurityDefinitionsItem.api_key_security = 2
  assert.equal(apiKey.str(1), 'apiKey');
  assert.equal(apiKey.str(2), 'authorization');
  assert.equal(apiKey.str(3), 'header');
  assert.equal(apiKey.str(4), 'Bearer Token authentication');
  const [req] = doc.msgs(DOC.security);
  const named = req.named(1); // SecurityRequirement.additional_properties = 1 (NamedStringArray)
  assert.deepEqual(named.get('BearerToken')!.strs(1), []);
});

/** kubectl's supportsQueryParam, over the decoded protobuf. */
function patchSupports(doc: M, gvk: { group: string; version: string; kind: string }, param: string): boolean | undefined {
  for (const item of doc.req(DOC.paths).named(2).values()) {
    const patch = item.msg(PATH_ITEM.patch);
    if (!patch) continue;
    const g = extensions(patch, OPERATION.vendorExtension)['x-kubernetes-group-version-kind'] as Record<string, string> | undefined;
    if (!g || g.group !== gvk.group || g.version !== gvk.version || g.kind !== gvk.kind) continue;
    return patch.msgs(OPERATION.parameters).map(parameterOf).some((p) => p.kind === 'query' && p.m.str(4) === param);
  }
  return undefined;
}

test('the served document: PATCH operations list fieldValidation for every kind kubectl looks up', () => {
  const doc = new M(encodeOpenApiV2Protobuf(openApiV2Document()));
  assert.equal(patchSupports(doc, { group: '', version: 'v1', kind: 'Namespace' }, 'fieldValidation'), true);
  assert.equal(patchSupports(doc, { group: 'apps', version: 'v1', kind: 'StatefulSet' }, 'fieldValidation'), true);
  assert.equal(patchSupports(doc, { group: '', version: 'v1', kind: 'Pod' }, 'fieldValidation'), true);
  assert.equal(patchSupports(doc, { group: 'apps', version: 'v1beta1', kind: 'StatefulSet' }, 'fieldValidation'), undefined);
});

test('the served definitions satisfy the rules kube-openapi applies when kubectl parses them', () => {
  // kubectl refuses the whole document if any definition breaks these (explain and validation fail).
  const doc = new M(encodeOpenApiV2Protobuf(openApiV2Document()));
  const defs = doc.req(DOC.definitions).named(1);
  assert.ok(defs.size > 50);
  const problems: string[] = [];
  const check = (s: M, path: string): void => {
    const ref = s.str(SCHEMA.ref);
    const types = s.msg(SCHEMA.type)?.strs(1) ?? [];
    if (ref) {
      if (types.length) problems.push(`${path}: $ref with a type`);
      if (s.msg(SCHEMA.properties)?.msgs(1).length) problems.push(`${path}: $ref with properties`);
      if (!ref.startsWith('#/definitions/') || !defs.has(ref.slice('#/definitions/'.length))) problems.push(`${path}: dangling ${ref}`);
      return;
    }
    if (types.length > 1) problems.push(`${path}: several types`);
    const t = types[0];
    if (t === 'array') {
      const items = s.msg(SCHEMA.items)?.msgs(1) ?? [];
      if (items.length !== 1) problems.push(`${path}: array without exactly one items schema`);
      else check(items[0], path + '[]');
    } else if (t && !['object', 'string', 'integer', 'number', 'boolean'].includes(t)) {
      problems.push(`${path}: unknown type ${t}`);
    }
    for (const [name, p] of s.msg(SCHEMA.properties)?.named(1) ?? []) check(p, `${path}.${name}`);
    const ap = s.msg(SCHEMA.additionalProperties)?.msg(1);
    if (ap) check(ap, path + '{}');
    for (const d of [s.msg(SCHEMA.default), ...s.msgs(SCHEMA.enum)]) {
      if (d) {
        try {
          parseYaml(d.str(2), { version: '1.1' });
        } catch {
          problems.push(`${path}: unparsable YAML`);
        }
      }
    }
  };
  for (const [name, s] of defs) check(s, name);
  assert.deepEqual(problems, []);

  const sts = defs.get('io.k8s.api.apps.v1.StatefulSet')!;
  assert.deepEqual(extensions(sts, SCHEMA.vendorExtension)['x-kubernetes-group-version-kind'], [{ group: 'apps', kind: 'StatefulSet', version: 'v1' }]);
  const update = defs.get('io.k8s.api.apps.v1.StatefulSetSpec')!.req(SCHEMA.properties).named(1).get('updateStrategy')!;
  assert.match(update.str(SCHEMA.description), /\S/);
});

test('content negotiation and variants', () => {
  assert.equal(wantsOpenApiV2Protobuf(OPENAPI_V2_PROTOBUF), true);
  assert.equal(wantsOpenApiV2Protobuf('application/com.github.proto-openapi.spec.v2.v1.0+protobuf'), true);
  assert.equal(wantsOpenApiV2Protobuf(undefined), false);
  assert.equal(wantsOpenApiV2Protobuf('application/json, */*'), false);
  assert.equal(wantsOpenApiV2Protobuf(`application/json, ${OPENAPI_V2_PROTOBUF}`), false);
  assert.equal(wantsOpenApiV2Protobuf(`${OPENAPI_V2_PROTOBUF}, application/json`), true);

  const v = openApiV2Variants(small);
  assert.deepEqual(JSON.parse(v.json.body.toString('utf8')), small);
  assert.equal(v.json.contentType, 'application/json');
  // client-go's mime parsing rejects '@', so the answer uses the dotted spelling, as upstream does.
  assert.equal(v.protobuf.contentType, 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
  assert.deepEqual(v.protobuf.body, encodeOpenApiV2Protobuf(small));
  assert.match(v.json.etag, /^"[0-9A-F]{128}"$/);
  assert.notEqual(v.json.etag, v.protobuf.etag);
});
