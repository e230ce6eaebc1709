// One build for every bundle: extension, engine and CLI (node, cjs), and the test suites.
// `node esbuild.config.mjs [--watch] [--production]`.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

// Native addons and editor-provided modules are never bundled: node-llama-cpp ships per-platform binaries,
// openvino-node is optional and may be absent, `vscode` is provided by the extension host; `typescript` (a
// devDependency) is loaded on first use by the battery's parse check, which is skipped where it is absent.
const external = ['vscode', 'node-llama-cpp', 'openvino-node', 'mocha', 'playwright-core', '@vscode/test-electron', 'eslint', 'typescript', '@vscode/vsce'];

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external,
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  // jsonc-parser's `main` is a UMD build whose inner requires esbuild cannot follow; its ES module build bundles.
  alias: { 'jsonc-parser': 'jsonc-parser/lib/esm/main.js' },
};

/** @param {string} dir */
function testEntries(dir) {
  const out = [];
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.test.ts') || (dir === 'test/integration' && name === 'index.ts')) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** Prints errors in the `esbuild-problem-matchers` format that .vscode/tasks.json expects. */
const problemMatcherPlugin = {
  name: 'problem-matcher',
  setup(build) {
    build.onStart(() => console.log('[watch] build started'));
    build.onEnd((result) => {
      for (const { text, location } of result.errors) {
        console.error(`✘ [ERROR] ${text}`);
        if (location) console.error(`    ${location.file}:${location.line}:${location.column}:`);
      }
      console.log('[watch] build finished');
    });
  },
};

// The dashboard webview and the HTML report load Chart.js's UMD bundle as a file of the extension
// (media/vendor/, gitignored, shipped in the .vsix): copied here so it always matches node_modules.
mkdirSync('media/vendor', { recursive: true });
copyFileSync('node_modules/chart.js/dist/chart.umd.min.js', 'media/vendor/chart.umd.min.js');

const builds = [
  {
    ...common,
    entryPoints: { extension: 'src/extension.ts', engine: 'src/engineMain.ts', cli: 'src/cli.ts' },
    outdir: 'dist',
  },
  {
    // Webview pages: browser bundles; Chart.js is not bundled (its own script tag, window.Chart).
    ...common,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    external: [],
    entryPoints: { 'webview/dashboard': 'src/webview/dashboard.ts', 'webview/chat': 'src/webview/chat.ts' },
    outdir: 'dist',
  },
  {
    ...common,
    entryPoints: ['test/unit', 'test/engine', 'test/faults', 'test/integration', 'test/e2e', 'bench', 'scripts'].flatMap((d) => {
      try { return d === 'bench' || d === 'scripts' ? readdirSync(d).filter((f) => f.endsWith('.ts')).map((f) => join(d, f)) : testEntries(d); }
      catch { return []; }
    }),
    outbase: '.',
    outdir: 'out',
    sourcemap: 'inline',
    minify: false,
  },
];

if (watch) {
  for (const b of builds) {
    const ctx = await esbuild.context({ ...b, plugins: [problemMatcherPlugin] });
    await ctx.watch();
  }
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
