// Entry point of the `ordinal` command. Node caches the compiled (type-stripped) modules on disk,
// which takes most of the module loading out of every start after the first. bin/ordinal.js
// enables the cache before this file loads (so that it needs no stripping either); starts that
// name this file directly get it from here on.
import { enableCompileCache } from 'node:module';
import { markStartup } from '../util/startup-phases.ts';
import { resolveOwnImportsDirectly } from './module-resolution.ts';
import { opensSqliteStore, startSqliteWriterEarly } from '../storage/sqlite-writer-start.ts';

markStartup('node');
const cache = enableCompileCache();
// The call enables the cache for this thread only; worker threads (the SQLite writer) inherit it
// through the environment. Without, each start type-stripped and compiled the writer's modules
// afresh, loading the stripper in that thread too: some 40 ms of CPU.
if (cache.directory && !process.env.NODE_COMPILE_CACHE) process.env.NODE_COMPILE_CACHE = cache.directory;
// The writer thread boots on the other core while this one loads the modules (after the line
// above, so that it finds the compile cache too).
if (opensSqliteStore(process.argv.slice(2))) startSqliteWriterEarly();
resolveOwnImportsDirectly();
await import('./ordinal.ts');
