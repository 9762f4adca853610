// Entry point of the `ordinal` command. Node caches the compiled (type-stripped) modules on disk,
// which takes most of the module loading out of every start after the first.
import { enableCompileCache } from 'node:module';
import { markStartup } from '../util/startup-phases.ts';

markStartup('node');
enableCompileCache();
await import('./ordinal.ts');
