/**
 * Generation control from measured speed, not fixed numbers: the debounce follows the engine's latency (a fast
 * engine answers the keystroke sooner; a slow one is not asked for every keystroke), and the token cap follows the
 * decode speed so a slow machine gets a shorter line within the same wait rather than a cut one. llama.vscode's
 * fixed 500 ms predict cap and Continue's 150 ms timeout are what their users on CPUs complain about.
 */
import type { InfillResult } from '../protocol/engineProtocol';

/**
 * Shares of the time limit (`hearth.completion.timeLimitMs`, 3 s by default) a suggestion's decode should take:
 * 15 % for one line (0.45 s), 35 % for a block (1.05 s). Ghost text is worth something only while the user pauses:
 * on a CPU a whole block at ~25 tok/s takes 2–3 s, and a suggestion that arrives after the next keystroke is wasted
 * work. So a slow machine shows the first words or lines sooner, cut at a word or line end (never a token
 * fragment), and the rest follows on Tab from the next suggestion, prepared while this one is on screen
 * (CompletionService.prefetch). The limit itself stays the safety net.
 */
export const SINGLE_LINE_SHARE = 0.15;
export const MULTI_LINE_SHARE = 0.35;
/** Debounce before the first measurement, and its bounds. */
const DEFAULT_DEBOUNCE_MS = 75;
const MIN_DEBOUNCE_MS = 25;
const MAX_DEBOUNCE_MS = 300;
/** A request that evaluated at most this many prompt tokens measures a keystroke's latency (not a prefill's). */
const KEYSTROKE_TOKENS = 32;
/** Fewest tokens a cap allows: a short line still needs a few. */
const MIN_TOKENS = 8;

export interface Caps {
  maxTokens: number;
  timeLimitMs: number;
}

export class GenerationControl {
  private latency: number | undefined;
  private decode: number | undefined;
  private lastTtft: number | undefined;
  /** Time to first token of keystroke-sized requests (EWMA, ms): what the debounce follows. */
  private keystroke: number | undefined;
  /** Prompt tokens evaluated per second by requests that read a long prompt (EWMA). */
  private prefill: number | undefined;

  /**
   * Feeds one engine request. A cancelled one says nothing of latency (it stopped early), but its decode rate is as
   * real as a finished one's: while the user types on, nearly every request is cancelled, and the token cap must
   * still follow the machine's speed (without it every request asked for the full cap and none finished in a pause).
   */
  observe(result: Pick<InfillResult, 'totalMs' | 'timeToFirstTokenMs' | 'tokensOut' | 'stopReason' | 'tokensEvaluated'>): void {
    const cancelled = result.stopReason === 'cancelled';
    // A long prompt read until a keystroke cancelled it (or the time cap cut it) measures the prefill too: the
    // first requests of a session on a slow model end that way, long before any answer comes.
    if (result.timeToFirstTokenMs === null) this.observePrefill(result.tokensEvaluated, result.totalMs);
    if (result.timeToFirstTokenMs !== null) {
      this.lastTtft = result.timeToFirstTokenMs;
      if (result.tokensEvaluated <= KEYSTROKE_TOKENS) this.keystroke = ewma(this.keystroke, result.timeToFirstTokenMs);
      else this.observePrefill(result.tokensEvaluated, result.timeToFirstTokenMs);
    }
    if (cancelled && (result.timeToFirstTokenMs === null || result.tokensOut < 2)) return;
    if (!cancelled) this.latency = ewma(this.latency, result.totalMs);
    const decodeMs = result.totalMs - (result.timeToFirstTokenMs ?? 0);
    // Streamed: the tokens after the first came in the time after it (counting the first as well overstated the
    // rate, most for a request cancelled two tokens in: 2 tokens in 15 ms read 133 tok/s, and the caps then let a
    // "one line" decode 48 tokens for 1.7 s). A beam search returns everything at once (first token = end): total
    // time over tokens is the honest rate.
    const [tokens, rateMs] = decodeMs > 5 ? [result.tokensOut - 1, decodeMs] : [result.tokensOut, result.totalMs];
    if (result.tokensOut >= 2 && rateMs > 0) this.decode = ewma(this.decode, (tokens / rateMs) * 1000);
  }

  /** A prompt read of `tokens` tokens that took `ms` (a warm-up's, or a request's until its first token or its end). */
  observePrefill(tokens: number, ms: number): void {
    if (tokens > KEYSTROKE_TOKENS && ms > 0) this.prefill = ewma(this.prefill, (tokens / ms) * 1000);
  }

  /** Measured engine latency (EWMA, ms), decode and prefill speed (tokens/s), when known. */
  get measured(): { latencyMs: number | undefined; tokensPerSecond: number | undefined; prefillTokensPerSecond: number | undefined; lastTtftMs: number | undefined } {
    return { latencyMs: this.latency, tokensPerSecond: this.decode, prefillTokensPerSecond: this.prefill, lastTtftMs: this.lastTtft };
  }

  /**
   * Whether evaluating `tokens` prompt tokens again would take at most `budgetMs` at the measured prefill speed
   * (unknown speed: no; the first warm-up or long read measures it). What a change at the top of the prompt costs
   * (the engine re-reads all that follows).
   */
  affordsPrefill(tokens: number, budgetMs: number): boolean {
    return this.prefill !== undefined && (tokens / this.prefill) * 1000 <= budgetMs;
  }

  /**
   * The debounce: `setting` when positive, else the measured time to first token of a keystroke within [25, 300] ms:
   * a request is not sent more often than the engine can start answering one. It follows the keystroke's own cost,
   * not the whole answer's: a request cut by the time cap while it read a new file's prompt (3 s) or a long block's
   * decode used to push the debounce to its 300 ms maximum, so in a typist's short pauses (300–800 ms after a comma
   * or a bracket) no request started early enough to answer. A request sent too early costs little: the next
   * keystroke cancels it at the engine's next token, and what it read of the prompt stays for the next one.
   */
  debounceMs(setting: number): number {
    if (setting > 0) return setting;
    if (this.keystroke === undefined) return DEFAULT_DEBOUNCE_MS;
    return Math.round(Math.min(MAX_DEBOUNCE_MS, Math.max(MIN_DEBOUNCE_MS, this.keystroke)));
  }

  /**
   * Caps for one request: at most the settings; fewer tokens when the measured decode speed would not produce
   * them within the time a suggestion should take (a share of the time limit: 15 % for one line, 35 % for a
   * block), so a slow machine gets a shorter, complete line rather than one cut by the time limit.
   */
  caps(settings: Caps, multiLine: boolean): Caps & { reason?: string } {
    const budget = settings.timeLimitMs * (multiLine ? MULTI_LINE_SHARE : SINGLE_LINE_SHARE);
    const timeLimitMs = settings.timeLimitMs;
    // Before any decode is measured (a session's first suggestions: while a typist types on, most requests are
    // cancelled before their second token), a keystroke's time to first token stands in for a token's time: it is
    // one decode of a few prompt tokens plus the round trip, so it errs towards a shorter suggestion. Without it the
    // first suggestion asked for the full token cap (48 tokens, ~1.9 s on a 1.5B model on two cores).
    const rate = this.decode ?? (this.keystroke ? 1000 / this.keystroke : undefined);
    if (rate === undefined) return { maxTokens: settings.maxTokens, timeLimitMs };
    const affordable = Math.max(MIN_TOKENS, Math.floor((rate * budget) / 1000));
    if (affordable >= settings.maxTokens) return { maxTokens: settings.maxTokens, timeLimitMs };
    const basis = this.decode !== undefined ? `decode ${rate.toFixed(0)} tok/s` : `~${rate.toFixed(0)} tok/s from a keystroke's first token`;
    return { maxTokens: affordable, timeLimitMs, reason: `token cap ${affordable} (${basis} × ${budget.toFixed(0)} ms)` };
  }
}

function ewma(prev: number | undefined, x: number): number {
  return prev === undefined ? x : prev * 0.7 + x * 0.3;
}
