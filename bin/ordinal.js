#!/usr/bin/env node
// The project runs its TypeScript sources directly on Node 24 (type stripping), so there is no build step.
import '../src/cli/main.ts';
