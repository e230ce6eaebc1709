import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { EngineClient } from '../engine/engineClient';
import { stderrLogger } from '../stderrLogger';
import { parseArgs, UsageError, type CliCommand } from './args';
import { promptCacheSummary } from '../../common/engineStatusText';

function engineClient(): EngineClient {
  // The CLI bundle sits beside the engine bundle in dist/.
  return new EngineClient({ enginePath: join(__dirname, 'engine.js'), logger: stderrLogger('cli', 'warn') });
}

export const completeCommand: CliCommand = {
  name: 'complete',
  summary: 'fill in the middle between a prefix file and a suffix file with the local model',
  usage: 'hearth complete --model FILE [--max-tokens N] PREFIX_FILE [SUFFIX_FILE]',
  async run(argv) {
    const { flags, positional } = parseArgs(argv);
    const model = flags.get('model') ?? process.env.HEARTH_MODEL;
    if (!model || !positional[0]) throw new UsageError(this.usage);
    const client = engineClient();
    try {
      await client.loadModel({ path: model });
      const prefix = readFileSync(positional[0], 'utf8');
      const suffix = positional[1] ? readFileSync(positional[1], 'utf8') : '';
      // The document is the file's real path: the shared engine keeps its evaluated prompt between calls.
      const documentId = realpathSync(positional[0]);
      const res = await client.infill({ prefix, suffix, documentId, maxTokens: Number(flags.get('max-tokens') ?? 64) }, { onText: (t) => process.stdout.write(t) });
      const prompt = res.promptSource ? `, prompt ${res.promptSource}${res.tokensReused ? ` (${res.tokensReused} tokens reused)` : ''}, ${res.tokensEvaluated} evaluated` : '';
      process.stderr.write(`\n[${res.tokensOut} tokens, first after ${res.timeToFirstTokenMs?.toFixed(0) ?? '-'} ms, ${res.totalMs.toFixed(0)} ms, ${res.stopReason}${prompt}]\n`);
      return 0;
    } finally {
      await client.dispose();
    }
  },
};

export const statusCommand: CliCommand = {
  name: 'status',
  summary: 'load a model in the engine and print the engine status as JSON',
  usage: 'hearth status --model FILE',
  async run(argv) {
    const { flags } = parseArgs(argv);
    const model = flags.get('model') ?? process.env.HEARTH_MODEL;
    if (!model) throw new UsageError(this.usage);
    const client = engineClient();
    try {
      await client.loadModel({ path: model });
      const status = await client.status();
      process.stdout.write(JSON.stringify(status, null, 2) + '\n');
      if (status.promptCache) process.stderr.write(`${promptCacheSummary(status.promptCache)}\n`);
      return 0;
    } finally {
      await client.dispose();
    }
  },
};
