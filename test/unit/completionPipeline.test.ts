import * as assert from 'node:assert/strict';
import { CompletionCache } from '../../src/common/completion/completionCache';
import { CompletionService, runCompletion, type InfillEngine } from '../../src/common/completion/completionPipeline';
import { GenerationControl } from '../../src/common/completion/generationControl';
import type { InfillParams, InfillResult } from '../../src/common/protocol/engineProtocol';

/** An engine that answers from a table of prefix endings and counts what it is asked. */
function scriptedEngine(answers: Array<[string, Partial<InfillResult>]>): InfillEngine & { calls: InfillParams[] } {
  const calls: InfillParams[] = [];
  return {
    calls,
    infill: async (params) => {
      calls.push(params);
      const hit = answers.find(([end]) => params.prefix.endsWith(end));
      return { text: '', tokensEvaluated: 10, tokensOut: 3, timeToFirstTokenMs: 5, totalMs: 20, stopReason: 'eos', ...(hit?.[1] ?? {}) };
    },
  };
}

const settings = { maxTokens: 32, timeLimitMs: 3000 };

describe('CompletionCache', () => {
  it('serves exact hits and type-through remainders, and evicts the least recently used', () => {
    const c = new CompletionCache(2);
    c.set('const x = ', ';\n', { text: 'foo(bar)', alternatives: ['fob()'], confidence: -0.5 });
    assert.equal(c.get('const x = ', ';\n')?.kind, 'exact');
    const t = c.get('const x = fo', ';\n');
    assert.equal(t?.kind, 'typeThrough');
    assert.equal(t?.entry.text, 'o(bar)');
    assert.deepEqual(t?.entry.alternatives, ['b()']);
    assert.equal(c.get('const x = fx', ';\n'), undefined, 'typed text that leaves the suggestion is no hit');
    assert.equal(c.get('const x = foo(bar)', ';\n'), undefined, 'a suggestion typed to its end leaves nothing to show');
    c.set('a', '', { text: '1', alternatives: [], confidence: null });
    c.get('const x = ', ';\n'); // touched: `a` is now the least recently used
    c.set('b', '', { text: '2', alternatives: [], confidence: null });
    assert.equal(c.size, 2);
    assert.equal(c.get('a', ''), undefined);
    assert.ok(c.get('const x = ', ';\n'));
  });
});

describe('CompletionService', () => {
  it('warms the prompt a keystroke would send (one token, nothing cached), and skips a spot with a cached suggestion', async () => {
    const engine = scriptedEngine([['return ', { text: 'total + 1;' }]]);
    const svc = new CompletionService(engine);
    const doc = 'function f(total) {\n  return \n}\n';
    const at = doc.indexOf('return ') + 7;
    const w = await svc.warm({ text: doc, offset: at, documentId: 'f.ts' }, settings);
    assert.ok(w);
    assert.equal(engine.calls.length, 1);
    assert.equal(engine.calls[0]!.maxTokens, 1);
    assert.equal(svc.stats.warms, 1);
    assert.equal(svc.stats.engineRequests, 0, 'a warm-up is not a keystroke request');
    // The keystroke's request has the same windows (so the engine reuses what the warm-up evaluated) and is not
    // served from a cache the warm-up filled.
    const v = await svc.complete({ text: doc, offset: at, documentId: 'f.ts' }, settings);
    assert.equal(v.kind === 'shown' && v.source, 'engine');
    assert.equal(engine.calls[1]!.prefix, engine.calls[0]!.prefix);
    assert.equal(engine.calls[1]!.suffix, engine.calls[0]!.suffix);
    assert.equal(engine.calls[1]!.documentId, 'f.ts');
    // Now the spot has a cached suggestion: nothing to warm.
    assert.equal(await svc.warm({ text: doc, offset: at, documentId: 'f.ts' }, settings), undefined);
    assert.equal(engine.calls.length, 2);
  });

  it('types through a suggestion with no further engine request', async () => {
    const engine = scriptedEngine([['return ', { text: 'total + 1;' }]]);
    const svc = new CompletionService(engine);
    const doc = 'function f(total) {\n  return \n}\n';
    const at = doc.indexOf('return ') + 7;
    const v1 = await svc.complete({ text: doc, offset: at }, settings);
    assert.equal(v1.kind, 'shown');
    assert.equal(v1.kind === 'shown' && v1.text, 'total + 1;');
    for (let i = 1; i <= 5; i++) {
      const typed = 'total + 1;'.slice(0, i);
      const d = doc.slice(0, at) + typed + doc.slice(at);
      const v = await svc.complete({ text: d, offset: at + i }, settings);
      assert.equal(v.kind === 'shown' && v.source, 'typeThrough');
      assert.equal(v.kind === 'shown' && v.text, 'total + 1;'.slice(i));
    }
    assert.equal(engine.calls.length, 1);
    assert.equal(svc.stats.engineRequests, 1);
    assert.equal(svc.stats.typeThroughHits, 5);
  });

  it('names why nothing is shown: pointless rest of line, empty after post-processing, confidence gate', async () => {
    const engine = scriptedEngine([['x = ', { text: '   ' }], ['y = ', { text: 'maybe()', confidence: -3 }]]);
    const svc = new CompletionService(engine);
    const busy = 'call(x, somethingLongHere)';
    const v1 = await svc.complete({ text: busy, offset: 5 }, settings);
    assert.equal(v1.kind, 'none');
    assert.match(v1.kind === 'none' ? v1.reason : '', /pointless: rest of line has \d+ non-trivial/);
    assert.equal(engine.calls.length, 0);
    const v2 = await svc.complete({ text: 'x = \n', offset: 4 }, settings);
    assert.match(v2.kind === 'none' ? v2.reason : '', /empty after post-processing: whitespace only/);
    const v3 = await svc.complete({ text: 'y = \n', offset: 4 }, { ...settings, minConfidence: -1 });
    assert.match(v3.kind === 'none' ? v3.reason : '', /gated: confidence -3\.00 < threshold -1/);
    assert.equal(svc.stats.gated, 1);
    const v4 = await svc.complete({ text: 'y = \n', offset: 4 }, { ...settings, minConfidence: -5 });
    assert.equal(v4.kind === 'shown' && v4.source, 'cache');
  });

  it('prepares the suggestion after acceptance, so the next Tab is served from the cache', async () => {
    const engine = scriptedEngine([['a = 1;', { text: '\nb = 2;' }], ['a = ', { text: '1;' }]]);
    const svc = new CompletionService(engine);
    const v = await svc.complete({ text: 'a = ', offset: 4 }, settings);
    assert.equal(v.kind === 'shown' && v.text, '1;');
    await svc.prefetch({ text: 'a = ', offset: 4 }, '1;', settings);
    const next = await svc.complete({ text: 'a = 1;', offset: 6 }, settings);
    assert.equal(next.kind === 'shown' && next.source, 'cache');
    assert.equal(next.kind === 'shown' && next.text, '\nb = 2;');
    assert.equal(engine.calls.length, 2);
  });

  it('offers beam alternatives, post-processed, without the main suggestion', async () => {
    const engine = scriptedEngine([['= ', { text: 'a;', alternatives: [{ text: 'b;', confidence: -1 }, { text: 'a;', confidence: -2 }, { text: ' ', confidence: -2 }] }]]);
    const v = await new CompletionService(engine).complete({ text: 'x = \n', offset: 4 }, settings);
    assert.deepEqual(v.kind === 'shown' && v.alternatives, ['b;']);
  });

  it('reports a cancelled request as cancelled', async () => {
    const engine = scriptedEngine([['= ', { text: 'a', stopReason: 'cancelled' }]]);
    const v = await new CompletionService(engine).complete({ text: 'x = \n', offset: 4 }, settings);
    assert.match(v.kind === 'none' ? v.reason : '', /cancelled by a newer keystroke/);
  });
});

describe('GenerationControl', () => {
  it('adapts the debounce to a keystroke\'s measured time to first token, not to prefills, and a fixed setting wins', () => {
    const g = new GenerationControl();
    assert.equal(g.debounceMs(0), 75);
    g.observe({ totalMs: 40, timeToFirstTokenMs: 10, tokensOut: 4, stopReason: 'eos', tokensEvaluated: 1 });
    assert.equal(g.debounceMs(0), 25);
    for (let i = 0; i < 20; i++) g.observe({ totalMs: 2000, timeToFirstTokenMs: 500, tokensOut: 10, stopReason: 'eos', tokensEvaluated: 3 });
    assert.equal(g.debounceMs(0), 300);
    assert.equal(g.debounceMs(120), 120);
    const typist = new GenerationControl();
    typist.observe({ totalMs: 400, timeToFirstTokenMs: 90, tokensOut: 8, stopReason: 'maxTokens', tokensEvaluated: 1 });
    assert.equal(typist.debounceMs(0), 90);
    // A new file's prompt read until the time cap, and a long prompt's answer: neither is a keystroke's cost.
    typist.observe({ totalMs: 3000, timeToFirstTokenMs: null, tokensOut: 0, stopReason: 'timeLimit', tokensEvaluated: 512 });
    typist.observe({ totalMs: 3000, timeToFirstTokenMs: 2800, tokensOut: 3, stopReason: 'eos', tokensEvaluated: 400 });
    assert.equal(typist.debounceMs(0), 90, 'prefills do not push the debounce to its maximum');
  });

  it('measures the prefill speed from long prompts and says whether a re-read of a whole prompt is affordable', () => {
    const g = new GenerationControl();
    assert.equal(g.affordsPrefill(1600, 1000), false, 'unknown speed: no (a slow model would re-read its whole prompt)');
    // A keystroke says nothing of prefill; a 1,500-token read in 15 s does (~100 tok/s: a 1.5B model on two cores).
    g.observe({ totalMs: 60, timeToFirstTokenMs: 50, tokensOut: 1, stopReason: 'maxTokens', tokensEvaluated: 1 });
    assert.equal(g.measured.prefillTokensPerSecond, undefined);
    g.observe({ totalMs: 15_500, timeToFirstTokenMs: 15_000, tokensOut: 4, stopReason: 'eos', tokensEvaluated: 1500 });
    assert.equal(Math.round(g.measured.prefillTokensPerSecond!), 100);
    assert.equal(g.affordsPrefill(1600, 1000), false);
    assert.equal(g.affordsPrefill(80, 1000), true);
    // A prompt read until a keystroke cancelled it counts too (a session's first requests on a slow model).
    const first = new GenerationControl();
    first.observe({ totalMs: 3000, timeToFirstTokenMs: null, tokensOut: 0, stopReason: 'cancelled', tokensEvaluated: 256 });
    assert.equal(first.affordsPrefill(1600, 1000), false);
    // The shipped tiny model reads ~300 tokens in 30 ms: a refresh is cheap.
    const tiny = new GenerationControl();
    tiny.observe({ totalMs: 40, timeToFirstTokenMs: 30, tokensOut: 3, stopReason: 'eos', tokensEvaluated: 300 });
    assert.equal(tiny.affordsPrefill(1600, 1000), true);
  });

  it('caps tokens by the measured decode speed: a slow machine gets fewer', () => {
    const g = new GenerationControl();
    assert.equal(g.caps({ maxTokens: 48, timeLimitMs: 3000 }, false).maxTokens, 48);
    g.observe({ totalMs: 1050, timeToFirstTokenMs: 100, tokensOut: 20, stopReason: 'eos', tokensEvaluated: 1 }); // 19 more in 950 ms: 20 tok/s
    const c = g.caps({ maxTokens: 48, timeLimitMs: 3000 }, false);
    assert.equal(c.maxTokens, 9, '20 tok/s × 450 ms for one line');
    assert.match(c.reason ?? '', /decode 20 tok\/s/);
    assert.equal(g.caps({ maxTokens: 48, timeLimitMs: 3000 }, true).maxTokens, 21, '20 tok/s × 1050 ms for a block');
    const typing = new GenerationControl();
    typing.observe({ totalMs: 1050, timeToFirstTokenMs: 100, tokensOut: 20, stopReason: 'cancelled', tokensEvaluated: 1 });
    assert.equal(typing.caps({ maxTokens: 48, timeLimitMs: 3000 }, false).maxTokens, 9, 'a request cancelled mid-decode still measures the decode rate');
    assert.equal(typing.debounceMs(0), 100, 'and its time to first token');
    assert.equal(typing.measured.latencyMs, undefined, 'but not the latency');
    typing.observe({ totalMs: 300, timeToFirstTokenMs: null, tokensOut: 0, stopReason: 'cancelled', tokensEvaluated: 40 });
    assert.equal(typing.measured.tokensPerSecond, 20, 'one cancelled before its first token says nothing');
    const early = new GenerationControl();
    early.observe({ totalMs: 115, timeToFirstTokenMs: 100, tokensOut: 2, stopReason: 'cancelled', tokensEvaluated: 1 });
    assert.equal(Math.round(early.measured.tokensPerSecond ?? 0), 67, 'a request cancelled two tokens in: one token in 15 ms, not two');
    const first = new GenerationControl();
    first.observe({ totalMs: 80, timeToFirstTokenMs: 80, tokensOut: 1, stopReason: 'cancelled', tokensEvaluated: 1 });
    const guessed = first.caps({ maxTokens: 48, timeLimitMs: 3000 }, true);
    assert.equal(guessed.maxTokens, 13, 'before any decode is measured: a keystroke\'s first token (80 ms) × 1050 ms for a block');
    assert.match(guessed.reason ?? '', /from a keystroke's first token/);
    const slow = new GenerationControl();
    slow.observe({ totalMs: 2100, timeToFirstTokenMs: 100, tokensOut: 4, stopReason: 'eos', tokensEvaluated: 1 }); // 2 tok/s
    assert.equal(slow.caps({ maxTokens: 48, timeLimitMs: 3000 }, false).maxTokens, 8, 'never fewer than a short line needs');
    assert.equal(g.caps({ maxTokens: 32, timeLimitMs: 60_000 }, false).maxTokens, 32, 'a generous time limit allows the full token cap');
  });
});

describe('runCompletion: copy candidates under the confidence gate', () => {
  it('passes the gate to the engine as the floor a copy candidate must reach, and none without a gate', async () => {
    const engine = scriptedEngine([]);
    const doc = { text: 'const a = 1;\nconst b', offset: 'const a = 1;\nconst b'.length };
    await runCompletion(engine, doc, { ...settings, minConfidence: -1.31 });
    await runCompletion(engine, doc, settings);
    assert.equal(engine.calls[0]!.copyMinConfidence, -1.31);
    assert.equal(engine.calls[1]!.copyMinConfidence, undefined);
  });
});
