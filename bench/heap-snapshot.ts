// Reads a V8 heap snapshot (.heapsnapshot, as written by the inspector or v8.writeHeapSnapshot)
// without holding its text in memory, computes the dominator tree and says where the bytes are:
//   - by constructor (self size, count);
//   - by owner: every object is charged to the nearest class instance (or closure variable) that
//     dominates it, named by that instance's class and the property leading to it, e.g.
//     "WatchCache.history" or "StatefulSetController.pods > Informer.items". Objects reachable
//     from two owners (say, one pod object in two informers) are charged to "(shared) <ctor>".
// Used by bench/memory.ts; also runnable alone: node bench/heap-snapshot.ts FILE [--top 30]
import { openSync, readSync, closeSync } from 'node:fs';

interface Meta {
  node_fields: string[];
  node_types: [string[], ...unknown[]];
  edge_fields: string[];
  edge_types: [string[], ...unknown[]];
}

export interface Snapshot {
  nodeFields: number;
  edgeFields: number;
  nodeTypes: string[];
  edgeTypes: string[];
  nodes: Uint32Array;
  edges: Uint32Array;
  strings: string[];
  nodeCount: number;
}

/** Streams the file: the header is parsed as JSON, the number arrays and strings by a small scanner. */
export function readSnapshot(path: string): Snapshot {
  const fd = openSync(path, 'r');
  const chunk = Buffer.allocUnsafe(1 << 22);
  let buf = Buffer.alloc(0);
  let pos = 0;
  let eof = false;
  const fill = (): boolean => {
    if (eof) return false;
    const n = readSync(fd, chunk, 0, chunk.length, null);
    if (n === 0) {
      eof = true;
      return false;
    }
    buf = Buffer.concat([buf.subarray(pos), chunk.subarray(0, n)]);
    pos = 0;
    return true;
  };
  /** Advances past `marker`, returning the text before it. */
  const skipTo = (marker: string): string => {
    let before = '';
    for (;;) {
      const i = buf.indexOf(marker, pos, 'latin1');
      if (i >= 0) {
        before += buf.toString('utf8', pos, i);
        pos = i + marker.length;
        return before;
      }
      // Keep enough of the tail for a marker split across reads.
      const keep = Math.max(pos, buf.length - marker.length);
      before += buf.toString('utf8', pos, keep);
      pos = keep;
      if (!fill()) throw new Error(`heap snapshot ${path}: "${marker}" not found`);
    }
  };
  const readNumbers = (out: Uint32Array): void => {
    let i = 0;
    let cur = 0;
    let inNum = false;
    for (;;) {
      for (; pos < buf.length; pos++) {
        const c = buf[pos];
        if (c >= 48 && c <= 57) {
          cur = cur * 10 + (c - 48);
          inNum = true;
        } else {
          if (inNum) {
            out[i++] = cur;
            cur = 0;
            inNum = false;
          }
          if (c === 93 /* ] */) {
            pos++;
            if (i !== out.length) throw new Error(`heap snapshot ${path}: expected ${out.length} numbers, read ${i}`);
            return;
          }
        }
      }
      if (!fill()) throw new Error(`heap snapshot ${path}: truncated array`);
    }
  };
  const readStrings = (): string[] => {
    const out: string[] = [];
    for (;;) {
      // Find the next string start or the array end.
      while (pos < buf.length && buf[pos] !== 34 /* " */ && buf[pos] !== 93) pos++;
      if (pos >= buf.length) {
        if (!fill()) throw new Error(`heap snapshot ${path}: truncated strings`);
        continue;
      }
      if (buf[pos] === 93) return out;
      let j = pos + 1;
      for (;;) {
        while (j < buf.length && buf[j] !== 34) j += buf[j] === 92 /* \ */ ? 2 : 1;
        if (j < buf.length) break;
        const offset = j - pos;
        if (!fill()) throw new Error(`heap snapshot ${path}: truncated string`);
        j = pos + offset;
      }
      out.push(JSON.parse(buf.toString('utf8', pos, j + 1)));
      pos = j + 1;
    }
  };

  fill();
  const header = JSON.parse(skipTo('"nodes":[').replace(/,\s*$/, '') + '}').snapshot as { meta: Meta; node_count: number; edge_count: number };
  const meta = header.meta;
  const nodes = new Uint32Array(header.node_count * meta.node_fields.length);
  readNumbers(nodes);
  skipTo('"edges":[');
  const edges = new Uint32Array(header.edge_count * meta.edge_fields.length);
  readNumbers(edges);
  skipTo('"strings":[');
  const strings = readStrings();
  closeSync(fd);
  return {
    nodeFields: meta.node_fields.length,
    edgeFields: meta.edge_fields.length,
    nodeTypes: meta.node_types[0],
    edgeTypes: meta.edge_types[0],
    nodes,
    edges,
    strings,
    nodeCount: header.node_count,
  };
}

export interface Row {
  name: string;
  count: number;
  bytes: number;
}

export interface HeapSummary {
  totalBytes: number;
  nodeCount: number;
  byConstructor: Row[];
  byOwner: Row[];
  /** The largest class instances by retained size. */
  largestInstances: Row[];
  /** Decoded API objects (plain objects with apiVersion, kind and metadata) by kind: retained size. */
  apiObjects: Row[];
}

const BUILTIN = new Set(['Object', 'Array', 'Map', 'Set', 'WeakMap', 'WeakSet', 'WeakRef', 'Promise', 'Error', 'Date', 'RegExp', 'Function', 'Arguments', 'Uint8Array', 'Buffer', 'ArrayBuffer', 'DataView', 'Float64Array', 'Uint32Array', 'Int32Array', 'Boolean', 'Number', 'String', 'Symbol', 'BigInt']);

export function summarise(s: Snapshot): HeapSummary {
  const { nodes, edges, strings, nodeFields: NF, edgeFields: EF, nodeCount: N } = s;
  const TYPE = 0;
  const NAME = 1;
  const SELF = 3;
  const EDGE_COUNT = 4;
  const E_TYPE = 0;
  const E_NAME = 1;
  const E_TO = 2;
  const weak = s.edgeTypes.indexOf('weak');
  const shortcut = s.edgeTypes.indexOf('shortcut');
  const elementT = s.edgeTypes.indexOf('element');
  const hiddenT = s.edgeTypes.indexOf('hidden');
  const contextT = s.edgeTypes.indexOf('context');
  const objectT = s.nodeTypes.indexOf('object');

  const firstEdge = new Uint32Array(N + 1);
  for (let n = 0, e = 0; n < N; n++) {
    firstEdge[n] = e;
    e += nodes[n * NF + EDGE_COUNT] * EF;
    if (n === N - 1) firstEdge[N] = e;
  }
  const name = (n: number) => strings[nodes[n * NF + NAME]];
  const self = (n: number) => nodes[n * NF + SELF];
  const usable = (e: number) => {
    const t = edges[e + E_TYPE];
    return t !== weak && t !== shortcut;
  };

  // Depth-first postorder from the root (node 0), iteratively.
  const post = new Int32Array(N).fill(-1); // node -> postorder index
  const order = new Uint32Array(N); // postorder index -> node
  const visited = new Uint8Array(N);
  const stackNode = new Uint32Array(N);
  const stackEdge = new Uint32Array(N);
  let sp = 0;
  let count = 0;
  stackNode[sp] = 0;
  stackEdge[sp++] = firstEdge[0];
  visited[0] = 1;
  while (sp > 0) {
    const n = stackNode[sp - 1];
    let e = stackEdge[sp - 1];
    const end = firstEdge[n + 1];
    let pushed = false;
    for (; e < end; e += EF) {
      if (!usable(e)) continue;
      const to = edges[e + E_TO] / NF;
      if (visited[to]) continue;
      visited[to] = 1;
      stackEdge[sp - 1] = e + EF;
      stackNode[sp] = to;
      stackEdge[sp++] = firstEdge[to];
      pushed = true;
      break;
    }
    if (!pushed) {
      sp--;
      post[n] = count;
      order[count++] = n;
    }
  }
  // Predecessors by postorder index (CSR).
  const predCount = new Uint32Array(count + 1);
  for (let n = 0; n < N; n++) {
    if (post[n] < 0) continue;
    for (let e = firstEdge[n]; e < firstEdge[n + 1]; e += EF) if (usable(e)) predCount[post[edges[e + E_TO] / NF]]++;
  }
  const predStart = new Uint32Array(count + 1);
  for (let i = 0; i < count; i++) predStart[i + 1] = predStart[i] + predCount[i];
  const preds = new Uint32Array(predStart[count]);
  const fillAt = predStart.slice(0, count);
  for (let n = 0; n < N; n++) {
    if (post[n] < 0) continue;
    for (let e = firstEdge[n]; e < firstEdge[n + 1]; e += EF) if (usable(e)) preds[fillAt[post[edges[e + E_TO] / NF]]++] = post[n];
  }
  // Cooper, Harvey and Kennedy's iterative dominators, on postorder indices.
  const UNDEF = 0xffffffff;
  const idom = new Uint32Array(count).fill(UNDEF);
  const rootP = count - 1;
  idom[rootP] = rootP;
  for (let changed = true; changed; ) {
    changed = false;
    for (let b = rootP - 1; b >= 0; b--) {
      let d = UNDEF;
      for (let i = predStart[b]; i < predStart[b + 1]; i++) {
        let p = preds[i];
        if (idom[p] === UNDEF) continue;
        if (d === UNDEF) {
          d = p;
          continue;
        }
        let q = d;
        while (p !== q) {
          while (p < q) p = idom[p];
          while (q < p) q = idom[q];
        }
        d = p;
      }
      if (d !== UNDEF && idom[b] !== d) {
        idom[b] = d;
        changed = true;
      }
    }
  }
  // Retained sizes: children come before their dominator in postorder.
  const retained = new Float64Array(count);
  for (let i = 0; i < count; i++) retained[i] += self(order[i]);
  for (let i = 0; i < rootP; i++) retained[idom[i]] += retained[i];

  const ctorOf = (n: number) => {
    const t = s.nodeTypes[nodes[n * NF + TYPE]];
    return t === 'object' || t === 'closure' || t === 'native' ? name(n).slice(0, 60) : `(${t})`;
  };
  const isClass = (n: number) => {
    if (nodes[n * NF + TYPE] !== objectT) return false;
    const nm = name(n);
    return /^[A-Z][A-Za-z0-9_]*$/.test(nm) && !BUILTIN.has(nm);
  };
  const edgeName = (from: number, to: number): string => {
    for (let e = firstEdge[from]; e < firstEdge[from + 1]; e += EF) {
      if (edges[e + E_TO] / NF !== to) continue;
      const t = edges[e + E_TYPE];
      const v = edges[e + E_NAME];
      return t === elementT || t === hiddenT ? `[${v}]` : strings[v];
    }
    return '?';
  };
  // Owner labels, assigned from the root down (reverse postorder visits a dominator first).
  const labelOf = new Int32Array(count).fill(-1);
  const labels: string[] = [];
  const labelIds = new Map<string, number>();
  const intern = (l: string) => {
    let id = labelIds.get(l);
    if (id === undefined) {
      id = labels.length;
      labels.push(l);
      labelIds.set(l, id);
    }
    return id;
  };
  const rootLabel = intern('(root)');
  labelOf[rootP] = rootLabel;
  const lastHop = (l: string) => (l.includes(' > ') ? l.slice(l.lastIndexOf(' > ') + 3) : l);
  for (let b = rootP - 1; b >= 0; b--) {
    const d = idom[b];
    if (d === UNDEF) continue;
    const n = order[b];
    const dn = order[d];
    const dl = labelOf[d];
    const dName = name(dn);
    let l: number;
    if (isClass(dn) || dName === 'system / Context') {
      const hop = dName === 'system / Context' ? `context.${edgeName(dn, n)}` : `${dName}.${edgeName(dn, n)}`;
      l = intern(dl === rootLabel || labels[dl].startsWith('(') ? hop : `${lastHop(labels[dl])} > ${hop}`);
    } else if (dl === rootLabel || nodes[dn * NF + TYPE] === s.nodeTypes.indexOf('synthetic')) {
      l = intern(`(shared) ${ctorOf(n)}`);
    } else l = dl;
    labelOf[b] = l;
  }
  const byOwner = new Map<number, Row>();
  const byCtor = new Map<string, Row>();
  let total = 0;
  for (let b = 0; b < count; b++) {
    const n = order[b];
    const sz = self(n);
    total += sz;
    const l = labelOf[b] < 0 ? rootLabel : labelOf[b];
    let r = byOwner.get(l);
    if (!r) byOwner.set(l, (r = { name: labels[l], count: 0, bytes: 0 }));
    r.count++;
    r.bytes += sz;
    const ctor = ctorOf(n);
    let c = byCtor.get(ctor);
    if (!c) byCtor.set(ctor, (c = { name: ctor, count: 0, bytes: 0 }));
    c.count++;
    c.bytes += sz;
  }
  // API objects: retained sizes, so nested fields count; substructure shared between two objects would not.
  const stringT = s.nodeTypes.indexOf('string');
  const propertyT = s.edgeTypes.indexOf('property');
  const byKind = new Map<string, Row>();
  for (let b = 0; b < count; b++) {
    const n = order[b];
    if (nodes[n * NF + TYPE] !== objectT || name(n) !== 'Object') continue;
    let kind: string | undefined;
    let hasApiVersion = false;
    let hasMetadata = false;
    for (let e = firstEdge[n]; e < firstEdge[n + 1]; e += EF) {
      if (edges[e + E_TYPE] !== propertyT) continue;
      const prop = strings[edges[e + E_NAME]];
      const to = edges[e + E_TO] / NF;
      if (prop === 'kind' && nodes[to * NF + TYPE] === stringT) kind = name(to);
      else if (prop === 'apiVersion') hasApiVersion = true;
      else if (prop === 'metadata') hasMetadata = true;
    }
    if (!kind || !hasApiVersion || !hasMetadata) continue;
    let r = byKind.get(kind);
    if (!r) byKind.set(kind, (r = { name: kind, count: 0, bytes: 0 }));
    r.count++;
    r.bytes += retained[b];
  }
  const largest: Row[] = [];
  for (let b = 0; b < count; b++) {
    const n = order[b];
    if (isClass(n) && retained[b] > 1 << 20) largest.push({ name: `${name(n)} @${nodes[n * NF + 2]}`, count: 1, bytes: retained[b] });
  }
  const desc = (a: Row, b: Row) => b.bytes - a.bytes;
  return {
    totalBytes: total,
    nodeCount: count,
    byConstructor: [...byCtor.values()].sort(desc),
    byOwner: [...byOwner.values()].sort(desc),
    largestInstances: largest.sort(desc),
    apiObjects: [...byKind.values()].sort(desc),
  };
}

export function formatSummary(h: HeapSummary, top = 25): string {
  const mb = (x: number) => `${(x / 2 ** 20).toFixed(1)} MiB`.padStart(11);
  const rows = (rs: Row[]) => rs.slice(0, top).map((r) => `  ${mb(r.bytes)}  ${String(r.count).padStart(9)}  ${r.name}`).join('\n');
  return [
    `live heap in the snapshot: ${mb(h.totalBytes).trim()} in ${h.nodeCount} objects`,
    `by owner (nearest dominating class instance / closure variable and the property leading there):`,
    rows(h.byOwner),
    `by constructor (self size):`,
    rows(h.byConstructor),
    `largest class instances (retained size):`,
    rows(h.largestInstances),
    `decoded API objects by kind (retained size; an object held in two places counts once per holder that dominates it):`,
    rows(h.apiObjects),
  ].join('\n');
}

if (import.meta.main) {
  const file = process.argv[2];
  const topAt = process.argv.indexOf('--top');
  if (!file) {
    process.stderr.write('usage: node bench/heap-snapshot.ts FILE [--top N]\n');
    process.exit(2);
  }
  console.log(formatSummary(summarise(readSnapshot(file)), topAt > 0 ? Number(process.argv[topAt + 1]) : 25));
}
