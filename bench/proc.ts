// What the benches read of a process from /proc: its CPU time and its memory.
import { readFileSync, readdirSync } from 'node:fs';

/** CPU milliseconds (user + system, all threads) the process has used (USER_HZ ticks of 10 ms). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after its last ')': utime and
  // stime are fields 14 and 15 of the line (1-based), 11 and 12 of what follows the name.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** CPU milliseconds of one thread of the process (the main thread's id is the pid): what worker threads take off it. */
export function threadCpuMs(pid: number, tid: number = pid): number {
  const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** CPU milliseconds per thread name (comm: "node" for the main thread, V8's and libuv's pools, workers by their name), summed over threads of one name. */
export function cpuMsByThread(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended between the listing and the read
    }
    const name = Number(tid) === pid ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(name, (out.get(name) ?? 0) + (Number(f[11]) + Number(f[12])) * 10);
  }
  return out;
}

/** What each thread name used between two cpuMsByThread readings, largest first, as "name ms" parts. */
export function threadCpuDelta(a: Map<string, number>, b: Map<string, number>): [string, number][] {
  return [...b].map(([k, v]): [string, number] => [k, v - (a.get(k) ?? 0)]).filter(([, v]) => v > 0).sort((x, y) => y[1] - x[1]);
}

/** A memory figure of /proc/<pid>/status, in bytes (NaN when absent). */
export function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}
