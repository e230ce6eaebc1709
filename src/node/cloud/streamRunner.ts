/**
 * What both provider clients share: one AbortController joining the caller's signal and our timers (connect,
 * idle between chunks, total), a fetch that refuses to send any body but the approved one, and the mapping of
 * failures to {@link CloudError}. The SDKs' own timeout and retries are not used: each send is consented to
 * once, and a retry after a 429 is the user's call.
 */
import type { ClientOptions, EndpointConfig, StreamOptions, StreamResult, Usage } from './cloudTypes';
import { CloudError, toCloudError } from './cloudError';

export const DEFAULT_CONNECT_TIMEOUT_MS = 60_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
export const DEFAULT_TOTAL_TIMEOUT_MS = 600_000;

/** One parsed piece of the provider's stream. */
export interface StreamStep {
  delta?: string;
  usage?: Partial<Usage>;
  finishReason?: string;
}

export interface StreamDriver<E> {
  /** Starts the SDK call with the approved params; resolves once response headers arrived. */
  start(params: unknown, signal: AbortSignal, fetchImpl: typeof fetch): Promise<AsyncIterable<E>>;
  step(event: E): StreamStep;
}

export function hostOf(baseUrl: string): string {
  try {
    return new URL(baseUrl).host || baseUrl;
  } catch {
    return baseUrl;
  }
}

/**
 * A fetch that sends only `approved` as the body. The SDK serialises the params it was given; if that ever
 * differs from the bytes the user previewed (an SDK adding a field), nothing is sent.
 */
export function guardedFetch(approved: string, inner: typeof fetch, onSend: () => void): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    if (init?.body !== undefined && init.body !== approved) {
      throw new CloudError('mismatch', 'Nothing was sent: the request the provider SDK built differs from the payload you approved. Please report this.');
    }
    onSend();
    return inner(input, init);
  }) as typeof fetch;
}

export async function runStream<E>(endpoint: EndpointConfig, options: ClientOptions, body: string, driver: StreamDriver<E>, stream: StreamOptions = {}): Promise<StreamResult> {
  const connectMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const idleMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const totalMs = options.totalTimeoutMs ?? DEFAULT_TOTAL_TIMEOUT_MS;
  const ctl = new AbortController();
  let timedOut: 'connect' | 'idle' | 'total' | undefined;
  let timeoutMs = 0;
  const fire = (which: 'connect' | 'idle' | 'total', ms: number) => () => {
    if (ctl.signal.aborted) return;
    timedOut = which;
    timeoutMs = ms;
    ctl.abort(new Error(`${which} timeout`));
  };
  const onCallerAbort = () => ctl.abort(stream.signal?.reason);
  if (stream.signal?.aborted) throw new CloudError('cancelled', 'Escalation cancelled.');
  stream.signal?.addEventListener('abort', onCallerAbort, { once: true });
  const total = setTimeout(fire('total', totalMs), totalMs);
  let phase = setTimeout(fire('connect', connectMs), connectMs);
  const started = Date.now();
  let text = '';
  let firstToken: number | null = null;
  let finishReason = '';
  const usage: Partial<Usage> = {};
  let streaming = false;
  try {
    const params = JSON.parse(body) as unknown;
    const events = await driver.start(params, ctl.signal, guardedFetch(body, options.fetch ?? fetch, () => undefined));
    streaming = true;
    clearTimeout(phase);
    phase = setTimeout(fire('idle', idleMs), idleMs);
    for await (const event of events) {
      clearTimeout(phase);
      phase = setTimeout(fire('idle', idleMs), idleMs);
      const s = driver.step(event);
      if (s.delta) {
        if (firstToken === null) firstToken = Date.now() - started;
        text += s.delta;
        stream.onText?.(s.delta);
      }
      if (s.usage?.inputTokens !== undefined) usage.inputTokens = s.usage.inputTokens;
      if (s.usage?.outputTokens !== undefined) usage.outputTokens = s.usage.outputTokens;
      if (s.finishReason) finishReason = s.finishReason;
    }
    if (ctl.signal.aborted) throw ctl.signal.reason;
    if (!finishReason) {
      // The server closed the stream cleanly but never said the answer was complete.
      throw new CloudError('dropped', `Connection to ${hostOf(endpoint.baseUrl)} lost after ${text.length} characters of the answer (the stream ended without its end-of-answer marker).${text ? ` The partial answer (${text.length} characters) is kept, marked incomplete.` : ''}`, text);
    }
    const complete = usage.inputTokens !== undefined && usage.outputTokens !== undefined ? (usage as Usage) : undefined;
    return { text, usage: complete, finishReason, timeToFirstTokenMs: firstToken };
  } catch (err) {
    throw toCloudError(err, {
      endpointId: endpoint.id,
      host: hostOf(endpoint.baseUrl),
      partialText: text,
      timedOut,
      timeoutMs,
      cancelled: !timedOut && stream.signal?.aborted === true,
      streaming,
    });
  } finally {
    clearTimeout(total);
    clearTimeout(phase);
    stream.signal?.removeEventListener('abort', onCallerAbort);
  }
}
