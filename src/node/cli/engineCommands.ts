import { readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EngineClient } from '../engine/engineClient';
import { stderrLogger } from '../stderrLogger';
import { intFlag, parseCommandArgs, pathFlag, UsageError, type CliCommand } from './args';
import { promptCacheSummary, speedLines } from '../../common/engineStatusText';

/** An engine the CLI starts lingers this long without clients (a VS Code window connected keeps it up). */
const CLI_ENGINE_IDLE_EXIT_MS = 60_000;

function engineClient(): EngineClient {
  // The CLI bundle sits beside the engine bundle in dist/. The client's errors are also thrown to the command,
  // which prints each once; logging them here too would print every failure twice.
  const log = stderrLogger('cli', 'warn');
  return new EngineClient({ enginePath: join(__dirname, 'engine.js'), logger: { ...log, error: () => undefined }, idleExitMs: CLI_ENGINE_IDLE_EXIT_MS, clientName: 'hearth-cli' });
}

/**
 * The model path, absolute against the caller's folder: the shared engine runs in another folder, so a relative
 * path would name another file there. Checked here so a typo fails before an engine starts.
 */
function modelPath(value: string | undefined, usage: string): string {
  const raw = value ?? process.env.HEARTH_MODEL;
  if (!raw) throw new UsageError('--model FILE (or the HEARTH_MODEL environment variable) is required', usage);
  const abs = pathFlag(raw)!;
  const st = statSync(abs, { throwIfNoEntry: false });
  if (!st) throw new UsageError(`--model ${raw}: no such file (${abs})`, usage);
  if (!st.isFile() && !st.isDirectory()) throw new UsageError(`--model ${raw}: not a model file`, usage);
  return abs;
}

function readInput(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`${what} ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a file' : (err as Error).message}`);
  }
}

const COMPLETE_USAGE = 'hearth complete --model FILE [--max-tokens N] PREFIX_FILE [SUFFIX_FILE]';

export const completeCommand: CliCommand = {
  name: 'complete',
  summary: 'fill in the middle between a prefix file and a suffix file with the local model (Ctrl-C stops it)',
  usage: COMPLETE_USAGE,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, { model: { type: 'string' }, 'max-tokens': { type: 'string' } }, COMPLETE_USAGE, { min: 1, max: 2 });
    // Everything is checked and read before the engine starts or a model loads.
    const maxTokens = intFlag(values['max-tokens'], 'max-tokens', 64, 1, 4096, COMPLETE_USAGE);
    const model = modelPath(values.model, COMPLETE_USAGE);
    const prefix = readInput(positionals[0]!, 'PREFIX_FILE');
    const suffix = positionals[1] ? readInput(positionals[1], 'SUFFIX_FILE') : '';
    const client = engineClient();
    const ac = new AbortController();
    let generating = false;
    // During generation Ctrl-C cancels the request (the engine stops at its next token); before it, it quits.
    const onSigint = () => {
      ac.abort();
      if (!generating) void client.dispose().finally(() => process.exit(130));
    };
    process.once('SIGINT', onSigint);
    try {
      await client.loadModel({ path: model });
      if (ac.signal.aborted) return 130;
      generating = true;
      // The document is the file's real path: the shared engine keeps its evaluated prompt between calls.
      const documentId = realpathSync(positionals[0]!);
      const res = await client.infill({ prefix, suffix, documentId, maxTokens }, { signal: ac.signal, onText: (t) => process.stdout.write(t) });
      const prompt = res.promptSource ? `, prompt ${res.promptSource}${res.tokensReused ? ` (${res.tokensReused} tokens reused)` : ''}, ${res.tokensEvaluated} evaluated` : '';
      process.stderr.write(`\n[${res.tokensOut} tokens, first after ${res.timeToFirstTokenMs?.toFixed(0) ?? '-'} ms, ${res.totalMs.toFixed(0)} ms, ${res.stopReason}${prompt}]\n`);
      return ac.signal.aborted ? 130 : 0;
    } finally {
      process.removeListener('SIGINT', onSigint);
      await client.dispose();
    }
  },
};

const STATUS_USAGE = 'hearth status --model FILE';

export const statusCommand: CliCommand = {
  name: 'status',
  summary: 'load a model in the engine and print the engine status as JSON',
  usage: STATUS_USAGE,
  async run(argv) {
    const { values } = parseCommandArgs(argv, { model: { type: 'string' } }, STATUS_USAGE);
    const model = modelPath(values.model, STATUS_USAGE);
    const client = engineClient();
    try {
      await client.loadModel({ path: model });
      const status = await client.status();
      process.stdout.write(JSON.stringify(status, null, 2) + '\n');
      if (status.promptCache) process.stderr.write(`${promptCacheSummary(status.promptCache)}\n`);
      for (const line of speedLines(status)) process.stderr.write(`${line}\n`);
      return 0;
    } finally {
      await client.dispose();
    }
  },
};
