import * as assert from 'node:assert/strict';
import { postProcess, stopStrings, trimSuffixOverlap } from '../../src/common/completion/postProcess';

describe('postProcess', () => {
  const endOfLine = { suffix: '\n}\n', lineSuffix: '' };

  it('keeps a multi-line block up to the first blank line', () => {
    assert.equal(postProcess('a + b;\n  }\n\nfunction next() {', endOfLine), 'a + b;\n  }');
  });

  it('keeps one line when the cursor is mid-line', () => {
    assert.equal(postProcess('x, y\n  more', { suffix: ')\n', lineSuffix: ')' }), 'x, y');
  });

  it('drops the part that repeats the text after the cursor', () => {
    assert.equal(postProcess('a, b);', { suffix: ');\n', lineSuffix: ');' }), 'a, b');
    assert.equal(trimSuffixOverlap('foo()', ')'), 'foo(');
    assert.equal(trimSuffixOverlap('foo  ', '  bar'), 'foo  ');
  });

  it('returns undefined for whitespace-only output', () => {
    assert.equal(postProcess('  \n\t', endOfLine), undefined);
    assert.equal(postProcess('', endOfLine), undefined);
  });

  it('drops trailing whitespace and normalises CRLF', () => {
    assert.equal(postProcess('return 1;\r\n  ', endOfLine), 'return 1;');
  });

  it('asks the engine to stop at the line end only mid-line', () => {
    assert.deepEqual(stopStrings({ lineSuffix: ')' }), ['\n']);
    assert.deepEqual(stopStrings({ lineSuffix: '   ' }), ['\n\n']);
  });
});
