/**
 * Sends the ledger to an OpenTelemetry collector over OTLP/HTTP with JSON bodies: the records as logs, in
 * batches as they stream from disk, then one metrics request (cumulative series over the whole ledger, so
 * sending again is harmless for metrics; log records carry `hearth.record.id` for de-duplication).
 */
import { DEFAULT_COST_MODEL, type CostModel } from '../../common/ledger/ledgerAggregates';
import type { LedgerRecord } from '../../common/ledger/ledgerRecord';
import { OtlpMetricsAccumulator, otlpLogsPayload, type OtlpSource } from '../../common/ledger/otlp';
import type { SkippedLine } from '../../common/ledger/hashChain';
import { errorMessage } from '../../common/logger';
import { chainStatusOf, readLedgerRecords } from './ledgerExport';
import { verifyLedger, type LedgerVerifyReport } from './verifyLedger';

export interface OtlpExportOptions {
  /** Collector base URL, e.g. `http://127.0.0.1:4318`; `/v1/logs` and `/v1/metrics` are appended. */
  endpoint: string;
  serviceVersion: string;
  cost?: CostModel;
  /** Send as logs only records with a greater seq (the periodic export's watermark); metrics always cover the whole ledger. */
  afterSeq?: number;
  /** Log records per request. Default 1000. */
  batchSize?: number;
  /** Per request. Default 30 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Extra request headers (e.g. an API key the collector wants). */
  headers?: Record<string, string>;
  /** Called after each logs request with the records sent so far. */
  onProgress?: (records: number) => void;
  fetch?: typeof fetch;
  now?: () => Date;
}

export interface OtlpExportSummary {
  /** Records sent as log records. */
  records: number;
  /** Highest seq in the ledger (-1 when empty): the next periodic export's `afterSeq`. */
  lastSeq: number;
  requests: number;
  skipped: SkippedLine[];
  /** The chain check sent along (resource attributes `hearth.ledger.*`). */
  chain?: LedgerVerifyReport;
  /** What the collector said it dropped (`partialSuccess`); 0 when it took everything. */
  rejectedLogRecords: number;
  rejectedDataPoints: number;
  logsUrl: string;
  metricsUrl: string;
}

/** The two signal URLs for a collector base URL (a URL already ending in a signal path is trimmed first). */
export function otlpUrls(endpoint: string): { logs: string; metrics: string } {
  let url: URL;
  try {
    url = new URL(endpoint.trim());
  } catch {
    throw new Error(`hearth.telemetry.otlpEndpoint "${endpoint}" is not a URL (expected e.g. http://127.0.0.1:4318)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`hearth.telemetry.otlpEndpoint "${endpoint}" must be an http:// or https:// URL`);
  const base = url.href.replace(/\/+$/, '').replace(/\/v1\/(logs|metrics)$/, '');
  return { logs: `${base}/v1/logs`, metrics: `${base}/v1/metrics` };
}

/** Exports the whole ledger at `ledgerPath` to the collector. Throws with a message a user can act on. */
export async function exportOtlp(ledgerPath: string, opts: OtlpExportOptions): Promise<OtlpExportSummary> {
  const urls = otlpUrls(opts.endpoint);
  const cost = opts.cost ?? DEFAULT_COST_MODEL;
  const batchSize = opts.batchSize ?? 1000;
  const now = opts.now ?? (() => new Date());
  const doFetch = opts.fetch ?? fetch;
  const summary: OtlpExportSummary = { records: 0, lastSeq: -1, requests: 0, skipped: [], rejectedLogRecords: 0, rejectedDataPoints: 0, logsUrl: urls.logs, metricsUrl: urls.metrics };
  const metrics = new OtlpMetricsAccumulator(cost);
  let src: OtlpSource | undefined;
  // The head and chain status go with every batch; a ledger that cannot be read as one is still sent (the
  // status says so), since the collector is where a later loss would be noticed.
  const chain = await verifyLedger(ledgerPath).catch(() => undefined);
  summary.chain = chain;
  const chainAttr = chain ? { status: chainStatusOf(chain), headSeq: chain.headSeq, headHash: chain.headHash } : undefined;

  const post = async (url: string, body: unknown): Promise<Record<string, unknown>> => {
    opts.signal?.throwIfAborted();
    const signals = [AbortSignal.timeout(opts.timeoutMs ?? 30_000), ...(opts.signal ? [opts.signal] : [])];
    let res: Response;
    try {
      res = await doFetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...opts.headers },
        body: JSON.stringify(body),
        signal: AbortSignal.any(signals),
      });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      const cause = (err as { cause?: unknown }).cause;
      throw new Error(`could not reach the OpenTelemetry collector at ${url}: ${errorMessage(cause ?? err)} (check hearth.telemetry.otlpEndpoint and that the collector listens for OTLP/HTTP)`);
    }
    summary.requests++;
    const text = await res.text().catch(() => '');
    if (!res.ok) throw new Error(`the OpenTelemetry collector at ${url} answered ${res.status} ${res.statusText}${text ? `: ${text.slice(0, 300)}` : ''}`);
    try {
      return text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      return {}; // some collectors answer an empty or protobuf body; a 2xx is a success
    }
  };
  const rejected = (response: Record<string, unknown>, field: string): number => {
    const p = response.partialSuccess as Record<string, unknown> | undefined;
    const n = p ? Number(p[field] ?? 0) : 0;
    return Number.isFinite(n) ? n : 0;
  };

  const sendLogs = async (records: LedgerRecord[]) => {
    const response = await post(urls.logs, otlpLogsPayload(records, src!, cost, now()));
    summary.rejectedLogRecords += rejected(response, 'rejectedLogRecords');
    summary.records += records.length;
    opts.onProgress?.(summary.records);
  };

  let pending: LedgerRecord[] = [];
  for await (const batch of readLedgerRecords(ledgerPath, (s) => summary.skipped.push(s))) {
    for (const r of batch) {
      src ??= { serviceVersion: opts.serviceVersion, workspace: r.workspace, ...(chainAttr ? { chain: chainAttr } : {}) };
      metrics.add(r);
      if (r.seq > summary.lastSeq) summary.lastSeq = r.seq;
      if (opts.afterSeq !== undefined && r.seq <= opts.afterSeq) continue;
      pending.push(r);
      if (pending.length >= batchSize) {
        await sendLogs(pending);
        pending = [];
      }
    }
  }
  if (pending.length) await sendLogs(pending);
  if (!src) return summary; // an empty ledger: nothing to say
  const response = await post(urls.metrics, metrics.payload(src, now()));
  summary.rejectedDataPoints += rejected(response, 'rejectedDataPoints');
  return summary;
}
