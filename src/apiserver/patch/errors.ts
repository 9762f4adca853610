// Errors raised while applying a patch, carrying the HTTP status upstream's API server answers
// with, so the handler can turn them into the same Status object a real cluster returns.
import { ApiError } from '../errors.ts';

/**
 * A patch could not be applied. `code` is the HTTP status upstream answers with:
 * - 400 BadRequest: the patch document itself is malformed (not a list of operations, not an
 *   object, a bad `$setElementOrder`/`$retainKeys`/`$deleteFromPrimitiveList` directive);
 * - 413 RequestEntityTooLarge: a JSON patch with more than 10,000 operations;
 * - 422 Invalid: a well-formed JSON patch that does not apply (missing path, failed `test`),
 *   or a strategic patch that nests lists in lists;
 * - 500 with no reason: any other strategic-merge failure (unknown `$patch` value, a list
 *   element without its merge key), which upstream passes through as a plain error.
 *
 * `message` (and so `toStatus()`) is exactly what upstream puts in the Status: for 422 that is a
 * fixed sentence, because upstream drops the library's explanation there. `detail` always holds
 * the library's own explanation (e.g. `testing value /spec/replicas failed: test failed`).
 */
export class PatchError extends ApiError {
  readonly detail: string;

  constructor(code: 400 | 413 | 422 | 500, reason: string, message: string, detail: string) {
    super(code, reason, message, code === 422 ? {} : undefined);
    this.name = 'PatchError';
    this.detail = detail;
  }
}

export const patchBadRequest = (detail: string) => new PatchError(400, 'BadRequest', detail, detail);

/** Upstream builds these with NewGenericServerResponse(422), which replaces the text. */
export const patchUnprocessable = (detail: string) =>
  new PatchError(422, 'Invalid', 'the server rejected our request due to an error in our request', detail);

export const patchTooLarge = (detail: string) =>
  new PatchError(413, 'RequestEntityTooLarge', `Request entity too large: ${detail}`, detail);

/** A plain Go error reaching the handler becomes a 500 Status with an empty reason. */
export const patchInternal = (detail: string) => new PatchError(500, '', detail, detail);

/** Renders a decoded JSON value the way Go's %v does for interface{} values. */
export function goValue(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(goValue).join(' ')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `map[${Object.keys(o).sort().map((k) => `${k}:${goValue(o[k])}`).join(' ')}]`;
  }
  return String(v);
}

/** The Go type name of a decoded JSON value, as reflect prints it. */
export function goTypeName(v: unknown): string {
  if (v === null || v === undefined) return '%!s(<nil>)';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int64' : 'float64';
  if (Array.isArray(v)) return '[]interface {}';
  return 'map[string]interface {}';
}

/** encoding/json's name for a JSON value's kind in "cannot unmarshal X into ..." messages. */
export function jsonKindName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  return typeof v; // 'string' | 'number' | 'object'
}
