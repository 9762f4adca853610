// Sets of field paths, as structured-merge-diff keeps them for managedFields. A set is a trie
// whose edges are path elements already in their fieldsV1 spelling (`f:name`, `k:{"name":"x"}`,
// `v:"a"`, `i:0`), so decoding and encoding fieldsV1 is a plain walk with no parsing of keys.
// `member` marks a path that is itself in the set (a leaf, or a list item that is owned as a
// whole besides its fields: fieldsV1 writes that as `.`).

export class FieldSet {
  member = false;
  children: Map<string, FieldSet> | undefined;

  child(pe: string): FieldSet {
    const m = (this.children ??= new Map());
    let c = m.get(pe);
    if (!c) m.set(pe, (c = new FieldSet()));
    return c;
  }

  /** Adds a path (its elements in fieldsV1 spelling). */
  insert(path: readonly string[]): void {
    let n: FieldSet = this;
    for (const pe of path) n = n.child(pe);
    n.member = true;
  }

  has(path: readonly string[]): boolean {
    let n: FieldSet | undefined = this;
    for (const pe of path) {
      n = n.children?.get(pe);
      if (!n) return false;
    }
    return n.member;
  }

  /** The subtree under a path, if any. */
  at(path: readonly string[]): FieldSet | undefined {
    let n: FieldSet | undefined = this;
    for (const pe of path) {
      n = n.children?.get(pe);
      if (!n) return undefined;
    }
    return n;
  }

  empty(): boolean {
    if (this.member) return false;
    if (!this.children) return true;
    for (const c of this.children.values()) if (!c.empty()) return false;
    return true;
  }

  union(o: FieldSet): FieldSet {
    const out = new FieldSet();
    out.member = this.member || o.member;
    const keys = new Set([...(this.children?.keys() ?? []), ...(o.children?.keys() ?? [])]);
    for (const k of keys) {
      const a = this.children?.get(k);
      const b = o.children?.get(k);
      const c = a && b ? a.union(b) : (a ?? b)!.copy();
      if (!c.empty()) (out.children ??= new Map()).set(k, c);
    }
    return out;
  }

  /** Members of this set that are not members of o (structured-merge-diff's Difference). */
  difference(o: FieldSet): FieldSet {
    const out = new FieldSet();
    out.member = this.member && !o.member;
    if (this.children) {
      for (const [k, a] of this.children) {
        const b = o.children?.get(k);
        const c = b ? a.difference(b) : a.copy();
        if (!c.empty()) (out.children ??= new Map()).set(k, c);
      }
    }
    return out;
  }

  intersection(o: FieldSet): FieldSet {
    const out = new FieldSet();
    out.member = this.member && o.member;
    if (this.children && o.children) {
      for (const [k, a] of this.children) {
        const b = o.children.get(k);
        if (!b) continue;
        const c = a.intersection(b);
        if (!c.empty()) (out.children ??= new Map()).set(k, c);
      }
    }
    return out;
  }

  /** This set without the subtrees at the given top-level elements (reset fields, stripped metadata). */
  without(elements: readonly string[]): FieldSet {
    if (!this.children || !elements.some((e) => this.children!.has(e))) return this;
    const out = new FieldSet();
    out.member = this.member;
    for (const [k, c] of this.children) if (!elements.includes(k)) (out.children ??= new Map()).set(k, c);
    return out;
  }

  /** Only the subtree at one top-level element (a status write records only status). */
  only(element: string): FieldSet {
    const out = new FieldSet();
    const c = this.children?.get(element);
    if (c) out.children = new Map([[element, c]]);
    return out;
  }

  /** Drops nodes with nothing in them (walks create nodes before knowing whether anything differs). */
  prune(): this {
    if (this.children) {
      for (const [k, c] of this.children) if (c.prune().empty()) this.children.delete(k);
      if (!this.children.size) this.children = undefined;
    }
    return this;
  }

  copy(): FieldSet {
    const out = new FieldSet();
    out.member = this.member;
    if (this.children) {
      out.children = new Map();
      for (const [k, c] of this.children) out.children.set(k, c.copy());
    }
    return out;
  }

  equals(o: FieldSet): boolean {
    if (this.member !== o.member) return false;
    const a = this.children?.size ?? 0;
    const b = o.children?.size ?? 0;
    if (a !== b) return false;
    if (!a) return true;
    for (const [k, c] of this.children!) {
      const d = o.children!.get(k);
      if (!d || !c.equals(d)) return false;
    }
    return true;
  }

  /** Every member path, in fieldsV1 order. */
  paths(prefix: string[] = [], out: string[][] = []): string[][] {
    if (this.member) out.push(prefix);
    if (this.children) for (const k of sortedKeys(this.children)) this.children.get(k)!.paths([...prefix, k], out);
    return out;
  }
}

/**
 * Path elements in structured-merge-diff's order: field names first (by name), then keys, then
 * values, then indexes. The kind prefix sorts them into those groups; within one, the spelling
 * orders names and keys as upstream does closely enough for a stable, readable encoding.
 */
const KIND_ORDER: Record<string, number> = { f: 0, k: 1, v: 2, i: 3 };
function sortedKeys(m: Map<string, FieldSet>): string[] {
  return [...m.keys()].sort((a, b) => {
    const ka = KIND_ORDER[a[0]] ?? 4;
    const kb = KIND_ORDER[b[0]] ?? 4;
    if (ka !== kb) return ka - kb;
    if (a[0] === 'i') return Number(a.slice(2)) - Number(b.slice(2));
    return a < b ? -1 : a > b ? 1 : 0;
  });
}

/** The fieldsV1 JSON of a set: each node an object, `.` where a node with children is also a member. */
export function encodeFieldsV1(s: FieldSet): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (s.member && s.children?.size) out['.'] = {};
  if (s.children) for (const k of sortedKeys(s.children)) out[k] = encodeFieldsV1(s.children.get(k)!);
  return out;
}

export function decodeFieldsV1(v: unknown): FieldSet {
  const s = new FieldSet();
  if (!v || typeof v !== 'object' || Array.isArray(v)) return s;
  const o = v as Record<string, unknown>;
  let any = false;
  for (const k in o) {
    if (k === '.') {
      s.member = true;
      continue;
    }
    any = true;
    const c = decodeFieldsV1(o[k]);
    // An element with nothing under it is a leaf: a member.
    if (!c.children?.size) c.member = true;
    (s.children ??= new Map()).set(k, c);
  }
  if (!any && s.children === undefined) s.children = undefined;
  return s;
}

/** Field name, key, value and index elements in fieldsV1 spelling. */
export const fieldPE = (name: string) => `f:${name}`;
export const valuePE = (v: unknown) => `v:${JSON.stringify(v)}`;
export const indexPE = (i: number) => `i:${i}`;
export function keyPE(fields: [string, unknown][]): string {
  const sorted = [...fields].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return `k:{${sorted.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
}

/**
 * A path as structured-merge-diff prints it in conflict messages:
 * `.spec.containers[name="nginx"].image`, `.metadata.finalizers[="a"]`, `.items[3]`.
 */
export function pathString(path: readonly string[]): string {
  let out = '';
  for (const pe of path) {
    const kind = pe[0];
    const rest = pe.slice(2);
    if (kind === 'f') out += `.${rest}`;
    else if (kind === 'v') out += `[=${rest}]`;
    else if (kind === 'i') out += `[${rest}]`;
    else if (kind === 'k') {
      const o = JSON.parse(rest) as Record<string, unknown>;
      out += `[${Object.entries(o).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`;
    } else out += `.${pe}`;
  }
  return out;
}
