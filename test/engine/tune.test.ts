/**
 * "Tune for This Machine" in the engine process: the measured sweep on a generated model, and a model loaded
 * with the tuned threads and batch size.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EngineClient } from '../../src/node/engine/engineClient';
import { makeModel, tinyDense } from '../fixtures/gguf/makeModel';

const enginePath = resolve(__dirname, '../../../dist/engine.js');

describe('engine tune (generated model)', function () {
  this.timeout(120_000);
  let dir: string;
  let modelPath: string;
  let client: EngineClient;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hearth-tune-'));
    modelPath = join(dir, 'tiny.gguf');
    await makeModel(modelPath, tinyDense);
    client = new EngineClient({ enginePath, mode: 'private' });
  });
  after(async () => {
    await client.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('measures prefill and decode for each setting, picks the fastest, and the model loads with it', async () => {
    await client.loadModel({ path: modelPath, contextSize: 1024, threads: 1 });
    const progress: string[] = [];
    const settings = [{ threads: 1, batchSize: 64 }, { threads: 2, batchSize: 128 }];
    const result = await client.tune({ settings, promptTokens: 128, decodeTokens: 8 }, { onProgress: (i, n) => progress.push(`${i}/${n}`) });
    assert.deepEqual(progress, ['0/2', '1/2']);
    assert.equal(result.modelPath, modelPath);
    assert.deepEqual(result.rows.map((r) => [r.threads, r.batchSize]), [[1, 64], [2, 128]]);
    for (const r of result.rows) {
      assert.ok(r.prefillTokensPerSecond > 0 && Number.isFinite(r.prefillTokensPerSecond), `prefill ${r.prefillTokensPerSecond}`);
      assert.ok(r.decodeTokensPerSecond > 0 && Number.isFinite(r.decodeTokensPerSecond), `decode ${r.decodeTokensPerSecond}`);
    }
    const fastest = result.rows.reduce((a, b) => (b.completionMs < a.completionMs ? b : a));
    assert.deepEqual(result.best, { threads: fastest.threads, batchSize: fastest.batchSize });

    // The loaded model and its context are untouched by the sweep; a completion still works.
    const infill = await client.infill({ prefix: 'function f() {\n  return ', suffix: ';\n}\n', maxTokens: 4 });
    assert.ok(infill.tokensOut > 0);

    const info = await client.loadModel({ path: modelPath, contextSize: 1024, ...result.best });
    assert.equal(info.threads, result.best.threads);
    assert.equal(info.batchSize, result.best.batchSize);
  });

  it('picks its own 2–4 settings when none are given, and stops when cancelled', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const run = client.tune({ promptTokens: 64, decodeTokens: 4 }, {
      signal: controller.signal,
      onProgress: (i, n) => {
        seen.push(n);
        if (i === 1) controller.abort();
      },
    });
    await assert.rejects(run, /cancel|abort/i);
    assert.ok(seen.length >= 1 && seen[0]! >= 2 && seen[0]! <= 4, `settings count ${seen[0]}`);
    const after = await client.tune({ promptTokens: 32, decodeTokens: 4, settings: [{ threads: 1, batchSize: 32 }] });
    assert.equal(after.rows.length, 1);
  });
});
