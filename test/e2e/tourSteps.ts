/**
 * The sample workspace's scripted tour (sample-workspace/README.md): where to type and what the shipped model
 * shows. Shared by the UI test (tour.e2e.test.ts) and `node out/bench/tour.js`, which prints what the model
 * suggests for each step.
 */
export interface TourStep {
  /** File under sample-workspace/. */
  file: string;
  /** Where the typing goes: on the empty last line of the file, or on a new line before the first line containing `before`. */
  before?: string;
  /** What to type (on a new line). */
  typed: string;
  /** What the tour says appears (informative; the UI test checks that ghost text appears, not its words). */
  shows?: string;
}

/** The tour's steps, in order. */
export const TOUR_STEPS: TourStep[] = [
  { file: 'src/main.ts', typed: "import * as path from '", shows: "node:path';" },
  { file: 'src/main.ts', typed: "const item = inventory.get('KB-01');\nif (!item", shows: ') {' },
  { file: 'src/main.ts', typed: "import { readFileSync } from 'node:", shows: "path'; (a real module, but not the one readFileSync comes from: fs)" },
];

/** Other edits tried when the tour was written (HEARTH_TOUR_ALL=1 prints them too). */
export const TOUR_CANDIDATES: TourStep[] = [
  { file: 'src/main.ts', typed: "import { Product } from './" },
  { file: 'src/main.ts', typed: 'for (const p of inventory.' },
  { file: 'src/main.ts', typed: "const keyboard = inventory.get('" },
  { file: 'src/main.ts', typed: 'console.log(`total: ${formatPrice(' },
  { file: 'src/main.ts', typed: 'inventory.add({ sku: ' },
  { file: 'src/main.ts', typed: 'const cables = inventory.withTag(' },
  { file: 'src/main.ts', typed: 'const names = inventory.lowStock().map((p) => p.' },
  { file: 'src/main.ts', typed: 'for (const p of inventory.withTag(\'input\')) {\n  console.log(p.' },
  { file: 'src/main.ts', typed: 'export function isEmpty(value: string): boolean {\n  return value.' },
  { file: 'src/main.ts', typed: 'export function add(a: number, b: number): number {\n  return a' },
  { file: 'src/main.ts', typed: 'for (let i = 0; i < 10; i' },
  { file: 'src/main.ts', typed: 'if (inventory.take(\'KB-01\', 2)) {\n  console.log(' },
  { file: 'src/main.ts', typed: 'const total = inventory.' },
  { file: 'src/main.ts', typed: 'export class Cart {\n  private readonly items: Product[] = [];\n\n  constructor(private readonly name: string) {}\n\n  getName(): string {\n    return this.' },
  { file: 'src/inventory.ts', before: '  get(sku: string): Product | undefined {', typed: '  has(sku: string): boolean {\n    return this.' },
  { file: 'src/inventory.ts', before: '  lowStock(threshold = 5): Product[] {', typed: '  count(): number {\n    return this.' },
  { file: 'src/format.js', before: '/**', typed: "const { join } = require('" },
];

/** The document after typing `step` into `original`, and the cursor offset. */
export function tourDocument(original: string, step: TourStep): { text: string; offset: number } {
  if (step.before === undefined) {
    const text = (original.endsWith('\n') ? original : original + '\n') + step.typed;
    return { text, offset: text.length };
  }
  const at = original.indexOf(step.before);
  if (at < 0) throw new Error(`tour step: "${step.before}" is not in ${step.file}`);
  const lineStart = original.lastIndexOf('\n', at) + 1;
  const head = original.slice(0, lineStart) + step.typed;
  return { text: head + '\n' + original.slice(lineStart), offset: head.length };
}
