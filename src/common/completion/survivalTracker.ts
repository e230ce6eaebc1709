/**
 * Survival of accepted text (Copilot's retained-characters idea): how much of what the user accepted is still in
 * the file some time later. The accepted range is carried through every later edit of the document (edits before
 * it shift it, edits inside it grow or shrink it); at each checkpoint the range's current text is compared with
 * what was accepted: survival = 1 − edit distance / accepted length, in [0, 1]. Pure, so it is tested without an
 * editor; the provider feeds it edits and reads the range's text at 30 s and 5 min.
 */
import type { DocumentEdit } from './outcomeTracker';

export interface TrackedRange {
  documentId: string;
  text: string;
  start: number;
  end: number;
}

/** Shifts or resizes `range` for one edit of its document. */
export function applyEdit(range: { start: number; end: number }, edit: DocumentEdit): void {
  const delta = edit.text.length - edit.rangeLength;
  const editEnd = edit.offset + edit.rangeLength;
  if (editEnd <= range.start) {
    // Wholly before the range (an insertion exactly at its start counts as before: the text is not the suggestion's).
    range.start += delta;
    range.end += delta;
  } else if (edit.offset >= range.end) {
    return;
  } else {
    // Overlaps the range: the range now spans from the earlier start to the end, resized by the edit.
    const start = Math.min(range.start, edit.offset);
    const end = Math.max(range.end, editEnd) + delta;
    range.start = start;
    range.end = Math.max(start, end);
  }
}

/** 1 − Levenshtein(a, b) / |a|, at least 0: the share of the accepted text `a` still present as `b`. */
export function survival(accepted: string, now: string): number {
  if (!accepted.length) return 1;
  const a = accepted;
  const b = now.length > a.length * 4 ? now.slice(0, a.length * 4) : now;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return Math.max(0, 1 - prev[b.length]! / a.length);
}

/** Accepted ranges per document, carried through edits until their last checkpoint. */
export class SurvivalTracker {
  private readonly ranges = new Set<TrackedRange>();

  track(documentId: string, start: number, text: string): TrackedRange {
    const r = { documentId, text, start, end: start + text.length };
    this.ranges.add(r);
    return r;
  }

  edited(documentId: string, edits: readonly DocumentEdit[]): void {
    // VS Code reports a change's edits against the document before the change, last first in the document; apply
    // them from the end so earlier offsets stay valid.
    const sorted = [...edits].sort((x, y) => y.offset - x.offset);
    for (const r of this.ranges) if (r.documentId === documentId) for (const e of sorted) applyEdit(r, e);
  }

  untrack(r: TrackedRange): void {
    this.ranges.delete(r);
  }

  get size(): number {
    return this.ranges.size;
  }
}
