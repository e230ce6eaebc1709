/**
 * `npm run bench:completion`: Hearth's completion pipeline against the naive pattern, on the same engine and the
 * generated Qwen2.5-Coder-1.5B-shaped model (preset benchDense), in one run.
 *  - Traces (bench/traces/typing.json): keystroke-by-keystroke typing into real files of this repository and the
 *    sample workspace (TypeScript, JavaScript, Python, shell). Each trace removes a stretch of a file and types it
 *    back with the recorded inter-key delays (typos and backspaces included). `--record` rewrites the file from
 *    the sources with a seeded recorder (delays from a typist's distribution: 60–220 ms a key, pauses after
 *    punctuation and line ends).
 *  - Hearth: the traces replayed in real time through CompletionService (cache, type-through, anchored windows,
 *    speed-derived caps, adaptive debounce, the document's own engine sequence); a keystroke cancels the request
 *    of the one before, as the editor does. Each trace's file is opened OPEN_PAUSE_MS before its first key, with
 *    the editor's idle warm-up WARM_IDLE_MS after the cursor is placed (the recorded traces start at the first key).
 *  - Naive: what a plain /infill client without a prompt cache sends: the full prompt for a keystroke, no cache,
 *    a fresh sequence (cacheReuse false), a fixed token cap; measured on keystrokes spread evenly over the traces,
 *    one at a time (never queued behind each other: this flatters naive).
 *  - Warm edit: the engine's keystroke-to-first-token for one character typed at the end of a 1,500-token prefix,
 *    with and without reuse, measured as bench/engine.ts measures it.
 * Prints p50/p95 time to suggestion (request to answer, after the debounce), tokens evaluated per request, cache
 * and type-through hit rates, suggestions shown per 100 keystrokes, and
 * `RESULT {"p50_ratio":…,"p95_ratio":…,"warm_edit_ratio":…}`. Goals: p50 ≤ 0.05, p95 ≤ 0.1, warm edit ≤ 0.005.
 * Options (env): HEARTH_BENCH_THREADS (default: all cores), HEARTH_BENCH_NAIVE_N (naive requests sampled evenly over
 * the traces, default 8: each costs a full prefill and they hardly differ, so the run stays bounded),
 * HEARTH_BENCH_TRACES (replay only the first N traces),
 * HEARTH_BENCH_REPS (warm-edit repetitions, default 3), HEARTH_BENCH_MODEL (a GGUF instead of benchDense),
 * HEARTH_BENCH_VERBOSE=1 (a line per answered request).
 * Bounded: the replay is real time (~100 s of recorded typing) plus its answers, naive N full prefills, warm edit
 * 2 × (reps + 2) requests; each section prints its time and the load. The slowest Hearth answers are listed with
 * what they cost (tokens evaluated, where the prompt came from), so the p95 can be read, not guessed.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { availableParallelism, tmpdir, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { CompletionService, WARM_IDLE_MS, type CompletionDocument, type Verdict } from '../src/common/completion/completionPipeline';
import { buildFimInput, documentWindow, windowsForContext, type FimWindowOptions } from '../src/common/completion/fimInput';
import { stopStrings } from '../src/common/completion/postProcess';
import { Settings } from '../src/common/settings';
import { EngineClient } from '../src/node/engine/engineClient';
import { mulberry32 } from '../test/fixtures/gguf/ggufWriter';
import { benchModel, median, printMachine, printResult, repoRoot, round } from './benchUtil';

const enginePath = resolve(repoRoot, 'dist/engine.js');
const tracesPath = resolve(repoRoot, 'bench/traces/typing.json');
const threads = Number(process.env.HEARTH_BENCH_THREADS ?? availableParallelism());
// Naive keystrokes are sampled: each pays a full prefill (~12 s for a 1,500-token window on benchDense here) and its
// time hardly varies (every request is the same work), so a few spread evenly over the traces give its p50/p95.
const naiveN = Number(process.env.HEARTH_BENCH_NAIVE_N ?? 8);
const reps = Number(process.env.HEARTH_BENCH_REPS ?? 3);
const CONTEXT = 2048;
// HEARTH_BENCH_VERBOSE=1: one line per answered request (what it cost and what it showed).
const verbose = process.env.HEARTH_BENCH_VERBOSE === '1';
const MAX_TOKENS = 48;
const TIME_LIMIT_MS = 3000;
/**
 * Between opening a trace's file and its first keystroke: a user opens or switches to a file, finds the spot and
 * clicks there before typing (2.5 s; the recorded traces start at the first key). The editor's idle warm-up
 * starts WARM_IDLE_MS after the cursor is placed, as the provider does; a keystroke stops it.
 */
const OPEN_PAUSE_MS = 2500;

interface Key {
  /** The character typed; `\b` is a backspace. */
  k: string;
  /** Milliseconds since the previous key. */
  dt: number;
}

interface Trace {
  file: string;
  language: string;
  /** Offset where the removed text was, and where typing starts. */
  start: number;
  removed: string;
  keys: Key[];
}

/** `after`: the typed lines start at least this many characters into the file. */
const SOURCES: Array<{ file: string; language: string; after?: number }> = [
  { file: 'sample-workspace/src/inventory.ts', language: 'typescript' },
  { file: 'sample-workspace/src/format.js', language: 'javascript' },
  { file: 'sample-workspace/scripts/report.py', language: 'python' },
  { file: 'src/node/processAlive.ts', language: 'typescript' },
  { file: 'models/train/model.py', language: 'python' },
  { file: 'scripts/setup-code-server.sh', language: 'shellscript' },
  // Deep in a long file: the editor then passes a window cut from the document, whose start must not move while
  // the user types (session 13: it did, and every keystroke evaluated the whole prompt again).
  { file: 'src/node/engine/backends/llamaCppBackend.ts', language: 'typescript', after: 30_000 },
];

/** Writes bench/traces/typing.json: for each source, two consecutive code lines typed back (seeded). */
function record(): void {
  const rng = mulberry32(13);
  const rand = () => rng() / 0x100000000;
  const traces: Trace[] = [];
  for (const src of SOURCES) {
    const text = readFileSync(resolve(repoRoot, src.file), 'utf8').replace(/\r\n/g, '\n');
    const lines = text.split('\n');
    // Lines with some code on them, away from the file's ends.
    const offsets: number[] = [];
    lines.reduce((at, l) => (offsets.push(at), at + l.length + 1), 0);
    const candidates = lines.map((_l, i) => i).filter((i) => i > 3 && i < lines.length - 3 && offsets[i]! >= (src.after ?? 0) && lines[i]!.trim().length > 12 && lines[i + 1]!.trim().length > 6 && !lines[i]!.trim().startsWith('#!'));
    const i = candidates[Math.floor(rand() * candidates.length)]!;
    const lineStart = lines.slice(0, i).join('\n').length + (i > 0 ? 1 : 0);
    const indent = /^\s*/.exec(lines[i]!)![0].length;
    const start = lineStart + indent;
    const removed = `${lines[i]!.slice(indent)}\n${lines[i + 1]!}`;
    const keys: Key[] = [];
    let prev = '';
    for (const ch of removed) {
      let dt = 60 + Math.floor(rand() * 160);
      if (/[;,){}:]/.test(prev)) dt += 200 + Math.floor(rand() * 400);
      if (prev === '\n') dt += 600 + Math.floor(rand() * 900);
      if (/[a-z]/.test(ch) && rand() < 0.04) {
        // A typo, noticed and taken back.
        keys.push({ k: String.fromCharCode(97 + Math.floor(rand() * 26)), dt }, { k: '\b', dt: 150 + Math.floor(rand() * 150) });
        dt = 80 + Math.floor(rand() * 80);
      }
      keys.push({ k: ch, dt });
      prev = ch;
    }
    traces.push({ file: src.file, language: src.language, start, removed, keys });
  }
  mkdirSync(dirname(tracesPath), { recursive: true });
  // One trace a line: a reviewer can read which stretch of which file each one types.
  const body = traces.map((t) => JSON.stringify(t)).join(',\n');
  writeFileSync(tracesPath, `{"version":1,"recordedWith":"bench/completion.ts --record (seed 13)","traces":[\n${body}\n]}\n`);
  console.log(`recorded ${traces.length} traces, ${traces.reduce((n, t) => n + t.keys.length, 0)} keystrokes → ${tracesPath}`);
}

/** The document before typing starts: the file without the removed stretch. */
function initialDoc(t: Trace): string {
  const text = readFileSync(resolve(repoRoot, t.file), 'utf8').replace(/\r\n/g, '\n');
  if (text.slice(t.start, t.start + t.removed.length) !== t.removed) throw new Error(`${t.file} changed since the trace was recorded: run npm run bench:completion -- --record`);
  return text.slice(0, t.start) + text.slice(t.start + t.removed.length);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Prints how long a section took and the load: a bounded run shows where its time went. */
async function timed<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    console.log(`# section ${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s; load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  }
}

/** The slowest answers (the p95 tail): time, the engine's own first token and total, tokens evaluated, prompt source. */
function tail(answers: Answer[]): string {
  const slow = [...answers].sort((a, b) => b.ms - a.ms).slice(0, Math.max(3, Math.ceil(answers.length * 0.05)));
  return slow.map(describe).join('\n  ');
}

/** One answer: time, the engine's own first token and total, tokens evaluated, prompt source, what was shown. */
function describe(a: Answer): string {
  const r = a.verdict.result;
  const what = a.verdict.kind === 'shown' ? `shown ${JSON.stringify(a.verdict.text.slice(0, 40))}` : `none (${a.verdict.reason.slice(0, 60)})`;
  return r
    ? `${a.ms.toFixed(0)} ms: engine first token ${r.timeToFirstTokenMs?.toFixed(0) ?? '-'} ms, total ${r.totalMs.toFixed(0)} ms, ${r.tokensEvaluated} tokens evaluated (${r.promptSource ?? '?'}, ${r.tokensReused ?? 0} reused), ${r.tokensOut} out, stop ${r.stopReason}; ${what}`
    : `${a.ms.toFixed(0)} ms: no engine request; ${what}`;
}

function pct(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

interface Answer { ms: number; verdict: Verdict }

/** What the editor passes for the cursor at `at`: the windows around it, cut from the document (see documentWindow). */
function asTheEditorSends(doc: string, at: number, documentId: string, windows: FimWindowOptions): CompletionDocument {
  const cut = documentWindow(at, doc.length, windows);
  return { text: doc.slice(cut.start, cut.end), offset: at - cut.start, base: cut.start, documentId };
}

async function replayHearth(client: EngineClient, traces: Trace[], contextSize: number) {
  const service = new CompletionService(client);
  // The editor's defaults: the confidence gate on, the engine's choice of beams.
  const settings = { maxTokens: MAX_TOKENS, timeLimitMs: TIME_LIMIT_MS, windows: windowsForContext(contextSize, MAX_TOKENS), minConfidence: Settings.completionMinConfidence.default };
  const answers: Answer[] = [];
  let keystrokes = 0;
  let cancelled = 0;
  const reasons = new Map<string, number>();
  const evaluated: number[] = [];
  /** Per trace: its answers' times and tokens evaluated (a long file's trace shows what the editor's window costs). */
  const perTrace = new Map<string, { ms: number[]; evaluated: number[]; keys: number }>();
  for (const t of traces) {
    const mine = { ms: [] as number[], evaluated: [] as number[], keys: t.keys.length };
    perTrace.set(t.file, mine);
    let doc = initialDoc(t);
    let at = t.start;
    let current: AbortController | undefined = new AbortController();
    const opened = current;
    const warmTimer = setTimeout(() => void service.warm(asTheEditorSends(doc, at, t.file, settings.windows), settings, opened.signal).catch(() => undefined), WARM_IDLE_MS);
    await sleep(OPEN_PAUSE_MS);
    clearTimeout(warmTimer);
    let pending: Promise<void> = Promise.resolve();
    for (const key of t.keys) {
      await sleep(key.dt);
      current?.abort();
      keystrokes++;
      ({ doc, at } = typeKey(doc, at, key.k));
      const abort = new AbortController();
      current = abort;
      const snapshot = asTheEditorSends(doc, at, t.file, settings.windows);
      pending = (async () => {
        const debounce = service.control.debounceMs(0);
        await sleep(debounce);
        if (abort.signal.aborted) {
          cancelled++;
          return;
        }
        const t0 = performance.now();
        const verdict = await service.complete(snapshot, settings, abort.signal).catch((err: unknown) => ({ kind: 'none', reason: `error: ${String(err)}` }) as Verdict);
        const ms = performance.now() - t0;
        if (abort.signal.aborted || (verdict.kind === 'none' && verdict.reason.startsWith('cancelled'))) {
          cancelled++;
          return;
        }
        // A request that never needed an answer (too much code right of the cursor) is not a time to suggestion.
        if (verdict.kind === 'none' && verdict.reason.startsWith('pointless')) return;
        answers.push({ ms, verdict });
        mine.ms.push(ms);
        if (verdict.result) mine.evaluated.push(verdict.result.tokensEvaluated);
        if (verbose) console.log(`  ${t.file}: ${ms.toFixed(0)} ms after a ${debounce} ms debounce; ${describe({ ms, verdict })}`);
        // As the provider does: prepare the state after acceptance (cancelled by the next keystroke's request).
        if (verdict.kind === 'shown') void service.prefetch(snapshot, verdict.text, settings);
        if (verdict.result) evaluated.push(verdict.result.tokensEvaluated);
        if (verdict.kind === 'none') {
          const r = verdict.reason.replace(/[:(].*$/, '').trim();
          reasons.set(r, (reasons.get(r) ?? 0) + 1);
        }
      })();
    }
    await pending;
  }
  return { service, answers, keystrokes, cancelled, reasons, evaluated, perTrace };
}

/** One recorded key on the document: backspace deletes left of the cursor, anything else is typed at it. */
function typeKey(doc: string, at: number, k: string): { doc: string; at: number } {
  if (k === '\b') return { doc: doc.slice(0, at - 1) + doc.slice(at), at: at - 1 };
  return { doc: doc.slice(0, at) + k + doc.slice(at), at: at + 1 };
}

async function naive(client: EngineClient, traces: Trace[], contextSize: number) {
  // Keystroke states spread evenly over all traces.
  const states: Array<{ text: string; offset: number }> = [];
  for (const t of traces) {
    let doc = initialDoc(t);
    let at = t.start;
    for (const key of t.keys) {
      ({ doc, at } = typeKey(doc, at, key.k));
      states.push({ text: doc, offset: at });
    }
  }
  const step = Math.max(1, Math.floor(states.length / naiveN));
  const windows = windowsForContext(contextSize, MAX_TOKENS);
  const ms: number[] = [];
  const ttft: number[] = [];
  const evaluated: number[] = [];
  let n = 0;
  for (let i = Math.floor(step / 2); i < states.length && n < naiveN; i += step, n++) {
    const s = states[i]!;
    const input = buildFimInput(s.text, s.offset, windows);
    const t0 = performance.now();
    let first: number | undefined;
    const r = await client.infill(
      { documentId: `naive-${i}`, cacheReuse: false, prefix: input.prefix, suffix: input.suffix, maxTokens: MAX_TOKENS, temperature: 0, stop: stopStrings(input), timeLimitMs: 60_000 },
      { onText: () => (first ??= performance.now()) },
    );
    const t1 = performance.now();
    ms.push(t1 - t0);
    ttft.push((first ?? t1) - t0);
    evaluated.push(r.tokensEvaluated);
  }
  return { ms, ttft, evaluated };
}

/** Real code as the prompt, about `tokens` tokens long (calibrated on the engine's own count). */
async function codeOfTokens(client: EngineClient, tokens: number): Promise<string> {
  const files = readdirSync(resolve(repoRoot, 'src/node/engine')).filter((f) => f.endsWith('.ts'));
  let text = files.map((f) => readFileSync(resolve(repoRoot, 'src/node/engine', f), 'utf8')).join('\n');
  while (text.length < tokens * 8) text += text;
  const probe = text.slice(0, tokens * 3);
  const r = await client.infill({ documentId: 'calibrate', cacheReuse: false, prefix: probe, suffix: '', maxTokens: 1 });
  return text.slice(0, Math.floor((probe.length * tokens) / Math.max(1, r.tokensEvaluated)));
}

/** bench/engine.ts's warm edit: one character typed at the end of a 1,500-token prefix, reuse vs none. */
async function warmEdit(client: EngineClient, contextSize: number): Promise<{ withReuse: number; without: number }> {
  const prefix = await codeOfTokens(client, Math.min(1500, contextSize - 64));
  const suffix = '\n  return result;\n}\n';
  const ttft = async (typed: string, cacheReuse: boolean) => {
    const t0 = performance.now();
    let first: number | undefined;
    await client.infill({ prefix: typed, suffix, maxTokens: 1, temperature: 0, cacheReuse, documentId: 'warm-edit' }, { onText: () => (first ??= performance.now()) });
    return (first ?? performance.now()) - t0;
  };
  const withReuse: number[] = [];
  const without: number[] = [];
  let typed = prefix;
  await ttft(typed, true);
  for (let r = 0; r < reps + 2; r++) {
    typed += 'x';
    withReuse.push(await ttft(typed, true));
    typed += 'y';
    without.push(await ttft(typed, false));
  }
  return { withReuse: median(withReuse), without: median(without) };
}

async function main(): Promise<void> {
  if (process.argv.includes('--record')) {
    record();
    return;
  }
  printMachine('bench:completion');
  const t0 = performance.now();
  const all = (JSON.parse(readFileSync(tracesPath, 'utf8')) as { traces: Trace[] }).traces;
  // HEARTH_BENCH_TRACES: the first N traces only (a slow or loaded machine).
  const traces = all.slice(0, Number(process.env.HEARTH_BENCH_TRACES ?? all.length));
  const languages = new Set(traces.map((t) => t.language));
  console.log(`# ${traces.length} traces (${[...languages].join(', ')}), ${traces.reduce((n, t) => n + t.keys.length, 0)} keystrokes, from ${tracesPath}`);
  const path = process.env.HEARTH_BENCH_MODEL ? resolve(process.env.HEARTH_BENCH_MODEL) : benchModel('benchDense');
  const client = new EngineClient({ enginePath, runtimeDir: mkdtempSync(join(tmpdir(), 'hearth-bench-completion-')), idleExitMs: 10_000 });
  try {
    const info = await client.loadModel({ path, threads, contextSize: CONTEXT });
    console.log(`# model ${info.name} (${(info.sizeBytes / 1e6).toFixed(0)} MB), ${threads} threads, context ${info.contextSize}`);
    // Warm the weights once (page-in) so neither side pays for it.
    await client.infill({ documentId: 'warmup', prefix: 'function f() {\n  return ', suffix: '\n}\n', maxTokens: 2 });

    const h = await timed('Hearth replay', () => replayHearth(client, traces, info.contextSize));
    const hearthMs = h.answers.map((a) => a.ms);
    const s = h.service.stats;
    const shown = h.answers.filter((a) => a.verdict.kind === 'shown').length;
    console.log(`\n## Hearth pipeline (real-time replay, load ${loadavg()[0]!.toFixed(2)})`);
    console.log(`keystrokes ${h.keystrokes}; answered ${h.answers.length}, cancelled by the next keystroke ${h.cancelled}`);
    console.log(`time to suggestion: p50 ${pct(hearthMs, 50).toFixed(1)} ms, p95 ${pct(hearthMs, 95).toFixed(1)} ms`);
    for (const [file, r] of h.perTrace) console.log(`  ${file}: ${r.keys} keys, ${r.ms.length} answered, time to suggestion p50 ${pct(r.ms, 50).toFixed(0)} ms, tokens evaluated per answer: median ${median(r.evaluated.length ? r.evaluated : [0])}, max ${Math.max(0, ...r.evaluated)}`);
    console.log(`engine requests ${s.engineRequests} (prefetches ${s.prefetches}, idle warm-ups ${s.warms}); tokens evaluated per engine request: median ${median(h.evaluated.length ? h.evaluated : [0])}, mean ${(h.evaluated.reduce((a, b) => a + b, 0) / Math.max(1, h.evaluated.length)).toFixed(1)}`);
    console.log(`cache hits ${s.cacheHits} (${((s.cacheHits / Math.max(1, s.requests)) * 100).toFixed(1)}% of requests), type-through hits ${s.typeThroughHits} (${((s.typeThroughHits / Math.max(1, s.requests)) * 100).toFixed(1)}%)`);
    console.log(`suggestions shown per 100 keystrokes: ${((shown / Math.max(1, h.keystrokes)) * 100).toFixed(1)}; gated ${s.gated}, pointless ${s.pointless}, empty ${s.empty}`);
    console.log(`no suggestion, by reason: ${[...h.reasons].map(([r, n]) => `${r} ${n}`).join('; ') || 'none'}`);
    console.log(`slowest answers (the p95 tail):\n  ${tail(h.answers)}`);

    const nv = await timed(`naive (${naiveN} sampled keystrokes)`, () => naive(client, traces, info.contextSize));
    console.log(`\n## Naive (full prompt, no cache, fresh sequence, ${MAX_TOKENS}-token cap; ${nv.ms.length} keystrokes, load ${loadavg()[0]!.toFixed(2)})`);
    console.log(`time to suggestion: p50 ${pct(nv.ms, 50).toFixed(1)} ms, p95 ${pct(nv.ms, 95).toFixed(1)} ms; first token p50 ${pct(nv.ttft, 50).toFixed(1)} ms`);
    console.log(`tokens evaluated per request: median ${median(nv.evaluated)}`);

    const warm = await timed('warm edit', () => warmEdit(client, info.contextSize));
    console.log(`\n## Warm edit (1,500-token prefix, one character typed; load ${loadavg()[0]!.toFixed(2)})`);
    console.log(`first token after ${warm.withReuse.toFixed(1)} ms with reuse, ${warm.without.toFixed(1)} ms without (ratio ${(warm.withReuse / warm.without).toFixed(4)})`);

    const p50 = pct(hearthMs, 50) / pct(nv.ms, 50);
    const p95 = pct(hearthMs, 95) / pct(nv.ms, 95);
    console.log(`\np50 ratio ${p50.toFixed(4)} (goal ≤ 0.05), p95 ratio ${p95.toFixed(4)} (goal ≤ 0.1), warm edit ${(warm.withReuse / warm.without).toFixed(4)} (goal ≤ 0.005)`);
    printMachine('bench:completion (end)');
    printResult({
      p50_ratio: round(p50, 4),
      p95_ratio: round(p95, 4),
      warm_edit_ratio: round(warm.withReuse / warm.without, 4),
      hearth_p50_ms: round(pct(hearthMs, 50), 1),
      hearth_p95_ms: round(pct(hearthMs, 95), 1),
      naive_p50_ms: round(pct(nv.ms, 50), 1),
      naive_p95_ms: round(pct(nv.ms, 95), 1),
      cache_hit_rate: round(s.cacheHits / Math.max(1, s.requests)),
      type_through_rate: round(s.typeThroughHits / Math.max(1, s.requests)),
      shown_per_100_keys: round((shown / Math.max(1, h.keystrokes)) * 100, 1),
      seconds: round((performance.now() - t0) / 1000, 1),
    });
  } finally {
    await client.restart().catch(() => undefined);
    await client.dispose();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.stack ?? err.message : err);
    process.exit(1);
  },
);
