import { basename } from 'node:path';
import * as vscode from 'vscode';
import { formatGB } from '../../common/hardware/recommend';
import { Settings } from '../../common/settings';
import { getSetting } from '../config';
import type { ModelLibrary } from './modelLibrary';

/** Stores `path` as `hearth.model.path` in the user's settings (the engine reloads on the change). */
export async function useModel(path: string): Promise<void> {
  const dot = Settings.modelPath.key.indexOf('.');
  await vscode.workspace
    .getConfiguration(Settings.modelPath.key.slice(0, dot))
    .update(Settings.modelPath.key.slice(dot + 1), path, vscode.ConfigurationTarget.Global);
}

interface PathItem extends vscode.QuickPickItem {
  action: 'use' | 'browse' | 'download';
  path?: string;
}

/**
 * "Hearth: Select Local Model…": the downloaded models (from the models directory), then "Browse for a GGUF
 * file…" and "Download a model…".
 */
export async function selectModel(library: ModelLibrary): Promise<void> {
  const current = getSetting(Settings.modelPath);
  const items: PathItem[] = [];
  try {
    const stored = (await (await library.store()).list()).filter((m) => !m.partial);
    if (stored.length) items.push({ label: 'Downloaded', kind: vscode.QuickPickItemKind.Separator, action: 'use' });
    for (const m of stored) {
      const inUse = m.path === current;
      items.push({
        action: 'use',
        path: m.path,
        label: `${inUse ? '$(check) ' : ''}${m.entry?.name ?? basename(m.path)}`,
        description: [formatGB(m.sizeBytes), m.entry?.tier, m.verified ? 'verified' : 'not verified', inUse ? 'in use' : ''].filter(Boolean).join(' · '),
        detail: m.path,
      });
    }
  } catch (err) {
    items.push({ label: `$(warning) Could not list ${library.dir}: ${err instanceof Error ? err.message : String(err)}`, action: 'browse' });
  }
  items.push(
    { label: 'Other', kind: vscode.QuickPickItemKind.Separator, action: 'use' },
    { label: '$(folder-opened) Browse for a GGUF file…', action: 'browse' },
    { label: '$(cloud-download) Download a model…', action: 'download', description: 'from Hearth\'s vetted list, with the one that fits this machine first' },
  );
  const picked = await vscode.window.showQuickPick(items, {
    title: 'Hearth: Select Local Model',
    placeHolder: current ? `In use: ${current}` : 'No model yet: pick a downloaded one, browse for a GGUF file, or download one',
    matchOnDetail: true,
  });
  if (!picked) return;
  if (picked.action === 'download') {
    await vscode.commands.executeCommand('hearth.downloadModel');
    return;
  }
  let path = picked.path;
  if (picked.action === 'browse') {
    const file = (
      await vscode.window.showOpenDialog({
        canSelectMany: false,
        openLabel: 'Use This Model',
        title: 'Hearth: Select a local GGUF model',
        filters: { 'GGUF models': ['gguf'] },
      })
    )?.[0];
    path = file?.fsPath;
  }
  if (!path) return;
  await useModel(path);
  void vscode.window.showInformationMessage(`Hearth will use ${path} for completions.`);
}
