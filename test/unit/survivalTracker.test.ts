import * as assert from 'node:assert/strict';
import { applyEdit, survival, SurvivalTracker } from '../../src/common/completion/survivalTracker';

describe('SurvivalTracker', () => {
  it('carries the accepted range through edits before, inside and after it', () => {
    const r = { start: 10, end: 20 };
    applyEdit(r, { offset: 0, rangeLength: 0, text: 'abc' });
    assert.deepEqual(r, { start: 13, end: 23 });
    applyEdit(r, { offset: 30, rangeLength: 5, text: '' });
    assert.deepEqual(r, { start: 13, end: 23 });
    applyEdit(r, { offset: 15, rangeLength: 2, text: 'xyz' });
    assert.deepEqual(r, { start: 13, end: 24 });
    applyEdit(r, { offset: 5, rangeLength: 10, text: '' });
    assert.deepEqual(r, { start: 5, end: 14 });
  });

  it('scores survival by edit distance: kept 1, rewritten 0, partly edited in between', () => {
    assert.equal(survival('return total;', 'return total;'), 1);
    assert.equal(survival('abc', ''), 0);
    const s = survival('return total + 1;', 'return total + 2;');
    assert.ok(s > 0.9 && s < 1, String(s));
  });

  it('tracks ranges per document and applies a change\'s edits from the end', () => {
    const t = new SurvivalTracker();
    const r = t.track('d', 10, 'hello');
    t.track('other', 0, 'x');
    t.edited('d', [{ offset: 0, rangeLength: 0, text: '12' }, { offset: 20, rangeLength: 0, text: '!' }]);
    assert.deepEqual([r.start, r.end], [12, 17]);
    t.untrack(r);
    assert.equal(t.size, 1);
  });
});
