import { escapeHtml } from '../common/ledger/ledgerReportHtml';

/**
 * The start of every Hearth webview page up to `</head>`: the page's Content-Security-Policy (built by the
 * caller, nonce-tagged scripts only), the viewport, its one stylesheet and its title.
 */
export function webviewHead(page: { csp: string; css: string; title: string }): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(page.csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${escapeHtml(page.css)}">
<title>${escapeHtml(page.title)}</title>
</head>`;
}
