/**
 * FIM templates per model family, through the real loader: for each of the seven families a small GGUF is generated
 * with that family's tokenizer metadata (its special tokens, as the family's published GGUFs carry them: by text,
 * without `fim_*_token_id` keys, so llama.cpp and Hearth must recognise them as they would in a downloaded file), its
 * model name and end-of-generation token; the llama.cpp backend loads it, and the test reads the family it chose, the
 * FIM order, and the prompt tokens it would evaluate.
 *
 * Every model here is llama-architecture (the generator writes llama tensors): DeepSeek-Coder-V2 (deepseek2),
 * Qwen2.5-Coder (qwen2) and CodeGemma (gemma) are told apart by their tokens and names, as `detectFimFamily` does
 * for real files first anyway. The tokenizer is the generator's SentencePiece-style code vocab with the family's
 * control tokens in place of its own FIM/chat tokens.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LlamaCppBackend } from '../../src/node/engine/backends/llamaCppBackend';
import { fimTemplate, type FimFamily } from '../../src/common/completion/fimTemplates';
import { nullLogger } from '../../src/common/logger';
import { makeModel, tinyDense } from '../fixtures/gguf/makeModel';
import { CODE_TOKENIZER_BASE_SIZE, makeCodeTokenizer, TokenType, type TokenizerSpec } from '../fixtures/gguf/tokenizer';

interface FamilyCase {
  family: FimFamily;
  /** general.name, as the family's GGUFs name themselves. */
  name: string;
  /** The family's end-of-sequence token text (written at the eos id). */
  eos: string;
  /** The family's control tokens (FIM, file/repo separators, end-of-turn). */
  specials: string[];
  /** The end-of-turn token where the family has one besides eos. */
  eot?: string;
}

const CASES: FamilyCase[] = [
  { family: 'deepseek-coder', name: 'deepseek-ai_deepseek-coder-1.3b-base', eos: '<｜end▁of▁sentence｜>', specials: ['<｜fim▁hole｜>', '<｜fim▁begin｜>', '<｜fim▁end｜>', '<|EOT|>'], eot: '<|EOT|>' },
  { family: 'deepseek-coder-v2', name: 'DeepSeek-Coder-V2-Lite-Base', eos: '<｜end▁of▁sentence｜>', specials: ['<｜fim▁hole｜>', '<｜fim▁begin｜>', '<｜fim▁end｜>'] },
  { family: 'qwen2.5-coder', name: 'Qwen2.5 Coder 1.5B', eos: '<|endoftext|>', specials: ['<|im_end|>', '<|fim_prefix|>', '<|fim_middle|>', '<|fim_suffix|>', '<|fim_pad|>', '<|repo_name|>', '<|file_sep|>'], eot: '<|im_end|>' },
  { family: 'starcoder2', name: 'starcoder2-3b', eos: '<|endoftext|>', specials: ['<fim_prefix>', '<fim_middle>', '<fim_suffix>', '<fim_pad>', '<repo_name>', '<file_sep>'] },
  { family: 'codellama', name: 'codellama_codellama-7b-hf', eos: '</s>', specials: ['▁<PRE>', '▁<SUF>', '▁<MID>', '▁<EOT>'], eot: '▁<EOT>' },
  { family: 'codestral', name: 'Codestral-22B-v0.1', eos: '</s>', specials: ['[INST]', '[/INST]', '[SUFFIX]', '[PREFIX]'] },
  { family: 'codegemma', name: 'codegemma-2b', eos: '<eos>', specials: ['<|fim_prefix|>', '<|fim_middle|>', '<|fim_suffix|>', '<|file_separator|>'] },
];

/** The generator's code vocab with the family's eos and control tokens in place of its own FIM/chat controls. */
function familyTokenizer(c: FamilyCase): TokenizerSpec {
  const base = makeCodeTokenizer();
  const tokens = [...base.tokens];
  const types = [...base.types];
  const controls = CODE_TOKENIZER_BASE_SIZE - 3 - 256; // the 7 FIM/chat slots after <unk>, <s>, </s> and the bytes
  if (c.specials.length > controls) throw new Error(`${c.family}: ${c.specials.length} specials, ${controls} slots`);
  tokens[2] = c.eos;
  for (let i = 0; i < controls; i++) {
    tokens[3 + 256 + i] = c.specials[i] ?? `<unused${i}>`;
    types[3 + 256 + i] = TokenType.Control;
  }
  const eot = c.eot === undefined ? undefined : tokens.indexOf(c.eot);
  return {
    ...base,
    tokens,
    types,
    scores: base.scores,
    // As in the families' own files: bos/eos/unk (and eot where there is one); FIM tokens known by their text only.
    special: { bos: base.special.bos, eos: base.special.eos, unk: base.special.unk, ...(eot !== undefined ? { eot } : {}) },
  };
}

describe('FIM templates on generated GGUFs of each family (real loader)', function () {
  this.timeout(60_000);
  let dir: string;
  let backend: LlamaCppBackend;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'hearth-fim-'));
    backend = new LlamaCppBackend(nullLogger);
  });
  after(async () => {
    await backend.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  // A prefix ending in a newline: nothing is taken back for token healing, so the prompt is the template alone. The
  // classic layout (cursorLine 'prefix'): in psm order the cursor line (for models over 64 MB at a line's start, the
  // line above) would follow the middle marker (see the test below and psmMiddleStart's unit tests).
  const prefix = 'function add(a, b) {\n';
  const suffix = '\n}\n';

  for (const c of CASES) {
    it(`${c.family}: ${c.name} gets its family's template, order and prompt tokens`, async () => {
      const path = join(dir, `${c.family}.gguf`);
      await makeModel(path, { ...tinyDense, name: c.name, tokenizer: familyTokenizer(c) });
      const info = await backend.loadModel({ path, contextSize: 512, threads: 1, sequences: 2, promptCacheBytes: 0 });
      const t = fimTemplate(c.family);
      assert.equal(info.fimFamily, c.family, `family detected from ${c.name}'s tokens`);
      assert.equal(info.infillSupported, true);
      assert.equal(info.fimOrder, t.order);

      const p = backend.infillPrompt({ prefix, suffix, maxTokens: 16, cursorLine: 'prefix' });
      assert.equal(p.heal, '');
      const expected = t.order === 'spm' ? `${t.suffix}${suffix}${t.prefix}${prefix}${t.middle ?? ''}` : `${t.prefix}${prefix}${t.suffix}${suffix}${t.middle}`;
      assert.equal(p.text, expected, 'the prompt as text, special tokens written out');
      // Each FIM marker is one token of the model's vocab (a control token), not the marker's text spelled out.
      const id = (text: string) => familyTokenizer(c).tokens.indexOf(text);
      const markers = [t.prefix, t.suffix, ...(t.middle ? [t.middle] : [])].map(id);
      for (const m of markers) assert.ok(m >= 0 && p.tokens.includes(m), `marker token ${m} in the prompt`);
      assert.equal(p.tokens[0], id(t.order === 'spm' ? t.suffix : t.prefix), 'the prompt opens with the first marker');
      if (t.middle) assert.equal(p.tokens[p.tokens.length - 1], id(t.middle), 'and ends with the middle marker');
      // The family's stop strings name the model's end-of-sequence token.
      assert.ok(t.stop.includes(c.eos) || t.stop.some((s) => s.endsWith(c.eos)), `${c.eos} among the stops ${t.stop.join(' ')}`);
      // And generation runs on that prompt (the template is usable, not just printable).
      const r = await backend.infill({ prefix, suffix, maxTokens: 4, priority: 'completion', cacheReuse: true, temperature: 0, beamWidth: 1, cursorLine: 'prefix' }, new AbortController().signal, () => undefined);
      assert.ok(r.tokensEvaluated >= p.tokens.length - 1, `evaluated ${r.tokensEvaluated} of ${p.tokens.length} prompt tokens`);
    });
  }

  it('puts the cursor line after the middle marker in a psm prompt, so typing (Enter included) evaluates only the new tokens', async () => {
    const c = CASES.find((x) => x.family === 'qwen2.5-coder')!;
    const path = join(dir, 'line-in-middle.gguf');
    await makeModel(path, { ...tinyDense, name: c.name, tokenizer: familyTokenizer(c) });
    await backend.loadModel({ path, contextSize: 1024, threads: 1, sequences: 2, promptCacheBytes: 0 });
    const t = fimTemplate(c.family);
    const head = 'function total(items) {\n  let sum = 0;\n';
    const line = '  for (const item of ite';
    const below = Array.from({ length: 30 }, (_v, i) => `  sum += items[${i}].price * items[${i}].count;\n`).join('') + '  return sum;\n}\n';
    const p = backend.infillPrompt({ prefix: head + line, suffix: below, maxTokens: 8 });
    assert.equal(p.text + p.heal, `${t.prefix}${head}${t.suffix}${below}${t.middle}${line}`, 'the line typed so far follows the middle marker');
    const classic = backend.infillPrompt({ prefix: head + line, suffix: below, maxTokens: 8, cursorLine: 'prefix' });
    assert.equal(classic.text, `${t.prefix}${head}${line.slice(0, line.length - classic.heal.length)}${t.suffix}${below}${t.middle}`, 'cursorLine prefix keeps the classic layout (the healed tail taken back)');

    // Keystrokes on the line: the suffix (hundreds of tokens) is evaluated once, then each keystroke costs a few tokens.
    const infill = (prefix: string, cursorLine?: 'prefix') =>
      backend.infill({ documentId: `typing-${cursorLine ?? 'middle'}`, prefix, suffix: below, maxTokens: 2, priority: 'completion', cacheReuse: true, temperature: 0, beamWidth: 1, ...(cursorLine ? { cursorLine } : {}) }, new AbortController().signal, () => undefined);
    const first = await infill(head + line);
    assert.ok(first.tokensEvaluated > 200, `the first request evaluates the whole prompt (${first.tokensEvaluated})`);
    // Enter and the next line too: the middle keeps starting where this run of typing started.
    for (const typed of ['m', 'ms', 'ms)', 'ms) {\n', 'ms) {\n    sum', 'ms) {\n    su']) {
      const r = await infill(head + line + typed);
      assert.ok(r.tokensEvaluated <= 8, `typing "${typed}" evaluated ${r.tokensEvaluated} tokens, not the suffix again`);
    }
    // The classic layout pays for the whole suffix on every keystroke (what the middle layout avoids).
    // (A keystroke that token healing takes back leaves the prompt as it was, so the most a keystroke cost is read.)
    await infill(head + line, 'prefix');
    const classicKeys: number[] = [];
    for (const typed of ['m', 'ms', 'ms)']) classicKeys.push((await infill(head + line + typed, 'prefix')).tokensEvaluated);
    assert.ok(Math.max(...classicKeys) > 200, `classic layout: keystrokes evaluated ${classicKeys.join(', ')} tokens`);
  });
});
