import * as assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_COST_MODEL, aggregate, modelTimeMs, taskCost } from '../../src/common/ledger/ledgerAggregates';
import type { LedgerEntry, LedgerRecord } from '../../src/common/ledger/ledgerRecord';
import { LATENCY_BOUNDS_MS, OtlpMetricsAccumulator, otlpLogRecord, unixNano } from '../../src/common/ledger/otlp';
import { sampleEntries } from '../../src/common/ledger/sampleEntries';
import { readLedgerRecords } from '../../src/node/ledger/ledgerExport';
import { exportOtlp, otlpUrls } from '../../src/node/ledger/otlpExport';
import { attr, startOtlpReceiver, type OtlpMetricsBody } from '../fixtures/otlpReceiver';
import { tempLedger, writeLedger } from './ledgerHelpers';

async function readAll(path: string): Promise<LedgerRecord[]> {
  const out: LedgerRecord[] = [];
  for await (const b of readLedgerRecords(path)) out.push(...b);
  return out;
}

type Metric = OtlpMetricsBody['resourceMetrics'][number]['scopeMetrics'][number]['metrics'][number];

describe('OpenTelemetry export (OTLP/HTTP JSON)', function () {
  this.timeout(20_000);

  it('builds the signal URLs from a base endpoint', () => {
    assert.deepEqual(otlpUrls('http://127.0.0.1:4318'), { logs: 'http://127.0.0.1:4318/v1/logs', metrics: 'http://127.0.0.1:4318/v1/metrics' });
    assert.deepEqual(otlpUrls('https://otel.example.com/ingest/'), { logs: 'https://otel.example.com/ingest/v1/logs', metrics: 'https://otel.example.com/ingest/v1/metrics' });
    assert.equal(otlpUrls('http://c:4318/v1/logs').metrics, 'http://c:4318/v1/metrics');
    assert.throws(() => otlpUrls('localhost 4318'), /not a URL/);
    assert.throws(() => otlpUrls('file:///etc/passwd'), /http/);
  });

  it('encodes times as nanosecond strings', () => {
    assert.equal(unixNano('2025-01-06T09:00:00.123Z'), '1736154000123000000');
  });

  it('never copies code, prompt or answer text into a log record', () => {
    const r = { schemaVersion: 1, kind: 'task', id: 'a', seq: 0, time: '2025-01-06T09:00:00Z', workspace: 'ws-1', lane: 'chat', model: 'm', prevHash: '0'.repeat(64), tokensIn: 1, tokensOut: 2, totalMs: 3, outcome: 'accepted', text: { prompt: 'PROMPT-TEXT', answer: 'ANSWER-TEXT' } } as LedgerRecord;
    const json = JSON.stringify(otlpLogRecord(r, '0', DEFAULT_COST_MODEL));
    assert.doesNotMatch(json, /PROMPT-TEXT|ANSWER-TEXT/);
  });

  it('puts latencies in the right histogram buckets (upper bounds inclusive)', () => {
    const acc = new OtlpMetricsAccumulator(DEFAULT_COST_MODEL);
    const base = { schemaVersion: 1, kind: 'task', seq: 0, time: '2025-01-06T09:00:00Z', workspace: 'ws-1', lane: 'completion', model: 'm', prevHash: '0'.repeat(64), tokensIn: 1, tokensOut: 1, outcome: 'accepted' } as const;
    for (const [i, ms] of [10, 11, 60_001, 0].entries()) acc.add({ ...base, id: `r${i}`, totalMs: ms } as LedgerRecord);
    const h = acc.payload({ serviceVersion: 't', workspace: 'ws-1' }).resourceMetrics[0]!.scopeMetrics[0]!.metrics.find((m) => m.name === 'hearth.ledger.task.duration')!.histogram!.dataPoints[0]!;
    assert.deepEqual(h.bucketCounts.map(Number), [2, 1, ...new Array(LATENCY_BOUNDS_MS.length - 2).fill(0), 1]);
    assert.equal(h.count, '4');
    assert.equal(h.min, 0);
    assert.equal(h.max, 60_001);
  });

  it('sends logs and metrics that decode as OTLP JSON and match the ledger', async () => {
    const t = tempLedger();
    const receiver = await startOtlpReceiver();
    try {
      const entries: LedgerEntry[] = [...sampleEntries(437, { seed: 7 })];
      // Text the policy let into the ledger must still never leave through telemetry.
      entries.push({ kind: 'task', workspace: 'ws-0123456789abcdef', lane: 'chat', model: 'qwen2.5-coder-1.5b', tokensIn: 10, tokensOut: 5, totalMs: 900, outcome: 'accepted', text: { prompt: 'TOP-SECRET-PROMPT', answer: 'TOP-SECRET-ANSWER' } });
      entries.push({ kind: 'incident', workspace: 'ws-0123456789abcdef', lane: 'completion', model: 'qwen2.5-coder-1.5b', incident: 'policy-breach', refersTo: 'sample-7-3' });
      await writeLedger(t.path, entries, { includeText: true });
      const records = await readAll(t.path);
      const progress: number[] = [];
      const summary = await exportOtlp(t.path, { endpoint: receiver.url, serviceVersion: '0.1.0-test', batchSize: 100, onProgress: (n) => progress.push(n) });

      assert.deepEqual(receiver.problems, []);
      assert.equal(summary.records, records.length);
      assert.deepEqual(progress, [100, 200, 300, 400, records.length]);
      assert.equal(receiver.logs.length, 5);
      assert.equal(receiver.metrics.length, 1);
      assert.equal(summary.requests, 6);
      const wire = JSON.stringify([receiver.logs, receiver.metrics]);
      assert.doesNotMatch(wire, /TOP-SECRET/);

      // Logs: one per record, in order, with the ledger's values.
      const logs = receiver.logs.flatMap((b) => b.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((s) => s.logRecords)));
      assert.equal(logs.length, records.length);
      const res = receiver.logs[0]!.resourceLogs[0]!.resource.attributes;
      assert.equal(attr(res, 'service.name'), 'hearth');
      assert.equal(attr(res, 'hearth.workspace'), 'ws-0123456789abcdef');
      for (const [i, r] of records.entries()) {
        const l = logs[i]!;
        assert.equal(attr(l.attributes, 'hearth.record.id'), r.id);
        assert.equal(attr(l.attributes, 'hearth.record.seq'), r.seq);
        assert.equal(l.timeUnixNano, unixNano(r.time));
        if (r.kind === 'task') {
          assert.equal(attr(l.attributes, 'hearth.outcome'), r.outcome);
          assert.equal(attr(l.attributes, 'gen_ai.usage.input_tokens'), r.tokensIn);
          assert.equal(attr(l.attributes, 'hearth.duration_ms'), r.totalMs);
          assert.equal(attr(l.attributes, 'hearth.cost'), taskCost(r, DEFAULT_COST_MODEL));
        } else assert.equal(attr(l.attributes, 'hearth.refers_to'), r.refersTo);
      }

      // Metrics: sums per lane and model add up to the aggregates of the same ledger.
      const metrics = receiver.metrics[0]!.resourceMetrics[0]!.scopeMetrics[0]!.metrics;
      const m = (name: string): Metric => {
        const found = metrics.find((x) => x.name === name);
        assert.ok(found, `metric ${name}`);
        return found;
      };
      const total = (name: string, filter: (a: Metric['sum'] extends infer S ? S extends { dataPoints: (infer P)[] } ? P : never : never) => boolean = () => true) =>
        (m(name).sum ?? m(name).gauge)!.dataPoints.filter(filter).reduce((a, p) => a + (p.asInt !== undefined ? Number(p.asInt) : p.asDouble!), 0);
      const aggs = aggregate(records, DEFAULT_COST_MODEL);
      const laneRows = aggs.groups.filter((g) => g.lane !== '*' && g.model === '*' && g.week === '*');
      const sumLanes = (pick: (g: (typeof laneRows)[number]) => number) => laneRows.reduce((a, g) => a + pick(g), 0);
      assert.equal(total('hearth.ledger.tasks'), sumLanes((g) => g.tasks));
      assert.equal(total('hearth.ledger.tasks', (p) => ['accepted', 'partial'].includes(attr(p.attributes, 'hearth.outcome') as string)), sumLanes((g) => g.successes));
      assert.equal(total('hearth.ledger.incidents'), sumLanes((g) => g.incidents));
      assert.equal(total('hearth.ledger.tokens', (p) => attr(p.attributes, 'gen_ai.token.type') === 'input'), sumLanes((g) => g.tokensIn));
      assert.equal(total('hearth.ledger.tokens', (p) => attr(p.attributes, 'gen_ai.token.type') === 'output'), sumLanes((g) => g.tokensOut));
      assert.ok(Math.abs(total('hearth.ledger.cost') - sumLanes((g) => g.totalCost)) < 1e-9);
      assert.ok(Math.abs(total('hearth.ledger.cost_avoided') - sumLanes((g) => g.costAvoided ?? 0)) < 1e-9);
      assert.equal(total('hearth.ledger.lines_accepted'), sumLanes((g) => g.linesAccepted));
      assert.equal(total('hearth.ledger.records'), records.length);
      assert.equal(m('hearth.ledger.tasks').sum!.aggregationTemporality, 2);
      assert.equal(m('hearth.ledger.tasks').sum!.isMonotonic, true);
      const duration = m('hearth.ledger.task.duration').histogram!.dataPoints;
      const tasks = records.filter((r) => r.kind === 'task');
      assert.equal(duration.reduce((a, p) => a + Number(p.count), 0), tasks.filter((r) => modelTimeMs(r) !== null).length);
      assert.ok(Math.abs(duration.reduce((a, p) => a + p.sum!, 0) - tasks.reduce((a, r) => a + (modelTimeMs(r) ?? 0), 0)) < 1e-6);
      for (const p of m('hearth.ledger.tasks').sum!.dataPoints) assert.equal(p.startTimeUnixNano, unixNano(records[0]!.time));
    } finally {
      await receiver.close();
      t.cleanup();
    }
  });

  it('sends as logs only the records after a watermark, and the whole ledger as metrics', async () => {
    const t = tempLedger();
    const receiver = await startOtlpReceiver();
    try {
      await writeLedger(t.path, sampleEntries(50, { seed: 9 }));
      const first = await exportOtlp(t.path, { endpoint: receiver.url, serviceVersion: 't' });
      assert.equal(first.lastSeq, 49);
      await writeLedger(t.path, sampleEntries(5, { seed: 10, start: new Date('2025-03-03T09:00:00Z') }));
      const second = await exportOtlp(t.path, { endpoint: receiver.url, serviceVersion: 't', afterSeq: first.lastSeq });
      assert.equal(second.records, 5);
      assert.equal(second.lastSeq, 54);
      const seqs = receiver.logs[1]!.resourceLogs[0]!.scopeLogs[0]!.logRecords.map((l) => attr(l.attributes, 'hearth.record.seq'));
      assert.deepEqual(seqs, [50, 51, 52, 53, 54]);
      const records = receiver.metrics[1]!.resourceMetrics[0]!.scopeMetrics[0]!.metrics.find((m) => m.name === 'hearth.ledger.records')!;
      assert.equal(records.gauge!.dataPoints[0]!.asInt, '55');
      const none = await exportOtlp(t.path, { endpoint: receiver.url, serviceVersion: 't', afterSeq: 54 });
      assert.equal(none.records, 0);
      assert.deepEqual(receiver.problems, []);
    } finally {
      await receiver.close();
      t.cleanup();
    }
  });

  it('says what went wrong when the collector refuses or cannot be reached', async () => {
    const t = tempLedger();
    const server = createServer((_req, res) => res.writeHead(503, { 'content-type': 'text/plain' }).end('collector overloaded'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      await writeLedger(t.path, sampleEntries(3));
      await assert.rejects(exportOtlp(t.path, { endpoint: `http://127.0.0.1:${port}`, serviceVersion: 't' }), /answered 503.*collector overloaded/);
      await new Promise<void>((r) => server.close(() => r()));
      await assert.rejects(exportOtlp(t.path, { endpoint: `http://127.0.0.1:${port}`, serviceVersion: 't' }), /could not reach the OpenTelemetry collector at http:\/\/127\.0\.0\.1:\d+\/v1\/logs.*otlpEndpoint/);
    } finally {
      server.close();
      t.cleanup();
    }
  });

  it('reports what the collector rejected (partialSuccess)', async () => {
    const t = tempLedger();
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(req.url === '/v1/logs' ? '{"partialSuccess":{"rejectedLogRecords":"2","errorMessage":"too old"}}' : '{}'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      await writeLedger(t.path, sampleEntries(5));
      const s = await exportOtlp(t.path, { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, serviceVersion: 't' });
      assert.equal(s.rejectedLogRecords, 2);
      assert.equal(s.records, 5);
    } finally {
      server.close();
      t.cleanup();
    }
  });
});
