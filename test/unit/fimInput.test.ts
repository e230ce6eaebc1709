import * as assert from 'node:assert/strict';
import { anchoredWindowStart, buildFimInput, windowsForContext, withSelectedItem } from '../../src/common/completion/fimInput';

describe('buildFimInput', () => {
  it('splits at the cursor and reports the rest of the line', () => {
    const text = 'function add(a, b) {\n  return \n}\n';
    const offset = text.indexOf('return ') + 'return '.length;
    const fim = buildFimInput(text, offset);
    assert.equal(fim.prefix, 'function add(a, b) {\n  return ');
    assert.equal(fim.suffix, '\n}\n');
    assert.equal(fim.lineSuffix, '');
  });

  it('bounds the prefix window and starts it on a line boundary', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `const v${i} = ${i};`);
    const text = lines.join('\n');
    const fim = buildFimInput(text, text.length, { maxPrefixChars: 50, maxSuffixChars: 10 });
    assert.ok(fim.prefix.length <= 50, `prefix has ${fim.prefix.length} chars`);
    assert.ok(fim.prefix.startsWith('const v'), fim.prefix);
    assert.ok(text.endsWith(fim.prefix));
  });

  it('bounds the suffix window and ends it on a line boundary', () => {
    const text = 'x\n' + Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\n');
    const fim = buildFimInput(text, 1, { maxPrefixChars: 10, maxSuffixChars: 30 });
    assert.ok(fim.suffix.length <= 30);
    assert.ok(text.slice(1).startsWith(fim.suffix));
    assert.ok(fim.suffix.endsWith('line 2') || fim.suffix.endsWith('line 3'), JSON.stringify(fim.suffix));
  });

  it('clamps an offset outside the text', () => {
    assert.deepEqual(buildFimInput('abc', 99), { prefix: 'abc', suffix: '', lineSuffix: '' });
    assert.deepEqual(buildFimInput('abc', -5), { prefix: '', suffix: 'abc', lineSuffix: 'abc' });
  });

  it('marks a mid-line cursor', () => {
    const fim = buildFimInput('foo(bar)', 4);
    assert.equal(fim.lineSuffix, 'bar)');
  });

  it('anchors the prefix start so typing does not move it (the engine reuses the prompt only while its start holds)', () => {
    const text = Array.from({ length: 400 }, (_, i) => `line ${i} of the file`).join('\n');
    const opts = { maxPrefixChars: 3000, maxSuffixChars: 100, anchorChars: 1024 };
    const starts = new Set<string>();
    for (let at = 6100; at < 6200; at++) starts.add(buildFimInput(text, at, opts).prefix.slice(0, 30));
    assert.equal(starts.size, 1, [...starts].join(' | '));
    // The same windows from a slice of the document that starts elsewhere: `base` keeps them equal.
    const whole = buildFimInput(text, 6050, opts);
    const slice = buildFimInput(text.slice(2500), 6050 - 2500, opts, 2500);
    assert.equal(slice.prefix, whole.prefix);
    assert.ok(whole.prefix.length <= 3000 && whole.prefix.length > 3000 - 1024 - 40);
  });

  it('anchors it too when the caller passes exactly the window (the editor slices the document at the cursor less the window)', () => {
    // Session 13: the editor's slice started exactly maxPrefixChars back, so the window start moved with every
    // keystroke (mid-line) and the engine evaluated the whole prompt again on each one in any long file.
    const doc = Array.from({ length: 400 }, (_, i) => `  const value${i} = compute(${i});`).join('\n');
    const opts = { maxPrefixChars: 3000, maxSuffixChars: 100, anchorChars: 1024 };
    const asTheEditorDoes = (offset: number) => {
      const base = Math.max(0, offset - opts.maxPrefixChars);
      return buildFimInput(doc.slice(base, offset + opts.maxSuffixChars), offset - base, opts, base);
    };
    const starts = new Set<number>();
    for (let offset = 6100; offset < 6200; offset++) {
      const fim = asTheEditorDoes(offset);
      starts.add(offset - fim.prefix.length);
      assert.equal(fim.prefix, buildFimInput(doc, offset, opts).prefix);
    }
    assert.equal(starts.size, 1);
    const start = [...starts][0]!;
    assert.equal(doc[start - 1], '\n', 'the window starts on a line');
  });

  it("names the anchored window start: fixed while the prompt's start holds, moved when the prompt is read again", () => {
    const doc = Array.from({ length: 400 }, (_, i) => `  const value${i} = compute(${i});`).join('\n');
    const opts = { maxPrefixChars: 3000, maxSuffixChars: 100, anchorChars: 1024 };
    const promptStart = (offset: number) => offset - buildFimInput(doc, offset, opts).prefix.length;
    let moves = 0;
    for (let offset = 3000; offset < 9000; offset += 7) {
      const sameWindow = anchoredWindowStart(offset, opts) === anchoredWindowStart(offset + 7, opts);
      const samePrompt = promptStart(offset) === promptStart(offset + 7);
      assert.equal(sameWindow, samePrompt, `at ${offset}`);
      if (!sameWindow) moves++;
    }
    assert.ok(moves >= 7 && moves <= 9, `${moves} moves in 6,000 characters on a 750-character grid (a quarter of the window)`);
    assert.equal(anchoredWindowStart(2000, opts), 0, 'the whole prefix fits: no cut');
    assert.equal(anchoredWindowStart(5000, { ...opts, anchorChars: 0 }), 2000, 'no anchoring: exactly the window back');
  });

  it('keeps three quarters of a small window (a small context)', () => {
    const doc = 'x'.repeat(40) + '\n' + Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n');
    const opts = { maxPrefixChars: 400, maxSuffixChars: 50, anchorChars: 1024 };
    for (let offset = 500; offset < 900; offset += 7) assert.ok(buildFimInput(doc, offset, opts).prefix.length >= 400 - 100 - 10, `offset ${offset}`);
  });

  it('sizes the windows to the loaded context', () => {
    const w = windowsForContext(2048, 48);
    assert.ok(w.maxPrefixChars + w.maxSuffixChars <= (2048 - 48 - 64) * 3);
    assert.equal(windowsForContext(1 << 16, 48).maxPrefixChars, 6000);
  });
});

describe('withSelectedItem (the suggest widget has an item selected)', () => {
  it('puts the item in place of the word it replaces, the cursor after it', () => {
    const text = 'return items.re\n}\n';
    const offset = text.indexOf('\n');
    const r = withSelectedItem(text, offset, text.indexOf('re\n'), 'reduce');
    assert.equal(r.text, 'return items.reduce\n}\n');
    assert.equal(r.text.slice(0, r.offset), 'return items.reduce');
    assert.equal(r.text.slice(r.offset), '\n}\n');
  });

  it('inserts at the cursor when the item replaces nothing, and never reaches past the cursor', () => {
    const text = 'items.\nnext';
    assert.deepEqual(withSelectedItem(text, 6, 6, 'at'), { text: 'items.at\nnext', offset: 8 });
    assert.deepEqual(withSelectedItem(text, 6, 9, 'at'), { text: 'items.at\nnext', offset: 8 });
  });
});
