// Which fields each kind can be selected by, and their values for one object. Mirrors upstream's
// field label conversions (what a request may name) and the registries' selectable field sets
// (what an object offers).
import type { Obj } from '../resource.ts';
import { SelectorError } from './labels.ts';
import type { FieldSelector, FieldTerm } from './fields.ts';

const meta = ['metadata.name', 'metadata.namespace'];

// Kinds with their own conversion reject unknown labels with 'field label not supported: X'.
// Every other kind falls back to upstream's default, which knows only the two metadata fields.
const kindLabels: Record<string, readonly string[]> = {
  Pod: [
    ...meta,
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'spec.hostNetwork',
    'status.phase',
    'status.podIP',
    'status.podIPs',
    'status.nominatedNodeName',
  ],
  Node: ['metadata.name', 'spec.unschedulable'],
  Namespace: ['metadata.name', 'status.phase'],
  Secret: [...meta, 'type'],
  Service: [...meta, 'spec.clusterIP', 'spec.type'],
  Event: [
    ...meta,
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ],
};

// Old clients still say spec.host for a pod's node.
const renamed: Record<string, Record<string, string>> = { Pod: { 'spec.host': 'spec.nodeName' } };

/** The field labels a kind accepts in a field selector. */
export function supportedFieldLabels(kind: string): readonly string[] {
  return kindLabels[kind] ?? meta;
}

/** Alias of supportedFieldLabels. */
export const supportedFields = supportedFieldLabels;

/** Upstream's ConvertFieldLabel: the canonical label, or a SelectorError with upstream's message. */
export function convertFieldLabel(kind: string, label: string): string {
  const alias = renamed[kind]?.[label];
  if (alias) return alias;
  const known = kindLabels[kind];
  if (known) {
    if (known.includes(label)) return label;
    throw new SelectorError(`field label not supported: ${label}`);
  }
  if (meta.includes(label)) return label;
  throw new SelectorError(`${JSON.stringify(label)} is not a known field selector: only "metadata.name", "metadata.namespace"`);
}

/** Check every term against the kind and canonicalise labels; the server answers a throw with 400. */
export function validateFieldSelector(kind: string, sel: FieldSelector): FieldSelector {
  const terms: FieldTerm[] = sel.terms.map((t) => ({ ...t, field: convertFieldLabel(kind, t.field) }));
  return { terms };
}

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

/** The selectable field values of one object of `kind`. */
export function fieldValuesFor(kind: string, obj: Obj): Record<string, string> {
  const values: Record<string, string> = {
    'metadata.name': str(obj.metadata?.name),
    'metadata.namespace': str(obj.metadata?.namespace),
  };
  const spec = obj.spec ?? {};
  const status = obj.status ?? {};
  switch (kind) {
    case 'Pod':
      values['spec.nodeName'] = str(spec.nodeName);
      values['spec.restartPolicy'] = str(spec.restartPolicy);
      values['spec.schedulerName'] = str(spec.schedulerName);
      values['spec.serviceAccountName'] = str(spec.serviceAccountName);
      values['spec.hostNetwork'] = spec.hostNetwork ? 'true' : 'false';
      values['status.phase'] = str(status.phase);
      // podIPs is authoritative; podIP alone is what older writers set.
      values['status.podIP'] = str(status.podIPs?.[0]?.ip ?? status.podIP);
      values['status.nominatedNodeName'] = str(status.nominatedNodeName);
      break;
    case 'Node':
      values['spec.unschedulable'] = spec.unschedulable ? 'true' : 'false';
      break;
    case 'Namespace':
      values['status.phase'] = str(status.phase);
      break;
    case 'Secret':
      values['type'] = str(obj.type);
      break;
    case 'Service':
      values['spec.clusterIP'] = str(spec.clusterIP);
      values['spec.type'] = str(spec.type);
      break;
    case 'Event': {
      const io = obj.involvedObject ?? {};
      values['involvedObject.kind'] = str(io.kind);
      values['involvedObject.namespace'] = str(io.namespace);
      values['involvedObject.name'] = str(io.name);
      values['involvedObject.uid'] = str(io.uid);
      values['involvedObject.apiVersion'] = str(io.apiVersion);
      values['involvedObject.resourceVersion'] = str(io.resourceVersion);
      values['involvedObject.fieldPath'] = str(io.fieldPath);
      values['reason'] = str(obj.reason);
      values['reportingComponent'] = str(obj.reportingComponent);
      values['source'] = str(obj.source?.component || obj.reportingComponent);
      values['type'] = str(obj.type);
      break;
    }
  }
  return values;
}
