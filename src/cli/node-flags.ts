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
// live heap reach 430 MiB used before a collection in a 10,000-pod scale-up. It trades speed for
// memory: Parallel 0 -> 10,000 (bench/statefulset.ts --cases parallel10k, 100 nodes, quiet 2-core
// machine, two alternating runs each) took RSS 547, 561 MiB when all Ready instead of 644, 664, and
// ran at 668, 664 pods/s instead of 691, 703 (main thread 1.09 CPU-ms per pod instead of 1.03, GC
// threads 0.52 instead of 0.47). A growth of 50 % gave 503-566 MiB for ~7 % more CPU (shared machine).
//
// --expose-gc gives src/util/idle-compaction.ts the gc() it calls once the cluster goes quiet
// after a burst: the heap pages a scale-up leaves behind are otherwise kept for as long as it stays quiet.
export const ORDINAL_NODE_FLAGS = ['--max-semi-space-size=16', '--heap-growing-percent=100', '--expose-gc'];
