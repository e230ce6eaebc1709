import * as assert from 'node:assert/strict';
import { Scheduler } from '../../src/node/engine/scheduler';

/** A job that runs until its signal aborts or `release()` is called, recording what happened. */
function controllable(log: string[], name: string) {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const fn = (signal: AbortSignal) =>
    new Promise<string>((resolve) => {
      log.push(`start ${name}`);
      signal.addEventListener('abort', () => resolve(`${name} aborted`), { once: true });
      void released.then(() => resolve(`${name} done`));
    });
  return { fn, release: () => release() };
}

describe('Scheduler', () => {
  it('lets a newer completion for the same document cancel the older one', async () => {
    const s = new Scheduler();
    const log: string[] = [];
    const a = controllable(log, 'a');
    const b = controllable(log, 'b');
    const pa = s.run({ priority: 'completion', key: 'doc1' }, a.fn);
    const pb = s.run({ priority: 'completion', key: 'doc1' }, b.fn);
    assert.equal(await pa, 'a aborted');
    b.release();
    assert.equal(await pb, 'b done');
  });

  it('does not cancel a completion for another document; it waits its turn', async () => {
    const s = new Scheduler();
    const log: string[] = [];
    const a = controllable(log, 'a');
    const b = controllable(log, 'b');
    const pa = s.run({ priority: 'completion', key: 'doc1' }, a.fn);
    const pb = s.run({ priority: 'completion', key: 'doc2' }, b.fn);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(log, ['start a']);
    a.release();
    assert.equal(await pa, 'a done');
    b.release();
    assert.equal(await pb, 'b done');
  });

  it('runs chat beside a completion, and background only when both are idle', async () => {
    const s = new Scheduler();
    const log: string[] = [];
    const c = controllable(log, 'completion');
    const h = controllable(log, 'chat');
    const g = controllable(log, 'background');
    const pc = s.run({ priority: 'completion' }, c.fn);
    const ph = s.run({ priority: 'chat' }, h.fn);
    const pg = s.run({ priority: 'background' }, g.fn);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(log, ['start completion', 'start chat']);
    c.release();
    await pc;
    await new Promise((r) => setImmediate(r));
    assert.ok(!log.includes('start background'), 'background started while chat runs');
    h.release();
    await ph;
    await new Promise((r) => setImmediate(r));
    assert.ok(log.includes('start background'));
    g.release();
    assert.equal(await pg, 'background done');
  });

  it('cancels through the caller signal', async () => {
    const s = new Scheduler();
    const ac = new AbortController();
    const p = s.run({ priority: 'chat', signal: ac.signal }, controllable([], 'x').fn);
    ac.abort();
    assert.equal(await p, 'x aborted');
  });

  it('runs completions for different documents side by side up to the live sequences, one per document', async () => {
    const s = new Scheduler();
    s.setCapacity('completion', 2);
    const log: string[] = [];
    const a = controllable(log, 'a');
    const b = controllable(log, 'b');
    const c = controllable(log, 'c');
    const a2 = controllable(log, 'a2');
    const pa = s.run({ priority: 'completion', key: 'doc1' }, a.fn);
    const pb = s.run({ priority: 'completion', key: 'doc2' }, b.fn);
    const pc = s.run({ priority: 'completion', key: 'doc3' }, c.fn);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(log, ['start a', 'start b'], 'two documents at once; the third waits for a free sequence');
    // A newer keystroke in doc1 cancels a; it starts only once a has stopped (they share doc1's sequence).
    const pa2 = s.run({ priority: 'completion', key: 'doc1' }, a2.fn);
    assert.equal(await pa, 'a aborted');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(log, ['start a', 'start b', 'start c'], 'the freed sequence goes to the job queued first');
    c.release();
    assert.equal(await pc, 'c done');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(log.slice(3), ['start a2']);
    b.release();
    a2.release();
    assert.equal(await pb, 'b done');
    assert.equal(await pa2, 'a2 done');
  });
});
