/**
 * Where a model's tensors go at load, from the recommender's settings (see `recommend.ts`): GPU layers, the KV-cache
 * type, and, for a mixture-of-experts model on a GPU too small for it, which layers' experts stay in RAM.
 *
 * Experts in RAM are llama.cpp tensor-buffer overrides (`-ot 'blk\.(0|1)\.ffn_.*_exps\.=CPU'`, what `--n-cpu-moe`
 * generates). node-llama-cpp 3.22.1 passes no overrides to llama.cpp, so where they cannot be applied the placement
 * falls back to whole layers: as many layers on the GPU as leave the same share of the model in RAM (slower than
 * experts-only, but it fits, which offloading everything would not).
 */
import { planModel, type HardwareProfile } from './recommend';
import type { ModelManifest } from '../models/modelManifest';

export type KvCacheType = 'f16' | 'q8_0' | 'q4_0';

export interface PlacementInput {
  /** A GPU backend is present (CUDA, Vulkan, Metal). */
  gpu: boolean;
  gpuLayers?: number | 'max' | 'auto';
  kvCacheType?: KvCacheType;
  /** The recommender's `moeExpertLayersOnCpu`: layers whose experts stay in RAM, 'all', or none. */
  moeExpertLayersOnCpu?: number | 'all' | null;
  /** From the GGUF: experts per layer (null or ≤ 1: dense) and the layer count. */
  expertCount: number | null;
  layers: number | null;
  /** Whether the runtime can apply tensor-buffer overrides. */
  tensorOverridesSupported: boolean;
}

export interface Placement {
  gpuLayers: number | 'max' | 'auto';
  kvCacheType: KvCacheType;
  /** llama.cpp needs flash attention for a quantized V cache. */
  flashAttention: boolean;
  /** llama.cpp tensor-buffer overrides (`pattern=BUFFER`), in `-ot` syntax. */
  tensorOverrides: string[];
  /** What was decided and why, for the log. */
  note: string;
}

const EXPERT_TENSORS = 'ffn_(up|down|gate)_exps';

/** The placement for a load; pure, so the GPU paths are tested on machines without a GPU. */
export function placementFor(input: PlacementInput): Placement {
  const kvCacheType = input.kvCacheType ?? 'f16';
  const flashAttention = kvCacheType !== 'f16';
  const kvNote = kvCacheType === 'f16' ? 'KV cache f16' : `KV cache ${kvCacheType} (flash attention on)`;
  if (!input.gpu) return { gpuLayers: 0, kvCacheType, flashAttention, tensorOverrides: [], note: `CPU only; ${kvNote}` };
  const gpuLayers = input.gpuLayers ?? 'auto';
  const moe = (input.expertCount ?? 0) > 1;
  const cpuExperts = input.moeExpertLayersOnCpu;
  if (!moe || cpuExperts === null || cpuExperts === undefined || cpuExperts === 0) {
    return { gpuLayers, kvCacheType, flashAttention, tensorOverrides: [], note: `${gpuLayers} layers on the GPU; ${kvNote}` };
  }
  const layers = input.layers;
  const cpuLayers = cpuExperts === 'all' ? layers : Math.min(cpuExperts, layers ?? cpuExperts);
  if (input.tensorOverridesSupported) {
    // Every layer on the GPU, then the chosen layers' expert tensors back in RAM (the first ones, as --n-cpu-moe).
    const pattern = cpuExperts === 'all' || cpuLayers === null ? `\\.${EXPERT_TENSORS}\\.` : `^blk\\.(${Array.from({ length: cpuLayers }, (_, i) => i).join('|')})\\.${EXPERT_TENSORS}\\.`;
    return {
      gpuLayers: 'max',
      kvCacheType,
      flashAttention,
      tensorOverrides: [`${pattern}=CPU`],
      note: `MoE: attention and shared weights of every layer on the GPU, experts of ${cpuExperts === 'all' ? 'every layer' : `${cpuLayers} layers`} in RAM; ${kvNote}`,
    };
  }
  // No overrides: whole layers instead, leaving about the same share of the weights in RAM.
  const fallbackLayers = layers === null || cpuLayers === null ? 'auto' : Math.max(0, layers - cpuLayers);
  return {
    gpuLayers: fallbackLayers,
    kvCacheType,
    flashAttention,
    tensorOverrides: [],
    note: `MoE: experts in RAM need llama.cpp tensor overrides, which this node-llama-cpp does not pass; ${fallbackLayers} whole layers on the GPU instead; ${kvNote}`,
  };
}

/**
 * The recommender's load settings for a model of the manifest (matched by its file name, `<id>.gguf`), for the
 * engine to apply at load: KV-cache type, GPU layers (a count; 'max' is left to the engine), MoE experts in RAM.
 */
export function recommendedLoad(
  profile: HardwareProfile,
  manifest: Pick<ModelManifest, 'models'>,
  modelPath: string,
): { kvCacheType?: KvCacheType; gpuLayers?: number; moeExpertLayersOnCpu?: number | 'all' } | undefined {
  const file = modelPath.split(/[\\/]/).pop() ?? '';
  const entry = manifest.models.find((e) => `${e.id}.gguf` === file || e.id === file.replace(/\.gguf$/i, ''));
  if (!entry) return undefined;
  const s = planModel(profile, entry).settings;
  return {
    kvCacheType: s.kvCacheType,
    ...(typeof s.gpuLayers === 'number' ? { gpuLayers: s.gpuLayers } : {}),
    ...(s.moeExpertLayersOnCpu !== null ? { moeExpertLayersOnCpu: s.moeExpertLayersOnCpu } : {}),
  };
}
