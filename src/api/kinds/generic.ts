import type { Obj, Strategy } from '../resource.ts';

/** Objects with a spec get generation 1 on create and a bump whenever the spec changes. */
export const genericStrategy: Strategy = {
  default() {},
  prepareForCreate(obj: Obj) {
    if ('spec' in obj) obj.metadata.generation = 1;
  },
  prepareForUpdate(obj: Obj, old: Obj) {
    if ('status' in old) obj.status = old.status;
    else delete obj.status;
    const gen = old.metadata?.generation;
    if (gen !== undefined) obj.metadata.generation = JSON.stringify(obj.spec) === JSON.stringify(old.spec) ? gen : gen + 1;
  },
  prepareForStatusUpdate(obj: Obj, old: Obj) {
    for (const k of Object.keys(obj)) if (k !== 'status' && k !== 'metadata') delete obj[k];
    for (const k of Object.keys(old)) if (k !== 'status' && k !== 'metadata') obj[k] = old[k];
  },
  validate() {
    return [];
  },
  validateUpdate() {
    return [];
  },
};
