/**
 * Parses the text of `.hearth/policy.jsonc` (comments and trailing commas allowed) and validates it, reporting
 * every problem with its position in the text so the editor can underline it.
 */
import { findNodeAtLocation, getNodeValue, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import type { z } from 'zod';
import { POLICY_FILE, repoPolicySchema, type RepoPolicy } from './policySchema';

export type PolicyPath = (string | number)[];

/** One problem in the policy file. `offset`/`length` index the text (UTF-16, like a VS Code document). */
export interface PolicyProblem {
  message: string;
  offset: number;
  length: number;
  /** 1-based, for messages. */
  line: number;
  column: number;
  path?: PolicyPath;
}

/** Why a policy file cannot be used; escalation is blocked while it stands. */
export interface PolicyLoadError {
  /** e.g. `.hearth/policy.jsonc`. */
  file: string;
  /** One line naming the first problem and its position. */
  message: string;
  problems: PolicyProblem[];
}

export type ParsedPolicy = { ok: true; policy: RepoPolicy; text: string } | { ok: false; error: PolicyLoadError };

/** 1-based line and column of `offset` in `text`. */
export function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

function problem(text: string, message: string, offset: number, length: number, path?: PolicyPath): PolicyProblem {
  return { message, offset, length: Math.max(length, 1), ...lineColumnAt(text, offset), ...(path ? { path } : {}) };
}

/** The node a JSON path points at, or its closest existing ancestor (a missing property points at its object). */
export function nodeAtPath(root: Node, path: PolicyPath): Node {
  for (let n = path.length; n >= 0; n--) {
    const node = findNodeAtLocation(root, path.slice(0, n));
    if (node) return node;
  }
  return root;
}

/** Offset and length of the text a JSON path names: a property's key when `key`, else its value. */
export function rangeOfPath(root: Node, path: PolicyPath, key = false): { offset: number; length: number } {
  const node = nodeAtPath(root, path);
  if (key && node.parent?.type === 'property' && node.parent.children?.[0]) {
    const k = node.parent.children[0];
    return { offset: k.offset, length: k.length };
  }
  // An object or array spans many lines: underline its first character only.
  if (node.type === 'object' || node.type === 'array') {
    const keyNode = node.parent?.type === 'property' ? node.parent.children?.[0] : undefined;
    return keyNode ? { offset: keyNode.offset, length: keyNode.length } : { offset: node.offset, length: 1 };
  }
  return { offset: node.offset, length: node.length };
}

/** Parses a JSONC text into its tree; undefined when it has syntax errors. */
export function parsePolicyTree(text: string): Node | undefined {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  return errors.length ? undefined : root;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.length ? issue.path.join('.') : 'the policy';
  return `${where}: ${issue.message}`;
}

function issueProblems(text: string, root: Node, issue: z.core.$ZodIssue): PolicyProblem[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => {
      const r = rangeOfPath(root, [...path, k], true);
      const where = path.length ? `${path.join('.')}: ` : '';
      return problem(text, `${where}unknown property "${k}"`, r.offset, r.length, [...path, k]);
    });
  }
  if (issue.code === 'invalid_union') {
    // A union's own message ("Invalid input") says nothing; the first branch's does.
    const inner = issue.errors[0]?.[0];
    if (inner) {
      const r = rangeOfPath(root, path);
      return [problem(text, `${path.join('.')}: ${inner.message}`, r.offset, r.length, path)];
    }
  }
  const exists = findNodeAtLocation(root, path) !== undefined;
  const r = rangeOfPath(root, path, !exists);
  const message = !exists ? `${path.join('.')} is required` : describeIssue(issue);
  return [problem(text, message, r.offset, r.length, path)];
}

/**
 * Parses and validates a policy text. Never throws: a syntax error, a wrong shape, a malformed glob or regex
 * each becomes a {@link PolicyProblem}.
 */
export function parsePolicyText(text: string, file: string = POLICY_FILE): ParsedPolicy {
  const fail = (problems: PolicyProblem[]): ParsedPolicy => {
    const first = problems[0]!;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
    return { ok: false, error: { file, message: `${file} line ${first.line}, column ${first.column}: ${first.message}${more}`, problems } };
  };
  if (!text.trim()) return fail([problem(text, 'the policy file is empty: it needs at least { "version": 1 }', 0, 1)]);
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length || !root) {
    return fail(errors.map((e) => problem(text, `JSON syntax error: ${printParseErrorCode(e.error).replace(/(?<=[a-z])(?=[A-Z])/g, ' ').toLowerCase()}`, e.offset, e.length)));
  }
  const value: unknown = getNodeValue(root);
  const result = repoPolicySchema.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.flatMap((i) => issueProblems(text, root, i));
    problems.sort((a, b) => a.offset - b.offset);
    return fail(problems);
  }
  return { ok: true, policy: result.data, text };
}
