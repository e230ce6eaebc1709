import * as assert from 'node:assert/strict';
import type { TuneResult } from '../../src/common/protocol/engineProtocol';
import { TunedSettings } from '../../src/vscode/models/tunedSettings';

/** A Memento in memory (globalState's interface). */
function memento() {
  const data = new Map<string, unknown>();
  return {
    keys: () => [...data.keys()],
    get: <T>(key: string, fallback?: T) => (data.has(key) ? (data.get(key) as T) : fallback),
    update: async (key: string, value: unknown) => void data.set(key, value),
  };
}

const result = (modelPath: string, threads: number): TuneResult => ({
  modelPath,
  rows: [
    { threads, batchSize: 256, prefillTokensPerSecond: 100, decodeTokensPerSecond: 20, completionMs: 100 },
    { threads: threads + 1, batchSize: 512, prefillTokensPerSecond: 90, decodeTokensPerSecond: 10, completionMs: 200 },
  ],
  best: { threads, batchSize: 256 },
  promptTokens: 512,
  decodeTokens: 32,
  totalMs: 1000,
});

describe('tuned settings (globalState)', () => {
  it('keeps the best setting per machine profile and model path', async () => {
    const tuned = new TunedSettings(memento() as never);
    await tuned.save('machine-a', result('/m/one.gguf', 3));
    await tuned.save('machine-a', result('/m/two.gguf', 2));
    const one = tuned.get('machine-a', '/m/one.gguf');
    assert.equal(one?.threads, 3);
    assert.equal(one?.batchSize, 256);
    assert.equal(one?.decodeTokensPerSecond, 20);
    assert.equal(tuned.get('machine-a', '/m/two.gguf')?.threads, 2);
    assert.equal(tuned.get('machine-b', '/m/one.gguf'), undefined, 'another machine is not tuned by this one');
    assert.equal(tuned.get(undefined, '/m/one.gguf'), undefined, 'no profile yet: untuned');
    await tuned.clear('machine-a', '/m/one.gguf');
    assert.equal(tuned.get('machine-a', '/m/one.gguf'), undefined);
    assert.equal(tuned.get('machine-a', '/m/two.gguf')?.threads, 2);
  });
});
