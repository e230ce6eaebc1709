/**
 * `npm run bench:engine`: Hearth's engine against direct in-process node-llama-cpp, side by side in one run.
 *  - engine overhead: prefill and decode tokens/s through the engine (socket, scheduler, backend) vs direct,
 *    same model, same threads, runs alternated; goal ≥ 0.97 for both.
 *  - warm edit: keystroke-to-first-token for a one-character edit at the end of a 1,500-token prefix, with
 *    reuse ÷ cold (the whole prompt evaluated); goal ≤ 0.005 (llama-server 0.0021). In the model's own FIM order
 *    (psm for benchDense: the suffix is evaluated again on every keystroke) and with `fimOrder: 'spm'`.
 *  - switching: two documents alternating in one client, median first token ÷ one document; goal ≤ 2.
 *  - windows side by side: three clients typing at once into their own 1,500-token documents, p95 ÷ one
 *    client's p95; goal ≤ 1.5. Then more documents than live sequences: the prompt cache's restore and size.
 *  - memory: the engine's resident memory with 1 client vs 3 clients; goal ≤ 1.05×.
 * `HEARTH_BENCH_ONLY=reuse` runs only warm edit, switching, windows and cache (no overhead, MoE or memory rows).
 * Models are generated (random weights, realistic shapes): a dense Qwen2.5-Coder-1.5B shape and a MoE with
 * ~2.4 B active parameters, both q4_0. `HEARTH_BENCH_QUICK=1` runs the dense model only.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { LlamaCompletion, LlamaContextSequence, LlamaModel } from 'node-llama-cpp' with { 'resolution-mode': 'import' };
import { EngineClient } from '../src/node/engine/engineClient';
import { benchModel, median, printMachine, printResult, repoRoot, round } from './benchUtil';

const enginePath = resolve(repoRoot, 'dist/engine.js');
const threads = Number(process.env.HEARTH_BENCH_THREADS ?? availableParallelism());
const reps = Number(process.env.HEARTH_BENCH_REPS ?? 3);
const quick = process.env.HEARTH_BENCH_QUICK === '1';

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

async function overhead(preset: string, decodeTokens: number, promptTokens: number, skip = false) {
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
  // Warm both sides once.
  await direct(completion, sequence, prefix, suffix, 2);
  await viaEngine(client, prefix, suffix, 2);

  const prefill = { engine: [] as number[], direct: [] as number[] };
  const decode = { engine: [] as number[], direct: [] as number[] };
  for (let r = 0; r < (skip ? 0 : reps); r++) {
    // Alternate the order so drift in machine load falls on both sides alike.
    const order = r % 2 === 0 ? (['engine', 'direct'] as const) : (['direct', 'engine'] as const);
    for (const side of order) {
      const p = side === 'engine' ? await viaEngine(client, prefix, suffix, 1) : await direct(completion, sequence, prefix, suffix, 1);
      prefill[side].push(promptCount / (p.ttftMs / 1000));
      const d = side === 'engine' ? await viaEngine(client, prefix, suffix, decodeTokens) : await direct(completion, sequence, prefix, suffix, decodeTokens);
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
      `decode ${row.decodeEngine.toFixed(2)} vs ${row.decodeDirect.toFixed(2)} tok/s (ratio ${(row.decodeEngine / row.decodeDirect).toFixed(3)})`,
  );
  completion.dispose();
  await context.dispose();
  // The model stays open for its tokenizer (the documents of the later sections); `dispose` closes it.
  return { client, path, row, warmEditPrefix, model, dispose: () => model.dispose() };
}

/** What a user types: letters (the prompt's last token is healed) and spaces and punctuation (it is not). */
const TYPED = ' const value = compute(items, index);';

/** Time to first token of one keystroke: `doc` with the next typed character, through `client`. */
async function keystroke(client: EngineClient, doc: { id: string; text: string; typed: number }, suffix: string): Promise<number> {
  doc.typed++;
  const prefix = doc.text + TYPED.slice(0, 1 + ((doc.typed - 1) % (TYPED.length - 1)));
  return (await viaEngine(client, prefix, suffix, 1, true, doc.id)).ttftMs;
}

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
 * Switching and windows side by side, on the same engine: two documents alternating in one client vs one
 * document (switch_ratio); three clients typing at once into their own documents vs one client alone
 * (three_windows_p95_ratio); then more documents than live sequences, so the first ones go to the host-memory
 * prompt cache and come back from it (restore time ÷ cold, cache size).
 */
async function sideBySide(path: string, model: LlamaModel, coldMs: number) {
  const runtimeDir = mkdtempSync(join(tmpdir(), 'hearth-bench-side-'));
  const clients = [0, 1, 2].map((i) => new EngineClient({ enginePath, runtimeDir, idleExitMs: 5000, clientName: `window-${i}` }));
  for (const c of clients) await c.loadModel({ path, threads, contextSize: 2048 });
  const docs = [0, 1, 2].map((i) => ({ id: `/bench/window${i}.ts`, text: codeText(model, 1500, i * 1700), typed: 0 }));
  // Open the three documents (cold prefills, side by side).
  await Promise.all(docs.map((d, i) => viaEngine(clients[i]!, d.text, SUFFIX, 1, true, d.id)));
  const n = Math.max(4, reps + 2);

  const same: number[] = [];
  for (let r = 0; r < n; r++) same.push(await keystroke(clients[0]!, docs[0]!, SUFFIX));
  const alternating: number[] = [];
  for (let r = 0; r < n; r++) alternating.push(await keystroke(clients[0]!, docs[r % 2]!, SUFFIX));
  const switchRatio = median(alternating) / median(same);
  console.log(`switch: two documents alternating in one client, first token after ${median(alternating).toFixed(1)} ms (median) vs ${median(same).toFixed(1)} ms in one document (ratio ${switchRatio.toFixed(3)}); load ${loadText()}`);

  const alone: number[] = [];
  for (let r = 0; r < n; r++) alone.push(await keystroke(clients[0]!, docs[0]!, SUFFIX));
  const together: number[] = [];
  await Promise.all(
    clients.map(async (c, i) => {
      for (let r = 0; r < n; r++) together.push(await keystroke(c, docs[i]!, SUFFIX));
    }),
  );
  const threeRatio = percentile(together, 95) / percentile(alone, 95);
  console.log(`three windows typing at once: p95 ${percentile(together, 95).toFixed(1)} ms (p50 ${percentile(together, 50).toFixed(1)}) vs one window ${percentile(alone, 95).toFixed(1)} ms (p50 ${percentile(alone, 50).toFixed(1)}) (ratio ${threeRatio.toFixed(3)}); load ${loadText()}`);

  // More documents than live sequences: the oldest go to the prompt cache; going back restores them.
  const before = await clients[0]!.status();
  const live = before.promptCache?.liveSequences ?? 1;
  const extra = Array.from({ length: live }, (_, i) => ({ id: `/bench/other${i}.ts`, text: codeText(model, 300, 9000 + i * 400), typed: 0 }));
  for (const d of extra) await viaEngine(clients[1]!, d.text, SUFFIX, 1, true, d.id);
  const t0 = performance.now();
  let first: number | undefined;
  const back = await clients[0]!.infill({ prefix: docs[0]!.text + TYPED.slice(0, 2), suffix: SUFFIX, maxTokens: 1, documentId: docs[0]!.id }, { onText: () => (first ??= performance.now()) });
  const restoreMs = (first ?? performance.now()) - t0;
  const status = await clients[0]!.status();
  const cache = status.promptCache;
  console.log(
    `prompt cache: back to a document evicted from the live sequences: ${back.promptSource}, ${back.tokensReused ?? 0} tokens reused, first token after ${restoreMs.toFixed(1)} ms vs ${coldMs.toFixed(1)} ms cold (ratio ${(restoreMs / coldMs).toFixed(3)}); ` +
      `${cache?.entries ?? 0} states, ${((cache?.bytes ?? 0) / 1e6).toFixed(1)} MB of ${((cache?.budgetBytes ?? 0) / 1e6).toFixed(0)} MB, hit rate ${cache?.hitRate?.toFixed(2) ?? '-'}, engine RSS ${(status.rssBytes / 1e6).toFixed(0)} MB (${(before.rssBytes / 1e6).toFixed(0)} MB before)`,
  );
  await clients[0]!.restart();
  for (const c of clients) await c.dispose();
  rmSync(runtimeDir, { recursive: true, force: true });
  return { switchRatio, threeRatio, restoreRatio: restoreMs / coldMs, cacheMb: (cache?.bytes ?? 0) / 1e6, restored: back.promptSource === 'restored' };
}

/**
 * llama-server with the same workload (`-np 3`, its default prompt cache, `/infill` with `cache_prompt`), as the
 * anchor: only where a binary is given (building llama.cpp here would cost the shared CPUs too much).
 */
async function llamaServerAnchor(path: string, model: LlamaModel): Promise<Record<string, number> | undefined> {
  const bin = process.env.HEARTH_LLAMA_SERVER;
  if (!bin) {
    console.log('llama-server anchor skipped: no llama-server binary (set HEARTH_LLAMA_SERVER to one; building llama.cpp from source is not done on this shared 2-core machine)');
    return undefined;
  }
  if (!existsSync(bin)) {
    console.log(`llama-server anchor skipped: HEARTH_LLAMA_SERVER=${bin} does not exist`);
    return undefined;
  }
  const port = 18000 + Math.floor(Math.random() * 2000);
  const server = spawn(bin, ['-m', path, '-np', '3', '-c', String(3 * 2048), '-t', String(threads), '--host', '127.0.0.1', '--port', String(port)], { stdio: 'ignore' });
  const base = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      if (i > 600) throw new Error('llama-server did not become healthy within 5 minutes');
      const ok = await fetch(`${base}/health`).then((r) => r.ok, () => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const infill = async (prefix: string, cache: boolean) => {
      const t0 = performance.now();
      const r = await fetch(`${base}/infill`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input_prefix: prefix, input_suffix: SUFFIX, n_predict: 1, temperature: 0, cache_prompt: cache }) });
      if (!r.ok) throw new Error(`llama-server /infill answered ${r.status}`);
      await r.json();
      return performance.now() - t0;
    };
    const docs = [0, 1, 2].map((i) => ({ text: codeText(model, 1500, i * 1700), typed: 0 }));
    const type = (d: { text: string; typed: number }) => {
      d.typed++;
      return infill(d.text + TYPED.slice(0, 1 + ((d.typed - 1) % (TYPED.length - 1))), true);
    };
    await Promise.all(docs.map((d) => infill(d.text, true)));
    const n = Math.max(4, reps + 2);
    const cold = median([await infill(docs[0]!.text + 'q', false), await infill(docs[0]!.text + 'qq', false)]);
    await infill(docs[0]!.text, true);
    const alone: number[] = [];
    for (let r = 0; r < n; r++) alone.push(await type(docs[0]!));
    const together: number[] = [];
    await Promise.all(docs.map(async (d) => { for (let r = 0; r < n; r++) together.push(await type(d)); }));
    const row = { warm_edit_ratio: median(alone) / cold, three_windows_p95_ratio: percentile(together, 95) / percentile(alone, 95) };
    console.log(`llama-server anchor (-np 3, /infill, cache_prompt): warm edit ${median(alone).toFixed(1)} ms vs ${cold.toFixed(1)} ms cold (ratio ${row.warm_edit_ratio.toFixed(4)}); three at once p95 ${percentile(together, 95).toFixed(1)} ms vs ${percentile(alone, 95).toFixed(1)} ms alone (ratio ${row.three_windows_p95_ratio.toFixed(3)}); load ${loadText()}`);
    return row;
  } catch (err) {
    console.log(`llama-server anchor skipped: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  } finally {
    server.kill();
  }
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
  printMachine('bench:engine');
  const rows: { prefill: number; decode: number }[] = [];
  // HEARTH_BENCH_ONLY=reuse: only warm edit, switching, windows side by side and the prompt cache (development runs).
  const onlyReuse = process.env.HEARTH_BENCH_ONLY === 'reuse';
  const dense = await overhead('benchDense', 32, onlyReuse ? 16 : 512, onlyReuse);
  if (!onlyReuse) rows.push({ prefill: dense.row.prefillEngine / dense.row.prefillDirect, decode: dense.row.decodeEngine / dense.row.decodeDirect });
  const warm = await warmEdit(dense.client, dense.warmEditPrefix, 'model order: psm');
  await dense.client.loadModel({ path: dense.path, threads, contextSize: 2048, fimOrder: 'spm' });
  const warmSpm = await warmEdit(dense.client, dense.warmEditPrefix, 'fimOrder spm', warm.coldMs);
  await dense.client.restart();
  await dense.client.dispose();
  const side = await sideBySide(dense.path, dense.model, warm.coldMs);
  if (!quick && !onlyReuse) {
    const moe = await overhead('benchMoe', 12, 256);
    rows.push({ prefill: moe.row.prefillEngine / moe.row.prefillDirect, decode: moe.row.decodeEngine / moe.row.decodeDirect });
    await moe.dispose();
    await moe.client.restart();
    await moe.client.dispose();
  }
  const rss = onlyReuse ? undefined : await memory(dense.path);
  const anchor = await llamaServerAnchor(dense.path, dense.model);
  await dense.dispose();
  printMachine('bench:engine (end)');
  printResult({
    ...(rows.length ? { decode_ratio: round(Math.min(...rows.map((r) => r.decode))), prefill_ratio: round(Math.min(...rows.map((r) => r.prefill))) } : {}),
    ...(rss !== undefined ? { rss_3_over_1: round(rss) } : {}),
    ...(anchor ? { anchor_warm_edit_ratio: round(anchor.warm_edit_ratio!, 4), anchor_three_windows_p95_ratio: round(anchor.three_windows_p95_ratio!) } : {}),
    warm_edit_tokens_evaluated: warm.evaluated,
    warm_edit_ratio_spm: round(warmSpm.ratio, 4),
    restore_ratio: round(side.restoreRatio),
    load_1min: round(loadavg()[0] ?? 0, 2),
    switch_ratio: round(side.switchRatio),
    three_windows_p95_ratio: round(side.threeRatio),
    cache_rss_mb: round(side.cacheMb, 1),
    warm_edit_ratio: round(warm.ratio, 4),
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
