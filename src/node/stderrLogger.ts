import type { Logger } from '../common/logger';

/**
 * A logger writing one `[level] message` line per entry to stderr: the engine's log, which the client
 * forwards into the editor's log channel (stdout carries the protocol and must stay clean).
 */
export function stderrLogger(scope: string, minLevel: keyof Logger = (process.env.HEARTH_LOG_LEVEL as keyof Logger) ?? 'info'): Logger {
  const order: (keyof Logger)[] = ['trace', 'debug', 'info', 'warn', 'error'];
  const min = Math.max(0, order.indexOf(minLevel));
  const write = (level: keyof Logger) => (message: string | Error) => {
    if (order.indexOf(level) < min) return;
    const text = message instanceof Error ? (message.stack ?? message.message) : message;
    process.stderr.write(`[${level}] ${scope}: ${text.replace(/\n/g, '\n    ')}\n`);
  };
  return { trace: write('trace'), debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
