/**
 * `marked`, which is ESM-only, for code type-checked as CommonJS (tsconfig `module: Node16`). Every output that
 * uses it is an esbuild bundle (the webview's IIFE, the unit tests' CJS), and esbuild resolves this `require` to
 * the bundled ES module, so nothing is loaded at run time from node_modules.
 */
import type * as MarkedModule from 'marked' with { 'resolution-mode': 'import' };

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const { Marked } = require('marked') as typeof MarkedModule;
export type { Tokens } from 'marked' with { 'resolution-mode': 'import' };
