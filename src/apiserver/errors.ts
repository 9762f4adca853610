// API errors as Kubernetes Status objects, with upstream's codes, reasons and messages.
import type { FieldError } from '../api/field-errors.ts';
import { fieldErrorBody, formatFieldError } from '../api/field-errors.ts';

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: { reason?: string; message?: string; field?: string }[];
  retryAfterSeconds?: number;
}

export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details?: StatusDetails;
  /** The Status's ListMeta, when it carries one (an expired continue token's replacement). */
  listMeta?: { continue?: string };

  constructor(code: number, reason: string, message: string, details?: StatusDetails) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  toStatus(): Record<string, unknown> {
    const s: Record<string, unknown> = { kind: 'Status', apiVersion: 'v1', metadata: this.listMeta ?? {}, status: 'Failure', message: this.message };
    // An error upstream never converted to a Status (reason Unknown) has no reason at all.
    if (this.reason) s.reason = this.reason;
    if (this.details) s.details = this.details;
    s.code = this.code;
    return s;
  }
}

/** Identifies a resource in messages the way upstream does: 'pods', 'statefulsets.apps'. */
export interface QualifiedResource {
  group: string;
  resource: string;
}

const qualified = (r: QualifiedResource) => (r.group ? `${r.resource}.${r.group}` : r.resource);

export const notFound = (r: QualifiedResource, name: string) =>
  new ApiError(404, 'NotFound', `${qualified(r)} "${name}" not found`, { name, group: r.group || undefined, kind: r.resource });

export const alreadyExists = (r: QualifiedResource, name: string) =>
  new ApiError(409, 'AlreadyExists', `${qualified(r)} "${name}" already exists`, { name, group: r.group || undefined, kind: r.resource });

export const conflict = (r: QualifiedResource, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again') =>
  new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(r)} "${name}": ${why}`, { name, group: r.group || undefined, kind: r.resource });

export const badRequest = (message: string) => new ApiError(400, 'BadRequest', message);

export const methodNotSupported = (r: QualifiedResource, action: string) =>
  new ApiError(405, 'MethodNotAllowed', `${action} is not supported on resources of kind "${qualified(r)}"`, { group: r.group || undefined, kind: r.resource });

export const forbidden = (r: QualifiedResource, name: string, why: string) =>
  new ApiError(403, 'Forbidden', `${qualified(r)} "${name}" is forbidden: ${why}`, { name, group: r.group || undefined, kind: r.resource });

export const gone = (message: string) => new ApiError(410, 'Expired', message);

export const tooLarge = (limit: number) => new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`);

/** Upstream lists what the endpoint accepts (object bodies, or the patch types for PATCH). */
export const unsupportedMediaType = (accepted: string[]) =>
  new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`);

/** 422 with one cause per field error; upstream names the kind with its group: 'StatefulSet.apps "web" is invalid: ...'. */
export function invalid(kind: string, group: string, name: string, errs: FieldError[]): ApiError {
  const qualifiedKind = group ? `${kind}.${group}` : kind;
  const list = errs.map(formatFieldError);
  const summary = list.length === 1 ? list[0] : `[${list.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${summary}`, {
    name,
    group: group || undefined,
    kind,
    causes: errs.map((e) => ({ reason: e.type, message: fieldErrorBody(e), field: e.field })),
  });
}

export const internalError = (err: unknown) =>
  new ApiError(500, 'InternalError', `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`, {
    causes: [{ message: err instanceof Error ? err.message : String(err) }],
  });
