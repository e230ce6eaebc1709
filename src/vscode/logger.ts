import * as vscode from 'vscode';
import type { Logger } from '../common/logger';

/** The editor's logger: one LogOutputChannel ("Hearth") behind the common Logger interface (style rule 7). */
export function createLogger(channel: vscode.LogOutputChannel): Logger {
  return {
    trace: (m) => channel.trace(m),
    debug: (m) => channel.debug(m),
    info: (m) => channel.info(m),
    warn: (m) => channel.warn(m),
    error: (m) => channel.error(m),
  };
}
