/**
 * The chat view's page shell (no `vscode` import, so it is unit-tested in plain Node). Style rule 8: CSP
 * `default-src 'none'`, the script only with this load's nonce, styles only from the extension's own files, no
 * images from anywhere but the extension (model output never loads a remote image).
 */
import { escapeHtml } from '../../common/chat/markdown';
import { webviewHead } from '../webviewHead';

export interface ChatHtmlInput {
  cspSource: string;
  nonce: string;
  /** Webview URIs of dist/webview/chat.js and media/chat.css. */
  script: string;
  css: string;
}

export function chatCsp(cspSource: string, nonce: string): string {
  return `default-src 'none'; style-src ${cspSource}; img-src ${cspSource}; font-src ${cspSource}; script-src 'nonce-${nonce}'; connect-src 'none'; frame-src 'none'; form-action 'none'; base-uri 'none';`;
}

export function chatHtml(i: ChatHtmlInput): string {
  return `${webviewHead({ csp: chatCsp(i.cspSource, i.nonce), css: i.css, title: 'Hearth Chat' })}
<body>
<header class="bar" role="toolbar" aria-label="Conversations">
<label for="conversations" class="visually-hidden">Conversation</label>
<select id="conversations" title="Conversations in this workspace"></select>
<button id="new" class="icon" title="New conversation" aria-label="New conversation">+</button>
<button id="rename" class="icon" title="Rename conversation" aria-label="Rename conversation">✎</button>
<button id="delete" class="icon" title="Delete conversation" aria-label="Delete conversation">✕</button>
</header>
<main id="messages" role="log" aria-live="polite" aria-label="Conversation" tabindex="0"></main>
<p id="notice" role="status" hidden></p>
<section id="composer" aria-label="Ask">
<div id="chips" class="chips" aria-label="Context"></div>
<div class="bar context-bar" role="toolbar" aria-label="Add context">
<button class="secondary small" data-add="selection" title="Add the editor's selection as context">+ Selection</button>
<button class="secondary small" data-add="file" title="Add the current file as context">+ File</button>
<button class="secondary small" data-add="editors" title="Add every open editor as context">+ Open editors</button>
<button class="secondary small" data-add="atFile" title="Pick workspace files as context">@file</button>
<span class="grow"></span>
<span id="budget" class="budget" title="Estimated prompt tokens against the model's context size"></span>
</div>
<label for="input" class="visually-hidden">Question</label>
<textarea id="input" rows="3" placeholder="Ask about your code — Enter to send, Shift+Enter for a new line"></textarea>
<div class="bar">
<button id="send" title="Send (Enter)">Send</button>
<button id="stop" class="secondary" title="Stop the answer (Escape)" hidden>Stop</button>
<button id="cancelEdit" class="secondary" hidden>Cancel edit</button>
<span class="grow"></span>
<button id="escalate" class="secondary" title="Send this conversation to the configured cloud model, after the policy check, redaction, a warning and your consent">Escalate this conversation…</button>
</div>
</section>
<script nonce="${escapeHtml(i.nonce)}" src="${escapeHtml(i.script)}"></script>
</body>
</html>
`;
}
