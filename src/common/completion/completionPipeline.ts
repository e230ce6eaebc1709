/**
 * The whole completion path that does not depend on the editor: windows → cache / type-through → engine →
 * post-processing → confidence gate. The inline completion provider, the benchmark and the end-to-end test run
 * this, so a test can compute exactly the suggestion the editor should show, and every request that ends without
 * a suggestion says why.
 */
import type { InfillParams, InfillResult } from '../protocol/engineProtocol';
import { CompletionCache } from './completionCache';
import { buildFimInput, defaultFimWindows, type FimInput, type FimWindowOptions } from './fimInput';
import { GenerationControl } from './generationControl';
import { isMultiLine, pointlessHere, postProcessDetailed, stopStrings } from './postProcess';

/** What the pipeline needs of an engine (EngineClient implements it). */
export interface InfillEngine {
  infill(params: InfillParams, opts?: { signal?: AbortSignal; onText?: (text: string) => void }): Promise<InfillResult>;
}

export interface CompletionSettings {
  maxTokens: number;
  windows?: FimWindowOptions;
  timeLimitMs?: number;
  /** Beams to search (1: greedy); undefined: the engine chooses for its model. */
  beamWidth?: number;
  /** Suggestions whose mean token log-probability is below this are hidden; undefined: no gate. */
  minConfidence?: number;
  /** Repository context for the engine to place before the FIM prompt (see fimTemplates.contextText). */
  context?: string;
  /** FIM special tokens from a per-model template in settings. */
  fim?: InfillParams['fim'];
}

export interface CompletionDocument {
  text: string;
  offset: number;
  /** Identifies the document to the engine, which keeps its evaluated tokens for the next keystroke. */
  documentId?: string;
  /** Document offset of `text[0]` when `text` is a slice of the document (anchors the prefix window). */
  base?: number;
}

export interface CompletionOutcome {
  /** The suggestion, or undefined when the model produced nothing worth showing. */
  suggestion: string | undefined;
  prefix: string;
  suffix: string;
  result: InfillResult;
  /** Other candidates (beam alternatives), post-processed, distinct from the suggestion. */
  alternatives: string[];
  /** What post-processing removed, or why it dropped everything. */
  notes: string[];
}

function cutByCap(result: InfillResult): boolean {
  return result.stopReason === 'maxTokens' || result.stopReason === 'timeLimit';
}

/** The engine request for a pair of windows: the stop strings and one-or-many lines follow the cursor's context. */
function infillParams(input: FimInput, doc: CompletionDocument, settings: CompletionSettings): InfillParams {
  return {
    documentId: doc.documentId,
    prefix: input.prefix,
    suffix: input.suffix,
    maxTokens: settings.maxTokens,
    temperature: 0,
    stop: stopStrings(input),
    timeLimitMs: settings.timeLimitMs,
    beamWidth: settings.beamWidth,
    ...(settings.minConfidence !== undefined ? { copyMinConfidence: settings.minConfidence } : {}),
    ...(settings.context ? { context: settings.context } : {}),
    ...(settings.fim ? { fim: settings.fim } : {}),
  };
}

/** Post-processes an engine result and its alternatives. */
function outcomeOf(input: FimInput, result: InfillResult): CompletionOutcome {
  // A cancelled generation is stale: the document has moved on.
  if (result.stopReason === 'cancelled') return { suggestion: undefined, prefix: input.prefix, suffix: input.suffix, result, alternatives: [], notes: ['cancelled'] };
  const pp = postProcessDetailed(result.text, input, { cutByCap: cutByCap(result) });
  const alternatives: string[] = [];
  for (const a of result.alternatives ?? []) {
    const t = postProcessDetailed(a.text, input).text;
    if (t && t !== pp.text && !alternatives.includes(t)) alternatives.push(t);
  }
  return { suggestion: pp.text, prefix: input.prefix, suffix: input.suffix, result, alternatives, notes: pp.notes };
}

/** One engine request and its post-processing, with no cache (the end-to-end test's independent computation). */
export async function runCompletion(engine: InfillEngine, doc: CompletionDocument, settings: CompletionSettings, signal?: AbortSignal): Promise<CompletionOutcome> {
  const input = buildFimInput(doc.text, doc.offset, settings.windows ?? defaultFimWindows, doc.base);
  const result = await engine.infill(infillParams(input, doc, settings), { signal });
  return outcomeOf(input, result);
}

/** Where a shown suggestion came from. */
export type SuggestionSource = 'engine' | 'cache' | 'typeThrough';

export type Verdict =
  | {
      kind: 'shown';
      text: string;
      alternatives: string[];
      source: SuggestionSource;
      confidence: number | null;
      /** The engine's result when this request asked it (source `engine`). */
      result?: InfillResult;
      input: FimInput;
      notes: string[];
    }
  | { kind: 'none'; reason: string; result?: InfillResult; input?: FimInput; confidence?: number | null };

/** Counters a test, the benchmark and the status bar read. */
export interface CompletionStats {
  /** Requests the editor made of the pipeline. */
  requests: number;
  /** Requests for a keystroke that went to the engine (a prefetch is counted in `prefetches`, not here). */
  engineRequests: number;
  /** Engine requests that prepared the state after acceptance. */
  prefetches: number;
  cacheHits: number;
  typeThroughHits: number;
  shown: number;
  gated: number;
  pointless: number;
  empty: number;
  cancelled: number;
  /** Prompts evaluated while the user was idle (`warm`), so the next keystroke pays only its own tokens. */
  warms: number;
}

/**
 * Quiet time in an editor before its prompt is evaluated ahead of the next keystroke (the provider's idle warm-up,
 * which the benchmark replays): past the repository context's refresh (1.5 s, RepoContext), so the warm-up
 * evaluates the context the next keystroke will send.
 */
export const WARM_IDLE_MS = 1600;

/**
 * The completion pipeline with state: an LRU cache of suggestions keyed on the FIM windows, type-through, the
 * measured speed that sets caps and debounce, a request in flight for the same windows joined rather than sent
 * again, and the next suggestion prepared after one is shown.
 */
export class CompletionService {
  readonly cache: CompletionCache;
  readonly control = new GenerationControl();
  readonly stats: CompletionStats = { requests: 0, engineRequests: 0, prefetches: 0, cacheHits: 0, typeThroughHits: 0, shown: 0, gated: 0, pointless: 0, empty: 0, cancelled: 0, warms: 0 };
  private readonly inFlight = new Map<string, Promise<CompletionOutcome>>();

  constructor(private readonly engine: InfillEngine, options: { cacheSize?: number } = {}) {
    this.cache = new CompletionCache(options.cacheSize ?? 250);
  }

  /** The suggestion for the cursor at `doc.offset`, or why there is none. */
  async complete(doc: CompletionDocument, settings: CompletionSettings, signal?: AbortSignal): Promise<Verdict> {
    this.stats.requests++;
    const input = buildFimInput(doc.text, doc.offset, settings.windows ?? defaultFimWindows, doc.base);
    const hit = this.cache.get(input.prefix, input.suffix);
    if (hit) {
      if (hit.kind === 'exact') this.stats.cacheHits++;
      else this.stats.typeThroughHits++;
      const gated = this.gate(hit.entry.confidence, settings);
      if (gated) return { kind: 'none', reason: `${gated} (cached)`, input, confidence: hit.entry.confidence };
      this.stats.shown++;
      return { kind: 'shown', text: hit.entry.text, alternatives: hit.entry.alternatives, source: hit.kind === 'exact' ? 'cache' : 'typeThrough', confidence: hit.entry.confidence, input, notes: hit.kind === 'typeThrough' ? [`typed ${hit.typed} characters of the suggestion`] : [] };
    }
    const pointless = pointlessHere(input);
    if (pointless) {
      this.stats.pointless++;
      return { kind: 'none', reason: `pointless: ${pointless}`, input };
    }
    const caps = this.control.caps({ maxTokens: settings.maxTokens, timeLimitMs: settings.timeLimitMs ?? 3000 }, isMultiLine(input));
    const outcome = await this.request(input, doc, { ...settings, ...caps }, signal);
    const result = outcome.result;
    if (result.stopReason === 'cancelled' || signal?.aborted) {
      this.stats.cancelled++;
      return { kind: 'none', reason: `cancelled by a newer keystroke (${result.tokensOut} tokens generated, ${result.totalMs.toFixed(0)} ms)`, result, input };
    }
    const confidence = result.confidence ?? null;
    if (!outcome.suggestion) {
      this.stats.empty++;
      const cap = cutByCap(result) ? `, cut by ${result.stopReason === 'maxTokens' ? `the token cap (${caps.maxTokens}${caps.reason ? `: ${caps.reason}` : ''})` : `the time cap (${caps.timeLimitMs} ms)`}` : '';
      return { kind: 'none', reason: `empty after post-processing${cap}: ${outcome.notes.join('; ')}`, result, input, confidence };
    }
    const gated = this.gate(confidence, settings);
    if (gated) return { kind: 'none', reason: gated, result, input, confidence };
    this.stats.shown++;
    const notes = [...outcome.notes];
    if (cutByCap(result)) notes.push(`cut by ${result.stopReason === 'maxTokens' ? `token cap ${caps.maxTokens}` : `time cap ${caps.timeLimitMs} ms`}`);
    return { kind: 'shown', text: outcome.suggestion, alternatives: outcome.alternatives, source: 'engine', confidence, result, input, notes };
  }

  /**
   * Prepares the suggestion for the state after `accepted` is inserted at `doc.offset` (Tab-Tab-Tab flows): the
   * engine request runs now, on the document's own sequence (whose tokens it extends), and its answer waits in
   * the cache. A keystroke in the document cancels it (the engine's newest-keystroke rule), so it costs a typing
   * user nothing.
   */
  async prefetch(doc: CompletionDocument, accepted: string, settings: CompletionSettings, signal?: AbortSignal): Promise<void> {
    const text = doc.text.slice(0, doc.offset) + accepted + doc.text.slice(doc.offset);
    const after = { ...doc, text, offset: doc.offset + accepted.length };
    const input = buildFimInput(after.text, after.offset, settings.windows ?? defaultFimWindows, after.base);
    if (this.cache.get(input.prefix, input.suffix) || pointlessHere(input)) return;
    const caps = this.control.caps({ maxTokens: settings.maxTokens, timeLimitMs: settings.timeLimitMs ?? 3000 }, isMultiLine(input));
    await this.request(input, after, { ...settings, ...caps }, signal, true).catch(() => undefined);
  }

  /**
   * Evaluates the prompt for the cursor while the user is idle (a file just opened or switched to, a pause after
   * repository context changed, a cursor moved) and generates one token, so the next keystroke there pays only
   * for its own tokens instead of a full prefill. Nothing is cached or shown; a keystroke in the document cancels
   * it (what was evaluated stays). Undefined when nothing was sent (a cached suggestion or a pointless spot).
   */
  async warm(doc: CompletionDocument, settings: CompletionSettings, signal?: AbortSignal): Promise<InfillResult | undefined> {
    const input = buildFimInput(doc.text, doc.offset, settings.windows ?? defaultFimWindows, doc.base);
    if (this.cache.get(input.prefix, input.suffix) || pointlessHere(input)) return undefined;
    this.stats.warms++;
    // No time cap: the suggestion's cap would stop a long prompt part-read, and the next keystroke would pay the rest.
    const result = await this.engine.infill({ ...infillParams(input, doc, settings), maxTokens: 1, beamWidth: 1, timeLimitMs: undefined }, { signal });
    // What a warm-up read measures the prefill speed (not a keystroke's latency: it ran while the user was idle).
    this.control.observePrefill(result.tokensEvaluated, result.timeToFirstTokenMs ?? result.totalMs);
    return result;
  }

  private gate(confidence: number | null, settings: CompletionSettings): string | undefined {
    if (settings.minConfidence === undefined || confidence === null || confidence >= settings.minConfidence) return undefined;
    this.stats.gated++;
    return `gated: confidence ${confidence.toFixed(2)} < threshold ${settings.minConfidence}`;
  }

  /** One engine request for these windows; a request already in flight for the same windows is joined. */
  private request(input: FimInput, doc: CompletionDocument, settings: CompletionSettings, signal?: AbortSignal, prefetch = false): Promise<CompletionOutcome> {
    const key = `${doc.documentId ?? ''}\u0001${input.prefix.slice(-2000)}\u0000${input.suffix.slice(0, 500)}`;
    const running = this.inFlight.get(key);
    if (running) return running;
    if (prefetch) this.stats.prefetches++;
    else this.stats.engineRequests++;
    const p = this.engine.infill(infillParams(input, doc, settings), { signal }).then((result) => {
      this.control.observe(result);
      const outcome = outcomeOf(input, result);
      if (outcome.suggestion && result.stopReason !== 'cancelled') {
        this.cache.set(input.prefix, input.suffix, { text: outcome.suggestion, alternatives: outcome.alternatives, confidence: result.confidence ?? null });
      }
      return outcome;
    });
    this.inFlight.set(key, p);
    const done = () => this.inFlight.delete(key);
    p.then(done, done);
    return p;
  }
}
