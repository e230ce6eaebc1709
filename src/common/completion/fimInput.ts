/** Bounded windows of text around the cursor for a fill-in-the-middle request. */
export interface FimWindowOptions {
  /** Most characters of text before the cursor to send. */
  maxPrefixChars: number;
  /** Most characters of text after the cursor to send. */
  maxSuffixChars: number;
  /**
   * The prefix window starts on a multiple of this many characters of the document (then on the next line), so
   * it does not move with every character typed: the engine reuses its evaluated tokens only while the start of
   * the prompt stays the same. 0: no anchoring (the window starts exactly `maxPrefixChars` back).
   */
  anchorChars?: number;
}

export interface FimInput {
  prefix: string;
  suffix: string;
  /** Text after the cursor on the cursor's line: non-blank means the cursor is mid-line. */
  lineSuffix: string;
}

/**
 * The suffix is kept short: in the usual prefix-suffix-middle prompt it follows the prefix, so every keystroke
 * (which changes the prefix's end) has the engine evaluate all of the suffix again. 400 characters (~100 tokens)
 * keeps that near one batch on a 1.5B model on a laptop CPU while still showing the lines right after the cursor.
 */
export const defaultFimWindows: FimWindowOptions = { maxPrefixChars: 6000, maxSuffixChars: 400, anchorChars: 1024 };

/** Windows that fit a context of `contextTokens` with room for `maxTokens`, at a conservative 3 characters a token. */
export function windowsForContext(contextTokens: number, maxTokens: number, base: FimWindowOptions = defaultFimWindows): FimWindowOptions {
  const chars = Math.max(256, (contextTokens - maxTokens - 64) * 3);
  return {
    ...base,
    maxPrefixChars: Math.min(base.maxPrefixChars, Math.floor(chars * 0.85)),
    maxSuffixChars: Math.min(base.maxSuffixChars, Math.floor(chars * 0.15)),
  };
}

/**
 * Cuts the prefix and suffix windows from `text` at `offset`. A cut window starts (prefix) or ends (suffix) on
 * a line boundary, so the model never sees half a line at the edge of its context. `base` is the document offset
 * of `text[0]` (when `text` is a slice of the document), so the prefix start is anchored in document terms.
 */
export function buildFimInput(text: string, offset: number, options: FimWindowOptions = defaultFimWindows, base = 0): FimInput {
  const at = Math.max(0, Math.min(offset, text.length));
  let prefixStart = Math.max(0, at - options.maxPrefixChars);
  const anchor = options.anchorChars ?? 0;
  if (prefixStart > 0 && anchor > 0) {
    // Round the start up to the anchor grid (the window shrinks by less than `anchor`, never grows past the max).
    prefixStart = Math.min(at, Math.ceil((base + prefixStart) / anchor) * anchor - base);
  }
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
