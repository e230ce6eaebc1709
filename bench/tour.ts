/**
 * `node out/bench/tour.js`: the sample workspace's scripted tour (sample-workspace/README.md) through Hearth's
 * engine, as the editor asks for it with its default settings (beam search, the confidence gate): for each step,
 * what the model suggests, its confidence and whether the gate shows it. Without the repository context the editor
 * adds (definitions of identifiers on the cursor's line, recently opened files), so the editor may differ. Used to write the tour from what the
 * shipped model actually does, and to check it after retraining; the UI test (test/e2e/tour.e2e.test.ts) types the
 * same steps in a real VS Code.
 * Options (env): HEARTH_BENCH_MODEL (model file, default models/hearth-code-tiny.gguf), HEARTH_TOUR_ALL=1 (also
 * the candidate steps that are not in the tour).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { runCompletion } from '../src/common/completion/completionPipeline';
import { windowsForContext } from '../src/common/completion/fimInput';
import { Settings } from '../src/common/settings';
import { EngineClient } from '../src/node/engine/engineClient';
import { printMachine, repoRoot } from './benchUtil';
import { TOUR_CANDIDATES, TOUR_STEPS, tourDocument } from '../test/e2e/tourSteps';

async function main(): Promise<void> {
  printMachine('tour');
  const modelPath = resolve(repoRoot, process.env.HEARTH_BENCH_MODEL ?? 'models/hearth-code-tiny.gguf');
  const client = new EngineClient({ enginePath: resolve(repoRoot, 'dist/engine.js'), mode: 'private' });
  const minConfidence = Settings.completionMinConfidence.default;
  const maxTokens = Settings.completionMaxTokens.default;
  try {
    const info = await client.loadModel({ path: modelPath, threads: 1, contextSize: 2048 });
    const steps = process.env.HEARTH_TOUR_ALL ? [...TOUR_STEPS, ...TOUR_CANDIDATES] : TOUR_STEPS;
    let shown = 0;
    for (const step of steps) {
      const original = readFileSync(resolve(repoRoot, 'sample-workspace', step.file), 'utf8');
      const doc = tourDocument(original, step);
      const out = await runCompletion(client, doc, { maxTokens, windows: windowsForContext(info.contextSize, maxTokens), timeLimitMs: 10_000, minConfidence });
      const c = out.result.confidence ?? null;
      const visible = out.suggestion !== undefined && (c === null || c >= minConfidence);
      if (visible) shown++;
      console.log(`${visible ? 'shown ' : 'hidden'} ${step.file} ${JSON.stringify(step.typed)} -> ${JSON.stringify(out.suggestion ?? '')} (confidence ${c?.toFixed(2) ?? 'n/a'})`);
    }
    console.log(`# ${shown} of ${steps.length} shown at the default gate ${minConfidence}; model ${modelPath}`);
  } finally {
    await client.dispose();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
