import { basename } from 'node:path';
import * as vscode from 'vscode';
import { formatGB } from '../../common/hardware/recommend';
import { Settings } from '../../common/settings';
import { getSetting } from '../config';
import type { ModelLibrary } from './modelLibrary';
import { useModel } from './selectModel';

/**
 * "Hearth: Delete Downloaded Model…": a model (or an interrupted download) from the models directory, after a
 * modal confirmation. Deleting the model in use first clears `hearth.model.path`, which unloads it from the
 * engine (Windows cannot delete a mapped file).
 */
export async function deleteModel(library: ModelLibrary): Promise<void> {
  const store = await library.store();
  const stored = await store.list();
  if (!stored.length) {
    void vscode.window.showInformationMessage(`No downloaded models in ${library.dir}.`);
    return;
  }
  const current = getSetting(Settings.modelPath);
  const picked = await vscode.window.showQuickPick(
    stored.map((m) => ({
      label: `${m.entry?.name ?? basename(m.path)}`,
      description: [formatGB(m.sizeBytes), m.partial ? 'interrupted download' : '', m.path === current ? 'in use' : ''].filter(Boolean).join(' · '),
      detail: m.path,
      model: m,
    })),
    { title: 'Hearth: Delete Downloaded Model', placeHolder: `Models in ${library.dir}` },
  );
  if (!picked) return;
  const m = picked.model;
  const inUse = m.path === current;
  const ok = await vscode.window.showWarningMessage(
    `Delete ${picked.label} (${formatGB(m.sizeBytes)})?`,
    { modal: true, detail: `${m.path}${inUse ? '\n\nHearth uses this model now: completions stop until you select another.' : ''}` },
    'Delete',
  );
  if (ok !== 'Delete') return;
  if (inUse) await useModel('');
  const id = m.id ?? basename(m.path).replace(/\.gguf(\.partial)?$/, '');
  await store.delete(id);
  void vscode.window.showInformationMessage(`Deleted ${picked.label}.`);
}
