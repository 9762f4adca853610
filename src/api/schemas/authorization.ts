// authorization.k8s.io/v1: the access reviews (SubjectAccessReview, LocalSubjectAccessReview,
// SelfSubjectAccessReview, SelfSubjectRulesReview). Created, answered, never stored.
import { defineComponents } from '../schema.ts';
import { str, bool, refTo, obj, strings, arrOf, kindSchema, gvk, atomic } from './helpers.ts';

const Z = 'io.k8s.api.authorization.v1.';
const G = 'authorization.k8s.io';
const M = 'io.k8s.apimachinery.pkg.apis.meta.v1.';

const review = (kind: string, description: string, spec: string) =>
  kindSchema(description, gvk(G, 'v1', kind), {
    spec: refTo(Z + spec, 'What is asked.', { default: {} }),
    status: refTo(Z + 'SubjectAccessReviewStatus', 'The answer, filled by the server.', { default: {} }),
  }, { required: ['spec'] });

defineComponents({
  [Z + 'ResourceAttributes']: obj('A request on a resource, as the authorizer sees it.', {
    group: str('The API group of the resource; "*" means all.'),
    name: str('The name of the object; "" means all.'),
    namespace: str('The namespace; "" means all namespaces for namespaced resources.'),
    resource: str('The resource; "*" means all.'),
    subresource: str('The subresource; "" means none.'),
    verb: str('The verb: get, list, watch, create, update, patch, delete, deletecollection, or a custom one such as impersonate or bind; "*" means all.'),
    version: str('The API version; "*" means all.'),
    fieldSelector: refTo(Z + 'FieldSelectorAttributes', 'The field selector of a list or watch, for authorizers that decide by it.'),
    labelSelector: refTo(Z + 'LabelSelectorAttributes', 'The label selector of a list or watch, for authorizers that decide by it.'),
  }),
  [Z + 'FieldSelectorAttributes']: obj('A field selector, as written or parsed into requirements.', {
    rawSelector: str('The selector as the request carried it.'),
    requirements: arrOf(M + 'FieldSelectorRequirement', 'The parsed requirements, all of which must hold.', atomic),
  }),
  [Z + 'LabelSelectorAttributes']: obj('A label selector, as written or parsed into requirements.', {
    rawSelector: str('The selector as the request carried it.'),
    requirements: arrOf(M + 'LabelSelectorRequirement', 'The parsed requirements, all of which must hold.', atomic),
  }),
  [M + 'FieldSelectorRequirement']: obj('One condition of a field selector: a key, an operator and values.', {
    key: str('The field the requirement applies to.', { default: '' }),
    operator: str('In, NotIn, Exists or DoesNotExist.', { default: '' }),
    values: strings('The values; empty for Exists and DoesNotExist.', atomic),
  }, { required: ['key', 'operator'] }),
  [Z + 'NonResourceAttributes']: obj('A request on a non-resource path.', {
    path: str('The URL path.'),
    verb: str('The standard HTTP verb, lower case.'),
  }),
  [Z + 'SubjectAccessReviewSpec']: obj('The request to check and the user to check it for. Exactly one of resourceAttributes and nonResourceAttributes is set.', {
    extra: { type: 'object', description: 'Extra user information from the authenticator.', additionalProperties: { type: 'array', items: { type: 'string', default: '' } } },
    groups: strings('The groups of the user.', atomic),
    nonResourceAttributes: refTo(Z + 'NonResourceAttributes', 'The non-resource request.'),
    resourceAttributes: refTo(Z + 'ResourceAttributes', 'The resource request.'),
    uid: str('The uid of the user.'),
    user: str('The user name.'),
  }),
  [Z + 'SelfSubjectAccessReviewSpec']: obj('The request to check for the caller. Exactly one of resourceAttributes and nonResourceAttributes is set.', {
    nonResourceAttributes: refTo(Z + 'NonResourceAttributes', 'The non-resource request.'),
    resourceAttributes: refTo(Z + 'ResourceAttributes', 'The resource request.'),
  }),
  [Z + 'SubjectAccessReviewStatus']: obj('The authorizer\'s answer.', {
    allowed: bool('Whether the action is allowed.', { default: false }),
    denied: bool('Whether an authorizer explicitly denied the action.'),
    evaluationError: str('An error met while evaluating; the answer may still be given.'),
    reason: str('Why the action is allowed or denied.'),
  }, { required: ['allowed'] }),
  [Z + 'SubjectAccessReview']: review('SubjectAccessReview', 'Checks whether a user or group can perform an action.', 'SubjectAccessReviewSpec'),
  [Z + 'LocalSubjectAccessReview']: review('LocalSubjectAccessReview', 'Checks whether a user or group can perform an action in one namespace.', 'SubjectAccessReviewSpec'),
  [Z + 'SelfSubjectAccessReview']: review('SelfSubjectAccessReview', 'Checks whether the caller can perform an action.', 'SelfSubjectAccessReviewSpec'),
  [Z + 'SelfSubjectRulesReviewSpec']: obj('The namespace to list the caller\'s rules in.', { namespace: str('The namespace to evaluate rules in.') }),
  [Z + 'ResourceRule']: obj('Actions the caller may perform on resources.', {
    apiGroups: strings('API groups; "*" means all.', atomic),
    resourceNames: strings('Names; empty means all.', atomic),
    resources: strings('Resources; "*" means all.', atomic),
    verbs: strings('Verbs; "*" means all.', atomic),
  }, { required: ['verbs'] }),
  [Z + 'NonResourceRule']: obj('Actions the caller may perform on non-resource paths.', {
    nonResourceURLs: strings('Partial URLs; a trailing * matches any suffix.', atomic),
    verbs: strings('Verbs; "*" means all.', atomic),
  }, { required: ['verbs'] }),
  [Z + 'SubjectRulesReviewStatus']: obj('The caller\'s rules in a namespace.', {
    evaluationError: str('An error met while listing the rules.'),
    incomplete: bool('Whether the list is incomplete (an authorizer cannot list its rules).', { default: false }),
    nonResourceRules: arrOf(Z + 'NonResourceRule', 'Rules on non-resource paths.', atomic),
    resourceRules: arrOf(Z + 'ResourceRule', 'Rules on resources.', atomic),
  }, { required: ['resourceRules', 'nonResourceRules', 'incomplete'] }),
  [Z + 'SelfSubjectRulesReview']: kindSchema('Lists what the caller may do in a namespace.', gvk(G, 'v1', 'SelfSubjectRulesReview'), {
    spec: refTo(Z + 'SelfSubjectRulesReviewSpec', 'The namespace.', { default: {} }),
    status: refTo(Z + 'SubjectRulesReviewStatus', 'The rules, filled by the server.', { default: {} }),
  }, { required: ['spec'] }),
});
