/** A realistic redaction payload with few secrets, for the second throughput figure of bench/redaction.ts. */
import { readdirSync, readFileSync, statSync, type Dirent } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from './benchUtil';

/**
 * Realistic payload with few secrets: this repo's own src/**\/*.ts and a deterministic sample of node_modules'
 * *.js files (sorted, evenly strided, files up to 256 KB), about `targetBytes` in all. Empty when absent.
 */
export function plainSource(targetBytes: number, root = repoRoot): Array<{ path: string; text: string }> {
  const walk = (dir: string, ext: string, out: string[]) => {
    let entries: Dirent[];
    try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return; }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const p = join(dir, e.name);
      if (e.isDirectory() && e.name !== '.bin' && e.name !== '.cache') walk(p, ext, out);
      else if (e.isFile() && e.name.endsWith(ext)) out.push(p);
    }
  };
  const out: Array<{ path: string; text: string }> = [];
  let total = 0;
  const add = (p: string) => {
    const st = statSync(p);
    if (st.size === 0 || st.size > 256 * 1024) return;
    const text = readFileSync(p, 'utf8');
    out.push({ path: relative(root, p), text });
    total += Buffer.byteLength(text);
  };
  const ts: string[] = [];
  walk(join(root, 'src'), '.ts', ts);
  for (const p of ts) add(p);
  const js: string[] = [];
  walk(join(root, 'node_modules'), '.js', js);
  if (js.length === 0) return out;
  const sizes = js.map((p) => { try { const n = statSync(p).size; return n <= 256 * 1024 ? n : 0; } catch { return 0; } });
  const avg = sizes.reduce((a, b) => a + b, 0) / Math.max(1, sizes.filter((n) => n > 0).length);
  const stride = Math.max(1, Math.floor(js.length / Math.max(1, (targetBytes - total) / avg)));
  for (let i = 0; i < js.length && total < targetBytes; i += stride) if (sizes[i]! > 0) add(js[i]!);
  return out;
}
