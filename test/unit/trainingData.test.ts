/**
 * The training data manifests of models/train: bench:model samples its tasks from data-manifest.json's held-out
 * files, so every later manifest must hold out exactly those files and train on none of them (no evaluation
 * leakage), and must list only permissive licences. Reads the committed JSON only (no node_modules needed).
 */
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

// Bundled to out/test/unit/, so the repository root is three levels up.
const ROOT = path.resolve(__dirname, '../../..');
const BENCH_MANIFEST = 'models/train/data-manifest.json';
const LATER_MANIFESTS = ['models/train/data-manifest-v4.json'];
const PERMISSIVE = new Set(['MIT', 'ISC', 'Apache-2.0', 'BSD-2-Clause', 'BSD-3-Clause', '0BSD', '(BSD-2-Clause OR MIT OR Apache-2.0)']);

interface FileEntry { path: string; bytes: number; sha256: string }
interface Group { name: string; version: string; licence: string; files: FileEntry[] }
interface DataManifest { heldout: Group[]; train: Group[]; totals: { train: { files: number; bytes: number } } }

function load(rel: string): DataManifest {
  return JSON.parse(readFileSync(path.join(ROOT, rel), 'utf8')) as DataManifest;
}

describe('training data manifests (models/train)', () => {
  const bench = load(BENCH_MANIFEST);
  const heldoutNames = new Set(bench.heldout.map((g) => g.name));
  const heldoutHashes = new Set(bench.heldout.flatMap((g) => g.files.map((f) => f.sha256)));

  for (const rel of [BENCH_MANIFEST, ...LATER_MANIFESTS]) {
    describe(rel, () => {
      before(function () {
        if (!existsSync(path.join(ROOT, rel))) this.skip();
      });

      it("holds out exactly the files bench:model samples its tasks from", () => {
        assert.deepEqual(load(rel).heldout, bench.heldout);
      });

      it('trains on no held-out package and no file with a held-out file\'s contents', () => {
        const m = load(rel);
        for (const g of m.train) {
          assert.ok(!heldoutNames.has(g.name), `${g.name} is a held-out package`);
          for (const f of g.files) assert.ok(!heldoutHashes.has(f.sha256), `${f.path} is a copy of a held-out file`);
        }
      });

      it('lists only permissive licences, and totals that add up', () => {
        const m = load(rel);
        for (const g of [...m.train, ...m.heldout]) assert.ok(PERMISSIVE.has(g.licence), `${g.name}: licence ${g.licence}`);
        const files = m.train.flatMap((g) => g.files);
        assert.equal(files.length, m.totals.train.files);
        assert.equal(files.reduce((a, f) => a + f.bytes, 0), m.totals.train.bytes);
        assert.equal(new Set(files.map((f) => f.sha256)).size, files.length, 'no file twice');
      });
    });
  }
});
