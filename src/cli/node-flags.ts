// V8 flags the `ordinal` command runs with (bin/ordinal.js passes them on its #! line; benchmarks
// start the cluster with the same ones, so they measure what users run).
//
// A young generation capped at 16 MiB semi-spaces instead of V8's default for this heap size
// (64 MiB ones, 128 MiB in all) keeps resident memory close to the live heap: 10,000 pods with
// their claims took 608 MiB RSS instead of 775 MiB, and 3,000 pods 337–354 instead of 411–428 MiB,
// for the same CPU (bench/memory.ts).
export const ORDINAL_NODE_FLAGS = ['--max-semi-space-size=16'];
