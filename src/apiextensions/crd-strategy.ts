// The registry strategy of CustomResourceDefinitions: v1 defaults, status owned by the server
// (reset on create, kept by spec writes), storedVersions tracking, generation, and the cleanup
// finalizer plus Terminating condition set by the first DELETE.
import type { Obj, Strategy } from '../api/resource.ts';
import { deepEqual } from '../api/validation/fields.ts';
import { validateCrd, validateCrdStatusUpdate, validateCrdUpdate } from './crd-validation.ts';
import { setCondition } from './conditions.ts';

export const CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

function storageVersion(crd: Obj): string | undefined {
  return (Array.isArray(crd.spec?.versions) ? crd.spec.versions : []).find((v: Obj) => v?.storage)?.name;
}

export const crdStrategy: Strategy = {
  default(crd) {
    const spec = isObj(crd.spec) ? crd.spec : undefined;
    if (!spec) return;
    if (!isObj(spec.conversion)) spec.conversion = { strategy: 'None' };
    const names = spec.names;
    if (isObj(names) && typeof names.kind === 'string' && names.kind) {
      if (!names.singular) names.singular = names.kind.toLowerCase();
      if (!names.listKind) names.listKind = `${names.kind}List`;
    }
  },
  prepareForCreate(crd) {
    const v = storageVersion(crd);
    crd.status = { acceptedNames: { kind: '', plural: '' }, storedVersions: v ? [v] : [] };
    crd.metadata.generation = 1;
  },
  prepareForUpdate(crd, old) {
    crd.status = old.status;
    const gen = old.metadata?.generation ?? 0;
    crd.metadata.generation = deepEqual(crd.spec, old.spec) ? gen : gen + 1;
    // A new storage version is recorded at once: objects may be written in it from now on.
    const v = storageVersion(crd);
    const stored: string[] = old.status?.storedVersions ?? [];
    if (v && !stored.includes(v)) crd.status = { ...old.status, storedVersions: [...stored, v] };
  },
  prepareForStatusUpdate(crd, old) {
    for (const k of Object.keys(crd)) if (k !== 'status' && k !== 'metadata' && k !== 'apiVersion' && k !== 'kind') delete crd[k];
    for (const k of Object.keys(old)) if (k !== 'status' && k !== 'metadata' && k !== 'apiVersion' && k !== 'kind') crd[k] = old[k];
    crd.metadata = { ...old.metadata, resourceVersion: crd.metadata.resourceVersion };
  },
  validate: validateCrd,
  validateUpdate: validateCrdUpdate,
  validateStatusUpdate: validateCrdStatusUpdate,
  beginDeletion(crd, finalizers) {
    finalizers.add(CLEANUP_FINALIZER);
    crd.status = setCondition(crd.status ?? {}, {
      type: 'Terminating',
      status: 'True',
      reason: 'InstanceDeletionPending',
      message: 'CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon',
    });
  },
};
