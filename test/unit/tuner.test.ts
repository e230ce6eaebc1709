import * as assert from 'node:assert/strict';
import { estimateCompletionMs, runSweep, tuneCandidates } from '../../src/node/engine/tuner';

describe('tuner sweep', () => {
  it('offers 2–4 settings around the physical core count', () => {
    assert.deepEqual(tuneCandidates(4, 8), [
      { threads: 4, batchSize: 512 },
      { threads: 3, batchSize: 512 },
      { threads: 8, batchSize: 512 },
      { threads: 4, batchSize: 256 },
    ]);
    assert.deepEqual(tuneCandidates(1, 1), [{ threads: 1, batchSize: 512 }, { threads: 1, batchSize: 256 }]);
    assert.equal(tuneCandidates(2, 2).length, 3);
  });

  it('keeps the setting with the fastest typical completion, not just the fastest decode', async () => {
    const figures: Record<number, { prefillTokensPerSecond: number; decodeTokensPerSecond: number }> = {
      4: { prefillTokensPerSecond: 100, decodeTokensPerSecond: 20 },
      3: { prefillTokensPerSecond: 400, decodeTokensPerSecond: 19 },
    };
    const { rows, best } = await runSweep(
      [{ threads: 4, batchSize: 512 }, { threads: 3, batchSize: 512 }],
      async (s) => figures[s.threads]!,
      { signal: new AbortController().signal },
    );
    assert.equal(rows.length, 2);
    assert.deepEqual(best, { threads: 3, batchSize: 512 });
    assert.ok(Math.abs(rows[0]!.completionMs - estimateCompletionMs(100, 20)) < 1e-9);
  });

  it('stops when aborted', async () => {
    const c = new AbortController();
    c.abort(new Error('cancelled'));
    await assert.rejects(runSweep([{ threads: 1, batchSize: 64 }], async () => ({ prefillTokensPerSecond: 1, decodeTokensPerSecond: 1 }), { signal: c.signal }), /cancelled/);
  });
});
