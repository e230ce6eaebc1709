/** The ROI dashboard's data from the aggregates: the same charts as the HTML report, and a summary table. */
import type { DashboardData, DashboardRow } from '../protocol/dashboardProtocol';
import type { VerifyResult } from './hashChain';
import type { GroupStats, LedgerAggregates } from './ledgerAggregates';
import { costAssumptions, ledgerFigures, outcomeRows } from './ledgerFigures';
import { reportChartData } from './ledgerReportHtml';

function row(label: string, g: GroupStats): DashboardRow {
  return {
    label, tasks: g.tasks, successRate: g.successRate, costPerSuccess: g.costPerSuccess, latencyP50Ms: g.latencyP50Ms, latencyP95Ms: g.latencyP95Ms,
    acceptanceRate: g.acceptanceRate, acceptanceRateByChars: g.acceptanceRateByChars, escalationRate: g.escalationRate, incidents: g.incidents,
    incidentRate: g.incidentRate, totalCost: g.totalCost, costAvoided: g.costAvoided, unknownCostTasks: g.unknownCostTasks,
  };
}

/** Builds what the extension posts to the dashboard webview. */
export function dashboardData(aggs: LedgerAggregates, verify: VerifyResult, title: string, now: Date = new Date()): DashboardData {
  const total = aggs.groups.find((g) => g.lane === '*' && g.model === '*' && g.week === '*');
  const torn = verify.skipped.length ? `; ${verify.skipped.length} torn line(s) skipped` : '';
  return {
    title,
    generatedAt: now.toISOString(),
    records: aggs.records,
    currency: aggs.currency,
    frontierModel: aggs.frontierModel,
    total: total ? row('all', total) : null,
    // The same figures `hearth ledger stats` prints, from the same function.
    figures: total ? ledgerFigures(aggs, total) : [],
    outcomes: total ? outcomeRows(total) : [],
    assumptions: costAssumptions(aggs),
    lanes: aggs.groups.filter((g) => g.lane !== '*' && g.model === '*' && g.week === '*').map((g) => row(g.lane, g)),
    chart: reportChartData(aggs),
    integrity: verify.ok
      ? { ok: true, message: `Hash chain verified: ${verify.records} records${torn}.` }
      : { ok: false, message: `Hash chain BROKEN: ${verify.problem?.message ?? 'unknown problem'}` },
  };
}
