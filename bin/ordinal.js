#!/usr/bin/env -S node --max-semi-space-size=16 --heap-growing-percent=100 --expose-gc
// The project runs its TypeScript sources directly on Node 24 (type stripping), so there is no build step.
// The V8 flags on the #! line are src/cli/node-flags.ts's (a unit test keeps the two the same).
//
// The compile cache is enabled here, before the first .ts file loads: Node strips types with a
// bundled WebAssembly stripper that costs some 40 ms of CPU to load, unless the cache already
// holds the stripped text. Worker threads (the SQLite writer) inherit the cache through the
// environment. src/cli/main.ts does the same for starts that name it directly.
import { enableCompileCache } from 'node:module';

const cache = enableCompileCache();
if (cache.directory && !process.env.NODE_COMPILE_CACHE) process.env.NODE_COMPILE_CACHE = cache.directory;
await import('../src/cli/main.ts');
