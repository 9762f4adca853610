// Building blocks shared by the per-kind tables: column definitions and the small formatting
// rules upstream's printers apply in several places.
import type { Obj, TableColumn } from '../resource.ts';
import { fieldDoc } from './descriptions.ts';
import type { FieldDocKey } from './descriptions.ts';
import { age } from './age.ts';

export type Cell = string | number | boolean | null;

export function col(name: string, description: string, opts: { type?: TableColumn['type']; priority?: number; format?: string } = {}): TableColumn {
  const c: TableColumn = { name, type: opts.type ?? 'string', description, priority: opts.priority ?? 0 };
  if (opts.format) c.format = opts.format;
  return c;
}

export const doc = (key: FieldDocKey): string => fieldDoc[key];

export const nameColumn = (): TableColumn => col('Name', doc('ObjectMeta.name'), { format: 'name' });
export const ageColumn = (): TableColumn => col('Age', doc('ObjectMeta.creationTimestamp'));
export const containersColumn = (priority = 1): TableColumn => col('Containers', 'Names of each container in the template.', { priority });
export const imagesColumn = (priority = 1): TableColumn => col('Images', 'Images referenced by each container in the template.', { priority });

export const nameOf = (obj: Obj): string => obj.metadata?.name ?? '';
export const ageOf = (obj: Obj, now: number): string => age(obj.metadata?.creationTimestamp ?? undefined, now);

/** Container names and images, each comma-joined (the wide CONTAINERS / IMAGES cells). */
export function containerCells(containers: Obj[] | undefined): [string, string] {
  const list = containers ?? [];
  return [list.map((c) => c.name ?? '').join(','), list.map((c) => c.image ?? '').join(',')];
}

/** labels.FormatLabels: sorted k=v pairs, '<none>' when empty. */
export function formatLabels(labels: Record<string, string> | undefined | null): string {
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) return '<none>';
  return keys.map((k) => `${k}=${labels![k]}`).join(',');
}

const accessModeAbbreviations: [string, string][] = [
  ['ReadWriteOnce', 'RWO'],
  ['ReadOnlyMany', 'ROX'],
  ['ReadWriteMany', 'RWX'],
  ['ReadWriteOncePod', 'RWOP'],
];

/** Access modes in upstream's fixed order, regardless of the order they were listed in. */
export function accessModesString(modes: string[] | undefined): string {
  const set = new Set(modes ?? []);
  return accessModeAbbreviations.filter(([m]) => set.has(m)).map(([, a]) => a).join(',');
}

/** net.JoinHostPort: IPv6 literals are bracketed. */
export function joinHostPort(host: string, port: number | string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** "a,b,c + N more..." once more than `max` entries exist; `empty` when there are none. */
export function listWithMore(items: string[], total: number, max: number, empty: string): string {
  const shown = items.slice(0, max).join(',');
  if (total > max) return `${shown} + ${total - max} more...`;
  return shown === '' ? empty : shown;
}

/** intstr.IntOrString.String() */
export function intOrString(v: unknown): string {
  return typeof v === 'number' ? String(Math.trunc(v)) : String(v ?? '');
}
