// Modules that most runs never need are loaded on first use instead of at start-up: before
// `ordinal up` runs a line, Node resolves, loads and links every module of the static import graph
// (each a type-stripped .ts file or a package file, about half a millisecond of CPU apiece), and
// some of these graphs are large (CEL with its protobuf runtime and RE2, the yaml package).
//
// Call sites that are synchronous get the module through require() of an ES module (Node 22.12
// and later), which returns the very namespace an import() of it gives. Require only the
// project's own .ts modules, or packages that have a CommonJS build alone (such as yaml): a
// package with both builds would resolve to its CommonJS copy here and to its ES copy elsewhere.
import { createRequire } from 'node:module';

/** A function that loads `specifier` (resolved from the module at `from`, its import.meta.url) on its first call and returns the module from then on. */
export function lazyModule<T>(from: string, specifier: string): () => T {
  let mod: T | undefined;
  return () => (mod ??= createRequire(from)(specifier) as T);
}
