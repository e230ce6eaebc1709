import { basename } from 'node:path';
import * as vscode from 'vscode';
import { errorMessage, type Logger } from '../../common/logger';
import { Settings } from '../../common/settings';
import { exportLedger, type ExportFormat, type ExportSummary } from '../../node/ledger/ledgerExport';
import { exportOtlp, type OtlpExportSummary } from '../../node/ledger/otlpExport';
import { getSetting } from '../config';
import { readCostModel } from './ledgerSettings';
import type { LedgerService } from './ledgerService';

export const exportLedgerCommand = 'hearth.exportLedger';

export type LedgerExportFormat = ExportFormat | 'otlp';

/**
 * Optional argument: with `format` and (for files) `path`, no dialog is shown, so tests and keybindings can run
 * it. `folder`: the workspace folder's path (default: the active editor's folder, else a pick). `open`: open the
 * result (HTML in the browser) without asking.
 */
export interface ExportLedgerArg {
  format?: LedgerExportFormat;
  path?: string;
  folder?: string;
  open?: boolean;
}

export type ExportLedgerResult = { format: LedgerExportFormat; path?: string } & (ExportSummary | OtlpExportSummary);

const FORMATS: { format: LedgerExportFormat; label: string; ext?: string; filter?: string }[] = [
  { format: 'csv', label: 'CSV', ext: 'csv', filter: 'CSV' },
  { format: 'json', label: 'JSON', ext: 'json', filter: 'JSON' },
  { format: 'html', label: 'HTML report', ext: 'html', filter: 'HTML' },
  { format: 'otlp', label: 'OpenTelemetry' },
];

const DETAIL: Record<LedgerExportFormat, string> = {
  csv: 'One row per record, for a spreadsheet (no code or prompt text).',
  json: 'The chain status, then the records as stored, hash chain included.',
  html: 'A self-contained ROI report with charts that opens in any browser, no network needed.',
  otlp: 'Logs and metrics to the OpenTelemetry collector (OTLP/HTTP) in hearth.telemetry.otlpEndpoint.',
};

async function pickFolder(ledger: LedgerService, folderPath: string | undefined): Promise<vscode.WorkspaceFolder | undefined> {
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
  if (folderPath !== undefined) return folders.find((f) => f.uri.fsPath === folderPath);
  const active = vscode.window.activeTextEditor?.document.uri;
  const own = active && vscode.workspace.getWorkspaceFolder(active);
  if (own && own.uri.scheme === 'file') return own;
  if (folders.length <= 1) return ledger.folderFor(undefined);
  return vscode.window.showWorkspaceFolderPick({ placeHolder: 'Export the ledger of which folder?' });
}

/** "Hearth: Export Ledger…": CSV, JSON, HTML report, or OpenTelemetry. Returns what was exported (tests read it). */
export async function exportLedgerToUser(ledger: LedgerService, logger: Logger, serviceVersion: string, arg: ExportLedgerArg = {}): Promise<ExportLedgerResult | undefined> {
  const folder = await pickFolder(ledger, arg.folder);
  if (!folder) {
    void vscode.window.showWarningMessage(arg.folder ? `Hearth: ${arg.folder} is not a folder of this workspace.` : 'Hearth: open a folder first: each workspace folder has its own ledger.');
    return undefined;
  }
  const endpoint = getSetting(Settings.telemetryOtlpEndpoint).trim();
  let format = arg.format;
  if (!format) {
    const picked = await vscode.window.showQuickPick(
      FORMATS.map((f) => ({ label: f.label, format: f.format, detail: DETAIL[f.format], description: f.format === 'otlp' ? endpoint || 'not set up' : undefined })),
      { title: `Export the ledger of ${folder.name}`, placeHolder: 'Format' },
    );
    if (!picked) return undefined;
    format = picked.format;
  }
  const spec = FORMATS.find((f) => f.format === format);
  if (!spec) {
    void vscode.window.showErrorMessage(`Hearth: unknown export format "${String(format)}" (csv, json, html, otlp).`);
    return undefined;
  }
  const ledgerPath = ledger.pathFor(folder);
  const cost = readCostModel(logger);
  // Records this window appended a moment ago belong in the export.
  await ledger.flush(folder);

  if (format === 'otlp') {
    if (!endpoint) {
      const choice = await vscode.window.showWarningMessage('Hearth: no OpenTelemetry collector is set (hearth.telemetry.otlpEndpoint).', 'Open Settings');
      if (choice) void vscode.commands.executeCommand('workbench.action.openSettings', Settings.telemetryOtlpEndpoint.key);
      return undefined;
    }
    try {
      const summary = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Hearth: sending the ledger to OpenTelemetry', cancellable: true },
        async (progress, token) => {
          const abort = new AbortController();
          const sub = token.onCancellationRequested(() => abort.abort());
          try {
            return await exportOtlp(ledgerPath, { endpoint, serviceVersion, cost, signal: abort.signal, onProgress: (n) => progress.report({ message: `${n} records` }) });
          } finally {
            sub.dispose();
          }
        },
      );
      logSkipped(logger, summary);
      const rejected = summary.rejectedLogRecords + summary.rejectedDataPoints;
      logger.info(`ledger: sent ${summary.records} records to ${summary.logsUrl} and metrics to ${summary.metricsUrl}${rejected ? `; the collector rejected ${rejected}` : ''}`);
      void vscode.window.showInformationMessage(`Hearth: sent ${summary.records} ledger records and their metrics to ${endpoint}${rejected ? ` (the collector rejected ${rejected}: see the log)` : ''}.`);
      return { format, ...summary };
    } catch (err) {
      return failed(logger, err);
    }
  }

  let target = arg.path;
  if (!target) {
    const stamp = new Date().toISOString().slice(0, 10);
    const uri = await vscode.window.showSaveDialog({
      title: `Export the ledger of ${folder.name} as ${spec.label}`,
      defaultUri: vscode.Uri.joinPath(folder.uri, `hearth-ledger-${stamp}.${spec.ext}`),
      filters: { [spec.filter!]: [spec.ext!] },
    });
    if (!uri) return undefined;
    target = uri.fsPath;
  }
  const fileFormat: ExportFormat = format;
  try {
    const summary = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Hearth: exporting the ledger as ${spec.label}` },
      () => exportLedger(ledgerPath, fileFormat, target, { cost, title: folder.name }),
    );
    logSkipped(logger, summary);
    const file = vscode.Uri.file(target);
    const open = fileFormat === 'html' ? 'Open in Browser' : 'Open';
    const show = () => (fileFormat === 'html' ? vscode.env.openExternal(file) : vscode.commands.executeCommand('vscode.open', file));
    // The export carries the chain status too; a broken chain must also be said where the user looks.
    const chain = summary.chain;
    const broken = chain && (!chain.ok || chain.skipped.length > 0);
    if (broken) logger.warn(`ledger: exported ${ledgerPath}, which is NOT intact: ${chain.problem?.message ?? `${chain.skipped.length} torn line(s)`}`);
    if (arg.open) void show();
    else if (broken) {
      void vscode.window.showWarningMessage(`Hearth: exported ${summary.records} ledger records to ${basename(target)}, but the ledger is NOT intact (${chain.problem?.message ?? `${chain.skipped.length} torn line(s)`}). The export says so in its chain status.`, open, 'Show Log').then((c) => (c === open ? show() : c && vscode.commands.executeCommand('hearth.showLog')));
    } else {
      const skipped = summary.skipped.length ? ` (${summary.skipped.length} unreadable line(s) left out: see the log)` : '';
      void vscode.window.showInformationMessage(`Hearth: exported ${summary.records} ledger records to ${basename(target)}${skipped}.`, open).then((c) => c && show());
    }
    return { format, path: target, ...summary };
  } catch (err) {
    return failed(logger, err);
  }
}

function logSkipped(logger: Logger, summary: { skipped: { file: string; line: number; reason: string }[] }): void {
  for (const s of summary.skipped) logger.warn(`ledger: left out ${s.file}:${s.line}: ${s.reason}`);
}

function failed(logger: Logger, err: unknown): undefined {
  if (err instanceof Error && err.name === 'AbortError') return undefined;
  logger.error(`ledger export failed: ${errorMessage(err)}`);
  void vscode.window.showErrorMessage(`Hearth could not export the ledger: ${errorMessage(err)}`, 'Show Log').then((c) => c && vscode.commands.executeCommand('hearth.showLog'));
  return undefined;
}
