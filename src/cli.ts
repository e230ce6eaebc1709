/**
 * `hearth` command line: talks to the same engine as the editor, without VS Code.
 *   hearth complete --model FILE [--max-tokens N] PREFIX_FILE [SUFFIX_FILE]
 *   hearth status --model FILE
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngineClient } from './node/engine/engineClient';
import { stderrLogger } from './node/stderrLogger';

function usage(): never {
  process.stderr.write('usage: hearth complete --model FILE [--max-tokens N] PREFIX_FILE [SUFFIX_FILE]\n       hearth status --model FILE\n');
  process.exit(2);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a.startsWith('--')) flags.set(a.slice(2), rest[++i] ?? '');
    else positional.push(a);
  }
  const model = flags.get('model') ?? process.env.HEARTH_MODEL;
  if (!command || !model) usage();
  const client = new EngineClient({ enginePath: join(__dirname, 'engine.js'), logger: stderrLogger('cli', 'warn') });
  try {
    await client.loadModel({ path: model });
    if (command === 'status') {
      process.stdout.write(JSON.stringify(await client.status(), null, 2) + '\n');
    } else if (command === 'complete') {
      if (!positional[0]) usage();
      const prefix = readFileSync(positional[0], 'utf8');
      const suffix = positional[1] ? readFileSync(positional[1], 'utf8') : '';
      const res = await client.infill(
        { prefix, suffix, maxTokens: Number(flags.get('max-tokens') ?? 64) },
        { onText: (t) => process.stdout.write(t) },
      );
      process.stderr.write(`\n[${res.tokensOut} tokens, first after ${res.timeToFirstTokenMs?.toFixed(0) ?? '-'} ms, ${res.totalMs.toFixed(0)} ms, ${res.stopReason}]\n`);
    } else usage();
    return 0;
  } catch (err) {
    process.stderr.write(`hearth: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    await client.dispose();
  }
}

void main(process.argv.slice(2)).then((code) => process.exit(code));
