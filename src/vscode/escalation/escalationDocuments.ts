/**
 * Read-only documents for the escalation: the payload preview (the exact request body) and the answer, which
 * grows as it streams. A content provider rather than untitled files: nothing to save, nothing to edit by
 * mistake, and closing one never asks "Save changes?".
 */
import * as vscode from 'vscode';

export const ESCALATION_SCHEME = 'hearth-escalation';

export class EscalationDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly contents = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private n = 0;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? '';
  }

  /** A new document URI, e.g. `hearth-escalation:/3/answer.md`. */
  newUri(name: string): vscode.Uri {
    return vscode.Uri.from({ scheme: ESCALATION_SCHEME, path: `/${++this.n}/${name}` });
  }

  set(uri: vscode.Uri, text: string, immediate = true): void {
    const key = uri.toString();
    this.contents.set(key, text);
    if (immediate) {
      clearTimeout(this.pending.get(key));
      this.pending.delete(key);
      this.changed.fire(uri);
    } else if (!this.pending.has(key)) {
      // Streaming updates are coalesced: redrawing per token is wasted work.
      this.pending.set(key, setTimeout(() => {
        this.pending.delete(key);
        this.changed.fire(uri);
      }, 80));
    }
  }

  get(uri: vscode.Uri): string | undefined {
    return this.contents.get(uri.toString());
  }

  dispose(): void {
    for (const t of this.pending.values()) clearTimeout(t);
    this.changed.dispose();
  }
}
