/**
 * The policy in a real extension host: the sample workspace's `.hearth/policy.jsonc` is replaced by an invalid
 * one, which must show diagnostics in the file, warn in the status bar, block escalation and render in
 * "Hearth: Show Effective Policy"; then by one that tries to enable escalation and add an endpoint.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { HearthApi } from '../../src/extension';
import { waitFor } from './waitFor';

describe('Hearth policy in a real VS Code extension host', function () {
  let api: HearthApi;
  let folder: vscode.WorkspaceFolder;
  let policyUri: vscode.Uri;
  let original: Uint8Array | undefined;
  const request = { lane: 'escalation' as const, destination: 'frontier' as const, endpointId: 'any', files: ['src/main.ts'], estimatedCostUsd: 0, spentThisMonthUsd: 0 };
  const write = (text: string) => vscode.workspace.fs.writeFile(policyUri, new TextEncoder().encode(text));
  const policyDiagnostics = () => vscode.languages.getDiagnostics(policyUri).filter((d) => d.source === 'Hearth policy');

  before(async function () {
    const ext = vscode.extensions.getExtension<HearthApi | undefined>('hearth-dev.hearth');
    assert.ok(ext);
    const exported = await ext.activate();
    assert.ok(exported, 'activate() returned no API');
    api = exported;
    folder = vscode.workspace.workspaceFolders![0]!;
    policyUri = api.policy.policyUri(folder);
    original = await Promise.resolve(vscode.workspace.fs.readFile(policyUri)).catch(() => undefined);
  });

  after(async function () {
    if (original) await vscode.workspace.fs.writeFile(policyUri, original);
    else await Promise.resolve(vscode.workspace.fs.delete(policyUri)).catch(() => undefined);
    await api.policy.reloadAll();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('loads the sample workspace policy without problems', async function () {
    const effective = await api.policy.reload(folder);
    assert.equal(effective.repo.status, original ? 'valid' : 'none', effective.repo.status === 'invalid' ? effective.repo.error.message : '');
    assert.deepEqual(policyDiagnostics(), []);
    assert.equal(api.policy.statusText, undefined);
  });

  it('an invalid policy file gets diagnostics at the right place, a status bar warning, and blocks escalation', async function () {
    await write('{\n  "version": 1,\n  "consent": "never",\n  "neverSend": ["**/secrets/**"],\n}\n');
    // The file watcher reloads the policy; diagnostics appear without any command.
    const diagnostics = await waitFor('diagnostics in the invalid policy file', 30_000, () => {
      const d = policyDiagnostics();
      return d.length ? d : undefined;
    });
    assert.equal(diagnostics[0]!.severity, vscode.DiagnosticSeverity.Error);
    assert.equal(diagnostics[0]!.range.start.line, 2);
    assert.equal(diagnostics[0]!.range.start.character, 13);
    assert.match(diagnostics[0]!.message, /consent/);
    assert.match(api.policy.statusText ?? '', /Policy invalid/);

    const decision = await api.policy.decide(folder.uri, request);
    assert.equal(decision.allowed, false);
    assert.equal(decision.rule, vscode.workspace.isTrusted ? 'invalidPolicy' : 'workspaceTrust');
    if (vscode.workspace.isTrusted) assert.match(decision.reason, /line 3, column 14/);
  });

  it('"Hearth: Show Effective Policy" renders the matrix in plain words', async function () {
    await vscode.commands.executeCommand('hearth.showEffectivePolicy');
    const editor = await waitFor('the effective policy document', 10_000, () =>
      vscode.window.activeTextEditor?.document.uri.scheme === 'hearth-policy' ? vscode.window.activeTextEditor : undefined,
    );
    const text = editor.document.getText();
    assert.equal(editor.document.languageId, 'markdown');
    assert.match(text, /# Hearth: effective policy/);
    assert.match(text, /The repo policy is invalid: nothing leaves this machine/);
    assert.match(text, /\| escalation \| /);
    assert.match(text, /\*\*Escalation:\*\* off/);
  });

  it('a repo policy that tries to enable escalation and add an endpoint is refused, with warnings in the file', async function () {
    await write('{\n  "version": 1,\n  "escalation": { "enabled": true },\n  "endpoints": [{ "id": "evil", "baseUrl": "https://evil.example/v1" }]\n}\n');
    const warnings = await waitFor('refusal warnings in the policy file', 30_000, () => {
      const d = policyDiagnostics();
      return d.length >= 2 && d.every((x) => x.severity === vscode.DiagnosticSeverity.Warning) ? d : undefined;
    });
    assert.ok(warnings.some((w) => /cannot turn on escalation/.test(w.message) && w.range.start.line === 2));
    assert.ok(warnings.some((w) => /cannot add an endpoint \("evil"\)/.test(w.message) && w.range.start.line === 3));
    const effective = api.policy.effectiveFor(folder.uri)!;
    assert.equal(effective.escalation.enabled, false);
    assert.deepEqual(effective.endpoints, []);
    assert.match(api.policy.statusText ?? '', /Policy: 2 refused/);
    const decision = await api.policy.decide(folder.uri, { ...request, endpointId: 'evil' });
    assert.equal(decision.allowed, false);
  });

  it('workspace settings cannot turn on escalation or add an endpoint', async function () {
    const settingsUri = vscode.Uri.joinPath(folder.uri, '.vscode', 'settings.json');
    const changed = new Promise<void>((resolve) => {
      const sub = vscode.workspace.onDidChangeConfiguration(() => (sub.dispose(), resolve()));
      setTimeout(() => (sub.dispose(), resolve()), 5_000);
    });
    const endpoint = { id: 'evil', destination: 'frontier', provider: 'openai', baseUrl: 'https://evil.example/v1', model: 'x' };
    await vscode.workspace.fs.writeFile(settingsUri, new TextEncoder().encode(JSON.stringify({ 'hearth.escalation.enabled': true, 'hearth.escalation.endpoints': [endpoint] })));
    try {
      await changed;
      const { policy } = api.policy.userPolicy();
      assert.equal(policy.escalationEnabled, false);
      assert.deepEqual(policy.endpoints, []);
      assert.equal((await api.policy.decide(folder.uri, { ...request, endpointId: 'evil' })).allowed, false);
    } finally {
      await vscode.workspace.fs.delete(vscode.Uri.joinPath(folder.uri, '.vscode'), { recursive: true });
    }
  });

  it('a valid policy again clears the diagnostics and the status bar warning', async function () {
    await write('{ "version": 1, "neverSend": ["**/secrets/**"] }\n');
    await waitFor('the diagnostics to clear', 30_000, () => (policyDiagnostics().length === 0 ? true : undefined));
    await waitFor('the status bar warning to go', 10_000, () => (api.policy.statusText === undefined ? true : undefined));
    const decision = await api.policy.decide(folder.uri, { ...request, files: ['src/secrets/a.ts'] });
    assert.equal(decision.allowed, false);
  });
});
