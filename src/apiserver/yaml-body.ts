// YAML request bodies (application/yaml, application/apply-patch+yaml) decoded straight to JSON
// values, as upstream's sigs.k8s.io/yaml turns YAML into JSON before decoding. js-yaml's event
// parser yields a flat list of events that refer to the source by offsets, and its constructor
// builds plain values from them: no node tree, source ranges or CST are kept, so a body costs
// memory in proportion to its size (the `yaml` package's Document cost 40-100 times the body).
// JSON text, which is most of what clients send as YAML, is read by JSON.parse when that gives
// the same value.
// Before anything is constructed, one pass over the events applies go-yaml's own limits: an
// anchor used inside its own value, and its alias expansion budget against "billion laughs".
import { CORE_SCHEMA, EVENT_ID, YAMLException, constructFromEvents, parseEvents, type Event } from 'js-yaml';
import { MAX_NESTING_DEPTH, aliasBudgetExceeded, nestedDeeperThan } from './body-limits.ts';

/** A body that is not YAML this server takes; the message is go-yaml's where it has one. */
export class YamlBodyError extends Error {}

/**
 * The JSON value of a single-document YAML text: null when it holds no document, as an empty
 * body decodes upstream. Plain scalars resolve by the YAML 1.2 core schema (as the server always
 * has): `yes` and `on` stay strings, `0x1F` and `0o17` are numbers, `~` and `null` are null.
 * Aliases share the anchored value, as they did before. Throws YamlBodyError.
 */
export function yamlToJson(text: string): unknown {
  const fast = jsonText(text);
  if (fast !== undefined) {
    if (nestedDeeperThan(fast.value)) throw new YamlBodyError(`yaml: exceeded max depth of ${MAX_NESTING_DEPTH}`);
    return fast.value;
  }
  let events: Event[];
  try {
    events = parseEvents(text, { maxDepth: MAX_NESTING_DEPTH });
  } catch (err) {
    throw asBodyError(err);
  }
  checkAliases(text, events);
  let docs: unknown[];
  try {
    docs = constructFromEvents(events, { source: text, schema: CORE_SCHEMA });
  } catch (err) {
    throw asBodyError(err);
  }
  if (docs.length > 1) throw new YamlBodyError('yaml: expected a single document in the stream, but found more');
  return docs.length ? (docs[0] ?? null) : null;
}

/** Characters YAML refuses in a stream (JSON takes some): their texts go the YAML way. */
const NON_PRINTABLE = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x84\x86-\x9F\uFFFE\uFFFF]/;

/**
 * JSON text is YAML, and what kubectl sends (apply --server-side sends JSON as apply-patch+yaml):
 * JSON.parse decodes it in a fifth of the memory the events take. It gives what the YAML path
 * gives unless a key repeats (YAML refuses), a number overflows (YAML keeps the text) or the text
 * holds a character YAML refuses; those, and anything JSON.parse refuses, go the YAML way.
 */
function jsonText(text: string): { value: unknown } | undefined {
  const first = /\S/.exec(text.slice(0, 64))?.[0];
  if ((first !== '{' && first !== '[') || NON_PRINTABLE.test(text)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return keysOf(value) === keyTokens(text) ? { value } : undefined;
}

/** Properties of every object in `value`, or -1 when a number in it is not finite. */
function keysOf(value: unknown): number {
  let keys = 0;
  const stack = [value];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'number' && !Number.isFinite(v)) return -1;
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (const x of v) stack.push(x);
      continue;
    }
    for (const k in v) {
      keys++;
      stack.push((v as Record<string, unknown>)[k]);
    }
  }
  return keys;
}

/** Strings followed by a colon in valid JSON text: its keys, repeats included. */
function keyTokens(text: string): number {
  let keys = 0;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) !== 34) continue; // '"'
    i++;
    while (text.charCodeAt(i) !== 34) i += text.charCodeAt(i) === 92 ? 2 : 1; // '\\' escapes one
    let j = i + 1;
    while (j < text.length && (text[j] === ' ' || text[j] === '\t' || text[j] === '\n' || text[j] === '\r')) j++;
    if (text[j] === ':') keys++;
  }
  return keys;
}

/** Turns a parser error into go-yaml's shape: "yaml: line N: what". */
function asBodyError(err: unknown): YamlBodyError {
  if (err instanceof YAMLException) {
    if (err.reason.startsWith('nesting exceeded maxDepth')) return new YamlBodyError(`yaml: exceeded max depth of ${MAX_NESTING_DEPTH}`);
    return new YamlBodyError(err.mark ? `yaml: line ${err.mark.line + 1}: ${err.reason}` : `yaml: ${err.reason}`);
  }
  // The parser recurses once per nesting level; running out of stack is a depth problem too.
  if (err instanceof RangeError) return new YamlBodyError(`yaml: exceeded max depth of ${MAX_NESTING_DEPTH}`);
  return new YamlBodyError(`yaml: ${(err as Error).message}`);
}

interface Frame {
  anchor: string | undefined;
  /** Nodes go-yaml would decode for this collection so far, aliases expanded. */
  nodes: number;
}

/**
 * go-yaml decodes an alias by decoding the anchored node again, counting every node it decodes
 * and those reached through aliases; this pass counts the same without expanding anything (each
 * anchor's expanded size is known when its node ends) and refuses what go-yaml refuses.
 */
function checkAliases(text: string, events: Event[]): void {
  let sizes = new Map<string, number>();
  const open: Frame[] = [];
  let decoded = 0;
  let aliased = 0;
  const name = (start: number, end: number) => (start < 0 ? undefined : text.slice(start, end));
  const add = (n: number) => {
    if (open.length) open[open.length - 1].nodes += n;
  };
  for (const e of events) {
    switch (e.type) {
      case EVENT_ID.DOCUMENT:
        sizes = new Map();
        decoded = 1;
        aliased = 0;
        break;
      case EVENT_ID.SCALAR: {
        decoded++;
        add(1);
        const a = name(e.anchorStart, e.anchorEnd);
        if (a !== undefined) sizes.set(a, 1);
        break;
      }
      case EVENT_ID.SEQUENCE:
      case EVENT_ID.MAPPING:
        decoded++;
        open.push({ anchor: name(e.anchorStart, e.anchorEnd), nodes: 1 });
        break;
      case EVENT_ID.ALIAS: {
        const a = text.slice(e.anchorStart, e.anchorEnd);
        if (open.some((f) => f.anchor === a)) throw new YamlBodyError(`yaml: anchor '${a}' value contains itself`);
        const size = sizes.get(a);
        if (size === undefined) break; // an unknown anchor: the constructor reports it
        decoded += 1 + size;
        aliased += size;
        add(1 + size);
        if (aliasBudgetExceeded(aliased, decoded)) throw new YamlBodyError('yaml: document contains excessive aliasing');
        break;
      }
      case EVENT_ID.POP: {
        const f = open.pop();
        if (!f) break; // the document's end
        if (f.anchor !== undefined) sizes.set(f.anchor, f.nodes);
        add(f.nodes);
        break;
      }
    }
  }
}
