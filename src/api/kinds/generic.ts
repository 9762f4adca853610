import type { Obj, Strategy } from '../resource.ts';
import { deepEqual } from '../validation/fields.ts';

// Building blocks of registry strategies. Upstream's BeforeUpdate always restores the stored
// generation before the kind's PrepareForUpdate runs, so clients can never set it themselves.

export function keepGeneration(obj: Obj, old: Obj): void {
  const gen = old.metadata?.generation;
  if (!obj.metadata) obj.metadata = {};
  if (gen === undefined) delete obj.metadata.generation;
  else obj.metadata.generation = gen;
}

/** Main-resource update of a kind with a status subresource: status changes are ignored. */
export function keepOldStatus(obj: Obj, old: Obj): void {
  keepGeneration(obj, old);
  if (old.status === undefined) delete obj.status;
  else obj.status = old.status;
}

/** /status update: only status (and metadata) may change. */
export function keepOldSpec(obj: Obj, old: Obj): void {
  keepGeneration(obj, old);
  for (const k of Object.keys(obj)) if (k !== 'status' && k !== 'metadata' && k !== 'apiVersion' && k !== 'kind') delete obj[k];
  for (const k of Object.keys(old)) if (k !== 'status' && k !== 'metadata' && k !== 'apiVersion' && k !== 'kind') obj[k] = old[k];
}

/** Kinds whose spec tracks generation: 1 on create, +1 whenever the spec changes. */
export function bumpGenerationOnSpecChange(obj: Obj, old: Obj): void {
  const gen = old.metadata?.generation ?? 0;
  obj.metadata.generation = deepEqual(obj.spec, old.spec) ? gen : gen + 1;
}

/** Objects with a spec get generation 1 on create and a bump whenever the spec changes. */
export const genericStrategy: Strategy = {
  default() {},
  prepareForCreate(obj: Obj) {
    if ('spec' in obj) obj.metadata.generation = 1;
  },
  prepareForUpdate(obj: Obj, old: Obj) {
    keepOldStatus(obj, old);
    if (old.metadata?.generation !== undefined) bumpGenerationOnSpecChange(obj, old);
  },
  prepareForStatusUpdate: keepOldSpec,
  validate() {
    return [];
  },
  validateUpdate() {
    return [];
  },
};
