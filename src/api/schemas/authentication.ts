// authentication.k8s.io/v1: TokenRequest (body and answer of serviceaccounts/<name>/token),
// SelfSubjectReview and TokenReview, with the UserInfo they report.
import { defineComponents } from '../schema.ts';
import { str, int64, refTo, obj, time, bool, strings, arr, kindSchema, gvk, atomic } from './helpers.ts';

const A = 'io.k8s.api.authentication.v1.';
const G = 'authentication.k8s.io';

defineComponents({
  [A + 'TokenRequest']: kindSchema('Requests a token for a service account. Sent to the serviceaccounts/<name>/token subresource.',
    gvk(G, 'v1', 'TokenRequest'), {
      spec: refTo(A + 'TokenRequestSpec', 'What the token is for and how long it lives.', { default: {} }),
      status: refTo(A + 'TokenRequestStatus', 'The issued token.', { default: {} }),
    }, { required: ['spec'] }),
  [A + 'TokenRequestSpec']: obj('The parameters of a requested token.', {
    audiences: strings('Who the token is for: a recipient must find itself among them. Defaults to the API server\'s audiences.', atomic),
    boundObjectRef: refTo(A + 'BoundObjectReference', 'An object (Pod, Secret or Node) the token is bound to: the token is valid only while that object exists.'),
    expirationSeconds: int64('How long the token is valid, in seconds. Defaults to one hour, and must be at least ten minutes.'),
  }, { required: ['audiences'] }),
  [A + 'TokenRequestStatus']: obj('The result of a token request.', {
    expirationTimestamp: time('When the token expires.'),
    token: str('The opaque bearer token.'),
  }, { required: ['token', 'expirationTimestamp'] }),
  [A + 'BoundObjectReference']: obj('The object a token is bound to.', {
    apiVersion: str('API version of the referent.'),
    kind: str('Kind of the referent: Pod, Secret or Node.'),
    name: str('Name of the referent.'),
    uid: str('UID of the referent; when given it must match.'),
  }),
  [A + 'SelfSubjectReview']: kindSchema('Answers who the caller is, as the API server authenticated it. Created, never stored.',
    gvk(G, 'v1', 'SelfSubjectReview'), {
      status: refTo(A + 'SelfSubjectReviewStatus', 'The caller\'s user information, filled by the server.', { default: {} }),
    }),
  [A + 'SelfSubjectReviewStatus']: obj('The result of a SelfSubjectReview.', {
    userInfo: refTo(A + 'UserInfo', 'The authenticated user.', { default: {} }),
  }),
  [A + 'TokenReview']: kindSchema('Asks whether a bearer token is valid and whose it is. Created, never stored.',
    gvk(G, 'v1', 'TokenReview'), {
      spec: refTo(A + 'TokenReviewSpec', 'The token to review.', { default: {} }),
      status: refTo(A + 'TokenReviewStatus', 'Whether the token authenticates, and as whom.', { default: {} }),
    }, { required: ['spec'] }),
  [A + 'TokenReviewSpec']: obj('A token to review.', {
    audiences: strings('The audiences the reviewer identifies as; the token must be valid for at least one. Defaults to the API server\'s audiences.', atomic),
    token: str('The opaque bearer token.'),
  }),
  [A + 'TokenReviewStatus']: obj('The result of a token review.', {
    audiences: strings('The audiences, among those asked for, the token is valid for.', atomic),
    authenticated: bool('Whether the token is valid.'),
    error: str('Why the token could not be validated.'),
    user: refTo(A + 'UserInfo', 'The user the token stands for.', { default: {} }),
  }),
  [A + 'UserInfo']: obj('An authenticated user.', {
    extra: { type: 'object', description: 'Further facts the authenticator provides.', additionalProperties: arr({ type: 'string', default: '' }, '') },
    groups: strings('The groups the user belongs to.', atomic),
    uid: str('A unique value identifying the user across time.'),
    username: str('The name that uniquely identifies the user.'),
  }),
});
