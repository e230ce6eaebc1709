import * as assert from 'node:assert/strict';
import { contextText, detectFimFamily, fimTemplate, MAX_TYPED_IN_MIDDLE, psmMiddleStart, templateFor, type FimFamily } from '../../src/common/completion/fimTemplates';

/** GGUF metadata as the engine reads it: architecture, general.name, and the tokenizer's special tokens. */
function meta(architecture: string, name: string, tokens: string[]) {
  const set = new Set(tokens);
  return { architecture, name, hasToken: (t: string) => set.has(t) };
}

// Each family's tokenizer specials as they appear in tokenizer.ggml.tokens of its published GGUFs.
const FAMILIES: Array<[FimFamily, ReturnType<typeof meta>]> = [
  ['deepseek-coder', meta('llama', 'deepseek-coder-1.3b-base', ['<｜fim▁begin｜>', '<｜fim▁hole｜>', '<｜fim▁end｜>', '<｜end▁of▁sentence｜>'])],
  ['deepseek-coder-v2', meta('deepseek2', 'DeepSeek-Coder-V2-Lite-Base', ['<｜fim▁begin｜>', '<｜fim▁hole｜>', '<｜fim▁end｜>'])],
  ['qwen2.5-coder', meta('qwen2', 'Qwen2.5 Coder 1.5B', ['<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>', '<|fim_pad|>', '<|repo_name|>', '<|file_sep|>', '<|endoftext|>'])],
  ['starcoder2', meta('starcoder2', 'starcoder2-3b', ['<fim_prefix>', '<fim_suffix>', '<fim_middle>', '<file_sep>', '<repo_name>'])],
  ['codellama', meta('llama', 'codellama_codellama-7b-hf', ['▁<PRE>', '▁<SUF>', '▁<MID>', '▁<EOT>'])],
  ['codestral', meta('llama', 'Codestral-22B-v0.1', ['[PREFIX]', '[SUFFIX]', '[INST]'])],
  ['codegemma', meta('gemma', 'codegemma-2b', ['<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>', '<|file_separator|>'])],
];

describe('FIM templates per family', () => {
  for (const [family, m] of FAMILIES) {
    it(`detects ${family} from its tokenizer metadata and gives its template and stops`, () => {
      assert.equal(detectFimFamily(m), family);
      const t = fimTemplate(family);
      // Every special token of the template is one the tokenizer has.
      for (const tok of [t.prefix, t.suffix, ...(t.middle ? [t.middle] : [])]) assert.ok(m.hasToken(tok), `${family}: ${tok} not in its tokenizer`);
      assert.ok(t.stop.length > 0);
    });
  }

  it('puts Codestral in suffix-first order with no middle token', () => {
    assert.deepEqual([fimTemplate('codestral').order, fimTemplate('codestral').middle], ['spm', null]);
  });

  it('falls back to names, then to generic', () => {
    assert.equal(detectFimFamily(meta('starcoder2', 'x', [])), 'starcoder2');
    assert.equal(detectFimFamily(meta('llama', 'hearth-code-tiny', ['<|fim_prefix|>'])), 'generic');
  });

  it('applies a per-model override from settings by file or model name (globs)', () => {
    assert.equal(templateFor('generic', '/m/my-qwen-q4.gguf', 'x', { '*qwen*': 'qwen2.5-coder' }).family, 'qwen2.5-coder');
    const custom = templateFor('qwen2.5-coder', '/m/a.gguf', 'Custom Coder', { 'custom coder': { prefix: '<P>', suffix: '<S>', middle: '<M>', stop: ['<E>'] } });
    assert.deepEqual([custom.prefix, custom.suffix, custom.middle, custom.stop], ['<P>', '<S>', '<M>', ['<E>']]);
    assert.equal(templateFor('starcoder2', '/m/a.gguf', 'b', { 'other*': 'codellama' }).family, 'starcoder2');
  });

  it('places repository context the family\'s way: <|file_sep|> for Qwen2.5-Coder, <file_sep> for StarCoder2', () => {
    const chunks = [{ path: 'src/a.ts', text: 'export const a = 1;' }];
    const current = { path: 'src/b.ts', repo: 'hearth' };
    assert.equal(contextText(fimTemplate('qwen2.5-coder'), chunks, current), '<|repo_name|>hearth\n<|file_sep|>src/a.ts\nexport const a = 1;\n<|file_sep|>src/b.ts\n');
    assert.equal(contextText(fimTemplate('starcoder2'), chunks, current), '<repo_name>hearth<file_sep>src/a.ts\nexport const a = 1;\n<file_sep>src/b.ts\n');
    assert.match(contextText(fimTemplate('deepseek-coder'), chunks, current), /^\/\/ src\/a\.ts\nexport const a = 1;\n/);
    assert.equal(contextText(fimTemplate('qwen2.5-coder'), [], current), '');
  });
});

describe('psmMiddleStart: where the middle of a psm prompt starts', () => {
  const above = 'function total(items) {\n  let sum = 0;\n';
  const suffix = '  return sum;\n}\n';

  it("starts at the cursor line's start, and keeps a typing run's start while the text after the cursor is the same", () => {
    const line = '  for (const item of ite';
    assert.equal(psmMiddleStart(above + line, suffix, undefined, true), above.length);
    const previous = { head: above, suffix };
    assert.equal(psmMiddleStart(above + line + 'ms) {\n    su', suffix, previous, true), above.length, 'Enter and the next line stay in the middle');
    assert.equal(psmMiddleStart(above + line, suffix + 'x', previous, true), above.length, 'another suffix: a fresh start, the cursor line');
    const long = 'x'.repeat(MAX_TYPED_IN_MIDDLE + 1);
    assert.equal(psmMiddleStart(above + long, suffix, undefined, true), (above + long).length, 'a minified line stays in the prefix');
  });

  it("at a line's very start, starts at the line above when asked, so a backspace that takes the line break back keeps it", () => {
    const lineAbove = above.lastIndexOf('\n', above.length - 2) + 1;
    assert.equal(psmMiddleStart(above, suffix, undefined, true), lineAbove);
    // The backspace right after the jump: the prefix still begins with what preceded the middle.
    assert.equal(psmMiddleStart(above.slice(0, -1), suffix, { head: above.slice(0, lineAbove), suffix }, true), lineAbove);
    // Not asked (the shipped tiny model): the middle starts at the cursor, and the backspace moves it.
    assert.equal(psmMiddleStart(above, suffix, undefined, false), above.length);
    assert.equal(psmMiddleStart(above.slice(0, -1), suffix, { head: above, suffix }, false), lineAbove);
    // The first line of a file has no line above.
    assert.equal(psmMiddleStart('\n', suffix, undefined, true), 1);
  });
});
