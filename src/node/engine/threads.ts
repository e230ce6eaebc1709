import { availableParallelism, loadavg } from 'node:os';

/**
 * Threads for llama.cpp, chosen against the machine's current load: with threads = cores, decode falls to
 * ~0.3× when another process holds a core, while one thread fewer keeps ~0.6×. So leave a core to whatever
 * is already running (the 1-minute load average), never going below one thread.
 */
export function chooseThreads(cores = availableParallelism(), load1 = loadavg()[0] ?? 0): number {
  const busy = Math.round(Math.max(0, load1));
  return Math.max(1, Math.min(cores, cores - busy));
}
