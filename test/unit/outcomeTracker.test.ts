import * as assert from 'node:assert/strict';
import { OutcomeTracker, type SettledSuggestion, type ShownSuggestion } from '../../src/common/completion/outcomeTracker';

describe('OutcomeTracker', () => {
  let settled: SettledSuggestion<ShownSuggestion>[];
  let t: OutcomeTracker<ShownSuggestion>;
  const s = (text: string, offset = 10): ShownSuggestion => ({ documentId: 'd', offset, text });
  beforeEach(() => {
    settled = [];
    t = new OutcomeTracker((x) => settled.push(x));
  });

  it('counts a Tab accept as accepted whole, once', () => {
    const a = s('foo(bar)\nbaz');
    t.shown(a);
    t.accepted('d', a);
    t.edited('d', [{ offset: 10, rangeLength: 0, text: a.text }]);
    assert.equal(settled.length, 1);
    assert.deepEqual({ outcome: settled[0]!.outcome, chars: settled[0]!.charsAccepted, lines: settled[0]!.linesAccepted }, { outcome: 'accepted', chars: 12, lines: 2 });
  });

  it('counts the suggestion inserted as one edit as accepted', () => {
    t.shown(s('return x;'));
    t.edited('d', [{ offset: 10, rangeLength: 0, text: 'return x;' }]);
    assert.equal(settled[0]?.outcome, 'accepted');
  });

  it('keeps a suggestion pending while the user types it, and accepts when all is typed', () => {
    t.shown(s('abc'));
    t.edited('d', [{ offset: 10, rangeLength: 0, text: 'a' }]);
    t.edited('d', [{ offset: 11, rangeLength: 0, text: 'b' }]);
    assert.equal(settled.length, 0);
    t.edited('d', [{ offset: 12, rangeLength: 0, text: 'c' }]);
    assert.equal(settled[0]?.outcome, 'accepted');
  });

  it('counts typing that follows then leaves the suggestion as partial', () => {
    t.shown(s('value + 1'));
    t.edited('d', [{ offset: 10, rangeLength: 0, text: 'val' }]);
    t.edited('d', [{ offset: 13, rangeLength: 0, text: 'id' }]);
    assert.deepEqual([settled[0]?.outcome, settled[0]?.charsAccepted], ['partial', 3]);
  });

  it('counts a different keystroke or a deletion as rejected', () => {
    t.shown(s('abc'));
    t.edited('d', [{ offset: 10, rangeLength: 0, text: 'x' }]);
    t.shown(s('def', 11));
    t.edited('d', [{ offset: 10, rangeLength: 1, text: '' }]);
    assert.deepEqual(settled.map((x) => x.outcome), ['rejected', 'rejected']);
  });

  it('counts a suggestion replaced by the next one without any edit as ignored', () => {
    t.shown(s('abc'));
    t.shown(s('abd'));
    t.settleAll();
    assert.deepEqual(settled.map((x) => x.outcome), ['ignored', 'ignored']);
  });

  it('tells Tab, accept-word, accept-line and typing apart', () => {
    t.shown(s('foo(bar)'));
    t.edited('d', [{ offset: 10, rangeLength: 0, text: 'foo(bar)' }]);
    t.shown(s('const total = 1;\nnext();'));
    t.edited('d', [{ offset: 10, rangeLength: 0, text: 'const ' }]);
    t.edited('d', [{ offset: 16, rangeLength: 0, text: 'x' }]);
    t.shown(s('a = 1;\nb = 2;'));
    t.edited('d', [{ offset: 10, rangeLength: 0, text: 'a = 1;' }]);
    t.edited('d', [{ offset: 16, rangeLength: 0, text: '\nb = 2;' }]);
    t.shown(s('xy'));
    t.edited('d', [{ offset: 10, rangeLength: 0, text: 'x' }]);
    t.edited('d', [{ offset: 11, rangeLength: 0, text: 'y' }]);
    assert.deepEqual(settled.map((x) => [x.outcome, x.acceptedVia, x.charsAccepted]), [
      ['accepted', 'tab', 8],
      ['partial', 'word', 6],
      ['accepted', 'line', 13],
      ['accepted', 'typed', 2],
    ]);
  });

  it('recognises the remainder of a suggestion being typed through', () => {
    t.shown(s('return x;'));
    t.edited('d', [{ offset: 10, rangeLength: 0, text: 're' }]);
    assert.equal(t.continues('d', 12, 'turn x;'), true);
    assert.equal(t.continues('d', 12, 'turn y;'), false);
    assert.equal(t.continues('d', 11, 'turn x;'), false);
    assert.equal(settled.length, 0);
  });
});
