/**
 * "Hearth: Escalate to Frontier" inside a real extension host (code-server). The runner puts two endpoints in
 * user settings pointing at ports given in HEARTH_TEST_OPENAI_PORT / HEARTH_TEST_ANTHROPIC_PORT, where this file
 * starts fake OpenAI and Anthropic servers that speak the real streaming protocols and record every byte.
 * The smoke-test driver hides modals, so the warning is answered through the extension's test hook; everything
 * else is the command's own path: SecretStorage, policy gate, redaction, preview and answer documents, ledger.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { HearthApi } from '../../src/extension';
import type { EscalationWarning, PolicyRequest, WarningChoice } from '../../src/node/cloud/escalationFlow';
import { readEndpoints } from '../../src/vscode/escalation/policyGate';
import { startFakeProvider, type FakeProvider } from '../fixtures/cloud/fakeProviders';
import { waitFor } from './waitFor';

const EXTENSION_ID = 'hearth-dev.hearth';
// Assembled at run time so no committed string looks like a live token.
const TOKEN = ['ghp', '_', 'Zq8Lm2Nx7Rt4Vb9Kc3Hd6Jf1Gs5Pw0Ye2Ua4'].join('');
const EMAIL = 'dana.whitfield@clientcorp-mail.com';
const SOURCE = `export const config = {\n  githubToken: '${TOKEN}',\n  owner: '${EMAIL}',\n};\n`;

function scripted(choices: WarningChoice[], seen: EscalationWarning[]): (w: EscalationWarning) => WarningChoice {
  return (w) => {
    seen.push(w);
    return choices.shift() ?? 'cancel';
  };
}

function escalationDoc(name: RegExp): vscode.TextDocument | undefined {
  return vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'hearth-escalation' && name.test(d.uri.path));
}

describe('Escalate to Frontier in a real extension host', function () {
  let api: HearthApi;
  let openai: FakeProvider;
  let anthropic: FakeProvider;
  let file: vscode.Uri;
  let folder: vscode.WorkspaceFolder;

  before(async function () {
    if (!process.env.HEARTH_TEST_OPENAI_PORT || !process.env.HEARTH_TEST_ANTHROPIC_PORT) {
      console.log('escalation tests need HEARTH_TEST_OPENAI_PORT and HEARTH_TEST_ANTHROPIC_PORT (set by scripts/runIntegration.ts); skipped');
      this.skip();
    }
    const ext = vscode.extensions.getExtension<HearthApi | undefined>(EXTENSION_ID);
    assert.ok(ext);
    const exported = await ext.activate();
    assert.ok(exported, 'activation failed');
    api = exported;
    openai = await startFakeProvider('openai', { port: Number(process.env.HEARTH_TEST_OPENAI_PORT) });
    anthropic = await startFakeProvider('anthropic', { port: Number(process.env.HEARTH_TEST_ANTHROPIC_PORT) });
    // Endpoints live in user settings (a workspace may not add one): set them for this suite only.
    const openAiPort = Number(process.env.HEARTH_TEST_OPENAI_PORT);
    const anthropicPort = Number(process.env.HEARTH_TEST_ANTHROPIC_PORT);
    const user = vscode.workspace.getConfiguration();
    await user.update('hearth.escalation.enabled', true, vscode.ConfigurationTarget.Global);
    await user.update('hearth.escalation.endpoints', [
      { id: 'it-openai', destination: 'frontier', provider: 'openai', baseUrl: `http://127.0.0.1:${openAiPort}/v1`, model: 'it-gpt', priceInPerMTok: 2.5, priceOutPerMTok: 10 },
      { id: 'it-anthropic', destination: 'frontier', provider: 'anthropic', baseUrl: `http://127.0.0.1:${anthropicPort}`, model: 'it-claude', priceInPerMTok: 3, priceOutPerMTok: 15 },
    ], vscode.ConfigurationTarget.Global);
    folder = vscode.workspace.workspaceFolders![0]!;
    file = vscode.Uri.joinPath(folder.uri, 'src', 'escalationConfig.ts');
    await vscode.workspace.fs.writeFile(file, Buffer.from(SOURCE));
  });

  after(async () => {
    await openai?.close();
    await anthropic?.close();
    const user = vscode.workspace.getConfiguration();
    await user.update('hearth.escalation.enabled', undefined, vscode.ConfigurationTarget.Global);
    await user.update('hearth.escalation.endpoints', undefined, vscode.ConfigurationTarget.Global);
  });

  beforeEach(async () => {
    const editor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(file), vscode.ViewColumn.One);
    editor.selection = new vscode.Selection(0, 0, 0, 0);
  });

  it('contributes both commands with the Hearth category', async () => {
    const commands = new Set(await vscode.commands.getCommands(true));
    assert.ok(commands.has('hearth.escalate'));
    assert.ok(commands.has('hearth.setApiKey'));
  });

  it('sets a key in SecretStorage, previews, sends a redacted payload, and opens the restored answer beside the code', async () => {
    await vscode.commands.executeCommand('hearth.setApiKey', 'it-openai', 'sk-it-openai-0001');
    const warnings: EscalationWarning[] = [];
    const result = await api.escalation.escalate({ question: 'Is this config safe to commit?', endpointId: 'it-openai', confirm: scripted(['preview', 'send'], warnings) });
    assert.ok(result);
    assert.equal(result.outcome, 'accepted', JSON.stringify(result));

    // The warning named the destination and what was redacted.
    assert.equal(warnings.length, 2, 'asked again after the preview');
    assert.match(warnings[0]!.detail, /Destination: endpoint "it-openai", configured as frontier — openai model "it-gpt" at http:\/\/127\.0\.0\.1:\d+ \(a server on this machine/);
    assert.match(warnings[0]!.detail, new RegExp(`sha256 of the request body: ${warnings[0]!.bodySha256}`));
    assert.match(warnings[0]!.detail, /github-pat ×1/);
    assert.match(warnings[0]!.detail, /email ×1/);

    // One request, carrying the stored key as a header only, and no secret.
    assert.equal(openai.requests.length, 1);
    const req = openai.requests[0]!;
    assert.equal(req.headers.authorization, 'Bearer sk-it-openai-0001');
    const wire = openai.rawBytes().toString('utf8');
    assert.ok(!wire.includes(TOKEN), 'the GitHub token reached the server');
    assert.ok(!wire.includes(EMAIL), 'the email address reached the server');
    assert.ok(!req.body.toString('utf8').includes('sk-it-openai-0001'), 'the API key is in the body');

    // The preview document held exactly the bytes that were sent.
    const preview = escalationDoc(/request-body-it-openai\.json$/);
    assert.ok(preview, 'no preview document was opened');
    assert.equal(preview.getText(), req.body.toString('utf8'));

    // The answer document is beside the code, complete, with the placeholders restored locally.
    const answer = await waitFor('the answer document to be complete', 10_000, () => {
      const d = escalationDoc(/answer-escalationConfig\.ts-it-openai(-\d+)?\.md$/);
      return d && !d.getText().includes('…receiving') && d.getText().includes('Done.') ? d : undefined;
    });
    const text = answer.getText();
    assert.ok(text.includes(TOKEN), 'the placeholder for the token was not restored in the answer');
    assert.ok(text.includes(EMAIL), 'the placeholder for the email was not restored in the answer');
    assert.doesNotMatch(text, /Incomplete/);
    const visible = vscode.window.visibleTextEditors.find((e) => e.document === answer);
    assert.ok(visible, 'the answer is not visible');
    assert.notEqual(visible.viewColumn, vscode.ViewColumn.One, 'the answer is not beside the code');

    // The ledger got one escalation record with counts, never values.
    const ledger = path.join(folder.uri.fsPath, '.hearth', 'ledger.jsonl');
    const line = await waitFor('the escalation ledger record', 15_000, () => {
      if (!fs.existsSync(ledger)) return undefined;
      return fs.readFileSync(ledger, 'utf8').split('\n').find((l) => l.includes('"lane":"escalation"') && l.includes('"accepted"'));
    });
    const rec = JSON.parse(line) as { destination: string; provider: string; redactions: Record<string, number>; tokensIn: number; estimatedCost: number; modelMs?: number; waitMs?: number; schemaVersion: number };
    assert.equal(rec.schemaVersion, 2);
    assert.ok(rec.modelMs !== undefined && rec.waitMs !== undefined, 'model time and waiting time recorded apart');
    assert.equal(rec.destination, 'frontier');
    assert.equal(rec.provider, 'openai');
    assert.deepEqual(rec.redactions, { 'github-pat': 1, email: 1 });
    assert.equal(rec.tokensIn, 321);
    assert.ok(!line.includes(TOKEN) && !line.includes(EMAIL) && !line.includes('sk-it-openai-0001'));
  });

  it('the policy file moves the ledger and keeps redacted text; the monthly budget counts this month\'s escalations', async () => {
    const policyFile = vscode.Uri.joinPath(folder.uri, '.hearth', 'policy.jsonc');
    const original = await vscode.workspace.fs.readFile(policyFile);
    const withOptions = (perMonthUsd: number) =>
      original.toString().replace(/"budgets": \{[^}]*\}/, `"budgets": { "perTaskUsd": 0.5, "perMonthUsd": ${perMonthUsd} }`)
        .replace(/"ledger": \{[^}]*\}/, '"ledger": { "path": ".hearth/it-budget-ledger.jsonl", "includeText": true }');
    const ledger = path.join(folder.uri.fsPath, '.hearth', 'it-budget-ledger.jsonl');
    const setPolicy = async (text: string, perMonthUsd: number) => {
      await vscode.workspace.fs.writeFile(policyFile, Buffer.from(text));
      await api.policy.reload(folder);
      await waitFor('the policy to be read', 10_000, () => (api.policy.effectiveFor(folder.uri)?.budgets.perMonthUsd.value === perMonthUsd ? true : undefined));
    };
    try {
      await setPolicy(withOptions(20), 20);
      assert.equal(api.policy.effectiveFor(folder.uri)?.ledger.path, '.hearth/it-budget-ledger.jsonl');
      const warnings: EscalationWarning[] = [];
      const first = await api.escalation.escalate({ question: 'Is this config safe to commit?', endpointId: 'it-openai', confirm: scripted(['send'], warnings) });
      assert.equal(first?.outcome, 'accepted', JSON.stringify(first));
      const line = await waitFor('the record in the policy\'s ledger', 15_000, () =>
        fs.existsSync(ledger) ? fs.readFileSync(ledger, 'utf8').split('\n').find((l) => l.includes('"lane":"escalation"')) : undefined);
      const rec = JSON.parse(line) as { estimatedCost: number; text?: { prompt?: string; answer?: string } };
      // includeText: the prompt as sent (placeholders), never the values.
      assert.match(rec.text?.prompt ?? '', /Is this config safe to commit\?/);
      assert.match(rec.text?.prompt ?? '', /github-pat/);
      assert.ok(!line.includes(TOKEN) && !line.includes(EMAIL), 'a secret value reached the ledger');
      assert.ok(rec.estimatedCost > 0);

      // A budget that the next request's estimate fits alone, but not with what this month already spent.
      const estimate = warnings[0]!.estimatedCostUsd!;
      const budget = Number((estimate + rec.estimatedCost / 2).toFixed(6));
      await setPolicy(withOptions(budget), budget);
      const sentBefore = openai.requests.length;
      const second = await api.escalation.escalate({ question: 'Is this config safe to commit?', endpointId: 'it-openai', confirm: scripted(['send'], []) });
      assert.equal(second?.outcome, 'blocked', JSON.stringify(second));
      assert.equal((second as { rule?: string }).rule, 'budgetPerMonth');
      assert.match((second as { reason: string }).reason, /spent this month/);
      assert.equal(openai.requests.length, sentBefore, 'a request over the monthly budget was sent');
    } finally {
      await vscode.workspace.fs.writeFile(policyFile, original);
      await api.policy.reload(folder);
    }
  });

  it('a link to a neverSend file is refused before anything is asked, naming both paths, and the record names the rule', async () => {
    const env = path.join(folder.uri.fsPath, '.env.it-link');
    const link = path.join(folder.uri.fsPath, 'src', 'it-settings.txt');
    fs.writeFileSync(env, 'API_SECRET=it-link-secret-value\n');
    fs.rmSync(link, { force: true });
    fs.symlinkSync('../.env.it-link', link);
    try {
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(vscode.Uri.file(link)));
      const sent = openai.requests.length;
      const asked: EscalationWarning[] = [];
      const result = await api.escalation.escalate({ question: 'Explain.', endpointId: 'it-openai', confirm: scripted(['send'], asked) });
      assert.equal(result?.outcome, 'blocked', JSON.stringify(result));
      assert.match((result as { reason: string }).reason, /src\/it-settings\.txt leads to \.env\.it-link, which matches neverSend pattern/);
      assert.equal(asked.length, 0);
      assert.equal(openai.requests.length, sent);
      const ledger = path.join(folder.uri.fsPath, '.hearth', 'ledger.jsonl');
      const line = await waitFor('the blocked record', 15_000, () =>
        fs.existsSync(ledger) ? fs.readFileSync(ledger, 'utf8').split('\n').find((l) => l.includes('"outcome":"blocked"') && l.includes('"blockedBy":"neverSend"')) : undefined);
      assert.match(line, /"rule":"neverSend"/);
    } finally {
      fs.rmSync(link, { force: true });
      fs.rmSync(env, { force: true });
    }
  });

  it('declining the warning sends nothing', async () => {
    const before = anthropic.rawBytes().length;
    await vscode.commands.executeCommand('hearth.setApiKey', 'it-anthropic', 'sk-ant-it-0002');
    const result = await api.escalation.escalate({ question: 'Explain this.', endpointId: 'it-anthropic', confirm: scripted(['preview', 'cancel'], []) });
    assert.equal(result?.outcome, 'cancelled');
    assert.equal(anthropic.requests.length, 0);
    assert.equal(anthropic.rawBytes().length, before);
  });

  it('streams from the Anthropic endpoint with its own key', async () => {
    const result = await api.escalation.escalate({ question: 'Explain this.', endpointId: 'it-anthropic', confirm: scripted(['send'], []) });
    assert.equal(result?.outcome, 'accepted', JSON.stringify(result));
    assert.equal(anthropic.requests.length, 1);
    assert.equal(anthropic.requests[0]!.headers['x-api-key'], 'sk-ant-it-0002');
    assert.ok(!anthropic.rawBytes().toString('utf8').includes(TOKEN));
  });

  it('policy gate: user endpoints only; an untrusted workspace or an unknown endpoint is blocked with its rule', async () => {
    const ids = readEndpoints(api.policy).endpoints.map((e) => e.id);
    assert.deepEqual(ids, ['it-openai', 'it-anthropic']);
    const request: PolicyRequest = { lane: 'escalation', destination: 'frontier', endpointId: 'it-openai', files: ['src/a.ts'], workspaceTrusted: true, estimatedCostUsd: 0, spentThisMonthUsd: 0 };
    const decide = (r: PolicyRequest) => api.policy.decide(folder.uri, r);
    assert.equal((await decide(request)).allowed, true);
    const untrusted = await decide({ ...request, workspaceTrusted: false });
    assert.equal(untrusted.allowed, false);
    assert.equal(untrusted.rule, 'workspaceTrust');
    const unknown = await decide({ ...request, endpointId: 'from-the-repo' });
    assert.equal(unknown.allowed, false);
    assert.equal(unknown.rule, 'endpoint');
  });

  it('a workspace\'s .vscode/settings.json cannot add an endpoint', async () => {
    const settingsFile = vscode.Uri.joinPath(folder.uri, '.vscode', 'settings.json');
    const repoEndpoint = { id: 'from-the-repo', destination: 'frontier', provider: 'openai', baseUrl: 'https://attacker.invalid/v1', model: 'x' };
    // The escalation settings are application-scoped, so VS Code never reports a workspace value for them: a
    // window-scoped setting in the same file tells when the file has been read.
    await vscode.workspace.fs.writeFile(settingsFile, Buffer.from(JSON.stringify({ 'hearth.escalation.endpoints': [repoEndpoint], 'hearth.escalation.enabled': true, 'hearth.completion.debounceMs': 121 })));
    try {
      await waitFor('VS Code to read the workspace settings', 15_000, () =>
        vscode.workspace.getConfiguration().inspect('hearth.completion.debounceMs')?.workspaceValue === 121 ? true : undefined);
      assert.deepEqual(readEndpoints(api.policy).endpoints.map((e) => e.id), ['it-openai', 'it-anthropic']);
    } finally {
      await vscode.workspace.fs.delete(settingsFile);
    }
  });

  it('a 401 tells the user to set the key', async () => {
    anthropic.behaviour = { kind: 'status', status: 401, message: 'invalid x-api-key' };
    try {
      const result = await api.escalation.escalate({ question: 'Explain this.', endpointId: 'it-anthropic', confirm: scripted(['send'], []) });
      assert.equal(result?.outcome, 'error');
      assert.match((result as { error: Error }).error.message, /Hearth: Set API Key…/);
    } finally {
      anthropic.behaviour = { kind: 'answer' };
    }
  });
});
