/**
 * The redaction engine: runs every enabled detector over a text, merges overlapping findings, and replaces each
 * with a numbered placeholder from a {@link RedactionSession}. Pure TypeScript; the policy feeds it custom
 * patterns, disabled categories and allowed values.
 */
import { assignmentSecrets, credentialPairs } from './assignmentSecrets';
import { BUILTIN_CATEGORIES, CATEGORY_GROUPS, categorySlug } from './categories';
import { commandLinePasswords } from './commandLineSecrets';
import { fileKindOf, PRIORITY, type Detector, type RawFinding, type ScanContext } from './detector';
import { releaseNumberRegions } from './numberScan';
import { personalDataDetectors } from './personalData';
import { providerTokenDetectors } from './providerTokens';
import { RedactionSession } from './redactionSession';
import { structuredSecretDetectors } from './structuredSecrets';
import { releaseStructureMemo } from './structureScan';

/** A pattern from the policy. With a capture group (or a group named `secret`) only that group is redacted. */
export interface CustomPattern {
  name: string;
  regex: string | RegExp;
  /** Category slug shown in placeholders; defaults to the name. */
  category?: string;
  /** Regex flags when `regex` is a string (`g` is always added). */
  flags?: string;
}

export interface RedactorOptions {
  customPatterns?: readonly CustomPattern[];
  /** Category slugs to leave alone, or the groups `secrets` / `pii`. */
  disabledCategories?: readonly string[];
  /** Exact values known to be safe (e.g. a shared test key the team publishes). */
  allowValues?: readonly string[];
}

export interface RedactOptions {
  /** Decides how literals are written (code, config, .env); detection works without it. */
  fileName?: string;
  /** Share one session across several texts of one escalation; a new session is made when absent. */
  session?: RedactionSession;
}

/** One replaced span. Offsets refer to the input text. Never carries the value. */
export interface Finding {
  category: string;
  start: number;
  end: number;
  placeholder: string;
}

export interface RedactionResult {
  text: string;
  findings: Finding[];
  countsByCategory: Record<string, number>;
  /** Holds the values for {@link restore}; serialises to a count only. */
  session: RedactionSession;
}

export interface Redactor {
  redact(text: string, options?: RedactOptions): RedactionResult;
  /** Spans only, without replacing anything (benchmarks, previews). */
  scan(text: string, options?: Pick<RedactOptions, 'fileName'>): Omit<Finding, 'placeholder'>[];
  /** Categories this redactor can emit after options were applied. */
  readonly categories: readonly string[];
}

/** Thrown for an unusable option (an invalid custom regex): the policy layer turns it into a diagnostic. */
export class RedactionConfigError extends Error {}

/** Every built-in detector, in the order they run. */
export const BUILTIN_DETECTORS: readonly Detector[] = [
  ...providerTokenDetectors,
  ...structuredSecretDetectors,
  commandLinePasswords,
  assignmentSecrets,
  credentialPairs,
  ...personalDataDetectors,
];

function customDetector(p: CustomPattern): Detector {
  const category = categorySlug(p.category ?? p.name);
  let re: RegExp;
  try {
    const flags = new Set([...(typeof p.regex === 'string' ? p.flags ?? '' : p.regex.flags), 'g', 'd']);
    re = new RegExp(typeof p.regex === 'string' ? p.regex : p.regex.source, [...flags].join(''));
  } catch (err) {
    throw new RedactionConfigError(`custom pattern "${p.name}": ${err instanceof Error ? err.message : String(err)}`);
  }
  if (re.test('')) throw new RedactionConfigError(`custom pattern "${p.name}" matches the empty string`);
  return {
    id: `custom:${p.name}`,
    categories: [category],
    detect(ctx, emit) {
      const r = new RegExp(re.source, re.flags);
      for (let m = r.exec(ctx.text); m; m = r.exec(ctx.text)) {
        if (m[0].length === 0) { r.lastIndex++; continue; }
        const span = m.indices?.groups?.secret ?? (m.length > 1 ? m.indices?.[1] : undefined) ?? [m.index, m.index + m[0].length];
        if (!span || span[1] <= span[0]) continue;
        if (ctx.isAllowed(ctx.text.slice(span[0], span[1]))) continue;
        emit({ category, start: span[0], end: span[1], priority: PRIORITY.custom });
      }
    },
  };
}

function isDisabled(category: string, disabled: ReadonlySet<string>): boolean {
  if (disabled.has(category)) return true;
  const info = (BUILTIN_CATEGORIES as Record<string, { kind: string }>)[category];
  const kind = info?.kind ?? 'secret';
  for (const [group, k] of Object.entries(CATEGORY_GROUPS)) if (k === kind && disabled.has(group)) return true;
  return false;
}

/** Merges overlapping spans into their union, named after the highest-priority member (never leak a fragment). */
function mergeFindings(raw: RawFinding[]): RawFinding[] {
  raw.sort((a, b) => a.start - b.start || b.priority - a.priority || b.end - a.end);
  const out: RawFinding[] = [];
  for (const f of raw) {
    const last = out[out.length - 1];
    if (last && f.start < last.end) {
      if (f.priority > last.priority || (f.priority === last.priority && f.end - f.start > last.end - last.start)) last.category = f.category;
      last.priority = Math.max(last.priority, f.priority);
      last.end = Math.max(last.end, f.end);
    } else out.push({ ...f });
  }
  return out;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

/**
 * One regex for a set of literals, as a trie (`s(?:k(?:_live_|-)|sn)` rather than `sk_live_|sk-|ssn`): literals
 * share their prefixes, so irregexp tries each position of the text against one branch per distinct first
 * character instead of against every literal. With the keywords of the .netrc, command-line and SIN detectors
 * added, the trie's scan of the bench corpus took about a tenth less time than the longest-first alternation's. At
 * each position the longest literal wins, as it did in that alternation.
 */
export function keywordTrie(literals: readonly string[]): string {
  const build = (rests: readonly string[]): string => {
    const byFirst = new Map<string, string[]>();
    let ends = false;
    for (const r of rests) {
      if (r === '') ends = true;
      else byFirst.set(r[0]!, [...(byFirst.get(r[0]!) ?? []), r.slice(1)]);
    }
    const branches = [...byFirst].map(([c, next]) => escapeRegex(c) + build(next));
    if (branches.length === 0) return '';
    const body = branches.length === 1 ? branches[0]! : `(?:${branches.join('|')})`;
    return ends ? `(?:${body})?` : body;
  };
  return build([...new Set(literals)]);
}

/** The category names that may be switched off: personal-data categories, the `pii` group, and custom ones. */
export function disableableCategories(customPatterns: readonly CustomPattern[] = []): string[] {
  const builtin = Object.entries(BUILTIN_CATEGORIES).filter(([, info]) => info.kind === 'pii').map(([c]) => c);
  const groups = Object.entries(CATEGORY_GROUPS).filter(([, k]) => k === 'pii').map(([g]) => g);
  return [...groups, ...builtin, ...customPatterns.map((p) => categorySlug(p.category ?? p.name))];
}

/**
 * Checks `disabledCategories` the same way whoever passed them (CLI, settings, policy): a secret category or the
 * `secrets` group can never be switched off, and an unknown name is an error listing the valid ones (a typo must
 * not leave the category the user meant switched on while they believe it is off, or the reverse).
 */
export function checkDisabledCategories(disabled: readonly string[], customPatterns: readonly CustomPattern[] = []): void {
  const valid = disableableCategories(customPatterns);
  for (const raw of disabled) {
    const c = raw.toLowerCase();
    const info = (BUILTIN_CATEGORIES as Record<string, { kind: string }>)[c];
    if (CATEGORY_GROUPS[c] === 'secret' || info?.kind === 'secret') {
      throw new RedactionConfigError(`"${raw}" is a secret category: secrets are always redacted and cannot be switched off. Categories that can be: ${valid.join(', ')}`);
    }
    if (!valid.includes(c)) throw new RedactionConfigError(`unknown redaction category "${raw}"; categories that can be switched off: ${valid.join(', ')}`);
  }
}

/**
 * Builds a redactor; throws {@link RedactionConfigError} for an invalid custom pattern, and for a disabled
 * category that is a secret or unknown (see {@link checkDisabledCategories}).
 */
export function createRedactor(options: RedactorOptions = {}): Redactor {
  checkDisabledCategories(options.disabledCategories ?? [], options.customPatterns);
  const disabled = new Set((options.disabledCategories ?? []).map((c) => c.toLowerCase()));
  const allow = new Set(options.allowValues ?? []);
  const all = [...BUILTIN_DETECTORS, ...(options.customPatterns ?? []).map(customDetector)];
  const detectors = all
    .map((d) => ({ d, enabled: d.categories.filter((c) => !isDisabled(c, disabled)) }))
    .filter((x) => x.enabled.length > 0)
    .map((x) => ({ ...x.d, enabledSet: new Set(x.enabled) }));
  const categories = [...new Set(detectors.flatMap((d) => [...d.enabledSet]))];
  // One pass over the text finds every keyword at once; scanning the text once per keyword cost more than the
  // detectors themselves on keyword-free source.
  const keywords = [...new Set(detectors.flatMap((d) => d.keywords ?? []))];
  const detectorsByKeyword = new Map<string, number[]>();
  detectors.forEach((d, i) => { for (const k of d.keywords ?? []) detectorsByKeyword.set(k, [...(detectorsByKeyword.get(k) ?? []), i]); });
  const keywordRe = keywords.length > 0 ? new RegExp(keywordTrie(keywords), 'g') : undefined;

  const scanRaw = (text: string, fileName: string | undefined): RawFinding[] => {
    let lowered: string | undefined;
    const ctx: ScanContext = {
      text,
      fileName,
      fileKind: fileKindOf(fileName),
      lower: () => (lowered ??= text.toLowerCase()),
      isAllowed: (v) => allow.size > 0 && allow.has(v),
    };
    // Detectors with keywords run only when one of them occurred; the others always run.
    const active = new Uint8Array(detectors.length);
    for (let i = 0; i < detectors.length; i++) if (!detectors[i]!.keywords) active[i] = 1;
    if (keywordRe) {
      const re = keywordRe;
      re.lastIndex = 0;
      for (let m = re.exec(text); m; m = re.exec(text)) for (const i of detectorsByKeyword.get(m[0])!) active[i] = 1;
    }
    const raw: RawFinding[] = [];
    let enabled: ReadonlySet<string> = new Set();
    const emit = (f: RawFinding) => {
      if (enabled.has(f.category) && f.end > f.start) raw.push(f);
    };
    try {
      for (let i = 0; i < detectors.length; i++) {
        if (!active[i]) continue;
        const d = detectors[i]!;
        if (d.keywordsLower && !d.keywordsLower.some((k) => ctx.lower().includes(k))) continue;
        enabled = d.enabledSet;
        d.detect(ctx, emit);
      }
    } finally {
      releaseNumberRegions(); // keep no reference to the text once it is redacted
      releaseStructureMemo();
    }
    return mergeFindings(raw);
  };

  return {
    categories,
    scan(text, opts = {}) {
      return scanRaw(text, opts.fileName).map(({ category, start, end }) => ({ category, start, end }));
    },
    redact(text, opts = {}) {
      const session = opts.session ?? new RedactionSession();
      const spans = scanRaw(text, opts.fileName);
      const findings: Finding[] = [];
      const countsByCategory: Record<string, number> = {};
      const parts: string[] = [];
      let pos = 0;
      for (const f of spans) {
        const placeholder = session.placeholderFor(f.category, text.slice(f.start, f.end));
        parts.push(text.slice(pos, f.start), placeholder);
        pos = f.end;
        findings.push({ category: f.category, start: f.start, end: f.end, placeholder });
        countsByCategory[f.category] = (countsByCategory[f.category] ?? 0) + 1;
      }
      parts.push(text.slice(pos));
      return { text: parts.join(''), findings, countsByCategory, session };
    },
  };
}
