// Where a process's start-up time goes, phase by phase, for the "ready" log line and
// bench/startup.ts. A phase ends at its mark and began at the previous one (the first at process
// start: performance.now() counts from there), so the phases add up to the time to readiness.
// It imports nothing, so that the entry point can mark Node's own boot before anything loads.

const marks: { name: string; at: number }[] = [];

/** Ends the phase `name` now. */
export function markStartup(name: string): void {
  marks.push({ name, at: performance.now() });
}

/** Each phase's milliseconds (to 0.1 ms), in the order they ended. */
export function startupPhases(): Record<string, number> {
  const out: Record<string, number> = {};
  let prev = 0;
  for (const { name, at } of marks) {
    out[name] = Math.round((at - prev) * 10) / 10;
    prev = at;
  }
  return out;
}
