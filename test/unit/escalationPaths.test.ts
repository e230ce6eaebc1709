/**
 * Issue #22: the policy judges files for what they are (real paths: symbolic links and `..` followed, outside the
 * workspace = regulated), plain http only for this machine unless the user allows it, and the review page and
 * answer banner say exactly what is sent.
 */
import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { combinePolicies, decide, DEFAULT_USER_POLICY, parsePolicyText, type DecisionRequest, type EndpointConfig, type UserPolicy } from '../../src/common/policy';
import { blockedByOf } from '../../src/common/policy/decide';
import { endpointAddress, isLoopbackHost } from '../../src/common/policy/endpointAddress';
import { normalizePath } from '../../src/common/policy/glob';
import { answerBanner, describeDestination, type EscalationWarning } from '../../src/node/cloud/escalationFlow';
import { resolveFileRef } from '../../src/node/policy/resolveFileRef';
import { highlightPlaceholders, reviewHtml } from '../../src/vscode/escalation/reviewHtml';
import { reviewToHostSchema } from '../../src/common/protocol/reviewProtocol';

const frontier: EndpointConfig = { id: 'gpt', destination: 'frontier', provider: 'openai', baseUrl: 'https://api.openai.com/v1', model: 'gpt-4o', priceInPerMTok: 2.5, priceOutPerMTok: 10 };
const user: UserPolicy = { ...DEFAULT_USER_POLICY, escalationEnabled: true, endpoints: [frontier] };
const request: DecisionRequest = { lane: 'escalation', destination: 'frontier', endpointId: 'gpt', files: ['src/app.ts'], workspaceTrusted: true, estimatedCostUsd: 0.01, spentThisMonthUsd: 0 };

function repo(text: string) {
  const parsed = parsePolicyText(text);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.policy;
}

describe('policy on real paths', () => {
  let dir: string;
  let ws: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'hearth-paths-'));
    ws = join(dir, 'ws');
    mkdirSync(join(ws, 'src'), { recursive: true });
    mkdirSync(join(ws, 'db'), { recursive: true });
    writeFileSync(join(ws, '.env.production'), 'API_SECRET=x\n');
    writeFileSync(join(ws, 'src', 'app.ts'), 'export {};\n');
    writeFileSync(join(ws, 'db', 'schema.sql'), 'create table t();\n');
    writeFileSync(join(dir, 'outside.ts'), 'export const outside = 1;\n');
    symlinkSync('../.env.production', join(ws, 'src', 'settings.txt'));
    symlinkSync('../db/schema.sql', join(ws, 'src', 'schema.txt'));
    symlinkSync('../../outside.ts', join(ws, 'src', 'linked-outside.ts'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('resolves a link to its real path, relative to the workspace when inside it', async () => {
    assert.deepEqual(await resolveFileRef(ws, join(ws, 'src', 'settings.txt')), { path: 'src/settings.txt', real: { path: '.env.production', outside: false } });
    assert.deepEqual(await resolveFileRef(ws, join(ws, 'src', 'app.ts')), { path: 'src/app.ts', real: { path: 'src/app.ts', outside: false } });
    const out = await resolveFileRef(ws, join(ws, 'src', 'linked-outside.ts'));
    assert.equal(out.path, 'src/linked-outside.ts');
    assert.equal(out.real?.outside, true);
    assert.match(out.real!.path, /outside\.ts$/);
    // `..` in the name as given is resolved too.
    assert.deepEqual(await resolveFileRef(ws, `${ws}/src/../.env.production`), { path: '.env.production', real: { path: '.env.production', outside: false } });
    // A file opened from outside every folder.
    const loose = await resolveFileRef(undefined, join(dir, 'outside.ts'));
    assert.equal(loose.real?.outside, true);
  });

  it('a link to a neverSend file is refused, and the reason names both paths', async () => {
    const policy = combinePolicies(user, undefined);
    const d = decide(policy, { ...request, files: [await resolveFileRef(ws, join(ws, 'src', 'settings.txt'))] });
    assert.equal(d.allowed, false);
    assert.equal(d.rule, 'neverSend');
    assert.equal(d.blockedBy, 'neverSend');
    assert.match(d.reason, /^src\/settings\.txt leads to \.env\.production, which matches neverSend pattern "\*\*\/\.env\.\*" in your settings/);
    // The name alone would have passed: the real path is what blocks it.
    assert.equal(decide(policy, { ...request, files: ['src/settings.txt'] }).allowed, true);
  });

  it('data classes are judged on the real path too; the stricter class wins', async () => {
    const policy = combinePolicies(user, repo('{ "version": 1, "dataClasses": { "rules": [{ "match": "**/*.sql", "class": "regulated" }] } }'));
    const d = decide(policy, { ...request, files: [await resolveFileRef(ws, join(ws, 'src', 'schema.txt'))] });
    assert.equal(d.allowed, false);
    assert.equal(d.rule, 'lane');
    assert.deepEqual(d.dataClasses, ['regulated']);
    assert.match(d.reason, /src\/schema\.txt is regulated \(dataClasses rule "\*\*\/\*\.sql" in \.hearth\/policy\.jsonc, matched by its real path db\/schema\.sql\)/);
  });

  it('a file whose real path is outside the workspace is regulated unless a rule says otherwise', async () => {
    const policy = combinePolicies(user, undefined);
    const ref = await resolveFileRef(ws, join(ws, 'src', 'linked-outside.ts'));
    const d = decide(policy, { ...request, files: [ref] });
    assert.equal(d.allowed, false);
    assert.deepEqual(d.dataClasses, ['regulated']);
    assert.match(d.reason, /outside the workspace, and Hearth treats a file outside the workspace as regulated/);
    // A rule matching the absolute real path decides instead.
    const ruled = combinePolicies(user, repo(`{ "version": 1, "dataClasses": { "rules": [{ "match": "**/outside.ts", "class": "public" }] } }`));
    assert.equal(decide(ruled, { ...request, files: [ref] }).allowed, true);
    // A workspace path that climbs out with `..` counts as outside too.
    assert.deepEqual(decide(policy, { ...request, files: ['src/../../x.ts'] }).dataClasses, ['regulated']);
  });

  it('`..` is resolved before matching, and matching ignores case', () => {
    assert.equal(normalizePath('src/../.env'), '.env');
    assert.equal(normalizePath('./a//b/./c'), 'a/b/c');
    assert.equal(normalizePath('../x'), '../x');
    const policy = combinePolicies(user, undefined);
    assert.equal(decide(policy, { ...request, files: ['src/../.env'] }).rule, 'neverSend');
    assert.equal(decide(policy, { ...request, files: ['Config/.ENV.Production'] }).rule, 'neverSend');
  });

  it('an untitled buffer or a conversation (no file) has the policy\'s default class', () => {
    const strict = combinePolicies(user, repo('{ "version": 1, "dataClasses": { "default": "sensitive" } }'));
    const d = decide(strict, { ...request, files: [] });
    assert.deepEqual(d.dataClasses, ['sensitive']);
    assert.equal(d.rule, 'lane');
  });

  it('every deny names its family for the ledger', () => {
    const cases: [string, string][] = [['workspaceTrust', 'untrusted'], ['invalidPolicy', 'invalidPolicy'], ['escalationDisabled', 'destination'], ['destination', 'destination'], ['endpoint', 'destination'], ['insecureHttp', 'destination'], ['neverSend', 'neverSend'], ['lane', 'lane'], ['budgetPerTask', 'budget'], ['budgetPerMonth', 'budget'], ['redaction', 'invalidPolicy'], ['consent', 'consent']];
    for (const [rule, family] of cases) assert.equal(blockedByOf(rule), family, rule);
    const policy = combinePolicies(user, undefined);
    assert.equal(decide(policy, { ...request, workspaceTrusted: false }).blockedBy, 'untrusted');
    assert.equal(decide(policy, { ...request, estimatedCostUsd: 5 }).blockedBy, 'budget');
    assert.equal(decide(policy, request).blockedBy, undefined);
  });
});

describe('honest destinations', () => {
  const http = (host: string): EndpointConfig => ({ ...frontier, id: 'plain', baseUrl: `http://${host}/v1` });

  it('knows which addresses are this machine', () => {
    for (const h of ['127.0.0.1', '127.8.9.10', 'localhost', 'api.localhost', '[::1]', '::1']) assert.ok(isLoopbackHost(h), h);
    for (const h of ['10.0.0.1', 'gpu.internal', '127.0.0.1.nip.io', 'localhost.example.com', '0.0.0.0']) assert.ok(!isLoopbackHost(h), h);
    assert.deepEqual(endpointAddress('http://127.0.0.1:8080/v1'), { host: '127.0.0.1:8080', scheme: 'http', loopback: true, encrypted: false });
    assert.deepEqual(endpointAddress('http://[::1]:9/v1'), { host: '[::1]:9', scheme: 'http', loopback: true, encrypted: false });
  });

  it('plain http is allowed for this machine, refused elsewhere unless the user allows it', () => {
    for (const [host, allowed] of [['127.0.0.1:8080', true], ['localhost:11434', true], ['gpu.internal:8000', false], ['10.1.2.3', false]] as const) {
      const ep = http(host);
      const d = decide(combinePolicies({ ...user, endpoints: [ep] }, undefined), { ...request, endpointId: ep.id });
      assert.equal(d.allowed, allowed, host);
      if (!allowed) {
        assert.equal(d.rule, 'insecureHttp');
        assert.equal(d.blockedBy, 'destination');
        assert.match(d.reason, /plain http:\/\/.*unencrypted.*"hearth\.escalation\.allowInsecureHttp": true/);
      }
      const opted = decide(combinePolicies({ ...user, endpoints: [ep], allowInsecureHttp: true }, undefined), { ...request, endpointId: ep.id });
      assert.equal(opted.allowed, true, `${host} with allowInsecureHttp`);
    }
  });

  it('a repo cannot allow insecure http (it is a user setting only)', () => {
    // The repo schema has no such key: the file is invalid, and an invalid policy blocks everything.
    const parsed = parsePolicyText('{ "version": 1, "allowInsecureHttp": true }');
    assert.equal(parsed.ok, false);
  });

  it('the warning says what the endpoint is, and never "cloud" for this machine', () => {
    const local = describeDestination({ ...frontier, id: 'capture', baseUrl: 'http://127.0.0.1:5555/v1' });
    assert.equal(local.title, 'Send this code to endpoint "capture" at 127.0.0.1:5555 (frontier, a server on this machine)?');
    assert.doesNotMatch(local.title + local.line, /cloud/i);
    assert.ok(local.loopback && local.insecure);
    const remote = describeDestination(frontier);
    assert.equal(remote.title, 'Send this code to endpoint "gpt" at api.openai.com (frontier, a frontier model)?');
    const team = describeDestination({ ...frontier, id: 'team', destination: 'team', baseUrl: 'http://gpu.internal:8000/v1' });
    assert.match(team.line, /configured as team .* \(your team's server, plain http: unencrypted over the network\)/);
  });
});

describe('review page and answer banner', () => {
  const warning = {
    endpoint: frontier, host: 'api.openai.com', loopback: false, insecure: false, dataClasses: ['internal'], redactions: { 'github-pat': 1 }, redactionTotal: 1,
    estimatedTokensIn: 10, maxTokensOut: 2048, estimatedCostUsd: 0.01,
    body: '{"model":"gpt-4o","messages":[{"role":"user","content":"why </script><b>?\\n[REDACTED:github-pat#1]"}]}',
    bodyBytes: 97, bodySha256: 'ab'.repeat(32),
    parts: [{ label: 'System prompt', text: 'Be careful.' }, { label: 'Your question', text: 'why </script><b>?' }, { label: 'File', text: '\n[REDACTED:github-pat#1]' }],
    placeholders: [{ placeholder: '[REDACTED:github-pat#1]', category: 'github-pat' }],
    message: 'Send this code to endpoint "gpt" at api.openai.com (frontier, a frontier model)?', detail: 'line one\nline two',
  } satisfies EscalationWarning;

  it('strict CSP, one nonce-tagged script, Cancel focused first, everything escaped, placeholders marked', () => {
    const html = reviewHtml({ warning, cspSource: 'https://ext.vscode-cdn.net', nonce: 'N0nce', css: 'https://ext.vscode-cdn.net/media/review.css' });
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)![1]!.replace(/&#39;/g, "'");
    assert.equal(csp, "default-src 'none'; style-src https://ext.vscode-cdn.net; script-src 'nonce-N0nce';");
    const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
    assert.deepEqual(scripts, ['<script nonce="N0nce">']);
    // Cancel comes first and has the focus; Send is the secondary button.
    assert.ok(html.indexOf('id="cancel"') < html.indexOf('id="send"'));
    assert.match(html, /<button id="cancel" class="primary-cancel" autofocus>Cancel<\/button>/);
    assert.match(html, /Enter or Escape cancels/);
    assert.ok(!html.includes('</script><b>'), 'question text reached the page unescaped');
    assert.ok(html.includes('why &lt;/script&gt;&lt;b&gt;?'));
    assert.ok(html.includes('<mark class="ph" title="redacted github-pat value">[REDACTED:github-pat#1]</mark>'));
    assert.ok(html.includes(`data-sha256="${'ab'.repeat(32)}"`));
    // The raw bytes view holds the body exactly (escaped for HTML only).
    assert.ok(html.includes('<pre id="raw" class="raw">{&quot;model&quot;:&quot;gpt-4o&quot;'));
    assert.equal(highlightPlaceholders('a [REDACTED:email#2] b <'), 'a <mark class="ph" title="redacted email value">[REDACTED:email#2]</mark> b &lt;');
  });

  it('only send and cancel come back from the page', () => {
    assert.ok(reviewToHostSchema.safeParse({ type: 'send' }).success);
    assert.ok(reviewToHostSchema.safeParse({ type: 'cancel' }).success);
    assert.equal(reviewToHostSchema.safeParse({ type: 'send', body: 'other bytes' }).success, true, 'extra keys are dropped, never used');
    assert.equal(reviewToHostSchema.safeParse({ type: 'run' }).success, false);
  });

  it('the banner says what was redacted and never that everything stayed on the machine', () => {
    const b = answerBanner(frontier, { 'github-pat': 1, email: 2 });
    assert.match(b, /3 values were redacted before sending \(email ×2, github-pat ×1\) and are restored here locally\. Everything else was sent as shown in the review/);
    assert.doesNotMatch(b, /never left this machine/);
    assert.match(answerBanner(frontier, {}), /Nothing was redacted: the question and code were sent exactly as shown in the review/);
  });
});
