/**
 * Generates a test/demo/benchmark GGUF model.
 *   node out/scripts/makeModel.js --preset tinyDense|tinyMoe|benchMoe|benchDense|demo --out FILE [--quant q4_0] [--seed N] [--force]
 * Skips the work when FILE exists and FILE.spec.json records the same spec fingerprint and file size, so `npm start`
 * can call it every time.
 */
import { existsSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { makeModel, modelParamCounts, presets, specFingerprint, type ModelSpec, type PresetName } from '../test/fixtures/gguf/makeModel';
import type { QuantName } from '../test/fixtures/gguf/ggufWriter';

const QUANTS: readonly QuantName[] = ['f32', 'f16', 'q8_0', 'q4_0'];

function usage(msg?: string): never {
  if (msg) console.error(`makeModel: ${msg}`);
  console.error(`usage: makeModel --preset ${Object.keys(presets).join('|')} --out FILE [--quant ${QUANTS.join('|')}] [--seed N] [--force]`);
  process.exit(2);
}

function parseArgs(argv: string[]): { preset: PresetName; out: string; quant?: QuantName; seed?: number; force: boolean } {
  let preset: string | undefined;
  let out: string | undefined;
  let quant: string | undefined;
  let seed: number | undefined;
  let force = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = () => { const v = argv[++i]; if (v === undefined) usage(`${a} needs a value`); return v; };
    if (a === '--preset') preset = val();
    else if (a === '--out') out = val();
    else if (a === '--quant') quant = val();
    else if (a === '--seed') { seed = Number(val()); if (!Number.isInteger(seed)) usage('--seed must be an integer'); }
    else if (a === '--force') force = true;
    else if (a === '--help' || a === '-h') usage();
    else usage(`unknown argument ${a}`);
  }
  if (!preset || !(preset in presets)) usage(`--preset must be one of ${Object.keys(presets).join(', ')}`);
  if (!out) usage('--out is required');
  if (quant !== undefined && !QUANTS.includes(quant as QuantName)) usage(`--quant must be one of ${QUANTS.join(', ')}`);
  return { preset: preset as PresetName, out, ...(quant ? { quant: quant as QuantName } : {}), ...(seed !== undefined ? { seed } : {}), force };
}

interface SpecFile { fingerprint: string; bytes: number; preset: string; spec: ModelSpec; params: { total: number; active: number } }

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const spec: ModelSpec = { ...presets[args.preset], ...(args.quant ? { quant: args.quant } : {}), ...(args.seed !== undefined ? { seed: args.seed } : {}) };
  const out = resolve(args.out);
  const specPath = `${out}.spec.json`;
  const fingerprint = specFingerprint(spec);
  if (!args.force && existsSync(out) && existsSync(specPath)) {
    try {
      const prev = JSON.parse(readFileSync(specPath, 'utf8')) as SpecFile;
      if (prev.fingerprint === fingerprint && statSync(out).size === prev.bytes) {
        console.log(`makeModel: ${out} is up to date (${args.preset})`);
        return;
      }
    } catch { /* regenerate */ }
  }
  mkdirSync(dirname(out), { recursive: true });
  const params = modelParamCounts(spec);
  console.log(`makeModel: writing ${args.preset} (${spec.quant}, ${(params.total / 1e6).toFixed(1)} M params, ${(params.active / 1e6).toFixed(1)} M active) to ${out}`);
  const t0 = Date.now();
  let lastLog = t0;
  const res = await makeModel(out, spec, {
    onProgress: (written, total) => {
      const now = Date.now();
      if (now - lastLog > 5000) { lastLog = now; console.log(`makeModel: ${(100 * written / total).toFixed(0)}%`); }
    },
  });
  const record: SpecFile = { fingerprint, bytes: res.bytes, preset: args.preset, spec, params: { total: res.params.total, active: res.params.active } };
  writeFileSync(specPath, JSON.stringify(record, null, 2) + '\n');
  console.log(`makeModel: wrote ${(res.bytes / 1e6).toFixed(1)} MB in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
