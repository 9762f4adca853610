// The live view's static files, served by the API server at the non-resource path /ui/. The
// handler only hands out files: the page's data comes from the same origin's /api and /apis,
// asked with the caller's own credentials, so the view shows exactly what the caller may read.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFileSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { ApiError } from '../apiserver/errors.ts';

const STATIC_DIR = join(import.meta.dirname, 'static');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export const UI_PATH = '/ui';

/** Whether a request path belongs to the live view (/ui and everything under /ui/). */
export function isUiPath(path: string): boolean {
  return path === UI_PATH || path.startsWith(`${UI_PATH}/`);
}

export type UiAnswer = { kind: 'redirect'; location: string } | { kind: 'file'; name: string } | { kind: 'not-found' } | { kind: 'method' };

/**
 * What a request for the view gets. /ui redirects to /ui/ so the page's relative links resolve
 * under it (by a relative Location, which stays right behind a proxy's path prefix such as
 * `kubectl proxy --api-prefix=/k8s/`); only the folder's own top-level files are served (no traversal: a name with a slash
 * or a leading dot is never one of them).
 */
export function uiAnswer(method: string, path: string, files: ReadonlySet<string>): UiAnswer {
  if (method !== 'GET' && method !== 'HEAD') return { kind: 'method' };
  if (path === UI_PATH) return { kind: 'redirect', location: 'ui/' };
  const name = path.slice(UI_PATH.length + 1) || 'index.html';
  return files.has(name) ? { kind: 'file', name } : { kind: 'not-found' };
}

let cache: Map<string, Buffer> | undefined;

/** The folder's files, read once: they change only with the program. */
function staticFiles(): Map<string, Buffer> {
  if (!cache) {
    cache = new Map();
    for (const name of readdirSync(STATIC_DIR)) {
      if (name.startsWith('.') || !CONTENT_TYPES[extname(name)]) continue;
      cache.set(name, readFileSync(join(STATIC_DIR, name)));
    }
  }
  return cache;
}

export function serveUi(req: IncomingMessage, res: ServerResponse, path: string): void {
  const files = staticFiles();
  const answer = uiAnswer(req.method ?? 'GET', path, new Set(files.keys()));
  if (answer.kind === 'method') throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`, {});
  if (answer.kind === 'not-found') throw new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
  if (answer.kind === 'redirect') {
    res.writeHead(301, { Location: answer.location, 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<a href="${answer.location}">Moved Permanently</a>.\n`);
    return;
  }
  const body = files.get(answer.name)!;
  res.writeHead(200, {
    'Content-Type': CONTENT_TYPES[extname(answer.name)],
    'Content-Length': String(body.length),
    // Revalidated on every load: a restarted server may serve a newer page.
    'Cache-Control': 'no-cache, private',
    'X-Content-Type-Options': 'nosniff',
    // Scripts and requests from this origin only: the page never calls elsewhere nor runs inline code.
    'Content-Security-Policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
