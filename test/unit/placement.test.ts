/** Tensor placement at load (GPU layers, KV cache, MoE experts in RAM): the decision, tested without a GPU. */
import * as assert from 'node:assert/strict';
import { placementFor } from '../../src/common/hardware/placement';
import { speedRecordFields } from '../../src/common/ledger/ledgerRecord';
import { speedLines } from '../../src/common/engineStatusText';

describe('placementFor', () => {
  const moe = { expertCount: 64, layers: 27 };
  it('puts nothing on a GPU that is not there, and turns flash attention on for a quantized KV cache', () => {
    const p = placementFor({ gpu: false, gpuLayers: 'max', kvCacheType: 'q8_0', moeExpertLayersOnCpu: 10, ...moe, tensorOverridesSupported: true });
    assert.equal(p.gpuLayers, 0);
    assert.deepEqual(p.tensorOverrides, []);
    assert.equal(p.kvCacheType, 'q8_0');
    assert.equal(p.flashAttention, true);
  });

  it('MoE on a small GPU with overrides: every layer on the GPU, the first layers’ experts in RAM', () => {
    const p = placementFor({ gpu: true, gpuLayers: 'max', moeExpertLayersOnCpu: 3, ...moe, tensorOverridesSupported: true });
    assert.equal(p.gpuLayers, 'max');
    assert.deepEqual(p.tensorOverrides, ['^blk\\.(0|1|2)\\.ffn_(up|down|gate)_exps\\.=CPU']);
    assert.ok(new RegExp(p.tensorOverrides[0]!.split('=')[0]!).test('blk.2.ffn_up_exps.weight'));
    assert.ok(!new RegExp(p.tensorOverrides[0]!.split('=')[0]!).test('blk.3.ffn_up_exps.weight'));
    assert.ok(!new RegExp(p.tensorOverrides[0]!.split('=')[0]!).test('blk.0.attn_q.weight'), 'attention stays on the GPU');
    const all = placementFor({ gpu: true, moeExpertLayersOnCpu: 'all', ...moe, tensorOverridesSupported: true });
    assert.deepEqual(all.tensorOverrides, ['\\.ffn_(up|down|gate)_exps\\.=CPU']);
  });

  it('MoE without tensor overrides (node-llama-cpp 3.22.1): whole layers, leaving as many layers in RAM', () => {
    const p = placementFor({ gpu: true, gpuLayers: 'max', moeExpertLayersOnCpu: 10, ...moe, tensorOverridesSupported: false });
    assert.equal(p.gpuLayers, 17);
    assert.deepEqual(p.tensorOverrides, []);
    assert.match(p.note, /tensor overrides/);
  });

  it('a dense model keeps the recommended GPU layers and needs no overrides', () => {
    const p = placementFor({ gpu: true, gpuLayers: 20, moeExpertLayersOnCpu: 5, expertCount: null, layers: 28, tensorOverridesSupported: true });
    assert.equal(p.gpuLayers, 20);
    assert.deepEqual(p.tensorOverrides, []);
    assert.equal(p.flashAttention, false);
  });
});

describe('speed fields on ledger records and in the status text', () => {
  it('records the threads and the lookup acceptance, and no acceptance when nothing was drafted', () => {
    assert.deepEqual(speedRecordFields({ threads: 1, lookupAccepted: 3, lookupRejected: 1 }), { threads: 1, lookupAcceptance: 0.75 });
    assert.deepEqual(speedRecordFields({ threads: 2, lookupAccepted: 0, lookupRejected: 0 }), { threads: 2 });
    assert.deepEqual(speedRecordFields(undefined), {});
  });

  it('says which backend is loaded, with its flags, and the threads against the load', () => {
    const lines = speedLines({
      engineBackend: { kind: 'native', flags: 'GGML_NATIVE=ON GGML_OPENMP=ON' },
      threads: { last: 1, ceiling: 2, othersBusy: 1.04 },
      lookup: { enabled: true, acceptance: 0.5 },
    });
    assert.deepEqual(lines, [
      'Backend: native build for this machine (GGML_NATIVE=ON GGML_OPENMP=ON)',
      'Threads now: 1 of 2 · other programs busy 1.0 cores',
      'Lookup speculation: on · 50% of drafts accepted',
    ]);
  });

  it("says how the native build's OpenMP threads wait (the engine environment's mode)", () => {
    const waits = 'OpenMP waits spin 100 then sleep (4 libuv workers, throttled: more OpenMP threads than cores; defaults)';
    assert.deepEqual(speedLines({ engineBackend: { kind: 'native', flags: 'GGML_NATIVE=ON GGML_OPENMP=ON', waits } }), [`Backend: native build for this machine (GGML_NATIVE=ON GGML_OPENMP=ON) · ${waits}`]);
  });
});
