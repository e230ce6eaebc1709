import { join } from 'node:path';
import * as vscode from 'vscode';
import { workspaceId } from '../../common/ledger/ledgerRecord';
import { nullLedgerSink, type LedgerSink } from '../../common/ledger/ledgerSink';
import type { Logger } from '../../common/logger';
import { Settings } from '../../common/settings';
import { FileLedgerWriter } from '../../node/ledger/fileLedgerWriter';
import { sha256Hex } from '../../node/ledger/sha256';
import { getSetting } from '../config';

/** The workspace ledger of each folder (`.hearth/ledger.jsonl`), opened on first use, closed (flushed) on exit. */
export class LedgerService {
  private readonly writers = new Map<string, FileLedgerWriter>();

  constructor(private readonly logger: Logger) {}

  /** The ledger for the folder holding `uri` (or the first folder, for untitled files); none outside a workspace. */
  sinkFor(uri: vscode.Uri | undefined): { sink: LedgerSink; workspace: string } {
    const folder = (uri && vscode.workspace.getWorkspaceFolder(uri)) ?? vscode.workspace.workspaceFolders?.[0];
    if (!folder || folder.uri.scheme !== 'file' || !getSetting(Settings.ledgerEnabled, folder)) return { sink: nullLedgerSink, workspace: 'none' };
    const key = folder.uri.toString();
    let writer = this.writers.get(key);
    if (!writer) {
      writer = new FileLedgerWriter({ path: this.pathFor(folder), logger: this.logger });
      this.writers.set(key, writer);
    }
    return { sink: writer, workspace: workspaceId(key, sha256Hex) };
  }

  pathFor(folder: vscode.WorkspaceFolder): string {
    return join(folder.uri.fsPath, '.hearth', 'ledger.jsonl');
  }

  /** Flushes and closes every ledger: records appended in the last moments before exit are not lost. */
  async close(): Promise<void> {
    const writers = [...this.writers.values()];
    this.writers.clear();
    await Promise.all(writers.map((w) => w.close().catch((err) => this.logger.error(`could not close the ledger ${w.path}: ${String(err)}`))));
  }
}
