// Validation errors in the shape of upstream's field.Error, formatted as upstream prints them,
// so that kubectl shows users the same messages a real cluster would.

export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueForbidden'
  | 'FieldValueNotSupported'
  | 'FieldValueDuplicate'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueTypeInvalid'
  | 'FieldValueNotFound';

export interface FieldError {
  type: FieldErrorType;
  /** JSON path in upstream's notation: 'spec.template.spec.containers[0].image', 'metadata.labels[app]' */
  field: string;
  badValue?: unknown;
  detail?: string;
  /** For NotSupported: the allowed values. */
  supported?: string[];
}

const typeText: Record<FieldErrorType, string> = {
  FieldValueRequired: 'Required value',
  FieldValueInvalid: 'Invalid value',
  FieldValueForbidden: 'Forbidden',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
  FieldValueTypeInvalid: 'Invalid value',
  FieldValueNotFound: 'Not found',
};

/** Upstream renders bad values Go-style: strings quoted, numbers bare, maps as map[k:v]. */
export function formatBadValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[]${v.length ? '{' + v.map(formatBadValue).join(', ') + '}' : '{}'}`;
  if (typeof v === 'object') {
    const entries = Object.keys(v as object).sort().map((k) => `${k}:${formatPlain((v as Record<string, unknown>)[k])}`);
    return `map[${entries.join(' ')}]`;
  }
  return String(v);
}

function formatPlain(v: unknown): string {
  return typeof v === 'string' ? v : formatBadValue(v);
}

/** The part after 'field: ', e.g. 'Invalid value: -1: must be greater than or equal to 0'. */
export function fieldErrorBody(e: FieldError): string {
  let s = typeText[e.type];
  const showsValue = !['FieldValueRequired', 'FieldValueForbidden', 'FieldValueTooLong', 'FieldValueTooMany'].includes(e.type);
  if (showsValue && e.badValue !== undefined) s += `: ${formatBadValue(e.badValue)}`;
  if (e.type === 'FieldValueNotSupported' && e.supported?.length) {
    s += `: supported values: ${e.supported.map((x) => JSON.stringify(x)).join(', ')}`;
  } else if (e.detail) {
    s += `: ${e.detail}`;
  }
  return s;
}

export function formatFieldError(e: FieldError): string {
  return `${e.field}: ${fieldErrorBody(e)}`;
}

// Small constructors keep validators readable.
export const required = (field: string, detail = ''): FieldError => ({ type: 'FieldValueRequired', field, detail });
export const invalid = (field: string, badValue: unknown, detail: string): FieldError => ({ type: 'FieldValueInvalid', field, badValue, detail });
export const forbidden = (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, detail });
export const notSupported = (field: string, badValue: unknown, supported: string[]): FieldError => ({ type: 'FieldValueNotSupported', field, badValue, supported });
export const duplicate = (field: string, badValue: unknown): FieldError => ({ type: 'FieldValueDuplicate', field, badValue });
export const tooLong = (field: string, badValue: unknown, max: number): FieldError => ({ type: 'FieldValueTooLong', field, badValue, detail: `must have at most ${max} bytes` });
