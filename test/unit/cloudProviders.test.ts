/**
 * Provider clients against real wire protocols: fake OpenAI and Anthropic servers on 127.0.0.1 (node:http),
 * driven through the official SDKs. Streaming, token counts, and each failure a user can meet.
 */
import * as assert from 'node:assert/strict';
import { CloudError, retryAfterSeconds } from '../../src/node/cloud/cloudError';
import type { EndpointConfig } from '../../src/node/cloud/cloudTypes';
import { costUsd, estimateTokens, formatUsd } from '../../src/node/cloud/costEstimate';
import { createProviderClient } from '../../src/node/cloud/providerClient';
import { startFakeProvider, type FakeProvider } from '../fixtures/cloud/fakeProviders';

const request = { system: 'be brief', messages: [{ role: 'user' as const, content: 'Why is the sky blue?' }], maxTokens: 100 };

for (const protocol of ['openai', 'anthropic'] as const) {
  describe(`cloud client: ${protocol} wire protocol`, function () {
    this.timeout(20_000);
    let server: FakeProvider;
    let endpoint: EndpointConfig;

    before(async () => {
      server = await startFakeProvider(protocol);
      endpoint = { id: `test-${protocol}`, destination: 'frontier', provider: protocol, baseUrl: server.baseUrl, model: 'test-model', priceInPerMTok: 3, priceOutPerMTok: 15 };
    });
    after(() => server.close());
    beforeEach(() => {
      server.requests.length = 0;
      server.behaviour = { kind: 'answer' };
      server.answer = () => 'Rayleigh scattering: shorter wavelengths scatter more. '.repeat(4);
    });

    it('streams the answer in pieces and reports usage; the body on the wire is exactly requestBody()', async () => {
      const client = createProviderClient(endpoint, { apiKey: 'sk-test-key' });
      const body = client.requestBody(request);
      const deltas: string[] = [];
      const result = await client.stream(body, { onText: (d) => deltas.push(d) });
      assert.equal(result.text, server.answer(''));
      assert.ok(deltas.length >= 4, `expected several deltas, got ${deltas.length}`);
      assert.equal(deltas.join(''), result.text);
      assert.deepEqual(result.usage, { inputTokens: 321, outputTokens: 45 });
      assert.ok(result.finishReason === 'stop' || result.finishReason === 'end_turn', result.finishReason);
      assert.equal(server.requests.length, 1);
      assert.equal(server.requests[0]!.body.toString('utf8'), body, 'the bytes received differ from the previewed body');
      const headers = server.requests[0]!.headers;
      if (protocol === 'openai') assert.equal(headers.authorization, 'Bearer sk-test-key');
      else {
        assert.equal(headers['x-api-key'], 'sk-test-key');
        assert.ok(headers['anthropic-version'], 'anthropic-version header missing');
      }
      const parsed = JSON.parse(body) as { stream: boolean; model: string };
      assert.equal(parsed.stream, true);
      assert.equal(parsed.model, 'test-model');
    });

    it('401: says the key was rejected and how to fix it', async () => {
      server.behaviour = { kind: 'status', status: 401, message: 'invalid x-api-key' };
      const client = createProviderClient(endpoint, { apiKey: 'bad' });
      const err = await client.stream(client.requestBody(request)).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof CloudError);
      assert.equal(err.kind, 'auth');
      assert.match(err.message, /rejected the API key/);
      assert.match(err.message, /Hearth: Set API Key…/);
      assert.equal(server.requests.length, 1, 'no automatic retry: each send is consented once');
    });

    it('429: says when to retry', async () => {
      server.behaviour = { kind: 'status', status: 429, headers: { 'retry-after': '17' } };
      const client = createProviderClient(endpoint, { apiKey: 'k' });
      const err = await client.stream(client.requestBody(request)).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof CloudError);
      assert.equal(err.kind, 'rate-limit');
      assert.equal(err.retryAfterS, 17);
      assert.match(err.message, /retry after 17 s/i);
      assert.equal(server.requests.length, 1);
    });

    it('5xx: names the server failure', async () => {
      server.behaviour = { kind: 'status', status: 503, message: 'overloaded' };
      const client = createProviderClient(endpoint, { apiKey: 'k' });
      const err = await client.stream(client.requestBody(request)).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof CloudError);
      assert.equal(err.kind, 'server');
      assert.match(err.message, /HTTP 503.*overloaded/);
    });

    it('dropped stream: keeps the partial answer and says how much arrived', async () => {
      server.behaviour = { kind: 'drop', afterChars: 60 };
      const client = createProviderClient(endpoint, { apiKey: 'k' });
      const got: string[] = [];
      const err = await client.stream(client.requestBody(request), { onText: (d) => got.push(d) }).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof CloudError, String(err));
      assert.equal(err.kind, 'dropped');
      assert.equal(err.partialText, server.answer('').slice(0, 60));
      assert.equal(got.join(''), err.partialText);
      assert.match(err.message, /lost after 60 characters/);
      assert.match(err.message, /kept, marked incomplete/);
    });

    it('idle timeout mid-stream: keeps the partial answer', async () => {
      server.behaviour = { kind: 'stall', afterChars: 30 };
      const client = createProviderClient(endpoint, { apiKey: 'k', idleTimeoutMs: 400 });
      const err = await client.stream(client.requestBody(request)).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof CloudError, String(err));
      assert.equal(err.kind, 'timeout');
      assert.equal(err.partialText.length, 30);
      assert.match(err.message, /sent nothing for 400 ms/);
    });

    it('connect timeout: a server that never answers', async () => {
      server.behaviour = { kind: 'hang' };
      const client = createProviderClient(endpoint, { apiKey: 'k', connectTimeoutMs: 300 });
      const t0 = Date.now();
      const err = await client.stream(client.requestBody(request)).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof CloudError, String(err));
      assert.equal(err.kind, 'timeout');
      assert.match(err.message, /did not answer within/);
      assert.ok(Date.now() - t0 < 5000);
    });

    it('cancellation through an AbortSignal', async () => {
      server.behaviour = { kind: 'stall', afterChars: 10 };
      const client = createProviderClient(endpoint, { apiKey: 'k', idleTimeoutMs: 10_000 });
      const ctl = new AbortController();
      setTimeout(() => ctl.abort(), 200);
      const err = await client.stream(client.requestBody(request), { signal: ctl.signal }).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof CloudError, String(err));
      assert.equal(err.kind, 'cancelled');
      assert.equal(err.partialText.length, 10);
    });

    it('connection refused: says the endpoint could not be reached', async () => {
      const dead = createProviderClient({ ...endpoint, baseUrl: 'http://127.0.0.1:9/v1' }, { apiKey: 'k' });
      const err = await dead.stream(dead.requestBody(request)).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof CloudError, String(err));
      assert.equal(err.kind, 'connection');
      assert.match(err.message, /Could not reach 127\.0\.0\.1:9/);
    });
  });
}

describe('cloud cost and retry helpers', () => {
  it('estimates tokens and cost', () => {
    assert.equal(estimateTokens('abcd'.repeat(10)), 10);
    assert.equal(costUsd({ priceInPerMTok: 3, priceOutPerMTok: 15 }, { inputTokens: 1_000_000, outputTokens: 100_000 }), 4.5);
    assert.equal(costUsd({}, { inputTokens: 1, outputTokens: 1 }), undefined);
    assert.equal(formatUsd(4.5), '$4.50');
    assert.equal(formatUsd(0.00123), '$0.0012');
    assert.match(formatUsd(undefined), /unknown/);
  });

  it('reads retry-after in seconds, as a date, and retry-after-ms', () => {
    assert.equal(retryAfterSeconds(new Headers({ 'retry-after': '5' })), 5);
    assert.equal(retryAfterSeconds(new Headers({ 'retry-after-ms': '2500' })), 3);
    assert.equal(retryAfterSeconds(new Headers({ 'retry-after': new Date(Date.UTC(2030, 0, 1, 0, 0, 30)).toUTCString() }), Date.UTC(2030, 0, 1)), 30);
    assert.equal(retryAfterSeconds(new Headers()), undefined);
  });
});
