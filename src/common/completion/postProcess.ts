/** Post-processing of raw model output into the suggestion shown as ghost text. */
export interface PostProcessContext {
  /** Text after the cursor (the FIM suffix window). */
  suffix: string;
  /** Text after the cursor on its line. */
  lineSuffix: string;
}

/** Stop strings for the engine: a mid-line cursor gets one line, otherwise a block ends at a blank line. */
export function stopStrings(ctx: Pick<PostProcessContext, 'lineSuffix'>): string[] {
  return isMidLine(ctx) ? ['\n'] : ['\n\n'];
}

function isMidLine(ctx: Pick<PostProcessContext, 'lineSuffix'>): boolean {
  return ctx.lineSuffix.trim().length > 0;
}

/**
 * Turns raw model output into a suggestion, or `undefined` when nothing is worth showing:
 * cuts at the block end (a blank line) or, mid-line, at the line end; drops trailing whitespace; and removes
 * the part that repeats the text already after the cursor (a model often closes a bracket that is there).
 */
export function postProcess(raw: string, ctx: PostProcessContext): string | undefined {
  let text = raw.replace(/\r\n/g, '\n');
  const blank = text.search(/\n[ \t]*\n/);
  if (blank >= 0) text = text.slice(0, blank);
  if (isMidLine(ctx)) {
    const nl = text.indexOf('\n');
    if (nl >= 0) text = text.slice(0, nl);
  }
  text = text.replace(/[ \t\n]+$/, '');
  text = trimSuffixOverlap(text, ctx.lineSuffix.trimEnd());
  if (text.trim().length === 0) return undefined;
  return text;
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
