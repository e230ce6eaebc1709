/**
 * A tolerant scanner for the structure around a secret-like name: where its line starts, whether it sits in a
 * comment or inside a string literal, and — for the formats that spread a name and its value over several lines or
 * keys — where the value is:
 *
 * - a list item or object that names a variable and holds its value in a sibling key: Kubernetes
 *   `- name: DB_PASSWORD` + `value: …`, ECS `{"name": "DB_PASSWORD", "value": "…"}`, CloudFormation
 *   `ParameterKey`/`ParameterValue`, Terraform `variable "db_password" { default = "…" }`;
 * - a mapping or block under a secret-like key whose child holds the value (`db_password:` + `  value: …`,
 *   `admin_password = {` + `default = …`);
 * - prose and comments that introduce a value after a secret-like label or heading (`Use the value \`…\``).
 *
 * Not a parser: it reads YAML indentation, JSON/HCL braces and list dashes over a bounded window (a few lines,
 * at most ~1.5 KB) after each secret-like name, so it runs on fragments and broken files alike and stays linear
 * (each name looks at a bounded window; names are found by one keyword scan).
 */

export interface ScannedValue { start: number; end: number; quoted: boolean }

/** Where a name sits on its line. */
export interface LineContext {
  lineStart: number;
  /** Columns of leading whitespace. */
  indent: number;
  /** The name opens its line, after at most `export `, `ENV `, `ARG `, `set `, `- ` or `$env:`. */
  atLineStart: boolean;
  /** The name follows `//`, `#`, `/*`, ` * `, `--`, `;` or `<!--` outside any string: prose in a comment. */
  inComment: boolean;
  /** The quote character of a string literal that holds the name (`"API_SECRET=…"`), or ''. */
  inString: string;
}

const isSpace = (c: string | undefined) => c === ' ' || c === '\t';

/**
 * Line context for names met in increasing order over one text: the walk over each line (quotes, comment
 * markers) resumes where the previous name on that line left it, so many names on one long line cost one walk.
 */
export class LineTracker {
  private lineStart = 0;
  private walked = 0;
  private quote = '';
  private comment = false;
  private started = false;

  constructor(private readonly text: string) {}

  at(pos: number): LineContext {
    const { text } = this;
    if (!this.started || pos < this.walked) this.reset(lineStartWithin(text, pos, 400), pos);
    else {
      for (let i = pos - 1; i >= this.walked; i--) if (text.charCodeAt(i) === 10) { this.reset(i + 1, pos); break; }
    }
    if (this.lineStart < 0) return { lineStart: pos, indent: 0, atLineStart: false, inComment: false, inString: '' };
    const ls = this.lineStart;
    let i = ls;
    while (isSpace(text[i])) i++;
    const indent = i - ls;
    const lead = pos - i <= 40 ? text.slice(i, pos) : '';
    const atLineStart = pos - i <= 40 && /^(?:(?:export|ENV|ARG|set|setx|declare(?: -x)?|local|readonly|-)[ \t]+|\$env:)?$/.test(lead);
    if (this.walked === ls) {
      // A line that starts as a comment is prose however its quotes fall.
      if (/^(?:\/\/|#(?![!{])|\/\*|\*(?!\*?\/)|--(?![-\w])|;|<!--|rem\s|REM\s)/.test(text.slice(i, i + 5))) { this.comment = true; this.walked = pos; }
      else this.walked = i;
    }
    if (!this.comment) {
      let quote = this.quote;
      for (let j = this.walked; j < pos; j++) {
        const c = text[j]!;
        if (quote) {
          if (c === '\\') j++;
          else if (c === quote) quote = '';
        } else if (c === '"' || c === '\'' || c === '`') quote = c;
        else if ((c === '/' && text[j + 1] === '/' && text[j - 1] !== ':') || (c === '#' && isSpace(text[j - 1]) && text[j + 1] !== '{')) { this.comment = true; break; }
      }
      this.quote = quote;
    }
    this.walked = Math.max(this.walked, pos);
    // Quote parity far into a long (minified) line says little: no string context there.
    const inString = this.comment || pos - ls > 2000 ? '' : this.quote;
    return { lineStart: ls, indent, atLineStart, inComment: this.comment, inString };
  }

  private reset(lineStart: number, pos: number): void {
    this.started = true;
    this.lineStart = lineStart;
    this.walked = lineStart < 0 ? pos : lineStart;
    this.quote = '';
    this.comment = false;
  }
}

/** The start of the line holding `pos` when it lies within `max` characters, else -1 (keeps long lines linear). */
export function lineStartWithin(text: string, pos: number, max: number): number {
  const from = Math.max(0, pos - max);
  for (let i = pos - 1; i >= from; i--) if (text.charCodeAt(i) === 10) return i + 1;
  return from === 0 ? 0 : -1;
}

/** Line bounds of the line holding `pos`: [start, end) without the line break. */
function lineAt(text: string, pos: number): [number, number] {
  const s = Math.max(lineStartWithin(text, pos, 2000), pos - 2000, 0);
  let e = pos;
  const limit = Math.min(text.length, pos + 2000);
  while (e < limit && text.charCodeAt(e) !== 10) e++;
  if (text[e - 1] === '\r') e--;
  return [s, e];
}

/**
 * The value after `i` (at an operator's right-hand side): a quoted string on one line, or a plain run up to
 * whitespace or a closing bracket/comma of a flow collection. A plain run never crosses a line.
 */
export function readScalar(text: string, i: number, flow: boolean): ScannedValue | undefined {
  while (isSpace(text[i])) i++;
  const q = text[i];
  if (q === '"' || q === '\'' || q === '`') {
    const limit = Math.min(text.length, i + 1100);
    for (let j = i + 1; j < limit; j++) {
      const c = text[j];
      if (c === '\\' && q !== '\'') { j++; continue; }
      if (c === q) return j > i + 1 ? { start: i + 1, end: j, quoted: true } : undefined;
      if (c === '\n') return undefined;
    }
    return undefined;
  }
  let j = i;
  const limit = Math.min(text.length, i + 1100);
  while (j < limit) {
    const c = text[j]!;
    if (c === '\n' || c === '\r' || c === ' ' || c === '\t') break;
    if (flow && (c === ',' || c === '}' || c === ']')) break;
    j++;
  }
  return j > i ? { start: i, end: j, quoted: false } : undefined;
}

/** Names of the key that holds a variable's value beside the key that names it. */
const VALUE_KEY = /(?:^|[\s{,"'])(?:value|Value|VALUE|default|Default|defaultValue|default_value|ParameterValue|parameterValue|secretValue|SecretString|plaintext|val)["']?[ \t]*(?::(?!:)|=(?![=>]))/g;

/** Names of the key that names a variable: `name`, `key`, `ParameterKey`, `variable "…"`. */
const NAMING_PREFIX = /(?:^|[\s{,(\-])["']?(?:name|Name|NAME|key|Key|ParameterKey|parameterKey|ParameterName|envName|env_name|variable|var|secretName|secret_name|SecretId|label)["']?[ \t]*[:=][ \t]*["']?$|(?:^|\s)(?:variable|param|parameter|input|output|secret|arg)[ \t]+["']?$/;

/**
 * `- name: DB_PASSWORD` + `  value: …` (and the JSON, CloudFormation and one-line forms), `variable "db_password" {`
 * + `default = …`: the value that belongs to the variable named at [ks, ke), or undefined.
 */
export function valueBesideName(text: string, ks: number, ke: number): ScannedValue | undefined {
  let prefix = text.slice(Math.max(0, ks - 60), ks);
  prefix = prefix.slice(prefix.lastIndexOf('\n') + 1);
  if (!NAMING_PREFIX.test(prefix)) return undefined;
  const [ls, le] = lineAt(text, ks);
  let nameIndent = 0;
  while (isSpace(text[ls + nameIndent])) nameIndent++;
  const dashItem = text[ls + nameIndent] === '-' && isSpace(text[ls + nameIndent + 1]);
  // Columns where the item's keys start: after the dash for `- name:`, else the name's own indent.
  const keyIndent = dashItem ? nameIndent + 2 : nameIndent;
  // The same line first (`{ name: X, value: y }`, `{"name": "X", "value": "y"}`), then the lines below.
  const found = findValueKey(text, ke, le, true);
  if (found) return found;
  // A value key before the name on the same line: `{"value": "y", "name": "X"}`.
  const before = findValueKey(text, ls, ks, true);
  if (before) return before;
  let depth = 0;
  for (let i = ke; i < le; i++) { const c = text[i]; if (c === '{' || c === '[') depth++; else if (c === '}' || c === ']') depth--; }
  let pos = le + 1;
  const limit = Math.min(text.length, ke + 1500);
  for (let n = 0; n < 14 && pos < limit; n++) {
    const [s, e] = lineAt(text, pos);
    let k = s;
    while (isSpace(text[k])) k++;
    if (k < e && text[k] !== '#') {
      const col = k - s;
      // YAML: back above the item's keys, or the next item of the same list, ends the item.
      if (depth <= 0 && (col < keyIndent || (text[k] === '-' && isSpace(text[k + 1]) && col <= nameIndent))) return undefined;
      if (/^["']?(?:name|Name|ParameterKey)["']?[ \t]*[:=]/.test(text.slice(k, k + 20)) && col <= keyIndent) return undefined;
      const v = findValueKey(text, s, e, depth > 0);
      if (v) return v;
      for (let i = k; i < e; i++) {
        const c = text[i];
        if (c === '{' || c === '[') depth++;
        else if (c === '}' || c === ']') { depth--; if (depth < 0) return undefined; }
      }
    }
    pos = e + 1;
    if (text[pos - 1] === '\r') pos++;
  }
  return undefined;
}

/** A stretch of the current text known to hold no value key: lookaheads from neighbouring names share it. */
let memoText: string | undefined;
let memoFrom = 0, memoTo = -1;

/** Forgets the text (called when a scan ends, so no reference to it is kept). */
export function releaseStructureMemo(): void {
  memoText = undefined;
  memoTo = -1;
}

/** The value of a `value:` / `default =` key within [from, to), if one is there. */
function findValueKey(text: string, from: number, to: number, flow: boolean): ScannedValue | undefined {
  if (to <= from) return undefined;
  if (memoText === text && from >= memoFrom && to <= memoTo) return undefined;
  const line = text.slice(from, to);
  VALUE_KEY.lastIndex = 0;
  const m = VALUE_KEY.exec(line);
  if (!m) {
    if (memoText === text && from >= memoFrom && from <= memoTo + 2) memoTo = Math.max(memoTo, to);
    else if (memoText !== text || from > memoTo + 2) { memoText = text; memoFrom = from; memoTo = to; }
    return undefined;
  }
  const at = from + m.index + m[0].length;
  const v = readScalar(text, at, flow || /[{[]/.test(line.slice(0, m.index)));
  if (!v) return undefined;
  const first = text[v.start];
  if (!v.quoted && (first === '|' || first === '>' || first === '{' || first === '[')) return undefined;
  return v;
}

/**
 * `db_password:` with nothing after it, `admin_password = {`, `variable "db_password" {`: the value of a `value`,
 * `default` or similar key among the first children of the block opened after [ks, ke), or undefined.
 */
export function valueInChildBlock(text: string, ks: number, ke: number): ScannedValue | undefined {
  let i = ke;
  while (text[i] === '"' || text[i] === '\'') i++;
  while (isSpace(text[i])) i++;
  let brace = false;
  if (text[i] === ':' || text[i] === '=') { i++; while (isSpace(text[i])) i++; }
  if (text[i] === '{') { brace = true; i++; while (isSpace(text[i])) i++; }
  else if (text[i] === '"' || text[i] === '\'') return undefined;
  // Terraform `variable "x" {`: `{` after the label; YAML `x:` followed by the end of the line.
  if (text[i] === '\r') i++;
  if (!brace && i < text.length && text[i] !== '\n' && text[i] !== '#') return undefined;
  const [ls, le] = lineAt(text, ks);
  if (i < le && text[i] !== '#') {
    if (!brace) return undefined;
    return findValueKey(text, i, le, true); // `{ default = "…" }` on one line
  }
  let keyIndent = 0;
  while (isSpace(text[ls + keyIndent])) keyIndent++;
  let pos = le + 1;
  const limit = Math.min(text.length, ke + 1500);
  for (let n = 0; n < 12 && pos < limit; n++) {
    const [s, e] = lineAt(text, pos);
    let k = s;
    while (isSpace(text[k])) k++;
    if (k < e && text[k] !== '#') {
      if (brace ? text[k] === '}' : k - s <= keyIndent) return undefined;
      const v = findValueKey(text, k - 1 >= s ? k - 1 : k, e, brace);
      if (v) return v;
    }
    pos = e + 1;
    if (text[pos - 1] === '\r') pos++;
  }
  return undefined;
}

/**
 * Prose that introduces a value after a secret-like label: the first code span (`` `…` ``) or quoted token on the
 * label's line after it, or on the next few lines (up to a heading or three lines). Only single tokens count.
 */
export function proseValueAfter(text: string, from: number, markdown: boolean): ScannedValue | undefined {
  const [, le0] = lineAt(text, from);
  let s = from, e = Math.min(le0, from + 600);
  for (let n = 0; n < 4 && s < from + 1200; n++) {
    for (let i = s; i < e; i++) {
      const c = text[i];
      if (c === '`' || c === '"' || (c === '\'' && !/[A-Za-z]/.test(text[i - 1] ?? ''))) {
        if (c === '`' && text[i + 1] === '`') { // a fenced block or a double-backtick span: skip its markers
          while (text[i] === '`') i++;
          i--;
          continue;
        }
        let j = i + 1;
        while (j < e && text[j] !== c && j - i < 300) j++;
        if (text[j] !== c) break;
        if (j > i + 1 && !/\s/.test(text.slice(i + 1, j))) return { start: i + 1, end: j, quoted: true };
        i = j;
      }
    }
    if (e >= text.length) return undefined;
    s = e + 1;
    while (text[s] === '\n' || text[s] === '\r') s++;
    [, e] = lineAt(text, s);
    e = Math.min(e, s + 600);
    if (markdown && text[s] === '#') return undefined; // the next heading starts another topic
    // An indented code block or a quote holding one token: `    s3cr3t…`, `> dp.st.…`.
    const block = /^(?: {4,}|\t|>[ \t]?)[ \t]*([^\s`"']{6,200})[ \t]*$/.exec(text.slice(s, e));
    if (block) {
      const start = s + block[0].indexOf(block[1]!);
      return { start, end: start + block[1]!.length, quoted: true };
    }
    if (n >= 1 && s < e && /^[ \t]*$/.test(text.slice(s, e))) continue;
  }
  return undefined;
}
