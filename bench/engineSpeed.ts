/**
 * `npm run bench:engine-speed` (issue #17), run alone; prints the load before every step:
 *  - native_decode_over_llamabench: Hearth's engine decode tok/s on the native build ÷ `llama-bench` tg, both built
 *    from node-llama-cpp's llama.cpp source with native flags and OpenMP, same GGUF, same threads (the count the
 *    engine chose for the request, passed to llama-bench), same depth (the engine's prompt length); the generated
 *    q4_0 models benchDense (Qwen2.5-Coder-1.5B shape) and benchMoe (DeepSeek-Coder-V2-Lite shape). Goal ≥ 1.0.
 *    The prebuilt's ratio is printed beside it.
 *  - busy_decode_over_quiet: engine decode with one core held by a bounded background process (a child that spins
 *    for the measurement and exits) ÷ quiet decode, with the engine's automatic thread choice. Goal ≥ 0.6.
 *  - lookup_speedup: wall time of a completion replay on this repository's code with lookup speculation ÷ without,
 *    on the shipped model (models/hearth-code-tiny.gguf); the two must give the same text. Goal ≤ 0.7. Rest-of-line
 *    tasks spread over the files (the figure), and beside it the same on lines whose rest occurs in the prefix
 *    window (`lookup_speedup_copyable`), with the drafts' acceptance and the tokens generated per request.
 * `HEARTH_BENCH_QUICK=1`: benchDense only, fewer repetitions and replay tasks. `HEARTH_BENCH_ONLY=decode|lookup`: one part
 * alone; `HEARTH_BENCH_MODELS=benchMoe` (comma-separated presets): the decode rows of those models only.
 * `HEARTH_BENCH_SIDES`: the engine sides of the decode rows (below); `HEARTH_BENCH_THREADS=N`: every side and
 * llama-bench at N threads whatever the load (no busy ÷ quiet row); `HEARTH_BENCH_REPS`: repetitions;
 * `HEARTH_BENCH_BUSY_PAIRS`: quiet/busy pairs of the busy ÷ quiet row (default 7, quick or not). Each side's
 * decode row also prints the engine's CPU time a token on a cached prompt (waiting threads that spin show there).
 * Builds (or reuses): `.bench-cache/` (llama-bench, see llamaCppTools.ts) and `.hearth-build/` (the native backend).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism, freemem, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EngineClient } from '../src/node/engine/engineClient';
import { buildNativeEngine } from '../src/node/engine/nativeBuild';
import { benchModel, median, printMachine, printResult, repoRoot, round } from './benchUtil';
import { buildLlamaCppTools } from './llamaCppTools';
import { replayTasks } from './replayTasks';

const enginePath = resolve(repoRoot, 'dist/engine.js');
const quick = process.env.HEARTH_BENCH_QUICK === '1';
/** `decode` or `lookup`: that part alone (development runs); unset: everything. */
const only = process.env.HEARTH_BENCH_ONLY;
const reps = Number(process.env.HEARTH_BENCH_REPS ?? (quick ? 2 : 3));
const DECODE_TOKENS = quick ? 24 : 48;
/** Quiet/busy decode pairs of the busy ÷ quiet row: the figure is a ratio of two noisy medians, so more than `reps`. */
const busyPairs = Number(process.env.HEARTH_BENCH_BUSY_PAIRS ?? 7);
const PROMPT_TOKENS = 256;
const buildRoot = resolve(repoRoot, '.hearth-build');
const shippedModel = resolve(repoRoot, 'models/hearth-code-tiny.gguf');
/** `HEARTH_BENCH_THREADS=N`: every side and llama-bench at N threads (the engine ignores the load); unset: automatic. */
const fixedThreads = Number(process.env.HEARTH_BENCH_THREADS ?? 0) || undefined;

const startedAt = performance.now();
function load(step: string): void {
  const [l1, l5] = loadavg();
  console.log(`# load ${l1!.toFixed(2)} (1 min) ${l5!.toFixed(2)} (5 min) at ${((performance.now() - startedAt) / 1000).toFixed(0)} s before: ${step}`);
}

/** A bounded busy process: spins one core for `ms` at normal priority, then exits on its own. */
function busyChild(ms: number): ChildProcess {
  return spawn(process.execPath, ['-e', `const end = Date.now() + ${ms}; while (Date.now() < end) {}`], { stdio: 'ignore' });
}

/**
 * The engine sides compared: the native build, the prebuilt, and diagnostics: the native build with environment
 * settings for the engine process, named `native+VAR=value+…` (`HEARTH_BENCH_SIDES=native,prebuilt,native+OMP_WAIT_POLICY=passive`).
 * The native side runs with the engine's own OpenMP settings (`NATIVE_OPENMP_ENV` in threads.ts: one libuv worker, so
 * one OpenMP team, spinning 1,000,000 times at a barrier); the diagnostic keeps libuv's 4 workers, as the engine did
 * until session 11: one team per worker, more OpenMP threads than cores, so libgomp spins 100 times and sleeps.
 */
type Side = string;
const DEFAULT_SIDES: Side[] = ['native', 'prebuilt', 'native+UV_THREADPOOL_SIZE=4'];

function sideEnv(side: Side): Record<string, string> {
  const env: Record<string, string> = {};
  for (const kv of side.split('+').slice(1)) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new Error(`HEARTH_BENCH_SIDES: "${side}": each setting after the backend is VAR=value (e.g. native+OMP_WAIT_POLICY=passive)`);
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return env;
}

function sideBackend(side: Side): 'native' | 'prebuilt' {
  const b = side.split('+')[0];
  if (b !== 'native' && b !== 'prebuilt') throw new Error(`HEARTH_BENCH_SIDES: "${side}" must start with native or prebuilt`);
  return b;
}

function client(side: Side): EngineClient {
  const env: Record<string, string> = { HEARTH_ENGINE_BUILD_DIR: sideBackend(side) === 'prebuilt' ? mkdtempSync(join(tmpdir(), 'hearth-nobuild-')) : buildRoot, ...(fixedThreads ? { HEARTH_ENGINE_FIXED_THREADS: '1' } : {}), ...sideEnv(side) };
  return new EngineClient({ enginePath, runtimeDir: mkdtempSync(join(tmpdir(), 'hearth-speed-')), idleExitMs: 5000, env });
}

/** This repository's engine code as a prompt of about `chars` characters. */
function codeText(chars: number): string {
  const dir = resolve(repoRoot, 'src/node/engine');
  let text = readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
  while (text.length < chars) text += text;
  return text.slice(0, chars);
}

/** Engine decode tok/s (tokens after the first ÷ their time) for a prompt of ~PROMPT_TOKENS, and the threads used. */
async function engineDecode(c: EngineClient, prefix: string): Promise<{ tps: number; threads: number; tokensIn: number }> {
  const res = await c.infill({ prefix, suffix: '', maxTokens: DECODE_TOKENS, beamWidth: 1, temperature: 0, cacheReuse: false, documentId: 'decode' });
  const decodeMs = res.totalMs - (res.timeToFirstTokenMs ?? 0);
  return { tps: (res.tokensOut - 1) / (decodeMs / 1000), threads: res.threads ?? 0, tokensIn: res.tokensEvaluated };
}

/** CPU time (user + system) of a process so far, ms; undefined where /proc is absent. */
function processCpuMs(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) * 10; // USER_HZ 100
  } catch {
    return undefined;
  }
}

/**
 * The engine's CPU time per decoded token, ms: the prompt evaluated once beforehand (kept in the cache), so the
 * measured request decodes and little else. Spinning thread teams show here even where the load hides them in the
 * wall time; decode at N threads costs about N × (wall per token) when nothing waits.
 */
async function engineDecodeCpu(c: EngineClient, prefix: string): Promise<{ cpuMsPerToken: number; wallMsPerToken: number } | undefined> {
  const req = { prefix, suffix: '', beamWidth: 1, temperature: 0, cacheReuse: true, documentId: 'cpu', stream: false } as const;
  await c.infill({ ...req, maxTokens: 1 });
  const before = processCpuMs(c.pid);
  const t0 = performance.now();
  const res = await c.infill({ ...req, maxTokens: DECODE_TOKENS });
  const wall = performance.now() - t0;
  const after = processCpuMs(c.pid);
  if (before === undefined || after === undefined || res.tokensOut < 2) return undefined;
  return { cpuMsPerToken: (after - before) / res.tokensOut, wallMsPerToken: wall / res.tokensOut };
}

/** llama-bench's tg tok/s at `threads` and `depth`, median of its own repetitions. */
function llamaBenchTg(bin: string, model: string, threads: number, depth: number): number | undefined {
  const r = spawnSync(bin, ['-m', model, '-t', String(threads), '-p', '0', '-n', String(DECODE_TOKENS), '-d', String(depth), '-r', String(reps), '-o', 'json'], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) {
    console.log(`# llama-bench failed: ${(r.stderr || '').trim().split('\n').slice(-3).join(' ')}`);
    return undefined;
  }
  const rows = JSON.parse(r.stdout) as Array<{ n_gen: number; avg_ts: number }>;
  return rows.find((x) => x.n_gen > 0)?.avg_ts;
}

interface ModelRow {
  native?: number;
  prebuilt?: number;
  /** Each diagnostic side's decode ÷ llama-bench. */
  diagnostics: Record<string, number>;
  busy?: number;
  /** Median of each pair's busy ÷ quiet. */
  busyPaired?: number;
  quietTps?: number;
  busyTps?: number;
}

async function nativeVsLlamaBench(preset: string, llamaBench: string | undefined, nativeReady: boolean): Promise<ModelRow> {
  load(`${preset}: model`);
  const path = benchModel(preset);
  const prefix = codeText(PROMPT_TOKENS * 3);
  const out: ModelRow = { diagnostics: {} };
  const wanted = process.env.HEARTH_BENCH_SIDES?.split(',').filter(Boolean) ?? DEFAULT_SIDES;
  for (const s of wanted) sideBackend(s); // a typo fails before any model loads
  // Each engine process holds its own copy of repacked weights: the diagnostic sides only where they fit.
  const fit = Math.max(2, Math.floor((freemem() * 0.7) / statSync(path).size));
  const sides: Side[] = (nativeReady ? wanted : wanted.filter((s) => sideBackend(s) === 'prebuilt')).filter((s, i, all) => all.indexOf(s) === i);
  if (!sides.includes('native') && nativeReady) sides.unshift('native');
  if (!sides.includes('prebuilt')) sides.push('prebuilt');
  const dropped = sides.splice(fit);
  if (dropped.length) console.log(`# ${preset}: not measured (their copies of the weights would not fit in free memory): ${dropped.join(', ')}`);
  const clients = new Map(sides.map((s) => [s, client(s)] as const));
  try {
    for (const [side, c] of clients) {
      load(`${preset}: loading on the ${side} backend`);
      await c.loadModel({ path, contextSize: 2048, engineBackend: sideBackend(side), ...(fixedThreads ? { threads: fixedThreads } : {}) });
      await engineDecode(c, prefix.slice(0, 200)); // warm: page the weights in
    }
    const tps: Record<string, number[]> = Object.fromEntries([...sides, 'bench'].map((s) => [s, [] as number[]]));
    const threadsSeen: number[] = [];
    const cpuPerToken: Record<string, number[]> = {};
    let depth = PROMPT_TOKENS;
    for (let r = 0; r < reps; r++) {
      // Rotate the order each repetition: under a changing load no side always goes first.
      const order = [...clients].map((_, i, all) => all[(i + r) % all.length]!);
      for (const [side, c] of order) {
        load(`${preset}: engine decode (${side}), rep ${r + 1}`);
        const d = await engineDecode(c, prefix);
        tps[side]!.push(d.tps);
        if (side === 'native' || !nativeReady) threadsSeen.push(d.threads);
        depth = d.tokensIn;
        const cpu = await engineDecodeCpu(c, prefix);
        if (cpu) (cpuPerToken[side] ??= []).push(cpu.cpuMsPerToken);
        console.log(`  ${preset} engine ${side}: ${d.tps.toFixed(2)} tok/s decode at ${d.threads} threads, depth ${d.tokensIn}${cpu ? `; cached prompt: ${cpu.cpuMsPerToken.toFixed(1)} ms CPU and ${cpu.wallMsPerToken.toFixed(1)} ms wall a token` : ''}`);
      }
      if (llamaBench) {
        // Same threads as the engine's main side chose, same depth as its prompt.
        const threads = fixedThreads ?? threadsSeen[threadsSeen.length - 1]!;
        load(`${preset}: llama-bench tg${DECODE_TOKENS} at ${threads} threads, depth ${depth}`);
        const tg = llamaBenchTg(llamaBench, path, threads, depth);
        if (tg !== undefined) {
          tps.bench!.push(tg);
          console.log(`  ${preset} llama-bench: ${tg.toFixed(2)} tok/s tg at ${threads} threads, depth ${depth}`);
        }
      }
    }
    const bench = tps.bench!.length ? median(tps.bench!) : undefined;
    const ratio = (side: Side) => (bench && tps[side]?.length ? median(tps[side]!) / bench : undefined);
    out.native = ratio('native');
    out.prebuilt = ratio('prebuilt');
    for (const side of sides) {
      const r = side === 'native' || side === 'prebuilt' ? undefined : ratio(side);
      if (r !== undefined) out.diagnostics[side] = r;
    }
    console.log(`${preset}: llama-bench ${bench?.toFixed(2) ?? '-'} tok/s; ${sides.map((s) => `${s} ${tps[s]!.length ? median(tps[s]!).toFixed(2) : '-'} tok/s (${ratio(s)?.toFixed(3) ?? '-'}, ${cpuPerToken[s]?.length ? median(cpuPerToken[s]!).toFixed(1) : '-'} ms CPU a token)`).join('; ')}`);

    // Busy ÷ quiet, automatic threads, on the backend the engine would use (native when built).
    if (fixedThreads) {
      console.log(`# ${preset}: no busy ÷ quiet row: HEARTH_BENCH_THREADS fixes the threads, and that row is about the automatic choice`);
      return out;
    }
    const c = clients.get(nativeReady ? 'native' : 'prebuilt')!;
    const quiet: number[] = [];
    const busy: number[] = [];
    for (let r = 0; r < busyPairs; r++) {
      // A quiet and a busy decode in the same half-minute, alternating which goes first: the machine's own load
      // drifts between pairs (session 7's two quiet repetitions differed by 19 %), less within one.
      const one = async (withBusy: boolean) => {
        load(`${preset}: ${withBusy ? 'decode with one core held busy' : 'quiet decode'} (automatic threads), pair ${r + 1}`);
        if (!withBusy) return engineDecode(c, prefix);
        const child = busyChild(120_000);
        try {
          // Let the engine's load monitor see the busy core (it samples every second).
          await new Promise((res) => setTimeout(res, 2500));
          return await engineDecode(c, prefix);
        } finally {
          child.kill();
          // The core is free again before the next decode: the spinner has exited, not just been signalled.
          await new Promise((res) => setTimeout(res, 1000));
        }
      };
      const first = await one(r % 2 === 1);
      const second = await one(r % 2 === 0);
      const [q, b] = r % 2 === 1 ? [second, first] : [first, second];
      quiet.push(q.tps);
      busy.push(b.tps);
      console.log(`  ${preset}: quiet ${q.tps.toFixed(2)} tok/s at ${q.threads} threads; one core busy ${b.tps.toFixed(2)} tok/s at ${b.threads} threads (${(b.tps / q.tps).toFixed(3)})`);
    }
    out.busy = median(busy) / median(quiet);
    out.busyPaired = median(busy.map((b, i) => b / quiet[i]!));
    out.quietTps = median(quiet);
    out.busyTps = median(busy);
    console.log(`${preset}: busy ÷ quiet decode ${out.busy.toFixed(3)} (medians of ${busyPairs} pairs: quiet ${out.quietTps.toFixed(2)}, busy ${out.busyTps.toFixed(2)} tok/s; median of the pairs' ratios ${out.busyPaired.toFixed(3)})`);
  } finally {
    for (const c of clients.values()) {
      await c.restart().catch(() => undefined);
      await c.dispose();
    }
  }
  return out;
}

/**
 * Completion replay on this repo's code (rest-of-line tasks, see replayTasks.ts): the same greedy requests with and
 * without lookup speculation, alternating which goes first. Greedy because lookup only drafts for greedy generation:
 * the shipped model's default is a four-beam search (small model), which speculation does not apply to.
 */
async function lookupReplay(): Promise<{ spread: number; copy?: number; acceptance: number | null; tokensPerRequest: number } | undefined> {
  if (!existsSync(shippedModel)) {
    console.log('# the shipped model is missing: no lookup figure');
    return undefined;
  }
  const files = ['src/node/engine/scheduler.ts', 'src/node/engine/promptCache.ts', 'src/common/ledger/ledgerSerialize.ts', 'src/node/engine/engineServer.ts', 'src/common/settings.ts', 'src/node/engine/backends/llamaCppBackend.ts'];
  const tasks = replayTasks(files.map((f) => ({ path: f, text: readFileSync(resolve(repoRoot, f), 'utf8') })), quick ? 3 : 6);
  const plain = client('prebuilt');
  const spec = client('prebuilt');
  try {
    load('lookup replay: loading the shipped model twice (lookup off / on)');
    // Fixed threads on both: the figure is about speculation, not about the load at that moment.
    await plain.loadModel({ path: shippedModel, contextSize: 2048, threads: 1, lookup: false, engineBackend: 'auto' });
    await spec.loadModel({ path: shippedModel, contextSize: 2048, threads: 1, lookup: true, engineBackend: 'auto' });
    const groups = { spread: { plain: [] as number[], spec: [] as number[] }, copy: { plain: [] as number[], spec: [] as number[] } };
    let mismatches = 0;
    let accepted = 0;
    let drafted = 0;
    let tokensOut = 0;
    let exact = 0;
    const count = { spread: tasks.filter((t) => t.group === 'spread').length, copy: tasks.filter((t) => t.group === 'copy').length };
    for (let r = 0; r < reps; r++) {
      load(`lookup replay, rep ${r + 1} (${count.spread} spread + ${count.copy} copyable rest-of-line completions each way)`);
      const t = { spread: { plain: 0, spec: 0 }, copy: { plain: 0, spec: 0 } };
      for (const [i, task] of tasks.entries()) {
        const req = { prefix: task.prefix, suffix: task.suffix, documentId: `${task.file}#${i}`, stop: ['\n'], maxTokens: 64, beamWidth: 1, temperature: 0, cacheReuse: false };
        const order = i % 2 ? [spec, plain] : [plain, spec];
        const res = new Map<EngineClient, Awaited<ReturnType<EngineClient['infill']>>>();
        for (const c of order) {
          const t0 = performance.now();
          res.set(c, await c.infill(req));
          t[task.group][c === plain ? 'plain' : 'spec'] += performance.now() - t0;
        }
        const s = res.get(spec)!;
        if (res.get(plain)!.text !== s.text) mismatches++;
        if (s.text === task.expected) exact++;
        accepted += s.lookupAccepted ?? 0;
        drafted += (s.lookupAccepted ?? 0) + (s.lookupRejected ?? 0);
        tokensOut += s.tokensOut;
      }
      for (const g of ['spread', 'copy'] as const) {
        groups[g].plain.push(t[g].plain);
        groups[g].spec.push(t[g].spec);
      }
      console.log(`  replay ${r + 1}: spread lines without ${t.spread.plain.toFixed(0)} ms, with lookup ${t.spread.spec.toFixed(0)} ms; copyable lines without ${t.copy.plain.toFixed(0)} ms, with ${t.copy.spec.toFixed(0)} ms`);
    }
    const ratio = (g: { plain: number[]; spec: number[] }) => median(g.spec) / median(g.plain);
    const n = tasks.length * reps;
    const tokensPerRequest = tokensOut / n;
    const acceptance = drafted ? accepted / drafted : null;
    console.log(`lookup: spread ${ratio(groups.spread).toFixed(3)}, copyable ${count.copy ? ratio(groups.copy).toFixed(3) : '-'} of the time without; ${acceptance === null ? '-' : (100 * acceptance).toFixed(0)}% of ${drafted} drafted tokens accepted; ${tokensPerRequest.toFixed(1)} tokens generated a request; ${exact} of ${n} exactly the line's rest; ${mismatches} of ${n} outputs differ (must be 0)`);
    if (tokensPerRequest < 2) console.log('# warning: the replay hardly generates: the figure times prefill, not speculation');
    return { spread: ratio(groups.spread), ...(count.copy ? { copy: ratio(groups.copy) } : {}), acceptance, tokensPerRequest };
  } finally {
    for (const c of [plain, spec]) {
      await c.restart().catch(() => undefined);
      await c.dispose();
    }
  }
}

async function main(): Promise<void> {
  printMachine('bench:engine-speed');
  console.log(`# ${availableParallelism()} cores; decode ${DECODE_TOKENS} tokens after ~${PROMPT_TOKENS} prompt tokens; ${reps} repetitions${quick ? ' (quick)' : ''}`);
  load('building (or reusing) llama-bench');
  const tools = await buildLlamaCppTools({ log: (s) => console.log(`# ${s}`), targets: ['llama-bench'] });
  if (!tools.ok) console.log(`# no llama-bench: ${tools.reason}`);
  load('building (or reusing) the native backend');
  const native = await buildNativeEngine({ root: buildRoot, log: (s) => console.log(`# ${s}`), jobs: availableParallelism() });
  if (!native.ok) console.log(`# no native backend: ${native.reason}`);

  const result: Record<string, number | string | boolean> = {};
  const perModel: Record<string, ModelRow> = {};
  const presets = process.env.HEARTH_BENCH_MODELS?.split(',') ?? (quick ? ['benchDense'] : ['benchDense', 'benchMoe']);
  if (only !== 'lookup') {
    for (const preset of presets) perModel[preset] = await nativeVsLlamaBench(preset, tools.ok ? tools.llamaBench : undefined, native.ok);
  }
  const lookup = only === 'decode' ? undefined : await lookupReplay();
  const nativeRatios = Object.values(perModel).map((m) => m.native).filter((x): x is number => x !== undefined);
  const busyRatios = Object.values(perModel).map((m) => m.busy).filter((x): x is number => x !== undefined);
  if (nativeRatios.length) result.native_decode_over_llamabench = round(Math.min(...nativeRatios));
  if (busyRatios.length) result.busy_decode_over_quiet = round(Math.min(...busyRatios));
  if (lookup !== undefined) {
    result.lookup_speedup = round(lookup.spread);
    if (lookup.copy !== undefined) result.lookup_speedup_copyable = round(lookup.copy);
    if (lookup.acceptance !== null) result.lookup_acceptance = round(lookup.acceptance);
    result.lookup_tokens_per_request = round(lookup.tokensPerRequest, 1);
  }
  for (const [preset, m] of Object.entries(perModel)) {
    if (m.native !== undefined) result[`native_decode_over_llamabench_${preset}`] = round(m.native);
    if (m.prebuilt !== undefined) result[`prebuilt_decode_over_llamabench_${preset}`] = round(m.prebuilt);
    for (const [side, r] of Object.entries(m.diagnostics)) result[`decode_over_llamabench_${preset}_${side.replace(/[^A-Za-z0-9]+/g, '_')}`] = round(r);
    if (m.busy !== undefined) result[`busy_decode_over_quiet_${preset}`] = round(m.busy);
    if (m.busyPaired !== undefined) result[`busy_decode_over_quiet_paired_${preset}`] = round(m.busyPaired);
    if (m.quietTps !== undefined) result[`quiet_decode_tps_${preset}`] = round(m.quietTps, 2);
    if (m.busyTps !== undefined) result[`busy_decode_tps_${preset}`] = round(m.busyTps, 2);
  }
  result.load1 = round(loadavg()[0]!, 2);
  result.quick = quick;
  printResult(result);
}

void main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
