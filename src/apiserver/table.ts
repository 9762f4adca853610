// Renders objects as meta.k8s.io Tables using each kind's columns.
import type { Obj, ResourceDef } from '../api/resource.ts';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export function partialMetadata(obj: Obj, version = 'v1'): Obj {
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${version}`, metadata: obj.metadata };
}

export function tableRow(r: ResourceDef, obj: Obj, include: IncludeObject, now: number, version: string): Obj {
  const row: Obj = { cells: r.table.cells(obj, now) };
  if (include === 'Object') row.object = obj;
  else if (include === 'Metadata') row.object = partialMetadata(obj, version);
  return row;
}

export interface TableEnvelopeOptions {
  version: string;
  resourceVersion?: string;
  continue?: string;
  remaining?: number;
  noHeaders?: boolean;
}

/** A Table without its rows: kind, apiVersion, list metadata and (unless noHeaders) the columns. */
export function tableEnvelope(r: ResourceDef, opts: TableEnvelopeOptions): Obj {
  const metadata: Obj = {};
  if (opts.resourceVersion) metadata.resourceVersion = opts.resourceVersion;
  if (opts.continue) metadata.continue = opts.continue;
  if (opts.remaining !== undefined) metadata.remainingItemCount = opts.remaining;
  const table: Obj = { kind: 'Table', apiVersion: `meta.k8s.io/${opts.version}`, metadata };
  if (!opts.noHeaders) table.columnDefinitions = r.table.columns;
  return table;
}

export function toTable(r: ResourceDef, objs: Obj[], opts: TableEnvelopeOptions & { include: IncludeObject; now?: number }): Obj {
  const now = opts.now ?? Date.now();
  const table = tableEnvelope(r, opts);
  table.rows = objs.map((o) => tableRow(r, o, opts.include, now, opts.version));
  return table;
}
