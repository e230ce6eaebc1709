import * as vscode from 'vscode';
import type { Logger } from '../../common/logger';
import { buildNativeEngine } from '../../node/engine/nativeBuild';
import type { EngineHost } from '../engineHost';

/**
 * "Hearth: Build Engine for This Machine": node-llama-cpp's backend built from the llama.cpp source Hearth ships,
 * with native CPU flags and OpenMP (see `nativeBuild.ts`), under a cancellable progress notification; the build
 * log goes to Hearth's log. When it is ready the shared engine restarts on it (every window follows).
 */
export async function buildEngineForThisMachine(host: EngineHost, logger: Logger): Promise<void> {
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Hearth: building the engine for this machine', cancellable: true },
    async (progress, token) => {
      const controller = new AbortController();
      const sub = token.onCancellationRequested(() => controller.abort());
      let reported = 0;
      try {
        return await buildNativeEngine({
          log: (line) => logger.info(`engine build: ${line}`),
          signal: controller.signal,
          onProgress: (fraction, text) => {
            const pct = Math.round(fraction * 100);
            progress.report({ message: `${pct}% ${text.slice(0, 80)}`, increment: Math.max(0, pct - reported) });
            reported = Math.max(reported, pct);
          },
        });
      } finally {
        sub.dispose();
      }
    },
  );
  if (!result.ok) {
    if (result.cancelled) {
      void vscode.window.showInformationMessage('Hearth: engine build cancelled. The prebuilt engine keeps working; building again continues where it stopped.');
      return;
    }
    logger.error(`engine build failed: ${result.reason}`);
    const choice = await vscode.window.showErrorMessage(`Hearth could not build the engine for this machine: ${result.reason.split('\n')[0]}. The prebuilt engine keeps working.`, 'Show Log');
    if (choice) void vscode.commands.executeCommand('hearth.showLog');
    return;
  }
  if (result.reused) void vscode.window.showInformationMessage('Hearth: the engine for this machine is already built.');
  else void vscode.window.showInformationMessage(`Hearth: engine built for this machine in ${(result.ready.buildMs / 60_000).toFixed(1)} min. Run "Tune for This Machine" to measure it against the prebuilt.`);
  // The shared engine picks the build up at its next start: restart it now for every window.
  await host.restartForAllWindows();
}
