import * as assert from 'node:assert/strict';
import { promptCacheSummary, statusTooltipMarkdown } from '../../src/common/engineStatusText';
import type { ModelInfo, StatusResult } from '../../src/common/protocol/engineProtocol';

const model: ModelInfo = {
  path: '/m/q.gguf', name: 'Qwen2.5-Coder-1.5B', architecture: 'qwen2', sizeBytes: 1.6e9, trainContextSize: 32768, contextSize: 4096,
  threads: 3, batchSize: 256, expertCount: null, expertUsedCount: null, fim: { prefix: 'a', suffix: 'b', middle: 'c' }, infillSupported: true, loadMs: 10,
};
const status = (clientNames: string[]): StatusResult => ({
  pid: 4242, state: 'ready', backend: 'llama.cpp', model, uptimeMs: 1, rssBytes: 2e9, clients: clientNames.length, clientNames, protocolVersion: 2,
});

describe('status bar tooltip', () => {
  it('shows model, threads, batch, engine pid and the windows sharing it', () => {
    const text = statusTooltipMarkdown({ model, pid: 4242, status: status(['VS Code window (extension host pid 1)', 'VS Code window (extension host pid 2)', 'hearth CLI']), tuned: true, threadsSetting: 0 });
    assert.match(text, /Model: Qwen2\.5-Coder-1\.5B/);
    assert.match(text, /Threads: 3 · batch 256 · context 4096 \(tuned for this machine\)/);
    assert.match(text, /Engine: pid 4242 · shared by 3 clients \(2 windows, 1 other\) · 2000 MB resident/);
  });

  it('says when the engine serves this window only, and where the thread count came from', () => {
    const text = statusTooltipMarkdown({ model, pid: 4242, status: status(['VS Code window (extension host pid 1)']), tuned: false, threadsSetting: 2 });
    assert.match(text, /used by this window only/);
    assert.match(text, /threads from hearth\.engine\.threads/);
    assert.match(statusTooltipMarkdown({ model, pid: 1, status: undefined, tuned: false, threadsSetting: 0 }), /not tuned: run "Hearth: Tune for This Machine"/);
  });

  it('shows the live sequences and the prompt cache: entries, bytes, budget and hit rate', () => {
    const promptCache = { liveSequences: 4, liveDocuments: 3, entries: 2, bytes: 88e6, budgetBytes: 4e9, liveHits: 7, restores: 1, fullPrefills: 2, hitRate: 0.8, dir: '/dev/shm/x' };
    const text = statusTooltipMarkdown({ model, pid: 4242, status: { ...status(['VS Code window (extension host pid 1)']), promptCache }, tuned: true, threadsSetting: 0 });
    assert.match(text, /Prompt cache: 3 of 4 live sequences in use · 2 saved states, 88 MB of 4000 MB · hit rate 80% of 10 \(7 live, 1 restored, 2 full prefills\)/);
    assert.match(promptCacheSummary({ ...promptCache, liveHits: 0, restores: 0, fullPrefills: 0, hitRate: null }), /no completions yet/);
  });
});
