/**
 * Text measures shared by `bench/model.ts` (the shipped model on held-out files) and the task battery (a repo's
 * own tasks): edit distance, edit similarity, and the cut of a bracket task's proposal at the close it sits in.
 */

/** Levenshtein distance (insert, delete, substitute: cost 1 each), two rows of memory. */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  if (!a.length) return b.length;
  if (!b.length) return a.length;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  let cur = new Array<number>(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length]!;
}

/** 1 − Levenshtein / longer length: 1 for equal strings (two empty ones too), 0 for nothing in common. */
export function editSimilarity(a: string, b: string): number {
  const n = Math.max(a.length, b.length);
  return n === 0 ? 1 : 1 - levenshtein(a, b) / n;
}

/** Cuts text at the first closing bracket that has no opening bracket in the text (the one the cursor is inside). */
export function cutAtUnmatchedClose(text: string): string {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      if (depth === 0) return text.slice(0, i);
      depth--;
    }
  }
  return text;
}

/**
 * Text compared for exact match: line endings unified and trailing whitespace dropped from every line and from
 * the end, so an editor's whitespace trimming is no miss.
 */
export function normaliseForMatch(text: string): string {
  return text.replace(/\r\n/g, '\n').split('\n').map((l) => l.trimEnd()).join('\n').trimEnd();
}

/**
 * The share of the expected text a user could take from the start of the proposal (the longest common prefix
 * over the expected length; 1 for an exact match): what partial acceptance, word by word, would keep. Unlike
 * edit similarity it gives a long wrong answer no credit for letters it shares by chance.
 */
export function acceptedShare(proposal: string, expected: string): number {
  if (proposal === expected) return 1;
  if (!expected.length) return 0;
  let i = 0;
  while (i < proposal.length && i < expected.length && proposal[i] === expected[i]) i++;
  return i / expected.length;
}
