/**
 * The engine process on a generated model, through the real node-llama-cpp: load, streamed infill, cancel,
 * bad model files, and a killed engine.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EngineClient, EngineExitedError } from '../../src/node/engine/engineClient';
import { runCompletion } from '../../src/common/completion/completionPipeline';
import { makeModel, tinyDense } from '../fixtures/gguf/makeModel';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const enginePath = resolve(__dirname, '../../../dist/engine.js');

describe('engine process (node-llama-cpp, generated model)', function () {
  this.timeout(120_000);
  let dir: string;
  let modelPath: string;
  let client: EngineClient;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hearth-engine-'));
    modelPath = join(dir, 'tiny.gguf');
    await makeModel(modelPath, tinyDense);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => {
    // Each test gets its own shared engine (own runtime dir), which exits soon after its last client.
    client = new EngineClient({ enginePath, runtimeDir: mkdtempSync(join(dir, 'run-')), idleExitMs: 500 });
  });
  afterEach(async () => {
    await client.restart();
    await client.dispose();
  });

  /** Starts a long generation and resolves once its first text has arrived. */
  async function startLongInfill(signal?: AbortSignal) {
    let firstText!: () => void;
    const first = new Promise<void>((r) => (firstText = r));
    const chunks: string[] = [];
    const done = client.infill(
      { prefix: 'function main() {\n  const values = [', suffix: '];\n}\n', maxTokens: 4000 },
      { signal, onText: (t) => { chunks.push(t); firstText(); } },
    );
    await Promise.race([first, done]);
    return { done, chunks };
  }

  it('loads a model and reports its FIM tokens from the GGUF metadata', async () => {
    const info = await client.loadModel({ path: modelPath, contextSize: 512 });
    assert.equal(info.infillSupported, true);
    assert.equal(info.fim.prefix, '<|fim_prefix|>');
    assert.equal(info.fim.suffix, '<|fim_suffix|>');
    assert.equal(info.fim.middle, '<|fim_middle|>');
    assert.equal(info.architecture, 'llama');
    const status = await client.status();
    assert.equal(status.state, 'ready');
    assert.equal(status.model?.path, modelPath);
    assert.ok(status.pid > 0 && status.pid !== process.pid);
  });

  it('streams infill text (batched: at most one notification per 50 ms)', async () => {
    await client.loadModel({ path: modelPath, contextSize: 512 });
    const chunks: string[] = [];
    const res = await client.infill({ prefix: 'const x = ', suffix: ';\n', maxTokens: 8 }, { onText: (t) => chunks.push(t) });
    assert.ok(res.tokensOut >= 1, `generated ${res.tokensOut} tokens`);
    assert.ok(chunks.length >= 1, 'no streamed text');
    assert.equal(chunks.join(''), res.text);
    assert.ok(res.timeToFirstTokenMs !== null);
  });

  it('is deterministic at temperature 0, so a test can predict the editor', async () => {
    await client.loadModel({ path: modelPath, contextSize: 512 });
    const a = await client.infill({ prefix: 'let total = 0;\nfor (', suffix: '\n', maxTokens: 12 });
    const b = await client.infill({ prefix: 'let total = 0;\nfor (', suffix: '\n', maxTokens: 12 });
    assert.equal(a.text, b.text);
  });

  it('stops generating within 100 ms of a cancel', async () => {
    await client.loadModel({ path: modelPath, contextSize: 2048 });
    const abort = new AbortController();
    const { done, chunks } = await startLongInfill(abort.signal);
    assert.ok(chunks.length > 0, 'generation ended before it could be cancelled');
    const t0 = performance.now();
    abort.abort();
    const res = await done;
    const elapsed = performance.now() - t0;
    assert.equal(res.stopReason, 'cancelled');
    assert.ok(elapsed < 100, `cancel took ${elapsed.toFixed(1)} ms`);
    assert.ok(res.tokensOut < 4000);
  });

  it('names the file when the model is truncated', async () => {
    const truncated = join(dir, 'truncated.gguf');
    const bytes = readFileSync(modelPath);
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await assert.rejects(client.loadModel({ path: truncated }), (err: Error) => {
      assert.ok(err.message.includes(truncated), err.message);
      return true;
    });
    // The engine survives a bad model and still loads a good one.
    const info = await client.loadModel({ path: modelPath, contextSize: 512 });
    assert.equal(info.path, modelPath);
  });

  it('names the file when it is not GGUF', async () => {
    const notGguf = join(dir, 'notes.gguf');
    writeFileSync(notGguf, 'these are not the weights you are looking for\n'.repeat(10));
    await assert.rejects(client.loadModel({ path: notGguf }), (err: Error) => {
      assert.ok(err.message.includes(notGguf), err.message);
      assert.match(err.message, /not a GGUF file/);
      return true;
    });
    await assert.rejects(client.loadModel({ path: join(dir, 'missing.gguf') }), /Model file not found: .*missing\.gguf/);
  });

  it('refuses a model that will not fit in memory before loading it, with the numbers', async () => {
    // A sparse 200 GB file with a GGUF header: no disk used, far more than this machine's memory.
    const huge = join(dir, 'huge.gguf');
    const { openSync, writeSync, ftruncateSync, closeSync } = await import('node:fs');
    const fd = openSync(huge, 'w');
    writeSync(fd, readFileSync(modelPath).subarray(0, 64));
    ftruncateSync(fd, 200 * 1024 ** 3);
    closeSync(fd);
    await assert.rejects(client.loadModel({ path: huge, contextSize: 512 }), (err: Error) => {
      assert.match(err.message, /will not fit: it needs 21\d\.\d GB/);
      assert.match(err.message, /GB RAM is available/);
      return true;
    });
    rmSync(huge);
  });

  it('restarts the shared engine from a window that has not used it yet (after "Build Engine": the new binary loads)', async () => {
    const first = await client.loadModel({ path: modelPath, contextSize: 512 });
    assert.ok(first);
    const pid = (await client.status()).pid;
    // A second window on the same engine that never sent a request: its restart used to do nothing.
    const other = new EngineClient({ enginePath, runtimeDir: client.runtimeDir, idleExitMs: 500 });
    try {
      assert.equal(other.pid, undefined);
      await other.restart();
      const gone = Date.now() + 10_000;
      while (alive(pid) && Date.now() < gone) await new Promise((r) => setTimeout(r, 50));
      assert.equal(alive(pid), false, `engine pid ${pid} still runs after the restart`);
      // The first client learns of the closed socket in its next turns of the event loop (not at the instant the pid goes).
      await new Promise((r) => setTimeout(r, 100));
      await client.loadModel({ path: modelPath, contextSize: 512 });
      assert.notEqual((await client.status()).pid, pid);
    } finally {
      await other.dispose();
    }
  });

  it('fails a request clearly when the engine is killed, and the next request restarts it', async () => {
    await client.loadModel({ path: modelPath, contextSize: 2048 });
    const firstPid = client.pid!;
    const { done } = await startLongInfill();
    process.kill(firstPid, 'SIGKILL');
    await assert.rejects(done, (err: Error) => {
      assert.ok(err instanceof EngineExitedError, String(err));
      assert.match(err.message, new RegExp(`pid ${firstPid}\\) exited while handling infill`));
      assert.match(err.message, /restart on the next request/);
      return true;
    });
    const res = await client.infill({ prefix: 'x = ', suffix: '', maxTokens: 4 });
    assert.ok(res.tokensOut >= 1);
    assert.notEqual(client.pid, firstPid);
  });

  it('places repository context first in the prompt, special tokens kept, and reports confidence from the beam search', async () => {
    const info = await client.loadModel({ path: modelPath, contextSize: 512 });
    // The generated tokenizer has <|fim_prefix|> and <|file_sep|>: Qwen2.5-Coder's format.
    assert.equal(info.fimFamily, 'qwen2.5-coder');
    const ask = { prefix: 'const x = ', suffix: ';\n', maxTokens: 4, cacheReuse: false, documentId: 'ctx' };
    const plain = await client.infill(ask);
    const context = '<|file_sep|>src/a.ts\nexport const a = 1;\n<|file_sep|>src/b.ts\n';
    const withContext = await client.infill({ ...ask, context });
    const extra = withContext.tokensEvaluated - plain.tokensEvaluated;
    assert.ok(extra > 3 && extra < 40, `the context added ${extra} evaluated tokens`);
    const beam = await client.infill({ ...ask, beamWidth: 3 });
    assert.ok(typeof beam.confidence === 'number' && beam.confidence <= 0, `confidence ${beam.confidence}`);
    assert.ok(Array.isArray(beam.alternatives));
  });

  it('runs the completion pipeline end to end', async () => {
    await client.loadModel({ path: modelPath, contextSize: 512 });
    const text = 'function add(a, b) {\n  return \n}\n';
    const offset = text.indexOf('return ') + 7;
    const out = await runCompletion(client, { text, offset }, { maxTokens: 16 });
    assert.equal(out.prefix, text.slice(0, offset));
    assert.equal(out.suffix, text.slice(offset));
    assert.ok(out.result.tokensOut >= 1);
  });
});

describe('shared engine (one per user, local socket)', function () {
  this.timeout(120_000);
  let dir: string;
  let modelPath: string;
  const clients: EngineClient[] = [];
  const newClient = (runtimeDir: string, name: string, idleExitMs = 1000) => {
    const c = new EngineClient({ enginePath, runtimeDir, idleExitMs, clientName: name });
    clients.push(c);
    return c;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hearth-shared-'));
    modelPath = join(dir, 'tiny.gguf');
    await makeModel(modelPath, tinyDense);
  });
  afterEach(async () => {
    await clients[0]?.restart().catch(() => undefined);
    for (const c of clients.splice(0)) await c.dispose();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('serves several clients from one process and one loaded model', async () => {
    const run = mkdtempSync(join(dir, 'run-'));
    const a = newClient(run, 'window-a');
    const b = newClient(run, 'window-b');
    const infoA = await a.loadModel({ path: modelPath, contextSize: 512 });
    const t0 = performance.now();
    const infoB = await b.loadModel({ path: modelPath, contextSize: 512 });
    const secondLoadMs = performance.now() - t0;
    assert.equal(a.pid, b.pid);
    assert.equal(infoB.loadMs, infoA.loadMs, 'the second client got the model already loaded');
    assert.ok(secondLoadMs < 500, `second load took ${secondLoadMs.toFixed(0)} ms`);
    const status = await b.status();
    assert.equal(status.clients, 2);
    const [ra, rb] = await Promise.all([
      a.infill({ prefix: 'const a = ', suffix: '', maxTokens: 4, documentId: 'file:///a.ts' }),
      b.infill({ prefix: 'const b = ', suffix: '', maxTokens: 4, documentId: 'file:///b.ts' }),
    ]);
    assert.ok(ra.tokensOut >= 1 && rb.tokensOut >= 1);
  });

  it('starts one engine when two clients start at the same moment', async () => {
    const run = mkdtempSync(join(dir, 'run-'));
    const a = newClient(run, 'a');
    const b = newClient(run, 'b');
    const c = newClient(run, 'c');
    await Promise.all([a.status(), b.status(), c.status()]);
    assert.ok(a.pid && a.pid === b.pid && b.pid === c.pid, `pids ${a.pid} ${b.pid} ${c.pid}`);
  });

  it('keeps its runtime directory private and refuses a wrong token', async () => {
    const run = mkdtempSync(join(dir, 'run-'));
    const a = newClient(run, 'a');
    await a.status();
    const { statSync } = await import('node:fs');
    assert.equal(statSync(run).mode & 0o777, 0o700);
    assert.equal(statSync(join(run, 'engine.json')).mode & 0o777, 0o600);
    const info = JSON.parse(readFileSync(join(run, 'engine.json'), 'utf8'));
    const net = await import('node:net');
    const answer = await new Promise<string>((resolveAnswer) => {
      const s = net.createConnection(info.socket, () => {
        s.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'status', params: {} }) + '\n');
        s.write(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'hello', params: { token: 'x'.repeat(48), client: 'intruder', protocolVersion: 2 } }) + '\n');
      });
      let buf = '';
      s.on('data', (d) => {
        buf += d;
        if (buf.split('\n').length > 2) {
          s.destroy();
          resolveAnswer(buf);
        }
      });
    });
    assert.match(answer, /say hello with the engine token first/);
    assert.match(answer, /wrong token/);
  });

  it('exits when no client has been connected for the idle time', async () => {
    const run = mkdtempSync(join(dir, 'run-'));
    const a = newClient(run, 'a', 300);
    await a.status();
    const pid = a.pid!;
    await a.dispose();
    const deadline = Date.now() + 10_000;
    let alive = true;
    while (alive && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      try {
        process.kill(pid, 0);
      } catch {
        alive = false;
      }
    }
    assert.equal(alive, false, 'engine still running after the idle time');
    const { existsSync } = await import('node:fs');
    assert.equal(existsSync(join(run, 'engine.json')), false, 'engine.json left behind');
  });
});
