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
 * The part of a document the editor passes for a completion at `offset` (a document of `length` characters): the
 * prefix window before the cursor and the suffix window after it, as `[start, end)`; `start` is the `base` to give
 * {@link buildFimInput}, which anchors the prefix inside it. Benchmarks replay typing through the same cut.
 */
export function documentWindow(offset: number, length: number, options: FimWindowOptions): { start: number; end: number } {
  return { start: Math.max(0, offset - options.maxPrefixChars), end: Math.min(length, offset + options.maxSuffixChars) };
}

/**
 * Where the prefix window of a request at document offset `offset` starts, on the anchor grid (before
 * `buildFimInput` moves it to a line start): it stays put while the user types within one grid step, and where it
 * moves the engine reads the window again.
 */
export function anchoredWindowStart(offset: number, options: FimWindowOptions): number {
  const start = Math.max(0, offset - options.maxPrefixChars);
  const anchor = anchorOf(options);
  return start > 0 && anchor > 0 ? Math.min(offset, Math.ceil(start / anchor) * anchor) : start;
}

/** The anchor grid: at most a quarter of the window, so a small window (a small context) keeps three quarters of its text. */
const anchorOf = (options: FimWindowOptions) => Math.min(options.anchorChars ?? 0, Math.floor(options.maxPrefixChars / 4));

/**
 * Cuts the prefix and suffix windows from `text` at `offset`. A cut window starts (prefix) or ends (suffix) on
 * a line boundary, so the model never sees half a line at the edge of its context. `base` is the document offset
 * of `text[0]` (when `text` is a slice of the document), so the prefix start is anchored in document terms.
 */
export function buildFimInput(text: string, offset: number, options: FimWindowOptions = defaultFimWindows, base = 0): FimInput {
  const at = Math.max(0, Math.min(offset, text.length));
  let prefixStart = Math.max(0, at - options.maxPrefixChars);
  const anchor = anchorOf(options);
  // The window is cut where the document goes on before it: before `text` (`base` > 0, the caller passed exactly
  // the window, as the editor does) or inside it.
  const cut = base + prefixStart > 0;
  if (cut && anchor > 0) {
    // Round the start up to the anchor grid (the window shrinks by less than `anchor`, never grows past the max).
    prefixStart = Math.min(at, Math.ceil((base + prefixStart) / anchor) * anchor - base);
  }
  if (cut) {
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

/**
 * The text a completion is asked for while the editor's suggest widget has an item selected: `text` (a window of
 * the document, the cursor at `offset`) with the item's text in place of what it replaces (from `replaceFrom`, an
 * offset in `text`, to the cursor), the cursor after it. VS Code then shows ghost text only where it extends that
 * item, so the model has to continue the item, not the typed word.
 */
export function withSelectedItem(text: string, offset: number, replaceFrom: number, itemText: string): { text: string; offset: number } {
  const from = Math.max(0, Math.min(replaceFrom, offset));
  return { text: text.slice(0, from) + itemText + text.slice(offset), offset: from + itemText.length };
}
