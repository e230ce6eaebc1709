import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkFits, kvBytesPerToken, recommend, recommendThreads, type GpuProfile, type HardwareProfile,
} from '../../src/common/hardware/recommend';
import { parseManifestText } from '../../src/common/models/modelManifest';

const GB = 1e9;
const GiB = 1024 ** 3;
const manifest = parseManifestText(readFileSync(join(__dirname, '../../../models-manifest/models.json'), 'utf8'), 'models.json');

function machine(o: { ramGiB: number; availGiB: number; cores: number; logical?: number; load1?: number; gpu?: GpuProfile }): HardwareProfile {
  return {
    profileId: 'test',
    platform: 'linux',
    arch: 'x64',
    cpu: {
      model: 'synthetic',
      physicalCores: o.cores,
      logicalCores: o.logical ?? o.cores * 2,
      physicalCoresEstimated: false,
      simd: { sse42: true, avx: true, avx2: true, avx512f: false, fma: true, f16c: true, neon: false, dotprod: false },
    },
    memory: { totalBytes: o.ramGiB * GiB, availableBytes: o.availGiB * GiB },
    gpu: o.gpu ?? null,
    load1: o.load1 ?? 0,
    notes: [],
  };
}

const laptop8 = machine({ ramGiB: 8, availGiB: 4.5, cores: 4 });
const laptop16 = machine({ ramGiB: 16, availGiB: 12, cores: 4 });
const desktop32 = machine({ ramGiB: 32, availGiB: 27, cores: 8 });
const old2core = machine({ ramGiB: 16, availGiB: 13, cores: 2 });
const smallGpu: GpuProfile = { backend: 'cuda', names: ['GeForce MX250'], vramTotalBytes: 2 * GiB, vramFreeBytes: 1.9 * GiB, unifiedMemory: false };

describe('recommend', () => {
  it('an 8 GB, 4-core laptop gets the small dense 1.5B coder at a 4,096 context with an f16 KV cache', () => {
    const r = recommend(laptop8, manifest);
    assert.equal(r.model?.id, 'qwen2.5-coder-1.5b-q8');
    assert.equal(r.settings?.contextSize, 4096);
    assert.equal(r.settings?.kvCacheType, 'f16');
    assert.equal(r.settings?.threads, 4);
    assert.equal(r.settings?.gpuLayers, 0);
    assert.ok(r.fit?.fits);
  });

  it('a 16 GB laptop gets the DeepSeek-Coder-V2-Lite MoE, with a q8_0 KV cache because memory is tight', () => {
    const r = recommend(laptop16, manifest);
    assert.equal(r.model?.id, 'deepseek-coder-v2-lite-base-q4km');
    assert.equal(r.settings?.kvCacheType, 'q8_0');
    assert.equal(r.settings?.flashAttention, true);
    assert.ok(r.reasons.some((l) => l.includes('q8_0')), r.reasons.join('\n'));
    // The dense 7B fits too, but at ~8 GB read per token it decodes far too slowly on 4 cores.
    const dense7b = r.candidates.find((c) => c.entry.id === 'qwen2.5-coder-7b-q8');
    assert.match(dense7b?.rejected ?? '', /too slow/);
  });

  it('a 32 GB, 8-core desktop gets the large Qwen3-Coder 30B-A3B MoE', () => {
    const r = recommend(desktop32, manifest);
    assert.equal(r.model?.id, 'qwen3-coder-30b-a3b-instruct-q4km');
    assert.equal(r.settings?.kvCacheType, 'f16');
    assert.equal(r.settings?.threads, 8);
  });

  it('chat on a 16 GB laptop gets the MoE instruct model', () => {
    assert.equal(recommend(laptop16, manifest, { purpose: 'chat' }).model?.id, 'deepseek-coder-v2-lite-instruct-q4km');
  });

  it('a 2-core machine gets the lightest model that fits (not the MoE that also fits), with a warning that it is slow', () => {
    const r = recommend(old2core, manifest);
    assert.equal(r.model?.id, 'qwen2.5-coder-1.5b-q8');
    assert.ok(r.reasons.some((l) => l.includes('below the 8 tokens/s goal')), r.reasons.join('\n'));
  });

  it('nothing fits a machine with 2 GB free: no model, and the numbers say why', () => {
    const r = recommend(machine({ ramGiB: 4, availGiB: 2, cores: 2 }), manifest);
    assert.equal(r.model, null);
    assert.match(r.reasons[0]!, /will not fit: it needs \d+\.\d GB/);
  });

  it('leaves busy cores alone when choosing threads', () => {
    assert.equal(recommendThreads(machine({ ramGiB: 8, availGiB: 4, cores: 4, load1: 1.2 })), 3);
    assert.equal(recommendThreads(machine({ ramGiB: 8, availGiB: 4, cores: 2, load1: 5 })), 1);
  });

  it('on a 2 GB GPU keeps attention on the GPU and the MoE experts in RAM', () => {
    const r = recommend(machine({ ramGiB: 16, availGiB: 12, cores: 4, gpu: smallGpu }), manifest, {
      shapes: { 'deepseek-coder-v2-lite-base-q4km': { layers: 27, expertCount: 64 } },
    });
    assert.equal(r.model?.id, 'deepseek-coder-v2-lite-base-q4km');
    assert.equal(r.settings?.gpuLayers, 'max');
    const onCpu = r.settings?.moeExpertLayersOnCpu;
    assert.ok(typeof onCpu === 'number' && onCpu >= 20 && onCpu <= 27, String(onCpu));
    // The KV cache of GPU layers lives in VRAM, so it is made small enough to leave room for attention.
    assert.equal(r.settings?.kvCacheType, 'q8_0');
  });

  it('offloads a small dense model entirely to a GPU that holds it', () => {
    const r = recommend(machine({ ramGiB: 8, availGiB: 4.5, cores: 4, gpu: { ...smallGpu, vramTotalBytes: 4 * GiB, vramFreeBytes: 3.8 * GiB } }), manifest);
    assert.equal(r.model?.id, 'qwen2.5-coder-1.5b-q8');
    assert.equal(r.settings?.gpuLayers, 'max');
    assert.equal(r.settings?.moeExpertLayersOnCpu, null);
  });

  it('unified memory (Apple silicon) offloads everything without counting VRAM twice', () => {
    const metal: GpuProfile = { backend: 'metal', names: ['Apple M2'], vramTotalBytes: 11 * GiB, vramFreeBytes: 11 * GiB, unifiedMemory: true };
    const r = recommend(machine({ ramGiB: 16, availGiB: 9, cores: 8, gpu: metal }), manifest);
    assert.equal(r.settings?.gpuLayers, 'max');
    assert.ok(r.model && r.model.sizeBytes! < 9 * GiB);
  });
});

describe('checkFits', () => {
  it('refuses a model that will not fit, with needed and available GB', () => {
    const f = checkFits(laptop8, 10.4 * GB, 4096, { name: 'DeepSeek-Coder-V2-Lite' });
    assert.equal(f.fits, false);
    assert.match(f.message, /^DeepSeek-Coder-V2-Lite will not fit: it needs 1\d\.\d GB \(model 10\.4 GB \+ KV cache \d\.\d GB at 4096 tokens \+ runtime 1\.1 GB\)/);
    assert.match(f.message, /4\.8 GB of 8\.6 GB RAM is available/);
    assert.match(f.message, /smaller model/);
  });

  it('accepts a model that fits and says how much is left', () => {
    const f = checkFits(laptop16, 1.6 * GB, 4096);
    assert.ok(f.fits);
    assert.ok(f.spareBytes > 0);
    assert.match(f.message, /fits with \d+\.\d GB to spare/);
  });

  it('a longer context or an f16 cache needs more memory than a q8_0 one', () => {
    const kv = kvBytesPerToken(10.4 * GB);
    const f16 = checkFits(laptop16, 10.4 * GB, 8192, { kvPerTokenF16: kv });
    const q8 = checkFits(laptop16, 10.4 * GB, 8192, { kvPerTokenF16: kv, kvType: 'q8_0' });
    assert.ok(q8.need.kvCacheBytes < f16.need.kvCacheBytes * 0.6);
  });

  it('derives KV bytes per token from the manifest entry when it can', () => {
    const entry = manifest.models.find((m) => m.id === 'deepseek-coder-v2-lite-instruct-q4km')!;
    const kv = kvBytesPerToken(entry.sizeBytes!, entry);
    assert.ok(kv > 250_000 && kv < 300_000, String(kv));
  });
});
