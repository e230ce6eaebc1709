/**
 * The engine's JSON-RPC protocol: one file that both the engine and its clients import (style rule 5).
 * Every message is parsed with these schemas on arrival, on both sides (style rule 6).
 * Framing: one JSON object per line (NDJSON) over the engine's stdin/stdout.
 */
import { z } from 'zod';

export const JSONRPC = '2.0';

/** Bumped on any incompatible change: a client that meets an engine of another version replaces it. */
export const PROTOCOL_VERSION = 2;

export const RequestMessage = z.object({
  jsonrpc: z.literal(JSONRPC),
  id: z.number().int().nonnegative(),
  method: z.string(),
  params: z.unknown().optional(),
});
export type RequestMessage = z.infer<typeof RequestMessage>;

export const RpcErrorBody = z.object({
  code: z.number().int(),
  message: z.string(),
  data: z.unknown().optional(),
});
export type RpcErrorBody = z.infer<typeof RpcErrorBody>;

export const ResponseMessage = z.union([
  z.object({ jsonrpc: z.literal(JSONRPC), id: z.number().int().nonnegative(), result: z.unknown() }),
  z.object({ jsonrpc: z.literal(JSONRPC), id: z.number().int().nonnegative().nullable(), error: RpcErrorBody }),
]);
export type ResponseMessage = z.infer<typeof ResponseMessage>;

export const NotificationMessage = z.object({
  jsonrpc: z.literal(JSONRPC),
  method: z.string(),
  params: z.unknown().optional(),
});
export type NotificationMessage = z.infer<typeof NotificationMessage>;

/** Error codes: JSON-RPC's own, plus Hearth's in the server range. */
export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  NoModel: -32001,
  ModelLoadFailed: -32002,
  Cancelled: -32800,
} as const;

// ---- methods -------------------------------------------------------------------------------------------

export const LoadModelParams = z.object({
  path: z.string().min(1),
  contextSize: z.number().int().min(128).max(1 << 20).optional(),
  threads: z.number().int().min(0).max(1024).optional(),
  gpuLayers: z.union([z.number().int().min(0), z.literal('auto')]).optional(),
  /** Prompt tokens evaluated per llama.cpp batch (its n_batch); what "Tune for This Machine" picks. */
  batchSize: z.number().int().min(8).max(8192).optional(),
  /**
   * Context sequences: one per recently edited document for completions, plus one for chat and background work.
   * Unset: sized from free memory at load (up to 4 completion sequences + 1, as llama-server's 4 slots).
   */
  sequences: z.number().int().min(2).max(16).optional(),
  /**
   * Host-memory prompt cache budget in bytes: sequence states saved when a live sequence is given to another
   * document, restored when a request shares a longer prefix with one than with any live sequence. Unset: a quarter
   * of free RAM at load, at most 8 GiB; 0: off.
   */
  promptCacheBytes: z.number().int().min(0).optional(),
  /** Overrides the model's fill-in-the-middle order (`hearth.fim.order` in the GGUF; see `ModelInfo.fimOrder`). */
  fimOrder: z.enum(['psm', 'spm']).optional(),
  /**
   * Which llama.cpp build runs the model: `auto` (the native build for this machine when there is one and the tuner
   * did not measure the prebuilt faster), `native`, `prebuilt`. See "Hearth: Build Engine for This Machine".
   */
  engineBackend: z.enum(['auto', 'native', 'prebuilt']).optional(),
  /**
   * Prompt-lookup speculation for greedy generation (completions and chat edits): draft tokens copied from the
   * prompt, verified in one batch. Same output as without; faster where the output repeats the input. Unset: off.
   */
  lookup: z.boolean().optional(),
  /** KV-cache element type (the recommender's choice); unset: f16. */
  kvCacheType: z.enum(['f16', 'q8_0', 'q4_0']).optional(),
  /**
   * Mixture-of-experts models on a GPU too small for them: this many layers' experts stay in RAM (llama.cpp's
   * `--n-cpu-moe`, the recommender's `moeExpertLayersOnCpu`); 'all': every layer's.
   */
  moeExpertLayersOnCpu: z.union([z.number().int().min(0), z.literal('all')]).optional(),
});
export type LoadModelParams = z.infer<typeof LoadModelParams>;

export const FimTokens = z.object({
  prefix: z.string().nullable(),
  suffix: z.string().nullable(),
  middle: z.string().nullable(),
});

export const ModelInfo = z.object({
  path: z.string(),
  name: z.string(),
  architecture: z.string(),
  sizeBytes: z.number().int().nonnegative(),
  trainContextSize: z.number().int().nonnegative(),
  contextSize: z.number().int().nonnegative(),
  threads: z.number().int().nonnegative(),
  /** null where the backend has no batch setting (OpenVINO). */
  batchSize: z.number().int().nonnegative().nullable().optional(),
  expertCount: z.number().int().nonnegative().nullable(),
  expertUsedCount: z.number().int().nonnegative().nullable(),
  fim: FimTokens,
  infillSupported: z.boolean(),
  /**
   * Order of the fill-in-the-middle prompt: prefix-suffix-middle (most code models) or suffix-prefix-middle
   * (llama.cpp's `--spm-infill`), read from the GGUF key `hearth.fim.order`. Absent: `psm`.
   */
  fimOrder: z.enum(['psm', 'spm']).optional(),
  /** The FIM family detected from the GGUF's tokenizer and names (common/completion/fimTemplates), when known. */
  fimFamily: z.string().max(40).optional(),
  loadMs: z.number().nonnegative(),
});
export type ModelInfo = z.infer<typeof ModelInfo>;

export const Priority = z.enum(['completion', 'chat', 'background']);
export type Priority = z.infer<typeof Priority>;

export const InfillParams = z.object({
  /** Completions for one document share a context sequence, so an edit re-evaluates only the changed tail. */
  documentId: z.string().max(2048).optional(),
  priority: Priority.default('completion'),
  /** Reuse the longest common token prefix already evaluated for this document (off only in benchmarks). */
  cacheReuse: z.boolean().default(true),
  prefix: z.string(),
  suffix: z.string(),
  maxTokens: z.number().int().min(1).max(4096),
  temperature: z.number().min(0).max(2).default(0),
  seed: z.number().int().optional(),
  /**
   * Beams searched at temperature 0 (1: greedy). Unset: the engine chooses (4 for completions of at most 64 tokens from small models, else 1). The search
   * returns the whole answer at once (no streaming) and costs about `beamWidth` times the evaluations of greedy.
   */
  beamWidth: z.number().int().min(1).max(8).optional(),
  /**
   * With a beam search: also score the prompt's copy candidates (the rest of the lines most like the cursor line,
   * prompt lookup; src/common/completion/copyCandidates.ts) and answer the likeliest of beams and copies. Default
   * on; off for comparisons (bench:model).
   */
  copyCandidates: z.boolean().optional(),
  /**
   * A copy candidate replaces the beams' answer only when its mean token log-probability (the confidence the result
   * reports) is at least this: the editor passes its confidence gate, so a copy it would hide never displaces an
   * answer it would show. Unset: no floor (bench:model, which shows every answer).
   */
  copyMinConfidence: z.number().max(0).optional(),
  /** Generation stops when any of these strings appears in the output (the stop string is not returned). */
  stop: z.array(z.string().min(1)).max(16).optional(),
  /** Upper bound on generation time; the engine returns what it has when it passes. */
  timeLimitMs: z.number().int().positive().optional(),
  /**
   * Whether the request comes from the focused window (unset: true). When several windows' completions are
   * evaluated in one llama.cpp batch, the focused window's tokens go first (evaluation priority).
   */
  focused: z.boolean().optional(),
  /**
   * Repository context placed before the FIM prompt, special tokens included (e.g. Qwen2.5-Coder's
   * `<|repo_name|>…<|file_sep|>path\n…`); it comes first so it stays in the reused tokens while the user types.
   */
  context: z.string().max(65536).optional(),
  /**
   * Where the cursor's line goes in a prefix-suffix-middle prompt. `middle` (the default): the prefix ends at the
   * line's start and the line's text before the cursor follows the middle token, as if the model had written it (what
   * llama.cpp's /infill `prompt` field does). Typing on a line then changes only the prompt's last tokens, so a
   * keystroke evaluates a token or two instead of the whole suffix again. `prefix`: the classic layout (the whole
   * prefix before the suffix). Suffix-first (spm) prompts end with the prefix anyway and ignore this.
   */
  cursorLine: z.enum(['middle', 'prefix']).optional(),
  /** FIM special-token texts overriding the model's own (a per-model template from settings). */
  fim: z.object({ prefix: z.string().min(1).max(64), suffix: z.string().min(1).max(64), middle: z.string().min(1).max(64).nullable(), order: z.enum(['psm', 'spm']) }).optional(),
  /**
   * Whether the client wants the text streamed (`infill/text` notifications) as it is generated; unset: true (older
   * clients). The client sends false when nobody listens: a notification per token wakes the client's process,
   * which on a two-core machine takes a core from llama.cpp's threads mid-decode.
   */
  stream: z.boolean().optional(),
});
export type InfillParams = z.input<typeof InfillParams>;

export const StopReason = z.enum(['eos', 'maxTokens', 'stop', 'cancelled', 'timeLimit']);
export type StopReason = z.infer<typeof StopReason>;

/** How a request ran: the threads chosen for it against the load, and the lookup speculation's figures. */
export const SpeedFields = {
  /** llama.cpp threads this request's evaluations used (chosen against other processes' load). */
  threads: z.number().int().positive().optional(),
  /** Lookup speculation: draft tokens verified and accepted / rejected (absent when speculation was off). */
  lookupAccepted: z.number().int().nonnegative().optional(),
  lookupRejected: z.number().int().nonnegative().optional(),
};

export const InfillResult = z.object({
  text: z.string(),
  /** Prompt tokens actually evaluated: with cache reuse, only those after the common prefix. */
  tokensEvaluated: z.number().int().nonnegative(),
  tokensOut: z.number().int().nonnegative(),
  timeToFirstTokenMs: z.number().nonnegative().nullable(),
  totalMs: z.number().nonnegative(),
  stopReason: StopReason,
  /**
   * Where the prompt's evaluated prefix came from: `live` (a live sequence already held it), `restored` (a state
   * from the host-memory prompt cache), `full` (a full prefill: nothing useful was held).
   */
  promptSource: z.enum(['live', 'restored', 'full']).optional(),
  /** Prompt tokens reused from the live sequence or the restored state. */
  tokensReused: z.number().int().nonnegative().optional(),
  /**
   * The most prompt tokens this request evaluated in one step (llama.cpp batch): large while a window types alone,
   * small while other windows type, so their keystrokes never wait behind a long step.
   */
  prefillStepTokens: z.number().int().nonnegative().optional(),
  /**
   * Mean log-probability per generated token of the returned text (≤ 0; nearer 0 is surer), where the backend
   * knows it (the beam search does); the completion gate hides suggestions below a threshold. Absent: unknown.
   */
  confidence: z.number().nullable().optional(),
  /** Other finished candidates of the beam search, likeliest first, each differing from `text` (optional). */
  alternatives: z.array(z.object({ text: z.string(), confidence: z.number() })).max(8).optional(),
  ...SpeedFields,
});
export type InfillResult = z.infer<typeof InfillResult>;

export const CancelParams = z.object({ id: z.number().int().nonnegative() });

export const EngineState = z.enum(['idle', 'loading', 'ready', 'busy']);
export type EngineState = z.infer<typeof EngineState>;

/** The completion sequences and the host-memory prompt cache behind them (llama.cpp backend only). */
export const PromptCacheStatus = z.object({
  /** Completion sequences in the context (plus one for chat and background work). */
  liveSequences: z.number().int().nonnegative(),
  /** Those holding a document's prompt now. */
  liveDocuments: z.number().int().nonnegative(),
  /** Saved sequence states in host memory. */
  entries: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  budgetBytes: z.number().int().nonnegative(),
  /** Completion requests since load, by where their prompt came from. */
  liveHits: z.number().int().nonnegative(),
  restores: z.number().int().nonnegative(),
  fullPrefills: z.number().int().nonnegative(),
  /** (live hits + restores) ÷ requests; null before the first request. */
  hitRate: z.number().min(0).max(1).nullable(),
  /** Where the states are kept (a RAM-backed folder). */
  dir: z.string().nullable(),
});
export type PromptCacheStatus = z.infer<typeof PromptCacheStatus>;

export const StatusResult = z.object({
  pid: z.number().int(),
  state: EngineState,
  backend: z.string(),
  model: ModelInfo.nullable(),
  uptimeMs: z.number().nonnegative(),
  rssBytes: z.number().int().nonnegative(),
  clients: z.number().int().nonnegative(),
  /** The names connected clients gave in `hello` (e.g. "VS Code window (extension host pid 123)"). */
  clientNames: z.array(z.string()).optional(),
  promptCache: PromptCacheStatus.optional(),
  /** The llama.cpp build loaded: the native build for this machine or node-llama-cpp's prebuilt, with its flags. */
  engineBackend: z.object({ kind: z.enum(['native', 'prebuilt']), flags: z.string(), note: z.string().optional(), waits: z.string().optional() }).optional(),
  /** Load-aware threads: the count the last request used, the ceiling, and other processes' load (cores). */
  threads: z.object({ last: z.number().int().nonnegative(), ceiling: z.number().int().nonnegative(), othersBusy: z.number().nonnegative() }).optional(),
  /** Lookup speculation on the loaded model, and its acceptance since load (null before any draft). */
  lookup: z.object({ enabled: z.boolean(), acceptance: z.number().min(0).max(1).nullable() }).optional(),
  protocolVersion: z.number().int(),
});
export type StatusResult = z.infer<typeof StatusResult>;

export const EmptyParams = z.object({}).strict().optional();

export const HelloParams = z.object({ token: z.string().min(16).max(256), client: z.string().max(200), protocolVersion: z.number().int() });
/** `buildId` names the engine bundle's build: a client of another build replaces the engine. */
export const HelloResult = z.object({ pid: z.number().int(), protocolVersion: z.number().int(), buildId: z.string() });

/** One setting the tuner measures. */
export const TuneSetting = z.object({
  threads: z.number().int().min(1).max(1024),
  batchSize: z.number().int().min(8).max(8192),
});
export type TuneSetting = z.infer<typeof TuneSetting>;

export const TuneParams = z.object({
  /** Settings to measure; the engine picks 2–4 around the physical core count when absent. */
  settings: z.array(TuneSetting).min(1).max(8).optional(),
  /** Prompt tokens evaluated for the prefill figure. */
  promptTokens: z.number().int().min(16).max(4096).default(512),
  /** Tokens generated for the decode figure. */
  decodeTokens: z.number().int().min(4).max(512).default(32),
});
export type TuneParams = z.input<typeof TuneParams>;

export const TuneRow = TuneSetting.extend({
  prefillTokensPerSecond: z.number().nonnegative(),
  decodeTokensPerSecond: z.number().nonnegative(),
  /** Estimated time of a typical completion at this setting (what the best row minimises). */
  completionMs: z.number().nonnegative(),
});
export type TuneRow = z.infer<typeof TuneRow>;

export const TuneResult = z.object({
  modelPath: z.string(),
  rows: z.array(TuneRow),
  best: TuneSetting,
  promptTokens: z.number().int(),
  decodeTokens: z.number().int(),
  totalMs: z.number().nonnegative(),
  /** Lookup speculation measured on a prompt that repeats itself: generation time with ÷ without, and the verdict. */
  lookup: z.object({ ratio: z.number().nonnegative(), on: z.boolean() }).optional(),
  /** Where a native build exists: decode tok/s of both builds at the best setting, and the one kept. */
  backends: z.object({ native: z.number().nonnegative(), prebuilt: z.number().nonnegative(), keep: z.enum(['native', 'prebuilt']) }).optional(),
});
export type TuneResult = z.infer<typeof TuneResult>;

/** `tune/progress` notification: setting `index` of `count` is being measured for request `id`. */
export const TuneProgressNotification = z.object({ id: z.number().int().nonnegative(), index: z.number().int(), count: z.number().int() });

export const ChatTurn = z.object({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string().max(1_000_000),
});
export type ChatTurn = z.infer<typeof ChatTurn>;

/**
 * A chat answer from the loaded model, formatted with the model's own chat template (from its GGUF, through
 * node-llama-cpp's chat wrappers). Runs in the scheduler's chat lane: below inline completions.
 */
export const ChatParams = z.object({
  /** The conversation so far, oldest first; the last turn is the user's. */
  messages: z.array(ChatTurn).min(1).max(500),
  maxTokens: z.number().int().min(1).max(8192).default(1024),
  temperature: z.number().min(0).max(2).default(0.2),
  seed: z.number().int().optional(),
  timeLimitMs: z.number().int().positive().optional(),
});
export type ChatParams = z.input<typeof ChatParams>;

export const ChatResult = z.object({
  text: z.string(),
  /** Prompt tokens the answer was conditioned on (the whole templated conversation). */
  tokensIn: z.number().int().nonnegative(),
  tokensOut: z.number().int().nonnegative(),
  timeToFirstTokenMs: z.number().nonnegative().nullable(),
  totalMs: z.number().nonnegative(),
  stopReason: StopReason,
  /** The chat wrapper node-llama-cpp resolved from the model (e.g. `ChatML`). */
  chatTemplate: z.string(),
  ...SpeedFields,
});
export type ChatResult = z.infer<typeof ChatResult>;

/** `chat/text` notification: streamed answer text for request `id`. */
export const ChatTextNotification = z.object({ id: z.number().int().nonnegative(), text: z.string() });

/** Method table: params and result schema for each request the engine answers. */
export const EngineMethods = {
  hello: { params: HelloParams, result: HelloResult },
  loadModel: { params: LoadModelParams, result: ModelInfo },
  infill: { params: InfillParams, result: InfillResult },
  chat: { params: ChatParams, result: ChatResult },
  cancel: { params: CancelParams, result: z.object({ cancelled: z.boolean() }) },
  status: { params: EmptyParams, result: StatusResult },
  tune: { params: TuneParams, result: TuneResult },
  shutdown: { params: EmptyParams, result: z.object({ ok: z.literal(true) }) },
} as const;
export type EngineMethod = keyof typeof EngineMethods;
export type MethodParams<M extends EngineMethod> = z.input<(typeof EngineMethods)[M]['params']>;
export type MethodResult<M extends EngineMethod> = z.infer<(typeof EngineMethods)[M]['result']>;

/** Notifications. `infill/text` streams generated text for request `id`; `log` carries engine log lines. */
export const InfillTextNotification = z.object({ id: z.number().int().nonnegative(), text: z.string() });
export const LogNotification = z.object({
  level: z.enum(['trace', 'debug', 'info', 'warn', 'error']),
  message: z.string(),
});
