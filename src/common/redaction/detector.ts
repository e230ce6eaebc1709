/** The contract between the redactor and each detector. */

/** How literal values are written in a file: decides whether an unquoted right-hand side can be a secret. */
export type FileKind = 'code' | 'config' | 'env' | 'unknown';

/** A span the redactor will replace. Higher priority wins category naming when spans overlap. */
export interface RawFinding {
  category: string;
  start: number;
  end: number;
  priority: number;
}

export interface ScanContext {
  readonly text: string;
  /** The text lower-cased once per scan, for case-insensitive keyword prefilters. */
  lower(): string;
  readonly fileKind: FileKind;
  readonly fileName: string | undefined;
  /** Extra values the caller knows are safe (from the policy). */
  isAllowed(value: string): boolean;
}

export type Emit = (finding: RawFinding) => void;

export interface Detector {
  id: string;
  /** Every category the detector may emit, so a disabled category can skip it entirely. */
  categories: readonly string[];
  /** Case-sensitive literals; the detector runs only when one occurs in the text. */
  keywords?: readonly string[];
  /** Lower-case literals matched against the lower-cased text. */
  keywordsLower?: readonly string[];
  detect(ctx: ScanContext, emit: Emit): void;
}

/** Priorities: a provider's own format beats structure, which beats name-and-entropy guesses. */
export const PRIORITY = { custom: 50, provider: 40, structure: 30, pii: 20, generic: 10 } as const;

/** [A-Za-z0-9_] by character code. */
const isWordCode = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;

/** True when the characters on either side of [start, end) do not continue a token. */
export function tokenBoundary(text: string, start: number, end: number, extra = ''): boolean {
  const cont = (i: number) => isWordCode(text.charCodeAt(i)) || (extra !== '' && extra.includes(text[i]!));
  return !(start > 0 && cont(start - 1)) && !(end < text.length && cont(end));
}

/** Guesses the file kind from its name. */
export function fileKindOf(fileName: string | undefined): FileKind {
  if (!fileName) return 'unknown';
  const base = fileName.replace(/^.*[\\/]/, '').toLowerCase();
  if (base === '.env' || base.startsWith('.env.') || base.endsWith('.env')) return 'env';
  const ext = base.includes('.') ? base.slice(base.lastIndexOf('.') + 1) : '';
  if (/^(?:[cm]?[jt]sx?|py|go|java|kts?|cs|rb|php|rs|swift|c|cc|cpp|cxx|h|hpp|scala|dart|lua|groovy|m|mm|fs|vb|ex|exs|erl|clj|jl|r)$/.test(ext)) return 'code';
  if (ext === 'md' || ext === 'txt' || ext === 'rst' || ext === 'log' || ext === 'html' || ext === 'htm') return 'unknown';
  return 'config';
}
