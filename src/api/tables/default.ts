// Upstream's default table (for kinds without a printer): the name and the creation timestamp,
// which kubectl renders as AGE itself.
import type { TableDef } from '../resource.ts';
import { col, doc, nameColumn } from './helpers.ts';

export const defaultTable: TableDef = {
  columns: [nameColumn(), col('Created At', doc('ObjectMeta.creationTimestamp'), { type: 'date' })],
  cells: (obj) => [obj.metadata?.name ?? '', obj.metadata?.creationTimestamp ?? null],
};
