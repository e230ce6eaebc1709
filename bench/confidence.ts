/**
 * `npm run bench:confidence`: where to set the completion confidence gate (`hearth.completion.minConfidence`).
 * Runs the shipped model (models/hearth-code-tiny.gguf) through Hearth's engine over the bench:model tasks
 * (held-out files never trained on: rest of line and bracket contents, same sampling, seed and windows), records
 * each answer's confidence (mean token log-probability of the beam search's answer) and whether it is right (exact
 * match after trimming; edit similarity), then prints accuracy by confidence decile and, for each candidate
 * threshold, the share shown and the accuracy of what is shown. The chosen threshold is the upper edge of the
 * highest decile band (scanning from the least confident up) whose exact-match rate is below half the exact-match
 * rate of the whole set: below it, what would be shown is mostly wrong.
 * Options (env): HEARTH_BENCH_MODEL, HEARTH_BENCH_N (rest-of-line tasks, default 200; bracket tasks = N/2),
 * HEARTH_BENCH_SEED (default 8), HEARTH_BENCH_THREADS (default 1).
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { EngineClient } from '../src/node/engine/engineClient';
import { printMachine, printResult, repoRoot, round } from './benchUtil';
import { editSimilarity, proposal, sampleTasks } from './model';

const enginePath = resolve(repoRoot, 'dist/engine.js');
const modelPath = resolve(repoRoot, process.env.HEARTH_BENCH_MODEL ?? 'models/hearth-code-tiny.gguf');
const nLine = Number(process.env.HEARTH_BENCH_N ?? 200);
const seed = Number(process.env.HEARTH_BENCH_SEED ?? 8);
const threads = Number(process.env.HEARTH_BENCH_THREADS ?? 1);

interface Row { confidence: number; em: boolean; es: number }

async function main(): Promise<void> {
  printMachine('bench:confidence');
  const t0 = performance.now();
  const manifest = JSON.parse(readFileSync(resolve(repoRoot, 'models/train/data-manifest.json'), 'utf8')) as { heldout: Array<{ files: Array<{ path: string }> }> };
  const files = manifest.heldout.flatMap((g) => g.files).filter((f) => existsSync(resolve(repoRoot, f.path))).map((f) => ({ path: f.path, text: readFileSync(resolve(repoRoot, f.path), 'utf8').replace(/\r\n/g, '\n') }));
  const tasks = sampleTasks(files, nLine, Math.ceil(nLine / 2), seed);
  console.log(`# ${tasks.length} tasks from ${files.length} held-out files, seed ${seed}, model ${modelPath}`);
  const client = new EngineClient({ enginePath, mode: 'private' });
  const rows: Row[] = [];
  let unknown = 0;
  try {
    await client.loadModel({ path: modelPath, threads, contextSize: 512 });
    for (const t of tasks) {
      // The same request as bench:model (the engine's default decoding: a beam search of 4 for this model).
      const r = await client.infill({ documentId: t.file, prefix: t.prefix, suffix: t.suffix, maxTokens: 32, temperature: 0, stop: ['\n'] });
      if (r.confidence === null || r.confidence === undefined) {
        unknown++;
        continue;
      }
      const p = proposal(t, r.text).trimEnd();
      const e = t.expected.trimEnd();
      rows.push({ confidence: r.confidence, em: p === e, es: editSimilarity(p, e) });
    }
  } finally {
    await client.dispose();
  }
  if (!rows.length) throw new Error('the engine returned no confidence: is the model using the beam search?');
  rows.sort((a, b) => a.confidence - b.confidence);
  const rate = (rs: Row[]) => (rs.length ? rs.filter((r) => r.em).length / rs.length : 0);
  const es = (rs: Row[]) => (rs.length ? rs.reduce((s, r) => s + r.es, 0) / rs.length : 0);
  const overall = rate(rows);
  console.log(`# ${rows.length} answers with a confidence (${unknown} without); exact match overall ${(overall * 100).toFixed(1)}%, edit similarity ${es(rows).toFixed(3)}`);
  console.log('| confidence decile (low → high) | range | exact match | edit similarity |');
  console.log('| --- | --- | --- | --- |');
  const bands: Array<{ lo: number; hi: number; em: number }> = [];
  for (let d = 0; d < 10; d++) {
    const band = rows.slice(Math.floor((d * rows.length) / 10), Math.floor(((d + 1) * rows.length) / 10));
    if (!band.length) continue;
    const lo = band[0]!.confidence;
    const hi = band[band.length - 1]!.confidence;
    bands.push({ lo, hi, em: rate(band) });
    console.log(`| ${d + 1} | ${lo.toFixed(2)} … ${hi.toFixed(2)} | ${(rate(band) * 100).toFixed(1)}% | ${es(band).toFixed(3)} |`);
  }
  // The gate: up to the last band (from the bottom) whose exact-match rate is under half the overall rate.
  let threshold = -100;
  for (const b of bands) {
    if (b.em < overall / 2) threshold = b.hi;
    else break;
  }
  console.log('| threshold | shown | exact match of shown | edit similarity of shown | hidden that were right |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const t of [-100, -3, -2, -1.5, -1.2, -1, -0.8, -0.6, -0.4, -0.2, threshold]) {
    const shown = rows.filter((r) => r.confidence >= t);
    const hiddenRight = rows.filter((r) => r.confidence < t && r.em).length;
    console.log(`| ${t === threshold ? `**${t.toFixed(2)}** (chosen)` : t} | ${((shown.length / rows.length) * 100).toFixed(0)}% | ${(rate(shown) * 100).toFixed(1)}% | ${es(shown).toFixed(3)} | ${hiddenRight} |`);
  }
  const shown = rows.filter((r) => r.confidence >= threshold);
  printResult({
    threshold: round(threshold, 2),
    shown_share: round(shown.length / rows.length),
    em_all: round(overall),
    em_shown: round(rate(shown)),
    tasks: rows.length,
    seconds: round((performance.now() - t0) / 1000, 1),
  });
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.stack ?? e.message : e);
    process.exit(1);
  });
}
