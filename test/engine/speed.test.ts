/**
 * Engine speed features through the real engine and node-llama-cpp (issue #17), without building anything:
 *  - the native backend's fallback: no build, a broken build and a missing toolchain all leave the prebuilt working
 *    and say why; where a native build exists, its OpenMP wait mode in status;
 *  - load-aware threads: the choice under a real, bounded busy process (and the engine's own work not counted);
 *  - lookup speculation: exactly the same tokens as plain greedy decoding, on generated models and the shipped one.
 */
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EngineClient } from '../../src/node/engine/engineClient';
import { buildInputs, buildNativeEngine, findNativeBuild } from '../../src/node/engine/nativeBuild';
import { LoadMonitor } from '../../src/node/engine/threads';
import { makeModel, tinyDense, tinyMoe } from '../fixtures/gguf/makeModel';

const enginePath = resolve(__dirname, '../../../dist/engine.js');
const shippedModel = resolve(__dirname, '../../../models/hearth-code-tiny.gguf');
const repoRoot = resolve(__dirname, '../../..');

/** A bounded busy process at normal priority: spins one core for `ms`, then exits on its own. */
function busyChild(ms: number): ChildProcess {
  return spawn(process.execPath, ['-e', `const end = Date.now() + ${ms}; while (Date.now() < end) {}`], { stdio: 'ignore' });
}

describe('engine speed: native backend fallback, load-aware threads, lookup speculation', function () {
  this.timeout(120_000);
  let dir: string;
  let tinyPath: string;
  let moePath: string;
  const clients: EngineClient[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hearth-speed-'));
    tinyPath = join(dir, 'tiny.gguf');
    moePath = join(dir, 'tiny-moe.gguf');
    await makeModel(tinyPath, tinyDense);
    await makeModel(moePath, tinyMoe);
  });
  after(async () => {
    for (const c of clients) {
      await c.restart().catch(() => undefined);
      await c.dispose();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  function client(env: NodeJS.ProcessEnv = {}): EngineClient {
    const c = new EngineClient({ enginePath, runtimeDir: mkdtempSync(join(dir, 'run-')), idleExitMs: 500, env });
    clients.push(c);
    return c;
  }

  it('loads the prebuilt backend when there is no native build, and says so in status', async () => {
    const buildDir = mkdtempSync(join(dir, 'nobuild-'));
    const c = client({ HEARTH_ENGINE_BUILD_DIR: buildDir });
    await c.loadModel({ path: tinyPath, contextSize: 512 });
    const status = await c.status();
    assert.equal(status.engineBackend?.kind, 'prebuilt');
    assert.match(status.engineBackend?.note ?? '', /no native build|cmake|compiler|headers/, `note: ${status.engineBackend?.note}`);
    const r = await c.infill({ prefix: 'function add(a, b) {\n  return', suffix: '\n}\n', maxTokens: 4, beamWidth: 1 });
    assert.ok(r.tokensOut > 0);
  });

  it('falls back to the prebuilt when the native build is broken, and says it failed to load', async function () {
    const inputs = buildInputs();
    if (!inputs.ok) this.skip(); // no toolchain: the previous test covers the fallback
    const buildDir = mkdtempSync(join(dir, 'broken-'));
    const folder = join(buildDir, inputs.ok ? inputs.inputs.key : 'x');
    mkdirSync(join(folder, 'bin'), { recursive: true });
    writeFileSync(join(folder, 'bin', 'llama-addon.node'), 'not a shared object');
    writeFileSync(
      join(folder, 'ready.json'),
      JSON.stringify({ key: inputs.ok ? inputs.inputs.key : 'x', release: 'test', nodeLlamaCppVersion: 'test', compiler: 'test', options: { GGML_NATIVE: 'ON', GGML_OPENMP: 'ON' }, binding: 'llama-addon.node', builtAt: new Date().toISOString(), buildMs: 1 }),
    );
    assert.ok('dir' in findNativeBuild(buildDir), 'the planted build should be found');
    const c = client({ HEARTH_ENGINE_BUILD_DIR: buildDir });
    await c.loadModel({ path: tinyPath, contextSize: 512 });
    const status = await c.status();
    assert.equal(status.engineBackend?.kind, 'prebuilt');
    assert.match(status.engineBackend?.note ?? '', /failed to load/);
    const r = await c.infill({ prefix: 'let x = ', suffix: '', maxTokens: 3, beamWidth: 1 });
    assert.ok(r.tokensOut > 0, 'the prebuilt should still answer');
  });

  it("the native build, where this checkout has one, runs one OpenMP team that spins, and says so; the user's settings win", async function () {
    const buildDir = resolve(repoRoot, '.hearth-build');
    if (!('dir' in findNativeBuild(buildDir))) this.skip(); // built by bench:engine-speed or "hearth engine build", never here
    const waits = async (env: Record<string, string>) => {
      const c = client({ HEARTH_ENGINE_BUILD_DIR: buildDir, ...env });
      await c.loadModel({ path: tinyPath, contextSize: 512, engineBackend: 'native' });
      const b = (await c.status()).engineBackend;
      assert.equal(b?.kind, 'native');
      const r = await c.infill({ prefix: 'let x = ', suffix: '', maxTokens: 3, beamWidth: 1 });
      assert.ok(r.tokensOut > 0);
      return b?.waits ?? '';
    };
    assert.match(await waits({}), /^OpenMP waits spin 1,000,000 then sleep \(1 libuv worker, one team; UV_THREADPOOL_SIZE=1 GOMP_SPINCOUNT=1000000\)$/);
    assert.match(await waits({ UV_THREADPOOL_SIZE: '4', OMP_WAIT_POLICY: 'active', GOMP_SPINCOUNT: '1000' }), /^OpenMP waits spin 1,000 then sleep \(4 libuv workers, .*UV_THREADPOOL_SIZE=4 OMP_WAIT_POLICY=active GOMP_SPINCOUNT=1000\)$/);
  });

  it('a build without cmake or a compiler fails at once, saying what is missing, and marks nothing ready', async () => {
    const root = mkdtempSync(join(dir, 'nocmake-'));
    const path = process.env.PATH;
    process.env.PATH = mkdtempSync(join(dir, 'emptybin-'));
    try {
      const r = await buildNativeEngine({ root, log: () => undefined });
      assert.equal(r.ok, false);
      assert.match(r.ok ? '' : r.reason, /cmake is not installed/);
    } finally {
      process.env.PATH = path;
    }
    assert.ok(!('dir' in findNativeBuild(root)));
  });

  it('picks fewer threads while another process holds a core, and does not count its own work', async function () {
    const cores = availableParallelism();
    const monitor = new LoadMonitor(250);
    monitor.start();
    // Its own busy loop: not another process's load.
    const ownEnd = Date.now() + 1500;
    while (Date.now() < ownEnd) {
      /* spin */
    }
    monitor.sample();
    const ownBusy = monitor.othersBusy;
    const child = busyChild(4000);
    try {
      await new Promise((r) => setTimeout(r, 1500));
      monitor.sample();
      const othersBusy = monitor.othersBusy;
      assert.ok(othersBusy - ownBusy > 0.5, `a busy child should add about one core of others' load (own work ${ownBusy.toFixed(2)}, with the child ${othersBusy.toFixed(2)})`);
      assert.ok(monitor.threadsFor(cores) <= Math.max(1, cores - 1), `threads ${monitor.threadsFor(cores)} of ${cores} with a core busy`);
    } finally {
      child.kill();
      monitor.stop();
    }
  });

  it('the engine reports the threads it chose for a request under a bounded busy load', async () => {
    const cores = availableParallelism();
    const c = client({ HEARTH_ENGINE_BUILD_DIR: mkdtempSync(join(dir, 'nb-')) });
    await c.loadModel({ path: tinyPath, contextSize: 512 });
    const children = Array.from({ length: cores }, () => busyChild(5000));
    try {
      await new Promise((r) => setTimeout(r, 2500));
      const r = await c.infill({ prefix: 'const a = 1;\n', suffix: '', maxTokens: 4, beamWidth: 1 });
      assert.equal(r.threads, 1, `every core busy: ${r.threads} threads`);
      const status = await c.status();
      assert.equal(status.threads?.last, 1);
      assert.equal(status.threads?.ceiling, cores);
      // At least enough to cost a thread; on a machine shared with other work the children get less than every core.
      assert.ok((status.threads?.othersBusy ?? 0) >= 0.5, `others busy ${status.threads?.othersBusy}`);
    } finally {
      for (const ch of children) ch.kill();
    }
  });

  /** Greedy completions of code prompts with and without lookup speculation; they must be the same tokens. */
  async function sameWithLookup(model: string, prompts: Array<{ prefix: string; suffix: string }>, maxTokens: number): Promise<{ drafted: number }> {
    const plain = client({ HEARTH_ENGINE_BUILD_DIR: mkdtempSync(join(dir, 'nb-')) });
    const spec = client({ HEARTH_ENGINE_BUILD_DIR: mkdtempSync(join(dir, 'nb-')) });
    await plain.loadModel({ path: model, contextSize: 2048, threads: 1, lookup: false });
    await spec.loadModel({ path: model, contextSize: 2048, threads: 1, lookup: true });
    let drafted = 0;
    for (const [i, p] of prompts.entries()) {
      const req = { ...p, maxTokens, beamWidth: 1, temperature: 0, documentId: `doc${i}` };
      const a = await plain.infill(req);
      const b = await spec.infill(req);
      assert.equal(b.text, a.text, `prompt ${i}: speculation changed the output`);
      assert.equal(b.tokensOut, a.tokensOut, `prompt ${i}: token count differs`);
      assert.equal(a.lookupAccepted, undefined, 'lookup off reports no drafts');
      drafted += (b.lookupAccepted ?? 0) + (b.lookupRejected ?? 0);
    }
    return { drafted };
  }

  function codePrompts(n: number): Array<{ prefix: string; suffix: string }> {
    const src = readFileSync(join(repoRoot, 'src/node/engine/scheduler.ts'), 'utf8');
    return Array.from({ length: n }, (_, i) => {
      const cut = Math.floor((src.length * (i + 1)) / (n + 1));
      return { prefix: src.slice(Math.max(0, cut - 1500), cut), suffix: src.slice(cut, cut + 300) };
    });
  }

  it('lookup speculation yields exactly the greedy tokens on the generated dense and MoE models', async () => {
    // Random weights repeat themselves: plenty of drafts to accept and reject.
    const dense = await sameWithLookup(tinyPath, codePrompts(3), 48);
    const moe = await sameWithLookup(moePath, codePrompts(2), 48);
    assert.ok(dense.drafted + moe.drafted > 0, 'speculation never drafted a token: the test would prove nothing');
  });

  it('lookup speculation yields exactly the greedy tokens on the shipped model', async function () {
    if (!existsSync(shippedModel)) this.skip();
    const r = await sameWithLookup(shippedModel, codePrompts(4), 64);
    assert.ok(r.drafted > 0, 'the shipped model never had a draft on code that repeats its input');
  });
});
