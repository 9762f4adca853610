// certificates.k8s.io/v1: CertificateSigningRequest, through which nodes (and other clients) get
// X.509 credentials signed by the cluster CA once the request is approved.
import { defineComponents } from '../schema.ts';
import { str, strEnum, int32, bytes, refTo, arr, arrOf, obj, strings, time, kindWithList, gvk, atomic, mapList } from './helpers.ts';

const C = 'io.k8s.api.certificates.v1.';

export const KEY_USAGES = [
  'signing', 'digital signature', 'content commitment', 'key encipherment', 'key agreement', 'data encipherment',
  'cert sign', 'crl sign', 'encipher only', 'decipher only', 'any', 'server auth', 'client auth', 'code signing',
  'email protection', 's/mime', 'ipsec end system', 'ipsec tunnel', 'ipsec user', 'timestamping', 'ocsp signing',
  'microsoft sgc', 'netscape sgc',
];

defineComponents({
  ...kindWithList(C + 'CertificateSigningRequest', 'A request for a signed X.509 certificate: the signer named in spec.signerName issues it into status.certificate once an Approved condition is present. Nodes use it to obtain their client and serving certificates.',
    gvk('certificates.k8s.io', 'v1', 'CertificateSigningRequest'), {
      spec: refTo(C + 'CertificateSigningRequestSpec', 'The certificate request itself and the identity of its requester. Immutable after creation.', { default: {} }),
      status: refTo(C + 'CertificateSigningRequestStatus', 'Whether the request was approved, denied or failed, and the issued certificate.', { default: {} }),
    }, 'CertificateSigningRequests', { required: ['spec'] }),
  [C + 'CertificateSigningRequestSpec']: obj('The request and who made it.', {
    expirationSeconds: int32('The requested validity of the certificate, in seconds; the signer may issue a shorter or longer one. At least 600.'),
    extra: { type: 'object', description: 'Extra attributes of the user that created the request. Set by the API server on creation; immutable.', additionalProperties: arr(str('', { default: '' }), '') },
    groups: strings('Groups of the user that created the request. Set by the API server on creation; immutable.', atomic),
    request: bytes('A PEM-encoded PKCS#10 "CERTIFICATE REQUEST" block. Base64-encoded in JSON and YAML.', atomic),
    signerName: str('The signer expected to issue the certificate, a qualified name such as kubernetes.io/kube-apiserver-client.'),
    uid: str('UID of the user that created the request. Set by the API server on creation; immutable.'),
    usages: arr(strEnum('', KEY_USAGES, { default: '' }), 'Key usages requested in the issued certificate, e.g. "digital signature" and "client auth".', atomic),
    username: str('Name of the user that created the request. Set by the API server on creation; immutable.'),
  }, { required: ['request', 'signerName'] }),
  [C + 'CertificateSigningRequestStatus']: obj('The outcome of a request.', {
    certificate: bytes('The issued certificate, PEM-encoded, set by the signer through the status subresource once the request is Approved. Immutable once set.', atomic),
    conditions: arrOf(C + 'CertificateSigningRequestCondition', 'Approved, Denied or Failed conditions.', mapList(['type'])),
  }),
  [C + 'CertificateSigningRequestCondition']: obj('One condition of a request.', {
    lastTransitionTime: time('When the condition last changed status.'),
    lastUpdateTime: time('When the condition was last updated.'),
    message: str('A human-readable explanation.'),
    reason: str('A brief machine-readable reason.'),
    status: str('True, False or Unknown. Approved, Denied and Failed may only be True.'),
    type: str('Approved, Denied or Failed (or another type).'),
  }, { required: ['type', 'status'] }),
});
