/**
 * The escalation review as a webview beside the code: the whole request readable, Send / Cancel in the same view
 * (no modal on top of it), Cancel the default. Closing the panel cancels.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { reviewToHostSchema } from '../../common/protocol/reviewProtocol';
import type { EscalationWarning, WarningChoice } from '../../node/cloud/escalationFlow';
import { makeNonce } from '../ledger/dashboardHtml';
import { reviewHtml } from './reviewHtml';

/** What tests can observe of the last review shown. */
export interface ReviewState {
  title: string;
  sha256: string;
  bytes: number;
  body: string;
  choice?: WarningChoice;
}

/** Shows the review and resolves with the user's choice: `send` only for the Send button. */
export function showReview(extensionUri: vscode.Uri, warning: EscalationWarning, title: string, state: (s: ReviewState) => void): Promise<WarningChoice> {
  const panel = vscode.window.createWebviewPanel('hearth.escalationReview', title, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false }, {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media')],
  });
  const s: ReviewState = { title, sha256: warning.bodySha256, bytes: warning.bodyBytes, body: warning.body };
  state(s);
  panel.webview.html = reviewHtml({
    warning,
    cspSource: panel.webview.cspSource,
    nonce: makeNonce((n) => randomBytes(n)),
    css: panel.webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'review.css')).toString(),
  });
  return new Promise<WarningChoice>((resolve) => {
    const subs: vscode.Disposable[] = [];
    const finish = (choice: WarningChoice) => {
      s.choice = choice;
      for (const d of subs.splice(0)) d.dispose();
      panel.dispose();
      resolve(choice);
    };
    subs.push(
      panel.webview.onDidReceiveMessage((m) => {
        const parsed = reviewToHostSchema.safeParse(m);
        if (parsed.success) finish(parsed.data.type === 'send' ? 'send' : 'cancel');
      }),
      panel.onDidDispose(() => finish('cancel')),
    );
  });
}
