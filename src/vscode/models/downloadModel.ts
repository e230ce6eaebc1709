import { existsSync } from 'node:fs';
import { stat, statfs } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { formatGB } from '../../common/hardware/recommend';
import { errorMessage, type Logger } from '../../common/logger';
import { diskSpaceProblem, downloadChoices, downloadProgressText } from '../../common/models/modelChoices';
import type { ModelEntry } from '../../common/models/modelManifest';
import { DownloadError, downloadModel as download, modelFileName, PARTIAL_SUFFIX } from '../../node/models/modelDownloader';
import type { ModelLibrary } from './modelLibrary';
import { useModel } from './selectModel';

/**
 * "Hearth: Download Model…": the manifest's models with size, tier, minimum RAM and whether each fits this
 * machine (the recommended one first), a free-disk check, a cancellable progress notification (bytes, MB/s,
 * time left), resume on retry (the partial file stays), verification, then "Use This Model".
 */
export async function downloadModelCommand(library: ModelLibrary, logger: Logger): Promise<void> {
  const [manifest, profile, store] = await Promise.all([library.manifest(), library.profile(), library.store()]);
  const downloaded = new Set((await store.list()).filter((m) => !m.partial && m.id).map((m) => m.id!));
  const choices = downloadChoices(profile, manifest, downloaded);
  const picked = await vscode.window.showQuickPick(
    choices.map((c) => ({ label: c.label, description: c.description, detail: c.detail, choice: c })),
    {
      title: `Hearth: Download Model (${formatGB(profile.memory.availableBytes)} of ${formatGB(profile.memory.totalBytes)} RAM available, ${profile.cpu.physicalCores} cores)`,
      placeHolder: `Models go to ${library.dir}`,
      matchOnDescription: true,
      matchOnDetail: true,
    },
  );
  if (!picked) return;
  const { entry, fits } = picked.choice;
  if (!fits) {
    const go = await vscode.window.showWarningMessage(
      `${entry.name} will not fit this machine's memory; Hearth's engine will refuse to load it.`,
      { modal: true, detail: picked.choice.detail },
      'Download Anyway',
    );
    if (go !== 'Download Anyway') return;
  }
  await runDownload(library, entry, logger);
}

async function runDownload(library: ModelLibrary, entry: ModelEntry, logger: Logger): Promise<void> {
  const dest = join(library.dir, modelFileName(entry));
  const partialBytes = await stat(dest + PARTIAL_SUFFIX).then((s) => s.size, () => 0);
  if (entry.sizeBytes) {
    const dir = existingAncestor(library.dir);
    const fs = await statfs(dir).catch(() => undefined);
    const problem = fs ? diskSpaceProblem(Number(fs.bavail) * Number(fs.bsize), entry.sizeBytes - partialBytes, library.dir) : null;
    if (problem) {
      void vscode.window.showErrorMessage(`Hearth: ${problem}`);
      return;
    }
  }
  const outcome: { path: string; how: string } | { error: unknown; aborted: boolean } = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Downloading ${entry.name}`, cancellable: true },
    async (progress, token) => {
      const controller = new AbortController();
      const sub = token.onCancellationRequested(() => controller.abort(new Error('cancelled')));
      let reportedPercent = 0;
      let lastReport = 0;
      try {
        if (partialBytes) progress.report({ message: `resuming at ${formatGB(partialBytes)}…` });
        const r = await download(entry, library.dir, {
          signal: controller.signal,
          logger,
          onProgress: (p) => {
            const now = Date.now();
            if (now - lastReport < 250 && p.receivedBytes !== p.totalBytes) return;
            lastReport = now;
            const percent = p.totalBytes ? (100 * p.receivedBytes) / p.totalBytes : reportedPercent;
            progress.report({ message: downloadProgressText(p.receivedBytes, p.totalBytes, p.bytesPerSecond), increment: Math.max(0, percent - reportedPercent) });
            reportedPercent = Math.max(reportedPercent, percent);
          },
        });
        progress.report({ message: 'verified' });
        const how = r.verifiedBy === 'none' ? 'size checked (no hash was available)' : `SHA-256 verified against the ${r.verifiedBy}`;
        return { path: r.path, how: `${formatGB(r.sizeBytes)}, ${how}${r.resumedFromBytes ? `, resumed at ${formatGB(r.resumedFromBytes)}` : ''}` };
      } catch (error) {
        return { error, aborted: controller.signal.aborted || (error instanceof DownloadError && error.kind === 'aborted') };
      } finally {
        sub.dispose();
      }
    },
  );
  if ('error' in outcome) {
    const message = errorMessage(outcome.error);
    logger[outcome.aborted ? 'info' : 'error'](`download of ${entry.id}: ${message}`);
    // The partial file stays beside the final path: a retry resumes it with an HTTP Range request.
    const resumable = existsSync(dest + PARTIAL_SUFFIX);
    const retry = resumable ? 'Resume' : 'Retry';
    const choice = outcome.aborted
      ? await vscode.window.showInformationMessage(`Download of ${entry.name} paused.${resumable ? ' What was fetched is kept.' : ''}`, retry)
      : await vscode.window.showErrorMessage(`Hearth: ${message}`, retry, 'Show Log');
    if (choice === retry) await runDownload(library, entry, logger);
    else if (choice === 'Show Log') void vscode.commands.executeCommand('hearth.showLog');
    return;
  }
  logger.info(`downloaded ${entry.id} to ${outcome.path} (${outcome.how})`);
  const use = await vscode.window.showInformationMessage(`Downloaded ${entry.name} (${outcome.how}).`, 'Use This Model');
  if (use) {
    await useModel(outcome.path);
    void vscode.window.showInformationMessage(`Hearth will use ${entry.name} for completions. "Hearth: Tune for This Machine" picks its fastest threads and batch size.`);
  }
}

function existingAncestor(dir: string): string {
  let d = dir;
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  return d;
}
