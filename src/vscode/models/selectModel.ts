import * as vscode from 'vscode';
import { Settings } from '../../common/settings';

/** "Hearth: Select Local Model…": pick a GGUF file and store it in the user's settings. */
export async function selectModel(): Promise<void> {
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false,
    openLabel: 'Use This Model',
    title: 'Hearth: Select a local GGUF model',
    filters: { 'GGUF models': ['gguf'] },
  });
  const file = picked?.[0];
  if (!file) return;
  const dot = Settings.modelPath.key.indexOf('.');
  await vscode.workspace
    .getConfiguration(Settings.modelPath.key.slice(0, dot))
    .update(Settings.modelPath.key.slice(dot + 1), file.fsPath, vscode.ConfigurationTarget.Global);
  void vscode.window.showInformationMessage(`Hearth will use ${file.fsPath} for completions.`);
}
