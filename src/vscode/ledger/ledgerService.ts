import * as vscode from 'vscode';
import { workspaceId } from '../../common/ledger/ledgerRecord';
import { nullLedgerSink, type LedgerSink } from '../../common/ledger/ledgerSink';
import type { Logger } from '../../common/logger';
import { Settings } from '../../common/settings';
import { FileLedgerWriter } from '../../node/ledger/fileLedgerWriter';
import { resolveLedgerPath } from '../../node/ledger/ledgerFiles';
import { escalationSpendThisMonth } from '../../node/ledger/monthlySpend';
import { sha256Hex } from '../../node/ledger/sha256';
import { getSetting } from '../config';
import type { PolicyService } from '../policy/policyService';
import { warnOnce } from './ledgerSettings';

/** The workspace ledger of each folder (`.hearth/ledger.jsonl`), opened on first use, closed (flushed) on exit. */
export class LedgerService implements vscode.Disposable {
  private readonly writers = new Map<string, FileLedgerWriter>();
  private readonly configSub: vscode.Disposable;

  private readonly policySub: vscode.Disposable | undefined;

  /** `policy`: the workspace policy's ledger options (path, includeText) apply to each folder's ledger. */
  constructor(private readonly logger: Logger, private readonly policy?: PolicyService) {
    // A new location takes effect with the next record: close the writers, the next append reopens at the new path.
    this.configSub = vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(Settings.ledgerPath.key) || e.affectsConfiguration(Settings.ledgerEnabled.key)) void this.close();
    });
    // The policy is re-read often (every escalation reads it again): reopen only ledgers whose options changed.
    this.policySub = policy?.onDidChange(() => {
      for (const folder of vscode.workspace.workspaceFolders ?? []) {
        const writer = this.writers.get(folder.uri.toString());
        if (writer && (writer.path !== this.pathFor(folder) || writer.includeText !== (this.ledgerPolicy(folder)?.includeText ?? false))) {
          this.writers.delete(folder.uri.toString());
          void writer.close().catch((err) => this.logger.error(`could not close the ledger ${writer.path}: ${String(err)}`));
        }
      }
    });
  }

  /** The workspace policy's ledger options for a folder (defaults before the policy is read or without one). */
  private ledgerPolicy(folder: vscode.WorkspaceFolder): { path: string; includeText: boolean; pathSetByRepo: boolean } | undefined {
    return this.policy?.effectiveFor(folder.uri)?.ledger;
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
    // The writer is looked up at each append: a settings or policy change that reopens the ledger elsewhere
    // in the middle of a task (an escalation waiting on its modal) does not leave the task holding a closed one.
    const sink: LedgerSink = { append: (e) => this.writerFor(folder).append(e), flush: () => this.writerFor(folder).flush() };
    return { sink, workspace: this.workspaceIdOf(folder) };
  }

  workspaceIdOf(folder: vscode.WorkspaceFolder): string {
    return workspaceId(folder.uri.toString(), sha256Hex);
  }

  private writerFor(folder: vscode.WorkspaceFolder): FileLedgerWriter {
    const key = folder.uri.toString();
    let writer = this.writers.get(key);
    if (!writer) {
      writer = new FileLedgerWriter({ path: this.pathFor(folder), includeText: this.ledgerPolicy(folder)?.includeText ?? false, logger: this.logger });
      this.writers.set(key, writer);
    }
    return writer;
  }

  /**
   * The ledger file of a folder: the workspace policy's `ledger.path` when the policy file names one, else
   * `hearth.ledger.path`. A value set by the workspace itself (policy or workspace settings) must stay inside the
   * folder (see {@link resolveLedgerPath}).
   */
  pathFor(folder: vscode.WorkspaceFolder): string {
    const inspected = vscode.workspace.getConfiguration('hearth', folder).inspect<string>('ledger.path');
    const fromPolicy = this.ledgerPolicy(folder);
    const fromWorkspace = fromPolicy?.pathSetByRepo ? fromPolicy.path : inspected?.workspaceFolderValue ?? inspected?.workspaceValue;
    const value = fromWorkspace ?? inspected?.globalValue ?? Settings.ledgerPath.default;
    const resolved = resolveLedgerPath(folder.uri.fsPath, value, fromWorkspace !== undefined);
    if (resolved.warning) warnOnce(this.logger, resolved.warning);
    return resolved.path;
  }

  /**
   * What escalations from the folder holding `uri` have cost this calendar month (UTC), from its ledger: what the
   * policy's monthly budget is checked against. 0 without a ledger (none open, or `hearth.ledger.enabled` off).
   */
  async spentThisMonth(uri: vscode.Uri | undefined): Promise<number> {
    const folder = this.folderFor(uri);
    if (!folder || !getSetting(Settings.ledgerEnabled, folder)) return 0;
    await this.flush(folder);
    try {
      return await escalationSpendThisMonth(this.pathFor(folder));
    } catch (err) {
      this.logger.error(`could not read the ledger ${this.pathFor(folder)} for this month's escalation spend: ${String(err)}`);
      return 0;
    }
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
    this.policySub?.dispose();
  }
}
