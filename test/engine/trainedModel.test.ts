/**
 * The shipped code model (models/hearth-code-tiny.gguf, trained by models/train) through the real node-llama-cpp:
 * the committed sha256, FIM and chat metadata, tokenization identical to the training tokenizer, logits equal to
 * PyTorch's within the q8_0 error (so the weight layout and rope match), and a plausible infill through the engine.
 */
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ControlledEvaluateInputItem, Llama, LlamaModel, Token } from 'node-llama-cpp' with { 'resolution-mode': 'import' };
import { cutAtUnmatchedClose } from '../../src/common/battery/textScores';
import { EngineClient } from '../../src/node/engine/engineClient';
import { dequantizeGguf } from '../fixtures/gguf/dequantize';

const root = resolve(__dirname, '../../..');
const modelPath = resolve(root, 'models/hearth-code-tiny.gguf');
const enginePath = resolve(root, 'dist/engine.js');

/** Common TypeScript patterns a code model should complete (prefix, suffix, what the completion must match). */
const CASES: Array<[string, string, RegExp]> = [
  ["import { readFileSync } from 'node:", '\n', /^fs['"];?$/],
  ['for (let i = 0; i < items.length; i', ') {\n}\n', /^\+\+/],
  ['export function add(a: number, b: number): number {\n  return a', '\n}\n', /^ \+ b;?$/],
  ['const names = users.map((user) => user.', ');\n', /^name\b/],
  ['  constructor(private readonly name: string) {}\n\n  getName(): string {\n    return this.', '\n  }\n', /^name;?$/],
];

interface Checks {
  tokenizer: Array<{ text: string; ids: number[] }>;
  logits: Array<{ kind: string; tokens: number[]; top: Array<[number, number]> }>;
  /** PyTorch's logits with the packed file's own (dequantized) weights (make_checks.py --gguf; MoE files). */
  logits_dequantized?: Array<{ kind: string; tokens: number[]; top: Array<[number, number]> }>;
}

/** llama.cpp's logits for each reference prompt: its best token among PyTorch's best, each top-20 logit within `tol`. */
async function assertLogits(model: LlamaModel, refs: Checks['logits'], tol: number): Promise<void> {
  const ctx = await model.createContext({ contextSize: 512, threads: 1 });
  try {
    const seq = ctx.getSequence();
    for (const ref of refs) {
      await seq.clearHistory();
      const tokens = ref.tokens as Token[];
      const items: ControlledEvaluateInputItem[] = tokens.map((t, i) => (i === tokens.length - 1 ? [t, { generateNext: { logits: true } }] : t));
      const res = await seq.controlledEvaluate(items);
      const logits = res[res.length - 1]!.next.logits!;
      const best = [...logits.entries()].reduce((a, b) => (b[1] > a[1] ? b : a));
      assert.ok(ref.top.some(([id, v]) => id === best[0] && v >= ref.top[0]![1] - tol), `${ref.kind}: top token ${best[0]}`);
      for (const [id, v] of ref.top) {
        const got = logits.get(id as Token)!;
        assert.ok(Math.abs(got - v) < tol, `${ref.kind}: token ${id} ${got} vs ${v}`);
      }
    }
  } finally {
    await ctx.dispose();
  }
}

/** The shipped file (v4, a mixture of experts) and v3 beside it (the dense model v4 was upcycled from, bench:model's
 * old column): each with its own fixtures (models/train/checks-v4.json, checks.json). */
const FILES: Array<{ label: string; model: string; checks: string; moe: boolean }> = [
  { label: 'shipped (v4)', model: modelPath, checks: resolve(root, 'models/train/checks-v4.json'), moe: true },
  { label: 'v3 (beside the shipped file)', model: resolve(root, 'models/hearth-code-tiny-v3.gguf'), checks: resolve(root, 'models/train/checks.json'), moe: false },
].filter((f, i) => i === 0 || (existsSync(f.model) && existsSync(f.checks)));

for (const file of FILES) {
  describe(`trained model hearth-code-tiny, ${file.label} file (node-llama-cpp)`, function () {
    this.timeout(120_000);
    let llama: Llama;
    let model: LlamaModel;
    const checks = JSON.parse(readFileSync(file.checks, 'utf8')) as Checks;

    before(async () => {
      const nlc = await import('node-llama-cpp');
      llama = await nlc.getLlama({ gpu: false, build: 'never', logLevel: nlc.LlamaLogLevel.error });
      model = await llama.loadModel({ modelPath: file.model, gpuLayers: 0 });
    });
    after(async () => {
      await model?.dispose();
      await llama?.dispose();
    });

    it('matches its committed sha256 and stays under 30 MB', () => {
      const bytes = readFileSync(file.model);
      const expected = readFileSync(`${file.model}.sha256`, 'utf8').split(/\s+/)[0];
      assert.equal(createHash('sha256').update(bytes).digest('hex'), expected);
      assert.ok(bytes.length <= 30 * 1024 * 1024, `${bytes.length} bytes`);
    });

    it('is a llama model with FIM tokens, an end-of-text token and a ChatML template', () => {
      const md = model.fileInfo.metadata as unknown as { general: { architecture: string }; tokenizer: { chat_template?: string } };
      assert.equal(md.general.architecture, 'llama');
      const fim = model.tokens.infill;
      assert.equal(fim.prefixString, '<|fim_prefix|>');
      assert.equal(fim.suffixString, '<|fim_suffix|>');
      assert.equal(fim.middleString, '<|fim_middle|>');
      assert.ok(fim.prefix != null && fim.suffix != null && fim.middle != null);
      assert.equal(model.detokenize([model.tokens.eos!], true), '<|endoftext|>');
      assert.match(md.tokenizer.chat_template ?? '', /<\|im_start\|>/);
    });

    if (file.moe) {
      it('is a mixture of experts (the logits check below then runs through llama.cpp\'s expert path)', () => {
        const md = model.fileInfo.metadata as unknown as { llama: { expert_count?: number; expert_used_count?: number } };
        assert.ok((md.llama.expert_count ?? 0) > 1, `expert_count ${md.llama.expert_count}`);
        assert.ok((md.llama.expert_used_count ?? 0) >= 1 && md.llama.expert_used_count! < md.llama.expert_count!);
      });
    }

    it('tokenizes exactly like the training tokenizer', () => {
      assert.ok(checks.tokenizer.length >= 20);
      for (const { text, ids } of checks.tokenizer) {
        assert.deepEqual(Array.from(model.tokenize(text, false)), ids, JSON.stringify(text));
        assert.equal(model.detokenize(ids as Token[]), text);
      }
    });

    if (checks.logits_dequantized) {
      // A mixture of experts: llama.cpp runs an f32 copy of this file (the same weight values), compared with
      // PyTorch on those weights (see test/fixtures/gguf/dequantize.ts for why not the q8_0 file itself)
      it("reproduces PyTorch's next-token logits through the expert path (f32 copy of the file's own weights)", async () => {
        const dir = mkdtempSync(join(tmpdir(), 'hearth-dequant-'));
        const f32 = join(dir, 'model-f32.gguf');
        dequantizeGguf(file.model, f32);
        const m = await llama.loadModel({ modelPath: f32, gpuLayers: 0 });
        try {
          await assertLogits(m, checks.logits_dequantized!, 0.01);
        } finally {
          await m.dispose();
          rmSync(dir, { recursive: true, force: true });
        }
      });
    } else {
      it("reproduces PyTorch's next-token logits (weight layout, rope, norms)", async () => {
        // q8_0 moves logits by up to ~0.1: llama.cpp's best token must be one of PyTorch's best, within that error
        await assertLogits(model, checks.logits, 0.25);
      });
    }
  });
}

describe('trained model hearth-code-tiny through the engine (shipped file)', function () {
  this.timeout(120_000);

  it('fills in the middle through the engine: suffix-prefix-middle order and token healing', async function () {
    const client = new EngineClient({ enginePath, mode: 'private' });
    try {
      const info = await client.loadModel({ path: modelPath, threads: 1, contextSize: 512 });
      assert.ok(info.infillSupported);
      assert.equal(info.fimOrder, 'spm', 'the GGUF names its infill order (hearth.fim.order)');
      const complete = async (prefix: string, suffix: string) =>
        (await client.infill({ prefix, suffix, maxTokens: 16, temperature: 0, stop: ['\n'] })).text.split('\n')[0]!;
      // The cursor inside `return`: without healing the model sees the piece `re`, which training never showed
      // alone, and answered "}" here.
      const healed = await complete('export function isEmpty(value: string): boolean {\n  re', '\n}\n');
      assert.match(healed, /^turn\b/, JSON.stringify(healed));
      const cases: Array<[string, string, RegExp]> = CASES;
      const results: string[] = [];
      for (const [prefix, suffix] of cases) results.push(await complete(prefix, suffix));
      const hits = cases.filter(([, , want], i) => want.test(results[i]!));
      // The shipped model (1.4 M parameters), with the engine's default search of 4 beams, gets the import path and
      // the loop increment and misses the rest: a retrained model must not do worse. `npm run bench:model` is the
      // real measure.
      assert.ok(hits.length >= 2, `${hits.length} of ${cases.length} right: ${JSON.stringify(results)}`);
    } finally {
      await client.dispose();
    }
  });

  it('after an opening bracket searches the prompt as typed too, so an argument completion is not empty', async function () {
    // ` (` before `x` is a pre-tokenizer piece of its own: the model was trained to continue after it, and the healed
    // prompt alone (the middle must begin with ` (`) made it end the middle at once: an empty answer, on 39 of 50
    // bracket tasks of bench:model (seed 8, v4). The engine now also searches the prompt as typed and keeps the
    // likelier; the healed search may not answer with nothing but the taken-back text.
    const client = new EngineClient({ enginePath, mode: 'private' });
    try {
      await client.loadModel({ path: modelPath, threads: 1, contextSize: 512 });
      const cases: Array<[string, string]> = [
        ['export function isEmpty(value: string): boolean {\n  if (', ') {\n    return true;\n  }\n  return false;\n}\n'],
        ['export function check(name: string): void {\n  if (!name) {\n    throw new Error(', ');\n  }\n}\n'],
        ['const items = [1, 2, 3];\nconst total = items.reduce(', ');\n'],
        ['function sum(values: number[]): number {\n  let s = 0;\n  for (', ') {\n    s += v;\n  }\n  return s;\n}\n'],
        ['const list = [4, 5];\nconst biggest = Math.max(', ');\n'],
      ];
      const answers: string[] = [];
      for (const [prefix, suffix] of cases) {
        const r = await client.infill({ prefix, suffix, maxTokens: 16, temperature: 0, stop: ['\n'] });
        answers.push(cutAtUnmatchedClose(r.text));
      }
      const empty = answers.filter((a) => !a.trim()).length;
      assert.ok(empty <= 1, `${empty} of ${cases.length} empty: ${JSON.stringify(answers)}`);
    } finally {
      await client.dispose();
    }
  });

  it('proposes what the prompt repeats: copy candidates scored by the model win where its own beams miss (#18)', async function () {
    // The shipped model does not copy from its prompt; the engine scores the rest of the lines most like the cursor
    // line and the text after the prompt's earlier occurrences of its end (copyCandidates.ts) as it scores its beams,
    // with a prior by source fitted on bench:model seeds 7, 11–14 (copyPrior), and answers the likeliest. Without them
    // (copyCandidates: false, the beams alone, which was the default before) fewer of these are right: 0 of 5 on v3
    // and v4. With them 2 (the lookups); session 8's rule (10 nats + 1.5 per token for every first candidate) also
    // took the `mul(` arguments from the line above, which the fitted rule leaves to the beams (a similar line gets
    // 12 nats, whatever its length: on 1,980 tasks that rule was right more often).
    const client = new EngineClient({ enginePath, mode: 'private' });
    try {
      await client.loadModel({ path: modelPath, threads: 1, contextSize: 512 });
      const cases: Array<[string, string, string]> = [
        ["import { readFileSync } from 'node:fs';\n\nexport function load(path: string): string {\n  const data = readFileSync(path, 'utf8');\n  return data;\n}\n\nexport function loadTwice(path: string): string {\n  const first = read", '\n  return first + first;\n}\n', "FileSync(path, 'utf8');"],
        ["class Visitor {\n  visit(node: Node, context: Context): string {\n    if (node.type === 'a') {\n      return this.visitNode(node, context);\n    }\n    if (node.type === 'b') {\n      return this.vis", '\n    }\n    return "";\n  }\n}\n', 'itNode(node, context);'],
        ['const x = add(first, second);\nconst y = sub(first, second);\nconst z = mul(', ');\n', 'first, second'],
        ['export const enum Codes {\n  lineFeed = 10,\n  space = 32,\n}\nexport function isSpace(ch: number): boolean {\n  return ch === Codes.space;\n}\nexport function isLineFeed(ch: number): boolean {\n  return ch === Codes.li', '\n}\n', 'neFeed;'],
        ["program\n  .option('-d, --debug', 'output extra debugging')\n  .option('-s, --small', 'small pizza size')\n  .option('-p, --pizza-type <type>', 'flavour of pizza');\n\nprogram.parse(process.argv);\nconst options = program.opts();\nif (options.debug) console.log(options);\nif (options.small) console.log(options", '\n', ');'],
      ];
      const run = async (copies: boolean) => {
        const answers: string[] = [];
        for (const [prefix, suffix] of cases) {
          const r = await client.infill({ prefix, suffix, maxTokens: 24, temperature: 0, stop: ['\n'], copyCandidates: copies });
          answers.push(cutAtUnmatchedClose(r.text.split('\n')[0]!).trimEnd());
        }
        return { answers, hits: answers.filter((a, i) => a === cases[i]![2]).length };
      };
      const withCopies = await run(true);
      const beamsOnly = await run(false);
      assert.ok(withCopies.hits >= 2 && withCopies.hits > beamsOnly.hits, `with copies ${withCopies.hits} ${JSON.stringify(withCopies.answers)}, beams only ${beamsOnly.hits} ${JSON.stringify(beamsOnly.answers)}`);
    } finally {
      await client.dispose();
    }
  });

  it('searches four beams by default (a small model): no fewer cases right than greedy, and edits still reuse the prompt', async function () {
    const client = new EngineClient({ enginePath, mode: 'private' });
    try {
      await client.loadModel({ path: modelPath, threads: 1, contextSize: 512 });
      const run = async (prefix: string, suffix: string, beamWidth?: number, cacheReuse = true) =>
        client.infill({ documentId: 'cases', prefix, suffix, maxTokens: 16, temperature: 0, stop: ['\n'], beamWidth, cacheReuse });
      let greedyHits = 0;
      let beamHits = 0;
      const beams: string[] = [];
      for (const [prefix, suffix, want] of CASES) {
        if (want.test((await run(prefix, suffix, 1)).text)) greedyHits++;
        const beam = await run(prefix, suffix);
        beams.push(beam.text);
        assert.ok(!beam.text.includes('\n'), 'the stop string ends a beam');
        if (want.test(beam.text)) beamHits++;
      }
      assert.ok(beamHits >= greedyHits, `beam ${beamHits} vs greedy ${greedyHits} of ${CASES.length}: ${JSON.stringify(beams)}`);
      // The search erases and re-evaluates only its own tokens, so the prompt stays reused: after one more character
      // at the cursor it evaluates what the same search evaluates from scratch less (nearly) the whole prompt.
      const methods = Array.from({ length: 12 }, (_, i) => `  get${i}(): number {\n    return this.value${i};\n  }\n`).join('\n');
      const prefix = `export class Values {\n${methods}\n  last(): number {\n    return this.`;
      const suffix = '\n  }\n}\n';
      await run(prefix, suffix);
      const warm = await run(prefix + 'v', suffix);
      const cold = await run(prefix + 'v', suffix, undefined, false);
      assert.equal(warm.text, cold.text);
      assert.ok(warm.tokensEvaluated + 150 < cold.tokensEvaluated, `warm ${warm.tokensEvaluated} vs cold ${cold.tokensEvaluated} tokens evaluated`);
    } finally {
      await client.dispose();
    }
  });
});
