// certificates.k8s.io/v1 CertificateSigningRequest: upstream's registry strategies (main resource,
// status and approval subresources) and validation, v1.32.
//
// Who may do what is split as upstream splits it: the requester's identity is stamped by the API
// server on create; Approved/Denied conditions change only through /approval; the certificate and
// other conditions (Failed) only through /status; the spec never changes after creation.
import type { Obj, RequestContext, Strategy, SubresourceStrategy } from '../resource.ts';
import { duplicate, forbidden, invalid, notSupported, required, tooLong } from '../field-errors.ts';
import { type Errs, asArray, asObj, deepEqual, invalidRendered, isObj } from '../validation/fields.ts';
import { DNS1123LabelMaxLength, DNS1123SubdomainMaxLength, isDNS1123Label, isDNS1123Subdomain } from '../validation/names.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from '../validation/objectmeta.ts';
import { KEY_USAGES } from '../schemas/certificates.ts';
import { parseCsrPem } from '../../certificates/csr.ts';
import { X509Certificate } from 'node:crypto';

export const LEGACY_UNKNOWN_SIGNER = 'kubernetes.io/legacy-unknown';
const TRUE_ONLY_TYPES = ['Approved', 'Denied', 'Failed'];
const ALL_STATUS = ['False', 'True', 'Unknown'];
const SORTED_USAGES = [...KEY_USAGES].sort();

interface Options {
  allowSettingCertificate?: boolean;
  allowSettingApprovalConditions?: boolean;
  allowBothApprovedAndDenied: boolean;
  allowLegacySignerName: boolean;
  allowDuplicateConditionTypes: boolean;
  allowEmptyConditionType: boolean;
  allowArbitraryCertificate: boolean;
  allowDuplicateUsages: boolean;
  allowUnknownUsages: boolean;
}

const conditionsOf = (csr: Obj): Obj[] => asArray(csr.status?.conditions).filter(isObj);
const findConditions = (csr: Obj, type: string) => conditionsOf(csr).filter((c) => c.type === type);

/** PEM text of a []byte field (base64 in JSON). */
export function bytesField(v: unknown): Buffer {
  return typeof v === 'string' ? Buffer.from(v, 'base64') : Buffer.alloc(0);
}

/** Go's %#v of a []byte, as upstream prints a bad spec.request. */
function goBytes(b: Buffer): string {
  return `[]byte{${[...b].map((x) => '0x' + x.toString(16)).join(', ')}}`;
}

/** Options that keep objects stored before a rule existed updatable (upstream's compatibility switches). */
function optionsFor(csr: Obj, old?: Obj): Options {
  const types = old ? conditionsOf(old).map((c) => String(c.type ?? '')) : [];
  const usages = old ? asArray(old.spec?.usages) : [];
  return {
    allowBothApprovedAndDenied: types.includes('Approved') && types.includes('Denied'),
    allowLegacySignerName: old?.spec?.signerName === LEGACY_UNKNOWN_SIGNER,
    allowDuplicateConditionTypes: new Set(types).size !== types.length,
    allowEmptyConditionType: types.includes(''),
    // An existing invalid certificate may stay as it is.
    allowArbitraryCertificate: !!old && bytesField(old.status?.certificate).length > 0 && deepEqual(csr.status?.certificate, old.status?.certificate) && validateCertificate(bytesField(old.status?.certificate)) !== undefined,
    allowDuplicateUsages: new Set(usages).size !== usages.length,
    allowUnknownUsages: usages.some((u) => !KEY_USAGES.includes(u)),
  };
}

/** Whether status.certificate holds only well-formed CERTIFICATE PEM blocks; the message otherwise. */
export function validateCertificate(pem: Buffer): string | undefined {
  if (!pem.length) return undefined;
  const text = pem.toString('latin1');
  const re = /-----BEGIN ([^-\r\n]*)-----\r?\n([\s\S]*?)-----END \1-----/g;
  let blocks = 0;
  for (let m; (m = re.exec(text)); ) {
    if (m[1] !== 'CERTIFICATE') return `only CERTIFICATE PEM blocks are allowed, found ${JSON.stringify(m[1])}`;
    if (/^[^\n]*:/m.test(m[2]!)) return 'no PEM block headers are permitted';
    blocks++;
    try {
      new X509Certificate(Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64'));
    } catch {
      return 'x509: malformed certificate';
    }
  }
  return blocks ? undefined : 'must contain at least one CERTIFICATE PEM block';
}

export function validateSignerName(field: string, signerName: string): Errs {
  if (!signerName) return [required(field, 'signerName must be provided')];
  const segments = signerName.split('/');
  if (segments.length !== 2) return [invalid(field, signerName, "must be a fully qualified domain and path of the form 'example.com/signer-name'")];
  const [domain, path] = segments as [string, string];
  const errs: Errs = [];
  if (domain.length > DNS1123SubdomainMaxLength) errs.push(tooLong(field, domain, DNS1123SubdomainMaxLength));
  const domainLabels = domain.split('.');
  for (const lbl of domainLabels) {
    const msgs = isDNS1123Label(lbl);
    if (msgs.length) {
      for (const m of msgs) errs.push(invalid(field, domain, `validating label ${JSON.stringify(lbl)}: ${m}`));
      break;
    }
  }
  if (domainLabels.length < 2) errs.push(invalid(field, domain, 'should be a domain with at least two segments separated by dots'));
  for (const lbl of path.split('.')) {
    const msgs = isDNS1123Subdomain(lbl);
    if (msgs.length) {
      for (const m of msgs) errs.push(invalid(field, path, `validating label ${JSON.stringify(lbl)}: ${m}`));
      break;
    }
  }
  const max = DNS1123SubdomainMaxLength + (DNS1123SubdomainMaxLength + DNS1123LabelMaxLength + 1) + 1;
  if (signerName.length > max) errs.push(tooLong(field, signerName, max));
  return errs;
}

function validateConditions(csr: Obj, o: Options): Errs {
  const errs: Errs = [];
  const seen = new Set<string>();
  let approved = false;
  let denied = false;
  conditionsOf(csr).forEach((c, i) => {
    const f = `status.conditions[${i}]`;
    const type = String(c.type ?? '');
    if (!o.allowEmptyConditionType && !type) errs.push(required(`${f}.type`));
    const allowed = TRUE_ONLY_TYPES.includes(type) ? ['True'] : ALL_STATUS;
    if (!c.status) errs.push(required(`${f}.status`));
    else if (!allowed.includes(c.status)) errs.push(notSupported(`${f}.status`, c.status, allowed));
    if (!o.allowBothApprovedAndDenied) {
      if (type === 'Approved') {
        approved = true;
        if (denied) errs.push(invalid(`${f}.type`, type, 'Approved and Denied conditions are mutually exclusive'));
      } else if (type === 'Denied') {
        denied = true;
        if (approved) errs.push(invalid(`${f}.type`, type, 'Approved and Denied conditions are mutually exclusive'));
      }
    }
    if (!o.allowDuplicateConditionTypes) {
      if (seen.has(type)) errs.push(duplicate(`${f}.type`, type));
      seen.add(type);
    }
  });
  return errs;
}

function validateCsr(csr: Obj, o: Options): Errs {
  const errs = validateObjectMeta(csr.metadata, { namespaced: false, nameFn: () => [] });
  const spec = asObj(csr.spec);
  const request = bytesField(spec.request);
  try {
    parseCsrPem(request.toString('latin1'));
  } catch (err) {
    errs.push(invalidRendered('spec.request', goBytes(request), (err as Error).message));
  }
  const usages = asArray(spec.usages);
  if (!usages.length) errs.push(required('spec.usages', 'usages must be provided'));
  if (!o.allowUnknownUsages) usages.forEach((u, i) => !KEY_USAGES.includes(u) && errs.push(notSupported(`spec.usages[${i}]`, u, SORTED_USAGES)));
  if (!o.allowDuplicateUsages) {
    const seen = new Set<unknown>();
    usages.forEach((u, i) => {
      if (seen.has(u)) errs.push(duplicate(`spec.usages[${i}]`, u));
      seen.add(u);
    });
  }
  const signerName = typeof spec.signerName === 'string' ? spec.signerName : '';
  if (!o.allowLegacySignerName && signerName === LEGACY_UNKNOWN_SIGNER) errs.push(invalid('spec.signerName', signerName, 'the legacy signerName is not allowed via this API version'));
  else errs.push(...validateSignerName('spec.signerName', signerName));
  if (typeof spec.expirationSeconds === 'number' && spec.expirationSeconds < 600) {
    errs.push(invalid('spec.expirationSeconds', spec.expirationSeconds, 'may not specify a duration less than 600 seconds (10 minutes)'));
  }
  errs.push(...validateConditions(csr, o));
  if (!o.allowArbitraryCertificate) {
    const msg = validateCertificate(bytesField(csr.status?.certificate));
    if (msg) errs.push(invalidRendered('status.certificate', '"<certificate data>"', msg));
  }
  return errs;
}

function validateUpdate(csr: Obj, old: Obj, o: Options): Errs {
  const errs = validateCsr(csr, o);
  for (const t of ['Approved', 'Denied', 'Failed']) {
    if (findConditions(csr, t).length < findConditions(old, t).length) errs.push(forbidden('status.conditions', `updates may not remove a condition of type ${JSON.stringify(t)}`));
  }
  if (!o.allowSettingApprovalConditions) {
    for (const t of ['Approved', 'Denied']) {
      const before = findConditions(old, t);
      const after = findConditions(csr, t);
      if (after.length > before.length) errs.push(forbidden('status.conditions', `updates may not add a condition of type ${JSON.stringify(t)}`));
      else if (after.length === before.length && !deepEqual(before, after)) errs.push(forbidden('status.conditions', `updates may not modify a condition of type ${JSON.stringify(t)}`));
    }
  }
  const cert = bytesField(csr.status?.certificate);
  const oldCert = bytesField(old.status?.certificate);
  if (!cert.equals(oldCert)) {
    if (!o.allowSettingCertificate) errs.push(forbidden('status.certificate', 'updates may not set certificate content'));
    else if (oldCert.length > 0) errs.push(forbidden('status.certificate', 'updates may not modify existing certificate content'));
  }
  return [...errs, ...validateObjectMetaUpdate(csr.metadata, old.metadata)];
}

const now = () => new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** Conditions of this type are the old object's, whatever the update says (upstream preserveConditionInstances). */
function preserveConditions(csr: Obj, old: Obj, type: string): void {
  const kept = conditionsOf(csr).filter((c) => c.type !== type);
  const fromOld = findConditions(old, type);
  if (!kept.length && !fromOld.length && !conditionsOf(csr).length) return;
  setConditions(csr, [...kept, ...fromOld]);
}

function setConditions(csr: Obj, conditions: Obj[]): void {
  const status = (csr.status = isObj(csr.status) ? csr.status : {});
  if (conditions.length) status.conditions = conditions;
  else delete status.conditions;
}

/** Missing lastUpdateTime is now; missing lastTransitionTime is kept from the same type and status, else now. */
function populateTimestamps(csr: Obj, old: Obj): void {
  const t = now();
  for (const c of conditionsOf(csr)) {
    if (!c.lastUpdateTime) c.lastUpdateTime = t;
    if (!c.lastTransitionTime) {
      const prior = conditionsOf(old).find((o) => o.type === c.type && o.status === c.status && o.lastTransitionTime);
      c.lastTransitionTime = prior ? prior.lastTransitionTime : t;
    }
  }
}

function prepareForCreate(csr: Obj, ctx?: RequestContext): void {
  const spec = (csr.spec = isObj(csr.spec) ? csr.spec : {});
  // The requester is whoever sent the request, never what the body claims.
  for (const f of ['username', 'uid', 'groups', 'extra']) delete spec[f];
  const u = ctx?.user;
  if (u) {
    if (u.user) spec.username = u.user;
    if (u.uid) spec.uid = u.uid;
    if (u.groups.length) spec.groups = [...u.groups];
    if (u.extra && Object.keys(u.extra).length) spec.extra = structuredClone(u.extra);
  }
  // Nobody creates an approved request.
  csr.status = {};
  delete csr.metadata.generation;
}

const statusStrategy: SubresourceStrategy = {
  prepareForUpdate(csr, old) {
    keepSpecAndMetadataShape(csr, old);
    preserveConditions(csr, old, 'Approved');
    preserveConditions(csr, old, 'Denied');
    populateTimestamps(csr, old);
  },
  validateUpdate: (csr, old) => validateUpdate(csr, old, { ...optionsFor(csr, old), allowSettingCertificate: true }),
};

const approvalStrategy: SubresourceStrategy = {
  prepareForUpdate(csr, old) {
    keepSpecAndMetadataShape(csr, old);
    const status = (csr.status = isObj(csr.status) ? csr.status : {});
    if (old.status?.certificate !== undefined) status.certificate = old.status.certificate;
    else delete status.certificate;
    preserveConditions(csr, old, 'Failed');
    populateTimestamps(csr, old);
  },
  validateUpdate: (csr, old) => validateUpdate(csr, old, { ...optionsFor(csr, old), allowSettingApprovalConditions: true }),
};

function keepSpecAndMetadataShape(csr: Obj, old: Obj): void {
  csr.spec = structuredClone(old.spec);
  if (old.metadata?.generation === undefined) delete csr.metadata.generation;
}

export const certificateSigningRequestStrategy: Strategy = {
  default() {},
  prepareForCreate,
  prepareForUpdate(csr, old) {
    csr.spec = structuredClone(old.spec);
    if (old.status === undefined) delete csr.status;
    else csr.status = structuredClone(old.status);
    if (old.metadata?.generation === undefined) delete csr.metadata.generation;
  },
  prepareForStatusUpdate: statusStrategy.prepareForUpdate,
  validate: (csr) => validateCsr(csr, optionsFor(csr)),
  validateUpdate: (csr, old) => validateUpdate(csr, old, optionsFor(csr, old)),
  validateStatusUpdate: statusStrategy.validateUpdate,
  subresources: { status: statusStrategy, approval: approvalStrategy },
};
