/**
 * Line hunks between a file and its proposed replacement, so "Apply to file" can offer each hunk as its own edit
 * in the refactor preview (the user ticks the hunks to keep). A longest-common-subsequence diff over lines, with
 * the common head and tail trimmed first; past a size where that would be slow, the middle is one hunk.
 */

export interface LineHunk {
  /** 0-based first line of the old text replaced, and how many lines. */
  oldStart: number;
  oldLines: number;
  /** The lines that take their place. */
  newLines: string[];
}

const MAX_CELLS = 4_000_000;

export function lineHunks(oldText: string, newText: string): LineHunk[] {
  const a = oldText.split('\n');
  const b = newText.split('\n');
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const am = a.slice(head, a.length - tail);
  const bm = b.slice(head, b.length - tail);
  if (am.length === 0 && bm.length === 0) return [];
  if (am.length * bm.length > MAX_CELLS) return [{ oldStart: head, oldLines: am.length, newLines: bm }];
  // lcs[i][j]: length of the LCS of am[i..] and bm[j..].
  const n = am.length;
  const m = bm.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = am[i] === bm[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const hunks: LineHunk[] = [];
  let cur: LineHunk | undefined;
  let i = 0;
  let j = 0;
  const flush = () => {
    if (cur) hunks.push(cur);
    cur = undefined;
  };
  while (i < n || j < m) {
    if (i < n && j < m && am[i] === bm[j]) {
      flush();
      i++;
      j++;
    } else if (j < m && (i >= n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      cur ??= { oldStart: head + i, oldLines: 0, newLines: [] };
      cur.newLines.push(bm[j]!);
      j++;
    } else {
      cur ??= { oldStart: head + i, oldLines: 0, newLines: [] };
      cur.oldLines++;
      i++;
    }
  }
  flush();
  return hunks;
}

/** Applies hunks (as `lineHunks` returned them) to `oldText`: the inverse check the tests use. */
export function applyHunks(oldText: string, hunks: LineHunk[]): string {
  const lines = oldText.split('\n');
  for (const h of [...hunks].sort((x, y) => y.oldStart - x.oldStart)) lines.splice(h.oldStart, h.oldLines, ...h.newLines);
  return lines.join('\n');
}
