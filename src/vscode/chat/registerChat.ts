/**
 * Chat on the local model: the view in Hearth's activity-bar container, its commands, and the test hook.
 * One `registerChat` (style rule 1): `activate` adds one line for it.
 */
import * as vscode from 'vscode';
import { CHAT_VIEW_ID, ChatView, type ChatServices, type ChatState } from './chatView';

export const NEW_CHAT_COMMAND = 'hearth.chat.new';
export const OPEN_CHAT_COMMAND = 'hearth.chat.open';

export interface ChatFeature {
  /** The conversation on screen, for tests. */
  state(): ChatState;
  /** The view, as a source of recorded tasks for "Flag Last Answer as Incident…". */
  readonly view: ChatView;
}

export function registerChat(context: vscode.ExtensionContext, services: ChatServices): ChatFeature {
  const view = new ChatView(context.extensionUri, context.workspaceState, services);
  context.subscriptions.push(
    view,
    // Kept alive while hidden: a streaming answer keeps drawing, and switching views does not reload the page.
    vscode.window.registerWebviewViewProvider(CHAT_VIEW_ID, view, { webviewOptions: { retainContextWhenHidden: true } }),
    vscode.commands.registerCommand(OPEN_CHAT_COMMAND, () => view.focus()),
    vscode.commands.registerCommand(NEW_CHAT_COMMAND, async () => {
      await view.focus();
      await view.startNew();
    }),
  );
  return { state: () => view.state(), view };
}
