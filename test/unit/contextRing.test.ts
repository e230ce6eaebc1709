import * as assert from 'node:assert/strict';
import { chunkAround, ContextRing, contextRefresh, likeness } from '../../src/common/completion/contextRing';

const code = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `const ${tag}${i} = compute${tag}(${i});`).join('\n');

describe('ContextRing', () => {
  it('keeps the newest chunks up to its capacity', () => {
    const ring = new ContextRing(2);
    ring.add({ path: 'a.ts', text: code(5, 'a'), kind: 'opened' });
    ring.add({ path: 'b.ts', text: code(5, 'b'), kind: 'saved' });
    ring.add({ path: 'c.ts', text: code(5, 'c'), kind: 'copied' });
    assert.deepEqual(ring.select('x.ts', '', 10_000).map((c) => c.path), ['b.ts', 'c.ts']);
  });

  it('evicts a near-duplicate instead of holding it twice', () => {
    const ring = new ContextRing(4);
    ring.add({ path: 'a.ts', text: code(10, 'a'), kind: 'opened' });
    const v = ring.version;
    ring.add({ path: 'a.ts', text: code(11, 'a'), kind: 'saved' });
    assert.equal(ring.size, 1);
    assert.ok(ring.version > v);
    assert.equal(ring.add({ path: 'a.ts', text: code(11, 'a'), kind: 'saved' }), false, 'the same chunk again changes nothing');
    assert.ok(likeness(code(10, 'a'), code(11, 'a')) > 0.9);
    assert.equal(likeness(code(10, 'a'), code(10, 'b')), 0);
  });

  it('leaves out chunks the prompt already shows and keeps within the character budget, newest first', () => {
    const ring = new ContextRing(8);
    ring.add({ path: 'cur.ts', text: code(6, 'c'), kind: 'opened' });
    ring.add({ path: 'old.ts', text: code(6, 'o'), kind: 'opened' });
    ring.add({ path: 'new.ts', text: code(6, 'n'), kind: 'definition' });
    const picked = ring.select('cur.ts', code(6, 'c'), code(6, 'n').length + 10);
    assert.deepEqual(picked.map((c) => c.path), ['new.ts']);
  });

  it('cuts a chunk around a line', () => {
    const text = Array.from({ length: 200 }, (_, i) => `line ${i}`).join('\n');
    const c = chunkAround(text, 100, 10);
    assert.equal(c.split('\n').length, 10);
    assert.ok(c.includes('line 100'));
    assert.ok(chunkAround(text, 0, 10).startsWith('line 0'));
  });

  it('gives a document a new context only where the re-read it causes is cheap on this machine (contextRefresh)', () => {
    const slow = { whole: false, context: false };
    const base = { known: true, ringChanged: true, windowMoved: false, idle: true, affordable: slow };
    assert.equal(contextRefresh({ ...base, known: false }), 'new', 'a document seen for the first time');
    assert.equal(contextRefresh(base), 'keep', 'slow machine: the document keeps its prompt start (and state)');
    assert.equal(contextRefresh({ ...base, windowMoved: true }), 'keep', 'slow machine: even the context alone is too long to read again');
    assert.equal(contextRefresh({ ...base, affordable: { whole: true, context: true } }), 'new', 'fast machine, after a pause');
    assert.equal(contextRefresh({ ...base, affordable: { whole: true, context: true }, idle: false }), 'keep', 'while typing in the same window, never');
    const middling = { whole: false, context: true };
    assert.equal(contextRefresh({ ...base, affordable: middling }), 'keep', 'a whole prompt is too long to read again');
    assert.equal(contextRefresh({ ...base, affordable: middling, windowMoved: true, idle: false }), 'new', 'the window moved: its prompt is read again anyway, the context adds little');
    assert.equal(contextRefresh({ ...base, affordable: middling, windowMoved: true, ringChanged: false }), 'keep', 'nothing new to say');
  });
});
