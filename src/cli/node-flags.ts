// V8 flags the `ordinal` command runs with (bin/ordinal.js passes them on its #! line; benchmarks
// start the cluster with the same ones, so they measure what users run).
//
// A young generation capped at 16 MiB semi-spaces instead of V8's default for this heap size
// (64 MiB ones, 128 MiB in all) keeps resident memory close to the live heap: 10,000 pods with
// their claims took 608 MiB RSS instead of 775 MiB, and 3,000 pods 337–354 instead of 411–428 MiB,
// for the same CPU (bench/memory.ts).
//
// The old generation may grow to twice its live size before the next full collection
// (--heap-growing-percent=100) instead of the factor V8 picks from its GC speed, which let 250 MiB
// live heap reach 430 MiB used before a collection in a 10,000-pod scale-up. Parallel 0 → 10,000
// (bench/statefulset.ts --cases parallel10k, 100 nodes, shared 2-core machine): RSS when all Ready
// 583, 580 MiB instead of 641–661 (median 654); CPU per pod ~3 % more, all of it on V8's GC
// threads (process CPU over main-thread CPU 1.71, 1.72 against 1.66–1.76, median 1.67). A growth
// of 50 % gave 503–566 MiB for ~7 % more CPU, and 20 % 451 MiB for far more GC-thread time.
export const ORDINAL_NODE_FLAGS = ['--max-semi-space-size=16', '--heap-growing-percent=100'];
