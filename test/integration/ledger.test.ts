/**
 * The workspace ledger in a real VS Code extension host: a completion accepted through the editor's own
 * inline-suggest pipeline lands in `.hearth/ledger.jsonl` with its outcome; an incident flag points at it; the
 * Export command writes CSV (and sends OTLP to a receiver on 127.0.0.1); the ROI dashboard webview draws its
 * charts and redraws when the ledger grows. Commands get their optional argument, so no dialog opens.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { HearthApi } from '../../src/extension';
import type { LedgerRecord } from '../../src/common/ledger/ledgerRecord';
import { CSV_COLUMNS } from '../../src/common/ledger/ledgerSerialize';
import { attr, startOtlpReceiver } from '../fixtures/otlpReceiver';
import { waitFor } from './waitFor';

function readLedger(file: string): LedgerRecord[] {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as LedgerRecord);
}

describe('Hearth ledger in a real VS Code extension host', function () {
  let api: HearthApi;
  let folder: vscode.WorkspaceFolder;
  let ledgerFile: string;
  let taskId: string;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-ledger-it-'));

  before(async function () {
    const ext = vscode.extensions.getExtension<HearthApi | undefined>('hearth-dev.hearth');
    assert.ok(ext);
    const exported = await ext.activate();
    assert.ok(exported, 'activation failed');
    api = exported;
    folder = vscode.workspace.workspaceFolders![0]!;
    ledgerFile = path.join(folder.uri.fsPath, '.hearth', 'ledger.jsonl');
  });

  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('registers the ledger commands', async function () {
    const commands = new Set(await vscode.commands.getCommands(true));
    for (const c of ['hearth.exportLedger', 'hearth.openDashboard', 'hearth.flagIncident']) assert.ok(commands.has(c), c);
  });

  it('records an accepted completion in .hearth/ledger.jsonl with its outcome', async function () {
    const before = 'export function double(value: number): number {\n  return \n}\n';
    const offset = before.indexOf('return ') + 'return '.length;
    const file = path.join(folder.uri.fsPath, 'ledger-probe.ts');
    fs.writeFileSync(file, before);
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
    const editor = await vscode.window.showTextDocument(doc);
    const pos = doc.positionAt(offset);
    editor.selection = new vscode.Selection(pos, pos);
    const trigger = () => vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
    await trigger();
    const last = await waitFor('a completion from Hearth', 90_000, () => {
      const l = api.lastCompletion();
      return l && l.prefix === before.slice(0, offset) ? l : undefined;
    }, trigger);
    await vscode.commands.executeCommand('editor.action.inlineSuggest.commit');
    await waitFor('the suggestion to be inserted', 10_000, () => (doc.getText() !== before ? true : undefined), trigger);

    const record = await waitFor('an accepted completion record in the ledger', 10_000, () =>
      readLedger(ledgerFile).find((r) => r.kind === 'task' && r.lane === 'completion' && r.outcome === 'accepted' && r.charsAccepted === last.text.length && r.id === api.lastTaskId()));
    assert.equal(record.kind, 'task');
    if (record.kind !== 'task') return;
    assert.equal(record.destination, 'local');
    assert.equal(record.charsSuggested, last.text.length);
    assert.ok(record.tokensOut > 0);
    assert.match(record.workspace, /^ws-[0-9a-f]{16}$/);
    assert.equal((record as { text?: unknown }).text, undefined, 'no code in the ledger');
    assert.ok(!fs.readFileSync(ledgerFile, 'utf8').includes('double(value'), 'the document text never reaches the ledger');
    taskId = record.id;
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    fs.rmSync(file, { force: true });
  });

  it('flags the last answer as an incident pointing at the last recorded task', async function () {
    // Closing the probe may have settled a later suggestion (ignored or rejected): the last answer is whatever was recorded last.
    const lastTask = api.lastTaskId();
    assert.ok(lastTask);
    // Appends are batched: the record may reach the file a moment after its id is known.
    await waitFor('the last task in the ledger file', 10_000, () => (readLedger(ledgerFile).some((r) => r.id === lastTask && r.kind === 'task') ? true : undefined));
    const id = await vscode.commands.executeCommand<string | undefined>('hearth.flagIncident', 'factual-error');
    assert.ok(id, 'the command returned no incident id');
    const incident = readLedger(ledgerFile).find((r) => r.id === id);
    assert.ok(incident, 'the incident is in the ledger when the command returns');
    assert.equal(incident.kind, 'incident');
    if (incident.kind !== 'incident') return;
    assert.equal(incident.refersTo, lastTask);
    assert.equal(incident.incident, 'factual-error');
    assert.equal(incident.lane, 'completion');
  });

  it('exports the ledger to CSV through the command', async function () {
    const out = path.join(tmp, 'ledger.csv');
    // Suggestions still on screen may settle (and be recorded) at any moment: counts are lower bounds.
    const before = readLedger(ledgerFile).length;
    const result = await vscode.commands.executeCommand<{ records: number; path: string } | undefined>('hearth.exportLedger', { format: 'csv', path: out });
    assert.ok(result, 'the export returned nothing');
    assert.ok(result.records >= before, `${result.records} records exported, ${before} in the ledger before`);
    const rows = fs.readFileSync(out, 'utf8').split('\r\n').filter(Boolean);
    // The chain status and head travel in every row (issue #20).
    assert.deepEqual(rows[0]!.split(','), [...CSV_COLUMNS, 'chainStatus', 'chainHead']);
    assert.equal(rows.length, result.records + 1);
    const ids = new Set(readLedger(ledgerFile).map((r) => r.id));
    for (const row of rows.slice(1)) assert.ok(ids.has(row.split(',')[2]!), `CSV row not in the ledger: ${row}`);
    assert.ok(rows.some((r) => r.includes(taskId) && r.includes(',accepted,')), 'the accepted completion is in the CSV');
  });

  it('sends the ledger to an OpenTelemetry collector set in the settings', async function () {
    const receiver = await startOtlpReceiver();
    const config = vscode.workspace.getConfiguration('hearth');
    try {
      await config.update('telemetry.otlpEndpoint', receiver.url, vscode.ConfigurationTarget.Global);
      const result = await vscode.commands.executeCommand<{ records: number } | undefined>('hearth.exportLedger', { format: 'otlp' });
      assert.ok(result, 'the OTLP export returned nothing (see the Hearth log)');
      assert.deepEqual(receiver.problems, []);
      const logs = receiver.logs.flatMap((b) => b.resourceLogs.flatMap((r) => r.scopeLogs.flatMap((s) => s.logRecords)));
      assert.equal(logs.length, result.records);
      assert.ok(logs.length <= readLedger(ledgerFile).length);
      assert.ok(logs.some((l) => attr(l.attributes, 'hearth.record.id') === taskId && attr(l.attributes, 'hearth.outcome') === 'accepted'));
      assert.equal(receiver.metrics.length, 1);
    } finally {
      await config.update('telemetry.otlpEndpoint', undefined, vscode.ConfigurationTarget.Global);
      await receiver.close();
    }
  });

  it('opens the ROI dashboard, which draws its charts and redraws when the ledger grows', async function () {
    await vscode.commands.executeCommand('hearth.openDashboard');
    const count = readLedger(ledgerFile).length;
    const first = await waitFor('the dashboard to draw its charts', 30_000, () => {
      const r = api.dashboard()?.rendered;
      return r && r.records >= count ? r : undefined;
    });
    assert.equal(first.charts, 4);
    assert.deepEqual(api.dashboard()!.problems, []);
    // A new record in the ledger (this window's writer, seen through the file watcher) redraws it.
    await vscode.commands.executeCommand('hearth.flagIncident', 'tool-misuse');
    await waitFor('the dashboard to redraw with the new record', 30_000, () => ((api.dashboard()?.rendered?.records ?? 0) > first.records ? true : undefined));
    if (!process.env.HEARTH_KEEP_DASHBOARD) {
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
      await waitFor('the dashboard to close', 5_000, () => (api.dashboard() === undefined ? true : undefined));
    }
  });
});
