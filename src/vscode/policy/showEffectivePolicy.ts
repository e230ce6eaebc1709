/** "Hearth: Show Effective Policy": a read-only Markdown document with each folder's policy in plain words. */
import * as vscode from 'vscode';
import { describePolicy } from '../../common/policy/describePolicy';
import type { PolicyService } from './policyService';

export const effectivePolicyScheme = 'hearth-policy';
const documentUri = vscode.Uri.from({ scheme: effectivePolicyScheme, path: '/Effective Policy.md' });

/** Renders every folder's effective policy. */
export function renderEffectivePolicy(service: PolicyService): string {
  const lines = ['# Hearth: effective policy', '', 'Your settings and each folder\'s `.hearth/policy.jsonc` combine to the strictest of both.', ''];
  const all = service.all();
  if (!all.length) {
    lines.push('No folder is open: only your settings apply, and Hearth has no workspace to send from.');
  }
  for (const { folder, policy } of all) {
    if (all.length > 1) lines.push(`## ${folder.name}`, '');
    lines.push(...describePolicy(policy), '');
  }
  if (!vscode.workspace.isTrusted) lines.push('**This workspace is not trusted: nothing is sent off this machine.**', '');
  return lines.join('\n');
}

/** Registers the document provider and the command; the document follows policy changes while open. */
export function registerShowEffectivePolicy(service: PolicyService): vscode.Disposable {
  const changed = new vscode.EventEmitter<vscode.Uri>();
  return vscode.Disposable.from(
    changed,
    service.onDidChange(() => changed.fire(documentUri)),
    vscode.workspace.registerTextDocumentContentProvider(effectivePolicyScheme, {
      onDidChange: changed.event,
      provideTextDocumentContent: () => renderEffectivePolicy(service),
    }),
    vscode.commands.registerCommand('hearth.showEffectivePolicy', async () => {
      await service.reloadAll();
      // The `.md` path makes it a Markdown document; a content provider's documents are read-only.
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(documentUri), { preview: true });
    }),
  );
}
