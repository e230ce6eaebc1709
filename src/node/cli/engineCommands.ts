import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngineClient } from '../engine/engineClient';
import { stderrLogger } from '../stderrLogger';
import { parseArgs, UsageError, type CliCommand } from './args';

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
      const res = await client.infill({ prefix, suffix, maxTokens: Number(flags.get('max-tokens') ?? 64) }, { onText: (t) => process.stdout.write(t) });
      process.stderr.write(`\n[${res.tokensOut} tokens, first after ${res.timeToFirstTokenMs?.toFixed(0) ?? '-'} ms, ${res.totalMs.toFixed(0)} ms, ${res.stopReason}]\n`);
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
      process.stdout.write(JSON.stringify(await client.status(), null, 2) + '\n');
      return 0;
    } finally {
      await client.dispose();
    }
  },
};
