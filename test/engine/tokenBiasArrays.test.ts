/**
 * Healing biases reuse their typed arrays (src/node/engine/backends/tokenBiasArrays.ts) through the real
 * node-llama-cpp: the pinned version has the method the engine patches, and a sampling call takes the registered
 * arrays (a bias whose arrays say otherwise than its own entries samples what the arrays say).
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Llama, LlamaModel, Token } from 'node-llama-cpp' with { 'resolution-mode': 'import' };
import { registerBiasArrays, useRegisteredBiasArrays } from '../../src/node/engine/backends/tokenBiasArrays';
import { makeModel, tinyDense } from '../fixtures/gguf/makeModel';

type NodeLlamaCpp = typeof import('node-llama-cpp', { with: { 'resolution-mode': 'import' } });

describe('healing bias arrays (node-llama-cpp)', function () {
  this.timeout(120_000);
  let dir: string;
  let nlc: NodeLlamaCpp;
  let llama: Llama;
  let model: LlamaModel;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hearth-bias-'));
    const path = join(dir, 'tiny.gguf');
    await makeModel(path, tinyDense);
    nlc = await import('node-llama-cpp');
    llama = await nlc.getLlama({ gpu: false, build: 'never', logLevel: nlc.LlamaLogLevel.error });
    model = await llama.loadModel({ modelPath: path });
  });
  after(async () => {
    await model?.dispose();
    await llama?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('patches the pinned node-llama-cpp, and sampling uses a registered bias\'s arrays', async () => {
    assert.equal(useRegisteredBiasArrays(nlc.LlamaContextSequence.prototype), true, 'LlamaContextSequence.prototype._resolveSamplerConfig is gone: see tokenBiasArrays.ts');
    const context = await model.createContext({ contextSize: 256, sequences: 1 });
    try {
      const completion = new nlc.LlamaCompletion({ contextSequence: context.getSequence() });
      const prompt = model.tokenize('function add(a, b) {\n  return a');
      const first = async (tokenBias?: InstanceType<NodeLlamaCpp['TokenBias']>) => {
        let token: Token | undefined;
        await completion.generateCompletionWithMeta(prompt, { maxTokens: 1, temperature: 0, ...(tokenBias ? { tokenBias } : {}), onToken: (t) => (token ??= t[0]) });
        return token;
      };
      const greedy = await first();
      const [x, y] = model.tokenize(' q z').filter((t) => t !== greedy && !model.isEogToken(t));
      assert.ok(x !== undefined && y !== undefined && x !== y);
      // Its own entries say y; node-llama-cpp converts them when nothing is registered.
      const plain = new nlc.TokenBias(model.tokenizer).set(y, { logit: 100 });
      assert.equal(await first(plain), y);
      // Registered arrays say x: the sampler gets them, not a conversion of the entries.
      const registered = new nlc.TokenBias(model.tokenizer).set(y, { logit: 100 });
      registerBiasArrays(registered, [x], 100, (t) => model.isEogToken(t as Token));
      assert.equal(await first(registered), x);
    } finally {
      await context.dispose();
    }
  });
});
