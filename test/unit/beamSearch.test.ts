import * as assert from 'node:assert/strict';
import { beamSearch, bestOf, scoreCandidates, topLogProbs, withCandidates, type BeamModel, type CandidateModel } from '../../src/node/engine/backends/beamSearch';

/** A toy language model over a few tokens: a table from the text so far to next-token probabilities. */
const VOCAB = ['<end>', 'a', 'b', 'c', '\n', 're', 'ret', 'return'];
const END = 0;

function toyModel(table: Record<string, Record<string, number>>): BeamModel & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    next: async (tokens, k, allowed) => {
      const key = tokens.map((t) => VOCAB[t]).join('');
      calls.push(key);
      const dist = table[key] ?? { '<end>': 1 };
      const probs = new Map<number, number>();
      for (const [tok, p] of Object.entries(dist)) probs.set(VOCAB.indexOf(tok), p);
      return topLogProbs(probs, k, allowed);
    },
    isEnd: (t) => t === END,
    text: (tokens) => tokens.map((t) => VOCAB[t]).join(''),
  };
}

// Greedy takes `a` (0.6) and then wanders (at most 0.6 × 0.35 = 0.21); `b` then the end is 0.4 × 0.95 = 0.38.
const GARDEN_PATH = {
  '': { a: 0.6, b: 0.4 },
  a: { a: 0.35, b: 0.33, c: 0.32 },
  aa: { '<end>': 0.5, c: 0.5 },
  ab: { '<end>': 0.5, c: 0.5 },
  ac: { '<end>': 0.5, c: 0.5 },
  b: { '<end>': 0.95, c: 0.05 },
};

describe('beamSearch', () => {
  it('finds the likelier whole completion that greedy decoding misses', async () => {
    const beam = await beamSearch(toyModel(GARDEN_PATH), { width: 2, maxTokens: 8, stops: [] });
    assert.equal(beam.text, 'b');
    assert.equal(beam.stopReason, 'eos');
    assert.ok(Math.abs(beam.logProb - Math.log(0.4 * 0.95)) < 1e-9, String(beam.logProb));
    const greedy = await beamSearch(toyModel(GARDEN_PATH), { width: 1, maxTokens: 8, stops: [] });
    assert.equal(greedy.text, 'aa');
    assert.ok(greedy.logProb < beam.logProb);
  });

  it('returns the other finished candidates with distinct texts as alternatives, likeliest first', async () => {
    const table = { '': { a: 0.5, b: 0.3, c: 0.2 }, a: { '<end>': 1 }, b: { '<end>': 1 }, c: { '<end>': 1 } };
    const beam = await beamSearch(toyModel(table), { width: 3, maxTokens: 4, stops: [] });
    assert.equal(beam.text, 'a');
    assert.deepEqual(beam.alternatives.map((a) => a.text), ['b', 'c']);
    assert.ok(Math.abs(beam.alternatives[0]!.logProb - Math.log(0.3)) < 1e-9);
  });

  it('stops early once a finished candidate beats every live beam', async () => {
    const model = toyModel(GARDEN_PATH);
    await beamSearch(model, { width: 2, maxTokens: 32, stops: [] });
    // '' (step 1), then 'a' and 'b' (step 2): `b<end>` (0.38) beats every continuation of `a` (≤ 0.21).
    assert.deepEqual(model.calls, ['', 'a', 'b']);
  });

  it('ends a candidate at a stop string and drops it', async () => {
    const table = { '': { a: 0.9, b: 0.1 }, a: { '\n': 0.9, c: 0.1 }, 'a\n': { b: 1 } };
    const r = await beamSearch(toyModel(table), { width: 3, maxTokens: 8, stops: ['\n'] });
    assert.equal(r.text, 'a');
    assert.equal(r.stopReason, 'stop');
  });

  it('heals: the first token begins with the taken-back text, which is not returned', async () => {
    const table = { '': { a: 0.7, return: 0.2, ret: 0.1 }, return: { '<end>': 0.9, a: 0.1 }, ret: { '<end>': 1 } };
    const allowed = new Set([VOCAB.indexOf('ret'), VOCAB.indexOf('return'), VOCAB.indexOf('re')]);
    const r = await beamSearch(toyModel(table), { width: 2, maxTokens: 8, stops: [], heal: 're', firstAllowed: allowed });
    assert.equal(r.text, 'turn');
  });

  it('nonEmpty: a healed middle that is only the taken-back text is dropped and the search goes on', async () => {
    // `re` then the end (0.6 × 0.9 = 0.54) beats `return` then the end (0.4): an empty answer after healing.
    const table = { '': { re: 0.6, return: 0.4 }, re: { '<end>': 0.9, '\n': 0.1 }, return: { '<end>': 1 } };
    const allowed = new Set([VOCAB.indexOf('ret'), VOCAB.indexOf('return'), VOCAB.indexOf('re')]);
    const plain = await beamSearch(toyModel(table), { width: 2, maxTokens: 8, stops: ['\n'], heal: 're', firstAllowed: allowed });
    assert.equal(plain.text, '');
    const r = await beamSearch(toyModel(table), { width: 2, maxTokens: 8, stops: ['\n'], heal: 're', firstAllowed: allowed, nonEmpty: true });
    assert.equal(r.text, 'turn');
    assert.ok(Math.abs(r.logProb - Math.log(0.4)) < 1e-9, String(r.logProb));
    // nothing but empty candidates: no answer, with no probability (bestOf then prefers any other search)
    const none = await beamSearch(toyModel({ '': { re: 1 }, re: { '<end>': 1 } }), { width: 2, maxTokens: 8, stops: [], heal: 're', firstAllowed: allowed, nonEmpty: true });
    assert.equal(none.text, '');
    assert.equal(none.logProb, -Infinity);
  });

  it('bestOf: the likelier of two searches, the other one among the alternatives', async () => {
    const healed = await beamSearch(toyModel({ '': { a: 0.2, b: 0.1 }, a: { '<end>': 1 }, b: { '<end>': 1 } }), { width: 2, maxTokens: 4, stops: [] });
    const asTyped = await beamSearch(toyModel({ '': { c: 0.5, a: 0.3 }, c: { '<end>': 1 }, a: { '<end>': 1 } }), { width: 2, maxTokens: 4, stops: [] });
    const r = bestOf([healed, asTyped]);
    assert.equal(r.text, 'c');
    assert.deepEqual(r.alternatives.map((a) => a.text), ['a', 'b']);
    assert.ok(Math.abs(r.alternatives[0]!.logProb - Math.log(0.3)) < 1e-9);
    const ac = new AbortController();
    ac.abort();
    const cancelled = await beamSearch(toyModel({}), { width: 2, maxTokens: 4, stops: [], signal: ac.signal });
    assert.equal(bestOf([cancelled, healed]).text, 'a');
    assert.equal(bestOf([healed, cancelled]).text, 'a');
  });

  it('returns the best partial beam when cut by maxTokens or cancelled', async () => {
    const table = { '': { a: 1 }, a: { a: 1 }, aa: { a: 1 } };
    const cut = await beamSearch(toyModel(table), { width: 2, maxTokens: 2, stops: [] });
    assert.equal(cut.text, 'aa');
    assert.equal(cut.stopReason, 'maxTokens');
    const ac = new AbortController();
    ac.abort();
    const cancelled = await beamSearch(toyModel(table), { width: 2, maxTokens: 8, stops: [], signal: ac.signal });
    assert.equal(cancelled.stopReason, 'cancelled');
    assert.equal(cancelled.text, '');
  });

  it('starts no further expansion once cancelled, and returns the best beam so far', async () => {
    const ac = new AbortController();
    const model = toyModel({ '': { a: 0.6, b: 0.4 }, a: { a: 0.5, c: 0.5 }, b: { a: 0.5, c: 0.5 } });
    const next = model.next;
    model.next = async (tokens, k, allowed) => {
      if (tokens.length === 1) ac.abort(); // cancelled while the second step expands its first beam
      return next(tokens, k, allowed);
    };
    const r = await beamSearch(model, { width: 2, maxTokens: 8, stops: [], signal: ac.signal });
    assert.deepEqual(model.calls, ['', 'a']);
    assert.equal(r.stopReason, 'cancelled');
    assert.equal(r.text, 'a');
  });
});

describe('topLogProbs', () => {
  it('keeps the k most probable tokens, best first', () => {
    const probs = new Map([[1, 0.1], [2, 0.4], [3, 0.05], [4, 0.3], [5, 0.15]]);
    assert.deepEqual(topLogProbs(probs, 3).map(([t]) => t), [2, 4, 5]);
    assert.ok(Math.abs(topLogProbs(probs, 1)[0]![1] - Math.log(0.4)) < 1e-12);
  });

  it('renormalises over the allowed tokens', () => {
    const probs = new Map([[1, 0.5], [2, 0.3], [3, 0.2]]);
    const top = topLogProbs(probs, 2, new Set([2, 3]));
    assert.deepEqual(top.map(([t]) => t), [2, 3]);
    assert.ok(Math.abs(top[0]![1] - Math.log(0.6)) < 1e-12);
  });
});

describe('scoreCandidates and withCandidates (copy candidates chosen by the model)', () => {
  // The toy model again, as a CandidateModel: texts tokenize to whole vocabulary entries.
  const table: Record<string, Record<string, number>> = {
    '': { a: 0.5, b: 0.3, re: 0.2 },
    a: { '<end>': 0.4, c: 0.6 },
    ac: { '<end>': 0.2, '\n': 0.3, c: 0.5 },
    b: { '<end>': 0.9, c: 0.1 },
    re: { '<end>': 1 },
  };
  const dist = (key: string) => new Map(Object.entries(table[key] ?? { '<end>': 1 }).map(([t, p]) => [VOCAB.indexOf(t), p]));
  const model: CandidateModel & { evaluated: string[] } = {
    evaluated: [],
    tokenize: (text) => {
      const out: number[] = [];
      let rest = text;
      while (rest) {
        const i = [...VOCAB.keys()].filter((t) => t !== END && rest.startsWith(VOCAB[t]!)).sort((x, y) => VOCAB[y]!.length - VOCAB[x]!.length)[0];
        if (i === undefined) return undefined;
        out.push(i);
        rest = rest.slice(VOCAB[i]!.length);
      }
      return out;
    },
    distributions: async (tokens) => {
      model.evaluated.push(tokens.map((t) => VOCAB[t]).join(''));
      return Array.from({ length: tokens.length + 1 }, (_, i) => dist(tokens.slice(0, i).map((t) => VOCAB[t]).join('')));
    },
    endTokens: (stops) => new Set([END, ...[...VOCAB.keys()].filter((t) => stops.some((s) => VOCAB[t]!.startsWith(s)))]),
  };

  it('scores a candidate as a beam is ranked: its tokens, then the likeliest ending (end of middle or a stop)', async () => {
    const [ac] = await scoreCandidates(model, ['ac'], { stops: ['\n'] });
    assert.ok(Math.abs(ac!.logProb - Math.log(0.5 * 0.6 * 0.3)) < 1e-12, String(ac!.logProb));
    const [b] = await scoreCandidates(model, ['b'], { stops: [] });
    assert.ok(Math.abs(b!.logProb - Math.log(0.3 * 0.9)) < 1e-12);
    // One evaluation per candidate; text it cannot spell is skipped without one.
    model.evaluated.length = 0;
    assert.deepEqual(await scoreCandidates(model, ['zzz', 'b'], { stops: [] }).then((r) => r.map((x) => x.text)), ['b']);
    assert.deepEqual(model.evaluated, ['b']);
  });

  it('with healing, a candidate must begin with a healed token, the first renormalised over the allowed ones', async () => {
    const allowed = new Set([VOCAB.indexOf('re'), VOCAB.indexOf('b')]);
    const scored = await scoreCandidates(model, ['', 'a'], { heal: 're', firstAllowed: new Set([VOCAB.indexOf('re')]), stops: [] });
    // 're' + 'a' does not spell vocabulary tokens; 're' alone is P(re | allowed) = 1, then the end (1).
    assert.deepEqual(scored.map((s) => s.text), ['']);
    assert.ok(Math.abs(scored[0]!.logProb) < 1e-12);
    const [b] = await scoreCandidates(model, ['b'], { firstAllowed: allowed, stops: [] });
    assert.ok(Math.abs(b!.logProb - Math.log((0.3 / 0.5) * 0.9)) < 1e-12);
  });

  it('keeps the likeliest of the beams and the candidates, the rest as alternatives', async () => {
    const beams = await beamSearch(toyModel(GARDEN_PATH), { width: 2, maxTokens: 8, stops: [] }); // 'b', log 0.38
    const likelier = [{ text: 'copy', tokens: [1, 2], logProb: Math.log(0.5) }];
    const r = withCandidates(beams, likelier);
    assert.equal(r.text, 'copy');
    assert.ok(r.alternatives.some((a) => a.text === 'b'));
    const unlikelier = [{ text: 'copy', tokens: [1, 2], logProb: Math.log(0.1) }];
    assert.equal(withCandidates(beams, unlikelier).text, 'b');
    const chosen = withCandidates(beams, unlikelier, Math.log(10));
    assert.equal(chosen.text, 'copy');
    // The prior chooses; the answer keeps the model's own log-probability (the editor's confidence).
    assert.ok(Math.abs(chosen.logProb - Math.log(0.1)) < 1e-12);
    assert.equal(withCandidates(beams, unlikelier, () => Math.log(10)).text, 'copy');
    assert.equal(withCandidates(beams, []).text, 'b');
  });
});
