import * as assert from 'node:assert/strict';
import { PrefillPacer } from '../../src/node/engine/prefillPacer';

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
