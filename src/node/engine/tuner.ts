/**
 * "Tune for This Machine": a short measured sweep of llama.cpp settings (threads, batch size) on the loaded
 * model. Runs inside the engine, on throwaway contexts over the weights already in memory, so no window loses
 * its model or its KV caches while it runs, and thread counts can be varied without reloading anything.
 *
 * The sweep itself ({@link runSweep}) is independent of llama.cpp, so its choice of the best row is unit-tested
 * with a fake measurement; {@link measureLlamaSetting} is the real measurement.
 */
import type { LlamaModel, Token } from 'node-llama-cpp' with { 'resolution-mode': 'import' };
import type { TuneRow, TuneSetting } from '../../common/protocol/engineProtocol';

/**
 * What a "typical completion" costs, the figure the best row minimises: a warm edit evaluates the changed tail
 * plus the extra context chunks (~256 tokens) and generates up to the default 48 tokens. Decode dominates on
 * CPUs, but a setting that halves prefill for a 1% decode loss should still win, so both count.
 */
export const TYPICAL_COMPLETION = { promptTokens: 256, decodeTokens: 48 };

export function estimateCompletionMs(prefillTokensPerSecond: number, decodeTokensPerSecond: number): number {
  const per = (n: number, tps: number) => (tps > 0 ? (n / tps) * 1000 : Number.POSITIVE_INFINITY);
  return per(TYPICAL_COMPLETION.promptTokens, prefillTokensPerSecond) + per(TYPICAL_COMPLETION.decodeTokens, decodeTokensPerSecond);
}

/**
 * 2–4 settings around the physical core count: all physical cores and one fewer (a core left to the editor often
 * decodes faster on a busy laptop), every logical core when SMT doubles them, and a smaller batch at the core
 * count (a smaller compute buffer, sometimes faster on small caches).
 */
export function tuneCandidates(physicalCores: number, logicalCores: number): TuneSetting[] {
  const p = Math.max(1, physicalCores);
  const out: TuneSetting[] = [{ threads: p, batchSize: 512 }];
  if (p > 1) out.push({ threads: p - 1, batchSize: 512 });
  if (logicalCores > p) out.push({ threads: logicalCores, batchSize: 512 });
  out.push({ threads: p, batchSize: 256 });
  return out.slice(0, 4);
}

export interface Measurement {
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
}

/**
 * Measures every setting in turn and picks the one with the lowest {@link estimateCompletionMs}. Stops with the
 * signal's reason when it is aborted between or during measurements.
 */
export async function runSweep(
  settings: readonly TuneSetting[],
  measure: (setting: TuneSetting, signal: AbortSignal) => Promise<Measurement>,
  opts: { signal: AbortSignal; onProgress?: (index: number, count: number) => void },
): Promise<{ rows: TuneRow[]; best: TuneSetting }> {
  if (settings.length === 0) throw new Error('nothing to tune: no settings given');
  const rows: TuneRow[] = [];
  for (const [i, s] of settings.entries()) {
    opts.signal.throwIfAborted();
    opts.onProgress?.(i, settings.length);
    const m = await measure(s, opts.signal);
    rows.push({ ...s, ...m, completionMs: estimateCompletionMs(m.prefillTokensPerSecond, m.decodeTokensPerSecond) });
  }
  const best = rows.reduce((a, b) => (b.completionMs < a.completionMs ? b : a));
  return { rows, best: { threads: best.threads, batchSize: best.batchSize } };
}

/** Code-like text for the prompt: real tokens in a plausible mix, repeated to the length needed. */
const SAMPLE_CODE = `export function summarize(items: { name: string; price: number; qty: number }[]): string {
  const total = items.reduce((sum, item) => sum + item.price * item.qty, 0);
  const names = items.filter((item) => item.qty > 0).map((item) => item.name.trim());
  return \`\${names.length} items, total \${total.toFixed(2)}\`;
}
`;

/** Prompt tokens for the sweep: the same for every setting, so the rows compare. */
export function sampleTokens(model: LlamaModel, count: number): Token[] {
  const one = model.tokenize(SAMPLE_CODE);
  if (one.length === 0) throw new Error('the model tokenizes the sample prompt to nothing');
  const out: Token[] = [];
  while (out.length < count) out.push(...one);
  return out.slice(0, count);
}

/**
 * Prefill and decode tokens/s of one setting on a fresh one-sequence context over `model`'s weights. Prefill:
 * `tokens` evaluated from an empty cache. Decode: `decodeTokens` generated greedily after them.
 */
export async function measureLlamaSetting(
  model: LlamaModel,
  setting: TuneSetting,
  tokens: Token[],
  decodeTokens: number,
  signal: AbortSignal,
): Promise<Measurement> {
  const contextSize = Math.max(tokens.length + decodeTokens + 16, setting.batchSize);
  const context = await model.createContext({ contextSize, sequences: 1, threads: setting.threads, batchSize: setting.batchSize });
  try {
    const sequence = context.getSequence();
    signal.throwIfAborted();
    const t0 = performance.now();
    await sequence.evaluateWithoutGeneratingNewTokens(tokens);
    const prefillMs = performance.now() - t0;
    signal.throwIfAborted();
    // The first generated token comes from the prefill's logits; time the following ones (one eval each).
    let generated = 0;
    let t1 = 0;
    for await (const _token of sequence.evaluate([tokens[tokens.length - 1]!], { temperature: 0 })) {
      if (generated === 0) t1 = performance.now();
      generated++;
      if (generated > decodeTokens || signal.aborted) break;
    }
    signal.throwIfAborted();
    const decodeMs = performance.now() - t1;
    return {
      prefillTokensPerSecond: tokens.length / Math.max(prefillMs / 1000, 1e-6),
      decodeTokensPerSecond: (generated - 1) / Math.max(decodeMs / 1000, 1e-6),
    };
  } finally {
    await context.dispose();
  }
}

/**
 * Greedy generation time with and without lookup speculation, on a prompt of code that repeats itself (where
 * lookup can draft): `speedup` is with ÷ without (below 1: faster). Two fresh one-sequence contexts.
 */
export async function measureLookup(
  mod: { InputLookupTokenPredictor: new (options?: { patternLength?: { min?: number } }) => import('node-llama-cpp', { with: { 'resolution-mode': 'import' } }).TokenPredictor },
  model: LlamaModel,
  threads: number,
  tokens: Token[],
  decodeTokens: number,
  signal: AbortSignal,
  lookupOptions: { patternLength?: { min?: number } } = {},
): Promise<{ plainMs: number; lookupMs: number; ratio: number }> {
  const time = async (lookup: boolean): Promise<number> => {
    const context = await model.createContext({ contextSize: tokens.length + decodeTokens + 16, sequences: 1, threads });
    try {
      const sequence = context.getSequence(lookup ? { tokenPredictor: new mod.InputLookupTokenPredictor(lookupOptions) } : undefined);
      await sequence.evaluateWithoutGeneratingNewTokens(tokens.slice(0, -1));
      signal.throwIfAborted();
      const t0 = performance.now();
      let n = 0;
      for await (const _token of sequence.evaluate([tokens[tokens.length - 1]!], { temperature: 0 })) {
        if (++n >= decodeTokens || signal.aborted) break;
      }
      signal.throwIfAborted();
      return performance.now() - t0;
    } finally {
      await context.dispose();
    }
  };
  // Alternated, twice each, best of two: the first run of either pays for paging in the weights.
  const plain: number[] = [];
  const lookup: number[] = [];
  for (let i = 0; i < 2; i++) {
    plain.push(await time(false));
    lookup.push(await time(true));
  }
  const plainMs = Math.min(...plain);
  const lookupMs = Math.min(...lookup);
  return { plainMs, lookupMs, ratio: lookupMs / Math.max(plainMs, 1e-6) };
}
