/**
 * The escalation review page (no `vscode` import, so it is unit-tested in plain Node): the request as a person
 * reads it — system prompt, question and code as text with every placeholder highlighted and listed with its
 * category — the endpoint, the exact byte count and sha256 of the body, the raw bytes, and Send / Cancel in a bar
 * that never covers the text. Cancel has the focus, Enter and Escape cancel; only a click (or Space) on Send
 * sends. Style rule 8: CSP `default-src 'none'`, the one script carries this load's nonce.
 */
import { escapeHtml } from '../../common/ledger/ledgerReportHtml';
import { webviewHead } from '../webviewHead';
import { PLACEHOLDER_PATTERN } from '../../common/redaction';
import type { EscalationWarning } from '../../node/cloud/escalationFlow';

export interface ReviewHtmlInput {
  warning: EscalationWarning;
  cspSource: string;
  nonce: string;
  /** Webview URI of media/review.css. */
  css: string;
}

/** Escapes text and wraps each placeholder in a highlighted, labelled `<mark>`. */
export function highlightPlaceholders(text: string): string {
  let out = '';
  let last = 0;
  for (const m of text.matchAll(new RegExp(PLACEHOLDER_PATTERN.source, 'g'))) {
    out += escapeHtml(text.slice(last, m.index));
    out += `<mark class="ph" title="redacted ${escapeHtml(m[1]!)} value">${escapeHtml(m[0])}</mark>`;
    last = m.index + m[0].length;
  }
  return out + escapeHtml(text.slice(last));
}

/** The page's script: Send/Cancel messages; Cancel focused; Enter (except on Send) and Escape cancel. */
const SCRIPT = `
(function () {
  const vscode = acquireVsCodeApi();
  const send = document.getElementById('send');
  const cancel = document.getElementById('cancel');
  let done = false;
  function choose(type) { if (done) return; done = true; send.disabled = true; cancel.disabled = true; vscode.postMessage({ type: type }); }
  send.addEventListener('click', function () { choose('send'); });
  cancel.addEventListener('click', function () { choose('cancel'); });
  document.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' || (e.key === 'Enter' && document.activeElement !== send)) { e.preventDefault(); choose('cancel'); }
  });
  cancel.focus();
  window.addEventListener('focus', function () { if (!done && document.activeElement !== send) cancel.focus(); });
  document.body.setAttribute('data-ready', 'true');
})();
`;

export function reviewHtml(i: ReviewHtmlInput): string {
  const w = i.warning;
  const csp = `default-src 'none'; style-src ${i.cspSource}; script-src 'nonce-${i.nonce}';`;
  const facts = w.detail.split('\n').map((l) => `<li>${escapeHtml(l)}</li>`).join('');
  const parts = w.parts.map((p, n) => `<section class="part"><h3>${n + 1}. ${escapeHtml(p.label)}</h3><pre class="text">${highlightPlaceholders(p.text)}</pre></section>`).join('\n');
  const placeholders = w.placeholders.length
    ? `<table class="placeholders"><thead><tr><th>placeholder</th><th>stands for a</th></tr></thead><tbody>${w.placeholders
        .map((p) => `<tr><td><mark class="ph">${escapeHtml(p.placeholder)}</mark></td><td>${escapeHtml(p.category)} value (kept on this machine)</td></tr>`)
        .join('')}</tbody></table>`
    : '<p class="meta">No placeholders: nothing was found to redact, so the code goes as it is.</p>';
  return `${webviewHead({ csp, css: i.css, title: 'Review escalation' })}
<body id="hearth-review" data-sha256="${escapeHtml(w.bodySha256)}" data-bytes="${w.bodyBytes}">
<div class="bar" role="region" aria-label="Decision">
<h1 id="title">${escapeHtml(w.message)}</h1>
<div class="buttons">
<button id="cancel" class="primary-cancel" autofocus>Cancel</button>
<button id="send" class="secondary">Send ${w.bodyBytes.toLocaleString('en-US')} bytes</button>
</div>
<p class="hint">Nothing has been sent. Enter or Escape cancels; only the Send button sends.</p>
</div>
<main>
<ul class="facts">${facts}</ul>
<p class="sum">Request body: <b id="bytes">${w.bodyBytes}</b> bytes, sha256 <code id="sha256">${escapeHtml(w.bodySha256)}</code></p>
<h2>What the model will read</h2>
${parts}
<h2>Placeholders (${w.placeholders.length})</h2>
${placeholders}
<h2>Raw bytes</h2>
<details id="raw-details"><summary>The exact request body (${w.bodyBytes} bytes of UTF-8 JSON, as sent)</summary>
<pre id="raw" class="raw">${escapeHtml(w.body)}</pre>
</details>
</main>
<script nonce="${escapeHtml(i.nonce)}">${SCRIPT}</script>
</body>
</html>
`;
}
