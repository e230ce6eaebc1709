import * as assert from 'node:assert/strict';
import { COPY_LINE_MIN_SIMILARITY, copyCandidates, copyCandidatesWithSources, copyPrior } from '../../src/common/completion/copyCandidates';

describe('copyCandidates', () => {
  it('proposes the rest of the most similar line above the cursor line', () => {
    const prefix = 'function codes() {\n  CharacterCodes["p"] = 112;\n  CharacterCodes["q"] = 113;\n  CharacterCodes["r';
    const c = copyCandidates(prefix, '\n}\n');
    assert.ok(c.includes('"] = 113;'), JSON.stringify(c));
  });

  it('proposes the text after an earlier occurrence of the prompt\'s end (prompt lookup)', () => {
    const prefix = 'const a = 1;\nthis._outputConfiguration.writeErr(message);\nif (x) {\n  this._outputConfiguration.wri';
    const c = copyCandidates(prefix, '\n}\n');
    assert.equal(c[0], 'teErr(message);', JSON.stringify(c));
  });

  it('proposes lines below the cursor line too (the suffix after the cursor line)', () => {
    const prefix = 'import { a } from "./a";\nimport { b';
    const c = copyCandidates(prefix, '\nimport { beta } from "./beta";\n');
    assert.ok(c.some((t) => t.startsWith('eta } from "./beta";')), JSON.stringify(c));
  });

  it('inside brackets also proposes the arguments alone, cut before the close the line already has', () => {
    const prefix = 'let x = add(first, second);\nlet y = add(';
    const c = copyCandidates(prefix, ');\nreturn x;\n');
    assert.ok(c.includes('first, second'), JSON.stringify(c));
  });

  it('proposes nothing on an empty or indentation-only cursor line, and never what is only whitespace', () => {
    assert.deepEqual(copyCandidates('a = 1;\n', ''), []);
    assert.deepEqual(copyCandidates('a = 1;\n    ', '\n'), []);
    for (const t of copyCandidates('ab   \nab', '\n')) assert.ok(t.trim(), JSON.stringify(t));
  });

  it('returns distinct candidates, at most `max`, each at most `maxChars` long and on one line', () => {
    const lines = Array.from({ length: 30 }, (_, i) => `  value${i} = compute(${i}, "${'x'.repeat(i * 5)}");`).join('\n');
    const c = copyCandidates(`${lines}\n  value`, `\n${lines}\n`, { max: 4, maxChars: 40 });
    assert.ok(c.length <= 4 && c.length > 0);
    assert.equal(new Set(c).size, c.length);
    for (const t of c) assert.ok(t.length <= 40 && !t.includes('\n'), JSON.stringify(t));
  });

  it('says where each candidate comes from: prompt lookup (match length), a similar line above or below (similarity)', () => {
    const prefix = 'const a = 1;\nthis._out.writeErr(message);\nif (x) {\n  this._out.wri';
    const c = copyCandidatesWithSources(prefix, '\n  this._out.write(other);\n}\n');
    assert.deepEqual(c.map((x) => x.text), copyCandidates(prefix, '\n  this._out.write(other);\n}\n'));
    // Lookup first: the longest match is the suffix's line (its indentation matches too), then the line above.
    assert.deepEqual(c.filter((x) => x.source === 'lookup').map((x) => [x.text, x.strength]), [['te(other);', '  this._out.wri'.length], ['teErr(message);', 'this._out.wri'.length]]);
    assert.equal(c[0]!.source, 'lookup');
    // No earlier occurrence of the prompt's end: the similar lines, above and below, with their similarity.
    const d = copyCandidatesWithSources('f() {\n  Codes["p"] = 112;\n  Codes["r', '\n  Codes["s"] = 115;\n}\n');
    assert.deepEqual(d.map((x) => [x.text, x.source, x.cut]), [['"] = 112;', 'above', 'none'], ['"] = 115;', 'below', 'none']]);
    for (const x of d) assert.ok(x.strength > 0.8 && x.strength < 1, JSON.stringify(x));
    for (const x of c) assert.ok(x.source !== 'lookup' ? x.strength >= 0 && x.strength <= 1 : x.strength >= 4, JSON.stringify(x));
  });

  it('weighs a copy by its source: a longer prompt-lookup match more; a line little like the cursor line not at all', () => {
    const short = copyPrior({ source: 'lookup', strength: 4 })!;
    const long = copyPrior({ source: 'lookup', strength: 30 })!;
    assert.ok(long > short, `${long} > ${short}`);
    assert.ok(long - short >= 26, 'at least a nat per matched character');
    const like = copyPrior({ source: 'above', strength: COPY_LINE_MIN_SIMILARITY });
    assert.equal(typeof like, 'number');
    assert.equal(copyPrior({ source: 'below', strength: 1 }), like);
    assert.equal(copyPrior({ source: 'above', strength: COPY_LINE_MIN_SIMILARITY - 0.01 }), undefined);
  });
});
