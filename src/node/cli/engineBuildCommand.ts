/**
 * `hearth engine build`: builds node-llama-cpp's backend for this machine (see `nativeBuild.ts`), printing progress;
 * Ctrl-C stops the compilers and leaves nothing marked ready. The engine loads the build at its next start.
 */
import { buildNativeEngine, engineBuildRoot } from '../engine/nativeBuild';
import { intFlag, parseCommandArgs, pathFlag, UsageError, type CliCommand } from './args';

const USAGE = 'hearth engine build [--dir FOLDER] [--jobs N]';

export const engineCommand: CliCommand = {
  name: 'engine',
  summary: 'build the engine for this machine (native CPU flags, OpenMP) from the llama.cpp source Hearth ships; offline, minutes',
  usage: USAGE,
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub !== 'build') throw new UsageError(sub === undefined ? 'a subcommand is required' : `unknown subcommand "${sub}"`, USAGE);
    const { values } = parseCommandArgs(rest, { dir: { type: 'string' }, jobs: { type: 'string' } }, USAGE);
    const root = pathFlag(values.dir) ?? engineBuildRoot();
    const jobs = intFlag(values.jobs, 'jobs', 0, 1, 256, USAGE) || undefined;
    const ac = new AbortController();
    const onSigint = () => {
      process.stderr.write('\nstopping the build…\n');
      ac.abort();
    };
    process.on('SIGINT', onSigint);
    try {
      const r = await buildNativeEngine({ root, jobs, signal: ac.signal, log: (line) => process.stderr.write(`${line}\n`) });
      if (r.ok) {
        process.stdout.write(`${r.dir}\n`);
        return 0;
      }
      process.stderr.write(`hearth engine build: ${r.reason}\nThe prebuilt engine keeps working.\n`);
      return r.cancelled ? 130 : 1;
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
};
