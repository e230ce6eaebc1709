/**
 * Runs inside a real VS Code extension host (code-server or Electron). The runner sets `hearth.model.path` to a
 * generated tiny model in user settings; these tests check activation, contributions, and one inline
 * completion through VS Code's own inline-suggest pipeline, cross-checked against the engine run directly.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { HearthApi } from '../../src/extension';
import { runCompletion } from '../../src/common/completion/completionPipeline';
import { allSettings } from '../../src/common/settings';
import { EngineClient } from '../../src/node/engine/engineClient';
import { waitFor } from './waitFor';

const EXTENSION_ID = 'hearth-dev.hearth';
const COMMANDS = ['hearth.selectModel', 'hearth.downloadModel', 'hearth.deleteModel', 'hearth.tune', 'hearth.showLog', 'hearth.restartEngine'];

describe('Hearth in a real VS Code extension host', function () {
  let extension: vscode.Extension<HearthApi | undefined>;
  let api: HearthApi;

  before(async function () {
    const found = vscode.extensions.getExtension<HearthApi | undefined>(EXTENSION_ID);
    assert.ok(found, `extension ${EXTENSION_ID} is not installed in this extension host`);
    extension = found;
    const exported = await extension.activate();
    assert.ok(exported, 'activate() returned no API: activation failed (see the Hearth log)');
    api = exported;
  });

  it('activates', function () {
    assert.equal(extension.isActive, true);
    assert.equal(typeof api.engineStatus, 'function');
    assert.equal(typeof api.lastCompletion, 'function');
  });

  it('registers its commands', async function () {
    const commands = new Set(await vscode.commands.getCommands(true));
    for (const c of COMMANDS) assert.ok(commands.has(c), `command ${c} is not registered`);
    const contributed = ((extension.packageJSON as { contributes?: { commands?: { command: string }[] } }).contributes?.commands ?? []).map((c) => c.command);
    for (const c of COMMANDS) assert.ok(contributed.includes(c), `command ${c} is not in package.json contributes.commands`);
  });

  it('contributes every hearth.* setting with its declared default', function () {
    const config = vscode.workspace.getConfiguration();
    for (const spec of allSettings) {
      const inspected = config.inspect(spec.key);
      assert.ok(inspected, `setting ${spec.key} is unknown to VS Code`);
      assert.deepEqual(inspected.defaultValue, spec.default, `default of ${spec.key}`);
    }
  });

  it('reads the model path the runner put in user settings', function () {
    const modelPath = vscode.workspace.getConfiguration('hearth').get<string>('model.path');
    assert.ok(modelPath, 'hearth.model.path is not set in user settings');
    assert.ok(fs.existsSync(modelPath), `hearth.model.path ${modelPath} does not exist`);
  });

  it('produces an inline completion through VS Code\'s provider pipeline and accepts it', async function () {
    const before = 'export function clamp(value: number, low: number, high: number): number {\n  return \n}\n';
    const offset = before.indexOf('return ') + 'return '.length;
    const doc = await vscode.workspace.openTextDocument({ language: 'typescript', content: before });
    const editor = await vscode.window.showTextDocument(doc);
    const pos = doc.positionAt(offset);
    editor.selection = new vscode.Selection(pos, pos);

    // The editor asks its providers, ours runs the engine; re-trigger now and then in case the first
    // request was cancelled by the editor settling (focus, layout).
    const trigger = () => vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
    await trigger();
    const last = await waitFor('a completion from Hearth\'s provider', 90_000, () => {
      const l = api.lastCompletion();
      return l && l.prefix === before.slice(0, offset) ? l : undefined;
    }, trigger);
    assert.equal(last.suffix, before.slice(offset));
    assert.ok(last.text.length > 0, 'the suggestion is empty');

    const status = await api.engineStatus();
    assert.ok(status.model, 'the engine reports no loaded model after a completion');

    // Accept it the way Tab does.
    await vscode.commands.executeCommand('editor.action.inlineSuggest.commit');
    const after = await waitFor('the suggestion to be inserted', 10_000, () => (doc.getText() !== before ? doc.getText() : undefined), trigger);
    assert.equal(after, before.slice(0, offset) + last.text + before.slice(offset));

    // The same pipeline run directly against a separate engine gives the same suggestion (greedy decoding).
    const config = vscode.workspace.getConfiguration('hearth');
    const threads = config.get<number>('engine.threads', 0);
    const client = new EngineClient({ enginePath: path.join(extension.extensionPath, 'dist', 'engine.js'), execPath: process.execPath, mode: 'private' });
    try {
      await client.loadModel({ path: config.get<string>('model.path')!, threads: threads > 0 ? threads : undefined, contextSize: config.get<number>('engine.contextSize') });
      const direct = await runCompletion(client, { text: before, offset }, {
        maxTokens: config.get<number>('completion.maxTokens', 48),
        timeLimitMs: config.get<number>('completion.timeLimitMs'),
      });
      assert.equal(direct.suggestion, last.text);
    } finally {
      await client.dispose();
    }
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('tunes for this machine: shows the table, reloads the model with the tuned batch size, and records a benchmark', async function () {
    this.timeout(120_000);
    await vscode.commands.executeCommand('hearth.tune');
    const editor = await waitFor('the tuning table', 60_000, () => {
      const e = vscode.window.activeTextEditor;
      return e && e.document.languageId === 'markdown' && e.document.getText().includes('tuned for this machine') ? e : undefined;
    });
    const text = editor.document.getText();
    assert.match(text, /\| \*\*kept\*\* \| \d+ \| \d+ \|/);
    const kept = /\*\*(\d+) threads and batch (\d+)\*\*/.exec(text);
    assert.ok(kept, 'the table does not say which setting was kept');
    const status = await waitFor('the model reloaded with the tuned batch size', 30_000, async () => {
      const s = await api.engineStatus();
      return s.model?.batchSize === Number(kept[2]) ? s : undefined;
    });
    const threadsSetting = vscode.workspace.getConfiguration('hearth').get<number>('engine.threads', 0);
    assert.equal(status.model?.threads, threadsSetting > 0 ? threadsSetting : Number(kept[1]));
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (folder) {
      const ledgerFile = path.join(folder.uri.fsPath, '.hearth', 'ledger.jsonl');
      const benchmark = await waitFor('a benchmark record in the ledger', 15_000, () =>
        fs.existsSync(ledgerFile) ? fs.readFileSync(ledgerFile, 'utf8').split('\n').find((l) => l.includes('"lane":"benchmark"')) : undefined,
      );
      assert.match(benchmark, /"outcome":"accepted"/);
    }
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });
});
