import { randomBytes } from 'node:crypto';
import { basename, dirname, extname } from 'node:path';
import * as vscode from 'vscode';
import { dashboardData } from '../../common/ledger/dashboardData';
import { errorMessage, type Logger } from '../../common/logger';
import { dashboardToHostSchema, type HostToDashboard } from '../../common/protocol/dashboardProtocol';
import { analyseLedger } from '../../node/ledger/ledgerExport';
import { dashboardHtml, makeNonce } from './dashboardHtml';
import { exportLedgerCommand } from './exportLedgerCommand';
import { readCostModel } from './ledgerSettings';
import type { LedgerService } from './ledgerService';

export const openDashboardCommand = 'hearth.openDashboard';

/** What the tests can observe: the page's last report back. */
export interface DashboardState {
  folder: string;
  visible: boolean;
  /** Set once the page drew its charts: how many, for how many records. */
  rendered?: { charts: number; records: number };
  problems: string[];
}

/**
 * "Hearth: Open ROI Dashboard": one webview panel with the HTML report's charts, fed by postMessage and
 * refreshed when the ledger's files change (this window's writes, another window's, or the CLI's).
 */
export class DashboardPanel implements vscode.Disposable {
  private static current: DashboardPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private watcher: vscode.FileSystemWatcher | undefined;
  private folder: vscode.WorkspaceFolder;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private again = false;
  readonly state: DashboardState;

  /** Opens the dashboard for `folder`, or reveals (and retargets) the one already open. */
  static show(extensionUri: vscode.Uri, ledger: LedgerService, logger: Logger, folder: vscode.WorkspaceFolder): DashboardPanel {
    const open = DashboardPanel.current;
    if (open) {
      open.retarget(folder);
      open.panel.reveal();
      return open;
    }
    const panel = vscode.window.createWebviewPanel('hearth.dashboard', 'Hearth ROI', vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media'), vscode.Uri.joinPath(extensionUri, 'dist')],
    });
    DashboardPanel.current = new DashboardPanel(panel, extensionUri, ledger, logger, folder);
    return DashboardPanel.current;
  }

  static get open(): DashboardPanel | undefined {
    return DashboardPanel.current;
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    private readonly ledger: LedgerService,
    private readonly logger: Logger,
    folder: vscode.WorkspaceFolder,
  ) {
    this.folder = folder;
    this.state = { folder: folder.uri.fsPath, visible: true, problems: [] };
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'dashboard.svg');
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.onDidChangeViewState((e) => (this.state.visible = e.webviewPanel.visible)),
      panel.webview.onDidReceiveMessage((m) => this.received(m)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('hearth.cost')) this.scheduleRefresh(0);
        if (e.affectsConfiguration('hearth.ledger.path')) this.retarget(this.folder, true);
      }),
    );
    this.retarget(folder, true);
  }

  /** Points the panel at a folder's ledger: title, page, file watcher. */
  private retarget(folder: vscode.WorkspaceFolder, force = false): void {
    if (!force && folder.uri.toString() === this.folder.uri.toString()) {
      this.scheduleRefresh(0);
      return;
    }
    this.folder = folder;
    this.state.folder = folder.uri.fsPath;
    this.state.rendered = undefined;
    this.panel.title = `Hearth ROI — ${folder.name}`;
    this.watcher?.dispose();
    const path = this.ledger.pathFor(folder);
    const ext = extname(path);
    // The active segment and the rotated ones (ledger.jsonl, ledger.3.jsonl).
    this.watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(dirname(path)), `${basename(path, ext)}*${ext}`));
    const changed = () => this.scheduleRefresh(300);
    this.watcher.onDidChange(changed);
    this.watcher.onDidCreate(changed);
    this.watcher.onDidDelete(changed);
    this.panel.webview.html = this.html();
  }

  private html(): string {
    const w = this.panel.webview;
    const uri = (...p: string[]) => w.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, ...p)).toString();
    return dashboardHtml({
      cspSource: w.cspSource,
      nonce: makeNonce((n) => randomBytes(n)),
      chartJs: uri('media', 'vendor', 'chart.umd.min.js'),
      script: uri('dist', 'webview', 'dashboard.js'),
      css: uri('media', 'dashboard.css'),
      title: `Hearth ROI — ${this.folder.name}`,
    });
  }

  private received(message: unknown): void {
    const parsed = dashboardToHostSchema.safeParse(message);
    if (!parsed.success) {
      this.logger.warn(`dashboard: ignored an unexpected message from the webview`);
      return;
    }
    const m = parsed.data;
    switch (m.type) {
      case 'ready':
      case 'refresh':
        this.scheduleRefresh(0);
        break;
      case 'rendered':
        this.state.rendered = { charts: m.charts, records: m.records };
        break;
      case 'problem':
        this.state.problems.push(m.message);
        this.logger.warn(`dashboard: ${m.message}`);
        break;
      case 'export':
        void vscode.commands.executeCommand(exportLedgerCommand, { folder: this.folder.uri.fsPath });
        break;
    }
  }

  /** Coalesces bursts of file events (a batch of appends) into one read of the ledger. */
  private scheduleRefresh(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh();
    }, delayMs);
  }

  private async refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      const folder = this.folder;
      let message: HostToDashboard;
      try {
        await this.ledger.flush(folder);
        const { aggregates, verify } = await analyseLedger(this.ledger.pathFor(folder), readCostModel(this.logger));
        message = { type: 'data', data: dashboardData(aggregates, verify, folder.name) };
      } catch (err) {
        this.logger.error(`dashboard: could not read the ledger of ${folder.name}: ${errorMessage(err)}`);
        message = { type: 'error', message: `Could not read the ledger: ${errorMessage(err)}` };
      }
      await this.panel.webview.postMessage(message);
    })().finally(() => {
      this.refreshing = undefined;
      if (this.again) {
        this.again = false;
        void this.refresh();
      }
    });
    return this.refreshing;
  }

  dispose(): void {
    if (DashboardPanel.current === this) DashboardPanel.current = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.watcher?.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}
