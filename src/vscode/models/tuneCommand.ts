import * as vscode from 'vscode';
import { tuneReport } from '../../common/hardware/tuneReport';
import { errorMessage, type Logger } from '../../common/logger';
import type { TuneResult } from '../../common/protocol/engineProtocol';
import { Settings } from '../../common/settings';
import { getSetting } from '../config';
import type { EngineHost } from '../engineHost';
import type { LedgerService } from '../ledger/ledgerService';
import type { ModelLibrary } from './modelLibrary';
import type { TunedSettings } from './tunedSettings';

export interface TuneDeps {
  host: EngineHost;
  library: ModelLibrary;
  tuned: TunedSettings;
  ledger: LedgerService;
  logger: Logger;
}

/**
 * "Hearth: Tune for This Machine": the engine's measured sweep on the loaded model under a cancellable
 * progress notification; the table in a markdown document; the best setting kept for this machine and model
 * and applied (the model reloads with it); a record in the ledger's benchmark lane.
 */
export async function tuneForThisMachine({ host, library, tuned, ledger, logger }: TuneDeps): Promise<void> {
  if (!getSetting(Settings.modelPath)) {
    const choice = await vscode.window.showInformationMessage('Hearth has no model to tune yet.', 'Select Model…', 'Download Model…');
    if (choice) void vscode.commands.executeCommand(choice === 'Select Model…' ? 'hearth.selectModel' : 'hearth.downloadModel');
    return;
  }
  const started = new Date().toISOString();
  let result: TuneResult | undefined;
  try {
    result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Hearth: tuning for this machine', cancellable: true },
      async (progress, token) => {
        progress.report({ message: 'loading the model…' });
        const model = await host.ensureModel();
        if (!model) return undefined;
        const controller = new AbortController();
        const sub = token.onCancellationRequested(() => controller.abort(new Error('cancelled')));
        try {
          progress.report({ message: `warming up ${model.name}…` });
          let done = 0;
          return await host.client.tune(
            {},
            {
              signal: controller.signal,
              onProgress: (index, count) => {
                progress.report({ message: `measuring setting ${index + 1} of ${count}`, increment: (100 * (index - done)) / count });
                done = index;
              },
            },
          );
        } finally {
          sub.dispose();
        }
      },
    );
  } catch (err) {
    const message = errorMessage(err);
    if (/cancel/i.test(message)) {
      void vscode.window.showInformationMessage('Hearth: tuning cancelled; the engine keeps its current settings.');
      return;
    }
    host.reportError(new Error(`Tuning failed: ${message}`));
    return;
  }
  if (!result) return;
  const profile = await library.profile();
  await tuned.save(profile.profileId, result);
  const model = host.client.model;
  const threadsOverride = getSetting(Settings.engineThreads);
  const report = tuneReport(result, {
    modelName: model?.name ?? result.modelPath,
    cpu: profile.cpu.model,
    physicalCores: profile.cpu.physicalCores,
    logicalCores: profile.cpu.logicalCores,
    threadsOverride: threadsOverride > 0 ? threadsOverride : undefined,
  });
  recordBenchmark(ledger, result, model?.name ?? result.modelPath, profile.profileId, started, logger);
  logger.info(`tuned ${result.modelPath}: ${result.best.threads} threads, batch ${result.best.batchSize}`);
  const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: report });
  await vscode.window.showTextDocument(doc, { preview: true });
  // Reload with the tuned settings (the shared engine reloads for every window: same model, new threads/batch).
  await host.reloadIfChanged();
}

function recordBenchmark(ledger: LedgerService, result: TuneResult, modelName: string, profileId: string, time: string, logger: Logger): void {
  const { sink, workspace } = ledger.sinkFor(vscode.window.activeTextEditor?.document.uri);
  try {
    sink.append({
      kind: 'task',
      time,
      workspace,
      lane: 'benchmark',
      model: modelName,
      backend: 'llama.cpp',
      machineProfileId: profileId,
      tokensIn: result.promptTokens * result.rows.length,
      tokensOut: result.decodeTokens * result.rows.length,
      timeToFirstTokenMs: null,
      totalMs: result.totalMs,
      outcome: 'accepted',
      destination: 'local',
    });
  } catch (err) {
    logger.warn(`could not record the tuning run in the workspace ledger: ${errorMessage(err)}`);
  }
}
