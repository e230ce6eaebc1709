/**
 * Engine process entry. Started by the extension with the editor's own runtime (`process.execPath`,
 * `ELECTRON_RUN_AS_NODE=1`); speaks JSON-RPC on stdin/stdout and logs to stderr.
 */
import { EngineServer } from './node/engine/engineServer';
import { stderrLogger } from './node/stderrLogger';

const logger = stderrLogger('engine');
const server = new EngineServer(process.stdin, process.stdout, logger, () => void shutdown(0));

async function shutdown(code: number): Promise<void> {
  try {
    await server.dispose();
  } finally {
    process.exit(code);
  }
}

// The client owns our lifetime: when it goes away (stdin closes), so do we.
process.stdin.on('end', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
process.on('uncaughtException', (err) => {
  logger.error(`uncaught: ${err.stack ?? err.message}`);
  void shutdown(1);
});
logger.info(`engine started (pid ${process.pid}, node ${process.versions.node})`);
