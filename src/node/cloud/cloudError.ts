/**
 * Provider failures as messages a user can act on (style rule 10). Every failure keeps the text that had
 * already arrived, so a dropped stream or a timeout loses nothing the user could still read.
 */
export type CloudErrorKind =
  | 'auth' // 401/403: the key was rejected
  | 'rate-limit' // 429
  | 'timeout'
  | 'dropped' // the stream ended early: connection lost, or no end-of-answer marker
  | 'connection' // nothing reached the server, or no answer came back
  | 'server' // 5xx
  | 'request' // other 4xx: the endpoint refused the request (model name, size…)
  | 'cancelled'
  | 'mismatch'; // the SDK was about to send other bytes than the ones the user approved

export class CloudError extends Error {
  constructor(
    readonly kind: CloudErrorKind,
    message: string,
    /** Text received before the failure (already streamed to the user). */
    readonly partialText = '',
    readonly status?: number,
    /** Seconds the provider asked to wait (429). */
    readonly retryAfterS?: number,
  ) {
    super(message);
    this.name = 'CloudError';
  }
}

/** Reads `retry-after` (seconds or an HTTP date) or the `retry-after-ms` header some providers send. */
export function retryAfterSeconds(headers: Headers | undefined, now = Date.now()): number | undefined {
  if (!headers || typeof headers.get !== 'function') return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms && Number.isFinite(Number(ms))) return Math.max(1, Math.ceil(Number(ms) / 1000));
  const v = headers.get('retry-after');
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.max(1, Math.ceil(Number(v)));
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(1, Math.ceil((at - now) / 1000)) : undefined;
}

export interface FailureContext {
  endpointId: string;
  host: string;
  partialText: string;
  /** Set when our own timer aborted the request. */
  timedOut?: 'connect' | 'idle' | 'total';
  timeoutMs?: number;
  cancelled?: boolean;
  /** The first token had arrived: a connection error now means a dropped stream. */
  streaming: boolean;
}

function providerDetail(err: unknown): string {
  const e = err as { error?: { error?: { message?: unknown }; message?: unknown } };
  const m = e?.error?.error?.message ?? e?.error?.message;
  return typeof m === 'string' && m.length > 0 ? ` (${m.slice(0, 200)})` : '';
}

/** Turns whatever an SDK threw into a {@link CloudError} with a message naming the next step. */
export function toCloudError(err: unknown, ctx: FailureContext): CloudError {
  if (err instanceof CloudError) return err;
  // The SDKs wrap what their fetch threw (our body guard) in a connection error.
  if (err instanceof Error && err.cause instanceof CloudError) return err.cause;
  const partial = ctx.partialText;
  const kept = partial.length > 0 ? ` The partial answer (${partial.length} characters) is kept, marked incomplete.` : '';
  if (ctx.cancelled) return new CloudError('cancelled', 'Escalation cancelled.' + kept, partial);
  if (ctx.timedOut) {
    const ms = ctx.timeoutMs ?? 0;
    const s = ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
    const what = ctx.timedOut === 'connect' ? `${ctx.host} did not answer within ${s}` : ctx.timedOut === 'idle' ? `${ctx.host} sent nothing for ${s}` : `the answer from ${ctx.host} took longer than ${s}`;
    return new CloudError('timeout', `Timed out: ${what}. Try again, or ask a shorter question.${kept}`, partial);
  }
  const status = (err as { status?: unknown })?.status;
  if (typeof status === 'number') {
    const detail = providerDetail(err);
    const headers = (err as { headers?: Headers }).headers;
    if (status === 401 || status === 403) {
      return new CloudError('auth', `${ctx.host} rejected the API key for endpoint "${ctx.endpointId}" (HTTP ${status})${detail}. Run "Hearth: Set API Key…" to store a valid key.`, partial, status);
    }
    if (status === 429) {
      const after = retryAfterSeconds(headers);
      return new CloudError('rate-limit', `${ctx.host} is rate limiting requests (HTTP 429)${detail}. Retry ${after ? `after ${after} s` : 'in a minute'}.`, partial, status, after);
    }
    if (status >= 500) return new CloudError('server', `${ctx.host} failed (HTTP ${status})${detail}. The service may be down; try again later.${kept}`, partial, status);
    return new CloudError('request', `${ctx.host} refused the request (HTTP ${status})${detail}. Check the model name and base URL of endpoint "${ctx.endpointId}".`, partial, status);
  }
  const cause = err instanceof Error ? (err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message) : String(err);
  if (ctx.streaming || partial.length > 0) {
    return new CloudError('dropped', `Connection to ${ctx.host} lost after ${partial.length} characters of the answer (${cause}).${kept}`, partial);
  }
  return new CloudError('connection', `Could not reach ${ctx.host} for endpoint "${ctx.endpointId}" (${cause}). Check the base URL and your network.`, partial);
}
