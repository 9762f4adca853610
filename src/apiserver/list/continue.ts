// Continue tokens as upstream's storage layer writes and reads them: base64url (unpadded) JSON of
// {"v":"meta.k8s.io/v1","rv":<revision of the first page>,"start":<next key, relative to the
// list's prefix, plus "\u0000">}. Relative keys keep a token from reaching outside the list it
// came from (a cleaned path joined to this list's prefix); the revision pins every later page to
// the first page's state.
import { badRequest, gone } from '../errors.ts';
import type { ApiError } from '../errors.ts';

const VERSION = 'meta.k8s.io/v1';

export function encodeContinue(rv: number, lastKey: string, prefix: string): string {
  const start = `${lastKey.startsWith(prefix) ? lastKey.slice(prefix.length) : lastKey}\u0000`;
  return Buffer.from(JSON.stringify({ v: VERSION, rv, start })).toString('base64url');
}

export interface Continuation {
  /** The first page's revision; -1 for a token that continues at the latest (see expiredContinue). */
  rv: number;
  /** Keys after this one (exclusive) remain. */
  afterKey: string;
}

/** The token's revision and position, or the 400 upstream answers for a token it cannot use. */
export function decodeContinue(token: string, prefix: string): Continuation {
  const invalid = (why: string): ApiError => badRequest(`invalid continue token: continue key is not valid${why}`);
  const bad = badBase64At(token);
  if (bad !== undefined) throw invalid(`: illegal base64 data at input byte ${bad}`);
  const text = Buffer.from(token, 'base64url').toString('latin1');
  let c: any;
  try {
    c = JSON.parse(text);
  } catch {
    throw invalid(`: ${jsonSyntaxError(text)}`);
  }
  // Go decodes null into an empty token.
  if (c === null) c = {};
  if (typeof c !== 'object' || Array.isArray(c)) throw invalid(`: json: cannot unmarshal ${jsonKind(c)} into Go value of type storage.continueToken`);
  const v = c.v ?? '';
  if (v !== VERSION) throw invalid(`: server does not recognize this encoded version ${v}`);
  const rv = typeof c.rv === 'number' && Number.isInteger(c.rv) ? c.rv : 0;
  if (rv === 0) throw invalid(': incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  const start = typeof c.start === 'string' ? c.start : '';
  if (!start) throw invalid(': encoded start key empty (version meta.k8s.io/v1)');
  // A start key that climbs out of the list's prefix, or is not in clean form, is refused.
  const key = start.startsWith('/') ? start : `/${start}`;
  if (cleanPath(key) !== key) throw invalid(`: ${start}`);
  const from = prefix + key.slice(1);
  // Tokens end in NUL: the list resumes just after the key before it. A hand-made token without
  // one is read the same way (no key it could name ends in NUL, so nothing is skipped wrongly
  // but the named key itself).
  return { rv, afterKey: from.endsWith('\u0000') ? from.slice(0, -1) : from };
}

/** Go's path.Clean for the absolute paths a start key becomes. */
function cleanPath(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return `/${out.join('/')}`;
}

/** Where Go's base64.RawURLEncoding reports the first fault, if any. */
function badBase64At(s: string): number | undefined {
  for (let i = 0; i < s.length; i++) if (!/[A-Za-z0-9_-]/.test(s[i])) return i;
  if (s.length % 4 === 1) return s.length - 1;
  return undefined;
}

/** Go's encoding/json message for the commonest malformed inputs. */
function jsonSyntaxError(text: string): string {
  const t = text.replace(/^[ \t\r\n]+/, '');
  if (t === '') return 'unexpected end of JSON input';
  if (!/^[{["\-0-9tfn]/.test(t)) return `invalid character ${goChar(t[0])} looking for beginning of value`;
  return 'unexpected end of JSON input';
}

function goChar(c: string): string {
  return c === "'" ? "'\\''" : c === '"' ? `'"'` : `'${c.charCodeAt(0) < 0x20 || c.charCodeAt(0) > 0x7e ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c}'`;
}

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  return 'object';
}

const CONTINUE_TOO_OLD = 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

/**
 * 410 for a token whose revision is gone, carrying (in the Status's metadata) a token that goes on
 * from the same key at the latest revision, as upstream offers: the client may accept an
 * inconsistent list rather than start over.
 */
export function expiredContinue(afterKey: string, prefix: string): ApiError {
  const err = gone(CONTINUE_TOO_OLD);
  err.listMeta = { continue: encodeContinue(-1, afterKey, prefix) };
  return err;
}
