/**
 * API keys per endpoint id in VS Code's SecretStorage (the OS keychain where there is one). Keys never go to
 * settings, logs or the ledger; "Hearth: Set API Key…" is the only way in.
 */
import * as vscode from 'vscode';
import { readEndpoints } from './policyGate';
import type { PolicyService } from '../policy/policyService';

const PREFIX = 'hearth.apiKey.';

export class ApiKeyStore {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  get(endpointId: string): Promise<string | undefined> {
    return Promise.resolve(this.secrets.get(PREFIX + endpointId));
  }

  async set(endpointId: string, key: string): Promise<void> {
    await this.secrets.store(PREFIX + endpointId, key);
  }

  async delete(endpointId: string): Promise<void> {
    await this.secrets.delete(PREFIX + endpointId);
  }
}

/**
 * "Hearth: Set API Key…": pick an endpoint, type the key (masked). An empty key removes the stored one.
 * Called with `(endpointId, key)` it stores without asking (for scripts and the extension-host tests).
 */
export async function setApiKeyCommand(store: ApiKeyStore, policy: PolicyService, endpointId?: unknown, key?: unknown): Promise<void> {
  if (typeof endpointId === 'string' && typeof key === 'string') {
    if (key) await store.set(endpointId, key);
    else await store.delete(endpointId);
    return;
  }
  const { endpoints } = readEndpoints(policy);
  let id: string | undefined;
  if (endpoints.length === 0) {
    id = await vscode.window.showInputBox({
      title: 'Hearth: Set API Key',
      prompt: 'Endpoint id (as in hearth.escalation.endpoints; none is configured yet)',
      ignoreFocusOut: true,
      validateInput: (v) => (/^[A-Za-z0-9._-]+$/.test(v) ? undefined : 'letters, digits, ".", "_" and "-" only'),
    });
  } else if (endpoints.length === 1) {
    id = endpoints[0]!.id;
  } else {
    const pick = await vscode.window.showQuickPick(
      endpoints.map((e) => ({ label: e.id, description: `${e.provider} · ${e.model}`, detail: e.baseUrl })),
      { title: 'Hearth: Set API Key — which endpoint?', ignoreFocusOut: true },
    );
    id = pick?.label;
  }
  if (!id) return;
  const had = (await store.get(id)) !== undefined;
  const value = await vscode.window.showInputBox({
    title: `Hearth: API key for "${id}"`,
    prompt: had ? 'A key is stored; type a new one to replace it, or leave empty to remove it.' : 'Stored in VS Code\'s secret storage, never in settings.',
    password: true,
    ignoreFocusOut: true,
  });
  if (value === undefined) return;
  if (value.trim() === '') {
    if (had) {
      await store.delete(id);
      void vscode.window.showInformationMessage(`Hearth: removed the API key for "${id}".`);
    }
    return;
  }
  await store.set(id, value.trim());
  void vscode.window.showInformationMessage(`Hearth: API key for "${id}" stored in VS Code's secret storage.`);
}
