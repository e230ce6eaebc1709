/** Bounded windows of text around the cursor for a fill-in-the-middle request. */
export interface FimWindowOptions {
  /** Most characters of text before the cursor to send. */
  maxPrefixChars: number;
  /** Most characters of text after the cursor to send. */
  maxSuffixChars: number;
}

export interface FimInput {
  prefix: string;
  suffix: string;
  /** Text after the cursor on the cursor's line: non-blank means the cursor is mid-line. */
  lineSuffix: string;
}

export const defaultFimWindows: FimWindowOptions = { maxPrefixChars: 6000, maxSuffixChars: 2000 };

/**
 * Cuts the prefix and suffix windows from `text` at `offset`. A cut window starts (prefix) or ends (suffix) on
 * a line boundary, so the model never sees half a line at the edge of its context.
 */
export function buildFimInput(text: string, offset: number, options: FimWindowOptions = defaultFimWindows): FimInput {
  const at = Math.max(0, Math.min(offset, text.length));
  let prefixStart = Math.max(0, at - options.maxPrefixChars);
  if (prefixStart > 0) {
    const nl = text.indexOf('\n', prefixStart);
    prefixStart = nl >= 0 && nl < at ? nl + 1 : prefixStart;
  }
  let suffixEnd = Math.min(text.length, at + options.maxSuffixChars);
  if (suffixEnd < text.length) {
    const nl = text.lastIndexOf('\n', suffixEnd);
    suffixEnd = nl > at ? nl : suffixEnd;
  }
  const lineEnd = text.indexOf('\n', at);
  return {
    prefix: text.slice(prefixStart, at),
    suffix: text.slice(at, suffixEnd),
    lineSuffix: text.slice(at, lineEnd < 0 ? text.length : lineEnd),
  };
}
