import type { TuneResult } from '../protocol/engineProtocol';

/** The markdown table "Hearth: Tune for This Machine" shows: one row per setting, the kept one marked. */
export function tuneReport(result: TuneResult, o: { modelName: string; cpu: string; physicalCores: number; logicalCores: number; threadsOverride?: number }): string {
  const lines = [
    `# Hearth: tuned for this machine`,
    '',
    `Model **${o.modelName}** (\`${result.modelPath}\`) on ${o.cpu}, ${o.physicalCores} physical / ${o.logicalCores} logical cores.`,
    `Each setting: ${result.promptTokens} prompt tokens evaluated from an empty cache (prefill), then ${result.decodeTokens} tokens generated (decode). ` +
      `"Typical completion" is the estimated time of a 256-token prefill plus 48 generated tokens; the fastest is kept. Sweep took ${(result.totalMs / 1000).toFixed(1)} s.`,
    '',
    '| | threads | batch | prefill tokens/s | decode tokens/s | typical completion |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...result.rows.map((r) => {
      const best = r.threads === result.best.threads && r.batchSize === result.best.batchSize;
      return `| ${best ? '**kept**' : ''} | ${r.threads} | ${r.batchSize} | ${r.prefillTokensPerSecond.toFixed(1)} | ${r.decodeTokensPerSecond.toFixed(1)} | ${r.completionMs.toFixed(0)} ms |`;
    }),
    '',
    `The engine now runs this model with **${result.best.threads} threads and batch ${result.best.batchSize}** on this machine (kept per machine and model; run the command again after a hardware change).`,
  ];
  if (o.threadsOverride) {
    lines.push('', `Note: the setting \`hearth.engine.threads\` is ${o.threadsOverride}, and an explicit setting wins over the tuned thread count. Set it to 0 to use the tuned one.`);
  }
  return lines.join('\n') + '\n';
}
