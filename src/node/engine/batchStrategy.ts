/**
 * Which queued evaluation goes into the next llama.cpp batch (node-llama-cpp's `itemPrioritizationStrategy`).
 *
 * node-llama-cpp's default (`maximumParallelism`) puts every sequence's pending tokens into one batch. On a CPU
 * that buys little and costs latency. llama.cpp splits a batch of several sequences (one KV stream each) into
 * micro-batches of equal length per sequence, and tokens of different streams cost nearly what they cost apart.
 * Measured with node-llama-cpp directly (benchDense, 2 threads, 1,300-token sequences, prebuilt, session 10,
 * medians of 8): 1 token 36 ms; 1 + 1 tokens of two sequences 55 (apart 72); 1 + 1 + 1 of three 91–97 (apart 108);
 * 1 + 4 tokens of two sequences 135 (apart 107: 4 tokens of one sequence take 71). And everyone in a shared batch
 * waits for all of it: a keystroke that arrives while three windows' tokens are being evaluated waits ~95 ms, then
 * waits ~95 ms again for its own shared batch, against ~36 + 36 one sequence at a time.
 *
 * bench:engine's three windows typing at once (prebuilt, benchDense, 40 keys each, alternated, session 10), p95 time
 * to first token: node-llama-cpp's default 144–204 ms (median 155 of 9 runs, ratio to one window 1.89); this order
 * with single tokens shared 132–157 (151 of 5, ratio 1.69); one sequence per batch 121–153 (138 of 6, ratio 1.66).
 * One sequence per batch it is: the lowest p95 of the three.
 */

import { evaluationPriority } from './scheduler';

/** The fields of node-llama-cpp's `BatchItem` this needs. */
export interface BatchItemLike {
  readonly tokens: readonly unknown[];
  /** Which tokens need their logits: none for a prefill step, the last one for a keystroke or a generation step. */
  readonly logits: readonly (true | undefined)[];
  readonly evaluationPriority: number;
}

export interface EngineBatchStrategyOptions {
  /** A prefill step (no logits) waiting longer than this is taken like one that answers (default 150 ms: ~2 batches). */
  maxPrefillWaitMs?: number;
  /** Chat or completion work waiting longer than this goes before everything else (default 500 ms). */
  maxWaitMs?: number;
  /** Single tokens of several sequences share a batch (default false: one sequence per batch). */
  shareSingles?: boolean;
  now?: () => number;
}

/** Work from chat's evaluation priority up ages; background never does. */
const AGING_FROM_PRIORITY = evaluationPriority.chat;

/**
 * node-llama-cpp's strategy function: one sequence per batch, chosen by
 *  1. work that has waited `maxWaitMs` (chat or completions; oldest first), so typing in three windows cannot
 *     starve a chat answer;
 *  2. priority: the focused window, other windows, chat, background;
 *  3. within one priority, an item that answers (its last token's logits: a keystroke's evaluation or a generation
 *     step) before a prefill step (a jump or a new document, evaluated in steps while others type): the typist's
 *     keystroke waits for at most the step already running, not for the steps every other window has queued. A
 *     prefill step that has waited `maxPrefillWaitMs` counts as answering;
 *  4. the queue's order (oldest first).
 */
export function createEngineBatchStrategy(options: EngineBatchStrategyOptions = {}) {
  const maxPrefillWait = options.maxPrefillWaitMs ?? 150;
  const maxWait = options.maxWaitMs ?? 500;
  const shareSingles = options.shareSingles ?? false;
  const now = options.now ?? (() => performance.now());
  // node-llama-cpp makes new item objects at every dispatch; the tokens array is the queued evaluation's own.
  const firstSeen = new WeakMap<object, number>();
  return function engineBatchStrategy<T extends BatchItemLike>({ items, size }: { items: readonly T[]; size: number }): { item: T; processAmount: number }[] {
    if (items.length === 0 || size <= 0) return [];
    const t = now();
    const rank = (item: T) => {
      let seen = firstSeen.get(item.tokens);
      if (seen === undefined) firstSeen.set(item.tokens, (seen = t));
      if (item.evaluationPriority >= AGING_FROM_PRIORITY && t - seen >= maxWait) return Number.MAX_SAFE_INTEGER;
      const answers = item.logits.some((l) => l === true) || t - seen >= maxPrefillWait;
      return item.evaluationPriority * 2 + (answers ? 1 : 0);
    };
    const ordered = items.map((item, index) => ({ item, index, rank: rank(item) })).sort((a, b) => b.rank - a.rank || a.index - b.index);
    const first = ordered[0]!.item;
    if (first.tokens.length !== 1 || !shareSingles) return [{ item: first, processAmount: Math.min(first.tokens.length, size) }];
    return ordered
      .filter(({ item }) => item.tokens.length === 1)
      .slice(0, size)
      .map(({ item }) => ({ item, processAmount: 1 }));
  };
}
