/**
 * The escalation flow (the same `runEscalation` the "Hearth: Escalate to Frontier" command runs) against fake
 * OpenAI and Anthropic servers that record every byte: no planted secret ever arrives, declining sends nothing,
 * a policy denial sends nothing and names the rule, failures lose nothing and reach the ledger.
 */
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { MemoryLedgerSink } from '../../src/common/ledger/ledgerSink';
import { taskRecordSchema, type TaskRecord } from '../../src/common/ledger/ledgerRecord';
import type { EndpointConfig } from '../../src/node/cloud/cloudTypes';
import {
  runEscalation,
  type EscalationDeps,
  type EscalationInput,
  type EscalationWarning,
  type PolicyDecision,
  type PolicyRequest,
  type WarningChoice,
  type AnswerUpdate,
} from '../../src/node/cloud/escalationFlow';
import { coverageFile, generateCorpus, type CorpusFile } from '../fixtures/redactionCorpus';
import { startFakeProvider, type FakeProvider } from '../fixtures/cloud/fakeProviders';

const ALLOW: PolicyDecision = { allowed: true, reason: 'allowed', dataClasses: ['internal'], redactor: {}, requireConsent: true };

interface Harness {
  deps: EscalationDeps;
  ledger: MemoryLedgerSink;
  warnings: EscalationWarning[];
  previews: string[];
  updates: AnswerUpdate[];
  policyRequests: PolicyRequest[];
}

function harness(choices: WarningChoice[], decision: PolicyDecision = ALLOW, extra: Partial<EscalationDeps> = {}): Harness {
  const ledger = new MemoryLedgerSink();
  const h: Harness = { ledger, warnings: [], previews: [], updates: [], policyRequests: [], deps: undefined as unknown as EscalationDeps };
  const queue = [...choices];
  h.deps = {
    decide: (r) => {
      h.policyRequests.push(r);
      return decision;
    },
    apiKey: async () => 'sk-test-not-a-secret',
    ledger,
    workspace: 'ws-test',
    ui: {
      confirm: async (w) => {
        h.warnings.push(w);
        return queue.shift() ?? 'cancel';
      },
      preview: async (w) => {
        h.previews.push(w.body);
      },
      answer: (u) => {
        h.updates.push(u);
      },
    },
    ...extra,
  };
  return h;
}

function input(endpoint: EndpointConfig, text: string, fileName = 'app.ts', question = 'What does this code do?'): EscalationInput {
  return { question, payload: { kind: 'file', text, fileName, languageId: 'typescript', files: [`src/${fileName}`] }, endpoint, workspaceTrusted: true };
}

function taskRecords(l: MemoryLedgerSink): TaskRecord[] {
  return l.records.filter((r): r is TaskRecord => r.kind === 'task');
}

/** Forms in which a value could show up in a JSON body: as is, JSON-escaped, and each long line of it. */
function forms(value: string): string[] {
  const out = new Set([value, JSON.stringify(value).slice(1, -1)]);
  for (const line of value.split(/\r?\n/)) if (line.trim().length >= 12) out.add(line.trim());
  return [...out];
}

for (const protocol of ['openai', 'anthropic'] as const) {
  describe(`escalation flow over the ${protocol} wire protocol`, function () {
    this.timeout(60_000);
    let server: FakeProvider;
    let endpoint: EndpointConfig;

    before(async () => {
      server = await startFakeProvider(protocol);
      endpoint = { id: `ep-${protocol}`, destination: 'frontier', provider: protocol, baseUrl: server.baseUrl, model: 'frontier-test', priceInPerMTok: 3, priceOutPerMTok: 15 };
    });
    after(() => server.close());
    beforeEach(() => {
      server.requests.length = 0;
      server.behaviour = { kind: 'answer' };
    });

    it('never sends a planted secret from the corpus, and restores every placeholder in the answer', async () => {
      const files: CorpusFile[] = [coverageFile(3), ...generateCorpus({ files: 24, seed: 5 })];
      let planted = 0;
      for (const file of files) {
        const before = server.rawBytes().length;
        const h = harness(['preview', 'send']);
        const name = file.path.split('/').pop()!;
        const result = await runEscalation(input(endpoint, file.text, name), h.deps);
        assert.equal(result.outcome, 'accepted', `${file.path}: ${JSON.stringify(result)}`);
        const wire = server.rawBytes().subarray(before).toString('utf8');
        assert.ok(wire.length > 0);
        for (const s of file.secrets) {
          const value = file.text.slice(s.start, s.end);
          planted++;
          for (const f of forms(value)) assert.ok(!wire.includes(f), `${file.path}: planted ${s.category} ${JSON.stringify(f.slice(0, 12))}… reached the server`);
        }
        // The preview is the exact body that went out.
        assert.equal(h.previews.length, 1);
        assert.equal(server.requests.at(-1)!.body.toString('utf8'), h.previews[0]);
        // The fake answer repeats every placeholder it saw: restore() must put each value back.
        const answer = (result as { answer: string }).answer;
        assert.deepEqual(answer.match(/\[REDACTED:[a-z0-9-]+#\d+\]/g), null, `${file.path}: a placeholder was not restored`);
        const warning = h.warnings[0]!;
        const restored = file.secrets.map((s) => file.text.slice(s.start, s.end)).filter((v) => answer.includes(v));
        assert.ok(restored.length > 0 || file.secrets.length === 0, `${file.path}: no planted value came back restored`);
        // Ledger: accepted, counts by category equal to the warning's, and no value anywhere in the record.
        const [rec] = taskRecords(h.ledger);
        assert.ok(rec);
        assert.equal(rec.outcome, 'accepted');
        taskRecordSchema.parse(rec);
        assert.equal(rec.lane, 'escalation');
        assert.equal(rec.destination, 'frontier');
        assert.equal(rec.provider, protocol);
        assert.deepEqual(rec.redactions, warning.redactions);
        assert.equal(rec.tokensIn, 321);
        assert.equal(rec.tokensOut, 45);
        assert.equal(rec.estimatedCost, (321 * 3 + 45 * 15) / 1e6);
        const line = JSON.stringify(rec);
        for (const s of file.secrets) assert.ok(!line.includes(file.text.slice(s.start, s.end)), 'a secret value reached the ledger');
      }
      assert.ok(planted >= 100, `only ${planted} planted values checked`);
    });

    it('the warning names the destination, data classes, redactions by category, tokens and cost', async () => {
      const h = harness(['cancel'], { ...ALLOW, dataClasses: ['internal', 'sensitive'] });
      const file = coverageFile(9);
      await runEscalation(input(endpoint, file.text, 'all.txt'), h.deps);
      const w = h.warnings[0]!;
      // The fake server is on 127.0.0.1: the warning says so, and never calls it a cloud.
      assert.match(w.message, new RegExp(`endpoint "${endpoint.id}" at 127\\.0\\.0\\.1:\\d+ \\(frontier, a server on this machine\\)`));
      assert.doesNotMatch(w.message + w.detail, /cloud/i);
      assert.match(w.detail, /Destination: endpoint "ep-\w+", configured as frontier — (anthropic|openai) model "frontier-test" at http:\/\/127\.0\.0\.1:\d+ \(a server on this machine, plain http on this machine\)/);
      assert.match(w.detail, /Data classes: internal, sensitive/);
      assert.match(w.detail, /github-pat ×\d/);
      assert.match(w.detail, /Size: [\d,]+ bytes \(≈[\d,]+ tokens in\), up to 2,048 tokens out/);
      assert.match(w.detail, /Estimated cost: at most \$/);
      assert.ok(w.redactionTotal >= 30);
      // The review's parts are the request's own text: the question and code parts make up the user message.
      const body = JSON.parse(w.body) as { messages: { role: string; content: string | { text: string }[] }[]; system?: string | { text: string }[] };
      const user = body.messages.find((m) => m.role === 'user')!;
      const content = typeof user.content === 'string' ? user.content : user.content.map((c) => c.text).join('');
      assert.equal(w.parts[1]!.text + w.parts[2]!.text, content);
      assert.equal(w.parts[0]!.label, 'System prompt');
      assert.ok(w.placeholders.length >= 1 && w.placeholders.every((p) => content.includes(p.placeholder) && p.placeholder.includes(p.category)));
    });

    it('the sha256 and byte count in the review are those of the bytes that reach the server', async () => {
      const h = harness(['send']);
      const result = await runEscalation(input(endpoint, coverageFile(2).text, 'cfg.ts'), h.deps);
      assert.equal(result.outcome, 'accepted', JSON.stringify(result));
      const w = h.warnings[0]!;
      const wire = server.requests[0]!.body;
      assert.equal(w.bodyBytes, wire.length);
      assert.equal(w.bodySha256, createHash('sha256').update(wire).digest('hex'));
      assert.match(w.detail, new RegExp(`sha256 of the request body: ${w.bodySha256}`));
    });

    it('policy first: a block asks nothing (not even the question) and its record names the rule', async () => {
      let asked = 0;
      const h = harness(['send'], { allowed: false, reason: 'src/settings.txt leads to .env.production, which matches neverSend', rule: 'neverSend', blockedBy: 'neverSend', dataClasses: ['internal'], redactor: {}, requireConsent: true });
      h.deps.ui.askQuestion = async () => {
        asked++;
        return 'why?';
      };
      const result = await runEscalation({ ...input(endpoint, 'A=1'), question: undefined }, h.deps);
      assert.equal(result.outcome, 'blocked');
      assert.equal(asked, 0, 'the question was asked before the policy check');
      assert.equal(h.warnings.length, 0);
      const [rec] = taskRecords(h.ledger);
      assert.equal(rec!.blockedBy, 'neverSend');
      assert.equal(rec!.rule, 'neverSend');
      assert.equal(rec!.estimatedCost, 0, 'nothing was sent: a known cost of 0');
      assert.equal(rec!.modelMs, undefined);
      taskRecordSchema.parse({ ...rec, schemaVersion: 2, seq: 0, prevHash: '0'.repeat(64) });
    });

    it('the question is asked after the policy allowed it; model time and waiting time are recorded apart', async () => {
      let clock = 1_000_000;
      const h = harness(['send'], ALLOW, { now: () => clock });
      h.deps.ui.askQuestion = async () => {
        clock += 30_000; // the user types for 30 s
        return 'What does this do?';
      };
      const confirm = h.deps.ui.confirm;
      h.deps.ui.confirm = async (w) => {
        clock += 45_000; // and reads the review for 45 s
        return confirm(w);
      };
      const result = await runEscalation({ ...input(endpoint, 'let a = 1;'), question: undefined }, h.deps);
      assert.equal(result.outcome, 'accepted', JSON.stringify(result));
      assert.equal(h.policyRequests.length, 2, 'asked before the question and again with it (budget)');
      const [rec] = taskRecords(h.ledger);
      assert.equal(rec!.waitMs, 75_000);
      assert.equal(rec!.modelMs, 0, 'the fake clock does not move while the model answers');
      assert.equal(rec!.totalMs, 75_000);
    });

    it('an endpoint without a price records no cost (unknown), never 0', async () => {
      const h = harness(['send']);
      const unpriced: EndpointConfig = { ...endpoint, priceInPerMTok: undefined, priceOutPerMTok: undefined };
      const result = await runEscalation(input(unpriced, 'let a = 1;'), h.deps);
      assert.equal(result.outcome, 'accepted');
      const [rec] = taskRecords(h.ledger);
      assert.equal(rec!.estimatedCost, undefined);
      assert.ok(!('estimatedCost' in JSON.parse(JSON.stringify(rec))));
      assert.match(h.warnings[0]!.detail, /Estimated cost: unknown — no price set for this endpoint/);
    });

    it('declining the warning sends nothing (also after a preview) and records cancelled', async () => {
      const rawBefore = server.rawBytes().length;
      const h = harness(['preview', 'preview', 'cancel']);
      const result = await runEscalation(input(endpoint, coverageFile(4).text), h.deps);
      assert.equal(result.outcome, 'cancelled');
      assert.equal(h.previews.length, 2);
      assert.equal(server.requests.length, 0);
      assert.equal(server.rawBytes().length, rawBefore, 'bytes reached the server after the user declined');
      const [rec] = taskRecords(h.ledger);
      assert.equal(rec!.outcome, 'cancelled');
      assert.equal(rec!.tokensIn, 0);
      assert.ok(Object.keys(rec!.redactions ?? {}).length > 0, 'redaction counts missing from the cancelled record');
      assert.equal(h.updates.length, 0, 'an answer document was opened although nothing was sent');
    });

    it('a policy denial sends nothing, asks nothing, and the reason names the rule', async () => {
      const rawBefore = server.rawBytes().length;
      const h = harness(['send'], { allowed: false, reason: 'secrets/** is never sent anywhere', rule: 'neverSend[0]', dataClasses: ['regulated'], redactor: {}, requireConsent: true });
      const result = await runEscalation(input(endpoint, 'const x = 1;', 'keys.ts'), h.deps);
      assert.equal(result.outcome, 'blocked');
      assert.match((result as { reason: string }).reason, /neverSend\[0\]/);
      assert.equal(h.warnings.length, 0, 'the user was asked although the policy said no');
      assert.equal(server.requests.length, 0);
      assert.equal(server.rawBytes().length, rawBefore);
      assert.equal(h.policyRequests[0]!.files[0], 'src/keys.ts');
      assert.equal(h.policyRequests[0]!.lane, 'escalation');
      assert.equal(h.policyRequests[0]!.destination, 'frontier');
      assert.equal(taskRecords(h.ledger)[0]!.outcome, 'blocked');
    });

    it('an invalid redaction pattern from the policy fails closed', async () => {
      const h = harness(['send'], { ...ALLOW, redactor: { customPatterns: [{ name: 'bad', regex: '(' }] } });
      const result = await runEscalation(input(endpoint, 'const x = 1;'), h.deps);
      assert.equal(result.outcome, 'blocked');
      assert.equal(server.requests.length, 0);
    });

    const failures = [
      { name: '401', behaviour: { kind: 'status', status: 401 } as const, kind: 'auth', message: /Set API Key/ },
      { name: '429', behaviour: { kind: 'status', status: 429, headers: { 'retry-after': '30' } } as const, kind: 'rate-limit', message: /retry after 30 s/i },
      { name: 'a dropped stream', behaviour: { kind: 'drop', afterChars: 40 } as const, kind: 'dropped', message: /lost after 40 characters/ },
      { name: 'a timeout', behaviour: { kind: 'stall', afterChars: 25 } as const, kind: 'timeout', message: /Timed out/ },
    ];
    for (const f of failures) {
      it(`${f.name}: a clear message, the partial answer kept, an error record`, async () => {
        server.behaviour = f.behaviour;
        const h = harness(['send'], ALLOW, { clientOptions: { idleTimeoutMs: 400 } });
        const text = 'const token = "ghp_' + 'aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3hJ5' + '";\nexport const f = () => token;\n';
        const result = await runEscalation(input(endpoint, text), h.deps);
        assert.equal(result.outcome, 'error');
        const r = result as Extract<typeof result, { outcome: 'error' }>;
        assert.equal(r.error.kind, f.kind);
        assert.match(r.error.message, f.message);
        const last = h.updates.at(-1)!;
        assert.equal(last.done, true);
        assert.equal(last.incomplete, r.error.message);
        if (f.behaviour.kind === 'drop' || f.behaviour.kind === 'stall') {
          assert.equal(r.partialAnswer.length > 0, true, 'the partial answer was lost');
          assert.equal(last.text, r.partialAnswer);
        }
        const [rec] = taskRecords(h.ledger);
        assert.equal(rec!.outcome, 'error');
        assert.ok((rec!.redactions ?? {})['github-pat'] === 1, JSON.stringify(rec!.redactions));
        assert.equal(server.requests.length, 1);
        assert.ok(!server.requests[0]!.body.toString('utf8').includes('ghp_aB3d'), 'the token went out');
      });
    }

    it('session consent: asked once per endpoint when the policy allows it', async () => {
      const consent = new Set<string>();
      const decision: PolicyDecision = { ...ALLOW, requireConsent: 'session' };
      const h1 = harness(['send'], decision, { sessionConsent: consent });
      assert.equal((await runEscalation(input(endpoint, 'let a = 1;'), h1.deps)).outcome, 'accepted');
      const h2 = harness([], decision, { sessionConsent: consent });
      assert.equal((await runEscalation(input(endpoint, 'let b = 2;'), h2.deps)).outcome, 'accepted');
      assert.equal(h2.warnings.length, 0);
      const h3 = harness([], ALLOW, { sessionConsent: consent });
      assert.equal((await runEscalation(input(endpoint, 'let c = 3;'), h3.deps)).outcome, 'cancelled', 'requireConsent: true must always ask');
    });
  });
}
