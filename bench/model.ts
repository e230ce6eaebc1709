/**
 * `npm run bench:model`: quality of the shipped code model (models/hearth-code-tiny.gguf) on held-out files that
 * were never trained on (models/train/data-manifest.json → heldout), against two baselines computed the same way:
 *   - random: the generated random-weight demo model (test/fixtures/gguf/makeModel.ts preset `demo`);
 *   - repeat line: no model; propose the remainder of the line above the cursor whose start is most similar to
 *     the current line's prefix (same prefix window as the models see).
 * Tasks, sampled deterministically (seeded) from the held-out files:
 *   - rest of line: cursor inside a code line after at least one typed character; expected = the rest of the line.
 *   - bracket/argument: cursor right after `(` or `[`; expected = the text up to the matching close on that line.
 * Models run through Hearth's engine (EngineClient, private engine, the llama.cpp backend's infill: the model's FIM
 * order, token healing — after punctuation such as `(` both the healed prompt and the prompt as typed, the likelier
 * answer —, stop at a newline) with the engine's default decoding for them (a beam search of 4 for
 * models this small, src/node/engine/backends/beamSearch.ts, with the prompt's copy candidate scored beside the
 * beams: src/common/completion/copyCandidates.ts; no confidence gate here, so no floor for it); the trained model is
 * also run greedy (beamWidth 1) and with the beams alone (copyCandidates false), and the figures are printed. Measures: exact match (after trimming trailing whitespace) and edit similarity
 * (1 − Levenshtein / longer length). Next-token accuracy: teacher-forced greedy prediction through node-llama-cpp
 * (`controlledEvaluate`) on held-out text windows, each model with its own tokenizer; the repeat-line column shows
 * a copy baseline there (the token that followed the previous occurrence of the current token).
 * The previous shipped model (v3, a dense 1.4 M-parameter llama, kept as models/hearth-code-tiny-v3.gguf: it is also
 * the starting point of v4's training) runs the same way beside it, and the rest-of-line figures are also broken down
 * by held-out package ("family"): each is its own code base with its own style.
 * Options (env): HEARTH_BENCH_MODEL (model file), HEARTH_BENCH_OLD_MODEL (the previous model; "" to skip it),
 * HEARTH_BENCH_RANDOM=0 (skip the random-weight model, the slowest column: ~0.7 s a task; its figures print as "-"),
 * HEARTH_BENCH_GREEDY=0 (skip the greedy run; its column prints "-"), HEARTH_BENCH_BEAMS_ONLY=0 (skip the beams-only run), HEARTH_BENCH_N (rest-of-line tasks, default 400; bracket tasks = N/2),
 * HEARTH_BENCH_SEED (default 8), HEARTH_BENCH_THREADS (default 1), HEARTH_BENCH_BEAM_WIDTH (the trained model's beam width;
 * default the engine's choice), HEARTH_BENCH_DUMP (file: one JSON line per task with
 * the expected text and each proposal, and the engine's development dump of the beams' answer and every copy candidate
 * scored by the model, for fitting the copy rule offline: HEARTH_ENGINE_COPY_DUMP in llamaCppBackend.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import * as os from 'node:os';
import { EngineClient } from '../src/node/engine/engineClient';
import { mulberry32 } from '../test/fixtures/gguf/ggufWriter';
import { printMachine, printResult, repoRoot, round } from './benchUtil';
import { cutAtUnmatchedClose, editSimilarity, levenshtein } from '../src/common/battery/textScores';

export { cutAtUnmatchedClose, editSimilarity, levenshtein };

const enginePath = resolve(repoRoot, 'dist/engine.js');
const modelPath = resolve(repoRoot, process.env.HEARTH_BENCH_MODEL ?? 'models/hearth-code-tiny.gguf');
const oldModelPath = process.env.HEARTH_BENCH_OLD_MODEL === '' ? undefined : resolve(repoRoot, process.env.HEARTH_BENCH_OLD_MODEL ?? 'models/hearth-code-tiny-v3.gguf');
const withRandom = process.env.HEARTH_BENCH_RANDOM !== '0';
const withGreedy = process.env.HEARTH_BENCH_GREEDY !== '0';
const withBeamsOnly = process.env.HEARTH_BENCH_BEAMS_ONLY !== '0';
const nLine = Number(process.env.HEARTH_BENCH_N ?? 400);
const nBracket = Math.ceil(nLine / 2);
const seed = Number(process.env.HEARTH_BENCH_SEED ?? 8);
const threads = Number(process.env.HEARTH_BENCH_THREADS ?? 1);
/** The trained model's beam width (development: comparing widths); default the engine's choice. */
const beamWidth = process.env.HEARTH_BENCH_BEAM_WIDTH ? Number(process.env.HEARTH_BENCH_BEAM_WIDTH) : undefined;
/** Context windows (characters) given to every predictor; sized so prompt + output fit a 512-token context. */
const PREFIX_CHARS = 1000;
const SUFFIX_CHARS = 250;
const MAX_TOKENS = 32;
const CONTEXT = 512;
const NTA_WINDOWS = 16;
const NTA_TOKENS = 192;

export interface Task {
  kind: 'line' | 'bracket';
  file: string;
  /** The held-out package the file belongs to (filled in by main; sampleTasks leaves it undefined). */
  family?: string;
  prefix: string;
  suffix: string;
  expected: string;
}

interface Manifest {
  heldout: Array<{ name: string; version: string; licence: string; files: Array<{ path: string; bytes: number; sha256: string }> }>;
}

function matchingClose(line: string, open: number): number {
  let depth = 0;
  for (let i = open; i < line.length; i++) {
    const c = line[i]!;
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      depth--;
      if (depth === 0) return (line[open] === '(' ? c === ')' : c === ']') ? i : -1;
    }
  }
  return -1;
}

function isCodeLine(t: string): boolean {
  return t.length >= 6 && !t.startsWith('//') && !t.startsWith('/*') && !t.startsWith('*');
}

/** The prefix window: the last PREFIX_CHARS characters before the cursor, starting at a line start. */
function prefixWindow(text: string, cursor: number): string {
  let start = Math.max(0, cursor - PREFIX_CHARS);
  if (start > 0) {
    const nl = text.indexOf('\n', start);
    start = nl >= 0 && nl < cursor ? nl + 1 : start;
  }
  return text.slice(start, cursor);
}

/** Deterministic tasks from the held-out files. */
export function sampleTasks(files: Array<{ path: string; text: string }>, nLines: number, nBrackets: number, rngSeed: number): Task[] {
  const rng = mulberry32(rngSeed);
  const pick = (n: number) => Math.floor((rng() / 0x100000000) * n);
  const lineCands: Array<{ f: number; start: number; end: number }> = [];
  const brCands: Array<{ f: number; open: number; close: number }> = [];
  files.forEach((file, f) => {
    let start = 0;
    for (const line of file.text.split('\n')) {
      const end = start + line.length;
      const t = line.trim();
      if (isCodeLine(t)) {
        lineCands.push({ f, start, end });
        for (let i = 0; i < line.length; i++) {
          if (line[i] !== '(' && line[i] !== '[') continue;
          const c = matchingClose(line, i);
          if (c > i + 1 && c - i <= 80 && line.slice(i + 1, c).trim()) brCands.push({ f, open: start + i, close: start + c });
        }
      }
      start = end + 1;
    }
  });
  const tasks: Task[] = [];
  const take = <T>(cands: T[], n: number, make: (c: T) => Task | undefined) => {
    const pool = [...cands];
    let made = 0;
    while (made < n && pool.length) {
      const c = pool.splice(pick(pool.length), 1)[0]!;
      const t = make(c);
      if (t) { tasks.push(t); made++; }
    }
  };
  take(lineCands, nLines, ({ f, start, end }) => {
    const text = files[f]!.text;
    const line = text.slice(start, end);
    const indent = line.length - line.trimStart().length;
    const body = line.trimEnd().length - indent;
    if (body < 2) return undefined;
    const cursor = start + indent + 1 + pick(body - 1);
    const expected = text.slice(cursor, end);
    if (!expected.trim()) return undefined;
    return { kind: 'line', file: files[f]!.path, prefix: prefixWindow(text, cursor), suffix: text.slice(end, end + SUFFIX_CHARS), expected };
  });
  take(brCands, nBrackets, ({ f, open, close }) => {
    const text = files[f]!.text;
    const cursor = open + 1;
    return { kind: 'bracket', file: files[f]!.path, prefix: prefixWindow(text, cursor), suffix: text.slice(close, close + SUFFIX_CHARS), expected: text.slice(cursor, close) };
  });
  return tasks;
}

/** The prediction of the "repeat the most similar line above" baseline. */
export function repeatLinePrediction(task: Pick<Task, 'prefix'>): string {
  const lines = task.prefix.split('\n');
  const current = lines.pop()!.trimStart();
  let best = '';
  let bestScore = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i]!.trimStart();
    if (!l.trim() || l.length <= current.length) continue;
    const score = editSimilarity(current, l.slice(0, current.length));
    if (score > bestScore) { bestScore = score; best = l.slice(current.length); }
  }
  return best;
}

/** What a predictor's raw output proposes for a task (first line; brackets: up to the unmatched close). */
export function proposal(task: Pick<Task, 'kind'>, raw: string): string {
  const line = raw.split('\n')[0]!;
  return task.kind === 'bracket' ? cutAtUnmatchedClose(line) : line;
}

interface Scores { em: number; es: number; n: number }

function score(tasks: Task[], preds: string[], kind: Task['kind'], family?: string): Scores {
  let em = 0;
  let es = 0;
  let n = 0;
  tasks.forEach((t, i) => {
    if (t.kind !== kind || (family !== undefined && t.family !== family)) return;
    const p = proposal(t, preds[i]!).trimEnd();
    const e = t.expected.trimEnd();
    if (p === e) em++;
    es += editSimilarity(p, e);
    n++;
  });
  return { em: n ? em / n : 0, es: n ? es / n : 0, n };
}

/** `beamWidth` undefined: the engine's choice (4 beams for a model this small); 1: greedy. */
async function runEngine(path: string, tasks: Task[], beamWidth?: number, copies?: boolean, copyDump?: string): Promise<{ preds: string[]; msPerTask: number }> {
  // copyDump: the engine's own development dump of the beams and every copy candidate scored (one line per task)
  if (copyDump) writeFileSync(copyDump, '');
  const client = new EngineClient({ enginePath, mode: 'private', ...(copyDump ? { env: { HEARTH_ENGINE_COPY_DUMP: copyDump } } : {}) });
  try {
    await client.loadModel({ path, threads, contextSize: CONTEXT });
    const preds: string[] = [];
    const t0 = performance.now();
    for (const t of tasks) {
      const r = await client.infill({ documentId: t.file, prefix: t.prefix, suffix: t.suffix, maxTokens: MAX_TOKENS, temperature: 0, stop: ['\n'], beamWidth, copyCandidates: copies });
      preds.push(r.text);
    }
    return { preds, msPerTask: (performance.now() - t0) / Math.max(1, tasks.length) };
  } finally {
    await client.dispose();
  }
}

/** Held-out text windows for next-token accuracy: starts at line starts, chosen with the same seed. */
function ntaTexts(files: Array<{ path: string; text: string }>, rngSeed: number): string[] {
  const rng = mulberry32(rngSeed + 1);
  const out: string[] = [];
  for (let i = 0; i < NTA_WINDOWS; i++) {
    const f = files[Math.floor((rng() / 0x100000000) * files.length)]!.text;
    let s = Math.floor((rng() / 0x100000000) * Math.max(1, f.length - 2000));
    const nl = f.indexOf('\n', s);
    s = nl >= 0 ? nl + 1 : 0;
    out.push(f.slice(s, s + 1200));
  }
  return out;
}

async function nextTokenAccuracy(path: string, texts: string[]): Promise<{ model: number; copy: number; experts: number; expertsUsed: number }> {
  const mod = await import('node-llama-cpp');
  const llama = await mod.getLlama({ gpu: false, build: 'never', logLevel: mod.LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  // Mixture of experts: llama.cpp reads <arch>.expert_count (0 or absent for a dense model)
  const md = model.fileInfo.metadata as unknown as Record<string, Record<string, unknown> | undefined> & { general: { architecture: string } };
  const archMd = md[md.general.architecture] ?? {};
  const experts = Number(archMd.expert_count ?? 0);
  const expertsUsed = Number(archMd.expert_used_count ?? 0);
  const ctx = await model.createContext({ contextSize: CONTEXT, threads });
  const seq = ctx.getSequence();
  let hit = 0;
  let copyHit = 0;
  let n = 0;
  try {
    for (const text of texts) {
      const ids = Array.from(model.tokenize(text)).slice(0, NTA_TOKENS);
      await seq.clearHistory();
      const res = await seq.controlledEvaluate(ids.map((t) => [t, { generateNext: { token: true, options: { temperature: 0 } } }] as const));
      const last = new Map<number, number>();
      for (let i = 0; i + 1 < ids.length; i++) {
        if (res[i]?.next.token === ids[i + 1]) hit++;
        const prev = last.get(ids[i]!);
        if (prev !== undefined && ids[prev + 1] === ids[i + 1]) copyHit++;
        last.set(ids[i]!, i);
        n++;
      }
    }
  } finally {
    await ctx.dispose();
    await model.dispose();
    await llama.dispose();
  }
  return { model: hit / n, copy: copyHit / n, experts, expertsUsed };
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

async function main(): Promise<void> {
  printMachine('bench:model');
  const t0 = performance.now();
  const manifest = JSON.parse(readFileSync(resolve(repoRoot, 'models/train/data-manifest.json'), 'utf8')) as Manifest;
  const files: Array<{ path: string; text: string }> = [];
  const familyOf = new Map<string, string>();
  let changed = 0;
  for (const g of manifest.heldout) {
    for (const f of g.files) {
      const p = resolve(repoRoot, f.path);
      if (!existsSync(p)) { changed++; continue; }
      if (sha256(p) !== f.sha256) changed++;
      familyOf.set(f.path, g.name);
      files.push({ path: f.path, text: readFileSync(p, 'utf8').replace(/\r\n/g, '\n') });
    }
  }
  if (changed) console.log(`# warning: ${changed} held-out files are missing or differ from the manifest (npm ci?); figures are not comparable`);
  const shaFile = `${modelPath}.sha256`;
  const sha = sha256(modelPath);
  if (existsSync(shaFile) && !readFileSync(shaFile, 'utf8').startsWith(sha)) console.log(`# warning: ${modelPath} does not match ${shaFile}`);
  const randomPath = resolve(repoRoot, '.models/hearth-demo.gguf');
  const mk = !withRandom ? { status: 0 } : spawnSync(process.execPath, [resolve(repoRoot, 'out/scripts/makeModel.js'), '--preset', 'demo', '--out', randomPath], { stdio: 'inherit' });
  if (mk.status !== 0) throw new Error('could not generate the random-weight demo model');

  const tasks = sampleTasks(files, nLine, nBracket, seed).map((t) => ({ ...t, family: familyOf.get(t.file) }));
  const withOld = oldModelPath !== undefined && existsSync(oldModelPath);
  if (oldModelPath !== undefined && !withOld) console.log(`# note: no previous model at ${oldModelPath}; its column is left out`);
  console.log(`# ${files.length} held-out files (${manifest.heldout.map((g) => `${g.name}@${g.version}`).join(', ')}), ${tasks.filter((t) => t.kind === 'line').length} rest-of-line + ${tasks.filter((t) => t.kind === 'bracket').length} bracket tasks, seed ${seed}`);
  console.log(`# model ${modelPath} sha256 ${sha.slice(0, 16)}…${beamWidth !== undefined ? `, beam width ${beamWidth}` : ''}`);

  const dump = process.env.HEARTH_BENCH_DUMP;
  const trained = await runEngine(modelPath, tasks, beamWidth, undefined, dump ? `${dump}.engine.jsonl` : undefined);
  const greedy = withGreedy ? await runEngine(modelPath, tasks, 1) : { preds: tasks.map(() => ''), msPerTask: NaN };
  const beamsOnly = withBeamsOnly ? await runEngine(modelPath, tasks, undefined, false) : undefined;
  const old = withOld ? await runEngine(oldModelPath, tasks, undefined, undefined, dump ? `${dump}.previous.engine.jsonl` : undefined) : undefined;
  const random = withRandom ? await runEngine(randomPath, tasks) : { preds: tasks.map(() => ''), msPerTask: NaN };
  const repeat = tasks.map((t) => repeatLinePrediction(t));
  const texts = ntaTexts(files, seed);
  const ntaTrained = await nextTokenAccuracy(modelPath, texts);
  const ntaRandom = withRandom ? await nextTokenAccuracy(randomPath, texts) : { model: NaN, copy: NaN, experts: 0, expertsUsed: 0 };
  if (!withRandom) console.log('# HEARTH_BENCH_RANDOM=0: no random-weight model; its column shows "-"');
  const ntaOld = withOld ? await nextTokenAccuracy(oldModelPath, texts) : undefined;
  const moe = ntaTrained.experts > 0;
  console.log(`# trained model: ${moe ? `mixture of experts, ${ntaTrained.experts} experts, ${ntaTrained.expertsUsed} used per token` : 'dense'}`);

  const cols = { trained: trained.preds, greedy: greedy.preds, random: random.preds, repeat, old: old?.preds ?? repeat, beams: beamsOnly?.preds ?? repeat };
  if (dump) {
    // The engine's lines (one per task, in order; checked by the prompt's tail) go into each task's line.
    const engineLines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { prefixTail: string }) : []);
    const aligned = (lines: Array<{ prefixTail: string }>) => (lines.length === tasks.length && lines.every((l, i) => l.prefixTail === tasks[i]!.prefix.slice(-40)) ? lines : undefined);
    const eng = aligned(engineLines(`${dump}.engine.jsonl`));
    const engOld = aligned(engineLines(`${dump}.previous.engine.jsonl`));
    if (!eng) console.log(`# warning: the engine's copy dump (${dump}.engine.jsonl) does not line up with the tasks; left out`);
    writeFileSync(dump, tasks.map((t, i) => JSON.stringify({ kind: t.kind, family: t.family, expected: t.expected, trained: proposal(t, trained.preds[i]!), ...(beamsOnly ? { beams: proposal(t, beamsOnly.preds[i]!) } : {}), ...(old ? { previous: proposal(t, old.preds[i]!) } : {}), greedy: proposal(t, greedy.preds[i]!), repeat: proposal(t, repeat[i]!), prefixTail: t.prefix.slice(-60), ...(eng ? { engine: eng[i] } : {}), ...(engOld ? { enginePrevious: engOld[i] } : {}) })).join('\n') + '\n');
  }
  const s = Object.fromEntries(Object.entries(cols).map(([k, preds]) => [k, { line: score(tasks, preds, 'line'), bracket: score(tasks, preds, 'bracket') }])) as Record<keyof typeof cols, { line: Scores; bracket: Scores }>;
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`.padStart(8);
  const rnd = (x: number) => (withRandom ? pct(x) : '-');
  const grd = (x: number) => (withGreedy ? pct(x) : '-');
  const oldCol = (x: number | string) => (withOld ? (typeof x === 'number' ? pct(x) : x) : '-');
  const row = (name: string, a: string, g: string, o: string, b: string, c: string) => console.log(`${name.padEnd(34)}${a.padStart(14)}${g.padStart(16)}${o.padStart(14)}${b.padStart(14)}${c.padStart(14)}`);
  console.log('');
  row('measure', 'trained', 'trained greedy', 'previous (v3)', 'random', 'repeat line');
  row('rest-of-line exact match', pct(s.trained.line.em), grd(s.greedy.line.em), oldCol(s.old.line.em), rnd(s.random.line.em), pct(s.repeat.line.em));
  row('rest-of-line edit similarity', pct(s.trained.line.es), grd(s.greedy.line.es), oldCol(s.old.line.es), rnd(s.random.line.es), pct(s.repeat.line.es));
  row('bracket/argument exact match', pct(s.trained.bracket.em), grd(s.greedy.bracket.em), oldCol(s.old.bracket.em), rnd(s.random.bracket.em), pct(s.repeat.bracket.em));
  row('bracket/argument edit similarity', pct(s.trained.bracket.es), grd(s.greedy.bracket.es), oldCol(s.old.bracket.es), rnd(s.random.bracket.es), pct(s.repeat.bracket.es));
  row('next-token accuracy (own tokens)', pct(ntaTrained.model), '', oldCol(ntaOld?.model ?? 0), rnd(ntaRandom.model), `${pct(ntaTrained.copy)} (copy)`);
  row('ms per completion (engine)', trained.msPerTask.toFixed(0), withGreedy ? greedy.msPerTask.toFixed(0) : '-', oldCol(old?.msPerTask.toFixed(0) ?? ''), withRandom ? random.msPerTask.toFixed(0) : '-', '-');
  if (beamsOnly) {
    // The same model and search without the prompt's copy candidates (src/common/completion/copyCandidates.ts):
    // what the candidates add.
    const b = s.beams;
    console.log(`trained without copy candidates (beams only): rest-of-line EM ${pct(b.line.em).trim()} ES ${pct(b.line.es).trim()}, bracket EM ${pct(b.bracket.em).trim()} ES ${pct(b.bracket.es).trim()}, ${beamsOnly.msPerTask.toFixed(0)} ms per completion`);
  }
  console.log('');
  // Per family (held-out package): rest-of-line exact match / edit similarity of each model
  const families = [...new Set(tasks.map((t) => t.family ?? '?'))];
  const perFamily: Record<string, number> = {};
  row('rest-of-line EM / ES by package', 'trained', 'trained greedy', 'previous (v3)', 'random', 'repeat line');
  for (const fam of families) {
    const f = Object.fromEntries(Object.entries(cols).map(([k, preds]) => [k, score(tasks, preds, 'line', fam)])) as Record<keyof typeof cols, Scores>;
    const cell = (x: Scores) => `${(100 * x.em).toFixed(1)}/${(100 * x.es).toFixed(1)}`;
    row(`  ${fam} (${f.trained.n} tasks)`, cell(f.trained), withGreedy ? cell(f.greedy) : '-', withOld ? cell(f.old) : '-', withRandom ? cell(f.random) : '-', cell(f.repeat));
    if (beamsOnly) console.log(`    beams only (no copy candidates): ${cell(f.beams)}`);
    const key = `family_${fam.replace(/[^a-z0-9]+/gi, '_').replace(/^_|_$/g, '')}_`;
    Object.assign(perFamily, {
      [`${key}tasks`]: f.trained.n, [`${key}exact_match`]: round(f.trained.em), [`${key}edit_similarity`]: round(f.trained.es),
      ...(withOld ? { [`${key}exact_match_previous`]: round(f.old.em), [`${key}edit_similarity_previous`]: round(f.old.es) } : {}),
      [`${key}exact_match_repeat_line`]: round(f.repeat.em), [`${key}edit_similarity_repeat_line`]: round(f.repeat.es),
      ...(beamsOnly ? { [`${key}exact_match_beams_only`]: round(f.beams.em), [`${key}edit_similarity_beams_only`]: round(f.beams.es) } : {}),
    });
  }
  console.log('');
  console.log('# examples (trained model):');
  [...tasks.filter((t) => t.kind === 'line').slice(0, 6), ...tasks.filter((t) => t.kind === 'bracket').slice(0, 4)].forEach((t) => {
    const i = tasks.indexOf(t);
    console.log(`#   …${JSON.stringify(t.prefix.slice(-40))} expected ${JSON.stringify(t.expected)} got ${JSON.stringify(proposal(t, trained.preds[i]!))}`);
  });
  printResult({
    exact_match_rest_of_line: round(s.trained.line.em),
    ...(withGreedy ? { exact_match_rest_of_line_greedy: round(s.greedy.line.em) } : {}),
    ...(withRandom ? { baseline_random: round(s.random.line.em) } : {}),
    baseline_repeat_line: round(s.repeat.line.em),
    moe,
    experts: ntaTrained.experts,
    experts_used: ntaTrained.expertsUsed,
    ...(withOld ? {
      previous_exact_match_rest_of_line: round(s.old.line.em),
      previous_edit_similarity_rest_of_line: round(s.old.line.es),
      previous_exact_match_bracket: round(s.old.bracket.em),
      previous_edit_similarity_bracket: round(s.old.bracket.es),
      previous_next_token_accuracy: round(ntaOld?.model ?? 0),
    } : {}),
    edit_similarity_rest_of_line: round(s.trained.line.es),
    ...(withGreedy ? { edit_similarity_rest_of_line_greedy: round(s.greedy.line.es) } : {}),
    ...(withRandom ? { edit_similarity_random: round(s.random.line.es) } : {}),
    edit_similarity_repeat_line: round(s.repeat.line.es),
    exact_match_bracket: round(s.trained.bracket.em),
    ...(withGreedy ? { exact_match_bracket_greedy: round(s.greedy.bracket.em) } : {}),
    ...(withRandom ? { exact_match_bracket_random: round(s.random.bracket.em) } : {}),
    exact_match_bracket_repeat_line: round(s.repeat.bracket.em),
    edit_similarity_bracket: round(s.trained.bracket.es),
    ...(beamsOnly ? {
      exact_match_rest_of_line_beams_only: round(s.beams.line.em),
      edit_similarity_rest_of_line_beams_only: round(s.beams.line.es),
      exact_match_bracket_beams_only: round(s.beams.bracket.em),
      edit_similarity_bracket_beams_only: round(s.beams.bracket.es),
      ms_per_completion: round(trained.msPerTask, 1),
      ms_per_completion_beams_only: round(beamsOnly.msPerTask, 1),
    } : { ms_per_completion: round(trained.msPerTask, 1) }),
    load_average_1m: round(os.loadavg()[0]!, 2),
    next_token_accuracy: round(ntaTrained.model),
    ...(withRandom ? { next_token_accuracy_random: round(ntaRandom.model) } : {}),
    next_token_accuracy_copy: round(ntaTrained.copy),
    ...perFamily,
    tasks_rest_of_line: s.trained.line.n,
    tasks_bracket: s.trained.bracket.n,
    seed,
    model_sha256: sha,
    seconds: round((performance.now() - t0) / 1000, 1),
  });
}

// Bundled into bench:confidence too (which imports the tasks): run only as bench/model.js itself.
if (require.main === module && /model\.js$/.test(process.argv[1] ?? '')) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.stack ?? e.message : e);
    process.exit(1);
  });
}
