/**
 * `npm run bench:engine`: Hearth's engine against direct in-process node-llama-cpp, side by side in one run.
 *  - engine overhead: prefill and decode tokens/s through the engine (socket, scheduler, backend) vs direct,
 *    same model, same threads, runs alternated; goal ≥ 0.97 for both. On the dense model two more sides say where
 *    a decode gap comes from: direct on a context of the engine's shape (5 sequences), and the engine with one
 *    completion sequence.
 *  - warm edit: keystroke-to-first-token for a one-character edit at the end of a 1,500-token prefix, with
 *    reuse ÷ cold (the whole prompt evaluated); goal ≤ 0.005 (llama-server 0.0021). In the model's own FIM order
 *    (psm for benchDense: the suffix is evaluated again on every keystroke) and with `fimOrder: 'spm'`.
 *  - switching: two documents alternating in one client, median first token ÷ one document, the same keystrokes
 *    typed in both phases; goal ≤ 2.
 *  - windows side by side: three clients typing into their own 1,500-token documents (seeded traces of
 *    HEARTH_BENCH_KEYS keys each, default 40: pauses between keys, typos taken back, deletes, a jump up the file),
 *    p95 over all their keystrokes ÷ one client's p95 typing alone; goal ≤ 1.5. Each window's keystrokes are also
 *    counted in multiples of the one-window p95 (what the p95 is made of). Then the same with window 0 focused (its
 *    p95 ÷ alone: the focused window's priority). Then more documents than live sequences: the prompt cache's
 *    restore and size. The engine's resident memory with three windows typing ÷ one window typing into its
 *    document (`three_windows_rss_ratio`; goal: three ≤ 1.1× one, plus the cache budget), and llama-server's.
 *  - the switching and windows rows run on the engine as this user has it (the native build where one was built
 *    into the per-user folder, else the prebuilt; the line before them says which), and where that is the
 *    prebuilt, again on the native build for this machine (`.hearth-build/`, built or reused as bench:engine-speed
 *    does; `HEARTH_BENCH_NATIVE=0` skips it): `switch_ratio_native`, `three_windows_p95_ratio_native`.
 *  - memory: the engine's resident memory with 1 client vs 3 clients on short prompts; goal ≤ 1.05×.
 *  - anchor: the same switching and windows workload against `llama-server -np 3` (built for this machine from the
 *    llama.cpp source node-llama-cpp ships, see llamaCppTools.ts, or HEARTH_LLAMA_SERVER), /infill with
 *    `cache_prompt`, streamed; skipped with the reason when it cannot be built (HEARTH_BENCH_ANCHOR=0 skips it).
 * Each section prints how long it took. `HEARTH_BENCH_ONLY=reuse` runs only warm edit, switching, windows, cache
 * and the anchor (no overhead, MoE or memory rows); `HEARTH_BENCH_ONLY=windows` also leaves out warm edit (no
 * restore_ratio then). `HEARTH_BENCH_VERBOSE=1` lists each switching request with its reuse, and every windows'
 * keystroke over 1.5× the one-window p95 with when it was sent (what it overlapped); the slowest 5 % of the windows'
 * keystrokes are always listed with what they consisted of (tokens reused and evaluated, prefill step).
 * Models are generated (random weights, realistic shapes): a dense Qwen2.5-Coder-1.5B shape and a MoE with
 * ~2.4 B active parameters, both q4_0. `HEARTH_BENCH_QUICK=1` runs the dense model only.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { LlamaCompletion, LlamaContextSequence, LlamaModel } from 'node-llama-cpp' with { 'resolution-mode': 'import' };
import { EngineClient } from '../src/node/engine/engineClient';
import { buildNativeEngine } from '../src/node/engine/nativeBuild';
import { benchModel, median, printMachine, printResult, repoRoot, round } from './benchUtil';
import { buildLlamaCppTools } from './llamaCppTools';
import { mulberry32 } from '../src/common/random';

const enginePath = resolve(repoRoot, 'dist/engine.js');
const threads = Number(process.env.HEARTH_BENCH_THREADS ?? availableParallelism());
const reps = Number(process.env.HEARTH_BENCH_REPS ?? 3);
const quick = process.env.HEARTH_BENCH_QUICK === '1';
// HEARTH_BENCH_PRESET: another generated model for the dense rows (e.g. `demo`, to try the bench itself in seconds).
const densePreset = process.env.HEARTH_BENCH_PRESET ?? 'benchDense';

/** Real code as the prompt: this repository's own source, cut to about `tokens` tokens by the model's tokenizer. */
function codeText(model: LlamaModel, tokens: number, skip = 0): string {
  const files = readdirSync(resolve(repoRoot, 'src/node/engine')).filter((f) => f.endsWith('.ts'));
  let text = files.map((f) => readFileSync(resolve(repoRoot, 'src/node/engine', f), 'utf8')).join('\n');
  while (model.tokenize(text).length < tokens + skip) text += text;
  const ids = model.tokenize(text).slice(skip, skip + tokens);
  return model.detokenize(ids);
}

interface Run {
  ttftMs: number;
  totalMs: number;
  tokensOut: number;
}

async function direct(completion: LlamaCompletion, sequence: LlamaContextSequence, prefix: string, suffix: string, maxTokens: number): Promise<Run> {
  await sequence.clearHistory();
  const t0 = performance.now();
  let first: number | undefined;
  let tokensOut = 0;
  await completion.generateInfillCompletion(prefix, suffix, {
    maxTokens,
    temperature: 0,
    onToken: () => {
      first ??= performance.now();
      tokensOut++;
    },
  });
  const t1 = performance.now();
  return { ttftMs: (first ?? t1) - t0, totalMs: t1 - t0, tokensOut };
}

async function viaEngine(client: EngineClient, prefix: string, suffix: string, maxTokens: number, cacheReuse = false, documentId = 'bench'): Promise<Run> {
  const t0 = performance.now();
  let first: number | undefined;
  const res = await client.infill(
    { prefix, suffix, maxTokens, temperature: 0, cacheReuse, documentId },
    { onText: () => (first ??= performance.now()) },
  );
  const t1 = performance.now();
  return { ttftMs: (first ?? t1) - t0, totalMs: t1 - t0, tokensOut: res.tokensOut };
}

async function overhead(preset: string, decodeTokens: number, promptTokens: number, skip = false, sequenceSides = false) {
  const path = benchModel(preset);
  const mod = await import('node-llama-cpp');
  const llama = await mod.getLlama({ gpu: false, build: 'never', logLevel: mod.LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  const context = await model.createContext({ contextSize: 2048, sequences: 1, threads });
  const sequence = context.getSequence();
  const completion = new mod.LlamaCompletion({ contextSequence: sequence });
  const prefix = codeText(model, promptTokens);
  const warmEditPrefix = codeText(model, 1500);
  const suffix = '\n}\n';
  const promptCount = model.tokenize(prefix).length + model.tokenize(suffix).length + 3;

  const client = new EngineClient({ enginePath, runtimeDir: mkdtempSync(join(tmpdir(), 'hearth-bench-')), idleExitMs: 5000 });
  await client.loadModel({ path, threads, contextSize: 2048 });
  // Where the engine's decode differs from direct, the sides below tell the causes apart: node-llama-cpp called
  // directly on a context of the engine's shape (5 sequences: 4 completion + 1 chat), and the engine holding one
  // completion sequence (2 in all), as before #21.
  const sides = sequenceSides && !skip;
  const context5 = sides ? await model.createContext({ contextSize: 2048, sequences: 5, threads }) : undefined;
  const sequence5 = context5?.getSequence();
  const completion5 = sequence5 ? new mod.LlamaCompletion({ contextSequence: sequence5 }) : undefined;
  const client2 = sides ? new EngineClient({ enginePath, runtimeDir: mkdtempSync(join(tmpdir(), 'hearth-bench-')), idleExitMs: 5000 }) : undefined;
  await client2?.loadModel({ path, threads, contextSize: 2048, sequences: 2 });
  type Side = 'engine' | 'direct' | 'direct5' | 'engine2';
  const measure = (side: Side, maxTokens: number): Promise<Run> =>
    side === 'engine' ? viaEngine(client, prefix, suffix, maxTokens)
      : side === 'engine2' ? viaEngine(client2!, prefix, suffix, maxTokens)
        : side === 'direct5' ? direct(completion5!, sequence5!, prefix, suffix, maxTokens)
          : direct(completion, sequence, prefix, suffix, maxTokens);
  const all: Side[] = sides ? ['engine', 'direct', 'direct5', 'engine2'] : ['engine', 'direct'];
  // Warm every side once.
  for (const side of all) await measure(side, 2);

  const prefill: Record<Side, number[]> = { engine: [], direct: [], direct5: [], engine2: [] };
  const decode: Record<Side, number[]> = { engine: [], direct: [], direct5: [], engine2: [] };
  for (let r = 0; r < (skip ? 0 : reps); r++) {
    // Rotate the order so drift in machine load falls on every side alike.
    const order = all.map((_s, i) => all[(i + r) % all.length]!);
    for (const side of order) {
      const p = await measure(side, 1);
      prefill[side].push(promptCount / (p.ttftMs / 1000));
      const d = await measure(side, decodeTokens);
      decode[side].push((d.tokensOut - 1) / ((d.totalMs - d.ttftMs) / 1000));
    }
  }
  const row = {
    prefillEngine: median(prefill.engine),
    prefillDirect: median(prefill.direct),
    decodeEngine: median(decode.engine),
    decodeDirect: median(decode.direct),
  };
  if (!skip) console.log(
    `${preset.padEnd(11)} prompt ${promptCount} tokens, threads ${threads}: prefill ${row.prefillEngine.toFixed(1)} vs ${row.prefillDirect.toFixed(1)} tok/s (ratio ${(row.prefillEngine / row.prefillDirect).toFixed(3)}), ` +
      `decode ${row.decodeEngine.toFixed(2)} vs ${row.decodeDirect.toFixed(2)} tok/s (ratio ${(row.decodeEngine / row.decodeDirect).toFixed(3)}); load ${loadText()}`,
  );
  if (sides) {
    const fmt = (side: Side) => `${side} prefill ${median(prefill[side]).toFixed(1)}, decode ${median(decode[side]).toFixed(2)} tok/s (runs ${decode[side].map((x) => x.toFixed(1)).join(' ')})`;
    console.log(`${preset.padEnd(11)} decode by side: ${all.map(fmt).join('; ')}; direct on a 5-sequence context ÷ direct ${(median(decode.direct5) / row.decodeDirect).toFixed(3)}, engine with 1 completion sequence ÷ direct ${(median(decode.engine2) / row.decodeDirect).toFixed(3)}; load ${loadText()}`);
  }
  completion.dispose();
  completion5?.dispose();
  await context.dispose();
  await context5?.dispose();
  if (client2) {
    await client2.restart();
    await client2.dispose();
  }
  // The model stays open for its tokenizer (the documents of the later sections); \`dispose\` closes it.
  return { client, path, row, warmEditPrefix, model, dispose: () => model.dispose() };
}

/** What a user types: letters (the prompt's last token is healed) and spaces and punctuation (it is not). */
const TYPED = ' const value = compute(items, index);';

const SUFFIX = '\n  return result;\n}\n';

/**
 * Warm edit: one character typed at the end of a 1,500-token prefix, with reuse, ÷ the same prompt cold
 * (whole prompt evaluated). Also returns the prompt tokens a warm edit evaluated (median).
 */
async function warmEdit(client: EngineClient, prefix: string, label: string, coldMs?: number) {
  const doc = { id: `warm-edit-${label}`, text: prefix, typed: 0 };
  await viaEngine(client, prefix, SUFFIX, 1, true, doc.id);
  const warm: number[] = [];
  const evaluated: number[] = [];
  for (let r = 0; r < reps + 4; r++) {
    const t0 = performance.now();
    let first: number | undefined;
    doc.typed++;
    const res = await client.infill(
      { prefix: doc.text + TYPED.slice(0, 1 + ((doc.typed - 1) % (TYPED.length - 1))), suffix: SUFFIX, maxTokens: 1, temperature: 0, documentId: doc.id },
      { onText: () => (first ??= performance.now()) },
    );
    warm.push((first ?? performance.now()) - t0);
    evaluated.push(res.tokensEvaluated);
  }
  let cold = coldMs;
  if (cold === undefined) {
    const colds: number[] = [];
    for (let r = 0; r < 2; r++) colds.push((await viaEngine(client, prefix + 'q'.repeat(r + 1), SUFFIX, 1, false, doc.id)).ttftMs);
    cold = median(colds);
  }
  const w = median(warm);
  console.log(`warm edit [${label}] (1,500-token prefix, one character typed): first token after ${w.toFixed(1)} ms with reuse (${median(evaluated)} prompt tokens evaluated), ${cold.toFixed(1)} ms cold (ratio ${(w / cold).toFixed(4)}); load ${loadText()}`);
  return { ratio: w / cold, warmMs: w, coldMs: cold, evaluated: median(evaluated) };
}

const loadText = () => loadavg().map((l) => l.toFixed(1)).join(' ');

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

/**
 * One typist's keystrokes into one document, seeded: a real code line typed character by character with the
 * recorded kind of mistakes (a wrong letter taken back, a few characters deleted and typed again), pauses of
 * 60–220 ms between keys (more after punctuation), and once in the middle a jump to another place in the file (the
 * cursor moves up, typing goes on there: the suffix changes and the prefix gets shorter).
 */
type Key = { k: string; dt: number } | { k: 'jump'; dt: number; to: number };

const LINES = ['const total = items.reduce((sum, item) => sum + item.price * item.count, 0);', 'if (!result.ok) throw new Error(`request failed: ${result.status}`);', 'for (const [key, value] of Object.entries(options)) params.set(key, String(value));', 'return values.filter((v) => v !== undefined).map((v) => v.toString());'];

function typingTrace(seed: number, keys: number): Key[] {
  const rng = mulberry32(seed);
  const rand = () => rng() / 0x100000000;
  const text = LINES.join('\n').slice(Math.floor(rand() * 20));
  const out: Key[] = [];
  let prev = '';
  let i = 0;
  while (out.length < keys) {
    if (out.length === Math.floor(keys / 2)) out.push({ k: 'jump', dt: 800 + Math.floor(rand() * 800), to: 0.6 + rand() * 0.3 });
    const ch = text[i++ % text.length]!;
    let dt = 60 + Math.floor(rand() * 160);
    if (/[;,){}]/.test(prev)) dt += 150 + Math.floor(rand() * 250);
    const r = rand();
    if (/[a-z]/.test(ch) && r < 0.06) {
      out.push({ k: String.fromCharCode(97 + Math.floor(rand() * 26)), dt }, { k: '\b', dt: 150 + Math.floor(rand() * 150) });
      dt = 80 + Math.floor(rand() * 80);
    } else if (r < 0.1 && i > 4) {
      // Deletes the last few characters and types them again.
      const n = 2 + Math.floor(rand() * 3);
      for (let j = 0; j < n; j++) out.push({ k: '\b', dt: 90 + Math.floor(rand() * 60) });
      i -= n;
    }
    out.push({ k: ch, dt });
    prev = ch;
  }
  return out.slice(0, keys);
}

/** A document being typed into: its text, the cursor, and the request a keystroke makes (prefix, suffix). */
class TypedDoc {
  cursor: number;
  constructor(
    readonly id: string,
    public text: string,
  ) {
    this.cursor = text.length;
  }

  apply(key: Key): void {
    if ('to' in key) {
      // The start of a line about `to` of the way through the file.
      const at = this.text.lastIndexOf('\n', Math.floor(this.text.length * key.to));
      this.cursor = at < 0 ? 0 : at + 1;
    } else if (key.k === '\b') {
      if (this.cursor > 0) this.text = this.text.slice(0, this.cursor - 1) + this.text.slice(this.cursor);
      this.cursor = Math.max(0, this.cursor - 1);
    } else {
      this.text = this.text.slice(0, this.cursor) + key.k + this.text.slice(this.cursor);
      this.cursor++;
    }
  }

  /** The completion request: everything before the cursor, and up to 400 characters after it (the editor's window). */
  request(): { prefix: string; suffix: string } {
    const after = this.text.slice(this.cursor, this.cursor + 400);
    return { prefix: this.text.slice(0, this.cursor), suffix: after || SUFFIX };
  }
}

/** One answer: time to first token as the client saw it, and what the server says it did (Hearth: reuse, tokens evaluated). */
interface Answer {
  ms: number;
  note?: string;
  /** When the request was sent, ms after its phase began (what it overlapped with). */
  at?: number;
}

/** One request, as a client of one engine or server sees it. */
type Complete = (client: number, doc: TypedDoc, focused?: boolean) => Promise<Answer>;

/** Replays `trace` into `doc` through `complete`; each key waits for the previous answer plus its pause. */
async function replay(complete: Complete, client: number, doc: TypedDoc, trace: Key[], out: Answer[], focused?: boolean, phaseStart = performance.now()): Promise<void> {
  for (const key of trace) {
    await sleep(key.dt);
    doc.apply(key);
    const at = performance.now() - phaseStart;
    const a = await complete(client, doc, focused);
    out.push({ ...a, at, note: `window ${client}, ${keyName(key)}: ${a.note ?? ''}` });
  }
}

const keyName = (key: Key) => ('to' in key ? 'jump up the file' : key.k === '\b' ? 'backspace' : `'${key.k}'`);
const ms = (xs: Answer[]) => xs.map((a) => a.ms);

/**
 * How a phase's keystrokes spread, per window, in multiples of the one-window p95 (`unit`): what a p95 over all
 * windows is made of (a few prefills, or many ordinary keystrokes queued behind other windows' batches).
 */
function distribution(label: string, windows: Answer[][], unit: number): string {
  const edges = [1, 1.5, 3, 10];
  const names = [...edges.map((e) => `≤${e}×`), `>${edges[edges.length - 1]}×`];
  return windows
    .map((xs, i) => {
      const counts = names.map(() => 0);
      for (const a of xs) {
        const bucket = edges.findIndex((e) => a.ms <= e * unit);
        counts[bucket < 0 ? edges.length : bucket]!++;
      }
      return `${label} window ${i} (${xs.length} keys, p50 ${percentile(ms(xs), 50).toFixed(0)} ms, p95 ${percentile(ms(xs), 95).toFixed(0)} ms): ${names.map((n, j) => `${n} ${counts[j]}`).join(', ')}`;
    })
    .join('\n');
}

/** Every keystroke slower than `limit` ms, in the order sent, with when it was sent: what it overlapped with. */
function overLimit(xs: Answer[], limit: number): string {
  return xs
    .filter((a) => a.ms > limit)
    .sort((a, b) => (a.at ?? 0) - (b.at ?? 0))
    .map((a) => `  at ${((a.at ?? 0) / 1000).toFixed(2)} s, ${a.ms.toFixed(0)} ms: ${a.note ?? ''}`)
    .join('\n');
}

/** The slowest 5 % of `xs` (those at or above the p95) with what each consisted of: what a p95 is made of. */
function slowest(xs: Answer[]): string {
  const p95 = percentile(ms(xs), 95);
  return xs
    .filter((a) => a.ms >= p95)
    .sort((a, b) => b.ms - a.ms)
    .map((a) => `  ${a.ms.toFixed(0)} ms: ${a.note ?? ''}`)
    .join('\n');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const keysPerClient = Number(process.env.HEARTH_BENCH_KEYS ?? 40);
// HEARTH_BENCH_VERBOSE=1: every switching request with its reuse; HEARTH_BENCH_ENGINE_LOG=<file>: the engine's debug log is
// copied there (one line per request: reused tokens, where the held tokens first differ from the prompt).
const verbose = process.env.HEARTH_BENCH_VERBOSE === '1';
const engineLog = process.env.HEARTH_BENCH_ENGINE_LOG;

/** Prints how long a section took, so a reader sees where a bounded run spent its time. */
async function timed<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    console.log(`# section ${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s; load ${loadText()}`);
  }
}

interface Workload {
  switchRatio: number;
  threeRatio: number;
  focusedRatio?: number;
  /** The server's resident memory with one window's document evaluated, and the most seen with three windows typing. */
  rss?: { one: number; three: number };
  /** The documents as the workload left them (text and cursor). */
  docs: TypedDoc[];
}

/**
 * The switching and windows workload on any server: one 1,500-token document opened (cold) and typed into (the
 * server's memory with one window, when `rss` reads it), the two others opened, then two documents alternating in
 * one client vs one document (switch ratio, medians); then client 0's typing trace alone, and the three clients'
 * traces at once (p95 over all their keystrokes ÷ the p95 alone; memory again); with `focus`, the three at once
 * again with window 0 focused and the other two not (the focused window's p95 ÷ alone: does the priority hold?).
 */
async function workload(label: string, complete: Complete, docsText: string[], focus: boolean, rss?: () => Promise<number>): Promise<Workload> {
  const docs = docsText.map((text, i) => new TypedDoc(`/bench/window${i}.ts`, text));
  await complete(0, docs[0]!);
  const n = Math.max(6, reps + 3);
  // The same keystrokes in both phases: one document types the first n characters of a line; then each of two
  // documents types those n characters, alternating key by key (2n requests). Session 5's bench gave the two
  // documents one key count, so each got every other character (` o s`, `cnt`): a new token boundary on every key
  // (about 10 prompt tokens evaluated in psm order) against a word typed on in one document (the healed prompt
  // unchanged, 0 evaluated). That, not the engine, was its switch_ratio 5.8.
  const typed = new Map<TypedDoc, number>();
  const key = (d: TypedDoc) => {
    const r = typed.get(d) ?? 0;
    typed.set(d, r + 1);
    d.apply({ k: TYPED[r % TYPED.length]!, dt: 0 });
  };
  const same: Answer[] = [];
  for (let r = 0; r < n; r++) {
    key(docs[0]!);
    same.push(await complete(0, docs[0]!));
  }
  // One window so far: its document evaluated and typed into.
  const rssOne = await rss?.();
  await Promise.all(docs.slice(1).map((d, i) => complete(i + 1, d)));
  typed.clear();
  const alternating: Answer[] = [];
  for (let r = 0; r < 2 * n; r++) {
    const d = docs[r % 2]!;
    key(d);
    alternating.push(await complete(0, d));
  }
  const switchRatio = median(ms(alternating)) / median(ms(same));
  console.log(`${label} switch: two documents alternating in one client, first token after ${median(ms(alternating)).toFixed(1)} ms (median of ${2 * n}) vs ${median(ms(same)).toFixed(1)} ms in one document (ratio ${switchRatio.toFixed(3)}); load ${loadText()}`);
  if (verbose) console.log(`${label} switch, each request:\n${[...same.map((a) => `  same ${a.ms.toFixed(0)} ms: ${a.note ?? ''}`), ...alternating.map((a, r) => `  window${r % 2} ${a.ms.toFixed(0)} ms: ${a.note ?? ''}`)].join('\n')}`);

  // The documents go on from where the last phase left them (as the live sequences do); each phase its own traces.
  const alone: Answer[] = [];
  await replay(complete, 0, docs[0]!, typingTrace(20, keysPerClient), alone);
  const together: Answer[][] = [[], [], []];
  await Promise.all(docs.map((d, i) => replay(complete, i, d, typingTrace(21 + i, keysPerClient), together[i]!)));
  const rssThree = await rss?.();
  const all = together.flat();
  const aloneP95 = percentile(ms(alone), 95);
  const threeRatio = percentile(ms(all), 95) / aloneP95;
  const per = together.map((xs, i) => `window ${i} p95 ${percentile(ms(xs), 95).toFixed(0)}`).join(', ');
  console.log(`${label} three windows typing at once (${keysPerClient} keys each: typos, deletes, a jump): p95 ${percentile(ms(all), 95).toFixed(1)} ms (p50 ${percentile(ms(all), 50).toFixed(1)}, max ${Math.max(...ms(all)).toFixed(0)}; ${per}) vs one window alone p95 ${aloneP95.toFixed(1)} ms (p50 ${percentile(ms(alone), 50).toFixed(1)}) (ratio ${threeRatio.toFixed(3)}); load ${loadText()}`);
  console.log(`${label} one window alone, its slowest 5 %:\n${slowest(alone)}\n${label} three windows at once, their slowest 5 %:\n${slowest(all)}`);
  console.log(`${label} keystrokes by time to first token, in multiples of the one-window p95 (${aloneP95.toFixed(0)} ms):\n${distribution(`${label} alone,`, [alone], aloneP95)}\n${distribution(`${label} three at once,`, together, aloneP95)}`);
  if (verbose) console.log(`${label} three windows at once, every keystroke over 1.5× the one-window p95 (${(1.5 * aloneP95).toFixed(0)} ms), by when it was sent:\n${overLimit(all, 1.5 * aloneP95)}`);
  if (!focus) return { switchRatio, threeRatio, docs, ...(rssOne !== undefined && rssThree !== undefined ? { rss: { one: rssOne, three: rssThree } } : {}) };
  const focused: Answer[][] = [[], [], []];
  await Promise.all(docs.map((d, i) => replay(complete, i, d, typingTrace(24 + i, keysPerClient), focused[i]!, i === 0)));
  const rssFocused = await rss?.();
  const focusedRatio = percentile(ms(focused[0]!), 95) / aloneP95;
  console.log(`${label} three windows at once, window 0 focused: its p95 ${percentile(ms(focused[0]!), 95).toFixed(1)} ms (p50 ${percentile(ms(focused[0]!), 50).toFixed(1)}) vs alone ${aloneP95.toFixed(1)} ms (ratio ${focusedRatio.toFixed(3)}); the unfocused two p95 ${percentile(ms([...focused[1]!, ...focused[2]!]), 95).toFixed(1)} ms; load ${loadText()}`);
  console.log(distribution(`${label} window 0 focused,`, focused, aloneP95));
  if (verbose) console.log(`${label} window 0 focused, its keystrokes over 1.5× the one-window p95, by when they were sent:\n${overLimit(focused[0]!, 1.5 * aloneP95)}`);
  const rssMost = rssThree !== undefined && rssFocused !== undefined ? Math.max(rssThree, rssFocused) : undefined;
  return { switchRatio, threeRatio, focusedRatio, docs, ...(rssOne !== undefined && rssMost !== undefined ? { rss: { one: rssOne, three: rssMost } } : {}) };
}

/**
 * Resident memory with three windows typing against one window: the ratio, and whether three windows stay within
 * 1.1× one window plus the prompt cache's budget (the cache's bytes counted with them, as the engine's memory).
 */
function rssCheck(rss: { one: number; three: number }, cacheBytes: number, budgetBytes: number): { ratio: number; text: string } {
  const ratio = rss.three / rss.one;
  const within = rss.three + cacheBytes <= 1.1 * rss.one + budgetBytes;
  const mb = (b: number) => `${(b / 1e6).toFixed(0)} MB`;
  return { ratio, text: `RSS with three windows typing ${mb(rss.three)} (the most seen) vs one window ${mb(rss.one)} (ratio ${ratio.toFixed(3)}); with the prompt cache's ${mb(cacheBytes)} in RAM, ${within ? 'within' : 'over'} 1.1× one window plus the cache budget (${mb(1.1 * rss.one)} + ${mb(budgetBytes)})` };
}

/**
 * Switching and windows side by side on Hearth's engine (see `workload`), then more documents than live
 * sequences, so the first ones go to the host-memory prompt cache and come back from it (restore time ÷ cold,
 * cache size).
 */
async function sideBySide(path: string, model: LlamaModel, coldMs: number | undefined, build?: { root: string; label: string }) {
  const runtimeDir = mkdtempSync(join(tmpdir(), 'hearth-bench-side-'));
  const env = { ...(engineLog ? { HEARTH_LOG_LEVEL: 'debug' } : {}), ...(build ? { HEARTH_ENGINE_BUILD_DIR: build.root } : {}) };
  const clients = [0, 1, 2].map((i) => new EngineClient({ enginePath, runtimeDir, idleExitMs: 5000, clientName: `window-${i}`, env }));
  for (const c of clients) await c.loadModel({ path, threads, contextSize: 2048 });
  const label = build ? `hearth (${build.label})` : 'hearth';
  const loaded = (await clients[0]!.status()).engineBackend;
  console.log(`# ${label}: the engine loaded the ${loaded?.kind === 'native' ? 'native build' : 'prebuilt backend'}${loaded ? ` (${loaded.flags}${loaded.note ? `; ${loaded.note}` : ''})` : ''}`);
  const docsText = [0, 1, 2].map((i) => codeText(model, 1500, i * 1700));
  const complete: Complete = async (client, doc, focused) => {
    const { prefix, suffix } = doc.request();
    const t0 = performance.now();
    let first: number | undefined;
    const r = await clients[client]!.infill({ prefix, suffix, maxTokens: 1, temperature: 0, documentId: doc.id, ...(focused !== undefined ? { focused } : {}) }, { onText: () => (first ??= performance.now()) });
    const ttft = (first ?? performance.now()) - t0;
    return { ms: ttft, note: `${doc.id} ${r.promptSource ?? '?'}, ${r.tokensReused ?? 0} reused, ${r.tokensEvaluated} evaluated${r.prefillStepTokens && r.tokensEvaluated > r.prefillStepTokens ? ` in steps of ${r.prefillStepTokens}` : ''}, engine first token ${r.timeToFirstTokenMs?.toFixed(0) ?? '-'} ms, ${r.threads ?? '?'} threads` };
  };
  const rss = async () => (await clients[0]!.status()).rssBytes;
  const w = await timed(`${label} switching and three windows`, () => workload(label, complete, docsText, true, rss));

  // More documents than live sequences: the oldest go to the prompt cache; going back restores them.
  const before = await clients[0]!.status();
  const live = before.promptCache?.liveSequences ?? 1;
  const extra = Array.from({ length: live }, (_, i) => ({ id: `/bench/other${i}.ts`, text: codeText(model, 300, 9000 + i * 400), typed: 0 }));
  for (const d of extra) await viaEngine(clients[1]!, d.text, SUFFIX, 1, true, d.id);
  // Back to window 0's document as the workload left it (its text and cursor), one more character typed: the
  // user returns to the file they left, so the prompt shares all of the saved state but the keystroke's tokens.
  const doc0 = w.docs[0]!;
  doc0.apply({ k: TYPED[1]!, dt: 0 });
  const t0 = performance.now();
  let first: number | undefined;
  const back = await clients[0]!.infill({ ...doc0.request(), maxTokens: 1, temperature: 0, documentId: doc0.id }, { onText: () => (first ??= performance.now()) });
  const restoreMs = (first ?? performance.now()) - t0;
  const status = await clients[0]!.status();
  const cache = status.promptCache;
  // The same keystroke again on the live sequence (taken back, typed again): what the restore costs beyond the
  // keystroke itself (in psm order a keystroke mid-file evaluates the suffix window again, restored or live).
  doc0.apply({ k: '\b', dt: 0 });
  await complete(0, doc0);
  doc0.apply({ k: TYPED[1]!, dt: 0 });
  const liveAgain = await complete(0, doc0);
  console.log(
    `prompt cache: back to a document evicted from the live sequences: ${back.promptSource}, ${back.tokensReused ?? 0} tokens reused, ${back.tokensEvaluated} evaluated, first token after ${restoreMs.toFixed(1)} ms${coldMs === undefined ? '' : ` vs ${coldMs.toFixed(1)} ms cold (ratio ${(restoreMs / coldMs).toFixed(3)})`}; the same keystroke live: ${liveAgain.ms.toFixed(1)} ms (${liveAgain.note ?? ''}); ` +
      `${cache?.entries ?? 0} states, ${((cache?.bytes ?? 0) / 1e6).toFixed(1)} MB of ${((cache?.budgetBytes ?? 0) / 1e6).toFixed(0)} MB, hit rate ${cache?.hitRate?.toFixed(2) ?? '-'}, engine RSS ${(status.rssBytes / 1e6).toFixed(0)} MB (${(before.rssBytes / 1e6).toFixed(0)} MB before); load ${loadText()}`,
  );
  // Three windows against one: the engine's resident memory (the prompt cache's states are files in RAM-backed
  // /dev/shm, outside it, held to their own budget): the goal is three ≤ 1.1× one, plus the cache budget.
  const rssLine = w.rss && rssCheck(w.rss, cache?.bytes ?? 0, cache?.budgetBytes ?? 0);
  if (rssLine) console.log(`hearth memory: ${rssLine.text}; load ${loadText()}`);
  await clients[0]!.restart();
  for (const c of clients) await c.dispose();
  if (engineLog && existsSync(join(runtimeDir, 'engine.log'))) copyFileSync(join(runtimeDir, 'engine.log'), engineLog);
  rmSync(runtimeDir, { recursive: true, force: true });
  return { ...w, backend: loaded?.kind, restoreRatio: coldMs === undefined ? undefined : restoreMs / coldMs, cacheMb: (cache?.bytes ?? 0) / 1e6, restored: back.promptSource === 'restored', rssRatio: rssLine?.ratio };
}

/** The llama-server binary: HEARTH_LLAMA_SERVER, else built from node-llama-cpp's llama.cpp source (bench/llamaCppTools.ts). */
async function llamaServerBinary(): Promise<{ bin: string } | { reason: string }> {
  const given = process.env.HEARTH_LLAMA_SERVER;
  if (given) return existsSync(given) ? { bin: given } : { reason: `HEARTH_LLAMA_SERVER=${given} does not exist` };
  if (process.env.HEARTH_BENCH_ANCHOR === '0') return { reason: 'HEARTH_BENCH_ANCHOR=0' };
  const built = await buildLlamaCppTools({ log: (line) => console.log(`# llama.cpp build: ${line}`), targets: ['llama-server'] });
  if (!built.ok) return { reason: built.reason };
  if (!built.llamaServer) return { reason: `the llama.cpp ${built.release} build has no llama-server` };
  return { bin: built.llamaServer };
}

/**
 * llama-server with the same workload, as the anchor: `-np 3` (three slots, one per window) with its default
 * prompt cache, `/infill` with `cache_prompt: true`, streamed, the time to the first streamed token as the client
 * sees it; the server picks the slot (by prompt similarity, its default). Skipped with the reason when no binary.
 */
async function llamaServerAnchor(path: string, model: LlamaModel): Promise<Record<string, number> | undefined> {
  const found = await llamaServerBinary();
  if ('reason' in found) {
    console.log(`llama-server anchor skipped: ${found.reason}`);
    return undefined;
  }
  const port = 18000 + Math.floor(Math.random() * 2000);
  const args = ['-m', path, '-np', '3', '-c', String(3 * 2048), '-t', String(threads), '--host', '127.0.0.1', '--port', String(port)];
  const server = spawn(found.bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  server.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const base = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      if (server.exitCode !== null) throw new Error(`llama-server exited with code ${server.exitCode}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
      if (i > 600) throw new Error('llama-server did not become healthy within 5 minutes');
      const ok = await fetch(`${base}/health`).then((r) => r.ok, () => false);
      if (ok) break;
      await sleep(500);
    }
    console.log(`# llama-server ${found.bin} ${args.join(' ')}`);
    /** Time to the first streamed token of one /infill request. */
    const infill = async (prefix: string, suffix: string, cache: boolean) => {
      const t0 = performance.now();
      const r = await fetch(`${base}/infill`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input_prefix: prefix, input_suffix: suffix, n_predict: 1, temperature: 0, cache_prompt: cache, stream: true }) });
      if (!r.ok || !r.body) throw new Error(`llama-server /infill answered ${r.status}: ${await r.text()}`);
      let first: number | undefined;
      const decoder = new TextDecoder();
      let buffered = '';
      for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
        buffered += decoder.decode(chunk, { stream: true });
        // Server-sent events: the first `data:` line carrying generated content is the first token.
        if (first === undefined && /data: *\{[^\n]*"content"/.test(buffered)) first = performance.now();
      }
      return (first ?? performance.now()) - t0;
    };
    const docsText = [0, 1, 2].map((i) => codeText(model, 1500, i * 1700));
    const cold = median([await infill(docsText[0]! + 'q', SUFFIX, false), await infill(docsText[0]! + 'qq', SUFFIX, false)]);
    const complete: Complete = async (_client, doc) => {
      const { prefix, suffix } = doc.request();
      return { ms: await infill(prefix, suffix, true), note: doc.id };
    };
    // Its resident memory, as the engine's: what the process holds (its prompt cache is in it).
    const rss = async () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024;
    const w = await timed('llama-server switching and three windows', () => workload('llama-server', complete, docsText, false, process.platform === 'linux' ? rss : undefined));
    if (w.rss) console.log(`llama-server memory: RSS with three windows typing ${(w.rss.three / 1e6).toFixed(0)} MB vs one window ${(w.rss.one / 1e6).toFixed(0)} MB (ratio ${(w.rss.three / w.rss.one).toFixed(3)}); load ${loadText()}`);
    const warm: number[] = [];
    const doc = new TypedDoc('warm', docsText[0]!);
    await complete(0, doc);
    for (let r = 0; r < reps + 4; r++) {
      doc.apply({ k: TYPED[r % TYPED.length]!, dt: 0 });
      warm.push((await complete(0, doc)).ms);
    }
    const row = { warm_edit_ratio: median(warm) / cold, switch_ratio: w.switchRatio, three_windows_p95_ratio: w.threeRatio, ...(w.rss ? { three_windows_rss_ratio: w.rss.three / w.rss.one } : {}) };
    console.log(`llama-server anchor (-np 3, /infill, cache_prompt, streamed): warm edit ${median(warm).toFixed(1)} ms vs ${cold.toFixed(1)} ms cold (ratio ${row.warm_edit_ratio.toFixed(4)}); switch ratio ${w.switchRatio.toFixed(3)}; three windows p95 ratio ${w.threeRatio.toFixed(3)}; load ${loadText()}`);
    return row;
  } catch (err) {
    console.log(`llama-server anchor skipped: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  } finally {
    server.kill();
  }
}

/**
 * The switching and windows rows again on the native build for this machine (built into `.hearth-build/` as
 * bench:engine-speed builds it, or reused), where the engine as this user has it loads the prebuilt: the backend
 * "Hearth: Build Engine for This Machine" gives (its decode measured 15-25 % faster than the prebuilt here). `HEARTH_BENCH_NATIVE=0` skips it.
 */
async function nativeSide(path: string, model: LlamaModel, coldMs: number | undefined) {
  if (process.env.HEARTH_BENCH_NATIVE === '0') {
    console.log('# native build side skipped: HEARTH_BENCH_NATIVE=0');
    return undefined;
  }
  const root = resolve(repoRoot, '.hearth-build');
  const built = await timed('native build (or reuse)', () => buildNativeEngine({ root, log: (line) => console.log(`# ${line}`), jobs: availableParallelism() }));
  if (!built.ok) {
    console.log(`# native build side skipped: ${built.reason}`);
    return undefined;
  }
  return sideBySide(path, model, coldMs, { root, label: 'native build' });
}

async function memory(path: string) {
  const runtimeDir = mkdtempSync(join(tmpdir(), 'hearth-bench-mem-'));
  const clients = [0, 1, 2].map((i) => new EngineClient({ enginePath, runtimeDir, idleExitMs: 5000, clientName: `bench-${i}` }));
  const use = async (c: EngineClient, i: number) => {
    await c.loadModel({ path, threads, contextSize: 2048 });
    await c.infill({ prefix: `function f${i}() {\n  return `, suffix: '\n}\n', maxTokens: 8, documentId: `doc-${i}` });
  };
  await use(clients[0]!, 0);
  await use(clients[0]!, 0);
  const one = (await clients[0]!.status()).rssBytes;
  await use(clients[1]!, 1);
  await use(clients[2]!, 2);
  const status = await clients[0]!.status();
  console.log(`memory: engine RSS ${(one / 1e6).toFixed(0)} MB with 1 client, ${(status.rssBytes / 1e6).toFixed(0)} MB with ${status.clients} clients (ratio ${(status.rssBytes / one).toFixed(3)})`);
  await clients[0]!.restart();
  for (const c of clients) await c.dispose();
  rmSync(runtimeDir, { recursive: true, force: true });
  return status.rssBytes / one;
}

async function main() {
  const benchStarted = performance.now();
  printMachine('bench:engine');
  const rows: { prefill: number; decode: number }[] = [];
  // HEARTH_BENCH_ONLY=reuse: only warm edit, switching, windows side by side and the prompt cache (development runs).
  const onlyReuse = process.env.HEARTH_BENCH_ONLY === 'reuse';
  // HEARTH_BENCH_ONLY=windows: only switching, windows side by side and the prompt cache, without warm edit's cold
  // prefills (development runs on a busy machine; no restore_ratio then, the restore's time is printed).
  const onlyWindows = process.env.HEARTH_BENCH_ONLY === 'windows';
  const dense = await timed('dense overhead (engine vs direct)', () => overhead(densePreset, 32, onlyReuse ? 16 : 512, onlyReuse || onlyWindows, true));
  if (!onlyReuse && !onlyWindows) rows.push({ prefill: dense.row.prefillEngine / dense.row.prefillDirect, decode: dense.row.decodeEngine / dense.row.decodeDirect });
  const edits = onlyWindows
    ? undefined
    : await timed('warm edit', async () => {
      const warm = await warmEdit(dense.client, dense.warmEditPrefix, 'model order: psm');
      await dense.client.loadModel({ path: dense.path, threads, contextSize: 2048, fimOrder: 'spm' });
      return { warm, warmSpm: await warmEdit(dense.client, dense.warmEditPrefix, 'fimOrder spm', warm.coldMs) };
    });
  await dense.client.restart();
  await dense.client.dispose();
  const side = await sideBySide(dense.path, dense.model, edits?.warm.coldMs);
  const native = side.backend === 'native' ? undefined : await nativeSide(dense.path, dense.model, edits?.warm.coldMs);
  if (!quick && !onlyReuse && !onlyWindows) {
    const moe = await timed('MoE overhead', () => overhead('benchMoe', 12, 256));
    rows.push({ prefill: moe.row.prefillEngine / moe.row.prefillDirect, decode: moe.row.decodeEngine / moe.row.decodeDirect });
    await moe.dispose();
    await moe.client.restart();
    await moe.client.dispose();
  }
  const rss = onlyReuse || onlyWindows ? undefined : await timed('memory', () => memory(dense.path));
  const anchor = await timed('llama-server anchor', () => llamaServerAnchor(dense.path, dense.model));
  await dense.dispose();
  printMachine('bench:engine (end)');
  console.log(`# bench:engine took ${((performance.now() - benchStarted) / 1000).toFixed(0)} s`);
  printResult({
    ...(rows.length ? { decode_ratio: round(Math.min(...rows.map((r) => r.decode))), prefill_ratio: round(Math.min(...rows.map((r) => r.prefill))) } : {}),
    ...(rss !== undefined ? { rss_3_over_1: round(rss) } : {}),
    ...(anchor ? { anchor_warm_edit_ratio: round(anchor.warm_edit_ratio!, 4), anchor_switch_ratio: round(anchor.switch_ratio!), anchor_three_windows_p95_ratio: round(anchor.three_windows_p95_ratio!) } : {}),
    ...(anchor?.three_windows_rss_ratio !== undefined ? { anchor_three_windows_rss_ratio: round(anchor.three_windows_rss_ratio) } : {}),
    ...(side.focusedRatio !== undefined ? { focused_window_p95_ratio: round(side.focusedRatio) } : {}),
    ...(edits ? { warm_edit_tokens_evaluated: edits.warm.evaluated, warm_edit_ratio_spm: round(edits.warmSpm.ratio, 4) } : {}),
    ...(side.restoreRatio !== undefined ? { restore_ratio: round(side.restoreRatio) } : {}),
    load_1min: round(loadavg()[0] ?? 0, 2),
    switch_ratio: round(side.switchRatio),
    three_windows_p95_ratio: round(side.threeRatio),
    ...(side.rssRatio !== undefined ? { three_windows_rss_ratio: round(side.rssRatio) } : {}),
    cache_rss_mb: round(side.cacheMb, 1),
    ...(edits ? { warm_edit_ratio: round(edits.warm.ratio, 4) } : {}),
    ...(side.backend ? { backend: side.backend } : {}),
    ...(native ? { switch_ratio_native: round(native.switchRatio), three_windows_p95_ratio_native: round(native.threeRatio), ...(native.focusedRatio !== undefined ? { focused_window_p95_ratio_native: round(native.focusedRatio) } : {}) } : {}),
  });
}

process.on('exit', (code) => {
  if (code !== 0) console.error(`bench:engine exited with code ${code}`);
});
main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
