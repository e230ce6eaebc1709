/**
 * The OpenVINO backend. Where openvino-node and its runtime are absent (the usual case: its install script
 * downloads the runtime and fails offline), the runtime tests skip and say so; the model-directory check, the
 * absence message, the tokenizer and the sampler are tested everywhere.
 */
import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BpeTokenizer, isOpenVinoModelDir, loadOpenVino, OPENVINO_ABSENT_MESSAGE, OpenVinoBackend, sampleToken, StreamingDecoder,
  toJsRegexSource, type TokenizerJson,
} from '../../src/node/engine/backends/openVinoBackend';
import { nullLogger, type Logger } from '../../src/common/logger';

/** A tiny byte-level BPE tokenizer in tokenizer.json form: bytes as GPT-2 characters, a few merges, Qwen FIM tokens. */
function tinyTokenizerJson(): TokenizerJson {
  const vocab: Record<string, number> = {};
  // GPT-2's byte-to-character table, the same construction as the tokenizer's.
  const printable = [...Array(256).keys()].filter((b) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff));
  let extra = 0;
  for (let b = 0; b < 256; b++) vocab[String.fromCharCode(printable.includes(b) ? b : 256 + extra++)] = b;
  const merges: [string, string][] = [['r', 'e'], ['re', 't'], ['Ġ', 'x'], ['ret', 'u'], ['retu', 'r'], ['retur', 'n']];
  let id = 256;
  for (const [a, b] of merges) vocab[a + b] = id++;
  return {
    added_tokens: [
      { id: 300, content: '<|endoftext|>', special: true },
      { id: 301, content: '<|fim_prefix|>', special: true },
      { id: 302, content: '<|fim_suffix|>', special: true },
      { id: 303, content: '<|fim_middle|>', special: true },
    ],
    normalizer: { type: 'NFC' },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" }, behavior: 'Isolated' },
        { type: 'ByteLevel', add_prefix_space: false, use_regex: false },
      ],
    },
    model: { type: 'BPE', vocab, merges: merges.map(([a, b]) => `${a} ${b}`) },
  };
}

function modelDir(root: string, files: string[]): string {
  const dir = mkdtempSync(join(root, 'ov-'));
  for (const f of files) writeFileSync(join(dir, f), f === 'tokenizer.json' ? JSON.stringify(tinyTokenizerJson()) : '<net/>');
  return dir;
}

describe('OpenVINO backend', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'hearth-openvino-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  describe('isOpenVinoModelDir', () => {
    it('accepts an optimum-intel export with tokenizer.json, or with the tokenizer IRs', async () => {
      assert.equal(await isOpenVinoModelDir(modelDir(root, ['openvino_model.xml', 'openvino_model.bin', 'config.json', 'tokenizer.json'])), true);
      assert.equal(await isOpenVinoModelDir(modelDir(root, ['openvino_model.xml', 'openvino_model.bin', 'openvino_tokenizer.xml', 'openvino_detokenizer.xml'])), true);
    });
    it('rejects a directory without weights or a tokenizer, a GGUF file, and a missing path', async () => {
      assert.equal(await isOpenVinoModelDir(modelDir(root, ['openvino_model.xml', 'tokenizer.json'])), false);
      assert.equal(await isOpenVinoModelDir(modelDir(root, ['openvino_model.xml', 'openvino_model.bin'])), false);
      const gguf = join(root, 'model.gguf');
      writeFileSync(gguf, 'GGUF');
      assert.equal(await isOpenVinoModelDir(gguf), false);
      assert.equal(await isOpenVinoModelDir(join(root, 'missing')), false);
      mkdirSync(join(root, 'empty'));
      assert.equal(await isOpenVinoModelDir(join(root, 'empty')), false);
    });
  });

  describe('when the runtime is absent', () => {
    const absent = () => Promise.reject(new Error("Cannot find module 'openvino-node'"));
    it('reports it in one clear line', async () => {
      const r = await loadOpenVino(absent);
      assert.equal(r.ok, false);
      assert.equal(!r.ok && r.message, 'OpenVINO runtime not available (openvino-node is not installed or its runtime failed to download): using llama.cpp');
      assert.equal(OPENVINO_ABSENT_MESSAGE.includes('\n'), false);
    });
    it('the backend says it is unavailable, logs the line once, and refuses to load with it', async () => {
      const warnings: string[] = [];
      const logger: Logger = { ...nullLogger, warn: (m) => warnings.push(m) };
      const backend = new OpenVinoBackend(logger, { importer: absent });
      assert.equal(await backend.available(), false);
      assert.equal(warnings.length, 1);
      assert.ok(warnings[0]!.startsWith(OPENVINO_ABSENT_MESSAGE));
      await assert.rejects(backend.loadModel({ path: root }), { message: OPENVINO_ABSENT_MESSAGE });
    });
  });

  describe('tokenizer.json (byte-level BPE)', () => {
    const tok = new BpeTokenizer(tinyTokenizerJson());
    it('turns inline case-insensitive groups into JavaScript', () => {
      const re = new RegExp(toJsRegexSource("(?i:'s|'t)"), 'u');
      assert.ok(re.test("'S") && re.test("'t") && !re.test("'x"));
    });
    it('applies merges and round-trips text, including multi-byte characters', () => {
      const ids = tok.encode('return x');
      assert.deepEqual(ids, [261, 258]); // "return", "Ġx" (GPT-2 writes the space as Ġ)
      for (const text of ['return x', 'é ✓ 日本 🔥\n\tconst a=1;', '']) assert.equal(tok.decode(tok.encode(text)), text);
    });
    it('keeps added tokens whole and knows the special ones', () => {
      const ids = tok.encode('<|fim_prefix|>return<|fim_suffix|>x<|fim_middle|>');
      assert.deepEqual(ids, [301, 261, 302, 'x'.charCodeAt(0), 303]);
      assert.deepEqual(tok.specialIds().sort(), [300, 301, 302, 303]);
      assert.equal(tok.tokenId('<|fim_middle|>'), 303);
    });
    it('streams UTF-8 across token boundaries', () => {
      const d = new StreamingDecoder();
      const bytes = new TextEncoder().encode('✓');
      assert.equal(d.push(bytes.subarray(0, 1)), '');
      assert.equal(d.push(bytes.subarray(1)), '✓');
    });
  });

  describe('sampling', () => {
    const logits = Float32Array.from([0.1, 3, 2.9, -1]);
    it('is greedy at temperature 0', () => assert.equal(sampleToken(logits, { temperature: 0 }), 1));
    it('samples among the likely tokens at temperature > 0', () => {
      let seed = 1;
      const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
      const seen = new Set<number>();
      for (let i = 0; i < 200; i++) seen.add(sampleToken(logits, { temperature: 1, topP: 0.9, random }));
      assert.ok(seen.has(1) && seen.has(2));
      assert.ok(!seen.has(3));
    });
  });

  describe('with the runtime installed', function () {
    const modelPath = process.env.HEARTH_OPENVINO_TEST_MODEL;
    before(async function () {
      const r = await loadOpenVino();
      if (!r.ok) {
        console.log(`      (skipped: ${r.message} [${r.cause}])`);
        this.skip();
      }
      if (!modelPath) {
        console.log('      (skipped: set HEARTH_OPENVINO_TEST_MODEL to an optimum-intel export of a small code model)');
        this.skip();
      }
    });

    it('loads an optimum-intel export, completes greedily and sampled, and cancels within a token', async function () {
      this.timeout(300_000);
      const backend = new OpenVinoBackend(nullLogger);
      const info = await backend.loadModel({ path: modelPath!, contextSize: 1024 });
      assert.ok(info.sizeBytes > 0);
      const params = { prefix: 'def add(a, b):\n    return ', suffix: '\n', maxTokens: 8 };
      const greedy1 = await backend.infill(params, new AbortController().signal, () => {});
      const greedy2 = await backend.infill(params, new AbortController().signal, () => {});
      assert.equal(greedy1.text, greedy2.text);
      const sampled = await backend.infill({ ...params, temperature: 0.8, seed: 7 }, new AbortController().signal, () => {});
      assert.ok(sampled.tokensOut > 0);
      const ac = new AbortController();
      let pieces = 0;
      const cancelled = await backend.infill({ ...params, maxTokens: 64 }, ac.signal, () => {
        if (++pieces === 2) ac.abort();
      });
      assert.equal(cancelled.stopReason, 'cancelled');
      assert.ok(cancelled.tokensOut <= 3);
      await backend.dispose();
    });
  });
});
