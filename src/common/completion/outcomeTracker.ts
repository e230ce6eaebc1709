/**
 * Decides what became of each suggestion shown as ghost text: accepted whole, partly (the user typed or
 * accepted a beginning of it, then went their own way), rejected (the user typed something else), or ignored
 * (nothing typed before the next suggestion). Fed with the document's edits; pure, so it is tested without an
 * editor.
 */
import type { Outcome } from '../ledger/ledgerEnums';

export interface ShownSuggestion {
  documentId: string;
  /** Offset in the document where the suggestion would be inserted. */
  offset: number;
  text: string;
}

export interface SettledSuggestion<T extends ShownSuggestion> {
  suggestion: T;
  outcome: Extract<Outcome, 'accepted' | 'partial' | 'rejected' | 'ignored'>;
  charsAccepted: number;
  linesAccepted: number;
  /**
   * How the accepted part was taken: Tab (the item's command), VS Code's accept next word / line (one edit inserting
   * several characters of the suggestion), or typed along; undefined when nothing was accepted.
   */
  acceptedVia?: 'tab' | 'word' | 'line' | 'typed';
}

/** One edit of a document: `rangeLength` characters at `offset` replaced by `text`. */
export interface DocumentEdit {
  offset: number;
  rangeLength: number;
  text: string;
}

interface Pending<T extends ShownSuggestion> {
  suggestion: T;
  /** What the user has inserted at the suggestion's position so far, in order. */
  typed: string;
  /** The largest step of a partial accept seen: a word or a line inserted in one edit. */
  via?: 'word' | 'line';
}

export class OutcomeTracker<T extends ShownSuggestion> {
  private readonly pending = new Map<string, Pending<T>>();

  constructor(private readonly onSettled: (settled: SettledSuggestion<T>) => void) {}

  /** A new suggestion is on screen; an older one for the same document is settled first. */
  shown(suggestion: T): void {
    this.settle(suggestion.documentId, false);
    this.pending.set(suggestion.documentId, { suggestion, typed: '' });
  }

  /**
   * Whether `rest` at `offset` is what remains of the pending suggestion the user is typing through: then it is the
   * same suggestion still on screen, not a new one to settle the old one for.
   */
  continues(documentId: string, offset: number, rest: string): boolean {
    const p = this.pending.get(documentId);
    return !!p && p.suggestion.offset + p.typed.length === offset && p.suggestion.text === p.typed + rest;
  }

  /** The editor accepted the suggestion (Tab): it is accepted whole, whatever edits follow. */
  accepted(documentId: string, suggestion: T): void {
    const p = this.pending.get(documentId);
    if (p?.suggestion !== suggestion) return;
    this.pending.delete(documentId);
    this.onSettled({ suggestion, outcome: 'accepted', charsAccepted: suggestion.text.length, linesAccepted: lineCount(suggestion.text), acceptedVia: 'tab' });
  }

  /** The document changed. Typing that follows the suggestion keeps it pending; anything else settles it. */
  edited(documentId: string, edits: readonly DocumentEdit[]): void {
    const p = this.pending.get(documentId);
    if (!p) return;
    const at = p.suggestion.offset + p.typed.length;
    const edit = edits.length === 1 ? edits[0]! : undefined;
    if (edit && edit.rangeLength === 0 && edit.offset === at) {
      p.typed += edit.text;
      if (edit.text.length > 1 && p.suggestion.text.startsWith(p.typed)) {
        // Several characters of the suggestion in one edit: VS Code's partial accept (a word, or up to a line end).
        const rest = p.suggestion.text.slice(p.typed.length);
        const step = edit.text.includes('\n') || rest === '' || rest.startsWith('\n') ? 'line' : 'word';
        p.via = p.via === 'line' || step === 'line' ? 'line' : 'word';
      }
      if (p.typed.startsWith(p.suggestion.text)) {
        this.pending.delete(documentId);
        // The whole suggestion in one edit is Tab (the edit arrives before the item's command runs).
        const via = edit.text === p.typed ? 'tab' : p.via ?? 'typed';
        this.onSettled({ suggestion: p.suggestion, outcome: 'accepted', charsAccepted: p.suggestion.text.length, linesAccepted: lineCount(p.suggestion.text), acceptedVia: via });
        return;
      }
      if (p.suggestion.text.startsWith(p.typed)) return;
    }
    this.settle(documentId, true);
  }

  /** Settles every pending suggestion (the editor is closing). */
  settleAll(): void {
    for (const id of [...this.pending.keys()]) this.settle(id, false);
  }

  /**
   * Settles a pending suggestion. Part of it typed or accepted: partial. Otherwise an edit that went another
   * way (`diverged`) rejected it, and a suggestion merely replaced by the next one was ignored.
   */
  private settle(documentId: string, diverged: boolean): void {
    const p = this.pending.get(documentId);
    if (!p) return;
    this.pending.delete(documentId);
    const common = commonPrefixLength(p.typed, p.suggestion.text);
    const outcome = common > 0 ? 'partial' : diverged || p.typed.length > 0 ? 'rejected' : 'ignored';
    this.onSettled({ suggestion: p.suggestion, outcome, charsAccepted: common, linesAccepted: lineCount(p.suggestion.text.slice(0, common)), acceptedVia: common > 0 ? p.via ?? 'typed' : undefined });
  }
}

function commonPrefixLength(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

function lineCount(text: string): number {
  return text.length === 0 ? 0 : text.split('\n').length;
}
