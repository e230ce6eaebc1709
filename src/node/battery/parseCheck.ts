/**
 * Whether a filled window still parses, for TypeScript and JavaScript, with the TypeScript compiler API.
 *
 * `typescript` is a devDependency: it is not bundled (esbuild marks it external; bundling would add ~9 MB to
 * every bundle) and not shipped in the .vsix, so it is loaded on first use and the check is skipped (null)
 * where it is absent. Other languages are not checked (null): no parser library is installed for them.
 *
 * The battery holds windows of the file, not whole files, so a window cut inside a construct has syntax errors
 * of its own: the check counts syntax errors of prefix + proposal + suffix and passes when there are no more
 * than with the expected text in the gap.
 */
import { createRequire } from 'node:module';

interface TsApi {
  createSourceFile(name: string, text: string, target: number, setParents?: boolean, kind?: number): { parseDiagnostics?: unknown[] };
  ScriptTarget: { Latest: number };
  ScriptKind: { TS: number; TSX: number; JS: number };
}

let ts: TsApi | null | undefined;

function loadTs(): TsApi | null {
  if (ts === undefined) {
    try {
      ts = createRequire(__filename)('typescript') as TsApi;
    } catch {
      ts = null;
    }
  }
  return ts;
}

/** Whether the parse check can run here (the compiler is installed). */
export function parseCheckAvailable(): boolean {
  return loadTs() !== null;
}

function syntaxErrors(api: TsApi, file: string, text: string): number {
  const kind = /\.tsx$/.test(file) ? api.ScriptKind.TSX : /\.[cm]?ts$/.test(file) ? api.ScriptKind.TS : api.ScriptKind.JS;
  const sf = api.createSourceFile(file, text, api.ScriptTarget.Latest, false, kind);
  // parseDiagnostics: the parser's own errors, without binding or type checking (not in the public typings).
  return Array.isArray(sf.parseDiagnostics) ? sf.parseDiagnostics.length : 0;
}

/** true / false for TypeScript and JavaScript tasks; null where not checked. */
export function parsesAfterFill(task: { file: string; language: string; prefix: string; suffix: string; expected: string }, proposal: string): boolean | null {
  if (task.language !== 'typescript' && task.language !== 'javascript') return null;
  const api = loadTs();
  if (!api) return null;
  return syntaxErrors(api, task.file, task.prefix + proposal + task.suffix) <= syntaxErrors(api, task.file, task.prefix + task.expected + task.suffix);
}
