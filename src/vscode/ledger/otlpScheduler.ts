import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import { errorMessage, type Logger } from '../../common/logger';
import { Settings } from '../../common/settings';
import { exportOtlp } from '../../node/ledger/otlpExport';
import { getSetting } from '../config';
import { readCostModel, warnOnce } from './ledgerSettings';
import type { LedgerService } from './ledgerService';

/**
 * The periodic OpenTelemetry export (`hearth.telemetry.otlpIntervalMinutes` > 0 and an endpoint set): every
 * interval, each folder's new records (seq above the last one sent, kept in workspace state) go out as logs and
 * the cumulative metrics with them. Failures are logged, never shown: the collector may simply be down.
 */
export class OtlpScheduler implements vscode.Disposable {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly sub: vscode.Disposable;

  constructor(
    private readonly ledger: LedgerService,
    private readonly logger: Logger,
    private readonly state: vscode.Memento,
    private readonly serviceVersion: string,
  ) {
    this.sub = vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('hearth.telemetry') && this.configure());
    this.configure();
  }

  private configure(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const minutes = getSetting(Settings.telemetryOtlpIntervalMinutes);
    if (minutes > 0 && getSetting(Settings.telemetryOtlpEndpoint).trim()) {
      this.timer = setInterval(() => void this.tick(), minutes * 60_000);
      this.timer.unref?.();
    }
  }

  /** One round over the workspace folders; also what a test can call. */
  async tick(): Promise<void> {
    const endpoint = getSetting(Settings.telemetryOtlpEndpoint).trim();
    if (this.running || !endpoint) return;
    this.running = true;
    try {
      for (const folder of vscode.workspace.workspaceFolders ?? []) {
        if (folder.uri.scheme !== 'file' || !getSetting(Settings.ledgerEnabled, folder)) continue;
        const path = this.ledger.pathFor(folder);
        if (!existsSync(path)) continue;
        await this.ledger.flush(folder);
        const key = `hearth.otlp.lastSeq:${path}`;
        const after = this.state.get<number>(key, -1);
        const s = await exportOtlp(path, { endpoint, serviceVersion: this.serviceVersion, cost: readCostModel(this.logger), afterSeq: after });
        // A ledger that is shorter than the mark was replaced: send it all next time.
        await this.state.update(key, s.lastSeq < after ? -1 : s.lastSeq);
        this.logger.debug(`ledger: periodic OpenTelemetry export of ${folder.name}: ${s.records} new record(s)`);
      }
    } catch (err) {
      warnOnce(this.logger, `ledger: periodic OpenTelemetry export failed: ${errorMessage(err)}`);
    } finally {
      this.running = false;
    }
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.sub.dispose();
  }
}
