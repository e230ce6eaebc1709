import * as assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { listFiles, PackageManager } from '@vscode/vsce';

const root = resolve(__dirname, '../../..');

describe('the .vsix (vsce\'s own file list, .vscodeignore applied)', function () {
  this.timeout(120_000);
  let files: Set<string>;
  before(async () => {
    files = new Set(await listFiles({ cwd: root, packageManager: PackageManager.Npm }));
  });

  it('carries what "Build Engine for This Machine" builds from: llama.cpp\'s source bundle and the addon\'s cmake project', () => {
    // Without them an installed Hearth can only say the source is missing (session 13: the bundle was left out).
    for (const f of ['node_modules/node-llama-cpp/llama/gitRelease.bundle', 'node_modules/node-llama-cpp/llama/CMakeLists.txt', 'node_modules/node-llama-cpp/llama/addon/addon.cpp']) {
      assert.ok(files.has(f), `${f} is not packaged`);
    }
  });

  it('carries the engine, the CLI and the extension bundles, and no sources or tests', () => {
    for (const f of ['dist/extension.js', 'dist/engine.js', 'dist/cli.js']) assert.ok(files.has(f), `${f} is not packaged`);
    const stray = [...files].filter((f) => /^(src|test|bench|\.e2e|\.hearth-run)\//.test(f));
    assert.deepEqual(stray, []);
  });
});
