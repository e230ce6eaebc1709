import * as assert from 'node:assert/strict';
import { PrefillPacer, StepGate } from '../../src/node/engine/prefillPacer';

describe('PrefillPacer', () => {
  let clock = 0;
  const pacer = () => new PrefillPacer({ bigStep: 128, smallStep: 8, recentMs: 2000, now: () => clock });
  beforeEach(() => (clock = 0));

  it('gives a focused window typing alone big steps, whatever its own earlier requests', () => {
    const p = pacer();
    const earlier = p.begin('/a.ts');
    earlier.end();
    const a = p.begin('/a.ts');
    assert.equal(p.step(a.key, true), 128);
  });

  it('gives small steps while another document has a completion in flight, and after it ends for recentMs', () => {
    const p = pacer();
    const b = p.begin('/b.ts');
    const a = p.begin('/a.ts');
    assert.equal(p.step(a.key, true), 8, 'another window is waiting for its completion');
    clock = 500;
    b.end();
    clock = 2400;
    assert.equal(p.step(a.key, true), 8, 'the other window typed 1.9 s ago: its next key may come any moment');
    clock = 2600;
    assert.equal(p.step(a.key, true), 128, 'the other window has been quiet for 2.1 s');
  });

  it('always gives a window without focus small steps', () => {
    const p = pacer();
    const a = p.begin('/a.ts');
    assert.equal(p.step(a.key, false), 8);
  });

  it('counts requests without a document as documents of their own, and work that is not typing as nobody', () => {
    const p = pacer();
    const first = p.begin(undefined);
    const second = p.begin(undefined);
    assert.notEqual(first.key, second.key);
    assert.equal(p.step(second.key, true), 8);
    first.end();
    second.end();
    clock = 5000;
    const background = p.keyFor(undefined);
    assert.equal(p.step(background, true), 128);
    const a = p.begin('/a.ts');
    assert.equal(p.step(background, true), 8, 'background work yields to a typing window');
    assert.equal(p.step(a.key, true), 128, 'background work does not slow a typing window');
  });

  it('ends a request once, even when its end is called twice', () => {
    const p = pacer();
    const a1 = p.begin('/a.ts');
    const a2 = p.begin('/a.ts');
    a1.end();
    a1.end();
    const b = p.begin('/b.ts');
    clock = 10_000;
    assert.equal(p.step(b.key, true), 8, "/a.ts's second request is still in flight");
    a2.end();
    clock = 20_000;
    assert.equal(p.step(b.key, true), 128);
  });
});

describe('StepGate', () => {
  const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));
  /** A step that records its start and end and lasts until `finish()` is called. */
  function step(log: string[], name: string) {
    let finish!: () => void;
    const done = new Promise<void>((r) => (finish = r));
    return {
      run: async () => {
        log.push(`start ${name}`);
        await done;
        log.push(`end ${name}`);
      },
      finish: () => finish(),
    };
  }

  it('runs steps of different windows one at a time, in the order they came', async () => {
    const gate = new StepGate(300);
    const log: string[] = [];
    const a = step(log, 'a');
    const b = step(log, 'b');
    const c = step(log, 'c');
    const signal = new AbortController().signal;
    const runs = [gate.run(a.run, signal), gate.run(b.run, signal), gate.run(c.run, signal)];
    await tick();
    assert.deepEqual(log, ['start a'], 'b and c wait for a');
    a.finish();
    await tick();
    assert.deepEqual(log, ['start a', 'end a', 'start b']);
    b.finish();
    c.finish();
    assert.deepEqual(await Promise.all(runs), [true, true, true]);
    assert.deepEqual(log, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('holds a step back while a request waits for its first token, and runs it once the token came', async () => {
    const gate = new StepGate(5000);
    const log: string[] = [];
    const first = gate.awaitFirstToken();
    const a = step(log, 'a');
    const run = gate.run(a.run, new AbortController().signal);
    await tick(20);
    assert.deepEqual(log, [], 'the keystroke goes first');
    first();
    first();
    await tick();
    assert.deepEqual(log, ['start a']);
    a.finish();
    assert.equal(await run, true);
  });

  it('waits for first tokens at most maxWaitMs, so keystrokes cannot starve a prefill', async () => {
    const gate = new StepGate(50);
    gate.awaitFirstToken();
    const t0 = performance.now();
    assert.equal(await gate.run(async () => undefined, new AbortController().signal), true);
    assert.ok(performance.now() - t0 >= 45, `ran after ${(performance.now() - t0).toFixed(0)} ms`);
  });

  it('a cancelled step, waiting or holding the turn, gives way to the next one', async () => {
    const gate = new StepGate(300);
    const log: string[] = [];
    const a = step(log, 'a');
    const c = step(log, 'c');
    const cancelB = new AbortController();
    const signal = new AbortController().signal;
    const ra = gate.run(a.run, signal);
    const rb = gate.run(async () => void log.push('b ran'), cancelB.signal);
    const rc = gate.run(c.run, signal);
    cancelB.abort();
    assert.equal(await rb, false, 'cancelled while waiting: not run');
    a.finish();
    c.finish();
    assert.deepEqual(await Promise.all([ra, rc]), [true, true]);
    assert.deepEqual(log, ['start a', 'end a', 'start c', 'end c']);
    // A step cancelled while it waits for a first token hands the turn on.
    const first = gate.awaitFirstToken();
    const cancelD = new AbortController();
    const rd = gate.run(async () => void log.push('d ran'), cancelD.signal);
    const re = gate.run(async () => void log.push('e ran'), signal);
    await tick();
    cancelD.abort();
    assert.equal(await rd, false);
    first();
    assert.equal(await re, true);
    assert.deepEqual(log.slice(4), ['e ran']);
  });
});
