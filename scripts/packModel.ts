/**
 * Packs the trained hearth-code-tiny model (models/train) into a llama-architecture GGUF with the project's writer
 * (dense, or Mixtral-style mixture of experts when the config has n_expert > 0).
 *   node out/scripts/packModel.js [--dir .models/train] [--out models/hearth-code-tiny.gguf] [--quant q8_0|f16|f32]
 * Reads DIR/tokenizer.json (byte-level BPE spec written by models/train/tokenizer.py), DIR/weights.json and
 * DIR/weights.bin (f32 tensors in GGUF-native llama layout, written by models/train/train.py), writes OUT and
 * OUT.sha256 (sha256sum format).
 */
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { QuantName } from '../test/fixtures/gguf/ggufWriter';
import { makeModel, type ModelSpec } from '../test/fixtures/gguf/makeModel';
import { CHATML_TEMPLATE, type SpecialTokenIds, type TokenizerSpec, type TokenType } from '../test/fixtures/gguf/tokenizer';

interface TokenizerFile {
  model: 'gpt2';
  pre: string;
  tokens: string[];
  types: number[];
  merges: string[];
  special: SpecialTokenIds & { imStart?: number; imEnd?: number };
  addBos: boolean;
  addEos: boolean;
}

interface WeightsFile {
  config: {
    name: string;
    seed: number;
    model: {
      n_vocab: number; n_ctx: number; n_embd: number; n_layer: number; n_head: number; n_head_kv: number; n_ff: number; rms_eps: number; rope_freq_base: number;
      /** Mixture of experts: experts per layer and experts used per token (absent or 0: dense). */
      n_expert?: number; n_expert_used?: number;
    };
    /** `fim_order`: the prompt order the model was mostly trained on; the engine reads `hearth.fim.order`. */
    gguf?: { fim_order?: 'psm' | 'spm' };
  };
  tensors: Array<{ name: string; shape: number[]; offset: number }>;
}

const QUANTS: readonly QuantName[] = ['f32', 'f16', 'q8_0'];

function parseArgs(argv: string[]): { dir: string; out: string; quant: QuantName } {
  let dir = '.models/train';
  let out = 'models/hearth-code-tiny.gguf';
  let quant: QuantName = 'q8_0';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--dir') dir = val();
    else if (a === '--out') out = val();
    else if (a === '--quant') {
      const q = val();
      if (!QUANTS.includes(q as QuantName)) throw new Error(`--quant must be one of ${QUANTS.join(', ')}`);
      quant = q as QuantName;
    } else throw new Error(`unknown argument ${a}; usage: packModel [--dir DIR] [--out FILE] [--quant ${QUANTS.join('|')}]`);
  }
  return { dir, out, quant };
}

/** The TokenizerSpec of a tokenizer.json written by models/train/tokenizer.py. */
export function tokenizerSpecFromFile(file: TokenizerFile): TokenizerSpec {
  const { imStart: _imStart, imEnd: _imEnd, ...special } = file.special;
  return {
    model: 'gpt2',
    pre: file.pre,
    tokens: file.tokens,
    types: file.types as TokenType[],
    merges: file.merges,
    special,
    addBos: file.addBos,
    addEos: file.addEos,
    chatTemplate: CHATML_TEMPLATE,
  };
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const tokFile = JSON.parse(readFileSync(resolve(args.dir, 'tokenizer.json'), 'utf8')) as TokenizerFile;
  const weights = JSON.parse(readFileSync(resolve(args.dir, 'weights.json'), 'utf8')) as WeightsFile;
  const bin = readFileSync(resolve(args.dir, 'weights.bin'));
  const floats = new Float32Array(bin.buffer, bin.byteOffset, bin.byteLength / 4);
  const m = weights.config.model;
  const byName = new Map(weights.tensors.map((t) => [t.name, t]));
  const used = new Set<string>();
  const spec: ModelSpec = {
    name: weights.config.name,
    nEmbd: m.n_embd,
    nLayer: m.n_layer,
    nHead: m.n_head,
    nHeadKv: m.n_head_kv,
    nFf: m.n_ff,
    contextLength: m.n_ctx,
    ...(m.n_expert ? { nExpert: m.n_expert, nExpertUsed: m.n_expert_used ?? 0 } : {}),
    tokenizer: tokenizerSpecFromFile(tokFile),
    quant: args.quant,
    tiedEmbeddings: true,
    ropeFreqBase: m.rope_freq_base,
    rmsEps: m.rms_eps,
    seed: weights.config.seed,
    extraMetadata: [
      ['general.description', m.n_expert
        ? `Tiny mixture-of-experts code model (${m.n_expert} experts, ${m.n_expert_used ?? 0} used per token) trained by Hearth (models/train): fill-in-the-middle (PSM/SPM) and next-token on permissively licensed TypeScript/JavaScript.`
        : 'Tiny code model trained from scratch by Hearth (models/train): fill-in-the-middle (PSM/SPM) and next-token on permissively licensed TypeScript/JavaScript.'],
      ['general.license', 'MIT'],
      ['hearth.fim.order', weights.config.gguf?.fim_order ?? 'psm'],
    ],
    tensorData: (name, dims) => {
      const t = byName.get(name);
      if (!t) throw new Error(`weights.json has no tensor ${name}`);
      // numpy shape [rows, cols] = GGUF ne [cols, rows]
      const ne = [...t.shape].reverse();
      if (ne.length !== dims.length || ne.some((d, i) => d !== dims[i])) throw new Error(`${name}: shape ${JSON.stringify(t.shape)} does not fit GGUF dims ${JSON.stringify(dims)}`);
      used.add(name);
      const base = t.offset / 4;
      return { kind: 'values', fill: (out: Float32Array, start: number) => out.set(floats.subarray(base + start, base + start + out.length)) };
    },
  };
  if (tokFile.tokens.length !== m.n_vocab) throw new Error(`tokenizer has ${tokFile.tokens.length} tokens, model ${m.n_vocab}`);
  const out = resolve(args.out);
  const res = await makeModel(out, spec);
  const unused = weights.tensors.filter((t) => !used.has(t.name)).map((t) => t.name);
  if (unused.length) throw new Error(`tensors not written: ${unused.join(', ')}`);
  const sha = await sha256File(out);
  writeFileSync(`${out}.sha256`, `${sha}  ${basename(out)}\n`);
  console.log(`packModel: wrote ${out} (${args.quant}, ${res.bytes} bytes, ${res.params.total} params, ${res.params.active} active) sha256 ${sha}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
