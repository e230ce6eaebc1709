/**
 * The context chips of the next question: the selection, the current file, the open editors and `@file` picks.
 * Each chip remembers where its text comes from and is read when the question is sent (a selection is taken
 * when it is added: it changes as soon as the user clicks elsewhere). A file the policy never lets leave the
 * machine (`neverSend`) is refused as context, with the rule named on the chip: a conversation can be escalated
 * later, and what is never in it can never be sent.
 */
import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { estimateTokens } from '../../common/chat/contextBudget';
import { contextRefusal } from '../../common/chat/contextRefusal';
import type { Chip } from '../../common/protocol/chatProtocol';
import type { PolicyService } from '../policy/policyService';

/** A chip and where its text comes from. */
export interface ContextEntry {
  chip: Chip;
  /** The selection's text (taken when added) or undefined for a document read at send time. */
  text?: string;
  uri?: vscode.Uri;
}

/** Files larger than this are not offered whole as context (they would not fit a local model's context anyway). */
const MAX_FILE_BYTES = 1024 * 1024;

export class ChatContext {
  private entries: ContextEntry[] = [];
  /** The text editor the user worked in last (the chat view has focus while its buttons are clicked). */
  lastEditor: vscode.TextEditor | undefined;

  constructor(private readonly policy: PolicyService) {
    this.lastEditor = vscode.window.activeTextEditor;
  }

  get all(): readonly ContextEntry[] {
    return this.entries;
  }

  clear(): void {
    this.entries = [];
  }

  remove(id: string): void {
    this.entries = this.entries.filter((e) => e.chip.id !== id);
  }

  /** The rule that refuses `uri` as context, in words; undefined when it may be used. */
  refusal(uri: vscode.Uri): string | undefined {
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    if (!folder) return undefined;
    const effective = this.policy.effectiveFor(folder.uri);
    if (!effective) return undefined;
    return contextRefusal(effective, vscode.workspace.asRelativePath(uri, false));
  }

  private add(kind: Chip['kind'], label: string, doc: { uri: vscode.Uri; languageId: string }, text: string | undefined): ContextEntry {
    const path = doc.uri.scheme === 'untitled' ? '' : vscode.workspace.asRelativePath(doc.uri, false);
    // The same document twice (the current file and an open editor) would cost its tokens twice.
    const existing = this.entries.find((e) => kind !== 'selection' && e.uri?.toString() === doc.uri.toString() && e.text === undefined);
    if (existing) return existing;
    const refused = this.refusal(doc.uri);
    const entry: ContextEntry = {
      chip: { id: randomUUID(), kind, label, path, languageId: doc.languageId, tokens: refused ? 0 : estimateTokens(text ?? ''), includedTokens: 0, refused },
      // A refused chip keeps no text at all: it is shown, never used.
      text: refused ? '' : text,
      uri: refused ? undefined : doc.uri,
    };
    this.entries.push(entry);
    return entry;
  }

  /** Adds the last editor's selection; a message when there is none. */
  addSelection(): string | undefined {
    const editor = this.lastEditor;
    if (!editor || editor.selection.isEmpty) return 'Select some code in an editor first.';
    const s = editor.selection;
    const label = `${basename(editor.document.fileName)}:${s.start.line + 1}-${s.end.line + 1}`;
    this.add('selection', label, editor.document, editor.document.getText(s));
    return undefined;
  }

  addCurrentFile(): string | undefined {
    const editor = this.lastEditor;
    if (!editor) return 'Open a file in an editor first.';
    this.addDocument('file', editor.document);
    return undefined;
  }

  /** Every open text editor tab's document. */
  async addOpenEditors(): Promise<string | undefined> {
    const uris = vscode.window.tabGroups.all.flatMap((g) => g.tabs).flatMap((t) => (t.input instanceof vscode.TabInputText ? [t.input.uri] : []));
    const unique = [...new Map(uris.map((u) => [u.toString(), u])).values()].filter((u) => u.scheme === 'file' || u.scheme === 'untitled' || u.scheme === 'vscode-remote');
    if (unique.length === 0) return 'No editors are open.';
    for (const uri of unique) this.addDocument('editor', await vscode.workspace.openTextDocument(uri));
    return undefined;
  }

  /** `@file`: a Quick Pick of the workspace's files. */
  async addPickedFiles(): Promise<string | undefined> {
    const files = await vscode.workspace.findFiles('**/*', '**/{node_modules,.git,dist,out}/**', 5000);
    const picks = await vscode.window.showQuickPick(
      files.map((uri) => ({ label: basename(uri.fsPath), description: vscode.workspace.asRelativePath(uri, false), uri })).sort((a, b) => a.description.localeCompare(b.description)),
      { title: 'Hearth chat: @file — add files as context', canPickMany: true, matchOnDescription: true, placeHolder: 'Type to filter; Space to pick several' },
    );
    for (const p of picks ?? []) {
      const stat = await vscode.workspace.fs.stat(p.uri);
      if (stat.size > MAX_FILE_BYTES) {
        void vscode.window.showWarningMessage(`Hearth: ${p.description} is ${(stat.size / 1e6).toFixed(1)} MB, too large to attach as chat context.`);
        continue;
      }
      this.addDocument('atFile', await vscode.workspace.openTextDocument(p.uri));
    }
    return undefined;
  }

  private addDocument(kind: Chip['kind'], doc: vscode.TextDocument): void {
    const label = doc.isUntitled ? doc.uri.path : vscode.workspace.asRelativePath(doc.uri, false);
    this.add(kind, label, doc, undefined).chip.tokens = this.refusal(doc.uri) ? 0 : estimateTokens(doc.getText());
  }

  /** Each chip's current text (documents read now, refused ones empty). */
  async texts(): Promise<Array<{ entry: ContextEntry; text: string }>> {
    const out: Array<{ entry: ContextEntry; text: string }> = [];
    for (const entry of this.entries) {
      if (entry.chip.refused) out.push({ entry, text: '' });
      else if (entry.text !== undefined) out.push({ entry, text: entry.text });
      else if (entry.uri) {
        const doc = await vscode.workspace.openTextDocument(entry.uri);
        const text = doc.getText();
        entry.chip.tokens = estimateTokens(text);
        out.push({ entry, text });
      }
    }
    return out;
  }
}
