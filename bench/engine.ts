/**
 * `npm run bench:engine`: Hearth's engine against direct in-process node-llama-cpp, side by side in one run.
 *  - engine overhead: prefill and decode tokens/s through the engine (socket, scheduler, backend) vs direct,
 *    same model, same threads, runs alternated; goal ≥ 0.97 for both.
 *  - warm edit: keystroke-to-first-token for a one-character edit at the end of a 1,500-token prefix, with
 *    and without KV-cache reuse; goal: with ≤ 0.2× without.
 *  - memory: the engine's resident memory with 1 client vs 3 clients; goal ≤ 1.05×.
 * Models are generated (random weights, realistic shapes): a dense Qwen2.5-Coder-1.5B shape and a MoE with
 * ~2.4 B active parameters, both q4_0. `HEARTH_BENCH_QUICK=1` runs the dense model only.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { LlamaCompletion, LlamaContextSequence, LlamaModel } from 'node-llama-cpp' with { 'resolution-mode': 'import' };
import { EngineClient } from '../src/node/engine/engineClient';
import { benchModel, median, printMachine, printResult, repoRoot, round } from './benchUtil';

const enginePath = resolve(repoRoot, 'dist/engine.js');
const threads = Number(process.env.HEARTH_BENCH_THREADS ?? availableParallelism());
const reps = Number(process.env.HEARTH_BENCH_REPS ?? 3);
const quick = process.env.HEARTH_BENCH_QUICK === '1';

/** Real code as the prompt: this repository's own source, cut to about `tokens` tokens by the model's tokenizer. */
function codeText(model: LlamaModel, tokens: number): string {
  const files = readdirSync(resolve(repoRoot, 'src/node/engine')).filter((f) => f.endsWith('.ts'));
  let text = files.map((f) => readFileSync(resolve(repoRoot, 'src/node/engine', f), 'utf8')).join('\n');
  while (model.tokenize(text).length < tokens) text += text;
  const ids = model.tokenize(text).slice(0, tokens);
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

async function overhead(preset: string, decodeTokens: number, promptTokens: number) {
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
  for (let r = 0; r < reps; r++) {
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
  console.log(
    `${preset.padEnd(11)} prompt ${promptCount} tokens, threads ${threads}: prefill ${row.prefillEngine.toFixed(1)} vs ${row.prefillDirect.toFixed(1)} tok/s (ratio ${(row.prefillEngine / row.prefillDirect).toFixed(3)}), ` +
      `decode ${row.decodeEngine.toFixed(2)} vs ${row.decodeDirect.toFixed(2)} tok/s (ratio ${(row.decodeEngine / row.decodeDirect).toFixed(3)})`,
  );
  completion.dispose();
  await context.dispose();
  await model.dispose();
  return { client, path, row, warmEditPrefix };
}

async function warmEdit(client: EngineClient, prefix: string) {
  const suffix = '\n  return result;\n}\n';
  const withReuse: number[] = [];
  const without: number[] = [];
  let typed = prefix;
  await viaEngine(client, typed, suffix, 1, true, 'warm-edit');
  for (let r = 0; r < reps + 2; r++) {
    typed += 'x';
    withReuse.push((await viaEngine(client, typed, suffix, 1, true, 'warm-edit')).ttftMs);
    typed += 'y';
    without.push((await viaEngine(client, typed, suffix, 1, false, 'warm-edit')).ttftMs);
  }
  const w = median(withReuse);
  const wo = median(without);
  console.log(`warm edit (1,500-token prefix, one character typed): first token after ${w.toFixed(1)} ms with cache reuse, ${wo.toFixed(1)} ms without (ratio ${(w / wo).toFixed(3)})`);
  return w / wo;
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
  const dense = await overhead('benchDense', 32, 512);
  rows.push({ prefill: dense.row.prefillEngine / dense.row.prefillDirect, decode: dense.row.decodeEngine / dense.row.decodeDirect });
  const warm = await warmEdit(dense.client, dense.warmEditPrefix);
  await dense.client.restart();
  await dense.client.dispose();
  if (!quick) {
    const moe = await overhead('benchMoe', 12, 256);
    rows.push({ prefill: moe.row.prefillEngine / moe.row.prefillDirect, decode: moe.row.decodeEngine / moe.row.decodeDirect });
    await moe.client.restart();
    await moe.client.dispose();
  }
  const rss = await memory(dense.path);
  printMachine('bench:engine (end)');
  printResult({
    decode_ratio: round(Math.min(...rows.map((r) => r.decode))),
    prefill_ratio: round(Math.min(...rows.map((r) => r.prefill))),
    warm_edit_ratio: round(warm),
    rss_3_over_1: round(rss),
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
