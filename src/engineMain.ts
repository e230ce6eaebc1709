/**
 * Engine process entry, started with the editor's own runtime (`process.execPath`, `ELECTRON_RUN_AS_NODE=1`).
 *   engine.js --runtime-dir DIR [--idle-exit-ms N]   the shared per-user engine on a local socket (default)
 *   engine.js --stdio                                a private engine speaking JSON-RPC on stdin/stdout
 * Logs go to stderr (the daemon's stderr is the runtime directory's engine.log).
 */
import { buildIdOf } from './node/engine/buildId';
import { EngineDaemon } from './node/engine/engineDaemon';
import { EngineCore, EngineSession } from './node/engine/engineServer';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { engineBuildRoot, readBackendChoice } from './node/engine/nativeBuild';
import { defaultRuntimeDir } from './node/engine/runtimeDir';
import { nativeOpenmpEnv } from './node/engine/threads';
import { stderrLogger } from './node/stderrLogger';

const logger = stderrLogger(`engine ${process.pid}`);
const argv = process.argv.slice(2);
const flag = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};

let stopping = false;
function exit(code: number): void {
  if (stopping) return;
  stopping = true;
  process.exit(code);
}

async function main(): Promise<void> {
  if (argv.includes('--stdio')) {
    const core = new EngineCore(logger, undefined, buildIdOf(__filename), () => void core.dispose().finally(() => exit(0)));
    new EngineSession(core, process.stdin, process.stdout, 'stdio');
    process.stdin.on('end', () => void core.dispose().finally(() => exit(0)));
    return;
  }
  const daemon = new EngineDaemon(
    { runtimeDir: flag('--runtime-dir') ?? defaultRuntimeDir(), idleExitMs: Number(flag('--idle-exit-ms') ?? 10 * 60_000), logger },
    exit,
  );
  process.on('SIGTERM', () => void daemon.stop('SIGTERM'));
  process.on('SIGINT', () => void daemon.stop('SIGINT'));
  if (!(await daemon.start())) exit(0);
}

/**
 * Where this engine will load the native build (built, and not measured slower by the tuner), its OpenMP settings
 * (`NATIVE_OPENMP_ENV`: one libuv worker, a long spin), for what the environment does not set. Here, first: libuv
 * sizes its pool at the first piece of work queued on it and libgomp reads its settings when the addon loads it. A
 * prebuilt chosen later in the settings runs with them too (one libuv worker; it has no OpenMP).
 */
function prepareNativeEnv(): void {
  // Files only, no toolchain probes (`findNativeBuild` runs cmake and the compiler): the engine must start at once.
  let root: string;
  let dirs: string[];
  try {
    root = engineBuildRoot();
    dirs = readdirSync(root);
  } catch {
    return;
  }
  const ready = dirs.some((d) => existsSync(join(root, d, 'ready.json')) && readBackendChoice(join(root, d))?.keep !== 'prebuilt');
  if (!ready) return;
  const added = nativeOpenmpEnv(process.env);
  Object.assign(process.env, added);
  if (Object.keys(added).length) logger.info(`native build present: ${Object.entries(added).map(([k, v]) => `${k}=${v}`).join(' ')} for its OpenMP threads (set either in the editor's environment to override)`);
}

process.on('uncaughtException', (err) => {
  logger.error(`uncaught: ${err.stack ?? err.message}`);
  exit(1);
});
logger.info(`engine started (node ${process.versions.node})`);
prepareNativeEnv();
main().catch((err) => {
  logger.error(`engine failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  exit(1);
});
