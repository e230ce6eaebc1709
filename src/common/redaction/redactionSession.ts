/**
 * The only place where redacted values live. A session maps each distinct value to one numbered placeholder
 * (`[REDACTED:github-pat#1]`) so the same secret reads the same everywhere in one escalation, and puts the values
 * back into the cloud's answer with {@link restore}.
 *
 * The mapping is kept in a private class field, not in a property: `JSON.stringify(session)`,
 * `util.inspect(session)` (even with `showHidden`) and a logger that dumps a whole result cannot reach the values.
 * (It used to live in a module-level WeakMap; V8 keeps WeakMap entries through young-generation collections, so
 * every short-lived session was promoted to the old generation — a measurable cost when redacting many files.)
 */
interface SessionStore {
  byValue: Map<string, string>;
  byPlaceholder: Map<string, string>;
  counters: Map<string, number>;
}

export const PLACEHOLDER_PATTERN = /\[REDACTED:([a-z0-9-]+)#(\d+)\]/g;

export class RedactionSession {
  readonly #store: SessionStore = { byValue: new Map(), byPlaceholder: new Map(), counters: new Map() };

  /** How many distinct values this session has replaced. */
  get size(): number {
    return this.#store.byValue.size;
  }

  /** The placeholder for a value, numbering a new one per category on first sight. */
  placeholderFor(category: string, value: string): string {
    const s = this.#store;
    const known = s.byValue.get(value);
    if (known) return known;
    const n = (s.counters.get(category) ?? 0) + 1;
    s.counters.set(category, n);
    const placeholder = `[REDACTED:${category}#${n}]`;
    s.byValue.set(value, placeholder);
    s.byPlaceholder.set(placeholder, value);
    return placeholder;
  }

  /** Serialises to counts only. */
  toJSON(): { redactedValues: number } {
    return { redactedValues: this.size };
  }

  /** See {@link restore}. */
  static restore(text: string, session: RedactionSession): string {
    if (typeof session !== 'object' || session === null || !(#store in session)) throw new Error('not a RedactionSession');
    const s = session.#store;
    if (s.byPlaceholder.size === 0) return text;
    return text.replace(/\[?REDACTED:([a-z0-9-]+)#(\d+)\]?/g, (match, category: string, n: string) => {
      const value = s.byPlaceholder.get(`[REDACTED:${category}#${n}]`);
      return value ?? match;
    });
  }
}

/**
 * Puts the original values back into text that came back from the cloud. Placeholders the session does not know
 * (a model inventing `#7`) are left as they are; the brackets may have been dropped by the model.
 */
export function restore(text: string, session: RedactionSession): string {
  return RedactionSession.restore(text, session);
}
