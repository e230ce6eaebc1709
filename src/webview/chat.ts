/**
 * The chat view's page (browser bundle, dist/webview/chat.js). Every message from the extension is parsed with
 * zod before use. Model output becomes HTML only through `renderMarkdown` (raw HTML as text, safe links only, no
 * images) and then DOMPurify with {@link SANITIZE_CONFIG}; everything else goes in through `textContent`.
 * Code is highlighted with highlight.js's core and a handful of languages, which keeps the bundle small.
 */
import DOMPurify, { type Config } from 'dompurify';
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import cpp from 'highlight.js/lib/languages/cpp';
import css from 'highlight.js/lib/languages/css';
import diff from 'highlight.js/lib/languages/diff';
import go from 'highlight.js/lib/languages/go';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import sql from 'highlight.js/lib/languages/sql';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';
import { renderMarkdown, SANITIZE_CONFIG, type CodeBlock } from '../common/chat/markdown';
import { USER_INCIDENT_CATEGORIES } from '../common/ledger/ledgerEnums';
import { hostToChatSchema, type ChatMessage, type ChatToHost, type Chip, type Conversation, type HostToChat } from '../common/protocol/chatProtocol';

declare function acquireVsCodeApi(): { postMessage(message: ChatToHost): void };

for (const [name, lang] of Object.entries({ bash, cpp, css, diff, go, java, javascript, json, python, rust, sql, typescript, xml, yaml })) hljs.registerLanguage(name, lang);
hljs.registerAliases(['ts', 'tsx'], { languageName: 'typescript' });
hljs.registerAliases(['js', 'jsx', 'mjs', 'cjs'], { languageName: 'javascript' });
hljs.registerAliases(['sh', 'shell', 'zsh', 'console'], { languageName: 'bash' });
hljs.registerAliases(['py'], { languageName: 'python' });
hljs.registerAliases(['html', 'svg'], { languageName: 'xml' });
hljs.registerAliases(['c', 'h', 'hpp', 'cc'], { languageName: 'cpp' });
hljs.registerAliases(['yml'], { languageName: 'yaml' });
hljs.registerAliases(['rs'], { languageName: 'rust' });

const vscode = acquireVsCodeApi();
const post = (m: ChatToHost) => vscode.postMessage(m);
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const messagesEl = $('messages');
const input = $<HTMLTextAreaElement>('input');
const sendBtn = $<HTMLButtonElement>('send');
const stopBtn = $<HTMLButtonElement>('stop');
const cancelEditBtn = $<HTMLButtonElement>('cancelEdit');
const escalateBtn = $<HTMLButtonElement>('escalate');
const select = $<HTMLSelectElement>('conversations');
const chipsEl = $('chips');
const budgetEl = $('budget');
const noticeEl = $('notice');

let current: Conversation | undefined;
let busy = false;
let editing: string | undefined;
/** Messages whose text changed since they were last drawn (streaming), drawn on the next frame. */
const dirty = new Set<string>();
let frame = 0;

const INCIDENT_LABELS: Record<(typeof USER_INCIDENT_CATEGORIES)[number], string> = {
  'factual-error': 'Factual error',
  'policy-breach': 'Policy breach',
  'tool-misuse': 'Tool misuse',
  'sensitive-data-mishandling': 'Sensitive data mishandling',
};

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function button(label: string, title: string, onClick: () => void, cls = 'secondary small'): HTMLButtonElement {
  const b = el('button', label, cls);
  b.title = title;
  b.setAttribute('aria-label', title);
  b.addEventListener('click', onClick);
  return b;
}

/** Sanitised, highlighted Markdown into `target`, with the actions on each code block. */
function drawMarkdown(target: HTMLElement, text: string, withActions: boolean): void {
  const { html, blocks } = renderMarkdown(text);
  target.innerHTML = DOMPurify.sanitize(html, SANITIZE_CONFIG as unknown as Config) as unknown as string;
  for (const pre of Array.from(target.querySelectorAll<HTMLElement>('pre.code-block'))) {
    const block: CodeBlock | undefined = blocks[Number(pre.dataset['block'])];
    if (!block) continue;
    const code = pre.querySelector('code')!;
    const lang = hljs.getLanguage(block.language) ? block.language : undefined;
    if (lang) {
      code.innerHTML = DOMPurify.sanitize(hljs.highlight(block.code, { language: lang, ignoreIllegals: true }).value, { ALLOWED_TAGS: ['span'], ALLOWED_ATTR: ['class'] }) as unknown as string;
      code.classList.add('hljs');
    }
    const wrap = el('div', undefined, 'code-wrap');
    const head = el('div', undefined, 'code-head');
    head.append(el('span', block.language || 'text', 'code-lang'));
    if (withActions) {
      const actions = el('span', undefined, 'code-actions');
      actions.append(
        button('Copy', 'Copy the code', () => post({ type: 'codeAction', action: 'copy', code: block.code, language: block.language })),
        button('Insert', 'Insert at the cursor in the editor', () => post({ type: 'codeAction', action: 'insert', code: block.code, language: block.language })),
        button('Apply…', 'Apply to a file: review the diff hunk by hunk first', () => post({ type: 'codeAction', action: 'apply', code: block.code, language: block.language })),
      );
      for (const b of Array.from(actions.children)) (b as HTMLElement).dataset['action'] = (b.textContent ?? '').replace('…', '').toLowerCase();
      head.append(actions);
    }
    pre.replaceWith(wrap);
    wrap.append(head, pre);
  }
}

function chipText(c: Chip): { text: string; cls: string; title: string } {
  if (c.refused) return { text: `${c.label} — refused`, cls: 'chip refused', title: `Refused as context by the policy: ${c.refused}` };
  if (c.includedTokens === 0 && c.tokens > 0) return { text: `${c.label} — left out (≈${c.tokens} tokens do not fit)`, cls: 'chip cut', title: 'Does not fit the model\'s context: left out of the prompt' };
  if (c.includedTokens < c.tokens) return { text: `${c.label} — cut to ≈${c.includedTokens} of ${c.tokens} tokens`, cls: 'chip cut', title: 'Only the beginning fits the model\'s context; the cut is marked in the prompt' };
  return { text: `${c.label} · ≈${c.tokens} tokens`, cls: 'chip', title: c.path || c.label };
}

function badge(m: ChatMessage): HTMLElement | undefined {
  const s = m.source;
  if (!s) return undefined;
  if (s.kind === 'local') return el('span', `local · ${s.model}`, 'badge local');
  const cost = s.costUsd === null ? 'cost unknown' : `$${s.costUsd < 0.01 ? s.costUsd.toPrecision(2) : s.costUsd.toFixed(2)}`;
  const b = el('span', `${s.destination} · ${s.endpointId} (${s.model}) · ${cost}${s.redactions ? ` · ${s.redactions} redacted` : ''}`, `badge ${s.destination}`);
  b.title = 'Escalated: sent after the policy check, redaction and your consent; placeholders were restored locally';
  return b;
}

function drawMessage(m: ChatMessage, isLast: boolean): HTMLElement {
  const item = el('article', undefined, `message ${m.role}`);
  item.dataset['id'] = m.id;
  item.dataset['status'] = m.status;
  item.setAttribute('aria-label', m.role === 'user' ? 'Your question' : 'Answer');
  const head = el('div', undefined, 'message-head');
  head.append(el('span', m.role === 'user' ? 'You' : 'Hearth', 'who'));
  const b = badge(m);
  if (b) head.append(b);
  item.append(head);
  if (m.role === 'user' && m.chips?.length) {
    const chips = el('div', undefined, 'chips');
    for (const c of m.chips) {
      const t = chipText(c);
      const chip = el('span', t.text, t.cls);
      chip.title = t.title;
      chips.append(chip);
    }
    item.append(chips);
  }
  const body = el('div', undefined, 'body');
  if (m.role === 'user') body.textContent = m.text;
  else drawMarkdown(body, m.text || (m.status === 'streaming' ? '…' : ''), m.status !== 'streaming');
  item.append(body);
  if (m.droppedTurns) item.append(el('p', `${m.droppedTurns} older message${m.droppedTurns === 1 ? '' : 's'} did not fit the model's context and were left out of this answer's prompt.`, 'meta cut'));
  if (m.error) item.append(el('p', m.status === 'error' ? `Failed: ${m.error}` : m.error, 'meta error'));
  if (m.status === 'cancelled') item.append(el('p', 'Stopped.', 'meta'));
  const foot = el('div', undefined, 'message-foot');
  if (m.role === 'user') {
    foot.append(button('Edit', 'Edit this question and ask again (later messages are replaced)', () => startEdit(m)));
  } else if (m.status !== 'streaming') {
    const up = button('👍', 'Helpful', () => post({ type: 'feedback', messageId: m.id, value: 'up' }), `secondary small${m.feedback === 'up' ? ' on' : ''}`);
    up.dataset['feedback'] = 'up';
    up.setAttribute('aria-pressed', String(m.feedback === 'up'));
    const down = button('👎', 'Not helpful', () => post({ type: 'feedback', messageId: m.id, value: 'down' }), `secondary small${m.feedback === 'down' ? ' on' : ''}`);
    down.dataset['feedback'] = 'down';
    down.setAttribute('aria-pressed', String(m.feedback === 'down'));
    const flag = el('select', undefined, 'flag');
    flag.setAttribute('aria-label', 'Flag this answer as an incident');
    flag.title = 'Flag this answer as an incident (recorded in the workspace ledger)';
    flag.append(new Option('Flag incident…', ''));
    for (const c of USER_INCIDENT_CATEGORIES) flag.append(new Option(`${m.incidents?.includes(c) ? '✓ ' : ''}${INCIDENT_LABELS[c]}`, c));
    flag.addEventListener('change', () => {
      const v = flag.value as (typeof USER_INCIDENT_CATEGORIES)[number] | '';
      flag.value = '';
      if (v) post({ type: 'flagIncident', messageId: m.id, category: v });
    });
    foot.append(up, down, flag);
    if (isLast) foot.append(button('Regenerate', 'Ask the local model again', () => post({ type: 'regenerate' })));
    const stats = [m.tokensOut !== undefined ? `${m.tokensOut} tokens` : '', m.latencyMs !== undefined ? `${(m.latencyMs / 1000).toFixed(1)} s` : ''].filter(Boolean).join(' · ');
    if (stats) foot.append(el('span', stats, 'meta stats'));
  }
  item.append(foot);
  return item;
}

function drawConversation(): void {
  if (!current) return;
  messagesEl.replaceChildren();
  if (current.messages.length === 0) {
    messagesEl.append(el('p', 'Ask about your code. Answers come from the local model and stay on this machine unless you escalate.', 'empty'));
  }
  const lastAssistant = current.messages.map((m) => m.role).lastIndexOf('assistant');
  current.messages.forEach((m, i) => messagesEl.append(drawMessage(m, i === lastAssistant)));
  messagesEl.scrollTop = messagesEl.scrollHeight;
}

function redrawDirty(): void {
  frame = 0;
  for (const id of dirty) {
    const m = current?.messages.find((x) => x.id === id);
    const node = messagesEl.querySelector<HTMLElement>(`article[data-id="${CSS.escape(id)}"] .body`);
    if (m && node) drawMarkdown(node, m.text, false);
  }
  dirty.clear();
  messagesEl.scrollTop = messagesEl.scrollHeight;
}

function setBusy(b: boolean): void {
  busy = b;
  stopBtn.hidden = !b;
  sendBtn.disabled = b;
  escalateBtn.disabled = b;
  document.body.dataset['busy'] = String(b);
}

function startEdit(m: ChatMessage): void {
  editing = m.id;
  input.value = m.text;
  cancelEditBtn.hidden = false;
  sendBtn.textContent = 'Resend';
  input.focus();
}

function endEdit(): void {
  editing = undefined;
  cancelEditBtn.hidden = true;
  sendBtn.textContent = 'Send';
}

function notice(level: string, text: string): void {
  noticeEl.textContent = text;
  noticeEl.className = `notice ${level}`;
  noticeEl.hidden = false;
}

function received(raw: unknown): void {
  const parsed = hostToChatSchema.safeParse(raw);
  if (!parsed.success) {
    post({ type: 'problem', message: `unexpected message from the extension: ${parsed.error.message.slice(0, 500)}` });
    return;
  }
  const m: HostToChat = parsed.data;
  switch (m.type) {
    case 'state': {
      current = m.current;
      select.replaceChildren(...m.conversations.map((c) => new Option(`${c.title}${c.messages ? '' : ' (empty)'}`, c.id, false, c.id === m.current.id)));
      escalateBtn.hidden = !m.escalation;
      setBusy(m.busy);
      drawConversation();
      document.body.dataset['model'] = m.model ?? '';
      break;
    }
    case 'delta': {
      const msg = current?.id === m.conversationId ? current.messages.find((x) => x.id === m.messageId) : undefined;
      if (!msg) return;
      msg.text += m.text;
      dirty.add(msg.id);
      frame ||= requestAnimationFrame(redrawDirty);
      break;
    }
    case 'context': {
      chipsEl.replaceChildren(
        ...m.chips.map((c) => {
          const t = chipText(c);
          const chip = el('span', undefined, t.cls);
          chip.title = t.title;
          chip.append(el('span', t.text));
          chip.append(button('✕', `Remove ${c.label}`, () => post({ type: 'removeContext', id: c.id }), 'icon chip-remove'));
          return chip;
        }),
      );
      const b = m.budget;
      const limit = b.contextSize - b.reserved;
      budgetEl.textContent = `≈${b.used.toLocaleString()} / ${b.contextSize.toLocaleString()} tokens${b.droppedTurns ? ` · ${b.droppedTurns} older message${b.droppedTurns === 1 ? '' : 's'} cut` : ''}`;
      budgetEl.className = `budget${b.used > limit ? ' over' : b.droppedTurns ? ' cut' : ''}`;
      budgetEl.title = `Estimated prompt tokens against the model's context of ${b.contextSize} (${b.reserved} kept free for the answer). What does not fit is cut, and shown so.`;
      break;
    }
    case 'notice':
      notice(m.level, m.text);
      break;
    case 'draft':
      input.value = m.text;
      input.focus();
      break;
  }
}

function send(): void {
  const text = input.value.trim();
  if (!text || busy) return;
  noticeEl.hidden = true;
  if (editing) post({ type: 'editResend', messageId: editing, text });
  else post({ type: 'send', text });
  input.value = '';
  endEdit();
  post({ type: 'draft', text: '' });
}

let draftTimer: ReturnType<typeof setTimeout> | undefined;
input.addEventListener('input', () => {
  clearTimeout(draftTimer);
  draftTimer = setTimeout(() => post({ type: 'draft', text: input.value }), 200);
});
input.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    send();
  } else if (e.key === 'Escape' && busy) {
    post({ type: 'stop' });
  }
});
sendBtn.addEventListener('click', send);
stopBtn.addEventListener('click', () => post({ type: 'stop' }));
cancelEditBtn.addEventListener('click', () => {
  input.value = '';
  endEdit();
});
escalateBtn.addEventListener('click', () => post({ type: 'escalate' }));
$('new').addEventListener('click', () => post({ type: 'newConversation' }));
$('rename').addEventListener('click', () => current && post({ type: 'renameConversation', id: current.id }));
$('delete').addEventListener('click', () => current && post({ type: 'deleteConversation', id: current.id }));
select.addEventListener('change', () => post({ type: 'selectConversation', id: select.value }));
for (const b of Array.from(document.querySelectorAll<HTMLButtonElement>('[data-add]'))) {
  b.addEventListener('click', () => post({ type: 'addContext', kind: b.dataset['add'] as 'selection' | 'file' | 'editors' | 'atFile' }));
}
window.addEventListener('message', (e) => received(e.data));
post({ type: 'ready' });
