import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  combinePolicies,
  compileGlob,
  decide,
  DEFAULT_USER_POLICY,
  describePolicy,
  globMatches,
  parsePolicyText,
  parseUserPolicy,
  policyJsonSchema,
  type DecisionRequest,
  type EffectivePolicy,
  type EndpointConfig,
  type RepoPolicy,
  type UserPolicy,
} from '../../src/common/policy';
import { createRedactor } from '../../src/common/redaction';

const root = resolve(__dirname, '../../..');
const frontier: EndpointConfig = { id: 'gpt', destination: 'frontier', provider: 'openai', baseUrl: 'https://api.openai.com/v1', model: 'gpt-4o', priceInPerMTok: 2.5, priceOutPerMTok: 10 };
const team: EndpointConfig = { id: 'vllm', destination: 'team', provider: 'openai', baseUrl: 'https://gpu.internal:8000/v1', model: 'qwen' };
const user: UserPolicy = { ...DEFAULT_USER_POLICY, escalationEnabled: true, endpoints: [frontier, team] };

function repo(text: string): RepoPolicy {
  const parsed = parsePolicyText(text);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.policy;
}

const request: DecisionRequest = {
  lane: 'escalation',
  destination: 'frontier',
  endpointId: 'gpt',
  files: ['src/app.ts'],
  workspaceTrusted: true,
  estimatedCostUsd: 0.01,
  spentThisMonthUsd: 0,
};

const sample = `// the team's policy
{
  "version": 1,
  "dataClasses": {
    "default": "internal",
    "rules": [
      { "match": "docs/**", "class": "public" },
      { "match": ["src/billing/**", "**/*.sql"], "class": "regulated" },
      { "match": "src/auth/**", "class": "sensitive" }, // trailing comma next
    ],
  },
  "destinations": ["local", "team", "frontier"],
  "lanes": { "escalation": { "internal": ["team", "frontier"], "sensitive": ["team"] } },
  "neverSend": ["**/secrets/**", "config/prod.*"],
  "redaction": { "customPatterns": [{ "name": "ticket", "regex": "TKT-\\\\d{6}", "category": "ticket-id" }] },
  "consent": "session",
  "budgets": { "perTaskUsd": 0.5, "perMonthUsd": 100 },
  "ledger": { "includeText": false },
}`;

describe('policy: globs', () => {
  const cases: [string, string, boolean][] = [
    ['**/secrets/**', 'src/secrets/keys.ts', true],
    ['**/secrets/**', 'secrets/a', true],
    ['**/secrets/**', 'src/secretsauce.ts', false],
    ['**/.env*', '.env', true],
    ['**/.env*', 'api/.env.production', true],
    ['*.pem', 'deep/dir/cert.pem', true],
    ['*.pem', 'cert.pem.txt', false],
    ['docs/**', 'docs/a/b.md', true],
    ['docs/**', 'src/docs/a.md', false],
    ['docs', 'src/docs/a.md', true],
    ['src/*.ts', 'src/a.ts', true],
    ['src/*.ts', 'src/x/a.ts', false],
    ['src/{a,b}/**', 'src/b/c.ts', true],
    ['file?.txt', 'file1.txt', true],
    ['[!a]*.txt', 'b.txt', true],
    ['[!a]*.txt', 'a.txt', false],
    ['config/prod.*', 'config/prod.yaml', true],
    ['**/SECRETS/**', 'x/secrets/y', true],
    ['src/.hidden/**', 'src/.hidden/a', true],
    ['**/*.key', 'C:\\repo\\certs\\server.key', true],
  ];
  for (const [glob, path, want] of cases) {
    it(`${glob} ${want ? 'matches' : 'does not match'} ${path}`, () => assert.equal(globMatches(glob, path), want));
  }
  it('rejects malformed patterns', () => {
    assert.throws(() => compileGlob('a{b'), /unclosed/);
    assert.throws(() => compileGlob('a[b'), /unclosed/);
    assert.throws(() => compileGlob(''), /empty/);
  });
});

describe('policy: schema and JSONC parsing', () => {
  it('parses a policy with comments and trailing commas', () => {
    const p = repo(sample);
    assert.equal(p.version, 1);
    assert.equal(p.dataClasses?.rules?.length, 3);
    assert.equal(p.consent, 'session');
  });

  it('accepts the minimal policy and the sample workspace policy', () => {
    assert.ok(parsePolicyText('{ "version": 1 }').ok);
    const text = readFileSync(resolve(root, 'sample-workspace/.hearth/policy.jsonc'), 'utf8');
    const parsed = parsePolicyText(text);
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.error.message);
  });

  it('reports a syntax error with its line and column', () => {
    const text = '{\n  "version": 1\n  "neverSend": []\n}';
    const parsed = parsePolicyText(text);
    assert.ok(!parsed.ok);
    const p = parsed.error.problems[0]!;
    assert.equal(p.line, 3);
    assert.equal(p.column, 3);
    assert.equal(text.slice(p.offset, p.offset + p.length), '"neverSend"');
    assert.match(parsed.error.message, /line 3, column 3: JSON syntax error: comma expected/);
  });

  it('points each schema problem at the value or key it is about', () => {
    const text = '{\n  "version": 1,\n  "destinations": ["local", "moon"],\n  "neverSnd": [],\n  "lanes": { "chat": { "secret": ["local"] } },\n  "redaction": { "customPatterns": [{ "name": "x", "regex": "(" }] },\n  "neverSend": ["a{b"],\n  "ledger": { "path": "../../etc/passwd" }\n}';
    const parsed = parsePolicyText(text);
    assert.ok(!parsed.ok);
    const at = (p: { offset: number; length: number }) => text.slice(p.offset, p.offset + p.length);
    const byText = new Map(parsed.error.problems.map((p) => [at(p), p]));
    assert.match(byText.get('"moon"')!.message, /destinations\.1/);
    assert.match(byText.get('"neverSnd"')!.message, /unknown property "neverSnd"/);
    assert.match(byText.get('"secret"')!.message, /lanes\.chat: unknown property "secret"/);
    assert.match(byText.get('"("')!.message, /invalid regular expression/);
    assert.match(byText.get('"a{b"')!.message, /invalid glob/);
    assert.match(byText.get('"../../etc/passwd"')!.message, /inside the workspace/);
    assert.equal(byText.get('"moon"')!.line, 3);
  });

  it('reports a missing version at the object and an empty file', () => {
    const missing = parsePolicyText('{ "neverSend": [] }');
    assert.ok(!missing.ok);
    assert.match(missing.error.problems[0]!.message, /version is required/);
    const empty = parsePolicyText('  \n');
    assert.ok(!empty.ok);
    assert.match(empty.error.message, /empty/);
    const wrong = parsePolicyText('{ "version": 2 }');
    assert.ok(!wrong.ok);
    assert.equal(wrong.error.problems[0]!.offset, '{ "version": '.length);
  });

  it('the committed JSON Schema equals the one generated from the zod schema', () => {
    const committed = JSON.parse(readFileSync(resolve(root, 'schemas/policy.schema.json'), 'utf8'));
    assert.deepEqual(committed, JSON.parse(JSON.stringify(policyJsonSchema())), 'run npm run schema:policy');
    assert.equal(committed.allowTrailingCommas, true);
    assert.ok(committed.properties.neverSend.description.length > 0);
  });

  it('package.json contributes the schema for .hearth/policy.jsonc and declares limited untrusted support', () => {
    const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8'));
    assert.deepEqual(pkg.contributes.jsonValidation, [{ fileMatch: '**/.hearth/policy.jsonc', url: './schemas/policy.schema.json' }]);
    assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
    assert.ok(pkg.contributes.commands.some((c: { command: string }) => c.command === 'hearth.showEffectivePolicy'));
  });
});

describe('policy: user settings', () => {
  it('keeps valid values and drops what does not validate, saying why', () => {
    const { policy, problems } = parseUserPolicy({
      escalationEnabled: true,
      endpoints: [frontier, { id: 'bad', destination: 'moon' }, { ...frontier }],
      disabledCategories: ['email', 'github-pat', 'secrets', 'nonsense'],
      budgetPerTaskUsd: -1,
    });
    assert.equal(policy.escalationEnabled, true);
    assert.deepEqual(policy.endpoints.map((e) => e.id), ['gpt']);
    assert.deepEqual(policy.disabledCategories, ['email']);
    assert.equal(policy.budgetPerTaskUsd, DEFAULT_USER_POLICY.budgetPerTaskUsd);
    assert.equal(problems.length, 6, problems.join('\n'));
    assert.ok(problems.some((p) => /"github-pat" is a secret category/.test(p)));
    assert.ok(problems.some((p) => /endpoints\[1\]\.destination/.test(p)));
    assert.ok(problems.some((p) => /second endpoint with id "gpt"/.test(p)));
  });

  it('defaults to escalation off', () => {
    assert.equal(parseUserPolicy({}).policy.escalationEnabled, false);
    assert.equal(decide(combinePolicies(parseUserPolicy({}).policy, undefined), request).rule, 'escalationDisabled');
  });
});

describe('policy: combining user and repo (the strictest wins)', () => {
  it('a repo policy that tries to add an endpoint is refused', () => {
    const eff = combinePolicies(user, repo('{ "version": 1, "endpoints": [{ "id": "evil", "destination": "frontier", "provider": "openai", "baseUrl": "https://evil.example/v1", "model": "x" }] }'));
    assert.equal(eff.refused.length, 1);
    assert.match(eff.refused[0]!, /cannot add an endpoint \("evil"\)/);
    assert.deepEqual(eff.refusals[0]!.path, ['endpoints', 0]);
    assert.deepEqual(eff.endpoints, []);
    assert.equal(decide(eff, { ...request, endpointId: 'evil' }).allowed, false);
  });

  it('a repo policy that tries to enable escalation is refused', () => {
    const eff = combinePolicies({ ...user, escalationEnabled: false }, repo('{ "version": 1, "escalation": { "enabled": true } }'));
    assert.equal(eff.escalation.enabled, false);
    assert.match(eff.refused.join('\n'), /cannot turn on escalation/);
    const d = decide(eff, request);
    assert.equal(d.allowed, false);
    assert.match(d.reason, /hearth\.escalation\.enabled is false/);
  });

  it('a repo policy can turn escalation off', () => {
    const eff = combinePolicies(user, repo('{ "version": 1, "escalation": { "enabled": false } }'));
    assert.deepEqual(eff.refused, []);
    assert.match(decide(eff, request).reason, /turned off for this repo/);
  });

  it('a repo policy cannot weaken redaction; its custom patterns add detection', () => {
    const eff = combinePolicies(user, repo(sample.replace('"customPatterns"', '"disabledCategories": ["secrets", "email"], "customPatterns"')));
    assert.match(eff.refused.join('\n'), /cannot weaken redaction/);
    assert.equal(eff.redactor.disabledCategories, undefined);
    const r = createRedactor(eff.redactor).redact('see TKT-123456, mail jane.doe@acme-corp.com, key ghp_' + 'k7Qm2XvR9pLs4TnW8yZc3BdF6hJq1MgN5eVa');
    assert.deepEqual(Object.keys(r.countsByCategory).sort(), ['email', 'github-pat', 'ticket-id']);
  });

  it('only the user can opt out of personal-data categories', () => {
    const eff = combinePolicies({ ...user, disabledCategories: ['email'] }, undefined);
    assert.deepEqual(eff.redactor.disabledCategories, ['email']);
    const r = createRedactor(eff.redactor).redact('mail jane.doe@acme-corp.com');
    assert.deepEqual(r.findings, []);
  });

  it('a repo endpoint id narrows to the user\'s endpoints; an unknown id is refused', () => {
    const eff = combinePolicies(user, repo('{ "version": 1, "endpoints": ["vllm", "other"] }'));
    assert.deepEqual(eff.endpoints.map((e) => e.id), ['vllm']);
    assert.match(eff.refused.join('\n'), /"other" is not one of your endpoints/);
    assert.match(decide(eff, request).reason, /not in endpoints in \.hearth\/policy\.jsonc/);
  });

  it('destinations are the intersection; the repo cannot add one', () => {
    const eff = combinePolicies({ ...user, allowedDestinations: ['team'] }, repo('{ "version": 1, "destinations": ["local", "frontier"] }'));
    assert.deepEqual(eff.destinations.allowed, ['local']);
    assert.deepEqual(eff.endpoints, []);
    assert.equal(decide(eff, request).rule, 'destination');
    assert.match(decide(eff, request).reason, /allowedDestinations/);
    assert.match(decide(eff, { ...request, destination: 'team', endpointId: 'vllm' }).reason, /not in destinations in \.hearth\/policy\.jsonc/);
  });

  it('budgets take the lower value, consent the stricter mode', () => {
    const eff = combinePolicies({ ...user, consent: 'session' }, repo(sample));
    assert.deepEqual(eff.budgets.perTaskUsd, { value: 0.5, source: 'repo' });
    assert.deepEqual(eff.budgets.perMonthUsd, { value: 20, source: 'settings' });
    assert.equal(eff.consent.mode, 'session');
    assert.equal(combinePolicies(user, repo(sample)).consent.mode, 'always');
    assert.equal(combinePolicies({ ...user, consent: 'session' }, repo('{ "version": 1, "consent": "always" }')).consent.source, 'repo');
  });

  it('neverSend adds the repo\'s patterns to the user\'s', () => {
    const eff = combinePolicies(user, repo(sample));
    assert.ok(eff.neverSend.some((n) => n.glob === '**/.env' && n.source === 'settings'));
    assert.ok(eff.neverSend.some((n) => n.glob === 'config/prod.*' && n.source === 'repo'));
  });
});

describe('policy: decide', () => {
  const eff = combinePolicies(user, repo(sample));

  it('allows an internal file to frontier under the lane, with session consent and the redactor options', () => {
    const d = decide(eff, request);
    assert.equal(d.allowed, true, d.reason);
    assert.deepEqual(d.dataClasses, ['internal']);
    assert.equal(d.requireConsent, true);
    assert.equal(decide(combinePolicies({ ...user, consent: 'session' }, repo(sample)), request).requireConsent, 'session');
    assert.equal(d.redactor.customPatterns?.[0]?.category, 'ticket-id');
  });

  it('blocks a neverSend path and names the pattern and where it is from', () => {
    const d = decide(eff, { ...request, files: ['src/app.ts', 'src/secrets/keys.ts'] });
    assert.equal(d.allowed, false);
    assert.equal(d.rule, 'neverSend');
    assert.equal(d.reason, 'src/secrets/keys.ts matches neverSend pattern "**/secrets/**" in your settings (hearth.escalation.neverSend)');
    const r = decide(eff, { ...request, files: ['config/prod.yaml'] });
    assert.equal(r.reason, 'config/prod.yaml matches neverSend pattern "config/prod.*" in .hearth/policy.jsonc');
    assert.match(decide(eff, { ...request, files: ['api/.ENV'] }).reason, /"\*\*\/\.env"/);
  });

  it('applies data classes per lane', () => {
    const sensitive = { ...request, files: ['src/auth/login.ts'] };
    const toFrontier = decide(eff, sensitive);
    assert.equal(toFrontier.allowed, false);
    assert.equal(toFrontier.rule, 'lane');
    assert.equal(toFrontier.reason, 'src/auth/login.ts is sensitive (dataClasses rule "src/auth/**" in .hearth/policy.jsonc), and the escalation lane sends sensitive data to team (in .hearth/policy.jsonc), not to frontier');
    assert.equal(decide(eff, { ...sensitive, destination: 'team', endpointId: 'vllm' }).allowed, true);
    const regulated = decide(eff, { ...request, destination: 'team', endpointId: 'vllm', files: ['docs/x.md', 'db/schema.sql'] });
    assert.equal(regulated.allowed, false);
    assert.deepEqual(regulated.dataClasses, ['public', 'regulated']);
    assert.match(regulated.reason, /db\/schema\.sql is regulated .*sends regulated data to nowhere off this machine \(by Hearth's default\)/);
    // chat to team: public and internal by default, not sensitive
    assert.equal(decide(eff, { ...request, lane: 'chat', destination: 'team', endpointId: 'vllm', files: ['docs/a.md'] }).allowed, true);
    assert.equal(decide(eff, { ...request, lane: 'chat', destination: 'team', endpointId: 'vllm', files: ['src/auth/a.ts'] }).allowed, false);
    // chat never goes to frontier by default
    assert.equal(decide(eff, { ...request, lane: 'chat' }).rule, 'lane');
  });

  it('a conversation with no file has the default class', () => {
    const strict = combinePolicies(user, repo('{ "version": 1, "dataClasses": { "default": "regulated" } }'));
    const d = decide(strict, { ...request, files: [] });
    assert.deepEqual(d.dataClasses, ['regulated']);
    assert.match(d.reason, /the content is regulated \(the default class in \.hearth\/policy\.jsonc\)/);
  });

  it('enforces the per-task and monthly budgets', () => {
    const task = decide(eff, { ...request, estimatedCostUsd: 0.75 });
    assert.equal(task.rule, 'budgetPerTask');
    assert.equal(task.reason, 'the estimated cost $0.75 is over the per-task budget of $0.50 in .hearth/policy.jsonc');
    const month = decide(eff, { ...request, estimatedCostUsd: 0.25, spentThisMonthUsd: 19.9 });
    assert.equal(month.rule, 'budgetPerMonth');
    assert.match(month.reason, /\$19\.90 spent this month plus the estimated \$0\.25 is over the monthly budget of \$20\.00 in your settings/);
    assert.equal(decide(combinePolicies({ ...user, budgetPerTaskUsd: 0 }, undefined), { ...request, destination: 'team', endpointId: 'vllm', estimatedCostUsd: 0 }).allowed, true);
  });

  it('an untrusted workspace cannot escalate', () => {
    const d = decide(eff, { ...request, workspaceTrusted: false });
    assert.equal(d.allowed, false);
    assert.equal(d.rule, 'workspaceTrust');
    assert.match(d.reason, /not trusted/);
  });

  it('an invalid repo policy fails closed with the parse error as the reason', () => {
    const parsed = parsePolicyText('{ "version": 1, "neverSend": [ }');
    assert.ok(!parsed.ok);
    const bad = combinePolicies(user, { error: parsed.error });
    assert.equal(bad.repo.status, 'invalid');
    for (const r of [request, { ...request, lane: 'chat' as const, destination: 'team' as const, endpointId: 'vllm', files: [] }]) {
      const d = decide(bad, r);
      assert.equal(d.allowed, false);
      assert.equal(d.rule, 'invalidPolicy');
      assert.match(d.reason, /cannot be used.*line 1, column 32: JSON syntax error/);
    }
  });

  it('an unknown endpoint or one of another destination is denied', () => {
    assert.match(decide(eff, { ...request, endpointId: 'nope' }).reason, /no endpoint "nope"/);
    assert.match(decide(eff, { ...request, endpointId: 'vllm' }).reason, /is a team endpoint, not frontier/);
  });

  it('an invalid neverSend pattern in settings blocks every file', () => {
    const { policy } = parseUserPolicy({ escalationEnabled: true, endpoints: [frontier], neverSend: ['a{b'] });
    const d = decide(combinePolicies(policy, undefined), request);
    assert.equal(d.rule, 'neverSend');
    assert.match(d.reason, /not a valid glob/);
  });
});

describe('policy: describePolicy', () => {
  const text = (eff: EffectivePolicy) => describePolicy(eff).join('\n');

  it('renders the matrix and the rules in plain words', () => {
    const out = text(combinePolicies(user, repo(sample)));
    assert.match(out, /\*\*Escalation:\*\* on — in your settings/);
    assert.match(out, /\| escalation \| team, frontier \| team, frontier \(repo\) \| team \(repo\) \| nowhere \|/);
    assert.match(out, /\| completion \| local \| local \| local \| local \|/);
    assert.match(out, /`docs\/\*\*` → public/);
    assert.match(out, /anything else → internal/);
    assert.match(out, /`config\/prod\.\*` \(repo\)/);
    assert.match(out, /ticket \(`TKT-\\d\{6\}`\)/);
    assert.match(out, /\$0\.50 per task — in \.hearth\/policy\.jsonc; \$20\.00 per month — in your settings/);
    assert.match(out, /gpt \(frontier, openai, gpt-4o/);
  });

  it('says when the policy is invalid and lists what was refused', () => {
    const parsed = parsePolicyText('{ "version": 3 }');
    assert.ok(!parsed.ok);
    assert.match(text(combinePolicies(user, { error: parsed.error })), /The repo policy is invalid: nothing leaves this machine/);
    const refused = text(combinePolicies({ ...user, escalationEnabled: false }, repo('{ "version": 1, "escalation": { "enabled": true }, "endpoints": [{ "baseUrl": "https://x" }] }')));
    assert.match(refused, /Refused from \.hearth\/policy\.jsonc/);
    assert.match(refused, /cannot turn on escalation/);
    assert.match(refused, /cannot add an endpoint \(https:\/\/x\)/);
    assert.match(text(combinePolicies(DEFAULT_USER_POLICY, undefined)), /none \(no \.hearth\/policy\.jsonc\)/);
  });
});
