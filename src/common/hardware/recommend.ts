/**
 * From a hardware profile and the models manifest: which model fits this machine with headroom, and the engine
 * settings to run it with (threads, batch, context, KV-cache type, GPU layers, MoE experts kept on CPU).
 * Pure: the profile is detected in `node/hardware/hardwareProfile.ts`; this file only does arithmetic, so a
 * laptop with 8 GB and 4 cores can be described in a unit test.
 *
 * The memory model, in decimal GB because the manifest's sizes and the numbers users read are decimal:
 *   needed = model file (mapped into memory) + KV cache (context × bytes per token) + runtime overhead
 *   budget = available RAM − headroom for the rest of the machine (+ free VRAM of a discrete GPU)
 * The runtime overhead (compute buffers, the engine's own heap) is the 1 GiB the manifest's minRamBytes assumes.
 */
import type { ModelEntry, ModelManifest, ModelPurpose, ModelTier } from '../models/modelManifest';

// ---- the profile (detected by node/hardware/hardwareProfile.ts) ----------------------------------------

export interface SimdFlags {
  sse42: boolean;
  avx: boolean;
  avx2: boolean;
  avx512f: boolean;
  fma: boolean;
  f16c: boolean;
  neon: boolean;
  /** ARM dot-product instructions (much faster q4/q8 matmuls on ARM). */
  dotprod: boolean;
}

export type GpuBackend = 'cuda' | 'vulkan' | 'metal';

export interface GpuProfile {
  /** The backend node-llama-cpp loaded (its `llama.gpu`). */
  backend: GpuBackend;
  names: string[];
  vramTotalBytes: number;
  vramFreeBytes: number;
  /** Apple silicon and most iGPUs share system RAM: their VRAM is not extra memory. */
  unifiedMemory: boolean;
}

export interface HardwareProfile {
  /** Hash of the stable facts (CPU, cores, SIMD, total RAM, GPU names); tuning results are recorded under it. */
  profileId: string;
  platform: string;
  arch: string;
  cpu: {
    model: string;
    physicalCores: number;
    logicalCores: number;
    /** True when the physical core count was guessed (no topology information on this OS). */
    physicalCoresEstimated: boolean;
    simd: SimdFlags;
  };
  memory: {
    totalBytes: number;
    availableBytes: number;
  };
  /** null: CPU only (no GPU backend loaded, or node-llama-cpp could not be loaded). */
  gpu: GpuProfile | null;
  /** 1-minute load average at detection (0 on Windows, where Node cannot read it). */
  load1: number;
  /** What could not be detected, one plain line each. */
  notes: string[];
}

// ---- sizing ----------------------------------------------------------------------------------------------

const GB = 1e9;
const GIB = 1024 ** 3;
/** Compute buffers and the engine's own heap; the manifest's minRamBytes assumes the same. */
export const RUNTIME_OVERHEAD_BYTES = GIB;
/** q8_0 stores 32 values in 34 bytes; f16 in 64. */
const Q8_0_OVER_F16 = 34 / 64;
/** The context the manifest's minRamBytes was computed for. */
const MANIFEST_CONTEXT = 4096;

export type KvCacheType = 'f16' | 'q8_0';

/**
 * Memory left for the rest of the machine to grow into (editor, browser): 5% of RAM, at least 0.5 GB. Small,
 * because "available" already leaves out what is in use, and mapped weights are page cache the kernel can
 * drop under pressure rather than memory it has to kill for.
 */
export function osHeadroomBytes(profile: HardwareProfile): number {
  return Math.max(0.5 * GB, 0.05 * profile.memory.totalBytes);
}

/**
 * KV-cache bytes per token at f16. From a manifest entry: what its minRamBytes has beyond the file and the
 * overhead, spread over the 4,096 tokens it was computed for. Without one: file size / 40,000, which matches
 * Qwen2.5-Coder-1.5B (~41 KB) and DeepSeek-Coder-V2-Lite (~260 KB) and overestimates GQA-heavy models, the
 * safe side for a refusal.
 */
export function kvBytesPerToken(modelSizeBytes: number, entry?: Pick<ModelEntry, 'minRamBytes' | 'sizeBytes'>): number {
  if (entry && entry.sizeBytes !== null) {
    const kv = (entry.minRamBytes - entry.sizeBytes - RUNTIME_OVERHEAD_BYTES) / MANIFEST_CONTEXT;
    if (kv > 0) return kv;
  }
  return modelSizeBytes / 40_000;
}

export interface MemoryNeed {
  modelBytes: number;
  kvCacheBytes: number;
  overheadBytes: number;
  totalBytes: number;
}

export function memoryNeed(modelSizeBytes: number, contextSize: number, kvPerTokenF16: number, kvType: KvCacheType = 'f16'): MemoryNeed {
  const kvCacheBytes = Math.ceil(contextSize * kvPerTokenF16 * (kvType === 'q8_0' ? Q8_0_OVER_F16 : 1));
  return {
    modelBytes: modelSizeBytes,
    kvCacheBytes,
    overheadBytes: RUNTIME_OVERHEAD_BYTES,
    totalBytes: modelSizeBytes + kvCacheBytes + RUNTIME_OVERHEAD_BYTES,
  };
}

/** Memory the model may use: available RAM less the headroom, plus free VRAM on a discrete GPU. */
export function memoryBudget(profile: HardwareProfile): { ramBytes: number; vramBytes: number; totalBytes: number } {
  const ramBytes = Math.max(0, profile.memory.availableBytes - osHeadroomBytes(profile));
  const vramBytes = profile.gpu && !profile.gpu.unifiedMemory ? Math.max(0, profile.gpu.vramFreeBytes * 0.9) : 0;
  return { ramBytes, vramBytes, totalBytes: ramBytes + vramBytes };
}

export interface FitCheck {
  fits: boolean;
  need: MemoryNeed;
  budgetBytes: number;
  availableRamBytes: number;
  /** Budget left after loading (negative when it does not fit). */
  spareBytes: number;
  /** One line with the numbers, for the user; says what to do when it does not fit. */
  message: string;
}

export function formatGB(bytes: number): string {
  return `${(bytes / GB).toFixed(1)} GB`;
}

/**
 * Whether a model of this size, at this context size, fits in this machine's memory with headroom. Refuse to
 * load when `fits` is false: `message` gives needed vs available in GB and what to change.
 */
export function checkFits(
  profile: HardwareProfile,
  modelSizeBytes: number,
  contextSize: number,
  opts: { kvPerTokenF16?: number; kvType?: KvCacheType; name?: string } = {},
): FitCheck {
  const need = memoryNeed(modelSizeBytes, contextSize, opts.kvPerTokenF16 ?? kvBytesPerToken(modelSizeBytes), opts.kvType);
  const budget = memoryBudget(profile);
  const fits = need.totalBytes <= budget.totalBytes;
  const what = opts.name ? `${opts.name}` : 'This model';
  const breakdown =
    `${formatGB(need.totalBytes)} (model ${formatGB(need.modelBytes)} + KV cache ${formatGB(need.kvCacheBytes)} at ` +
    `${contextSize} tokens${opts.kvType === 'q8_0' ? ' (q8_0)' : ''} + runtime ${formatGB(need.overheadBytes)})`;
  const have =
    `${formatGB(profile.memory.availableBytes)} of ${formatGB(profile.memory.totalBytes)} RAM is available` +
    (budget.vramBytes > 0 ? ` plus ${formatGB(budget.vramBytes)} free VRAM` : '') +
    `, and ${formatGB(osHeadroomBytes(profile))} is kept for the rest of the system`;
  const message = fits
    ? `${what} needs ${breakdown}; ${have}: it fits with ${formatGB(budget.totalBytes - need.totalBytes)} to spare.`
    : `${what} will not fit: it needs ${breakdown} but ${have}, leaving ${formatGB(budget.totalBytes)}. ` +
      'Close other programs, lower the context size, or choose a smaller model (`hearth models recommend`).';
  return {
    fits,
    need,
    budgetBytes: budget.totalBytes,
    availableRamBytes: profile.memory.availableBytes,
    spareBytes: budget.totalBytes - need.totalBytes,
    message,
  };
}

// ---- engine settings ---------------------------------------------------------------------------------

export interface EngineSettings {
  threads: number;
  batchSize: number;
  contextSize: number;
  kvCacheType: KvCacheType;
  /** Layers on the GPU: 0 on CPU, 'max' for everything, a count when the layer count is known, else 'auto'. */
  gpuLayers: number | 'max' | 'auto';
  /**
   * MoE on a GPU too small for the whole model: keep every layer's attention on the GPU and this many layers'
   * experts in RAM (llama.cpp's `--n-cpu-moe`); 'all' when the layer count is unknown. null: not needed.
   */
  moeExpertLayersOnCpu: number | 'all' | null;
  /** Flash attention: needed by llama.cpp for a quantized V cache; on by default with a GPU. */
  flashAttention: boolean;
}

/** Facts read from the GGUF when the file is on disk; improve the GPU layer split. */
export interface ModelShape {
  layers: number;
  expertCount?: number | null;
}

/** Threads: physical cores (SMT siblings add little to matmuls and slow decode), less the cores already busy. */
export function recommendThreads(profile: HardwareProfile): number {
  const cores = profile.cpu.physicalCores;
  const busy = Math.round(Math.max(0, profile.load1));
  return Math.max(1, Math.min(cores, cores - busy));
}

function isMoe(entry: Pick<ModelEntry, 'parameters'>): boolean {
  return entry.parameters !== null && entry.parameters.active < entry.parameters.total * 0.5;
}

/** Bytes of the weights one token reads: the whole file for dense models, about active/total for MoE. */
function activeBytes(entry: Pick<ModelEntry, 'parameters'>, sizeBytes: number): number {
  if (!entry.parameters) return sizeBytes;
  return sizeBytes * Math.min(1, entry.parameters.active / entry.parameters.total);
}

function gpuSettings(
  profile: HardwareProfile,
  sizeBytes: number,
  kvBytes: number,
  moe: boolean,
  moeSharedBytes: number,
  shape?: ModelShape,
): Pick<EngineSettings, 'gpuLayers' | 'moeExpertLayersOnCpu'> {
  const gpu = profile.gpu;
  if (!gpu) return { gpuLayers: 0, moeExpertLayersOnCpu: null };
  // Unified memory: the GPU reads the same RAM the budget already counted, so offload everything.
  if (gpu.unifiedMemory) return { gpuLayers: 'max', moeExpertLayersOnCpu: null };
  const usable = gpu.vramFreeBytes * 0.9 - kvBytes - 0.3 * GIB;
  if (usable >= sizeBytes) return { gpuLayers: 'max', moeExpertLayersOnCpu: null };
  if (usable <= 0) return { gpuLayers: 0, moeExpertLayersOnCpu: null };
  if (moe && usable >= moeSharedBytes) {
    // Attention and shared weights are read for every token; the experts only when routed to. So the GPU
    // holds all attention and as many layers' experts as fit, and the rest of the experts stay in RAM.
    const expertBytes = Math.max(1, sizeBytes - moeSharedBytes);
    const gpuExpertShare = Math.min(1, (usable - moeSharedBytes) / expertBytes);
    const layersOnCpu = shape ? Math.ceil(shape.layers * (1 - gpuExpertShare)) : 'all';
    return { gpuLayers: 'max', moeExpertLayersOnCpu: layersOnCpu === 0 ? null : layersOnCpu };
  }
  if (shape) return { gpuLayers: Math.floor((shape.layers * usable) / sizeBytes), moeExpertLayersOnCpu: null };
  return { gpuLayers: 'auto', moeExpertLayersOnCpu: null };
}

// ---- model recommendation ------------------------------------------------------------------------------

export interface Candidate {
  entry: ModelEntry;
  fit: FitCheck;
  settings: EngineSettings;
  /** Estimated decode speed from memory bandwidth and the bytes one token reads; for ranking, not a promise. */
  estDecodeTokensPerSecond: number;
  /** Why it was not chosen (empty for the chosen one and for fitting candidates ranked lower). */
  rejected: string | null;
}

export interface Recommendation {
  /** The chosen entry, or null when nothing in the manifest fits. */
  model: ModelEntry | null;
  settings: EngineSettings | null;
  fit: FitCheck | null;
  /** Plain-words lines: what was chosen and why. */
  reasons: string[];
  /** Every candidate considered, best first. */
  candidates: Candidate[];
}

export interface RecommendOptions {
  purpose?: ModelPurpose;
  /** Preferred context size (default 4096); lowered to 2048 when memory is tight. */
  contextSize?: number;
  /** Slowest estimated decode the recommendation accepts for a completion model (default 8 tokens/s). */
  minDecodeTokensPerSecond?: number;
  /** GGUF facts per manifest id, when the file is on disk. */
  shapes?: Readonly<Record<string, ModelShape>>;
}

const TIER_RANK: Record<ModelTier, number> = { demo: 0, small: 1, medium: 2, large: 3 };

/**
 * Rough memory bandwidth in GB/s: decode on CPU is bandwidth-bound (every token reads the active weights
 * once). Laptop DDR4 with one thread per core reaches about 5 GB/s per core up to ~40 GB/s; a discrete
 * GPU holding the whole model is an order of magnitude faster, Apple silicon several times.
 */
function bandwidthBytesPerSecond(profile: HardwareProfile, fullyOnGpu: boolean): number {
  if (profile.gpu && fullyOnGpu) return (profile.gpu.backend === 'metal' ? 100 : 200) * GB;
  return Math.min(40, 5 * Math.max(1, recommendThreads(profile))) * GB;
}

/** Settings and fit for one entry, trying f16 at the preferred context, then q8_0, then a 2,048 context. */
export function planModel(profile: HardwareProfile, entry: ModelEntry, opts: RecommendOptions = {}): Candidate {
  const sizeBytes = entry.sizeBytes ?? entry.minRamBytes;
  const kvPerToken = kvBytesPerToken(sizeBytes, entry);
  const preferred = Math.min(opts.contextSize ?? 4096, entry.contextLength);
  const attempts: { ctx: number; kv: KvCacheType }[] = [
    { ctx: preferred, kv: 'f16' },
    { ctx: preferred, kv: 'q8_0' },
    { ctx: Math.min(2048, preferred), kv: 'q8_0' },
  ];
  const fitOf = (a: { ctx: number; kv: KvCacheType }) =>
    checkFits(profile, sizeBytes, a.ctx, { kvPerTokenF16: kvPerToken, kvType: a.kv, name: entry.name });
  const moe = isMoe(entry);
  // Attention and shared weights of an MoE: roughly half its active parameters (the rest are routed experts).
  const sharedBytes = moe ? activeBytes(entry, sizeBytes) * 0.5 : sizeBytes;
  const gpuOf = (fit: FitCheck) => gpuSettings(profile, sizeBytes, fit.need.kvCacheBytes, moe, sharedBytes, opts.shapes?.[entry.id]);

  let chosen = attempts[0]!;
  let fit = fitOf(chosen);
  for (const a of attempts.slice(1)) {
    if (fit.fits) break;
    chosen = a;
    fit = fitOf(a);
  }
  let gpu = gpuOf(fit);
  if (fit.fits && profile.gpu && !profile.gpu.unifiedMemory && gpu.gpuLayers === 0) {
    // The KV cache of offloaded layers lives in VRAM: on a small GPU a smaller cache can be what lets any
    // layer go there at all, and a GPU layer is worth more than the extra context.
    for (const a of attempts.slice(attempts.indexOf(chosen) + 1)) {
      const f = fitOf(a);
      const g = gpuOf(f);
      if (f.fits && g.gpuLayers !== 0) {
        [chosen, fit, gpu] = [a, f, g];
        break;
      }
    }
  }
  const { gpuLayers, moeExpertLayersOnCpu } = gpu;
  const onGpu = gpuLayers === 'max' && moeExpertLayersOnCpu === null;
  const threads = recommendThreads(profile);
  const settings: EngineSettings = {
    threads,
    // Prefill batch: llama.cpp's 512 default on CPU; a GPU holding the model digests bigger batches, and a
    // smaller batch shrinks the compute buffer when memory is tight.
    batchSize: onGpu ? 1024 : chosen.kv === 'q8_0' ? 256 : 512,
    contextSize: chosen.ctx,
    kvCacheType: chosen.kv,
    gpuLayers,
    moeExpertLayersOnCpu,
    flashAttention: chosen.kv === 'q8_0' || profile.gpu !== null,
  };
  const est = bandwidthBytesPerSecond(profile, onGpu) / activeBytes(entry, sizeBytes);
  return { entry, fit, settings, estDecodeTokensPerSecond: est, rejected: fit.fits ? null : 'does not fit in memory' };
}

function purposeMatches(entry: ModelEntry, purpose: ModelPurpose): boolean {
  return purpose === 'both' ? entry.purpose === 'both' : entry.purpose === purpose || entry.purpose === 'both';
}

/**
 * The model to use on this machine for `purpose` (default completion): the highest tier that fits with
 * headroom and decodes fast enough, MoE first within a tier (few active parameters decode fast), then the
 * most parameters. GGUF entries only; the demo tier is never recommended.
 */
export function recommend(profile: HardwareProfile, manifest: ModelManifest, opts: RecommendOptions = {}): Recommendation {
  const purpose = opts.purpose ?? 'completion';
  const minSpeed = opts.minDecodeTokensPerSecond ?? (purpose === 'completion' ? 8 : 4);
  const candidates = manifest.models
    .filter((m) => m.tier !== 'demo' && m.format === 'gguf' && purposeMatches(m, purpose))
    .map((m) => {
      const c = planModel(profile, m, opts);
      if (!c.rejected && c.estDecodeTokensPerSecond < minSpeed) {
        c.rejected = `too slow here: about ${c.estDecodeTokensPerSecond.toFixed(0)} tokens/s estimated, below ${minSpeed}`;
      }
      return c;
    });
  candidates.sort((a, b) => {
    if (!a.rejected !== !b.rejected) return a.rejected ? 1 : -1;
    const tier = TIER_RANK[b.entry.tier] - TIER_RANK[a.entry.tier];
    if (tier !== 0) return tier;
    const moe = Number(isMoe(b.entry)) - Number(isMoe(a.entry));
    if (moe !== 0) return moe;
    const params = (b.entry.parameters?.total ?? 0) - (a.entry.parameters?.total ?? 0);
    if (params !== 0) return params;
    return b.fit.spareBytes - a.fit.spareBytes;
  });
  // On the weakest machines nothing reaches the speed goal: then the lightest model that fits is still better
  // than none, and the reasons say it will be slow. Lightest by active parameters, because prompt processing
  // is compute-bound and scales with them (an MoE reading as few bytes per token still computes more).
  const fitting = candidates.filter((c) => c.fit.fits);
  const active = (c: Candidate) => c.entry.parameters?.active ?? Infinity;
  const best =
    candidates.find((c) => !c.rejected) ??
    [...fitting].sort((a, b) => active(a) - active(b) || b.estDecodeTokensPerSecond - a.estDecodeTokensPerSecond)[0];
  if (best && best.rejected) {
    best.rejected = null;
    candidates.splice(candidates.indexOf(best), 1);
    candidates.unshift(best);
  }
  if (!best) {
    const smallest = [...candidates].sort((a, b) => a.fit.need.totalBytes - b.fit.need.totalBytes)[0];
    return {
      model: null,
      settings: null,
      fit: null,
      reasons: [
        candidates.length === 0
          ? `The manifest has no ${purpose} model in GGUF format.`
          : `No ${purpose} model in the manifest fits this machine. The smallest: ${smallest!.fit.message}`,
      ],
      candidates,
    };
  }
  const s = best.settings;
  const reasons = [
    `${best.entry.name} (${best.entry.tier} tier${isMoe(best.entry) ? ', MoE' : ''}): ${best.fit.message}`,
    `Threads ${s.threads} (${profile.cpu.physicalCores} physical cores, load ${profile.load1.toFixed(1)}); ` +
      `context ${s.contextSize} tokens, KV cache ${s.kvCacheType}; batch ${s.batchSize}.`,
  ];
  if (s.kvCacheType === 'q8_0') reasons.push('Memory is tight, so the KV cache is stored at q8_0 (about half the size of f16).');
  if (profile.gpu) {
    reasons.push(
      s.moeExpertLayersOnCpu !== null
        ? `GPU (${profile.gpu.backend}) holds attention for every layer; the experts of ${s.moeExpertLayersOnCpu} layers stay in RAM.`
        : `GPU (${profile.gpu.backend}) layers: ${s.gpuLayers}.`,
    );
  }
  reasons.push(
    `Estimated decode: about ${best.estDecodeTokensPerSecond.toFixed(0)} tokens/s` +
      (best.estDecodeTokensPerSecond < minSpeed ? ` (below the ${minSpeed} tokens/s goal: the lightest model that fits here)` : '') +
      ' (measure with Tune for This Machine).',
  );
  return { model: best.entry, settings: s, fit: best.fit, reasons, candidates };
}
