/** Shared helpers for benchmarks: load printing, medians, generated models, the RESULT line. */
import { spawnSync } from 'node:child_process';
import { loadavg, availableParallelism, cpus } from 'node:os';
import { resolve } from 'node:path';

export const repoRoot = resolve(__dirname, '../..');

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Prints the machine and its current load: benchmarks must run alone, and the reader must see if they did not. */
export function printMachine(name: string): void {
  const [l1, l5] = loadavg();
  console.log(`# ${name}: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, load ${l1!.toFixed(2)} (1 min) ${l5!.toFixed(2)} (5 min), node ${process.versions.node}`);
  if (l1! > 0.5) console.log(`# warning: the machine is not idle (load ${l1!.toFixed(2)}); ratios are side by side, absolute figures will be low`);
}

/** Makes (or reuses) a generated model of a preset under `.models/bench/`. */
export function benchModel(preset: string): string {
  const out = resolve(repoRoot, '.models/bench', `${preset}.gguf`);
  const r = spawnSync(process.execPath, [resolve(repoRoot, 'out/scripts/makeModel.js'), '--preset', preset, '--out', out], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`could not generate the ${preset} model`);
  return out;
}

export function printResult(result: Record<string, number | string | boolean>): void {
  console.log(`RESULT ${JSON.stringify(result)}`);
}

export const round = (x: number, digits = 3) => Number(x.toFixed(digits));
