/**
 * The engine's `chat` method through the real node-llama-cpp: an answer streams in the model's own chat template
 * (the shipped model's ChatML from its GGUF), stops on cancel, and runs below inline completions: a completion
 * asked for during a long chat answer is answered before the chat finishes.
 */
import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EngineClient } from '../../src/node/engine/engineClient';
import { makeModel, tinyDense } from '../fixtures/gguf/makeModel';

const enginePath = resolve(__dirname, '../../../dist/engine.js');
const shippedModel = resolve(__dirname, '../../../models/hearth-code-tiny.gguf');

describe('engine chat (node-llama-cpp)', function () {
  this.timeout(120_000);
  let dir: string;
  let tinyPath: string;
  let client: EngineClient;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hearth-chat-'));
    tinyPath = join(dir, 'tiny.gguf');
    await makeModel(tinyPath, tinyDense);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => {
    client = new EngineClient({ enginePath, runtimeDir: mkdtempSync(join(dir, 'run-')), idleExitMs: 500 });
  });
  afterEach(async () => {
    await client.restart();
    await client.dispose();
  });

  it('streams an answer from the shipped model in its own chat template (ChatML from the GGUF)', async function () {
    if (!existsSync(shippedModel)) this.skip();
    await client.loadModel({ path: shippedModel, contextSize: 1024, threads: 1 });
    const chunks: string[] = [];
    const res = await client.chat(
      { messages: [{ role: 'user', content: 'Write a TypeScript function that adds two numbers.' }], maxTokens: 48, temperature: 0 },
      { onText: (t) => chunks.push(t) },
    );
    assert.equal(res.chatTemplate, 'ChatML', 'the chat wrapper should come from the GGUF template');
    assert.ok(res.tokensOut > 0, 'no tokens generated');
    assert.ok(res.tokensIn > 10, `prompt tokens ${res.tokensIn}`);
    assert.equal(chunks.join(''), res.text, 'the streamed chunks are not the answer');
    assert.ok(res.text.trim().length > 0, 'empty answer');
  });

  it('stops an answer on cancel and returns what it had', async () => {
    await client.loadModel({ path: tinyPath, contextSize: 2048, threads: 1 });
    const abort = new AbortController();
    let first!: () => void;
    const gotText = new Promise<void>((r) => (first = r));
    const done = client.chat({ messages: [{ role: 'user', content: 'hello' }], maxTokens: 4000, temperature: 0 }, { signal: abort.signal, onText: () => first() });
    await Promise.race([gotText, done]);
    const t0 = Date.now();
    abort.abort();
    const res = await done;
    assert.equal(res.stopReason, 'cancelled');
    assert.ok(Date.now() - t0 < 2000, `cancel took ${Date.now() - t0} ms`);
  });

  it('serves a completion asked for during a long chat answer before the chat finishes', async () => {
    await client.loadModel({ path: tinyPath, contextSize: 2048, threads: 1 });
    let chatStreaming!: () => void;
    const streaming = new Promise<void>((r) => (chatStreaming = r));
    let chatTokens = 0;
    let chatDoneAt = 0;
    const chat = client
      .chat({ messages: [{ role: 'user', content: 'Explain this code at length.' }], maxTokens: 1500, temperature: 0 }, { onText: () => { chatTokens++; chatStreaming(); } })
      .then((r) => {
        chatDoneAt = performance.now();
        return r;
      });
    await Promise.race([streaming, chat]);
    assert.equal(chatDoneAt, 0, 'the chat answer ended before the test could ask for a completion: make it longer');
    const asked = performance.now();
    const tokensWhenAsked = chatTokens;
    const completion = await client.infill({ prefix: 'function add(a, b) {\n  return ', suffix: '\n}\n', maxTokens: 8, beamWidth: 1 });
    const servedAt = performance.now();
    const chatResult = await chat;
    assert.ok(completion.tokensOut > 0, 'the completion generated nothing');
    assert.ok(servedAt < chatDoneAt, 'the completion waited for the chat answer to finish');
    assert.equal(chatResult.stopReason, 'maxTokens', `the chat stopped early (${chatResult.stopReason}) so the test proves nothing`);
    process.stdout.write(
      `      completion served in ${(servedAt - asked).toFixed(0)} ms while the chat went on (chat tokens ${tokensWhenAsked} → ${chatResult.tokensOut}, chat finished ${(chatDoneAt - servedAt).toFixed(0)} ms later)\n`,
    );
  });
});
