/**
 * The llama.cpp backend, through node-llama-cpp. node-llama-cpp is ESM-only and loads a native addon, so it is
 * imported on first use, never at module load (style rule 2).
 */
import { appendFileSync, existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { availableParallelism, freemem } from 'node:os';
import type { Llama, LlamaCompletion, LlamaContext, LlamaContextSequence, LlamaModel, Token, TokenBias } from 'node-llama-cpp' with { 'resolution-mode': 'import' };
import type { ChatParams, ChatResult, InfillParams, InfillResult, LoadModelParams, ModelInfo, Priority, PromptCacheStatus, StatusResult, StopReason, TuneParams, TuneResult } from '../../../common/protocol/engineProtocol';
import { detectHardwareProfile } from '../../hardware/hardwareProfile';
import { measureLlamaSetting, measureLookup, runSweep, sampleTokens, tuneCandidates } from '../tuner';
import type { Logger } from '../../../common/logger';
import type { z } from 'zod';
import { LoadMonitor } from '../threads';
import { createNativeLlama, findNativeBuild, loadLlama, writeBackendChoice, type BackendInfo } from '../nativeBuild';
import { placementFor } from '../../../common/hardware/placement';
import { evaluationPriority, evaluationPriorityOf } from '../scheduler';
import { createEngineBatchStrategy } from '../batchStrategy';
import { commonPrefix, defaultCacheBudget, modelFingerprint, PromptCache, ramBase } from '../promptCache';
import { GenerationLimit } from './generationLimit';
import { registerBiasArrays, useRegisteredBiasArrays } from './tokenBiasArrays';
import { PrefillPacer, StepGate } from '../prefillPacer';
import { beamSearch, bestOf, scoreCandidates, topLogProbs, withCandidates, type BeamModel, type BeamResult, type CandidateModel, type Scored } from './beamSearch';
import { copyCandidatesWithSources, copyPrior } from '../../../common/completion/copyCandidates';
import { detectFimFamily, fimTemplate, psmMiddleStart } from '../../../common/completion/fimTemplates';
import { generateChat } from './llamaCppChat';

type NodeLlamaCpp = typeof import('node-llama-cpp', { with: { 'resolution-mode': 'import' } });

let modulePromise: Promise<NodeLlamaCpp> | undefined;
function loadModule(): Promise<NodeLlamaCpp> {
  // A plain `import()` here: esbuild keeps it, so Node resolves the ESM package at run time.
  modulePromise ??= import('node-llama-cpp');
  return modulePromise;
}

/**
 * Copy candidates scored per completion (see copyCandidates.ts): the first COPY_CANDIDATES of them that are not the
 * beams' answer; each competes with the beams on the model's log-probability plus a prior (`copyPrior`, fitted with
 * this count on bench:model seeds 7, 11, 12, 13, 14: see there). Each costs one evaluation of its tokens.
 */
const COPY_CANDIDATES = 3;
/** Candidates proposed before those equal to the beams' answer are dropped and the first COPY_CANDIDATES kept. */
const COPY_CANDIDATES_PROPOSED = 6;
/**
 * HEARTH_ENGINE_COPY_DUMP=<file> (development, for fitting the rule above offline: bench:model's HEARTH_BENCH_DUMP
 * sets it): after each beam-searched completion, one JSON line with the beams' answer and alternatives and every
 * copy candidate (up to 6, with its source) scored by the model. The answer itself is unchanged.
 */
const COPY_DUMP = process.env.HEARTH_ENGINE_COPY_DUMP;
/** Models smaller than this search four beams by default (see `beamWidth`). */
const SMALL_MODEL_BYTES = 64 * 1024 * 1024;
/** Longer generations are not searched by default: they stream, and a search pays most on a short line. */
const SEARCHED_MAX_TOKENS = 64;

const GGUF_MAGIC = 0x46554747; // "GGUF" little-endian

/**
 * Lookup speculation's options: node-llama-cpp's defaults (drafts from a one-token match, up to 3 tokens). A
 * two-token minimum drafted less on the shipped model (10 accepted of 66 vs 11 of 153) but no measurably faster,
 * and the tuner decides whether speculation is on at all, so the library's tested defaults stay.
 */
export const LOOKUP_OPTIONS = {};

/** Live completion sequences by default (llama-server keeps 4 slots), fewer where free memory is short. */
const DEFAULT_COMPLETION_SEQUENCES = 4;
/**
 * Prompt tokens evaluated per prefill step while a window types alone. Between steps the request's signal is
 * checked, so a superseded or cancelled request releases its sequence (and its share of every batch) within one
 * step; steps of different sequences still meet in one llama.cpp batch.
 */
const PREFILL_CHUNK = 128;
/**
 * Prompt tokens per prefill step while other windows type, or another request generates, or the window has no
 * focus (see PrefillPacer). llama.cpp cannot stop a batch once it runs: another window's keystroke (or a decoding
 * window's next token) waits for the step in progress. A 128-token step takes ~1 s on a 1.5B model on two cores.
 * On a CPU a one-token decode is bound by reading the weights (~40 ms for benchDense's 870 MB) and each more token
 * in the batch adds ~8 ms of compute, so a 4-token step costs about one decode: another window's first token comes
 * after at most about two decodes. The prefilling window pays more batches (~90 tok/s instead of ~125).
 */
// HEARTH_ENGINE_SMALL_STEP: another size, for benchmarks that compare step sizes (development).
const SHARED_PREFILL_CHUNK = Number(process.env.HEARTH_ENGINE_SMALL_STEP) || 4;
/** How long after a window's last completion ended it still counts as typing (keys come 60-600 ms apart). */
const TYPING_RECENT_MS = 2000;
/** How long a small prefill step waits, at most, for requests waiting for their first token (StepGate). */
const FIRST_TOKEN_MAX_WAIT_MS = 300;
/**
 * How long a completion from a window without focus may wait, in all, for the focused window's completions to end
 * before it evaluates anyway: the focused window goes first, the others are late but never starved.
 */
const UNFOCUSED_MAX_WAIT_MS = 1500;
/** A state shorter than this is not worth a file: evaluating it again costs about as much as loading it. */
const MIN_CACHED_TOKENS = 64;
/** A cached state is restored only when it saves at least this many tokens over the live sequence. */
const MIN_RESTORE_GAIN = 32;

/** KV-cache bytes per token (f16 keys and values), from the GGUF metadata; a rough upper figure where absent. */
function kvBytesPerToken(arch: Record<string, unknown>): number {
  const num = (v: unknown) => (typeof v === 'number' && v > 0 ? v : undefined);
  const layers = num(arch['block_count']) ?? 32;
  const embd = num(arch['embedding_length']) ?? 4096;
  const heads = num(arch['attention.head_count']) ?? 32;
  const kvHeads = num(arch['attention.head_count_kv']) ?? heads;
  return layers * 2 * (embd / heads) * kvHeads * 2;
}

/**
 * Checks that `path` is a readable GGUF file before llama.cpp sees it, so a wrong path or a non-GGUF file
 * gets a message that names the file and says what to do.
 */
export function checkGgufFile(path: string): void {
  if (!existsSync(path)) throw new Error(`Model file not found: ${path}. Set "hearth.model.path" to a GGUF file or run "Hearth: Select Local Model…".`);
  const size = statSync(path).size;
  if (size < 24) throw new Error(`Model file ${path} is ${size} bytes: too small to be a GGUF model (truncated download?). Download it again or choose another file.`);
  const header = Buffer.alloc(4);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, header, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  if (header.readUInt32LE(0) !== GGUF_MAGIC) {
    throw new Error(`Model file ${path} is not a GGUF file (its first bytes are not "GGUF"). Hearth runs GGUF models: choose a .gguf file.`);
  }
}

function loadKey(params: LoadModelParams): string {
  return JSON.stringify([params.path, params.contextSize, params.threads, params.sequences, params.batchSize, params.fimOrder, params.engineBackend ?? 'auto', params.lookup ?? false, params.kvCacheType, params.gpuLayers, params.moeExpertLayersOnCpu]);
}

/** One context sequence and what it holds: the document whose tokens are in its KV cache. */
interface Slot {
  sequence: LlamaContextSequence;
  completion: LlamaCompletion;
  documentId: string | undefined;
  lastUsed: number;
  /** A request is using it (one at a time per sequence). */
  busy: boolean;
}

/** A part of a FIM prompt (its FIM token included) and the token range it takes. */
interface PromptPart {
  name: 'context' | 'prefix' | 'suffix' | 'middle';
  start: number;
  end: number;
}

/** Where in the prompt a token index falls, for the reuse log: `prefix token 1210 of 1502`. */
export function promptPosition(parts: readonly PromptPart[], index: number): string {
  const part = parts.find((p) => index >= p.start && index < p.end);
  return part ? `${part.name} token ${index - part.start} of ${part.end - part.start}` : 'the end of the prompt';
}

/** Where a request's prompt came from, and why a full prefill was paid. */
/** When a completion passed each stage, in ms after it entered the backend (the debug log's timing line). */
interface Marks {
  prompt: number;
  reader?: number;
  plan?: number;
  prefill?: number;
}

interface PromptPlan {
  slot: Slot;
  source: 'live' | 'restored' | 'full';
  reused: number;
  /** Tokens the sequence (or the restored state) held before the request. */
  held: number;
  reason?: string;
}

export class LlamaCppBackend {
  readonly name = 'llama.cpp';
  private llama: Llama | undefined;
  private model: LlamaModel | undefined;
  private context: LlamaContext | undefined;
  /** Completion slots (one per recently edited document), then one slot shared by chat and background work. */
  private slots: Slot[] = [];
  private info: ModelInfo | undefined;
  private loadedKey: string | undefined;
  private mod: NodeLlamaCpp | undefined;
  /** Every token's text, sorted, for token healing; built on first use per model. */
  private tokenTexts: Array<{ text: string; token: Token }> | undefined;
  private readonly healBiases = new Map<string, TokenBias>();
  /** Tokens that end a copy candidate, per stop strings (see `candidateModel`); emptied with `tokenTexts`. */
  private readonly endTokenSets = new Map<string, ReadonlySet<number>>();
  /** Saved sequence states; survives model loads (entries are keyed by model), emptied on dispose. */
  private cache: PromptCache | undefined;
  /** Fingerprint of the model's weights and the context size: what a saved state must match. */
  private modelKey = '';
  /** Documents seen, with the model key they were last evaluated under (for the full-prefill reason). */
  private readonly seenDocuments = new Map<string, string>();
  /** Requests in their generation phase (SHARED_PREFILL_CHUNK: other requests prefill in small steps meanwhile). */
  private generating = 0;
  /** Which documents are typing: a prefill takes small steps while other windows type (see PrefillPacer). */
  private readonly pacer = new PrefillPacer({ bigStep: PREFILL_CHUNK, smallStep: SHARED_PREFILL_CHUNK, recentMs: TYPING_RECENT_MS });
  /** Small prefill steps one at a time across windows, after the requests waiting for their first token. */
  private readonly gate = new StepGate(FIRST_TOKEN_MAX_WAIT_MS);
  /** Per document, where its last psm prompt's middle started: the prefix before it and the suffix (middleStart). */
  private readonly middles = new Map<string, { head: string; suffix: string }>();
  private readonly counts = { live: 0, restored: 0, full: 0 };
  /** Which llama.cpp build `llama` is, and the preference it was loaded for. */
  private backendInfo: BackendInfo | undefined;
  private backendPreference: 'auto' | 'native' | 'prebuilt' | undefined;
  /** Other processes' CPU load, sampled in the background; each request picks its threads from it. */
  private readonly load = new LoadMonitor();
  /** The most threads a request may use (the configured or tuned count, else the cores), and the last choice. */
  private threadCeiling = 0;
  private lastThreads = 0;
  private lookupEnabled = false;
  private readonly lookupTotals = { accepted: 0, rejected: 0 };
  /** A completion's prompt read on after a keystroke or the time cap stopped its prefill (see `readOn`). */
  private reader: { stop: AbortController; done: Promise<void> } | undefined;
  /** Requests (completion, chat) inside the backend now: the reader starts only when there are none. */
  private active = 0;
  /** Focused-window completions in flight, and the unfocused ones waiting for them to end (see `focusedFirst`). */
  private focusedActive = 0;
  private focusedWaiters: Array<() => void> = [];

  constructor(private readonly logger: Logger) {}

  /** The build loaded, the load-aware threads and lookup speculation, for `status`. */
  speedStatus(): Pick<StatusResult, 'engineBackend' | 'threads' | 'lookup'> {
    const drafts = this.lookupTotals.accepted + this.lookupTotals.rejected;
    return {
      ...(this.backendInfo ? { engineBackend: this.backendInfo } : {}),
      ...(this.threadCeiling ? { threads: { last: this.lastThreads || this.threadCeiling, ceiling: this.threadCeiling, othersBusy: Math.round((this.lastThreads ? this.load.lastLoad : this.load.othersBusy) * 100) / 100 } } : {}),
      ...(this.info ? { lookup: { enabled: this.lookupEnabled, acceptance: drafts ? this.lookupTotals.accepted / drafts : null } } : {}),
    };
  }

  /**
   * Threads for the request about to run, from other processes' current load. node-llama-cpp gives each decode
   * batch min(context's ideal, llama.maxThreads) threads and sets them on the llama.cpp context before the batch
   * (`llama_set_n_threads`: no reload, no wait), so the count changes between two batches, never during one.
   */
  private chooseRequestThreads(): number {
    // HEARTH_ENGINE_FIXED_THREADS=1: always the ceiling, for benchmarks that compare builds side by side at one
    // count on a machine whose load would otherwise make each side choose differently.
    const threads = process.env.HEARTH_ENGINE_FIXED_THREADS === '1' ? this.threadCeiling : this.load.threadsFor(this.threadCeiling);
    if (this.llama && this.llama.maxThreads !== threads) {
      this.llama.maxThreads = threads;
      this.logger.debug(`threads: ${threads} of ${this.threadCeiling} (other processes busy ${this.load.lastLoad.toFixed(2)} cores)`);
    }
    this.lastThreads = threads;
    return threads;
  }

  /** Lookup speculation counters of a sequence, to diff around a request. */
  private static predictions(sequence: LlamaContextSequence): { accepted: number; rejected: number } {
    const p = sequence.tokenPredictions;
    return { accepted: p.validated, rejected: p.refuted };
  }

  /** The record's threads: the count in effect when the request ended (it follows the load between batches). */
  private speedFields(sequence: LlamaContextSequence, before: { accepted: number; rejected: number }): { threads: number; lookupAccepted?: number; lookupRejected?: number } {
    const threads = this.lastThreads;
    if (!this.lookupEnabled) return { threads };
    const after = LlamaCppBackend.predictions(sequence);
    const accepted = Math.max(0, after.accepted - before.accepted);
    const rejected = Math.max(0, after.rejected - before.rejected);
    this.lookupTotals.accepted += accepted;
    this.lookupTotals.rejected += rejected;
    if (accepted + rejected) this.logger.debug(`lookup speculation: ${accepted} of ${accepted + rejected} drafted tokens accepted (${((100 * accepted) / (accepted + rejected)).toFixed(0)}%), ${threads} threads`);
    return { threads, lookupAccepted: accepted, lookupRejected: rejected };
  }

  /** Completion sequences (the last sequence is shared by chat and background work). */
  get completionSequences(): number {
    return Math.max(1, this.slots.length - 1);
  }

  promptCacheStatus(): PromptCacheStatus {
    const total = this.counts.live + this.counts.restored + this.counts.full;
    const completionSlots = this.slots.slice(0, this.completionSequences);
    return {
      liveSequences: this.slots.length ? completionSlots.length : 0,
      liveDocuments: completionSlots.filter((s) => s.sequence.nextTokenIndex > 0).length,
      entries: this.cache?.size ?? 0,
      bytes: this.cache?.bytes ?? 0,
      budgetBytes: this.cache?.budgetBytes ?? 0,
      liveHits: this.counts.live,
      restores: this.counts.restored,
      fullPrefills: this.counts.full,
      hitRate: total ? (this.counts.live + this.counts.restored) / total : null,
      dir: this.cache?.folder ?? null,
    };
  }

  get modelInfo(): ModelInfo | undefined {
    return this.info;
  }

  /** Whether `params` would keep the model already loaded. */
  isLoaded(params: LoadModelParams): boolean {
    return this.info !== undefined && this.loadedKey === loadKey(params);
  }

  /** A prompt cache budget asked for with the model already loaded: applied without reloading it. */
  applyLoadOptions(params: LoadModelParams): void {
    if (params.promptCacheBytes === undefined) return;
    if (params.promptCacheBytes > 0) this.cache ??= new PromptCache(0, this.logger);
    this.cache?.setBudget(params.promptCacheBytes);
  }

  /** Loads a model; the same file with the same settings already loaded is kept, not loaded twice. */
  async loadModel(params: LoadModelParams): Promise<ModelInfo> {
    const key = loadKey(params);
    if (this.info && this.loadedKey === key) return this.info;
    checkGgufFile(params.path);
    const started = performance.now();
    const mod = await loadModule();
    this.mod = mod;
    if (!useRegisteredBiasArrays(mod.LlamaContextSequence.prototype)) this.logger.debug('token healing: this node-llama-cpp has no _resolveSamplerConfig to reuse bias arrays with; each healed keystroke converts its bias');
    await this.unload();
    const preference = params.engineBackend ?? 'auto';
    if (this.llama && this.backendPreference !== preference) {
      await this.llama.dispose();
      this.llama = undefined;
    }
    if (!this.llama) {
      const loaded = await loadLlama(mod, {
        prefer: preference,
        logger: this.logger,
        logLevel: mod.LlamaLogLevel.warn,
        llamaLogger: (level, message) => {
          const text = message.trim();
          if (text) this.logger.debug(`llama.cpp [${level}] ${text}`);
        },
      });
      this.llama = loaded.llama;
      this.backendInfo = loaded.backend;
      this.backendPreference = preference;
    }
    // The ceiling: the configured (or tuned) count, else the cores; each request then takes what other processes
    // leave (see chooseRequestThreads). node-llama-cpp's default could exceed the cores and spin-wait.
    const threads = params.threads && params.threads > 0 ? params.threads : availableParallelism();
    this.threadCeiling = threads;
    this.llama.maxThreads = threads;
    // A request keeps following the load: a program that starts spinning during a long answer costs a thread
    // within a second, not at the next request (spinning OpenMP waits collapse when a thread is descheduled).
    this.load.onSample = () => {
      if (this.active > 0) this.chooseRequestThreads();
    };
    this.load.start();
    this.load.sample();
    let model: LlamaModel;
    try {
      model = await this.llama.loadModel({ modelPath: params.path, gpuLayers: 0 });
    } catch (err) {
      throw new Error(`Could not load model ${params.path}: ${err instanceof Error ? err.message : String(err)}. The file may be truncated or corrupt: download it again or choose another model.`);
    }
    const trainContextSize = model.trainContextSize;
    const contextSize = Math.min(params.contextSize ?? 2048, trainContextSize || 2048);
    const metaAll = model.fileInfo.metadata as unknown as Record<string, Record<string, unknown> | undefined>;
    const perSequence = contextSize * kvBytesPerToken(metaAll[model.fileInfo.metadata.general.architecture] ?? {});
    // Live sequences sized from free memory: their KV caches may take at most a quarter of it.
    const sequences = params.sequences ?? 1 + Math.max(1, Math.min(DEFAULT_COMPLETION_SEQUENCES, Math.floor(freemem() / 4 / perSequence)));
    const archInfo = metaAll[model.fileInfo.metadata.general.architecture] ?? {};
    const placement = placementFor({
      gpu: false,
      gpuLayers: params.gpuLayers,
      kvCacheType: params.kvCacheType,
      moeExpertLayersOnCpu: params.moeExpertLayersOnCpu,
      expertCount: typeof archInfo['expert_count'] === 'number' ? archInfo['expert_count'] : null,
      layers: typeof archInfo['block_count'] === 'number' ? archInfo['block_count'] : null,
      tensorOverridesSupported: false,
    });
    const kv = placement.kvCacheType === 'f16' ? {} : { experimentalKvCacheKeyType: placement.kvCacheType === 'q8_0' ? ('Q8_0' as const) : ('Q4_0' as const), experimentalKvCacheValueType: placement.kvCacheType === 'q8_0' ? ('Q8_0' as const) : ('Q4_0' as const), flashAttention: true };
    // Which queued evaluation goes next: see batchStrategy.ts. For side-by-side measurements, HEARTH_ENGINE_BATCHING=
    // parallel is node-llama-cpp's default (every sequence in each batch), =shared lets single tokens share a batch.
    const batchingMode = process.env.HEARTH_ENGINE_BATCHING;
    const batching = { itemPrioritizationStrategy: batchingMode === 'parallel' ? ('maximumParallelism' as const) : createEngineBatchStrategy(batchingMode === 'shared' ? { shareSingles: true } : {}) };
    const context = await model.createContext({ contextSize, sequences, threads: { ideal: threads, min: 1 }, batching, ...kv, ...(params.batchSize ? { batchSize: params.batchSize } : {}) });
    this.model = model;
    this.context = context;
    this.lookupEnabled = params.lookup === true;
    this.lookupTotals.accepted = this.lookupTotals.rejected = 0;
    this.slots = Array.from({ length: sequences }, () => {
      // Lookup speculation: drafts copied from the sequence's own prompt, verified with the next token in one batch.
      const sequence = context.getSequence(this.lookupEnabled ? { tokenPredictor: new mod.InputLookupTokenPredictor(LOOKUP_OPTIONS) } : undefined);
      return { sequence, completion: new mod.LlamaCompletion({ contextSequence: sequence }), documentId: undefined, lastUsed: 0, busy: false };
    });
    this.modelKey = `${modelFingerprint(params.path)}:${context.contextSize}`;
    if (params.promptCacheBytes !== 0) {
      this.cache ??= new PromptCache(0, this.logger);
      this.cache.setBudget(params.promptCacheBytes ?? defaultCacheBudget(ramBase()));
    } else this.cache?.setBudget(0);
    this.counts.live = this.counts.restored = this.counts.full = 0;
    const meta = model.fileInfo.metadata as unknown as Record<string, Record<string, unknown> | undefined>;
    const archMeta = meta[model.fileInfo.metadata.general.architecture] ?? {};
    const num = (v: unknown) => (typeof v === 'number' ? v : null);
    // The FIM family from the tokenizer's special tokens (a token text that tokenizes to itself, as one token).
    const hasToken = (text: string) => {
      const t = model.tokenize(text, true);
      return t.length === 1 && model.detokenize(t, true) === text;
    };
    const fimFamily = detectFimFamily({ architecture: String(model.fileInfo.metadata.general.architecture), name: String(model.fileInfo.metadata.general.name ?? ''), hasToken });
    const infill = model.tokens.infill;
    const hearthMeta = meta['hearth'] as { fim?: { order?: unknown } } | undefined;
    this.info = {
      path: params.path,
      name: String(model.fileInfo.metadata.general.name ?? params.path.split(/[\\/]/).pop()),
      architecture: String(model.fileInfo.metadata.general.architecture),
      sizeBytes: statSync(params.path).size,
      trainContextSize,
      contextSize: context.contextSize,
      threads,
      batchSize: context.batchSize,
      expertCount: num(archMeta['expert_count']),
      expertUsedCount: num(archMeta['expert_used_count']),
      fim: { prefix: infill.prefixString, suffix: infill.suffixString, middle: infill.middleString },
      infillSupported: (infill.prefix != null && infill.suffix != null) || (fimFamily !== 'generic' && hasToken(fimTemplate(fimFamily).prefix) && hasToken(fimTemplate(fimFamily).suffix)),
      // Codestral's family is suffix-first; a setting or the GGUF's hearth.fim.order decides otherwise.
      fimOrder: params.fimOrder ?? (hearthMeta?.fim?.order === 'spm' || fimTemplate(fimFamily).order === 'spm' ? 'spm' : 'psm'),
      fimFamily,
      loadMs: performance.now() - started,
    };
    this.loadedKey = key;
    this.logger.info(`loaded ${this.info.name} (${this.info.architecture}, ${(this.info.sizeBytes / 1e6).toFixed(1)} MB) on the ${this.backendInfo?.kind === 'native' ? 'native build' : 'prebuilt backend'} with up to ${threads} threads (chosen per request against the load), ${placement.note}, lookup speculation ${this.lookupEnabled ? 'on' : 'off'}, batch ${context.batchSize}, context ${context.contextSize} × ${sequences} sequences (${sequences - 1} for completions), prompt cache ${((this.cache?.budgetBytes ?? 0) / 1e6).toFixed(0)} MB${batchingMode ? `, batching ${batchingMode} (HEARTH_ENGINE_BATCHING)` : ''}, in ${this.info.loadMs.toFixed(0)} ms`);
    return this.info;
  }

  /**
   * The fill-in-the-middle prompt: `<PRE>prefix<SUF>suffix<MID>` or, for models trained that way (or without a
   * middle token, as llama.cpp does), `<SUF>suffix<PRE>prefix<MID>`. When it does not fit the context, the suffix's
   * end goes first, then the prefix's beginning, leaving room for `maxTokens`.
   *
   * Token healing: a cursor inside a word leaves a piece the model never saw alone (`re` of `return` is one token in
   * training), so the prefix's last token is taken back and returned as `heal`; generation then starts with a
   * token that begins with it (see `healBias`).
   */
  private fimPrompt(params: InfillParams, healing = true): { tokens: Token[]; heal: string; split: number; parts: PromptPart[] } {
    const model = this.model!;
    const { pre, suf, mid, order } = this.fimTokens(params);
    const context = params.context ? model.tokenize(params.context, true) : [];
    let room = Math.max(8, this.info!.contextSize - (params.maxTokens ?? 128) - 5);
    const psm = order === 'psm' && mid != null;
    const split = psm && params.cursorLine !== 'prefix' ? this.middleStart(params) : params.prefix.length;
    const tail = params.prefix.slice(split);
    let prefix = model.tokenize(params.prefix.slice(0, split), false, 'trimLeadingSpace');
    let line = tail ? model.tokenize(tail, false, 'trimLeadingSpace') : [];
    let suffix = model.tokenize(params.suffix, false, 'trimLeadingSpace');
    // Dynamic healing (as llama.cpp's) of the prompt's last text: take back tokens while what was taken back still
    // begins some token, so `Ke` tokenized as `K`,`e` is healed whole and a token such as `Keyword` can follow.
    let heal = '';
    const healed = (toks: Token[], text: string): Token[] => {
      let keep = toks.length;
      while (keep > 1 && heal.length < 32) {
        const piece = model.detokenize([toks[keep - 1]!], false);
        const candidate = piece + heal;
        if (!piece || candidate.includes('\n') || !text.endsWith(candidate) || !this.someTokenStartsWith(candidate)) break;
        heal = candidate;
        keep--;
      }
      return toks.slice(0, keep);
    };
    // `healing` false: the prompt as typed (the beam search's second hypothesis, see infillPlanned)
    if (healing && split < params.prefix.length) line = healed(line, tail);
    else if (healing) prefix = healed(prefix, params.prefix);
    // Repository context gives way first: the cursor's own windows matter more.
    const ctx = context.slice(Math.max(0, context.length - Math.max(0, room - prefix.length - line.length - suffix.length)));
    room -= ctx.length + line.length;
    if (prefix.length > room) prefix = prefix.slice(prefix.length - Math.max(0, room));
    suffix = suffix.slice(0, Math.max(0, room - prefix.length));
    // The beginning token LlamaCompletion puts before its input (DeepSeek-Coder, CodeLlama: add_bos_token): it is
    // part of what the sequence holds, so the prefill evaluates it too and the generation finds it there.
    const bos = this.completionBos();
    const head = bos === undefined ? [] : [bos];
    const tokens = psm ? [...head, ...ctx, pre!, ...prefix, suf!, ...suffix, mid, ...line] : [...head, ...ctx, suf!, ...suffix, pre!, ...prefix, ...(mid != null ? [mid] : [])];
    const sizes: Array<[PromptPart['name'], number]> = psm
      ? [['context', head.length + ctx.length], ['prefix', prefix.length + 1], ['suffix', suffix.length + 1], ['middle', 1 + line.length]]
      : [['context', head.length + ctx.length], ['suffix', suffix.length + 1], ['prefix', prefix.length + 1], ['middle', mid != null ? 1 : 0]];
    let end = 0;
    const parts = sizes.map(([name, n]) => ({ name, start: end, end: (end += n) }));
    return { tokens, heal, split, parts };
  }

  /** Where the middle starts in a psm prompt (see `psmMiddleStart`; the line above at a line's start for models over SMALL_MODEL_BYTES). */
  private middleStart(params: InfillParams): number {
    const previous = params.documentId === undefined ? undefined : this.middles.get(params.documentId);
    return psmMiddleStart(params.prefix, params.suffix, previous, this.info!.sizeBytes >= SMALL_MODEL_BYTES);
  }

  /** Remembers where a document's middle started, for its next request (middleStart). */
  private rememberMiddle(params: InfillParams, split: number): void {
    if (params.documentId === undefined) return;
    this.middles.delete(params.documentId);
    if (split < params.prefix.length || split === params.prefix.lastIndexOf('\n') + 1) this.middles.set(params.documentId, { head: params.prefix.slice(0, split), suffix: params.suffix });
    if (this.middles.size > 256) this.middles.delete(this.middles.keys().next().value!);
  }

  /**
   * The fill-in-the-middle prompt a request would evaluate (without repository context it was not given): token ids,
   * the same as text with the special tokens written out, and the healed tail. For tests and diagnostics: the template
   * a model gets is checked through the real tokenizer, not a metadata object.
   */
  infillPrompt(params: InfillParams): { tokens: number[]; text: string; heal: string } {
    if (!this.model || !this.info) throw new Error('no model loaded');
    const { tokens, heal } = this.fimPrompt(params);
    return { tokens: [...tokens], text: this.model.detokenize(tokens, true), heal };
  }

  /**
   * The FIM special tokens: a per-model override from the request, else node-llama-cpp's (from the GGUF), else the
   * detected family's template (a family node-llama-cpp does not know, e.g. Codestral's `[SUFFIX]`/`[PREFIX]`).
   */
  private fimTokens(params: InfillParams): { pre: Token | null; suf: Token | null; mid: Token | null; order: 'psm' | 'spm' } {
    const model = this.model!;
    const one = (text: string | null | undefined): Token | null => {
      if (!text) return null;
      const t = model.tokenize(text, true);
      return t.length === 1 ? t[0]! : null;
    };
    if (params.fim) {
      const o = { pre: one(params.fim.prefix), suf: one(params.fim.suffix), mid: one(params.fim.middle), order: params.fim.order };
      if (o.pre != null && o.suf != null) return o;
      this.logger.warn(`the FIM template from settings names tokens this model does not have (${params.fim.prefix}, ${params.fim.suffix}); using the model's own`);
    }
    const { prefix, suffix, middle } = model.tokens.infill;
    const order = this.info!.fimOrder ?? 'psm';
    if (prefix != null && suffix != null) return { pre: prefix, suf: suffix, mid: middle ?? null, order };
    const t = fimTemplate((this.info!.fimFamily ?? 'generic') as Parameters<typeof fimTemplate>[0]);
    return { pre: one(t.prefix), suf: one(t.suffix), mid: one(t.middle), order };
  }

  /**
   * The token LlamaCompletion prepends to its input (node-llama-cpp's rule, as llama.cpp's tokenizer: the vocabulary's
   * BOS where the model asks for it; never for RWKV or UGM vocabularies, always for WPM), else undefined.
   */
  private completionBos(): Token | undefined {
    const model = this.model!;
    const type = String(model.vocabularyType);
    if (type === 'rwkv' || type === 'ugm') return undefined;
    if (type === 'wpm' || model.tokens.shouldPrependBosToken) return model.tokens.bos ?? undefined;
    return undefined;
  }

  /**
   * What LlamaCompletion is given for a prompt the sequence holds (or is to hold): without the beginning token it
   * prepends itself, and a context shift size that keeps the whole prompt. Its default (a tenth of the context) cuts
   * a prompt longer than 90 % of the context from the front, so the generation found nothing of the prefill in the
   * sequence and evaluated the prompt a second time.
   */
  private completionInput(prompt: readonly Token[]): { input: Token[]; contextShiftSize: (sequence: LlamaContextSequence) => number } {
    const input = this.completionBos() === undefined ? [...prompt] : prompt.slice(1);
    const size = this.context!.contextSize;
    // Asked at the start (keep the whole prompt) and again when a generation fills the context (then a tenth goes,
    // node-llama-cpp's default).
    return { input, contextShiftSize: (sequence) => (sequence.nextTokenIndex >= size - 1 ? Math.max(1, Math.floor(size / 10)) : Math.max(1, size - prompt.length)) };
  }

  /** Every token's text, sorted, and the index of the first one not below `text` (built on first use per model). */
  private tokenTextsFrom(text: string): { texts: Array<{ text: string; token: Token }>; from: number } {
    const model = this.model!;
    if (!this.tokenTexts) {
      const all: Array<{ text: string; token: Token }> = [];
      for (const token of model.iterateAllTokens()) {
        const t = model.detokenize([token], false);
        if (t) all.push({ text: t, token });
      }
      all.sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
      this.tokenTexts = all;
    }
    const texts = this.tokenTexts;
    let lo = 0;
    let hi = texts.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (texts[m]!.text < text) lo = m + 1;
      else hi = m;
    }
    return { texts, from: lo };
  }

  /** Whether some token's text begins with `text`. */
  private someTokenStartsWith(text: string): boolean {
    const { texts, from } = this.tokenTextsFrom(text);
    return from < texts.length && texts[from]!.text.startsWith(text);
  }

  /** Tokens whose text begins with `text`. */
  private tokensStartingWith(text: string): Token[] {
    const { texts, from } = this.tokenTextsFrom(text);
    const out: Token[] = [];
    for (let i = from; i < texts.length && texts[i]!.text.startsWith(text); i++) out.push(texts[i]!.token);
    return out;
  }

  /** A bias that makes the next token one whose text begins with `heal` (greedy picks the likeliest of those). */
  private healBias(heal: string): TokenBias {
    const cached = this.healBiases.get(heal);
    if (cached) {
      // Least recently used out: re-inserted, it is the newest again (" " is needed after every typed space).
      this.healBiases.delete(heal);
      this.healBiases.set(heal, cached);
      return cached;
    }
    const model = this.model!;
    const bias = new this.mod!.TokenBias(model.tokenizer);
    const tokens = this.tokensStartingWith(heal);
    for (const token of tokens) bias.set(token, { logit: 100 });
    // Its typed arrays once, not on every sampling call (see tokenBiasArrays.ts).
    registerBiasArrays(bias, tokens, 100, (t) => model.isEogToken(t as Token));
    if (this.healBiases.size >= 256) this.healBiases.delete(this.healBiases.keys().next().value!);
    this.healBiases.set(heal, bias);
    return bias;
  }

  /**
   * Fill-in-the-middle generation. `onText` receives each piece of text as it is generated; `signal`
   * stops generation before the next token and returns what was generated so far.
   */
  async infill(params: InfillParams, signal: AbortSignal, onText: (text: string) => void, origin?: string): Promise<InfillResult> {
    if (!this.model || !this.info) throw new Error('no model loaded');
    if (!this.info.infillSupported) throw new Error(`model ${this.info.name} has no fill-in-the-middle tokens in its GGUF metadata; choose a code model with FIM support`);
    const started = performance.now();
    // Cancelled while it waited for its document's previous request: a newer keystroke's request follows, so this
    // one leaves everything as it is (the prompt being read on, the sequences) and answers at once.
    if (signal.aborted) return { text: '', tokensEvaluated: 0, tokensOut: 0, timeToFirstTokenMs: null, totalMs: 0, stopReason: 'cancelled' };
    const priority = params.priority ?? 'completion';
    const evalPriority = evaluationPriorityOf(priority, params.focused);
    const { tokens, heal, split, parts } = this.fimPrompt(params);
    const marks: Marks = { prompt: performance.now() - started };
    this.rememberMiddle(params, split);
    const focused = priority === 'completion' && params.focused !== false;
    let unread: { slot: Slot; documentId: string | undefined } | undefined;
    // Counted as active before the reader is stopped: a request that ends while this one waits for the reader's
    // step would otherwise see an idle backend and start another reader in the gap.
    this.active++;
    await this.stopReading();
    marks.reader = performance.now() - started;
    if (focused) this.focusedActive++;
    // Completions mark their window (the client connection; else the document) as typing: one window moving between
    // files is one typist. Other work (background) only reads whether windows type.
    const typing = priority === 'completion' ? this.pacer.begin(origin ?? params.documentId) : { key: this.pacer.keyFor(undefined), end: () => undefined };
    const step = () => (this.generating > 0 ? SHARED_PREFILL_CHUNK : this.pacer.step(typing.key, priority !== 'completion' || params.focused !== false));
    try {
      return await this.infillPlanned(params, signal, onText, started, evalPriority, tokens, heal, parts, step, (slot) => (unread = { slot, documentId: params.documentId }), marks);
    } finally {
      typing.end();
      if (focused && --this.focusedActive === 0) for (const wake of this.focusedWaiters.splice(0)) wake();
      this.active--;
      if (unread && priority === 'completion') this.readOn(unread.slot, tokens, unread.documentId, step);
    }
  }

  /**
   * Reads on the prompt of a completion that a keystroke or the time cap stopped during its prefill, in the
   * background, while no other request is in the backend. A typist's every key cancels the request of the key
   * before; on a file just opened (a ~1,000-token prompt takes ~10 s on a 1.5B model on two cores) each request
   * then stopped at a step boundary and the next one, which waited for that step, was itself cancelled before it
   * began: the prompt was read only in the typist's pauses, and the first suggestions in a file came late or never
   * (seen in bench:completion: the same 128 tokens held through a whole typed line). The next keystroke's prompt
   * differs from this one only in its tail, so what is read here is what that request reuses. Any request that
   * enters the backend stops the reader first and waits at most for its current step (`stopReading`), so a file
   * the user left never holds the engine for longer than one step.
   */
  private readOn(slot: Slot, tokens: readonly Token[], documentId: string | undefined, step: () => number): void {
    if (this.active > 0 || !this.slots.includes(slot)) return;
    const stop = new AbortController();
    const before = slot.sequence.tokenMeter.usedInputTokens;
    const t0 = performance.now();
    slot.busy = true;
    // Steps as the request's own (small while other windows type: see PrefillPacer), all but the last token.
    const done = this.prefill(slot.sequence, tokens, evaluationPriority.background, stop.signal, step, { largest: 0 }, undefined, 1)
      .then(
        (whole) => this.logger.debug(`read on ${documentId ?? 'a prompt'} while idle: ${slot.sequence.tokenMeter.usedInputTokens - before} tokens in ${(performance.now() - t0).toFixed(0)} ms${whole ? ', the whole prompt' : ', stopped by a request'}`),
        (err: unknown) => this.logger.debug(`read on ${documentId ?? 'a prompt'}: ${err instanceof Error ? err.message : String(err)}`),
      )
      .finally(() => {
        slot.busy = false;
        if (this.reader?.stop === stop) this.reader = undefined;
      });
    this.reader = { stop, done };
  }

  /** Stops reading on a prompt (see `readOn`); resolves once its current step is evaluated. */
  private async stopReading(): Promise<void> {
    const reader = this.reader;
    if (!reader) return;
    reader.stop.abort();
    await reader.done;
  }

  /**
   * Focused window first: llama.cpp's batch priority orders tokens within one batch, but a window without focus
   * that evaluates between the focused window's keystrokes (or whose prefill steps share its batches) still delays
   * it by a whole decode. So an unfocused completion waits, before each step it evaluates, while a focused one is in
   * flight, at most UNFOCUSED_MAX_WAIT_MS in all (`budget` carries what is left) and never past its own cancel.
   */
  private async focusedFirst(signal: AbortSignal, budget: { ms: number }): Promise<void> {
    while (this.focusedActive > 0 && budget.ms > 0 && !signal.aborted) {
      const t0 = performance.now();
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, budget.ms);
        signal.addEventListener('abort', done, { once: true });
        this.focusedWaiters.push(done);
      });
      budget.ms -= performance.now() - t0;
    }
  }

  private async infillPlanned(params: InfillParams, signal: AbortSignal, onText: (text: string) => void, started: number, evalPriority: 1 | 2 | 3 | 4 | 5, tokens: Token[], heal: string, parts: PromptPart[], step: () => number, unread: (slot: Slot) => void, marks: Marks): Promise<InfillResult> {
    const priority = params.priority ?? 'completion';
    const plan = await this.plan(priority, params.documentId, tokens, params.cacheReuse !== false);
    marks.plan = performance.now() - started;
    // Per request: what was reused of the prompt and where the held tokens first differ from it (a switch or a
    // restore that evaluates more than a keystroke's tokens shows here why).
    this.logger.debug(`infill ${params.documentId ?? '-'}: ${plan.source}, ${plan.reused} of ${tokens.length} prompt tokens reused (held ${plan.held}; first difference at ${promptPosition(parts, plan.reused)}), ${tokens.length - plan.reused} to evaluate, ${heal ? `heal ${JSON.stringify(heal)}` : 'no heal'}`);
    const slot = plan.slot;
    const sequence = slot.sequence;
    let firstTokenAt: number | null = null;
    let tokensOut = 0;
    let stopReason: StopReason = 'eos';
    const stops = params.stop ?? [];
    const limit = new GenerationLimit(signal, params.timeLimitMs);
    const tokensBefore = sequence.tokenMeter.usedInputTokens;
    const outputBefore = sequence.tokenMeter.usedOutputTokens;
    this.chooseRequestThreads();
    const predictionsBefore = LlamaCppBackend.predictions(sequence);
    const paced = { largest: 0 };
    const result = (text: string) => ({
      // llama.cpp's meter counts a token evaluated with logits as output: the prompt's last token is one of them.
      ...this.infillResult(text, sequence, tokensBefore - (sequence.tokenMeter.usedOutputTokens > outputBefore ? 1 : 0), tokensOut, firstTokenAt, started, stopReason),
      promptSource: plan.source,
      tokensReused: plan.reused,
      ...(paced.largest ? { prefillStepTokens: paced.largest } : {}),
      ...this.speedFields(sequence, predictionsBefore),
    });
    let text: string;
    let generating = false;
    let firstToken: (() => void) | undefined;
    try {
      // The prompt's head in steps that a cancel can stop; its last step (at most PREFILL_CHUNK tokens) is evaluated
      // with the first generated token, in one decode (a keystroke's few new tokens cost one decode, not two).
      const wait = priority === 'completion' && params.focused === false ? { ms: UNFOCUSED_MAX_WAIT_MS } : undefined;
      const yieldToFocused = wait ? () => this.focusedFirst(limit.signal, wait) : undefined;
      if (!(await this.prefill(sequence, tokens, evalPriority, limit.signal, step, paced, yieldToFocused))) {
        stopReason = limit.timedOut ? 'timeLimit' : 'cancelled';
        this.logger.debug(`infill ${params.documentId ?? ''}: ${stopReason} during prefill after ${sequence.tokenMeter.usedInputTokens - tokensBefore} of ${tokens.length - plan.reused} tokens`);
        unread(slot);
        return result('');
      }
      await yieldToFocused?.();
      marks.prefill = performance.now() - started;
      this.generating++;
      generating = true;
      // Other windows' small prefill steps hold back until this request has its first token (StepGate).
      firstToken = this.gate.awaitFirstToken();
      const options = {
        maxTokens: params.maxTokens,
        temperature: params.temperature ?? 0,
        seed: params.seed,
        signal: limit.signal,
        stopOnAbortSignal: true,
        evaluationPriority: evalPriority,
        customStopTriggers: stops.length ? stops : undefined,
        onTextChunk: (chunk: string) => {
          if (firstTokenAt === null) firstTokenAt = performance.now();
          onText(chunk);
        },
        onToken: () => {
          firstToken?.();
          tokensOut++;
        },
      };
      const width = this.beamWidth(params);
      if (width > 1) {
        // Two hypotheses when the healed text ends in punctuation (`(`, ` (`, `[`, `.`): the cursor is inside a token
        // (the healed prompt; its middle must then add text to the taken-back part), or where a token ends (the
        // prompt as typed); the likelier answer wins. A model trained with middles that start on pre-tokenizer pieces
        // (models/train) sees both: `foo(` before `bar` is the piece `(bar`, but ` (` before `x` is a piece of its
        // own. The healed prompt alone left it no good first token there: it wrote ` (` and ended the middle, an
        // empty answer on 39 of 50 argument tasks of bench:model (#18). After a letter, a digit or a space the
        // cursor is far more often inside a word, and the search of the prompt as typed lowered rest-of-line edit
        // similarity (31.7 % → 27.0 % on 100 tasks), so those keep the healed search alone.
        const bothWays = heal !== '' && /[^\p{L}\p{N}\s]$/u.test(heal);
        // The tokens the healed middle may begin with: for the beams and for the copy candidates.
        const firstAllowed = heal ? new Set<number>(this.tokensStartingWith(heal)) : undefined;
        const healedSearch = await beamSearch(this.beamModel(sequence, tokens, evalPriority), {
          width,
          maxTokens: params.maxTokens,
          stops,
          heal,
          firstAllowed,
          nonEmpty: bothWays,
          signal: limit.signal,
        });
        const asTyped = bothWays && !limit.signal.aborted
          ? await beamSearch(this.beamModel(sequence, this.fimPrompt(params, false).tokens, evalPriority), { width, maxTokens: params.maxTokens, stops, signal: limit.signal })
          : undefined;
        const searched = asTyped ? bestOf([healedSearch, asTyped]) : healedSearch;
        // Copy candidates (#18): the rest of the lines most like the cursor line, above and below, and the text after
        // the prompt's end where it occurred before; the model scores each as it scores its beams (under the healed
        // prompt, and the prompt as typed where that was searched), and the likeliest of all is the answer.
        // A candidate that is already the beams' answer needs no evaluation.
        // A line whose start is little like the cursor line's is not tried (`copyPrior` undefined).
        const copies = params.copyCandidates === false || limit.signal.aborted ? [] : copyCandidatesWithSources(params.prefix, params.suffix, { max: COPY_CANDIDATES_PROPOSED }).filter((c) => c.text !== searched.text).slice(0, COPY_CANDIDATES).flatMap((c) => {
          const prior = copyPrior(c);
          return prior === undefined ? [] : [{ ...c, prior }];
        });
        let scored = copies.length ? await this.scoreCopies(params, sequence, tokens, evalPriority, copies.map((c) => c.text), { heal, firstAllowed, bothWays, stops, signal: limit.signal }) : [];
        // Under the editor's confidence gate, a copy it would hide may not displace the beams' answer (on seed 7 the
        // copies that won on the prior alone were mostly below the default gate: shown answers 130 → 90, right ones
        // among them 25 → 24; with this floor 131 and 26).
        const floor = params.copyMinConfidence;
        if (floor !== undefined) scored = scored.filter((c) => c.logProb / Math.max(1, c.tokens.length) >= floor);
        const r = withCandidates(searched, scored, (c) => copies.find((x) => x.text === c.text)!.prior);
        if (COPY_DUMP && params.copyCandidates !== false && !limit.signal.aborted) await this.dumpCopies(COPY_DUMP, params, sequence, tokens, evalPriority, { heal, firstAllowed, bothWays, stops, searched, answer: r.text });
        tokensOut = r.tokens.length;
        if (r.text) options.onTextChunk(r.text);
        stopReason = limit.timedOut ? 'timeLimit' : r.stopReason;
        // Mean log-probability per token: comparable across lengths, what the editor's confidence gate reads.
        const mean = (lp: number, n: number) => lp / Math.max(1, n);
        return {
          ...result(r.text),
          confidence: r.tokens.length ? mean(r.logProb, r.tokens.length) : null,
          alternatives: r.alternatives.slice(0, 4).map((a) => ({ text: a.text, confidence: mean(a.logProb, a.tokens.length) })),
        };
      }
      let prompt = tokens;
      let lead = '';
      let leadStopped = false;
      if (heal) {
        // The first token alone, constrained to begin with the healed text; the rest continues from it.
        let first: Token | undefined;
        const fit = this.completionInput(prompt);
        const r = await slot.completion.generateCompletionWithMeta(fit.input, {
          ...options,
          contextShiftSize: fit.contextShiftSize,
          maxTokens: 1,
          customStopTriggers: undefined,
          tokenBias: this.healBias(heal),
          onTextChunk: undefined,
          onToken: (t: Token[]) => {
            firstToken?.();
            first ??= t[0];
          },
        });
        if (first !== undefined) {
          tokensOut++;
          prompt = [...prompt, first];
          lead = r.response.startsWith(heal) ? r.response.slice(heal.length) : '';
          const stopAt = Math.min(...stops.map((st) => lead.indexOf(st)).filter((i) => i >= 0));
          if (Number.isFinite(stopAt)) {
            lead = lead.slice(0, stopAt);
            leadStopped = true;
          }
          if (lead) options.onTextChunk(lead);
        }
      }
      // Tokens left after the healed first one. Without a healed token (no heal, or it produced none) a request for
      // one token still generates it: skipping it left the prompt's last step unevaluated and no token at all.
      const left = params.maxTokens === undefined ? undefined : params.maxTokens - (prompt.length > tokens.length ? 1 : 0);
      const rest = leadStopped || (left !== undefined && left <= 0) || limit.signal.aborted
        ? undefined
        : await (async () => {
          const fit = this.completionInput(prompt);
          return slot.completion.generateCompletionWithMeta(fit.input, { ...options, contextShiftSize: fit.contextShiftSize, maxTokens: left });
        })();
      // No second generation from the prompt as typed when the healed one gives nothing after punctuation (tried in
      // session 8 against empty answers after `foo(`): on benchDense it turned those into generations up to the cap
      // and took bench:completion's p50 from 0.029 to 0.052 of the naive client (goal 0.05), with fewer shown.
      const res = rest ?? { response: '', metadata: { stopReason: leadStopped ? 'customStopTrigger' : limit.signal.aborted ? 'abort' : 'maxTokens' } };
      if (limit.timedOut) stopReason = 'timeLimit';
      else if (limit.signal.aborted) stopReason = 'cancelled';
      else if (res.metadata.stopReason === 'maxTokens') stopReason = 'maxTokens';
      else if (res.metadata.stopReason === 'customStopTrigger') stopReason = 'stop';
      else stopReason = 'eos';
      text = lead + res.response;
    } finally {
      firstToken?.();
      if (generating) this.generating--;
      limit.dispose();
      slot.busy = false;
      this.logger.debug(`infill ${params.documentId ?? '-'} timing (ms since the request): ${Object.entries({ ...marks, 'first token': firstTokenAt === null ? undefined : firstTokenAt - started, end: performance.now() - started }).filter(([, v]) => v !== undefined).map(([k, v]) => `${k} ${v!.toFixed(0)}`).join(', ')}`);
    }
    return result(text);
  }

  /**
   * Evaluates `prompt` into `sequence` after the longest prefix it already holds, `chunk()` tokens at a time
   * (PREFILL_CHUNK, or SHARED_PREFILL_CHUNK while other windows type: see PrefillPacer), leaving the last step (at
   * most one step's tokens, at least the last token) to generation; false when `signal` aborted it between steps
   * (what was evaluated stays: a later request reuses it), or only the last `leave` tokens. `paced.largest`: the
   * most tokens evaluated in one step, the step left to generation included.
   */
  private async prefill(sequence: LlamaContextSequence, prompt: readonly Token[], priority: 1 | 2 | 3 | 4 | 5, signal: AbortSignal, chunk: () => number, paced: { largest: number }, beforeStep?: () => Promise<void>, leave?: number): Promise<boolean> {
    const common = Math.min(commonPrefix(sequence.contextTokens, prompt), prompt.length - 1);
    const lastStep = (from: number) => {
      paced.largest = Math.max(paced.largest, prompt.length - from);
      return !signal.aborted;
    };
    if (prompt.length - common <= (leave ?? chunk())) return lastStep(common);
    if (common < sequence.nextTokenIndex) await sequence.eraseContextTokenRanges([{ start: common, end: sequence.nextTokenIndex }]);
    let i = common;
    for (;;) {
      await beforeStep?.();
      if (signal.aborted) return false;
      // Chosen again before each step: a window that starts typing mid-prefill gets small steps from then on.
      const size = chunk();
      if (prompt.length - i <= (leave ?? size)) break;
      const step = leave === undefined ? size : Math.min(size, prompt.length - leave - i);
      const evaluate = () => sequence.evaluateWithoutGeneratingNewTokens(prompt.slice(i, i + step), { evaluationPriority: priority });
      // Small steps (other windows typing) take turns across windows, after their keystrokes (StepGate).
      if (step < PREFILL_CHUNK) {
        if (!(await this.gate.run(evaluate, signal))) return false;
      } else {
        await evaluate();
      }
      paced.largest = Math.max(paced.largest, step);
      i += step;
    }
    return lastStep(i);
  }

  /**
   * Picks the sequence for a request and what it starts from. Chat and background use the last sequence. A
   * completion gets its document's live sequence when free, else the least recently used free one (whose state
   * is saved to the prompt cache first when it held another document); then, when a cached state of this model
   * shares a longer prefix with the prompt than the sequence does, that state is loaded into it.
   */
  private async plan(priority: Priority, documentId: string | undefined, tokens: readonly Token[], reuse: boolean): Promise<PromptPlan> {
    const slot = this.slotFor(priority, documentId);
    slot.busy = true;
    try {
      const previous = slot.documentId;
      if (priority === 'completion') slot.documentId = documentId;
      const held = slot.sequence.contextTokens;
      const cache = this.cache;
      if (priority === 'completion' && cache && previous !== documentId && held.length >= MIN_CACHED_TOKENS && !cache.holds(this.modelKey, held)) {
        const started = performance.now();
        const entry = await cache.save(this.modelKey, previous, held, async (file) => (await slot.sequence.saveStateToFile(file)).fileSize);
        if (entry) this.logger.debug(`prompt cache: saved ${previous ?? 'a state'} (${held.length} tokens, ${(entry.bytes / 1e6).toFixed(1)} MB) in ${(performance.now() - started).toFixed(0)} ms; ${cache.size} entries, ${(cache.bytes / 1e6).toFixed(0)} of ${(cache.budgetBytes / 1e6).toFixed(0)} MB`);
      }
      if (!reuse) {
        await slot.sequence.clearHistory();
        return this.counted(priority, documentId, { slot, source: 'full', reused: 0, held: 0, reason: 'cache reuse off (benchmark)' }, tokens.length);
      }
      const live = commonPrefix(slot.sequence.contextTokens, tokens);
      const best = priority === 'completion' ? cache?.best(this.modelKey, tokens) : undefined;
      if (best && best.common >= live + MIN_RESTORE_GAIN) {
        const started = performance.now();
        try {
          await cache!.restore(best.entry, this.modelKey, (file) => slot.sequence.loadStateFromFile(file, { acceptRisk: true }));
          this.logger.debug(`prompt cache: restored ${best.entry.documentId ?? 'a state'} for ${documentId ?? 'a request'} (${best.common} of ${tokens.length} tokens shared) in ${(performance.now() - started).toFixed(0)} ms`);
          return this.counted(priority, documentId, { slot, source: 'restored', reused: best.common, held: best.entry.tokens.length }, tokens.length);
        } catch (err) {
          this.logger.warn(`prompt cache: restore failed (${err instanceof Error ? err.message : String(err)}); evaluating the prompt`);
          await slot.sequence.clearHistory();
          return this.counted(priority, documentId, { slot, source: 'full', reused: 0, held: 0, reason: 'restore failed' }, tokens.length);
        }
      }
      if (live * 2 >= tokens.length) return this.counted(priority, documentId, { slot, source: 'live', reused: live, held: slot.sequence.contextTokens.length }, tokens.length);
      const seenUnder = documentId === undefined ? undefined : this.seenDocuments.get(documentId);
      const reason =
        seenUnder === undefined
          ? 'new document, no cached state shares its prefix'
          : seenUnder !== this.modelKey
            ? 'model changed since the document was last evaluated'
            : previous !== documentId
              ? `evicted: its sequence went to another document${cache && cache.budgetBytes > 0 ? ' and no cached state shares its prefix' : ' (prompt cache off)'}`
              : live > 0 && live === slot.sequence.contextTokens.length
                ? `only its first ${live} of ${tokens.length} tokens were read before (a read stopped by a newer keystroke or the time cap, or much text added)`
                : 'the prompt changed before most of it (window moved or text edited near the top)';
      return this.counted(priority, documentId, { slot, source: 'full', reused: live, held: slot.sequence.contextTokens.length, reason }, tokens.length);
    } catch (err) {
      slot.busy = false;
      throw err;
    }
  }

  private counted(priority: Priority, documentId: string | undefined, plan: PromptPlan, promptTokens: number): PromptPlan {
    if (priority !== 'completion') return plan;
    this.counts[plan.source]++;
    if (documentId !== undefined) this.seenDocuments.set(documentId, this.modelKey);
    if (this.seenDocuments.size > 1000) this.seenDocuments.delete(this.seenDocuments.keys().next().value!);
    if (plan.source === 'full') this.logger.info(`full prefill of ${promptTokens - plan.reused} tokens for ${documentId ?? 'a request without a document'}: ${plan.reason}`);
    return plan;
  }

  private infillResult(text: string, sequence: LlamaContextSequence, tokensBefore: number, tokensOut: number, firstTokenAt: number | null, started: number, stopReason: StopReason): InfillResult {
    return {
      text,
      tokensEvaluated: Math.max(0, sequence.tokenMeter.usedInputTokens - tokensBefore),
      tokensOut,
      timeToFirstTokenMs: firstTokenAt === null ? null : firstTokenAt - started,
      totalMs: performance.now() - started,
      stopReason,
    };
  }

  /**
   * Beam width for a request: as asked, else 4 for a short completion (at most SEARCHED_MAX_TOKENS) from a small
   * model (under SMALL_MODEL_BYTES: a search of four beams costs it little and finds likelier lines than greedy)
   * and 1 (greedy, streamed) for everything else. Sampling never searches.
   */
  private beamWidth(params: InfillParams): number {
    if ((params.temperature ?? 0) > 0) return 1;
    if (params.beamWidth !== undefined) return params.beamWidth;
    return this.info!.sizeBytes < SMALL_MODEL_BYTES && params.maxTokens <= SEARCHED_MAX_TOKENS ? 4 : 1;
  }

  /**
   * Beam search over this slot's sequence: the sequence holds one evaluated path at a time; each expansion erases
   * the tokens after the common prefix with the path asked for and evaluates the rest (the prompt itself is reused
   * as in greedy generation, and beams visited in token order share most of their tokens).
   */
  private beamModel(sequence: LlamaContextSequence, prompt: readonly Token[], priority: 1 | 2 | 3 | 4 | 5): BeamModel {
    const model = this.model!;
    return {
      next: async (tokens, k, allowed) => {
        const target = [...prompt, ...(tokens as Token[])];
        const held = sequence.contextTokens;
        let common = 0;
        while (common < held.length && common < target.length && held[common] === target[common]) common++;
        if (common === target.length) common--; // evaluate the last token again: its distribution is the answer
        if (common < sequence.nextTokenIndex) await sequence.eraseContextTokenRanges([{ start: common, end: sequence.nextTokenIndex }]);
        const rest = target.slice(common);
        const last = rest.length - 1;
        const res = await sequence.controlledEvaluate(
          rest.map((t, i) => (i === last ? ([t, { generateNext: { probabilities: true, options: { temperature: 0 } } }] as const) : t)),
          { evaluationPriority: priority },
        );
        const probabilities = res[last]?.next?.probabilities;
        if (!probabilities) throw new Error('llama.cpp returned no next-token probabilities for the beam search');
        return topLogProbs(probabilities, k, allowed);
      },
      isEnd: (t) => model.isEogToken(t as Token) || model.isSpecialToken(t as Token),
      text: (t) => model.detokenize(t as Token[], false),
    };
  }

  /**
   * The model's scores of copy candidates (see `scoreCandidates`), in their order: under the healed prompt, and a
   * candidate that does not begin with a healed token under the prompt as typed where that was searched (`bothWays`).
   */
  private async scoreCopies(params: InfillParams, sequence: LlamaContextSequence, tokens: Token[], priority: 1 | 2 | 3 | 4 | 5, texts: string[], c: { heal: string; firstAllowed?: ReadonlySet<number>; bothWays: boolean; stops: string[]; signal?: AbortSignal }): Promise<Array<Scored & { asTyped: boolean }>> {
    const healed = await scoreCandidates(this.candidateModel(sequence, tokens, priority), texts, { heal: c.heal, firstAllowed: c.firstAllowed, stops: c.stops, signal: c.signal });
    const rest = texts.filter((t) => !healed.some((h) => h.text === t));
    const asTyped = rest.length && c.bothWays && !c.signal?.aborted ? await scoreCandidates(this.candidateModel(sequence, this.fimPrompt(params, false).tokens, priority), rest, { stops: c.stops, signal: c.signal }) : [];
    const all = [...healed.map((h) => ({ ...h, asTyped: false })), ...asTyped.map((h) => ({ ...h, asTyped: true }))];
    return texts.flatMap((t) => all.filter((a) => a.text === t));
  }

  /** HEARTH_ENGINE_COPY_DUMP (development): every copy candidate scored beside the beams' answer, one JSON line. */
  private async dumpCopies(file: string, params: InfillParams, sequence: LlamaContextSequence, tokens: Token[], priority: 1 | 2 | 3 | 4 | 5, c: { heal: string; firstAllowed?: ReadonlySet<number>; bothWays: boolean; stops: string[]; searched: BeamResult; answer: string }): Promise<void> {
    const proposed = copyCandidatesWithSources(params.prefix, params.suffix, { max: COPY_CANDIDATES_PROPOSED });
    const scored = await this.scoreCopies(params, sequence, tokens, priority, proposed.map((p) => p.text), c);
    const candidates = proposed.map((p) => {
      const x = scored.find((s) => s.text === p.text);
      return { ...p, logProb: x?.logProb ?? null, n: x?.tokens.length ?? 0, asTyped: x?.asTyped ?? false };
    });
    const s = c.searched;
    appendFileSync(file, JSON.stringify({
      documentId: params.documentId, prefixLength: params.prefix.length, prefixTail: params.prefix.slice(-40), heal: c.heal, bothWays: c.bothWays, answer: c.answer,
      beams: { text: s.text, logProb: Number.isFinite(s.logProb) ? s.logProb : null, n: s.tokens.length, stopReason: s.stopReason },
      alternatives: s.alternatives.map((a) => ({ text: a.text, logProb: a.logProb, n: a.tokens.length })),
      candidates,
    }) + '\n');
  }

  /**
   * Scoring copy candidates over this slot's sequence (see `scoreCandidates`): each candidate's tokens are evaluated
   * after the prompt (its last token again, for the first candidate token's probability) in one decode.
   */
  private candidateModel(sequence: LlamaContextSequence, prompt: readonly Token[], priority: 1 | 2 | 3 | 4 | 5): CandidateModel {
    const model = this.model!;
    return {
      tokenize: (text) => {
        const t = model.tokenize(text, false, 'trimLeadingSpace');
        return model.detokenize(t, false) === text ? t : undefined;
      },
      distributions: async (tokens) => {
        const target = [...prompt, ...(tokens as Token[])];
        const from = Math.min(commonPrefix(sequence.contextTokens, target), prompt.length - 1);
        if (from < sequence.nextTokenIndex) await sequence.eraseContextTokenRanges([{ start: from, end: sequence.nextTokenIndex }]);
        const first = prompt.length - 1 - from;
        const res = await sequence.controlledEvaluate(
          target.slice(from).map((t, i) => (i >= first ? ([t, { generateNext: { probabilities: true, options: { temperature: 0 } } }] as const) : t)),
          { evaluationPriority: priority },
        );
        return res.slice(first).map((r) => {
          const p = r?.next?.probabilities;
          if (!p) throw new Error('llama.cpp returned no next-token probabilities for a copy candidate');
          return p;
        });
      },
      endTokens: (stops) => {
        const key = JSON.stringify(stops);
        let set = this.endTokenSets.get(key);
        if (!set) {
          const s = new Set<number>(stops.flatMap((st) => this.tokensStartingWith(st)));
          for (const token of model.iterateAllTokens()) if (model.isEogToken(token) || model.isSpecialToken(token)) s.add(token);
          set = s;
          this.endTokenSets.set(key, set);
        }
        return set;
      },
    };
  }

  /**
   * The measured sweep of "Tune for This Machine" on the loaded model (see `tuner.ts`): throwaway contexts over
   * the same weights, so the loaded context and its KV caches stay as they are.
   */
  async tune(params: z.output<typeof TuneParams>, signal: AbortSignal, onProgress: (index: number, count: number) => void): Promise<TuneResult> {
    if (!this.model || !this.info) throw new Error('no model loaded: load a model before tuning');
    await this.stopReading();
    const started = performance.now();
    let settings = params.settings;
    if (!settings) {
      const profile = await detectHardwareProfile(undefined, { gpu: false });
      settings = tuneCandidates(profile.cpu.physicalCores, profile.cpu.logicalCores);
    }
    const promptTokens = Math.min(params.promptTokens, Math.max(16, (this.model.trainContextSize || 2048) - params.decodeTokens - 32));
    const tokens = sampleTokens(this.model, promptTokens);
    const model = this.model;
    // The sweep's contexts ask for their own thread counts: lift the per-request cap for them (requests set it again).
    if (this.llama) this.llama.maxThreads = Math.max(...settings.map((s) => s.threads));
    // Warm-up: page the weights in, so the first row does not pay for it.
    await measureLlamaSetting(model, { threads: settings[0]!.threads, batchSize: 64 }, tokens.slice(0, 16), 4, signal);
    const { rows, best } = await runSweep(settings, (s, sig) => measureLlamaSetting(model, s, tokens, params.decodeTokens, sig), { signal, onProgress });
    this.logger.info(`tuned ${this.info.name}: ${rows.map((r) => `${r.threads}t/b${r.batchSize}: prefill ${r.prefillTokensPerSecond.toFixed(0)}, decode ${r.decodeTokensPerSecond.toFixed(1)} tok/s`).join('; ')}; best ${best.threads} threads, batch ${best.batchSize}`);
    // Lookup speculation: on by default only where it measured faster here (by at least 5%).
    const lk = await measureLookup(this.mod!, model, best.threads, tokens.slice(0, Math.min(tokens.length, 384)), Math.max(32, params.decodeTokens), signal, LOOKUP_OPTIONS);
    const lookup = { ratio: lk.ratio, on: lk.ratio < 0.95 };
    this.logger.info(`tuned ${this.info.name}: lookup speculation ${lk.lookupMs.toFixed(0)} ms vs ${lk.plainMs.toFixed(0)} ms without (×${lk.ratio.toFixed(2)}): ${lookup.on ? 'on' : 'off'}`);
    const backends = await this.compareBackends(best, tokens, params.decodeTokens, rows.find((r) => r.threads === best.threads && r.batchSize === best.batchSize)?.decodeTokensPerSecond ?? 0, signal);
    return { modelPath: this.info.path, rows, best, promptTokens, decodeTokens: params.decodeTokens, totalMs: performance.now() - started, lookup, ...(backends ? { backends } : {}) };
  }

  /**
   * Where a native build exists: the other build (native if the prebuilt is loaded, or the reverse) loads the same
   * weights beside the loaded ones, decode is measured at the best setting, and the faster is kept (`choice.json`,
   * read by `auto` at the next load). The native addon links llama.cpp statically, so both builds live in one process.
   */
  private async compareBackends(best: { threads: number; batchSize: number }, tokens: Token[], decodeTokens: number, loadedDecode: number, signal: AbortSignal): Promise<TuneResult['backends']> {
    const found = findNativeBuild();
    if (!('dir' in found) || !this.mod || !this.info || !this.backendInfo) return undefined;
    const mod = this.mod;
    const quiet = { logLevel: mod.LlamaLogLevel.error, llamaLogger: () => undefined, logger: this.logger };
    let other: Llama | undefined;
    try {
      other = this.backendInfo.kind === 'native' ? await mod.getLlama({ gpu: false, build: 'never', logLevel: mod.LlamaLogLevel.error }) : await createNativeLlama(mod, found.dir, found.ready, quiet);
      const otherModel = await other.loadModel({ modelPath: this.info.path, gpuLayers: 0 });
      const loaded = await measureLlamaSetting(this.model!, best, tokens.slice(0, 32), decodeTokens, signal);
      const m = await measureLlamaSetting(otherModel, best, tokens.slice(0, 32), decodeTokens, signal);
      const loadedNow = Math.max(loaded.decodeTokensPerSecond, loadedDecode);
      const native = this.backendInfo.kind === 'native' ? loadedNow : m.decodeTokensPerSecond;
      const prebuilt = this.backendInfo.kind === 'native' ? m.decodeTokensPerSecond : loadedNow;
      const keep = native >= prebuilt ? 'native' : 'prebuilt';
      writeBackendChoice(found.dir, { keep, nativeTokensPerSecond: native, prebuiltTokensPerSecond: prebuilt, model: this.info.path, threads: best.threads, measuredAt: new Date().toISOString() });
      this.logger.info(`tuned ${this.info.name}: decode ${native.toFixed(1)} tok/s native build, ${prebuilt.toFixed(1)} prebuilt at ${best.threads} threads: keeping the ${keep === 'native' ? 'native build' : 'prebuilt'}`);
      return { native, prebuilt, keep };
    } catch (err) {
      this.logger.warn(`tuning: could not compare the native build with the prebuilt (${err instanceof Error ? err.message : String(err)})`);
      return undefined;
    } finally {
      await other?.dispose();
    }
  }

  /** A chat answer (see `llamaCppChat.ts`) on the chat slot's sequence, at chat priority. */
  async chat(params: z.output<typeof ChatParams>, signal: AbortSignal, onText: (text: string) => void): Promise<ChatResult> {
    if (!this.model || !this.info || !this.mod) throw new Error('no model loaded');
    this.active++; // before the reader is stopped, as in `infill`
    const { r, sequence, before } = await (async () => {
      await this.stopReading();
      const sequence = this.slotFor('chat', undefined).sequence;
      this.chooseRequestThreads();
      const before = LlamaCppBackend.predictions(sequence);
      return { r: await generateChat({ mod: this.mod!, model: this.model!, sequence }, params, signal, onText), sequence, before };
    })().finally(() => this.active--);
    const speed = this.speedFields(sequence, before);
    if (speed.lookupAccepted !== undefined) this.logger.debug(`chat: ${speed.threads} threads, lookup ${speed.lookupAccepted} accepted / ${speed.lookupRejected} rejected`);
    return { ...r, ...speed };
  }

  /**
   * The sequence for a request: chat and background share the last one; a completion gets the free sequence
   * already holding its document, else the free one holding the longest prefix of nothing (an empty one), else
   * the least recently used free one. The scheduler runs at most one job per completion sequence, so one is free.
   */
  private slotFor(priority: Priority, documentId: string | undefined): Slot {
    const shared = this.slots[this.slots.length - 1]!;
    let slot: Slot;
    if (priority !== 'completion') slot = shared;
    else {
      const free = this.slots.slice(0, this.completionSequences).filter((s) => !s.busy);
      if (free.length === 0) throw new Error('every completion sequence is busy (more concurrent completions than sequences)');
      slot =
        free.find((s) => documentId !== undefined && s.documentId === documentId) ??
        free.find((s) => s.sequence.nextTokenIndex === 0) ??
        free.reduce((a, b) => (a.lastUsed <= b.lastUsed ? a : b));
    }
    slot.lastUsed = performance.now();
    return slot;
  }

  async unload(): Promise<void> {
    await this.stopReading();
    for (const slot of this.slots) {
      slot.completion.dispose();
      slot.sequence.dispose();
    }
    this.slots = [];
    await this.context?.dispose();
    await this.model?.dispose();
    this.context = undefined;
    this.model = undefined;
    this.info = undefined;
    this.loadedKey = undefined;
    this.tokenTexts = undefined;
    this.healBiases.clear();
    this.endTokenSets.clear();
  }

  async dispose(): Promise<void> {
    this.load.stop();
    await this.unload();
    this.cache?.dispose();
    this.cache = undefined;
    await this.llama?.dispose();
    this.llama = undefined;
  }
}
