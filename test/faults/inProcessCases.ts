/**
 * The fault suite's cases that drive the extension's entry points from node (no editor needed): the policy file
 * parser, user settings, the redactor's options, provider clients against local servers that fail in each way a
 * real one does, and ledger appends that fail. Plus property tests (fast-check) for the policy parser, the ledger
 * reader and the redactor. Each case returns the message a user would see (checked for a stack trace), or throws.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ChainVerifier } from '../../src/common/ledger/hashChain';
import { parseLedgerLine } from '../../src/common/ledger/ledgerRecord';
import { sampleEntries } from '../../src/common/ledger/sampleEntries';
import { combinePolicies, decide, DEFAULT_USER_POLICY, parsePolicyText, parseUserPolicy } from '../../src/common/policy';
import { BUILTIN_CATEGORIES, createRedactor, RedactionConfigError, RedactionSession } from '../../src/common/redaction';
import { CloudError } from '../../src/node/cloud/cloudError';
import type { EndpointConfig } from '../../src/node/cloud/cloudTypes';
import { createProviderClient } from '../../src/node/cloud/providerClient';
import { FileLedgerWriter } from '../../src/node/ledger/fileLedgerWriter';
import { sha256Hex } from '../../src/node/ledger/sha256';
import { startFakeProvider, type FakeBehaviour } from '../fixtures/cloud/fakeProviders';

export interface InProcessCase {
  name: string;
  /** Returns the user-facing message(s) produced, for the stack-trace check; throws when the case fails. */
  run(): Promise<string | void>;
}

function redactorCases(): InProcessCase[] {
  const cases: InProcessCase[] = [];
  const secrets = Object.entries(BUILTIN_CATEGORIES).filter(([, i]) => i.kind === 'secret').map(([c]) => c);
  for (const c of [...secrets, 'secrets', 'SECRETS', 'Password']) {
    cases.push({
      name: `redactor: disabling the secret category "${c}" is refused`,
      async run() {
        let err: unknown;
        try {
          createRedactor({ disabledCategories: ['email', c] });
        } catch (e) {
          err = e;
        }
        assert.ok(err instanceof RedactionConfigError, `createRedactor accepted disabling ${c}`);
        assert.match(err.message, new RegExp(`"${c}" is a secret category: secrets are always redacted`));
        return err.message;
      },
    });
  }
  for (const c of ['emial', 'personal', 'phone']) {
    cases.push({
      name: `redactor: unknown category "${c}" is an error listing the valid ones`,
      async run() {
        assert.throws(() => createRedactor({ disabledCategories: [c] }), (e: unknown) => e instanceof RedactionConfigError && /unknown redaction category/.test(e.message) && /email, phone-number/.test(e.message));
        return `unknown redaction category "${c}"`;
      },
    });
  }
  cases.push({
    name: 'settings: hearth.redaction.disabledCategories with secret and unknown names → problems, only pii kept',
    async run() {
      const { policy, problems } = parseUserPolicy({ disabledCategories: ['email', 'password', 'secrets', 'nonsense'] });
      assert.deepEqual(policy.disabledCategories, ['email']);
      assert.equal(problems.length, 3);
      createRedactor({ disabledCategories: policy.disabledCategories }); // what remains is accepted
      return problems.join('\n');
    },
  });
  cases.push({
    name: 'repo policy: redaction.disabledCategories is refused (a repo cannot weaken redaction)',
    async run() {
      const parsed = parsePolicyText('{ "version": 1, "redaction": { "disabledCategories": ["secrets", "email"] } }');
      if (!parsed.ok) return parsed.error.message; // refused at parse time is fine too
      const eff = combinePolicies(DEFAULT_USER_POLICY, parsed.policy);
      assert.equal(eff.redactor.disabledCategories, undefined);
      assert.ok(eff.refusals.length > 0);
      return eff.refusals.map((r) => r.message).join('\n');
    },
  });
  return cases;
}

const BAD_POLICIES: [string, string][] = [
  ['unclosed object', '{ "version": 1, '],
  ['an array', '[]'],
  ['a wrong version', '{ "version": 2 }'],
  ['trailing garbage', '{ "version": 1 } xyz'],
  ['a wrong type', '{ "version": 1, "escalation": "yes" }'],
  ['an unknown key', '{ "version": 1, "escalaton": {} }'],
  ['an empty file', ''],
  ['a number', '42'],
  ['a bad glob in neverSend', '{ "version": 1, "neverSend": ["[a-"] }'],
  ['a custom pattern that matches everything', '{ "version": 1, "redaction": { "customPatterns": [{ "name": "x", "regex": ".*" }] } }'],
  ['deep nesting', '{ "version": 1, "x": ' + '['.repeat(2000) + ']'.repeat(2000) + ' }'],
  ['a byte-order mark and comments', '\ufeff// team policy\n{ "version": 1 /* ok */ }'],
];

/** Policy blocks that held in the UI run (#20 item 9): they must keep sending nothing. */
function policyBlockCases(): InProcessCase[] {
  const { policy: user } = parseUserPolicy({
    escalationEnabled: true,
    allowedDestinations: ['team', 'frontier'],
    endpoints: [{ id: 'cloud', destination: 'frontier', provider: 'openai', baseUrl: 'https://api.example.invalid/v1', model: 'm' }],
  });
  const request = (files: string[]) => ({ lane: 'escalation' as const, destination: 'frontier' as const, endpointId: 'cloud', files, workspaceTrusted: true, estimatedCostUsd: 0.01, spentThisMonthUsd: 0 });
  const block = (name: string, policyText: string | undefined, files: string[], rule: RegExp): InProcessCase => ({
    name: `policy block: ${name} → nothing is sent`,
    async run() {
      const parsed = policyText === undefined ? undefined : parsePolicyText(policyText, '.hearth/policy.jsonc');
      const repo = parsed === undefined ? undefined : parsed.ok ? parsed.policy : { error: parsed.error };
      const d = decide(combinePolicies(user, repo), request(files));
      assert.equal(d.allowed, false, `allowed: ${d.reason}`);
      assert.match(`${d.rule ?? ''} ${d.reason}`, rule);
      return d.reason;
    },
  });
  return [
    block('a policy that forbids the frontier', '{ "version": 1, "destinations": ["local"] }', ['src/a.ts'], /destination|lane|frontier/i),
    block('a broken policy file', '{ "version": 1, ', ['src/a.ts'], /invalid|policy\.jsonc/i),
    block('a mistyped policy (a wrong type)', '{ "version": 1, "escalation": { "enabled": "no" } }', ['src/a.ts'], /invalid|policy\.jsonc/i),
    block('a neverSend file (.env)', undefined, ['.env'], /neverSend|\.env/),
    block('a neverSend file from the repo policy', '{ "version": 1, "neverSend": ["src/keys/**"] }', ['src/keys/prod.ts'], /neverSend/),
    {
      name: 'policy block: the same request without the blocked file is allowed (the blocks are not blanket refusals)',
      async run() {
        const d = decide(combinePolicies(user, undefined), request(['src/a.ts']));
        assert.equal(d.allowed, true, d.reason);
      },
    },
  ];
}

function policyCases(): InProcessCase[] {
  return BAD_POLICIES.map(([name, text]) => ({
    name: `policy file: ${name} → a message naming the file and line, never a throw`,
    async run() {
      const r = parsePolicyText(text, '.hearth/policy.jsonc');
      if (r.ok) {
        // Valid after all (comments and a BOM are allowed): combining must not throw either.
        combinePolicies(DEFAULT_USER_POLICY, r.policy);
        return 'ok';
      }
      assert.match(r.error.message, /\.hearth\/policy\.jsonc/);
      // A broken policy blocks escalation: nothing may be sent under it.
      const eff = combinePolicies(DEFAULT_USER_POLICY, { error: r.error });
      assert.equal(eff.repo.status, 'invalid', 'a broken policy was not marked invalid (it must block sending)');
      return r.error.message;
    },
  }));
}

/** A server that answers 200 with a malformed event stream. */
async function malformedSseServer(kind: 'garbage' | 'truncated-json' | 'no-done'): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (kind === 'garbage') res.end('data: {not json at all\n\ndata: ]]]\n\n');
      else if (kind === 'truncated-json') res.end('data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"hel');
      else res.end('data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"hello"}}]}\n\n');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1`, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

function providerCases(): InProcessCase[] {
  const cases: InProcessCase[] = [];
  const request = { system: 'be brief', messages: [{ role: 'user' as const, content: 'hi' }], maxTokens: 50 };
  const behaviours: [string, FakeBehaviour, RegExp, string][] = [
    ['401', { kind: 'status', status: 401, message: 'invalid key' }, /API key/i, 'auth'],
    ['403', { kind: 'status', status: 403, message: 'forbidden' }, /key|access|403/i, 'auth'],
    ['429', { kind: 'status', status: 429, headers: { 'retry-after': '7' }, message: 'slow down' }, /rate|limit|429|wait/i, 'rate-limit'],
    ['500', { kind: 'status', status: 500, message: 'boom' }, /500|server/i, 'server'],
    ['connection reset mid-stream', { kind: 'drop', afterChars: 20 }, /dropped|connection|ended|lost/i, 'dropped'],
    ['a server that never answers', { kind: 'hang' }, /no answer|timed out|within|seconds|s\b/i, 'timeout'],
    ['a stream that stalls', { kind: 'stall', afterChars: 10 }, /silent|timed out|stopped|seconds/i, 'timeout'],
  ];
  for (const protocol of ['openai', 'anthropic'] as const) {
    for (const [name, behaviour, msg, kind] of behaviours) {
      cases.push({
        name: `provider ${protocol}: ${name} → a CloudError (${kind}) the user can act on`,
        async run() {
          const server = await startFakeProvider(protocol);
          try {
            server.behaviour = behaviour;
            const endpoint: EndpointConfig = { id: `fault-${protocol}`, destination: 'frontier', provider: protocol, baseUrl: server.baseUrl, model: 'm', priceInPerMTok: 1, priceOutPerMTok: 1 };
            // Short timeouts only where the case is about a timeout; elsewhere a loaded machine must not turn into one.
            const quick = behaviour.kind === 'hang' || behaviour.kind === 'stall';
            const client = createProviderClient(endpoint, { apiKey: 'k', connectTimeoutMs: quick ? 800 : 20_000, idleTimeoutMs: quick ? 800 : 20_000, totalTimeoutMs: quick ? 5000 : 30_000 });
            const err = await client.stream(client.requestBody(request)).then(() => undefined, (e: unknown) => e);
            assert.ok(err instanceof CloudError, `expected a CloudError, got ${String(err)}`);
            assert.equal(err.kind, kind);
            assert.match(err.message, msg);
            return err.message;
          } finally {
            await server.close();
          }
        },
      });
    }
  }
  for (const kind of ['garbage', 'truncated-json', 'no-done'] as const) {
    cases.push({
      name: `provider openai: malformed event stream (${kind}) → a CloudError, never a crash`,
      async run() {
        const s = await malformedSseServer(kind);
        try {
          const endpoint: EndpointConfig = { id: 'fault-sse', destination: 'frontier', provider: 'openai', baseUrl: s.url, model: 'm' } as EndpointConfig;
          const client = createProviderClient(endpoint, { apiKey: 'k', connectTimeoutMs: 2000, idleTimeoutMs: 2000, totalTimeoutMs: 5000 });
          const r = await client.stream(client.requestBody(request)).then((v) => v, (e: unknown) => e);
          assert.ok(r instanceof CloudError, `expected a CloudError for a malformed stream, got ${r instanceof Error ? r.message : JSON.stringify(r)}`);
          return r.message;
        } finally {
          await s.close();
        }
      },
    });
  }
  return cases;
}

function ledgerAppendCases(): InProcessCase[] {
  const withDir = async (fn: (dir: string) => Promise<string>) => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-fault-ledger-'));
    try {
      return await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  return [
    {
      name: 'ledger append: the ledger folder is a file → flush rejects naming the path, records stay queued',
      run: () => withDir(async (dir) => {
        writeFileSync(join(dir, 'blocker'), 'x');
        const w = new FileLedgerWriter({ path: join(dir, 'blocker', 'ledger.jsonl'), anchorDir: join(dir, 'anchors') });
        w.append([...sampleEntries(1)][0]!);
        const err = await w.flush().then(() => undefined, (e: unknown) => e as Error);
        assert.ok(err, 'flush succeeded although nothing could be written');
        assert.match(err.message, /blocker/);
        assert.equal(w.pending, 1, 'the record was dropped instead of kept for a retry');
        return err.message;
      }),
    },
    {
      name: 'ledger append: a ledger written by a newer Hearth → refused, file unchanged',
      run: () => withDir(async (dir) => {
        const p = join(dir, 'ledger.jsonl');
        const line = JSON.stringify({ schemaVersion: 999, id: 'x', seq: 0, time: '2026-01-01T00:00:00Z', prevHash: '0'.repeat(64), kind: 'task' }) + '\n';
        writeFileSync(p, line);
        const w = new FileLedgerWriter({ path: p, anchorDir: join(dir, 'anchors') });
        w.append([...sampleEntries(1)][0]!);
        const err = await w.flush().then(() => undefined, (e: unknown) => e as Error);
        assert.ok(err, 'appended to a newer ledger');
        assert.equal(readFileSync(p, 'utf8'), line);
        return err.message;
      }),
    },
    {
      name: 'ledger append: the anchor folder cannot be written → records still written, a warning',
      run: () => withDir(async (dir) => {
        writeFileSync(join(dir, 'anchors'), 'a file where the anchor folder should be');
        const warnings: string[] = [];
        const logger = { trace() {}, debug() {}, info() {}, warn: (m: string | Error) => warnings.push(String(m)), error: (m: string | Error) => warnings.push(String(m)) };
        const w = new FileLedgerWriter({ path: join(dir, 'ledger.jsonl'), anchorDir: join(dir, 'anchors'), logger });
        for (const e of sampleEntries(3)) w.append(e);
        await w.close();
        assert.equal(readFileSync(join(dir, 'ledger.jsonl'), 'utf8').trim().split('\n').length, 3);
        assert.ok(warnings.some((m) => /could not anchor/.test(m)), 'no warning about the anchor');
        return warnings.join('\n');
      }),
    },
  ];
}

/** A GitHub token body that looks random (a run of one letter is a fixture the redactor rightly leaves alone). */
const GH_BODY = 'k7Qm2XvR9pLs4TnW8yZc3BdF6hJq1MgN5eVa';

function propertyCases(): InProcessCase[] {
  const redactor = createRedactor();
  const secretish = fc.oneof(
    fc.string(),
    fc.constantFrom('password = "hunter2hunter2"', 'AKIAQ3EGT7DLPXRWJ5VN', 'ghp_' + GH_BODY, 'jane.doe@acme-corp.io', '10.1.2.3', 'API_SECRET="s3cr3tV4lu3xyz"', '[REDACTED:password#1]'),
  );
  const text = fc.array(secretish, { maxLength: 8 }).map((parts) => parts.join('\n'));
  return [
    {
      name: 'property: the policy parser never throws, on any text',
      async run() {
        fc.assert(fc.property(fc.oneof(fc.string(), fc.json()), (t) => { parsePolicyText(t); }), { numRuns: 300 });
      },
    },
    {
      name: 'property: the ledger line parser and chain verifier never throw, on any lines',
      async run() {
        fc.assert(fc.property(fc.array(fc.oneof(fc.string(), fc.json()), { maxLength: 20 }), (ls) => {
          const v = new ChainVerifier(sha256Hex);
          ls.forEach((l, i) => { parseLedgerLine(l, { file: 'f', line: i + 1 }); v.push(l, { file: 'f', line: i + 1 }, i < ls.length - 1); });
          v.result();
        }), { numRuns: 300 });
      },
    },
    {
      name: 'property: the redactor never throws and redacting twice changes nothing',
      async run() {
        fc.assert(fc.property(text, (t) => {
          const once = redactor.redact(t).text;
          assert.equal(redactor.redact(once).text, once);
        }), { numRuns: 200 });
      },
    },
    {
      name: 'property: placeholders are stable (one value, one placeholder, in every text of a session)',
      async run() {
        fc.assert(fc.property(text, text, (a, b) => {
          const session = new RedactionSession();
          const ra = redactor.redact(a + '\nAKIAQ3EGT7DLPXRWJ5VN', { session });
          const rb = redactor.redact('AKIAQ3EGT7DLPXRWJ5VN\n' + b, { session });
          const pa = ra.findings.find((f) => f.category === 'aws-access-key-id')?.placeholder;
          const pb = rb.findings.find((f) => f.category === 'aws-access-key-id')?.placeholder;
          assert.ok(pa && pa === pb, `placeholders differ: ${pa} vs ${pb}`);
        }), { numRuns: 100 });
      },
    },
    {
      name: 'property: no planted secret survives redaction',
      async run() {
        fc.assert(fc.property(text, (t) => {
          const out = redactor.redact(t).text;
          for (const s of ['hunter2hunter2', 'AKIAQ3EGT7DLPXRWJ5VN', GH_BODY, 'jane.doe@acme-corp.io']) if (t.includes(s)) assert.ok(!out.includes(s), `${s} survived`);
        }), { numRuns: 200 });
      },
    },
  ];
}

export function inProcessCases(): InProcessCase[] {
  return [...redactorCases(), ...policyCases(), ...policyBlockCases(), ...providerCases(), ...ledgerAppendCases(), ...propertyCases()];
}
