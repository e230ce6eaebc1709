/**
 * Reusing a healing bias's typed arrays (src/node/engine/backends/tokenBiasArrays.ts), on a stand-in for
 * node-llama-cpp's `LlamaContextSequence.prototype` that converts a bias the way node-llama-cpp 3.22 does. The real
 * class is checked in test/engine/tokenBiasArrays.test.ts.
 */
import * as assert from 'node:assert/strict';
import { registerBiasArrays, useRegisteredBiasArrays } from '../../src/node/engine/backends/tokenBiasArrays';

/** A fresh stand-in each test: the patch changes the prototype it is given. */
function standIn() {
  const calls: Array<Record<string, unknown>> = [];
  class Sequence {
    _resolveSamplerConfig(options: { temperature?: number; tokenBias?: { biases: Map<number, number> } }) {
      calls.push(options);
      const entries = options.tokenBias ? [...options.tokenBias.biases] : [];
      return {
        temperature: options.temperature ?? 0,
        ...(entries.length ? { tokenBiasKeys: Uint32Array.from(entries.map(([k]) => k)), tokenBiasValues: Float32Array.from(entries.map(([, v]) => v)) } : {}),
      };
    }
  }
  return { Sequence, calls };
}

describe('healing bias arrays', () => {
  it('hands a registered bias its arrays and converts nothing', () => {
    const { Sequence, calls } = standIn();
    assert.equal(useRegisteredBiasArrays(Sequence.prototype), true);
    const bias = { biases: new Map([[5, 100], [7, 100]]) };
    registerBiasArrays(bias, [5, 7, 9], 100, (t) => t === 9);
    const config = new Sequence()._resolveSamplerConfig({ temperature: 0, tokenBias: bias });
    assert.deepEqual([...(config.tokenBiasKeys as Uint32Array)], [5, 7], 'the end-of-generation token 9 is left out, as TokenBias.set leaves it out');
    assert.deepEqual([...(config.tokenBiasValues as Float32Array)], [100, 100]);
    assert.equal(config.temperature, 0, 'the other options are still resolved by the original');
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.tokenBias, undefined, 'the original did not convert the bias');
  });

  it('leaves any other bias, and no bias, to node-llama-cpp', () => {
    const { Sequence } = standIn();
    useRegisteredBiasArrays(Sequence.prototype);
    const other = { biases: new Map([[3, -1]]) };
    const config = new Sequence()._resolveSamplerConfig({ tokenBias: other });
    assert.deepEqual([...(config.tokenBiasKeys as Uint32Array)], [3]);
    assert.deepEqual([...(config.tokenBiasValues as Float32Array)], [-1]);
    assert.equal(new Sequence()._resolveSamplerConfig({}).tokenBiasKeys, undefined);
  });

  it('patches once, and reports a node-llama-cpp without the method instead of failing', () => {
    const { Sequence, calls } = standIn();
    assert.equal(useRegisteredBiasArrays(Sequence.prototype), true);
    const once = Sequence.prototype._resolveSamplerConfig;
    assert.equal(useRegisteredBiasArrays(Sequence.prototype), true);
    assert.equal(Sequence.prototype._resolveSamplerConfig, once, 'not wrapped twice');
    new Sequence()._resolveSamplerConfig({});
    assert.equal(calls.length, 1);
    assert.equal(useRegisteredBiasArrays(class {}.prototype), false);
  });
});
