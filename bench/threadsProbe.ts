/**
 * `node out/bench/threadsProbe.js` (after `npm run build`; issue #17, development): engine decode speed of several
 * engine settings side by side on a machine that is not idle, for the thread policy and the engine's environment.
 * Each side is an engine process on the native build at a fixed thread count (`HEARTH_ENGINE_FIXED_THREADS`), named
 * `T=<threads>[+VAR=value…]` (environment for the engine process), e.g.
 *   PROBE_SIDES='T=1,T=2' (one thread against two, as the load is)
 *   PROBE_SIDES='T=2,T=2+UV_THREADPOOL_SIZE=1,T=2+UV_THREADPOOL_SIZE=1+GOMP_SPINCOUNT=10000'
 * Rounds alternate the order; every round prints the others' CPU use before it (cores, as the engine's load monitor
 * counts it: SCHED_IDLE and niced work left out), wall tok/s and the engine's CPU ms a token. `PROBE_BUSY=1` adds a
 * spinning process at normal priority for the whole run (one core held busy); `PROBE_BUSY=0.3` one that spins 3 ms of
 * every 10 (a program using part of a core, as an editor's language server or a browser tab does); `PROBE_MINUTES`
 * (default 3).
 * The prompt is evaluated once and cached, so each round times 24 decoded tokens and little else.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EngineClient } from '../src/node/engine/engineClient';
import { othersBusyBetween, parsePidStat, readCpuCounters } from '../src/node/engine/threads';
import { benchModel, median, printMachine, repoRoot } from './benchUtil';

const sides = (process.env.PROBE_SIDES ?? 'T=1,T=2').split(',').filter(Boolean);
const minutes = Number(process.env.PROBE_MINUTES ?? 3);
const TOKENS = 24;
const ticks = (pid?: number) => {
  try {
    return parsePidStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.ticks ?? 0;
  } catch {
    return 0;
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function parseSide(side: string): { threads: number; env: Record<string, string> } {
  const [first, ...rest] = side.split('+');
  const m = /^T=(\d+)$/.exec(first ?? '');
  if (!m) throw new Error(`PROBE_SIDES: "${side}" must start with T=<threads> (e.g. T=2+UV_THREADPOOL_SIZE=1)`);
  const env: Record<string, string> = {};
  for (const kv of rest) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new Error(`PROBE_SIDES: "${side}": each setting after the threads is VAR=value`);
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return { threads: Number(m[1]), env };
}

async function main(): Promise<void> {
  printMachine('threads probe');
  const parsed = sides.map(parseSide);
  const model = benchModel('benchDense');
  const prompt = readFileSync(resolve(repoRoot, 'src/node/engine/scheduler.ts'), 'utf8').slice(0, 900);
  const clients = parsed.map((p) => new EngineClient({
    enginePath: resolve(repoRoot, 'dist/engine.js'),
    runtimeDir: mkdtempSync(join(tmpdir(), 'hearth-threads-probe-')),
    idleExitMs: 5000,
    env: { HEARTH_ENGINE_BUILD_DIR: resolve(repoRoot, '.hearth-build'), HEARTH_ENGINE_FIXED_THREADS: '1', ...p.env },
  }));
  const req = { prefix: prompt, suffix: '', beamWidth: 1, temperature: 0, cacheReuse: true, documentId: 'probe', stream: false } as const;
  const busyShare = Number(process.env.PROBE_BUSY ?? 0);
  if (!(busyShare >= 0 && busyShare <= 1)) throw new Error(`PROBE_BUSY: "${process.env.PROBE_BUSY}" must be a share of one core between 0 and 1`);
  const spinner = `const end = Date.now() + ${(minutes + 3) * 60_000}, on = ${busyShare * 10}, off = ${10 - busyShare * 10}, rest = new Int32Array(new SharedArrayBuffer(4));
    while (Date.now() < end) { const t = performance.now(); while (performance.now() - t < on) {} if (off > 0) Atomics.wait(rest, 0, 0, off); }`;
  const busy = busyShare > 0 ? spawn(process.execPath, ['-e', spinner], { stdio: 'ignore' }) : undefined;
  try {
    for (const [i, c] of clients.entries()) {
      const info = await c.loadModel({ path: model, contextSize: 2048, threads: parsed[i]!.threads, engineBackend: 'native' });
      await c.infill({ ...req, maxTokens: 1 });
      console.log(`# ${sides[i]}: ${info.name} loaded`);
    }
    const tps: number[][] = sides.map(() => []);
    const deadline = Date.now() + minutes * 60_000;
    for (let round = 0; Date.now() < deadline; round++) {
      const a = readCpuCounters();
      const mine0 = clients.reduce((s, c) => s + ticks(c.pid), 0);
      await sleep(1000);
      const b = readCpuCounters();
      const mine1 = clients.reduce((s, c) => s + ticks(c.pid), 0);
      // The engines idle here; what they use (their timers) is not the others' load.
      const others = a && b ? Math.max(0, othersBusyBetween(a, b) - (mine1 - mine0) / 100) : NaN;
      const row: string[] = [];
      for (let k = 0; k < clients.length; k++) {
        const i = (k + round) % clients.length;
        const c = clients[i]!;
        const cpu0 = ticks(c.pid);
        const t0 = performance.now();
        const r = await c.infill({ ...req, maxTokens: TOKENS });
        const ms = (performance.now() - t0) / r.tokensOut;
        tps[i]!.push(1000 / ms);
        row.push(`${sides[i]} ${(1000 / ms).toFixed(1)} tok/s (${(((ticks(c.pid) - cpu0) * 10) / r.tokensOut).toFixed(0)} ms CPU a token)`);
      }
      console.log(`others ${others.toFixed(2)} cores, load ${loadavg()[0]!.toFixed(2)}: ${row.join(' | ')}`);
    }
    const rounds = tps[0]!.length;
    for (const [i, s] of sides.entries()) {
      const ahead = tps[i]!.filter((v, r) => tps.every((other, j) => j === i || v >= other[r]!)).length;
      console.log(`${s}: median ${median(tps[i]!).toFixed(2)} tok/s over ${rounds} rounds, fastest in ${ahead}`);
    }
  } finally {
    busy?.kill();
    for (const c of clients) {
      await c.restart().catch(() => undefined);
      await c.dispose();
    }
  }
}

void main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
