/**
 * The OpenVINO backend: runs an LLM exported by optimum-intel (`optimum-cli export openvino`) as an OpenVINO IR
 * directory (`openvino_model.xml`/`.bin` with a stateful KV cache, `config.json`, and a `tokenizer.json`) on CPU,
 * GPU or NPU through `openvino-node`. It is chosen instead of llama.cpp when the model path is such a directory
 * ({@link isOpenVinoModelDir}).
 *
 * `openvino-node` is an optional dependency: its install script downloads the runtime and fails offline, and
 * npm then leaves the package out. So it is imported lazily, and its absence is reported in one line
 * ({@link OPENVINO_ABSENT_MESSAGE}) after which the engine uses llama.cpp.
 *
 * The stateful model keeps its KV cache inside the infer request, and openvino-node exposes no call to reset or
 * trim that state, so every generation uses a fresh infer request; prefix reuse across keystrokes is the
 * llama.cpp backend's job for now.
 */
import { seededRandom } from '../../../common/random';
import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { KNOWN_FIM_TOKENS } from '../../../common/models/modelManifest';
import { errorMessage, type Logger } from '../../../common/logger';
import type { InfillParams, InfillResult, LoadModelParams, ModelInfo, StopReason } from '../../../common/protocol/engineProtocol';
import { chooseThreads } from '../threads';

/** The one line the engine logs when it cannot use OpenVINO. */
export const OPENVINO_ABSENT_MESSAGE =
  'OpenVINO runtime not available (openvino-node is not installed or its runtime failed to download): using llama.cpp';

// ---- the slice of openvino-node's API this backend uses ----------------------------------------------
// Declared here rather than imported so the project type-checks where the optional package is absent.

interface OvTensor {
  getData(): ArrayLike<number | bigint>;
  getShape(): number[];
}
interface OvPort {
  anyName: string;
}
interface OvInferRequest {
  inferAsync(inputs: Record<string, OvTensor>): Promise<Record<string, OvTensor>>;
}
interface OvCompiledModel {
  inputs: OvPort[];
  outputs: OvPort[];
  createInferRequest(): OvInferRequest;
}
interface OvModel {
  inputs: OvPort[];
}
interface OvCore {
  readModel(xmlPath: string, binPath?: string): Promise<OvModel>;
  compileModel(model: OvModel, device: string, config?: Record<string, string | number | boolean>): Promise<OvCompiledModel>;
  getAvailableDevices(): string[];
}
export interface OvAddon {
  Core: new () => OvCore;
  Tensor: new (type: string, shape: number[], data: BigInt64Array | Int32Array | Float32Array) => OvTensor;
}

export type OpenVinoLoad = { ok: true; addon: OvAddon } | { ok: false; message: string; cause: string };

// A specifier in a variable: TypeScript does not resolve it (the package may be absent) and esbuild leaves
// the import for Node to resolve at run time.
const OPENVINO_PACKAGE = 'openvino-node';
let loading: Promise<OpenVinoLoad> | undefined;

/**
 * Imports openvino-node on first use and remembers the outcome. `importer` replaces the import in tests.
 * Never throws: absence is `{ ok: false, message: OPENVINO_ABSENT_MESSAGE }`.
 */
export function loadOpenVino(importer?: () => Promise<unknown>): Promise<OpenVinoLoad> {
  const run = async (): Promise<OpenVinoLoad> => {
    try {
      const mod = (await (importer ?? (() => import(OPENVINO_PACKAGE)))()) as { addon?: OvAddon; default?: { addon?: OvAddon } };
      const addon = mod.addon ?? mod.default?.addon;
      if (!addon?.Core) throw new Error('openvino-node loaded but has no addon.Core');
      return { ok: true, addon };
    } catch (err) {
      return { ok: false, message: OPENVINO_ABSENT_MESSAGE, cause: errorMessage(err).split('\n')[0]! };
    }
  };
  if (importer) return run();
  loading ??= run();
  return loading;
}

/** Files optimum-intel writes for a text-generation model that this backend needs. */
const MODEL_XML = 'openvino_model.xml';
const MODEL_BIN = 'openvino_model.bin';

/**
 * Whether `path` is an OpenVINO IR model directory this backend can load: `openvino_model.xml` and `.bin`, and
 * a tokenizer (`tokenizer.json`, or optimum-intel's `openvino_tokenizer.xml` and `openvino_detokenizer.xml`).
 */
export async function isOpenVinoModelDir(path: string): Promise<boolean> {
  const isFile = (p: string) => stat(p).then((s) => s.isFile(), () => false);
  const dir = await stat(path).then((s) => s.isDirectory(), () => false);
  if (!dir) return false;
  const [xml, bin, tokJson, ovTok, ovDetok] = await Promise.all(
    [MODEL_XML, MODEL_BIN, 'tokenizer.json', 'openvino_tokenizer.xml', 'openvino_detokenizer.xml'].map((f) => isFile(join(path, f))),
  );
  return xml! && bin! && (tokJson! || (ovTok! && ovDetok!));
}

// ---- sampling ----------------------------------------------------------------------------------------

/** Seeded, so a seeded sampled completion repeats exactly. */
const prng = seededRandom;

export interface SamplingOptions {
  temperature: number;
  topK?: number;
  topP?: number;
  random?: () => number;
}

/** Greedy (argmax) at temperature 0; otherwise temperature, top-k 40 and top-p 0.95 sampling. */
export function sampleToken(logits: ArrayLike<number>, opts: SamplingOptions): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  if (opts.temperature <= 0) return best;
  const k = Math.min(opts.topK ?? 40, logits.length);
  const top: { id: number; logit: number }[] = [];
  for (let i = 0; i < logits.length; i++) {
    const l = logits[i]!;
    if (top.length < k) {
      top.push({ id: i, logit: l });
      if (top.length === k) top.sort((a, b) => b.logit - a.logit);
    } else if (l > top[k - 1]!.logit) {
      top[k - 1] = { id: i, logit: l };
      for (let j = k - 1; j > 0 && top[j]!.logit > top[j - 1]!.logit; j--) [top[j], top[j - 1]] = [top[j - 1]!, top[j]!];
    }
  }
  top.sort((a, b) => b.logit - a.logit);
  const max = top[0]!.logit;
  const probs = top.map((t) => Math.exp((t.logit - max) / opts.temperature));
  const sum = probs.reduce((a, b) => a + b, 0);
  let kept = 0;
  let cum = 0;
  for (const p of probs) {
    cum += p / sum;
    kept++;
    if (cum >= (opts.topP ?? 0.95)) break;
  }
  const keptSum = probs.slice(0, kept).reduce((a, b) => a + b, 0);
  let r = (opts.random ?? Math.random)() * keptSum;
  for (let i = 0; i < kept; i++) {
    r -= probs[i]!;
    if (r <= 0) return top[i]!.id;
  }
  return top[kept - 1]!.id;
}

// ---- the backend -------------------------------------------------------------------------------------

interface LoadedModel {
  dir: string;
  compiled: OvCompiledModel;
  tokenizer: BpeTokenizer;
  inputNames: Set<string>;
  logitsName: string;
  stopIds: Set<number>;
  fim: { prefix: string; suffix: string; middle: string } | null;
  info: ModelInfo;
}

export interface OpenVinoBackendOptions {
  /** CPU (default), GPU, NPU or AUTO; `HEARTH_OPENVINO_DEVICE` overrides the default. */
  device?: string;
  importer?: () => Promise<unknown>;
}

export class OpenVinoBackend {
  readonly name = 'openvino';
  private loaded: LoadedModel | undefined;
  private loadedKey: string | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly options: OpenVinoBackendOptions = {},
  ) {}

  get modelInfo(): ModelInfo | undefined {
    return this.loaded?.info;
  }

  isLoaded(params: LoadModelParams): boolean {
    return this.loaded !== undefined && this.loadedKey === JSON.stringify([params.path, params.contextSize, params.threads]);
  }

  /**
   * Whether this backend can run now: the runtime loads. When it cannot, logs {@link OPENVINO_ABSENT_MESSAGE}
   * once, and the caller uses llama.cpp.
   */
  async available(): Promise<boolean> {
    const r = await loadOpenVino(this.options.importer);
    if (!r.ok) this.logger.warn(`${r.message} [${r.cause}]`);
    return r.ok;
  }

  async loadModel(params: LoadModelParams): Promise<ModelInfo> {
    const key = JSON.stringify([params.path, params.contextSize, params.threads]);
    if (this.loaded && this.loadedKey === key) return this.loaded.info;
    const ov = await loadOpenVino(this.options.importer);
    if (!ov.ok) throw new Error(ov.message);
    const dir = params.path;
    if (!(await isOpenVinoModelDir(dir))) {
      throw new Error(`${dir} is not an OpenVINO model directory: it needs ${MODEL_XML}, ${MODEL_BIN} and tokenizer.json (export one with \`optimum-cli export openvino\`)`);
    }
    const started = performance.now();
    const tokenizerPath = join(dir, 'tokenizer.json');
    let tokenizer: BpeTokenizer;
    try {
      tokenizer = BpeTokenizer.fromJson(await readFile(tokenizerPath, 'utf8'));
    } catch (err) {
      throw new Error(`Could not read ${tokenizerPath} (${errorMessage(err)}). This backend needs the tokenizer.json that optimum-intel copies next to the model; the openvino_tokenizer IRs alone need the openvino-tokenizers extension, which openvino-node does not ship.`);
    }
    const config = await readJson(join(dir, 'config.json'));
    const generation = await readJson(join(dir, 'generation_config.json'));
    const threads = params.threads && params.threads > 0 ? params.threads : chooseThreads();
    const device = this.options.device ?? process.env.HEARTH_OPENVINO_DEVICE ?? 'CPU';
    const core = new ov.addon.Core();
    const model = await core.readModel(join(dir, MODEL_XML), join(dir, MODEL_BIN));
    const compileConfig: Record<string, string | number | boolean> = { PERFORMANCE_HINT: 'LATENCY' };
    if (device === 'CPU') compileConfig.INFERENCE_NUM_THREADS = threads;
    let compiled: OvCompiledModel;
    try {
      compiled = await core.compileModel(model, device, compileConfig);
    } catch (err) {
      throw new Error(`OpenVINO could not compile ${dir} for ${device} (${errorMessage(err)}); available devices: ${core.getAvailableDevices().join(', ') || 'none'}`);
    }
    const inputNames = new Set(compiled.inputs.map((p) => p.anyName));
    if (!inputNames.has('input_ids')) throw new Error(`${dir}/${MODEL_XML} has no input_ids input: not a text-generation model`);
    if (!inputNames.has('beam_idx')) this.logger.warn(`${dir} has no beam_idx input: it may not be a stateful export, so every token re-reads the whole prompt`);
    const logitsName = compiled.outputs.find((p) => p.anyName === 'logits')?.anyName ?? compiled.outputs[0]!.anyName;

    const fim = findFim(tokenizer);
    const stopIds = new Set<number>([...tokenizer.specialIds(), ...ids(generation?.eos_token_id), ...ids(config?.eos_token_id)]);
    const num = (v: unknown) => (typeof v === 'number' ? v : null);
    const trainContextSize = num(config?.max_position_embeddings) ?? 0;
    const info: ModelInfo = {
      path: dir,
      name: typeof config?._name_or_path === 'string' ? config._name_or_path : basename(dir),
      architecture: typeof config?.model_type === 'string' ? config.model_type : 'unknown',
      sizeBytes: (await stat(join(dir, MODEL_BIN))).size,
      trainContextSize,
      contextSize: Math.min(params.contextSize ?? 2048, trainContextSize || 2048),
      threads,
      expertCount: num(config?.num_experts) ?? num(config?.n_routed_experts),
      expertUsedCount: num(config?.num_experts_per_tok),
      fim: { prefix: fim?.prefix ?? null, suffix: fim?.suffix ?? null, middle: fim?.middle ?? null },
      infillSupported: fim !== null,
      loadMs: 0,
    };
    info.loadMs = performance.now() - started;
    this.loaded = { dir, compiled, tokenizer, inputNames, logitsName, stopIds, fim, info };
    this.loadedKey = key;
    this.logger.info(`loaded ${info.name} (OpenVINO IR on ${device}, ${(info.sizeBytes / 1e6).toFixed(1)} MB) in ${info.loadMs.toFixed(0)} ms`);
    return info;
  }

  /** Fill-in-the-middle generation; same contract as the llama.cpp backend's `infill`. */
  async infill(params: InfillParams, signal: AbortSignal, onText: (text: string) => void): Promise<InfillResult> {
    const m = this.loaded;
    if (!m) throw new Error('no model loaded');
    if (!m.fim) throw new Error(`model ${m.info.name} has no fill-in-the-middle tokens in its tokenizer; choose a code model with FIM support`);
    const prompt = m.tokenizer.encode(`${m.fim.prefix}${params.prefix}${m.fim.suffix}${params.suffix}${m.fim.middle}`);
    return this.generate(m, prompt, params, signal, onText);
  }

  /** Plain continuation of `text` (chat templates are applied by the caller). */
  async complete(
    text: string,
    params: Omit<InfillParams, 'prefix' | 'suffix'>,
    signal: AbortSignal,
    onText: (text: string) => void,
  ): Promise<InfillResult> {
    const m = this.loaded;
    if (!m) throw new Error('no model loaded');
    return this.generate(m, m.tokenizer.encode(text), params, signal, onText);
  }

  private async generate(
    m: LoadedModel,
    prompt: number[],
    params: Omit<InfillParams, 'prefix' | 'suffix'>,
    signal: AbortSignal,
    onText: (text: string) => void,
  ): Promise<InfillResult> {
    const ov = await loadOpenVino(this.options.importer);
    if (!ov.ok) throw new Error(ov.message);
    const { Tensor } = ov.addon;
    const started = performance.now();
    const deadline = params.timeLimitMs ? started + params.timeLimitMs : Infinity;
    const room = m.info.contextSize - prompt.length;
    if (room <= 0) throw new Error(`the prompt is ${prompt.length} tokens, more than the context size ${m.info.contextSize}`);
    const maxTokens = Math.min(params.maxTokens, room);
    const random = params.seed !== undefined ? prng(params.seed) : Math.random;
    const stops = params.stop ?? [];
    // A fresh request per generation: its state (the KV cache) starts empty.
    const request = m.compiled.createInferRequest();
    const decoder = new StreamingDecoder();
    let text = '';
    let emitted = 0;
    let firstTokenAt: number | null = null;
    let tokensOut = 0;
    let stopReason: StopReason = 'maxTokens';
    let past = 0;

    const step = async (tokens: number[]): Promise<Float32Array> => {
      const n = tokens.length;
      const inputs: Record<string, OvTensor> = {
        input_ids: new Tensor('i64', [1, n], BigInt64Array.from(tokens, (t) => BigInt(t))),
      };
      if (m.inputNames.has('attention_mask')) inputs.attention_mask = new Tensor('i64', [1, past + n], new BigInt64Array(past + n).fill(1n));
      if (m.inputNames.has('position_ids')) inputs.position_ids = new Tensor('i64', [1, n], BigInt64Array.from({ length: n }, (_v, i) => BigInt(past + i)));
      if (m.inputNames.has('beam_idx')) inputs.beam_idx = new Tensor('i32', [1], new Int32Array([0]));
      const out = (await request.inferAsync(inputs))[m.logitsName];
      if (!out) throw new Error(`the model returned no ${m.logitsName} output`);
      past += n;
      const shape = out.getShape();
      const vocab = shape[shape.length - 1]!;
      const data = out.getData() as Float32Array;
      // Some exports return logits for every prompt position, newer ones only for the last.
      return data.subarray(data.length - vocab);
    };

    let logits = await step(prompt);
    for (;;) {
      if (signal.aborted) {
        stopReason = 'cancelled';
        break;
      }
      if (performance.now() > deadline) {
        stopReason = 'timeLimit';
        break;
      }
      const next = sampleToken(logits, { temperature: params.temperature ?? 0, random });
      if (m.stopIds.has(next)) {
        stopReason = 'eos';
        break;
      }
      tokensOut++;
      firstTokenAt ??= performance.now();
      text += decoder.push(m.tokenizer.tokenBytes(next));
      const hit = stops.map((s) => text.indexOf(s, Math.max(0, emitted - s.length))).filter((i) => i >= 0);
      if (hit.length) {
        text = text.slice(0, Math.min(...hit));
        stopReason = 'stop';
      }
      // Hold back what could be the start of a stop string, so it is never shown and then taken back.
      const safe = stopReason === 'stop' ? text.length : text.length - holdBack(text, stops);
      if (safe > emitted) {
        onText(text.slice(emitted, safe));
        emitted = safe;
      }
      if (stopReason === 'stop' || tokensOut >= maxTokens) break;
      logits = await step([next]);
    }
    if (stopReason !== 'stop') {
      text += decoder.flush();
      if (text.length > emitted) onText(text.slice(emitted));
    }
    return {
      text,
      tokensEvaluated: prompt.length,
      tokensOut,
      timeToFirstTokenMs: firstTokenAt === null ? null : firstTokenAt - started,
      totalMs: performance.now() - started,
      stopReason,
    };
  }

  async unload(): Promise<void> {
    // openvino-node frees the compiled model when it is garbage-collected; dropping the reference is all.
    this.loaded = undefined;
    this.loadedKey = undefined;
  }

  async dispose(): Promise<void> {
    await this.unload();
  }
}

/** Length of the longest tail of `text` that is a proper prefix of a stop string. */
function holdBack(text: string, stops: readonly string[]): number {
  let n = 0;
  for (const s of stops) {
    for (let k = Math.min(s.length - 1, text.length); k > n; k--) {
      if (text.endsWith(s.slice(0, k))) {
        n = k;
        break;
      }
    }
  }
  return n;
}

/** The FIM markers of the first known family whose three tokens all exist in this tokenizer. */
function findFim(tok: BpeTokenizer): { prefix: string; suffix: string; middle: string } | null {
  for (const f of Object.values(KNOWN_FIM_TOKENS)) {
    if (tok.tokenId(f.prefix) !== undefined && tok.tokenId(f.suffix) !== undefined && tok.tokenId(f.middle) !== undefined) return f;
  }
  return null;
}

function ids(v: unknown): number[] {
  if (typeof v === 'number') return [v];
  return Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number') : [];
}

async function readJson(path: string): Promise<Record<string, unknown> | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

// ---- tokenizer.json --------------------------------------------------------------------------------------
// A byte-level BPE tokenizer read from a Hugging Face `tokenizer.json` (Qwen2.5, DeepSeek-Coder, StarCoder2 and
// Llama 3 use this scheme). Needed because optimum-intel's own tokenizer IRs need the openvino-tokenizers
// extension library, which openvino-node does not ship. Implemented: added tokens (matched first, longest
// first), an NFC normalizer, the pre-tokenizer's Split regexes and ByteLevel step, the BPE model with merge
// ranks (and `ignore_merges`), and the ByteLevel decoder. Other parts of the format are ignored, which suits
// the families above.
export interface TokenizerJson {
  added_tokens?: { id: number; content: string; special?: boolean }[];
  normalizer?: { type?: string; normalizers?: unknown[] } | null;
  pre_tokenizer?: unknown;
  model: {
    type?: string;
    vocab: Record<string, number>;
    merges: (string | [string, string])[];
    ignore_merges?: boolean;
  };
}

// GPT-2's pre-tokenizer pattern, used when the file's ByteLevel step has use_regex true.
const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/** GPT-2's reversible map from bytes to printable characters, so every byte sequence is a string of "letters". */
function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const table: string[] = new Array(256);
  for (const b of bs) table[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (table[b] === undefined) table[b] = String.fromCharCode(256 + n++);
  }
  return table;
}

/**
 * JavaScript (before ES2025) has no inline `(?i:...)` group, which Qwen's pattern uses for contractions: spell
 * each letter inside as a two-case class instead.
 */
export function toJsRegexSource(pattern: string): string {
  return pattern.replace(/\(\?i:([^()]*)\)/g, (_m, body: string) =>
    `(?:${body.replace(/[A-Za-z]/g, (c) => `[${c.toLowerCase()}${c.toUpperCase()}]`)})`,
  );
}

/** Split regexes and whether a ByteLevel step splits GPT-2 style, collected from a (nested) pre-tokenizer. */
function collectPreTokenizer(node: unknown, splits: RegExp[]): { byteLevelRegex: boolean } {
  let byteLevelRegex = false;
  if (!node || typeof node !== 'object') return { byteLevelRegex };
  const n = node as { type?: string; pretokenizers?: unknown[]; pattern?: { Regex?: string; String?: string }; use_regex?: boolean };
  if (n.type === 'Sequence' && Array.isArray(n.pretokenizers)) {
    for (const p of n.pretokenizers) byteLevelRegex = collectPreTokenizer(p, splits).byteLevelRegex || byteLevelRegex;
  } else if (n.type === 'Split' && n.pattern) {
    const src = n.pattern.Regex ?? (n.pattern.String ?? '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    splits.push(new RegExp(toJsRegexSource(src), 'gu'));
  } else if (n.type === 'ByteLevel') {
    byteLevelRegex = n.use_regex !== false;
  } else if (n.type === 'Digits') {
    splits.push(/\p{N}/gu);
  }
  return { byteLevelRegex };
}

/** Splits `text` so that every regex match is its own piece, and so is each stretch between matches. */
function isolate(text: string, re: RegExp): string[] {
  const out: string[] = [];
  let last = 0;
  re.lastIndex = 0;
  for (const m of text.matchAll(re)) {
    if (m[0].length === 0) continue;
    if (m.index > last) out.push(text.slice(last, m.index));
    out.push(m[0]);
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

export class BpeTokenizer {
  private readonly vocab: Map<string, number>;
  private readonly idToToken: string[] = [];
  private readonly ranks = new Map<string, number>();
  private readonly added: { id: number; content: string; special: boolean }[];
  private readonly addedById = new Map<number, { content: string; special: boolean }>();
  private readonly addedPattern: RegExp | null;
  private readonly splits: RegExp[] = [];
  private readonly nfc: boolean;
  private readonly ignoreMerges: boolean;
  private readonly byteToChar = bytesToUnicode();
  private readonly charToByte = new Map<string, number>();
  private readonly cache = new Map<string, number[]>();

  constructor(json: TokenizerJson) {
    if (json.model.type && json.model.type !== 'BPE') throw new Error(`tokenizer.json has a ${json.model.type} model; only BPE is supported`);
    this.vocab = new Map(Object.entries(json.model.vocab));
    for (const [tok, id] of this.vocab) this.idToToken[id] = tok;
    json.model.merges.forEach((m, i) => this.ranks.set(Array.isArray(m) ? `${m[0]} ${m[1]}` : m, i));
    this.added = (json.added_tokens ?? []).map((t) => ({ id: t.id, content: t.content, special: t.special ?? false }));
    for (const t of this.added) {
      this.addedById.set(t.id, t);
      this.idToToken[t.id] ??= t.content;
    }
    const escaped = [...this.added]
      .sort((a, b) => b.content.length - a.content.length)
      .map((t) => t.content.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    this.addedPattern = escaped.length ? new RegExp(escaped.join('|'), 'gu') : null;
    const { byteLevelRegex } = collectPreTokenizer(json.pre_tokenizer, this.splits);
    if (byteLevelRegex) this.splits.push(new RegExp(GPT2_PATTERN, 'gu'));
    const norm = json.normalizer;
    this.nfc = !!norm && (norm.type === 'NFC' || (norm.normalizers ?? []).some((x) => (x as { type?: string }).type === 'NFC'));
    this.ignoreMerges = json.model.ignore_merges ?? false;
    this.byteToChar.forEach((c, b) => this.charToByte.set(c, b));
  }

  static fromJson(text: string): BpeTokenizer {
    return new BpeTokenizer(JSON.parse(text) as TokenizerJson);
  }

  get vocabSize(): number {
    return this.idToToken.length;
  }

  /** The id of an added or vocabulary token given by its exact text, if there is one. */
  tokenId(content: string): number | undefined {
    return this.added.find((t) => t.content === content)?.id ?? this.vocab.get(content);
  }

  /** Ids of added tokens marked special (end of text, FIM markers): generation stops on them. */
  specialIds(): number[] {
    return this.added.filter((t) => t.special).map((t) => t.id);
  }

  encode(text: string): number[] {
    const ids: number[] = [];
    const segments = this.addedPattern ? isolate(text, this.addedPattern) : [text];
    for (const seg of segments) {
      const added = this.added.find((t) => t.content === seg);
      if (added) {
        ids.push(added.id);
        continue;
      }
      let pieces = [this.nfc ? seg.normalize('NFC') : seg];
      for (const re of this.splits) pieces = pieces.flatMap((p) => isolate(p, re));
      for (const piece of pieces) ids.push(...this.bpe(piece));
    }
    return ids;
  }

  /** The bytes a token stands for (added tokens: their UTF-8 text). */
  tokenBytes(id: number): Uint8Array {
    const added = this.addedById.get(id);
    if (added) return new TextEncoder().encode(added.content);
    const tok = this.idToToken[id];
    if (tok === undefined) return new Uint8Array(0);
    const bytes: number[] = [];
    for (const ch of tok) {
      const b = this.charToByte.get(ch);
      if (b !== undefined) bytes.push(b);
    }
    return Uint8Array.from(bytes);
  }

  decode(ids: readonly number[]): string {
    const parts = ids.map((id) => this.tokenBytes(id));
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let off = 0;
    for (const p of parts) {
      all.set(p, off);
      off += p.length;
    }
    return new TextDecoder().decode(all);
  }

  private bpe(piece: string): number[] {
    const cached = this.cache.get(piece);
    if (cached) return cached;
    const mapped = Array.from(new TextEncoder().encode(piece), (b) => this.byteToChar[b]!).join('');
    let ids: number[];
    const whole = this.vocab.get(mapped);
    if (this.ignoreMerges && whole !== undefined) ids = [whole];
    else {
      let word = Array.from(mapped);
      while (word.length > 1) {
        let best = -1;
        let bestRank = Infinity;
        for (let i = 0; i < word.length - 1; i++) {
          const r = this.ranks.get(`${word[i]} ${word[i + 1]}`);
          if (r !== undefined && r < bestRank) {
            bestRank = r;
            best = i;
          }
        }
        if (best < 0) break;
        const [a, b] = [word[best]!, word[best + 1]!];
        // Merge every occurrence of this pair, left to right, as the reference implementation does.
        const next: string[] = [];
        for (let i = 0; i < word.length; i++) {
          if (i < word.length - 1 && word[i] === a && word[i + 1] === b) {
            next.push(a + b);
            i++;
          } else next.push(word[i]!);
        }
        word = next;
      }
      ids = word.map((w) => {
        const id = this.vocab.get(w);
        if (id === undefined) throw new Error(`tokenizer.json cannot encode ${JSON.stringify(w)}: not in the vocabulary`);
        return id;
      });
    }
    if (this.cache.size < 50_000) this.cache.set(piece, ids);
    return ids;
  }
}

/** Turns token bytes into text as they arrive, holding back an incomplete UTF-8 sequence. */
export class StreamingDecoder {
  private readonly decoder = new TextDecoder('utf-8');
  push(bytes: Uint8Array): string {
    return this.decoder.decode(bytes, { stream: true });
  }
  flush(): string {
    return this.decoder.decode();
  }
}
