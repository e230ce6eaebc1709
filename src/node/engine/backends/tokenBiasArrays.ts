/**
 * Token healing's bias, without node-llama-cpp's per-call conversion. node-llama-cpp (3.22) turns a `TokenBias`
 * into two typed arrays every time it samples with it (`LlamaContextSequence._resolveSamplerConfig`), on the engine's
 * main thread. After a typed space the healed token must begin with " ": ~80,000 of a 152k-token vocabulary
 * (Qwen2.5-Coder), and that conversion took 18–25 ms of every such keystroke (measured on this 2-core machine; the
 * decode itself is ~40 ms on a 1.5B model), while no other window's request could be dispatched.
 *
 * The engine builds a healing bias once per healed text and registers its arrays here; a sampling call with a
 * registered bias gets them as they are. Any other bias (or none) goes through node-llama-cpp unchanged. If the
 * private method is missing (another node-llama-cpp version), nothing is patched and every bias is converted as
 * before: slower, never wrong.
 */

export interface BiasArrays {
  keys: Uint32Array;
  values: Float32Array;
}

const registered = new WeakMap<object, BiasArrays>();
const PATCHED = Symbol('hearth.tokenBiasArrays');

type ResolveSamplerConfig = (this: unknown, options: Record<string, unknown>) => Record<string, unknown>;

/**
 * Makes `prototype._resolveSamplerConfig` (node-llama-cpp's `LlamaContextSequence.prototype`) use the arrays of a
 * registered bias; true when the method is there (patched now or before), false when it is not.
 */
export function useRegisteredBiasArrays(prototype: object): boolean {
  const target = prototype as Record<string, unknown>;
  const original = target._resolveSamplerConfig;
  if (typeof original !== 'function') return false;
  if ((original as unknown as Record<symbol, boolean>)[PATCHED]) return true;
  const resolve = original as ResolveSamplerConfig;
  const patched: ResolveSamplerConfig = function (this: unknown, options) {
    const bias = options?.tokenBias;
    const arrays = bias !== null && typeof bias === 'object' ? registered.get(bias) : undefined;
    if (!arrays) return resolve.call(this, options);
    return { ...resolve.call(this, { ...options, tokenBias: undefined }), tokenBiasKeys: arrays.keys, tokenBiasValues: arrays.values };
  };
  (patched as unknown as Record<symbol, boolean>)[PATCHED] = true;
  target._resolveSamplerConfig = patched;
  return true;
}

/**
 * Registers the arrays node-llama-cpp would build for `bias`: every one of `tokens` (end-of-generation tokens left
 * out, as `TokenBias.set` leaves them out) with logit `logit`. The caller sets the same tokens on `bias` itself, so
 * an unpatched node-llama-cpp samples the same.
 */
export function registerBiasArrays(bias: object, tokens: readonly number[], logit: number, isEog: (token: number) => boolean): BiasArrays {
  const kept = tokens.filter((t) => !isEog(t));
  const arrays = { keys: Uint32Array.from(kept), values: new Float32Array(kept.length).fill(logit) };
  registered.set(bias, arrays);
  return arrays;
}
