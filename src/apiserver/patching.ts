// Chooses the patch algorithm from the request's Content-Type.
import type { Obj, ResourceDef } from '../api/resource.ts';
import { components } from '../api/schema.ts';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch } from './patch/index.ts';
import { ApiError } from './errors.ts';

export const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
];

export function applyPatch(patchType: string, doc: Obj, patch: unknown, r: ResourceDef): Obj {
  try {
    switch (patchType) {
      case 'application/json-patch+json':
        return applyJsonPatch(doc, patch) as Obj;
      case 'application/merge-patch+json':
        return applyMergePatch(doc, patch) as Obj;
      case 'application/strategic-merge-patch+json':
        return applyStrategicMergePatch(doc, patch, components[r.schema]) as Obj;
      default:
        throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(', ')}`);
    }
  } catch (err) {
    if (err instanceof ApiError) throw err;
    const e = err as { message?: string; status?: number; code?: number };
    const code = typeof e.status === 'number' ? e.status : 422;
    throw new ApiError(code, code === 400 ? 'BadRequest' : 'Invalid', e.message ?? String(err));
  }
}
