/**
 * "Hearth: Roll Back Model" in a real extension host: with a baseline whose previous baseline names the model
 * the window started with, and the model setting moved to another file, the command restores the previous
 * model and its settings, makes the previous baseline current again, and records the rollback in the ledger.
 */
import * as assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import type { HearthApi } from '../../src/extension';
import { waitFor } from './waitFor';

describe('Hearth task battery in a real VS Code extension host', function () {
  this.timeout(120_000);
  let folder: vscode.WorkspaceFolder;
  let original: string;
  let originalContext: number | undefined;
  let copy: string;
  let baselineFile: string;

  const config = () => vscode.workspace.getConfiguration('hearth', folder);

  before(async function () {
    const ext = vscode.extensions.getExtension<HearthApi | undefined>('hearth-dev.hearth');
    assert.ok(ext);
    assert.ok(await ext.activate(), 'activate() returned no API');
    folder = vscode.workspace.workspaceFolders![0]!;
    original = config().get<string>('model.path', '');
    assert.ok(original && existsSync(original), `the test workspace has a model: "${original}"`);
    originalContext = config().inspect<number>('engine.contextSize')?.globalValue;
    copy = join(dirname(original), 'battery-candidate.gguf');
    copyFileSync(original, copy);
    baselineFile = join(folder.uri.fsPath, '.hearth', 'battery', 'baseline.json');
  });

  after(async function () {
    await config().update('model.path', original, vscode.ConfigurationTarget.Global);
    await config().update('engine.contextSize', originalContext, vscode.ConfigurationTarget.Global);
    rmSync(copy, { force: true });
    rmSync(dirname(baselineFile), { recursive: true, force: true });
  });

  it('Roll Back Model restores the previous baseline\'s model and settings and records it', async function () {
    const candidate = (path: string, label: string, contextSize: number) => ({ id: label, label, modelPath: path, contextSize });
    const baseline = (c: ReturnType<typeof candidate>, previous?: unknown) => ({
      version: 1, savedAt: '2026-12-04T00:00:00.000Z', seed: 1, tasks: 2, candidate: c,
      quality: { value: 0.2, lo: 0.1, hi: 0.3 }, successRate: 0.1, latencyP95Ms: 100, costPerSuccess: null,
      perTask: [{ taskId: 'a', v: 0.2 }, { taskId: 'b', v: 0.2 }], ...(previous ? { previous } : {}),
    });
    mkdirSync(dirname(baselineFile), { recursive: true });
    writeFileSync(baselineFile, JSON.stringify(baseline(candidate(copy, 'new model', 1024), baseline(candidate(original, 'old model', 2048)))));
    await config().update('model.path', copy, vscode.ConfigurationTarget.Global);
    assert.equal(config().get('model.path'), copy);

    const restored = await vscode.commands.executeCommand<string | undefined>('hearth.rollBackModel');
    assert.equal(restored, original);
    assert.equal(config().get('model.path'), original);
    assert.equal(config().get('engine.contextSize'), 2048);
    const now = JSON.parse(readFileSync(baselineFile, 'utf8')) as { candidate: { label: string }; previous?: unknown };
    assert.equal(now.candidate.label, 'old model');
    assert.equal(now.previous, undefined);
    const ledgerFile = join(folder.uri.fsPath, '.hearth', 'ledger.jsonl');
    const record = await waitFor('the rollback in the ledger', 10_000, () => {
      if (!existsSync(ledgerFile)) return undefined;
      return readFileSync(ledgerFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { lane: string; model: string }).find((r) => r.lane === 'benchmark' && r.model === 'old model');
    });
    assert.ok(record);
    // Nothing left to roll back to: a clear message, no change.
    assert.equal(await vscode.commands.executeCommand('hearth.rollBackModel'), undefined);
    assert.equal(config().get('model.path'), original);
  });
});
