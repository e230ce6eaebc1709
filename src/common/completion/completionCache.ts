/**
 * The completion cache: suggestions keyed on the FIM windows, least recently used evicted (llama.vscode keeps
 * 250). Besides exact hits it serves type-through: while the user types the next characters of a suggestion on
 * screen, the text before the cursor is an older key's prefix plus a beginning of that key's suggestion, and the
 * rest of the suggestion is still the answer, so no engine request is needed.
 */

/** What the cache stores for one pair of windows. */
export interface CachedSuggestion {
  text: string;
  /** Other candidates (beam alternatives), already post-processed. */
  alternatives: string[];
  confidence: number | null;
}

export interface CacheHit {
  kind: 'exact' | 'typeThrough';
  /** The suggestion's remainder after what was typed (the whole suggestion for an exact hit). */
  entry: CachedSuggestion;
  /** Characters of the cached suggestion the user typed (0 for an exact hit). */
  typed: number;
}

/** Characters of prefix and suffix in a key: enough to tell places apart, independent of where a window starts. */
const KEY_PREFIX_CHARS = 2000;
const KEY_SUFFIX_CHARS = 500;
/** How far back type-through looks: the longest stretch of a suggestion a user types along with. */
const MAX_TYPE_THROUGH = 256;

export function cacheKey(prefix: string, suffix: string): string {
  return `${prefix.slice(-KEY_PREFIX_CHARS)}\u0000${suffix.slice(0, KEY_SUFFIX_CHARS)}`;
}

export class CompletionCache {
  private readonly map = new Map<string, CachedSuggestion>();

  constructor(private readonly capacity = 250) {}

  get size(): number {
    return this.map.size;
  }

  set(prefix: string, suffix: string, entry: CachedSuggestion): void {
    const key = cacheKey(prefix, suffix);
    this.map.delete(key);
    this.map.set(key, entry);
    while (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value!);
  }

  /**
   * The suggestion for these windows: an exact entry, else one whose prefix is this prefix minus the last `n`
   * characters and whose suggestion begins with those `n` characters (typed through). An entry typed to its end
   * is no hit: nothing is left to show.
   */
  get(prefix: string, suffix: string): CacheHit | undefined {
    const exact = this.touch(cacheKey(prefix, suffix));
    if (exact) return { kind: 'exact', entry: exact, typed: 0 };
    const limit = Math.min(MAX_TYPE_THROUGH, prefix.length);
    for (let n = 1; n <= limit; n++) {
      const typed = prefix.slice(prefix.length - n);
      const entry = this.map.get(cacheKey(prefix.slice(0, prefix.length - n), suffix));
      if (!entry || !entry.text.startsWith(typed) || entry.text.length === n) continue;
      this.touch(cacheKey(prefix.slice(0, prefix.length - n), suffix));
      const rest = entry.text.slice(n);
      const alternatives = entry.alternatives.filter((a) => a.startsWith(typed) && a.length > n).map((a) => a.slice(n));
      return { kind: 'typeThrough', entry: { text: rest, alternatives, confidence: entry.confidence }, typed: n };
    }
    return undefined;
  }

  clear(): void {
    this.map.clear();
  }

  private touch(key: string): CachedSuggestion | undefined {
    const entry = this.map.get(key);
    if (entry) {
      this.map.delete(key);
      this.map.set(key, entry);
    }
    return entry;
  }
}
