import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nullLogger } from '../../src/common/logger';
import { commonPrefix, PromptCache } from '../../src/node/engine/promptCache';

describe('prompt cache (host memory, LRU under a budget)', () => {
  let dir: string;
  let cache: PromptCache;
  beforeEach(() => {
    const base = mkdtempSync(join(tmpdir(), 'hearth-pc-'));
    dir = join(base, 'states');
    cache = new PromptCache(10_000, nullLogger, () => {
      mkdirSync(dir, { recursive: true });
      return dir;
    });
  });
  afterEach(() => {
    cache.dispose();
    rmSync(join(dir, '..'), { recursive: true, force: true });
  });

  const writer = (bytes: number) => async (file: string) => {
    writeFileSync(file, Buffer.alloc(bytes));
    return bytes;
  };
  const onDisk = () => readdirSync(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
  const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

  it('finds the state sharing the longest prefix, for this model only', async () => {
    await cache.save('modelA:2048', 'a.ts', range(0, 100), writer(1000));
    await cache.save('modelA:2048', 'b.ts', [...range(0, 10), ...range(500, 90)], writer(1000));
    const best = cache.best('modelA:2048', [...range(0, 60), 7, 7]);
    assert.equal(best?.entry.documentId, 'a.ts');
    assert.equal(best?.common, 60);
    assert.equal(cache.best('modelB:2048', range(0, 100)), undefined, 'another model never matches');
    assert.equal(cache.best('modelA:4096', range(0, 100)), undefined, 'another context size never matches');
  });

  it('refuses to restore a state into another model', async () => {
    const entry = await cache.save('modelA:2048', 'a.ts', range(0, 100), writer(1000));
    let loaded = 0;
    await assert.rejects(cache.restore(entry!, 'modelB:2048', async () => void loaded++), /refused a state saved from another model/);
    assert.equal(loaded, 0, 'the file was never handed to llama.cpp');
    await cache.restore(entry!, 'modelA:2048', async () => void loaded++);
    assert.equal(loaded, 1);
  });

  it('evicts the least recently used states to stay under its budget, on disk too', async () => {
    for (let i = 0; i < 8; i++) {
      await cache.save('m', `doc${i}`, range(i * 1000, 100), writer(3000));
      if (i === 1) await cache.restore(cache.best('m', range(0, 100))!.entry, 'm', async () => undefined); // doc0 used again
      assert.ok(cache.bytes <= 10_000 && onDisk() <= 10_000, `${cache.bytes} bytes held, ${onDisk()} on disk`);
    }
    assert.equal(cache.size, 3);
    assert.equal(cache.best('m', range(0, 100))?.common, 0, 'doc0 went too, once older than the rest');
    assert.equal(cache.best('m', range(7000, 100))?.common, 100);
    cache.setBudget(3000);
    assert.equal(cache.size, 1);
    assert.equal(onDisk(), 3000);
    assert.equal(await cache.save('m', 'big', range(0, 100), writer(5000)), undefined, 'a state larger than the budget is not kept');
    assert.equal(onDisk(), 3000);
  });

  it('replaces the older state of the same document', async () => {
    await cache.save('m', 'a.ts', range(0, 100), writer(1000));
    await cache.save('m', 'a.ts', range(0, 120), writer(1200));
    assert.equal(cache.size, 1);
    assert.equal(cache.bytes, 1200);
    assert.ok(cache.holds('m', range(0, 120)));
    assert.equal(commonPrefix([1, 2, 3], [1, 2, 4]), 2);
  });
});
