// ConfigMap, Secret and ServiceAccount (core/v1): data-carrying kinds without status.
import type { Obj, Strategy } from '../resource.ts';
import { forbidden, invalid, required, tooLong } from '../field-errors.ts';
import { type Errs, asObj, isObj, validateImmutableField } from '../validation/fields.ts';
import { byteLength, isConfigMapKey, nameIsDNSSubdomain } from '../validation/names.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from '../validation/objectmeta.ts';
import { keepGeneration } from './generic.ts';

export const maxSecretSize = 1 * 1024 * 1024;

const plain: Pick<Strategy, 'prepareForCreate' | 'prepareForUpdate'> = {
  prepareForCreate(obj) {
    if (obj.metadata) delete obj.metadata.generation;
  },
  prepareForUpdate: keepGeneration,
};

// ---------------------------------------------------------------- ConfigMap

export function validateConfigMap(cm: Obj): Errs {
  const errs = validateObjectMeta(cm.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain });
  let total = 0;
  const data = asObj(cm.data);
  const binary = asObj(cm.binaryData);
  for (const [k, v] of Object.entries(data)) {
    for (const m of isConfigMapKey(k)) errs.push(invalid(`data[${k}]`, k, m));
    total += byteLength(String(v));
  }
  for (const [k, v] of Object.entries(binary)) {
    for (const m of isConfigMapKey(k)) errs.push(invalid(`binaryData[${k}]`, k, m));
    if (k in data) errs.push(invalid(`binaryData[${k}]`, k, 'duplicate of key present in data'));
    total += Buffer.from(String(v), 'base64').length;
  }
  if (total > maxSecretSize) errs.push(tooLong('', '', maxSecretSize));
  return errs;
}

/** `immutable: true` freezes data and the flag itself. */
function validateImmutableData(obj: Obj, old: Obj, fields: string[]): Errs {
  if (old.immutable !== true) return [];
  const errs: Errs = [];
  if (obj.immutable !== true) errs.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
  for (const f of fields) {
    if (JSON.stringify(obj[f] ?? {}) !== JSON.stringify(old[f] ?? {})) errs.push(forbidden(f, 'field is immutable when `immutable` is set'));
  }
  return errs;
}

export const configMapStrategy: Strategy = {
  default() {},
  ...plain,
  validate: validateConfigMap,
  validateUpdate: (cm, old) => [...validateObjectMetaUpdate(cm.metadata, old.metadata), ...validateImmutableData(cm, old, ['data', 'binaryData']), ...validateConfigMap(cm)],
};

// ---------------------------------------------------------------- Secret

const base64Re = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Go's decoder message for bad base64 in a []byte field, or undefined when valid. */
export function base64Error(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'illegal base64 data at input byte 0';
  if (base64Re.test(value)) return undefined;
  let i = 0;
  while (i < value.length && /[A-Za-z0-9+/]/.test(value[i])) i++;
  return `illegal base64 data at input byte ${i}`;
}

export function defaultSecret(secret: Obj): void {
  if (!secret.type) secret.type = 'Opaque';
  // stringData is write-only: it is merged into data (base64) and never stored.
  if (isObj(secret.stringData)) {
    if (!isObj(secret.data)) secret.data = {};
    for (const [k, v] of Object.entries(secret.stringData)) secret.data[k] = Buffer.from(String(v), 'utf8').toString('base64');
    delete secret.stringData;
  }
}

const requiredKeysByType: Record<string, string[]> = {
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
};

export function validateSecret(secret: Obj): Errs {
  const errs = validateObjectMeta(secret.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain });
  const data = asObj(secret.data);
  let total = 0;
  for (const [k, v] of Object.entries(data)) {
    for (const m of isConfigMapKey(k)) errs.push(invalid(`data[${k}]`, k, m));
    const bad = base64Error(v);
    if (bad) errs.push(invalid(`data[${k}]`, '<secret contents redacted>', bad));
    else total += Buffer.from(String(v), 'base64').length;
  }
  if (total > maxSecretSize) errs.push(tooLong('data', '', maxSecretSize));
  const type = String(secret.type ?? '');
  if (type === 'kubernetes.io/service-account-token' && !asObj(secret.metadata?.annotations)['kubernetes.io/service-account.name']) {
    errs.push(required('metadata.annotations[kubernetes.io/service-account.name]'));
  }
  for (const k of requiredKeysByType[type] ?? []) if (!(k in data)) errs.push(required(`data[${k}]`));
  if (type === 'kubernetes.io/basic-auth' && !('username' in data) && !('password' in data)) {
    errs.push(required('data[username]'), required('data[password]'));
  }
  return errs;
}

export const secretStrategy: Strategy = {
  default: defaultSecret,
  ...plain,
  validate: validateSecret,
  validateUpdate: (s, old) => [
    ...validateObjectMetaUpdate(s.metadata, old.metadata),
    ...validateImmutableField(s.type ?? '', old.type ?? '', 'type'),
    ...validateImmutableData(s, old, ['data']),
    ...validateSecret(s),
  ],
};

// ---------------------------------------------------------------- ServiceAccount

export function validateServiceAccount(sa: Obj): Errs {
  return validateObjectMeta(sa.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain });
}

export const serviceAccountStrategy: Strategy = {
  default() {},
  ...plain,
  validate: validateServiceAccount,
  validateUpdate: (sa, old) => [...validateObjectMetaUpdate(sa.metadata, old.metadata), ...validateServiceAccount(sa)],
};
