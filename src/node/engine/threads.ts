import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, getPriority, loadavg } from 'node:os';

/**
 * Threads for llama.cpp, chosen against the load from OTHER processes: with threads = cores, decode falls to ~0.3×
 * of its quiet speed when another process holds a core (llama.cpp's threads wait for each other at every layer,
 * so one descheduled thread stalls them all), while one thread fewer keeps ~0.6×. So leave a core to each core's
 * worth of competing work, never going below one thread.
 *
 * `othersBusy` is in cores (1.0 = one core fully used by other processes). Half a core of other work already
 * costs a thread: the stall of a shared core is paid at every synchronisation, not in proportion to its use.
 * Measured on 2 cores, native build, benchDense, alternating rounds (bench/threadsProbe.ts, session 11,
 * bench/results/threads-probe-load-session11.txt, medians): a program using 0.3 of a core: 2 spinning threads
 * 23.4 tok/s, 1 thread 19.5 (2 sleeping, as before session 11: 19.3); 0.6 of a core: 1 thread 19.7, 2 threads 17.6
 * (sleeping 17.4); a whole core: 1 thread 18.2, 2 threads 0.8 (spinning) or 16.0 (sleeping).
 */
export function chooseThreads(cores = availableParallelism(), othersBusy = loadavg()[0] ?? 0): number {
  const busy = Math.round(Math.max(0, othersBusy));
  return Math.max(1, Math.min(cores, cores - busy));
}

/** CPU time counters, in clock ticks, from /proc. */
export interface CpuCounters {
  /** Ticks every CPU spent running anything that competes at normal priority (user, system, irq, steal). */
  busy: number;
  /** Ticks of this process (user + system). */
  own: number;
  /** Ticks of processes that yield to us: SCHED_IDLE (the scheduler runs them only on otherwise idle CPUs). */
  yielding: number;
  /** Wall time of the sample, ms. */
  at: number;
}

/** Parses the `cpu` line of /proc/stat: user nice system idle iowait irq softirq steal … */
export function parseProcStat(text: string, ownNiced: boolean): number {
  const f = (/^cpu\s+(.*)$/m.exec(text)?.[1] ?? '').trim().split(/\s+/).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  // Niced processes (nice > 0) get a small share against ours and do not hold a core from us; unless the engine
  // is itself niced, then they are its peers.
  return user + system + irq + softirq + steal + (ownNiced ? nice : 0);
}

/** utime + stime (ticks) and the scheduling policy of one /proc/<pid>/stat line. */
export function parsePidStat(text: string): { ticks: number; policy: number } | undefined {
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime is field 14, stime 15, policy 41.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  const policy = Number(rest[38]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return { ticks: utime + stime, policy: Number.isFinite(policy) ? policy : 0 };
}

const SCHED_IDLE = 5;

/** Reads the counters (Linux); undefined where /proc is absent. */
export function readCpuCounters(): CpuCounters | undefined {
  try {
    let ownNiced = false;
    try {
      ownNiced = getPriority() > 0;
    } catch {
      // unknown: assume not niced
    }
    const busy = parseProcStat(readFileSync('/proc/stat', 'utf8'), ownNiced);
    const own = parsePidStat(readFileSync('/proc/self/stat', 'utf8'))?.ticks ?? 0;
    let yielding = 0;
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
      try {
        const s = parsePidStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
        // A SCHED_IDLE process's own ticks; its threads share the policy in practice (chrt applies to all).
        if (s && s.policy === SCHED_IDLE) yielding += s.ticks;
      } catch {
        // the process ended between the listing and the read
      }
    }
    return { busy, own, yielding, at: Date.now() };
  } catch {
    return undefined;
  }
}

/** `running/total` of /proc/loadavg's fourth field: runnable threads on the machine right now. */
export function parseRunnable(loadavgText: string): number | undefined {
  const m = /^\S+\s+\S+\s+\S+\s+(\d+)\//.exec(loadavgText);
  return m ? Number(m[1]) : undefined;
}

/**
 * Other processes' threads runnable right now (/proc/loadavg less this process's own running threads), or
 * undefined where /proc is absent. One file per thread of this process: well under a millisecond.
 */
export function readRunnableOthers(): number | undefined {
  try {
    const all = parseRunnable(readFileSync('/proc/loadavg', 'utf8'));
    if (all === undefined) return undefined;
    let own = 0;
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
        if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'R') own++;
      } catch {
        // the thread ended
      }
    }
    return Math.max(0, all - own);
  } catch {
    return undefined;
  }
}

/** Clock ticks per second of /proc's counters (USER_HZ: 100 on every Linux build that matters). */
const TICKS_PER_SECOND = 100;

/** Cores' worth of competing work by other processes between two samples. */
export function othersBusyBetween(a: CpuCounters, b: CpuCounters): number {
  const seconds = (b.at - a.at) / 1000;
  if (seconds <= 0) return 0;
  const ticks = b.busy - a.busy - (b.own - a.own) - Math.max(0, b.yielding - a.yielding);
  return Math.max(0, ticks / TICKS_PER_SECOND / seconds);
}

/**
 * Watches the machine's load from other processes, sampling every `intervalMs` on a timer that never keeps the
 * process alive. A request reads the latest figure (no waiting, no measuring on its path) and picks its threads
 * from it. Where /proc is absent (macOS, Windows), the 1-minute load average less this process's own recent CPU
 * use stands in.
 */
export class LoadMonitor {
  private last: CpuCounters | undefined;
  private timer: NodeJS.Timeout | undefined;
  private smoothed = 0;
  private fallbackOwn = { cpu: process.cpuUsage(), at: Date.now(), share: 0 };

  constructor(
    private readonly intervalMs = 1000,
    private readonly read: () => CpuCounters | undefined = readCpuCounters,
    private readonly runnableNow: () => number | undefined = readRunnableOthers,
  ) {}

  start(): void {
    if (this.timer) return;
    this.last = this.read();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes a sample now (the timer does this every interval). */
  sample(): void {
    const now = this.read();
    if (now && this.last) {
      const busy = othersBusyBetween(this.last, now);
      // Mostly the latest interval: a browser tab that starts spinning should cost a thread within a second or two.
      this.smoothed = 0.3 * this.smoothed + 0.7 * busy;
    } else if (!now) {
      const cpu = process.cpuUsage();
      const at = Date.now();
      const used = (cpu.user + cpu.system - this.fallbackOwn.cpu.user - this.fallbackOwn.cpu.system) / 1000;
      this.fallbackOwn = { cpu, at, share: at > this.fallbackOwn.at ? used / (at - this.fallbackOwn.at) : 0 };
      this.smoothed = Math.max(0, (loadavg()[0] ?? 0) - this.fallbackOwn.share);
    }
    this.last = now;
    this.onSample?.();
  }

  /** Called after every sample: a running request's threads follow the load between two batches. */
  onSample: (() => void) | undefined;

  /** Cores' worth of competing work by other processes, recently. */
  get othersBusy(): number {
    return this.smoothed;
  }

  /**
   * Other processes' load for a request starting now: the recent CPU time (what held cores over the last seconds,
   * SCHED_IDLE and niced work left out), but no more than the threads of other processes runnable at this moment.
   * A program that was busy until a moment ago (a build step, a benchmark's other side) then no longer costs a
   * thread; one that keeps spinning is runnable at every look and does.
   */
  loadNow(): number {
    const runnable = this.runnableNow();
    return runnable === undefined ? this.smoothed : Math.min(this.smoothed, runnable);
  }

  /** Threads for the next batch, at most `ceiling` (the configured or tuned count, else the cores). */
  threadsFor(ceiling: number, cores = availableParallelism()): number {
    this.lastLoad = this.loadNow();
    return Math.max(1, Math.min(ceiling, chooseThreads(cores, this.lastLoad)));
  }

  /** The load the last `threadsFor` decided on (cores of other processes' work). */
  lastLoad = 0;
}

/**
 * How the native build's OpenMP threads wait at a barrier, from the engine process's environment (libgomp reads it
 * once, at load), for the log and the status tooltip. node-llama-cpp decodes on any of libuv's workers
 * (`UV_THREADPOOL_SIZE`, default 4) and libgomp keeps a thread team per calling thread; with more of its threads
 * than cores it spins only its "throttled" count (100, or 1000 with `OMP_WAIT_POLICY=active`, never above
 * `GOMP_SPINCOUNT`) before sleeping, with one team `GOMP_SPINCOUNT` (default 300,000). See `nativeOpenmpEnv`.
 */
export function openmpWaits(env: NodeJS.ProcessEnv, threads: number, cores = availableParallelism()): string {
  const workers = Number(env.UV_THREADPOOL_SIZE) > 0 ? Math.floor(Number(env.UV_THREADPOOL_SIZE)) : 4;
  const policy = env.OMP_WAIT_POLICY?.trim().toLowerCase();
  const given = /^\d+$/.test(env.GOMP_SPINCOUNT?.trim() ?? '') ? Number(env.GOMP_SPINCOUNT) : undefined;
  const spin = given ?? (policy === 'active' ? 30_000_000_000 : policy === 'passive' ? 0 : 300_000);
  const throttledCap = policy === 'active' ? 1000 : policy === 'passive' ? 0 : 100;
  // libgomp counts the initial thread and each team's helpers: (threads − 1) a worker that has decoded.
  const managed = 1 + workers * Math.max(0, threads - 1);
  const throttled = managed > cores;
  const count = throttled ? Math.min(throttledCap, spin) : spin;
  const set = [env.UV_THREADPOOL_SIZE && `UV_THREADPOOL_SIZE=${env.UV_THREADPOOL_SIZE}`, env.OMP_WAIT_POLICY && `OMP_WAIT_POLICY=${env.OMP_WAIT_POLICY}`, given !== undefined && `GOMP_SPINCOUNT=${given}`].filter(Boolean);
  return `OpenMP waits spin ${count.toLocaleString('en-US')} then sleep (${workers} libuv worker${workers === 1 ? '' : 's'}${throttled ? ', throttled: more OpenMP threads than cores' : workers === 1 ? ', one team' : ', a team each, within the cores'}; ${set.length ? set.join(' ') : 'defaults'})`;
}

/**
 * The engine process's environment for the native build (OpenMP), for what the user's environment does not set:
 * one libuv worker, so node-llama-cpp's decodes all run on one thread, libgomp keeps one team of threads ≤ cores
 * and is not throttled; and a spin of 1,000,000 at a barrier (~20 ms of one core after the last batch, measured,
 * then the thread sleeps). With libuv's 4 workers each owning a team, libgomp spun 100 times and slept at every
 * barrier, and on a quiet machine decode ran at 0.87 of `llama-bench` (session 11): a 2-vCPU machine pays a sleep and
 * wake-up (the hypervisor's too) many times a token. Measured on node-llama-cpp directly, benchDense, 2 threads,
 * depth 427 (ms a token for `decodeBatch`, three runs each): spin 10,000 32.0–34.8, 300,000 29.6–30.7, 1,000,000
 * 28.5–28.9, 3,000,000 28.7–29.1, spin forever (`OMP_WAIT_POLICY=active`, which would hold a core while idle)
 * 28.5–28.9; `llama-bench` 28.7–29.1. Spinning threads collapse when a thread is descheduled (another program holding
 * a core: 0.8 tok/s), so the load-aware choice gives a thread up at half a core of other work (`chooseThreads`) and
 * re-chooses every second during a request (`LoadMonitor.onSample`); below that, spinning won (0.3 of a core busy:
 * 23.4 tok/s against 19.3 for the sleeping waits). The prebuilt has no OpenMP and keeps libuv's 4 workers.
 */
export const NATIVE_OPENMP_ENV: Readonly<Record<string, string>> = { UV_THREADPOOL_SIZE: '1', GOMP_SPINCOUNT: '1000000' };

/** The settings of `NATIVE_OPENMP_ENV` that `env` does not already set (the user's own always win). */
export function nativeOpenmpEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const wait = env.OMP_WAIT_POLICY?.trim();
  return Object.fromEntries(Object.entries(NATIVE_OPENMP_ENV).filter(([k]) => !env[k]?.trim() && !(k === 'GOMP_SPINCOUNT' && wait)));
}
