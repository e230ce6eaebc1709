import * as vscode from 'vscode';
import { workspaceId } from '../../common/ledger/ledgerRecord';
import { nullLedgerSink, type LedgerSink } from '../../common/ledger/ledgerSink';
import type { Logger } from '../../common/logger';
import { Settings } from '../../common/settings';
import { FileLedgerWriter } from '../../node/ledger/fileLedgerWriter';
import { resolveLedgerPath } from '../../node/ledger/ledgerFiles';
import { sha256Hex } from '../../node/ledger/sha256';
import { getSetting } from '../config';
import { warnOnce } from './ledgerSettings';

/** The workspace ledger of each folder (`.hearth/ledger.jsonl`), opened on first use, closed (flushed) on exit. */
export class LedgerService implements vscode.Disposable {
  private readonly writers = new Map<string, FileLedgerWriter>();
  private readonly configSub: vscode.Disposable;

  constructor(private readonly logger: Logger) {
    // A new location takes effect with the next record: close the writers, the next append reopens at the new path.
    this.configSub = vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(Settings.ledgerPath.key) || e.affectsConfiguration(Settings.ledgerEnabled.key)) void this.close();
    });
  }

  /** The folder whose ledger records a task in `uri`: its own folder, or the first one (untitled files). */
  folderFor(uri: vscode.Uri | undefined): vscode.WorkspaceFolder | undefined {
    const folder = (uri && vscode.workspace.getWorkspaceFolder(uri)) ?? vscode.workspace.workspaceFolders?.[0];
    return folder && folder.uri.scheme === 'file' ? folder : undefined;
  }

  /** The ledger for the folder holding `uri` (or the first folder, for untitled files); none outside a workspace. */
  sinkFor(uri: vscode.Uri | undefined): { sink: LedgerSink; workspace: string } {
    const folder = this.folderFor(uri);
    if (!folder || !getSetting(Settings.ledgerEnabled, folder)) return { sink: nullLedgerSink, workspace: 'none' };
    return { sink: this.writerFor(folder), workspace: this.workspaceIdOf(folder) };
  }

  workspaceIdOf(folder: vscode.WorkspaceFolder): string {
    return workspaceId(folder.uri.toString(), sha256Hex);
  }

  private writerFor(folder: vscode.WorkspaceFolder): FileLedgerWriter {
    const key = folder.uri.toString();
    let writer = this.writers.get(key);
    if (!writer) {
      writer = new FileLedgerWriter({ path: this.pathFor(folder), logger: this.logger });
      this.writers.set(key, writer);
    }
    return writer;
  }

  /**
   * The ledger file of a folder, from `hearth.ledger.path`. A value set by the workspace itself must stay inside
   * the folder (see {@link resolveLedgerPath}).
   * TODO(#6): the workspace policy's ledger location overrides this setting once the policy file lands.
   */
  pathFor(folder: vscode.WorkspaceFolder): string {
    const inspected = vscode.workspace.getConfiguration('hearth', folder).inspect<string>('ledger.path');
    const fromWorkspace = inspected?.workspaceFolderValue ?? inspected?.workspaceValue;
    const value = fromWorkspace ?? inspected?.globalValue ?? Settings.ledgerPath.default;
    const resolved = resolveLedgerPath(folder.uri.fsPath, value, fromWorkspace !== undefined);
    if (resolved.warning) warnOnce(this.logger, resolved.warning);
    return resolved.path;
  }

  /** Makes every record appended so far in this window durable (before an export or a dashboard refresh). */
  async flush(folder?: vscode.WorkspaceFolder): Promise<void> {
    const writers = folder ? [this.writers.get(folder.uri.toString())].filter((w): w is FileLedgerWriter => !!w) : [...this.writers.values()];
    await Promise.all(writers.map((w) => w.flush().catch((err) => this.logger.error(`could not write the ledger ${w.path}: ${String(err)}`))));
  }

  /** Flushes and closes every ledger: records appended in the last moments before exit are not lost. */
  async close(): Promise<void> {
    const writers = [...this.writers.values()];
    this.writers.clear();
    await Promise.all(writers.map((w) => w.close().catch((err) => this.logger.error(`could not close the ledger ${w.path}: ${String(err)}`))));
  }

  dispose(): void {
    this.configSub.dispose();
  }
}
