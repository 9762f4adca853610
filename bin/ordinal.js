#!/usr/bin/env -S node --max-semi-space-size=16
// The project runs its TypeScript sources directly on Node 24 (type stripping), so there is no build step.
// The V8 flags on the #! line are src/cli/node-flags.ts's (a unit test keeps the two the same).
import '../src/cli/main.ts';
