// apiextensions.k8s.io/v1 component schemas: CustomResourceDefinition and the JSONSchemaProps it
// carries. They drive `kubectl explain crd`, unknown-field detection on CRD writes and the
// OpenAPI documents, like every built-in kind's schemas.
import { defineComponents } from '../api/schema.ts';
import type { Schema } from '../api/schema.ts';
import { str, int32, int64, bool, refTo, obj, arr, strings, arrOf, kindWithList, gvk, atomic, mapList, conditionsList, time } from '../api/schemas/helpers.ts';

export const AX = 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.';
export const CRD_SCHEMA = AX + 'CustomResourceDefinition';

/** Values of free JSON (defaults, enums, examples): any JSON, kept as sent. */
const json = (description: string): Schema => ({ description, 'x-kubernetes-preserve-unknown-fields': true } as Schema);
const props = (description?: string): Schema => refTo(AX + 'JSONSchemaProps', description);

defineComponents({
  ...kindWithList(CRD_SCHEMA, 'Declares a new kind served by the API server: its group, names, scope, versions and their schemas. Objects of the kind are called custom resources.',
    gvk('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition'), {
      spec: refTo(AX + 'CustomResourceDefinitionSpec', 'How the kind appears: group, names, scope and versions.', { default: {} }),
      status: refTo(AX + 'CustomResourceDefinitionStatus', 'What the server made of the definition.', { default: {} }),
    }, 'CustomResourceDefinitions', { required: ['spec'] }),
  [AX + 'CustomResourceDefinitionSpec']: obj('How a custom kind appears in the API.', {
    conversion: refTo(AX + 'CustomResourceConversion', 'How objects are converted between versions. Only None (the apiVersion is rewritten, nothing else) is served here.'),
    group: str('The API group of the kind, served at /apis/<group>/<version>. Must be a domain with at least one dot and match the object name\'s suffix.', { default: '' }),
    names: refTo(AX + 'CustomResourceDefinitionNames', 'The plural, singular, kind, list kind, short names and categories.', { default: {} }),
    preserveUnknownFields: bool('Must be false: fields a version\'s schema does not declare are pruned, unless the schema preserves them with x-kubernetes-preserve-unknown-fields.'),
    scope: str('Namespaced or Cluster.', { default: '' }),
    versions: arrOf(AX + 'CustomResourceDefinitionVersion', 'The versions served, each with its schema, subresources and printer columns. Exactly one is the storage version.', atomic),
  }, { required: ['group', 'names', 'scope', 'versions'] }),
  [AX + 'CustomResourceConversion']: obj('How objects are converted between the versions of a kind.', {
    strategy: str('None: only the apiVersion changes. Webhook is not supported by this server.', { default: '' }),
    webhook: refTo(AX + 'WebhookConversion', 'The conversion webhook, when strategy is Webhook.'),
  }, { required: ['strategy'] }),
  [AX + 'WebhookConversion']: obj('A conversion webhook.', {
    clientConfig: json('How to reach the webhook.'),
    conversionReviewVersions: strings('ConversionReview versions the webhook understands.', atomic),
  }, { required: ['conversionReviewVersions'] }),
  [AX + 'CustomResourceDefinitionNames']: obj('The names a custom kind is known by.', {
    categories: strings('Groups of resources this kind belongs to, e.g. all (`kubectl get all`).', atomic),
    kind: str('The serialized kind, CamelCase singular, e.g. Database.', { default: '' }),
    listKind: str('The kind of lists, by default <kind>List.'),
    plural: str('The resource name in URLs, lowercase, e.g. databases. Must match the first part of the object name.', { default: '' }),
    shortNames: strings('Short aliases accepted by kubectl, e.g. db.', atomic),
    singular: str('The lowercase singular name, by default the lowercased kind.'),
  }, { required: ['plural', 'kind'] }),
  [AX + 'CustomResourceDefinitionVersion']: obj('One version of a custom kind.', {
    additionalPrinterColumns: arrOf(AX + 'CustomResourceColumnDefinition', 'Columns shown by `kubectl get` besides NAME. Without any, an AGE column is shown.', atomic),
    deprecated: bool('Whether requests to this version get a deprecation warning.'),
    deprecationWarning: str('The warning sent instead of the default one.'),
    name: str('The version name, e.g. v1 or v2beta1, served at /apis/<group>/<name>.', { default: '' }),
    schema: refTo(AX + 'CustomResourceValidation', 'The schema that validates, prunes and defaults objects of this version.'),
    selectableFields: arrOf(AX + 'SelectableField', 'Fields usable in field selectors besides metadata.name and metadata.namespace.', atomic),
    served: bool('Whether this version is served.', { default: false }),
    storage: bool('Whether objects are stored in this version. Exactly one version has storage=true.', { default: false }),
    subresources: refTo(AX + 'CustomResourceSubresources', 'The status and scale subresources of this version.'),
  }, { required: ['name', 'served', 'storage'] }),
  [AX + 'CustomResourceColumnDefinition']: obj('A column of `kubectl get`.', {
    description: str('What the column shows.'),
    format: str('An OpenAPI format refining the type.'),
    jsonPath: str('A simple JSONPath evaluated against each object for the cell.', { default: '' }),
    name: str('The column header.', { default: '' }),
    priority: int32('0 shows the column always, higher numbers only with -o wide.'),
    type: str('integer, number, string, boolean or date.', { default: '' }),
  }, { required: ['name', 'type', 'jsonPath'] }),
  [AX + 'SelectableField']: obj('A field usable in field selectors.', {
    jsonPath: str('A simple JSONPath to the field.', { default: '' }),
  }, { required: ['jsonPath'] }),
  [AX + 'CustomResourceSubresources']: obj('The subresources of a custom kind version.', {
    scale: refTo(AX + 'CustomResourceSubresourceScale', 'The /scale subresource, mapping Scale fields onto the object.'),
    status: { type: 'object', description: 'The /status subresource: status is written only through it, and main writes ignore status.' },
  }),
  [AX + 'CustomResourceSubresourceScale']: obj('Where /scale finds its fields in the object.', {
    labelSelectorPath: str('JSONPath of the label selector in string form (Scale status.selector), under .status or .spec.'),
    specReplicasPath: str('JSONPath of the desired replicas under .spec.', { default: '' }),
    statusReplicasPath: str('JSONPath of the observed replicas under .status.', { default: '' }),
  }, { required: ['specReplicasPath', 'statusReplicasPath'] }),
  [AX + 'CustomResourceValidation']: obj('The schema of a custom kind version.', {
    openAPIV3Schema: refTo(AX + 'JSONSchemaProps', 'An OpenAPI v3 structural schema.'),
  }),
  [AX + 'JSONSchemaProps']: obj('A JSON-Schema (OpenAPI v3 subset) node, with the Kubernetes extensions.', {
    $ref: str('Not allowed in CRD schemas.'),
    $schema: str('The JSON-Schema dialect.'),
    additionalItems: json('JSONSchemaPropsOrBool.'),
    additionalProperties: json('The schema of map values (JSONSchemaPropsOrBool). Mutually exclusive with properties.'),
    allOf: arrOf(AX + 'JSONSchemaProps', 'Every schema must hold.', atomic),
    anyOf: arrOf(AX + 'JSONSchemaProps', 'At least one schema must hold.', atomic),
    default: json('The value set when the field is absent.'),
    definitions: { type: 'object', description: 'Not used.', additionalProperties: props() },
    dependencies: { type: 'object', description: 'Not used.', additionalProperties: json('JSONSchemaPropsOrStringArray.') },
    description: str('Shown by kubectl explain.'),
    enum: arr(json('An allowed value.'), 'The allowed values.', atomic),
    example: json('An example value.'),
    exclusiveMaximum: bool('Whether maximum itself is excluded.'),
    exclusiveMinimum: bool('Whether minimum itself is excluded.'),
    externalDocs: refTo(AX + 'ExternalDocumentation', 'Further documentation.'),
    format: str('Refines type: int32, int64, float, double, byte, date, date-time, uuid, email, hostname, ipv4, ipv6, cidr, ...'),
    id: str('Not used.'),
    items: json('The schema of array items (JSONSchemaPropsOrArray).'),
    maxItems: int64('The most items.'),
    maxLength: int64('The longest string.'),
    maxProperties: int64('The most properties.'),
    maximum: { type: 'number', format: 'double', description: 'The largest number.' },
    minItems: int64('The fewest items.'),
    minLength: int64('The shortest string.'),
    minProperties: int64('The fewest properties.'),
    minimum: { type: 'number', format: 'double', description: 'The smallest number.' },
    multipleOf: { type: 'number', format: 'double', description: 'Numbers must be a multiple of it.' },
    not: props('The schema must not hold.'),
    nullable: bool('Whether null is accepted (and kept).'),
    oneOf: arrOf(AX + 'JSONSchemaProps', 'Exactly one schema must hold.', atomic),
    pattern: str('A regular expression strings must match.'),
    patternProperties: { type: 'object', description: 'Not allowed in CRD schemas.', additionalProperties: props() },
    properties: { type: 'object', description: 'The fields of an object.', additionalProperties: props() },
    required: strings('Fields that must be present.', atomic),
    title: str('A short title.'),
    type: str('object, array, string, integer, number or boolean.'),
    uniqueItems: bool('Not allowed to be true in CRD schemas.'),
    'x-kubernetes-embedded-resource': bool('The object is a whole Kubernetes object (apiVersion, kind, metadata).'),
    'x-kubernetes-int-or-string': bool('The value is an integer or a string.'),
    'x-kubernetes-list-map-keys': strings('The keys of a list-type map.', atomic),
    'x-kubernetes-list-type': str('atomic, set or map.'),
    'x-kubernetes-map-type': str('granular or atomic.'),
    'x-kubernetes-preserve-unknown-fields': bool('Fields the schema does not declare are kept, not pruned.'),
    'x-kubernetes-validations': arr(json('A CEL validation rule.'), 'CEL validation rules. Accepted but not evaluated by this server.', mapList(['rule'])),
  }),
  [AX + 'ExternalDocumentation']: obj('A link to further documentation.', { description: str('What is there.'), url: str('Where.') }),
  [AX + 'CustomResourceDefinitionStatus']: obj('What the server made of a definition.', {
    acceptedNames: refTo(AX + 'CustomResourceDefinitionNames', 'The names actually served; they may differ from spec.names when those conflict.', { default: {} }),
    conditions: arrOf(AX + 'CustomResourceDefinitionCondition', 'NamesAccepted, Established, Terminating.', conditionsList),
    storedVersions: strings('Versions objects have ever been stored in.', atomic),
  }),
  [AX + 'CustomResourceDefinitionCondition']: obj('One condition of a definition.', {
    lastTransitionTime: time('When the status last changed.'),
    message: str('Details.'),
    observedGeneration: int64('The generation the condition was set for.'),
    reason: str('Why, in CamelCase.'),
    status: str('True, False or Unknown.', { default: '' }),
    type: str('NamesAccepted, Established, Terminating, NonStructuralSchema.', { default: '' }),
  }, { required: ['type', 'status'] }),
});

