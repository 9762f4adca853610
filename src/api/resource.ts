// What the API server needs to know to serve one kind: its names for discovery, its schema,
// its registry strategy (defaulting, validation, create/update preparation) and its table columns.
import type { FieldError } from './field-errors.ts';

// Objects travel as plain JSON values; kind modules narrow them where they need to.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Obj = Record<string, any>;

/** Who is making a request, as authentication found (apiserver's UserInfo has the same shape). */
export interface RequestUser {
  user: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** What a strategy may know about the request beyond the object. */
export interface RequestContext {
  /** Absent for in-process writes that name no user. */
  user?: RequestUser;
}

/** The update rules of a subresource whose writes differ from main-resource and status writes. */
export interface SubresourceStrategy {
  prepareForUpdate(obj: Obj, old: Obj): void;
  validateUpdate(obj: Obj, old: Obj): FieldError[];
}

export interface Strategy {
  /** Apply the apps/v1 (or core/v1...) defaults in place; runs on create, update and patch results. */
  default(obj: Obj): void;
  /** Registry tweaks on create, e.g. reset status, set generation 1, pod phase Pending. */
  prepareForCreate(obj: Obj, ctx?: RequestContext): void;
  /** Registry tweaks on a main-resource update, e.g. keep old status, bump generation iff spec changed. */
  prepareForUpdate(obj: Obj, old: Obj): void;
  /** On a /status update: keep everything but status from old. */
  prepareForStatusUpdate?(obj: Obj, old: Obj): void;
  validate(obj: Obj): FieldError[];
  validateUpdate(obj: Obj, old: Obj): FieldError[];
  validateStatusUpdate?(obj: Obj, old: Obj): FieldError[];
  /** Other subresources updated like status, by name (e.g. a CSR's 'approval'). */
  subresources?: Record<string, SubresourceStrategy>;
  /** Warnings returned to the client in Warning headers. */
  warnings?(obj: Obj, old?: Obj): string[];
  /**
   * The first DELETE of an object, before finalizers are looked at: a kind may add its own
   * finalizers or conditions here (a CRD's customresourcecleanup finalizer and Terminating).
   */
  beginDeletion?(obj: Obj, finalizers: Set<string>): void;
  /** Propagation used by DELETE when the client names none (upstream: Background for most, Orphan for a few legacy kinds). */
  defaultPropagation?: 'Background' | 'Orphan';
}

export interface TableColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: string;
  description: string;
  /** 0 = always shown, 1 = only with -o wide */
  priority: number;
}

export interface TableDef {
  columns: TableColumn[];
  /** One cell per column, in order. `now` is ms since epoch (for AGE). */
  cells(obj: Obj, now: number): (string | number | boolean | null)[];
}

export type SubresourceName = 'status' | 'scale' | 'binding' | 'eviction' | 'finalize' | 'token' | 'approval';

export interface ResourceDef {
  group: string; // '' for the core group
  version: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** Component name of the kind's schema, e.g. 'io.k8s.api.apps.v1.StatefulSet'. */
  schema: string;
  subresources: SubresourceName[];
  strategy: Strategy;
  table: TableDef;
  /** Set for kinds served from a CustomResourceDefinition (src/apiextensions/served.ts). */
  custom?: import('../apiextensions/served.ts').CustomResourceInfo;
  /** The kind of lists, when it is not `${kind}List` (custom kinds name their own). */
  listKind?: string;
  /** The apiVersion objects are stored with, when another version is the storage version. */
  storageApiVersion?: string;
  /** Turns a stored object into this version's form (a custom kind's non-storage versions). */
  convert?: (obj: Obj) => Obj;
  /** Turns this version's form (a request body) into the stored form (a built-in kind's older version). */
  convertIn?: (obj: Obj) => Obj;
}
