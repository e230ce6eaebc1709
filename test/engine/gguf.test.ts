/**
 * The GGUF writer and generated models, checked against the real node-llama-cpp / llama.cpp.
 */
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Llama, LlamaModel } from 'node-llama-cpp' with { 'resolution-mode': 'import' };
import {
  decodeTensorData, encodeTensorData, f16ToF32, f32ToF16, GgmlType, gguf, tensorDataSize, writeGguf,
} from '../fixtures/gguf/ggufWriter';
import { makeModel, modelParamCounts, presets, tinyDense, tinyMoe, type ModelSpec } from '../fixtures/gguf/makeModel';
import { makeByteLevelBpeTokenizer, makeCodeTokenizer, TokenType } from '../fixtures/gguf/tokenizer';
import type { QuantName } from '../fixtures/gguf/ggufWriter';

type NodeLlamaCpp = typeof import('node-llama-cpp', { with: { 'resolution-mode': 'import' } });

const CODE = 'function add(a, b) {\n    return a + b; // sum é ✓\n}\n\tconst x = [1, 2];';

describe('GGUF writer', function () {
  let dir: string;
  let nlc: NodeLlamaCpp;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hearth-gguf-'));
    nlc = await import('node-llama-cpp');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('encoding', () => {
    it('converts f32 to f16 with round-to-nearest-even, keeping small scales finite', () => {
      for (const v of [0, 1, -1, 0.5, 65504, 1e-3, 6.1035e-5, 5.96e-8, -2.5, 0.1]) {
        const h = f32ToF16(v);
        const back = f16ToF32(h);
        assert.ok(Math.abs(back - v) <= Math.abs(v) * 1e-3 + 6e-8, `${v} -> ${back}`);
      }
      assert.equal(f32ToF16(1e6), 0x7c00); // overflow → +inf
      assert.equal(f32ToF16(-0), 0x8000);
      assert.ok(Number.isNaN(f16ToF32(f32ToF16(NaN))));
    });

    for (const type of [GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0]) {
      it(`round-trips ${GgmlType[type]} blocks within the quantization error`, () => {
        const src = new Float32Array(96).map((_, i) => Math.sin(i * 0.7) * 0.05);
        const size = tensorDataSize(type, [96]);
        const bytes = new Uint8Array(size);
        assert.equal(encodeTensorData(type, src, bytes), size);
        const back = decodeTensorData(type, bytes, 96);
        const tol = { [GgmlType.F32]: 0, [GgmlType.F16]: 1e-4, [GgmlType.Q8_0]: 0.05 / 127, [GgmlType.Q4_0]: 0.05 / 8 }[type];
        for (let i = 0; i < 96; i++) assert.ok(Math.abs(back[i]! - src[i]!) <= tol! + 1e-7, `${i}: ${src[i]} vs ${back[i]}`);
      });
    }

    it('uses the real block sizes: Q8_0 = 34 bytes, Q4_0 = 18 bytes per 32 weights', () => {
      assert.equal(tensorDataSize(GgmlType.Q8_0, [64, 3]), 6 * 34);
      assert.equal(tensorDataSize(GgmlType.Q4_0, [64, 3]), 6 * 18);
      assert.throws(() => tensorDataSize(GgmlType.Q4_0, [48]), /multiple of 32/);
    });
  });

  it('writes every metadata type and tensor type so that readGgufFileInfo reads back the exact values', async () => {
    const path = join(dir, 'all-types.gguf');
    const rows = 2;
    const fillData = () => ({ kind: 'values' as const, fill: (out: Float32Array, start: number) => { for (let i = 0; i < out.length; i++) out[i] = ((start + i) % 7) * 0.01; } });
    const res = await writeGguf(path, {
      alignment: 64,
      metadata: [
        ['general.architecture', 'llama'],
        ['test.u8', gguf.u8(250)],
        ['test.i8', gguf.i8(-120)],
        ['test.u16', gguf.u16(65000)],
        ['test.i16', gguf.i16(-32000)],
        ['test.u32', gguf.u32(4000000000)],
        ['test.i32', gguf.i32(-2000000000)],
        ['test.f32', gguf.f32(0.1)],
        ['test.f64', gguf.f64(0.1)],
        ['test.u64', gguf.u64(2n ** 60n)],
        ['test.i64', gguf.i64(-(2n ** 60n))],
        ['test.bool', true],
        ['test.str', 'héllo ▁ world'],
        ['test.inferred_int', 7],
        ['test.inferred_float', 1.5],
        ['test.arr_str', ['a', 'bc', '']],
        ['test.arr_i32', gguf.arr('int32', [1, -2, 3])],
        ['test.arr_f32', gguf.arr('float32', [0.5, -0.25])],
        ['test.arr_bool', [true, false]],
        ['test.arr_u8', gguf.arr('uint8', [0, 255])],
      ],
      tensors: [
        { name: 'a.f32', dims: [32, rows], type: GgmlType.F32, data: fillData() },
        { name: 'b.f16', dims: [32, rows], type: GgmlType.F16, data: { kind: 'fill', value: 1 } },
        { name: 'c.q8_0', dims: [32, rows], type: GgmlType.Q8_0, data: { kind: 'random', seed: 1, std: 0.02 } },
        { name: 'd.q4_0', dims: [64, 2, 2], type: GgmlType.Q4_0, data: { kind: 'random', seed: 2, std: 0.02 } },
      ],
    });
    assert.equal(statSync(path).size, res.bytes);
    assert.equal(res.dataOffset % 64, 0);

    const info = await nlc.readGgufFileInfo(path, { logWarnings: false });
    assert.equal(info.version, 3);
    const t = (info.metadata as unknown as { test: Record<string, unknown> }).test;
    assert.equal(t.u8, 250);
    assert.equal(t.i8, -120);
    assert.equal(t.u16, 65000);
    assert.equal(t.i16, -32000);
    assert.equal(t.u32, 4000000000);
    assert.equal(t.i32, -2000000000);
    assert.equal(t.f32, Math.fround(0.1));
    assert.equal(t.f64, 0.1);
    assert.equal(BigInt(t.u64 as bigint), 2n ** 60n);
    assert.equal(BigInt(t.i64 as bigint), -(2n ** 60n));
    assert.equal(t.bool, true);
    assert.equal(t.str, 'héllo ▁ world');
    assert.equal(t.inferred_int, 7);
    assert.equal(t.inferred_float, 1.5);
    assert.deepEqual(t.arr_str, ['a', 'bc', '']);
    assert.deepEqual(t.arr_i32, [1, -2, 3]);
    assert.deepEqual(t.arr_f32, [0.5, -0.25]);
    assert.deepEqual(t.arr_bool, [true, false]);
    assert.deepEqual(t.arr_u8, [0, 255]);
    assert.equal(Number((info.metadata as unknown as { general: { alignment: number } }).general.alignment), 64);

    const tensors = info.fullTensorInfo!;
    assert.deepEqual(tensors.map((x) => [x.name, x.dimensions.map(Number), x.ggmlType]), [
      ['a.f32', [32, 2], GgmlType.F32],
      ['b.f16', [32, 2], GgmlType.F16],
      ['c.q8_0', [32, 2], GgmlType.Q8_0],
      ['d.q4_0', [64, 2, 2], GgmlType.Q4_0],
    ]);
    const file = readFileSync(path);
    for (const [i, x] of tensors.entries()) {
      assert.equal(Number(x.offset), res.tensorOffsets[i]);
      assert.equal(Number(x.fileOffset) % 64, 0);
    }
    // data of `values` and `fill` tensors decodes back
    const a = decodeTensorData(GgmlType.F32, file.subarray(Number(tensors[0]!.fileOffset)), 64);
    assert.equal(a[8], Math.fround(0.01));
    const b = decodeTensorData(GgmlType.F16, file.subarray(Number(tensors[1]!.fileOffset)), 64);
    assert.ok(b.every((v) => v === 1));
    // random quantized data: finite small f16 scales, std ≈ 0.02
    const c = decodeTensorData(GgmlType.Q8_0, file.subarray(Number(tensors[2]!.fileOffset)), 64);
    const d = decodeTensorData(GgmlType.Q4_0, file.subarray(Number(tensors[3]!.fileOffset)), 256);
    for (const arr of [c, d]) {
      assert.ok(arr.every((v) => Number.isFinite(v) && Math.abs(v) < 0.1));
      const std = Math.sqrt(arr.reduce((s, v) => s + v * v, 0) / arr.length);
      assert.ok(std > 0.01 && std < 0.03, `std ${std}`);
    }
  });

  it('is deterministic: same spec and seed give byte-identical files, another seed does not', async () => {
    const hash = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
    const spec: ModelSpec = { ...tinyMoe, quant: 'q4_0', seed: 42 };
    await makeModel(join(dir, 'det1.gguf'), spec);
    await makeModel(join(dir, 'det2.gguf'), spec);
    await makeModel(join(dir, 'det3.gguf'), { ...spec, seed: 43 });
    assert.equal(hash(join(dir, 'det1.gguf')), hash(join(dir, 'det2.gguf')));
    assert.notEqual(hash(join(dir, 'det1.gguf')), hash(join(dir, 'det3.gguf')));
  });

  it('counts parameters of the presets (bench shapes as documented)', () => {
    const dense = modelParamCounts(presets.benchDense);
    assert.equal(dense.total, dense.active);
    assert.ok(dense.total > 1.5e9 && dense.total < 1.6e9, `benchDense ${dense.total}`);
    const moe = modelParamCounts(presets.benchMoe);
    assert.ok(moe.active > 2.3e9 && moe.active < 2.5e9, `benchMoe active ${moe.active}`);
    assert.ok(moe.total * 18 / 32 < 6e9, `benchMoe q4_0 size ${moe.total * 18 / 32}`);
    const tiny = modelParamCounts(tinyMoe);
    assert.ok(tiny.active < tiny.total);
  });

  it('builds an SPM code vocab with byte fallback, FIM and ChatML tokens, at any vocab size', () => {
    const tok = makeCodeTokenizer({ vocabSize: 3000 });
    assert.equal(tok.tokens.length, 3000);
    assert.equal(new Set(tok.tokens).size, 3000);
    assert.equal(tok.tokens[3], '<0x00>');
    assert.equal(tok.types[3], TokenType.Byte);
    assert.equal(tok.tokens[tok.special.fimPre!], '<|fim_prefix|>');
    assert.equal(tok.types[tok.special.fimMid!], TokenType.Control);
    assert.ok(tok.tokens.includes('▁▁▁▁') && tok.tokens.includes('▁return'));
    const small = makeCodeTokenizer({ vocabSize: 400 });
    assert.equal(small.tokens.length, 400);
  });

  describe('with the real llama.cpp', function () {
    let llama: Llama;
    before(async () => {
      llama = await nlc.getLlama({ gpu: false, build: 'never', logLevel: nlc.LlamaLogLevel.error, progressLogs: false });
    });

    /** Loads a generated model, checks vocab/FIM/metadata and runs a short greedy FIM completion. */
    async function checkModel(path: string, spec: ModelSpec, opts: { roundTrip?: string } = {}): Promise<string> {
      const info = await nlc.readGgufFileInfo(path, { logWarnings: false });
      const md = info.metadata as unknown as {
        general: { architecture: string; name: string };
        llama: Record<string, number>;
        tokenizer: { ggml: Record<string, number> };
      };
      assert.equal(md.general.architecture, 'llama');
      assert.equal(md.general.name, spec.name);
      assert.equal(md.llama.embedding_length, spec.nEmbd);
      assert.equal(md.llama.block_count, spec.nLayer);
      if (spec.nExpert) {
        assert.equal(md.llama.expert_count, spec.nExpert);
        assert.equal(md.llama.expert_used_count, spec.nExpertUsed);
      } else {
        assert.equal(md.llama.expert_count, undefined);
      }

      const model: LlamaModel = await llama.loadModel({ modelPath: path });
      try {
        const g = md.tokenizer.ggml;
        assert.equal(model.tokens.infill.prefix, g.fim_pre_token_id);
        assert.equal(model.tokens.infill.suffix, g.fim_suf_token_id);
        assert.equal(model.tokens.infill.middle, g.fim_mid_token_id);
        assert.equal(g.prefix_token_id, g.fim_pre_token_id);
        assert.equal(model.tokens.infill.prefix != null, true);
        assert.equal((model.fileInfo.metadata as unknown as { llama: { expert_count?: number } }).llama.expert_count, spec.nExpert);

        const text = opts.roundTrip ?? CODE;
        const tokens = model.tokenize(text);
        assert.equal(model.detokenize(tokens), text);

        // One thread: tiny models gain nothing from more, and ggml worker threads spin-wait badly on a busy 2-core box.
        const ctx = await model.createContext({ contextSize: 256, threads: 1 });
        try {
          const completion = new nlc.LlamaCompletion({ contextSequence: ctx.getSequence() });
          const chunks: string[] = [];
          const generated: number[] = [];
          const out = await completion.generateInfillCompletion('def add(a, b):\n    ', '\n\nprint(add(1, 2))\n', {
            maxTokens: 8, temperature: 0,
            onToken: (t) => generated.push(...t),
            onTextChunk: (c) => chunks.push(c),
          });
          assert.ok(generated.length >= 1, 'no token generated');
          assert.ok(out.length > 0 && out.trim().length > 0, `no visible text: ${JSON.stringify(out)}`);
          assert.equal(chunks.join(''), out);
          return out;
        } finally {
          await ctx.dispose();
        }
      } finally {
        await model.dispose();
      }
    }

    const cases: Array<[string, ModelSpec, QuantName]> = [
      ...(['f32', 'f16', 'q8_0', 'q4_0'] as const).map((q): [string, ModelSpec, QuantName] => ['tinyDense', tinyDense, q]),
      ...(['q4_0', 'q8_0'] as const).map((q): [string, ModelSpec, QuantName] => ['tinyMoe', tinyMoe, q]),
    ];
    for (const [label, base, quant] of cases) {
      it(`loads ${label} ${quant}, exposes FIM tokens, round-trips code and completes visible text`, async () => {
        const spec = { ...base, quant };
        const path = join(dir, `${label}-${quant}.gguf`);
        await makeModel(path, spec);
        await checkModel(path, spec);
      });
    }

    it('loads a model with a custom gpt2 (byte-level BPE) tokenizer', async () => {
      const tokenizer = makeByteLevelBpeTokenizer();
      const spec: ModelSpec = { ...tinyDense, name: 'hearth-tiny-bpe', tokenizer };
      const path = join(dir, 'bpe.gguf');
      await makeModel(path, spec);
      await checkModel(path, spec);
    });
  });
});
