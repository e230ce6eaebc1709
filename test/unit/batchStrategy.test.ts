import * as assert from 'node:assert/strict';
import { createEngineBatchStrategy } from '../../src/node/engine/batchStrategy';

/** A queued evaluation: `answers` asks for the last token's logits (a keystroke or a generation step). */
const item = (name: string, tokens: number, evaluationPriority: number, answers = true) => ({
  name,
  tokens: Array.from({ length: tokens }, (_, i) => i),
  logits: Array.from({ length: tokens }, (_, i) => (answers && i === tokens - 1 ? (true as const) : undefined)),
  evaluationPriority,
});
type Item = ReturnType<typeof item>;
const names = (r: { item: Item; processAmount: number }[]) => r.map((p) => `${p.item.name}:${p.processAmount}`);

describe('engine batch strategy', () => {
  let clock = 0;
  const strategy = () => createEngineBatchStrategy({ now: () => clock });
  beforeEach(() => (clock = 0));

  it('evaluates one sequence per batch, the oldest first at one priority', () => {
    assert.deepEqual(names(strategy()({ items: [item('a', 4, 5), item('b', 1, 5)], size: 512 })), ['a:4']);
    assert.deepEqual(names(strategy()({ items: [item('a', 1, 5), item('b', 1, 5)], size: 512 })), ['a:1']);
  });

  it('with shareSingles, batches single tokens of several sequences together, leaving longer items for the next batch', () => {
    const s = createEngineBatchStrategy({ now: () => clock, shareSingles: true });
    assert.deepEqual(names(s({ items: [item('a', 1, 4), item('b', 3, 4), item('c', 1, 4), item('d', 1, 1)], size: 512 })), ['a:1', 'c:1', 'd:1']);
    assert.deepEqual(names(s({ items: [item('b', 3, 4), item('c', 1, 4)], size: 512 })), ['b:3'], 'a longer item first in line runs alone');
  });

  it('takes the highest priority first: the focused window before another window, before chat and background', () => {
    const r = strategy()({ items: [item('chat', 1, 3), item('other', 4, 4), item('focused', 2, 5)], size: 512 });
    assert.deepEqual(names(r), ['focused:2']);
    const shared = createEngineBatchStrategy({ now: () => clock, shareSingles: true });
    assert.deepEqual(names(shared({ items: [item('bg', 1, 1), item('chat', 1, 3), item('focused', 1, 5)], size: 512 })), ['focused:1', 'chat:1', 'bg:1'], 'ordered by priority within a shared batch');
  });

  it("puts another window's keystroke before prefill steps queued earlier at the same priority", () => {
    const s = strategy();
    const jumpA = item('jumpA', 4, 5, false);
    const jumpB = item('jumpB', 4, 5, false);
    const key = item('key', 2, 5);
    assert.deepEqual(names(s({ items: [jumpA, jumpB, key], size: 512 })), ['key:2']);
    assert.deepEqual(names(s({ items: [jumpA, jumpB], size: 512 })), ['jumpA:4'], 'then the steps, oldest first');
  });

  it('lets a prefill step that has waited 150 ms go before newer keystrokes, so generating windows cannot starve it', () => {
    const s = strategy();
    const jump = item('jump', 4, 5, false);
    assert.deepEqual(names(s({ items: [jump, item('gen', 1, 5)], size: 512 })), ['gen:1']);
    clock = 149;
    assert.deepEqual(names(s({ items: [jump, item('gen', 1, 5)], size: 512 })), ['gen:1']);
    clock = 150;
    assert.deepEqual(names(s({ items: [jump, item('gen', 1, 5)], size: 512 })), ['jump:4']);
  });

  it('lets chat that has waited 500 ms go before newer keystrokes; background never jumps the queue', () => {
    const s = strategy();
    const chat = item('chat', 1, 3);
    const bg = item('bg', 8, 1, false);
    assert.deepEqual(names(s({ items: [bg, chat, item('key', 1, 5)], size: 512 })), ['key:1']);
    clock = 499;
    assert.deepEqual(names(s({ items: [bg, chat, item('key', 1, 5)], size: 512 })), ['key:1']);
    clock = 500;
    assert.deepEqual(names(s({ items: [bg, chat, item('key', 1, 5)], size: 512 })), ['chat:1']);
    clock = 5000;
    assert.deepEqual(names(s({ items: [bg, item('key', 1, 5)], size: 512 })), ['key:1'], 'background waits for all else');
  });

  it('keeps to the batch size', () => {
    assert.deepEqual(names(strategy()({ items: [item('long', 1000, 5)], size: 512 })), ['long:512']);
    const shared = createEngineBatchStrategy({ now: () => clock, shareSingles: true });
    assert.deepEqual(names(shared({ items: [item('a', 1, 5), item('b', 1, 5), item('c', 1, 5)], size: 2 })), ['a:1', 'b:1']);
  });

  it('returns nothing for an empty queue', () => {
    assert.deepEqual(strategy()({ items: [], size: 512 }), []);
  });
});
