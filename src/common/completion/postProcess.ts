/** Post-processing of raw model output into the suggestion shown as ghost text, and the syntactic context rules. */
export interface PostProcessContext {
  /** Text before the cursor (the FIM prefix window); optional for callers that only know the suffix. */
  prefix?: string;
  /** Text after the cursor (the FIM suffix window). */
  suffix: string;
  /** Text after the cursor on its line. */
  lineSuffix: string;
}

/** Stop strings for the engine: one line where the context wants one, else a block ends at a blank line. */
export function stopStrings(ctx: Pick<PostProcessContext, 'lineSuffix' | 'prefix'>): string[] {
  return isMultiLine(ctx) ? ['\n\n'] : ['\n'];
}

function isMidLine(ctx: Pick<PostProcessContext, 'lineSuffix'>): boolean {
  return ctx.lineSuffix.trim().length > 0;
}

/** The text before the cursor on its line. */
function linePrefix(ctx: Pick<PostProcessContext, 'prefix'>): string {
  const p = ctx.prefix ?? '';
  return p.slice(p.lastIndexOf('\n') + 1);
}

const OPENS_OR_ENDS = /(?:[{([:;}]|=>|\bdo|\bthen)\s*$/;

/**
 * Whether the suggestion may span lines, from the cursor's syntactic context: never mid-line; yes on a blank
 * line (a body or the next statements), after a line that opens a block (`{`, `(`, `[`, `:`, `=>`) and after a
 * finished statement (`;`, `}`: the next lines, what Tab-Tab-Tab continues with); a cursor at the end of an
 * unfinished line of code gets the rest of that line. Without a prefix (older callers): multi-line unless mid-line.
 */
export function isMultiLine(ctx: Pick<PostProcessContext, 'lineSuffix' | 'prefix'>): boolean {
  if (isMidLine(ctx)) return false;
  if (ctx.prefix === undefined) return true;
  const line = linePrefix(ctx);
  if (line.trim() === '') return true;
  return OPENS_OR_ENDS.test(line);
}

/** Characters right of the cursor that a suggestion may legitimately precede: closers, quotes, separators. */
const TRIVIAL_RIGHT = /[\s)\]}>"'`;,.:]/g;
/** More non-trivial characters than this right of the cursor make a completion pointless (llama.vscode's rule). */
export const MAX_NONTRIVIAL_RIGHT = 8;

/** Why no request is worth making here, or undefined: too much code right of the cursor on its line. */
export function pointlessHere(ctx: Pick<PostProcessContext, 'lineSuffix'>): string | undefined {
  const rest = ctx.lineSuffix.replace(TRIVIAL_RIGHT, '');
  return rest.length > MAX_NONTRIVIAL_RIGHT ? `rest of line has ${rest.length} non-trivial characters right of the cursor (> ${MAX_NONTRIVIAL_RIGHT})` : undefined;
}

export interface PostProcessed {
  /** The suggestion, or undefined when nothing is worth showing. */
  text: string | undefined;
  /** What was removed or why all of it was dropped, in order (for the debug log). */
  notes: string[];
}

/** Whether generation was cut by a token or time cap (the last line may be unfinished). */
export interface GenerationEnd {
  cutByCap?: boolean;
}

/**
 * Turns raw model output into a suggestion, or `undefined` when nothing is worth showing:
 * cuts at the block end (a blank line, or a line indented less than the block) or, for a one-line context, at
 * the line end; stops at a bracket that closes what the text after the cursor already closes; drops trailing
 * whitespace; removes the part that repeats the text after the cursor; re-indents continuation lines in the
 * file's indentation; drops what only repeats the line above or the lines below.
 */
export function postProcess(raw: string, ctx: PostProcessContext, end: GenerationEnd = {}): string | undefined {
  return postProcessDetailed(raw, ctx, end).text;
}

export function postProcessDetailed(raw: string, ctx: PostProcessContext, end: GenerationEnd = {}): PostProcessed {
  const notes: string[] = [];
  const drop = (why: string): PostProcessed => ({ text: undefined, notes: [...notes, why] });
  let text = raw.replace(/\r\n/g, '\n');
  if (text.trim().length === 0) return drop(raw.length ? `whitespace only (${JSON.stringify(raw)})` : 'empty output');
  const multi = isMultiLine(ctx);
  const blank = text.search(/\n[ \t]*\n/);
  if (blank >= 0) {
    notes.push(`cut at blank line (dropped ${JSON.stringify(text.slice(blank))})`);
    text = text.slice(0, blank);
  }
  if (!multi) {
    const nl = text.indexOf('\n');
    if (nl >= 0) {
      if (nl === 0 && ctx.prefix !== undefined && text.trim()) return drop(`one-line context but the output starts a new line (${JSON.stringify(clip(text))})`);
      notes.push(`one line (dropped ${JSON.stringify(clip(text.slice(nl)))})`);
      text = text.slice(0, nl);
    }
  }
  if (end.cutByCap) {
    // A cap cut the last line short: keep whole lines, and on one line whole words, never a token fragment.
    const nl = text.lastIndexOf('\n');
    if (nl > 0) {
      notes.push(`cut by cap: dropped the unfinished last line ${JSON.stringify(clip(text.slice(nl + 1)))}`);
      text = text.slice(0, nl);
    } else {
      const m = /^(.*[\s;,(){}[\]])\S*$/.exec(text);
      if (m && m[1]!.trim()) {
        if (m[1]!.length < text.length) notes.push(`cut by cap: dropped the unfinished word ${JSON.stringify(text.slice(m[1]!.length))}`);
        text = m[1]!;
      }
    }
  }
  if (multi && ctx.prefix !== undefined) {
    const cut = blockEnd(text, ctx);
    if (cut < text.length) {
      notes.push(`stopped at block end (dropped ${JSON.stringify(clip(text.slice(cut)))})`);
      text = text.slice(0, cut);
    }
    const reindented = reindent(text, ctx.prefix);
    if (reindented !== text) notes.push('re-indented to the file\'s indentation');
    text = reindented;
  }
  const closed = cutAtUnmatchedClose(text, ctx.lineSuffix);
  if (closed < text.length) {
    notes.push(`stopped at a bracket the line already closes (dropped ${JSON.stringify(clip(text.slice(closed)))})`);
    text = text.slice(0, closed);
  }
  const trimmedEnd = text.replace(/[ \t\n]+$/, '');
  text = trimmedEnd;
  const beforeOverlap = text;
  text = trimSuffixOverlap(text, ctx.lineSuffix.trimEnd());
  if (text !== beforeOverlap) notes.push(`trimmed overlap with the text after the cursor (${JSON.stringify(beforeOverlap.slice(text.length))})`);
  if (text.trim().length === 0) return drop(`nothing left after post-processing (raw ${JSON.stringify(clip(raw))})`);
  const dup = duplicates(text, ctx);
  if (dup) return drop(`${dup} (${JSON.stringify(clip(text))})`);
  return { text, notes };
}

function clip(s: string, n = 60): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

function indentOf(line: string): number {
  const m = /^[ \t]*/.exec(line)![0];
  return m.replace(/\t/g, '    ').length;
}

/**
 * Where a multi-line suggestion leaves the block the cursor is in: the first later line indented less than the
 * cursor's line. A line of closing brackets there is kept when the text after the cursor does not already close
 * the block with it (so `{` + Enter gets its `}` once, not twice).
 */
function blockEnd(text: string, ctx: PostProcessContext): number {
  const lines = text.split('\n');
  if (lines.length < 2) return text.length;
  const cursorLine = linePrefix(ctx);
  // The block's indentation: the cursor line's, or, after a line that opens a block, deeper than it.
  const base = cursorLine.trim() === ''
    ? indentOf(cursorLine) + indentOf(lines[0]!)
    : indentOf(cursorLine) + (/(?:[{([:]|=>)\s*$/.test(cursorLine) ? 1 : 0);
  let offset = lines[0]!.length + 1;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() !== '' && indentOf(line) < base) {
      const nextBelow = ctx.suffix.slice(ctx.lineSuffix.length).split('\n').find((l) => l.trim() !== '') ?? '';
      const closer = /^[\s)\]}]+[;,]?\s*$/.test(line);
      if (closer && nextBelow.trimEnd() !== line.trimEnd()) return Math.min(text.length, offset + line.length);
      return Math.max(0, offset - 1);
    }
    offset += line.length + 1;
  }
  return text.length;
}

/** Continuation lines in the file's indentation: tabs where the file indents with tabs, spaces otherwise. */
function reindent(text: string, prefix: string): string {
  const usesTabs = /\n\t/.test(prefix) && !/\n {2,}\S/.test(prefix);
  const usesSpaces = /\n {2,}\S/.test(prefix) && !/\n\t/.test(prefix);
  return text
    .split('\n')
    .map((line, i) => {
      if (i === 0) return line;
      const lead = /^[ \t]*/.exec(line)![0];
      if (usesTabs && lead.includes(' ')) return '\t'.repeat(Math.round(indentOf(lead) / 4)) + line.slice(lead.length);
      if (usesSpaces && lead.includes('\t')) return ' '.repeat(indentOf(lead)) + line.slice(lead.length);
      return line;
    })
    .join('\n');
}

const OPEN = '([{';
const CLOSE = ')]}';

/**
 * Where the suggestion closes a bracket it did not open, when the text after the cursor starts with that same
 * closer: the model balanced a bracket the line already balances, so the suggestion ends there.
 */
function cutAtUnmatchedClose(text: string, lineSuffix: string): number {
  const after = lineSuffix.trimStart();
  if (!after || !CLOSE.includes(after[0]!)) return text.length;
  const stack: string[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (OPEN.includes(c)) stack.push(c);
    else if (CLOSE.includes(c)) {
      if (stack.length === 0) return c === after[0] ? i : text.length;
      stack.pop();
    }
  }
  return text.length;
}

/** Why the suggestion only repeats what is there (the line above, the lines below, itself), or undefined. */
function duplicates(text: string, ctx: PostProcessContext): string | undefined {
  const lines = text.split('\n');
  const norm = (s: string) => s.trim();
  if (ctx.prefix !== undefined) {
    const before = ctx.prefix.split('\n');
    const current = before[before.length - 1]!;
    const above = before.slice(0, -1).reverse().find((l) => l.trim() !== '');
    if (lines.length === 1 && current.trim() === '' && above !== undefined && norm(above) === norm(text) && norm(text).length > 3) return 'repeats the line above';
  }
  if (!isMidLine(ctx)) {
    // The lines the suggestion would produce (the cursor's line completed) against the lines already below.
    const below = ctx.suffix.slice(ctx.lineSuffix.length).split('\n').slice(1).filter((l) => l.trim() !== '').map(norm);
    const produced = [(ctx.prefix !== undefined ? linePrefix(ctx) : '') + lines[0]!, ...lines.slice(1)].map(norm).filter((l) => l !== '');
    if (produced.length && below.length >= produced.length && produced.every((l, i) => l === below[i]) && produced.join('').length > 3) return 'duplicates the lines below';
  }
  if (lines.length >= 3 && new Set(lines.map(norm)).size === 1) return 'the same line repeated';
  return undefined;
}

/** Removes the longest end of `text` that equals the start of `after` (at least one non-space character). */
export function trimSuffixOverlap(text: string, after: string): string {
  const max = Math.min(text.length, after.length);
  for (let n = max; n > 0; n--) {
    const tail = text.slice(text.length - n);
    if (tail.trim().length > 0 && after.startsWith(tail)) return text.slice(0, text.length - n);
  }
  return text;
}
