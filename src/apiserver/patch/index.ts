// The three patch formats of PATCH requests, applied as upstream Kubernetes v1.32 applies them:
// - application/json-patch+json            → applyJsonPatch (RFC 6902)
// - application/merge-patch+json           → applyMergePatch (RFC 7386)
// - application/strategic-merge-patch+json → applyStrategicMergePatch (schema-guided)
// All are pure: they return a new document and never change their arguments. Failures throw
// PatchError (an ApiError) whose code/reason/message are what upstream's Status carries.
export { applyJsonPatch, MAX_JSON_PATCH_OPERATIONS } from './json-patch.ts';
export { applyMergePatch } from './merge-patch.ts';
export { applyStrategicMergePatch } from './strategic.ts';
export { PatchError } from './errors.ts';
