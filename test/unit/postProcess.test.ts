import * as assert from 'node:assert/strict';
import { isMultiLine, pointlessHere, postProcess, postProcessDetailed, stopStrings, trimSuffixOverlap } from '../../src/common/completion/postProcess';

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

describe('postProcess with the cursor\'s context', () => {
  it('stops a block at the line that leaves it, keeping a closer the suffix lacks', () => {
    const prefix = 'function f() {\n  if (x) {\n    ';
    assert.equal(postProcess('a();\n    b();\n  }\n  c();', { prefix, suffix: '\n}\n', lineSuffix: '' }), 'a();\n    b();\n  }');
    assert.equal(postProcess('a();\n  }\n  c();', { prefix, suffix: '\n  }\n}\n', lineSuffix: '' }), 'a();');
  });

  it('stops at a bracket the rest of the line already closes', () => {
    assert.equal(postProcess('a, b) + g(c)', { prefix: 'f(', suffix: ')\n', lineSuffix: ')' }), 'a, b');
  });

  it('drops suggestions that repeat the line above or the lines below', () => {
    const p = postProcessDetailed('return x;', { prefix: '  return x;\n  ', suffix: '\n', lineSuffix: '' });
    assert.equal(p.text, undefined);
    assert.match(p.notes.join(), /repeats the line above/);
    const q = postProcessDetailed('const b = 2;', { prefix: 'const a = 1;\n', suffix: '\nconst b = 2;\n', lineSuffix: '' });
    assert.match(q.notes.join(), /duplicates the lines below/);
  });

  it('re-indents continuation lines with tabs in a tab-indented file', () => {
    assert.equal(postProcess('a();\n    b();', { prefix: 'if (x) {\n\tfoo();\n\t', suffix: '\n}', lineSuffix: '' }), 'a();\n\tb();');
  });

  it('keeps whole words when a cap cut the line', () => {
    assert.equal(postProcess('const total = comp', { prefix: '  ', suffix: '\n', lineSuffix: '' }, { cutByCap: true }), 'const total =');
  });

  it('is one line at the end of a line of code and many after an opener or on a blank line', () => {
    assert.equal(isMultiLine({ prefix: 'const x = ', lineSuffix: '' }), false);
    assert.equal(isMultiLine({ prefix: 'if (x) {', lineSuffix: '' }), true);
    assert.equal(isMultiLine({ prefix: 'if (x) {\n  ', lineSuffix: '' }), true);
    assert.equal(isMultiLine({ prefix: 'f(', lineSuffix: ')' }), false);
  });

  it('makes no request with more than 8 non-trivial characters right of the cursor', () => {
    assert.equal(pointlessHere({ lineSuffix: ');' }), undefined);
    assert.equal(pointlessHere({ lineSuffix: 'abc, de)' }), undefined);
    assert.match(pointlessHere({ lineSuffix: 'somethingLong)' }) ?? '', /13 non-trivial/);
  });
});
